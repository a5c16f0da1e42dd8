"""The intake conversation every scenario replays: one citizen, six messages.

A rich first message the bot turns into a summary (each one sure enough of its type and topic
that nothing is asked; the noise one names its type, which the classifier would otherwise ask),
the tap on 提交, then what citizens do next: list their inquiries, add a photo-less supplement to
the new number, look the number up, ask for help. Turns 4 and 5 quote the number the bot filed; a
server that files nothing (the bare ceiling) gets a placeholder number, so every server receives
the same number of requests of the same size.

Citizens share eight first messages, as many citizens write about one matter after a public
notice, so the service often answers the first message with 已有人反映 (another citizen's ticket on
the same matter) before the summary. The citizen then answers it as a real one would: a share
follows that ticket (关注它: no ticket of their own, no 提交; turns 3 and 4 quote the followed
number), the rest go on with their own (仍要单独提交: the summary, then 提交). That answer is one
more message: a conversation that files anyway has ``TURNS + 1``, one that follows ``TURNS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RICH_FIRST_MESSAGES: tuple[str, ...] = (
    "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险",
    "青岛市崂山区松岭路上的井盖丢了，已经好几天了，车辆经过很危险",
    "投诉：青岛市黄岛区长江路的工地夜里施工打桩，噪音太大，严重影响休息",
    "青岛市李沧区九水东路有家超市卖过期食品，希望市场监管部门查一查",
    "青岛市城阳区正阳路的公交站牌被撞倒了，乘客等车找不到站",
    "青岛市市北区辽宁路小区停水两天了，也没有通知，老人孩子没水用",
    "青岛市即墨区鹤山路一家饭店油烟直排，楼上住户家里全是油烟味",
    "青岛市胶州市福州路的建筑公司拖欠农民工工资三个月了，讨薪无门",
)
SUBMIT = "confirm:submit"
FOLLOW = "dup:follow"  # 关注它: the duplicate offer's choices (dialogs/duplicate_offer.py)
SEPARATE = "dup:separate"  # 仍要单独提交
DEFAULT_FOLLOW_SHARE = 0.3
NUMBER = re.compile(r"WZ\d{8}-\d{4,6}")
PLACEHOLDER_NUMBER = "WZ20260101-0001"
TURNS = 6


@dataclass(frozen=True, slots=True)
class Turn:
    """One message: free text, or a button press (``choice``)."""

    text: str | None = None
    choice: str | None = None


def turn(citizen: int, index: int, number: str | None, matters: int = len(RICH_FIRST_MESSAGES)) -> Turn:
    """The ``index``-th message (0-based) of citizen ``citizen``'s conversation; citizens write
    about the first ``matters`` of ``RICH_FIRST_MESSAGES`` in turn."""
    filed = number or PLACEHOLDER_NUMBER
    if index == 0:
        return Turn(text=RICH_FIRST_MESSAGES[citizen % max(1, min(matters, len(RICH_FIRST_MESSAGES)))])
    if index == 1:
        return Turn(choice=SUBMIT)
    if index == 2:
        return Turn(text="我的")
    if index == 3:
        return Turn(text=f"补充 {filed} 晚上十点以后整条路都是黑的，请尽快处理")
    if index == 4:
        return Turn(text=filed)
    if index == 5:
        return Turn(text="帮助")
    raise IndexError(index)


def follows(citizen: int, share: float) -> bool:
    """Whether citizen ``citizen`` follows an offered ticket rather than filing anyway: spread
    evenly, so any ``n`` consecutive citizens hold ``share * n`` followers, give or take one."""
    return int((citizen + 1) * share) > int(citizen * share)


def offer_answer(citizen: int, share: float) -> Turn:
    """The answer to 已有人反映: the button (typed as its number where there are none)."""
    return Turn(choice=FOLLOW if follows(citizen, share) else SEPARATE)


def find_number(reply_texts: list[str]) -> str | None:
    """The inquiry number in the bot's answer to 提交, if any."""
    for said in reply_texts:
        found = NUMBER.search(said)
        if found:
            return found.group(0)
    return None
