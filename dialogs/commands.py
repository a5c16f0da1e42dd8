"""Words that work at any step, in Chinese and English, with or without a leading slash."""

from __future__ import annotations

import re
from enum import StrEnum

from dialogs.forms import normalize


class Command(StrEnum):
    NEW = "new"
    CANCEL = "cancel"
    BACK = "back"
    HELP = "help"
    MY = "my"
    LANG_TOGGLE = "lang"
    LANG_ZH = "lang_zh"
    LANG_EN = "lang_en"
    SUPPLEMENT = "supplement"
    WITHDRAW = "withdraw"


_WORDS: dict[str, Command] = {
    **dict.fromkeys(("我要问政", "新问政", "开始", "重新开始", "new", "start", "/start", "/new"), Command.NEW),
    **dict.fromkeys(("取消", "退出", "不要了", "cancel", "quit", "stop", "/cancel"), Command.CANCEL),
    **dict.fromkeys(("返回", "上一步", "back", "/back"), Command.BACK),
    **dict.fromkeys(("帮助", "help", "/help", "?", "菜单", "menu"), Command.HELP),
    **dict.fromkeys(("我的", "我的问政", "查询进度", "进度", "my", "/my", "my inquiries", "status"), Command.MY),
    **dict.fromkeys(("语言", "language", "lang", "/lang", "切换语言"), Command.LANG_TOGGLE),
    **dict.fromkeys(("中文", "chinese", "简体中文", "/zh"), Command.LANG_ZH),
    **dict.fromkeys(("english", "英文", "英语", "/en"), Command.LANG_EN),
}

# "/start qr_scene" deep links and "/my@SomeBot" in Telegram groups still mean the command.
_SLASH = re.compile(r"^(/[a-z_]+)(?:@\w+)?(?:\s.*)?$", re.DOTALL)

TICKET_NUMBER = re.compile(r"\bWZ\d{8}-\d{4,6}\b", re.IGNORECASE)


_WITH_ARGUMENT: dict[str, Command] = {
    **dict.fromkeys(("补充", "追加", "add", "/add"), Command.SUPPLEMENT),
    **dict.fromkeys(("撤回", "撤销", "withdraw", "/withdraw"), Command.WITHDRAW),
}
_HEAD = re.compile(r"^\s*(\S+?)(?:[\s:：]+(.*))?$", re.DOTALL)


def command_with_argument(said: str) -> tuple[Command, str] | None:
    """ "补充 WZ20261122-0007 楼下也坏了" / "撤回 WZ…": a command word followed by its argument."""
    found = _HEAD.match(said)
    if found is None:
        return None
    command = _WITH_ARGUMENT.get(normalize(found.group(1)))
    return None if command is None else (command, (found.group(2) or "").strip())


def match_command(said: str) -> Command | None:
    key = normalize(said)
    found = _WORDS.get(key)
    if found is not None:
        return found
    slash = _SLASH.match(key)
    return _WORDS.get(slash.group(1)) if slash else None


def unknown_slash_command(said: str) -> str | None:
    """A ``/word`` we do not know: answered with help instead of being filed as a description."""
    key = normalize(said)
    slash = _SLASH.match(key)
    return slash.group(1) if slash and slash.group(1) not in _WORDS else None


def ticket_number_only(said: str) -> str | None:
    """The citizen sent just an inquiry number: they want its status."""
    key = normalize(said).upper()
    found = TICKET_NUMBER.fullmatch(key)
    return found.group(0) if found else None
