"""The peer: the same intake conversation written the way a developer would with
python-telegram-bot 22's ``ConversationHandler`` (in-memory conversation state, no persistence).

Handlers do the same domain work as ours: the service's extractor guesses type, topic and place
from the first message, the summary uses the same texts, filing uses the same deadline clock and
routing (``bench.peer_desk``), and before the summary it looks for the same matter reported by another
citizen (已有人反映: follow it, "1", or go on with one's own, "2", as the service offers it on text channels).
Replies go through PTB's ``Bot`` as they must (PTB 20+ cannot answer
inline in a webhook's HTTP response), to an in-process fake Bot API (``FakeBotApi``): no network.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bench.peer_desk import MemoryDesk
from dialogs.extraction import Extractor
from dialogs.formatting import day, moment
from dialogs.places import place_from_address
from dialogs.taxonomy import Taxonomy
from dialogs.texts import text

CONFIRM = 1
DUPLICATE = 2  # 已有人反映 was offered: "1" follows it (this desk keeps no followers), "2" shows the summary
LOCALE = "zh"
BOT_USER: dict[str, Any] = {"id": 1, "is_bot": True, "first_name": "Wenzheng", "username": "wenzheng_bench_bot"}
_NUMBER_ONLY = r"^WZ\d{8}-\d{4,6}$"
_SUPPLEMENT = re.compile(r"^补充\s+(WZ\d{8}-\d{4,6})?\s*(.*)$", re.DOTALL)
TOKEN = "123456:BENCHMARK-NOT-A-REAL-TOKEN"


class FakeBotApi(BaseRequest):
    """Answers the Bot API methods the bot calls, in process; keeps the texts it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.buttons: list[tuple[str, ...]] = []  # per sent text: its inline keyboard's callback data
        self.calls = 0
        self._message_id = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint in ("sendMessage", "editMessageText"):
            self._message_id += 1
            said = str(params.get("text", ""))
            self.sent.append(said)
            self.buttons.append(_callback_data(params.get("reply_markup")))
            result = {
                "message_id": self._message_id,
                "date": 0,
                "text": said,
                "from": BOT_USER,
                "chat": {"id": params.get("chat_id", 0), "type": "private"},
            }
        else:  # answerCallbackQuery and anything else that answers True
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _callback_data(markup: Any) -> tuple[str, ...]:
    """The callback data of a ``reply_markup`` as PTB hands it to the request (JSON or a dict)."""
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return ()
    rows = markup.get("inline_keyboard", [])
    return tuple(str(b["callback_data"]) for row in rows for b in row if "callback_data" in b)


class PtbIntake:
    """The handlers; state lives in PTB's ``ConversationHandler`` and ``context.user_data``."""

    def __init__(self, extractor: Extractor, taxonomy: Taxonomy, desk: MemoryDesk, tz: ZoneInfo) -> None:
        self._extractor = extractor
        self._taxonomy = taxonomy
        self._desk = desk
        self._tz = tz

    def handlers(self) -> list[Any]:
        conversation = ConversationHandler(
            entry_points=[MessageHandler(filters.TEXT & ~filters.COMMAND, self.describe)],
            states={
                CONFIRM: [CallbackQueryHandler(self.confirm, pattern=r"^confirm:")],
                DUPLICATE: [MessageHandler(filters.Regex(r"^\s*[12]\s*$"), self.answer_offer)],
            },
            fallbacks=[MessageHandler(filters.Regex(r"^取消$"), self.cancel)],
        )
        # Words that work at any step come first; the first matching handler in a group wins.
        return [
            MessageHandler(filters.Regex(r"^我的$"), self.my),
            MessageHandler(filters.Regex(r"^帮助$"), self.help),
            MessageHandler(filters.Regex(_NUMBER_ONLY), self.show),
            MessageHandler(filters.Regex(r"^补充\s"), self.supplement),
            conversation,
        ]

    async def describe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and update.message.text is not None
        said = update.message.text
        found = self._extractor.extract(said)
        place = place_from_address(found.address) if found.address else None
        type_code = found.type_code or self._taxonomy.default_type
        topic_code = found.topic_code or "other"
        draft = {"type": type_code, "topic": topic_code, "place": place, "details": said.strip(), "phone": found.phone}
        assert context.user_data is not None
        context.user_data["draft"] = draft
        chat = update.effective_chat
        assert chat is not None
        place_district, place_address = (place.district, place.address) if place else (None, "")
        same = self._desk.similar(str(chat.id), topic_code, place_district, place_address, said.strip())
        if same is not None:  # 已有人反映, before the summary
            offered = self._desk.offered(same)
            said = text(
                "duplicate_offer",
                LOCALE,
                number=offered.number,
                status=text(f"status_{offered.status}", LOCALE),
                details=offered.details,
            )
            buttons = [
                InlineKeyboardButton(text(label, LOCALE), callback_data=data)
                for label, data in (("btn_follow", "dup:follow"), ("btn_file_anyway", "dup:separate"))
            ]
            await update.message.reply_text(said, reply_markup=InlineKeyboardMarkup([buttons]))
            return DUPLICATE
        await self._summary(update, context, draft)
        return CONFIRM

    async def _summary(self, update: Update, context: ContextTypes.DEFAULT_TYPE, draft: dict[str, Any]) -> None:
        assert update.effective_chat is not None
        kind, topic = self._taxonomy.type_by_code(draft["type"]), self._taxonomy.topic_by_code(draft["topic"])
        place = draft["place"]
        guess = text("guessed", LOCALE)
        lines = [
            text("summary_title", LOCALE),
            text("summary_type", LOCALE, value=(kind.name.get(LOCALE) if kind else "-") + guess),
            text("summary_topic", LOCALE, value=(topic.name.get(LOCALE) if topic else "-") + guess),
            text("summary_location", LOCALE, value=(place.describe() if place else text("not_given", LOCALE)) + guess),
            text("summary_details", LOCALE, value=draft["details"]),
            text("summary_phone_none", LOCALE),
            "",
            text("summary_hint", LOCALE),
        ]
        buttons = [
            [
                InlineKeyboardButton(text(f"btn_{b}", LOCALE), callback_data=f"confirm:{b}")
                for b in ("submit", "edit", "cancel")
            ]
        ]
        await context.bot.send_message(
            update.effective_chat.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons)
        )

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and context.user_data is not None and update.effective_chat is not None
        await query.answer()
        if query.data != "confirm:submit":
            await context.bot.send_message(update.effective_chat.id, text("cancelled", LOCALE))
            return ConversationHandler.END
        await self._file(update, context, str(query.id))
        return ConversationHandler.END

    async def answer_offer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """ "2" goes on to the summary; "1" would follow, which this desk cannot keep, so it goes on
        too (as the service does when a follow cannot be made)."""
        assert context.user_data is not None
        await self._summary(update, context, context.user_data["draft"])
        return CONFIRM

    async def _file(self, update: Update, context: ContextTypes.DEFAULT_TYPE, intake_key: str) -> None:
        assert context.user_data is not None and update.effective_chat is not None
        draft = context.user_data.pop("draft")
        place = draft["place"]
        now = datetime.now(UTC)
        ticket, new = self._desk.file(
            str(update.effective_chat.id),
            intake_key,
            draft["type"],
            draft["topic"],
            place.district if place else None,
            now,
            draft["details"],
            place.address if place else "",
        )
        said = text(
            "filed" if new else "filed_already",
            LOCALE,
            number=ticket.number,
            department=self._department(ticket.department),
            respond_due=moment(ticket.respond_due, LOCALE, self._tz),
            answer_due=day(ticket.answer_due, LOCALE, self._tz),
            days=self._desk.working_days(ticket.type_code, ticket.topic_code),
        )
        await context.bot.send_message(update.effective_chat.id, said)

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        await update.message.reply_text(text("cancelled", LOCALE))
        return ConversationHandler.END

    def _department(self, code: str) -> str:
        name = self._desk.directory.name(code)
        return name.get(LOCALE) if name else text("department_pending", LOCALE)

    async def my(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_chat is not None
        tickets, total = self._desk.mine(str(update.effective_chat.id), 5)
        if not tickets:
            await update.message.reply_text(text("my_none", LOCALE))
            return
        lines = [text("my_title", LOCALE, total=total)]
        lines += [
            text(
                "my_line",
                LOCALE,
                number=t.number,
                status=text(f"status_{t.status}", LOCALE),
                department=self._department(t.department),
                due=day(t.answer_due, LOCALE, self._tz),
            )
            for t in tickets
        ]
        await update.message.reply_text("\n".join(lines))

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None and update.effective_chat is not None
        ticket = self._desk.find(str(update.effective_chat.id), update.message.text.strip())
        if ticket is None:
            await update.message.reply_text(text("ticket_not_found", LOCALE, number=update.message.text.strip()))
            return
        kind, topic = self._taxonomy.type_by_code(ticket.type_code), self._taxonomy.topic_by_code(ticket.topic_code)
        await update.message.reply_text(
            text(
                "ticket_line_detail",
                LOCALE,
                number=ticket.number,
                status=text(f"status_{ticket.status}", LOCALE),
                department=self._department(ticket.department),
                type=kind.name.get(LOCALE) if kind else ticket.type_code,
                topic=topic.name.get(LOCALE) if topic else ticket.topic_code,
                due=day(ticket.answer_due, LOCALE, self._tz),
            )
        )

    async def supplement(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None and update.effective_chat is not None
        found = _SUPPLEMENT.match(update.message.text.strip())
        if found is None or not found.group(2).strip():
            await update.message.reply_text(text("supplement_usage", LOCALE))
            return
        number = self._desk.supplement(str(update.effective_chat.id), found.group(1), found.group(2).strip())
        key = "supplement_none" if number is None else "supplement_sent"
        await update.message.reply_text(text(key, LOCALE, number=number or ""))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(text("help", LOCALE))


def build_application(intake: PtbIntake, api: FakeBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    app = ApplicationBuilder().token(TOKEN).request(api).get_updates_request(FakeBotApi()).updater(None).build()
    app.add_handlers(intake.handlers())
    return app


def message_update(update_id: int, chat_id: int, said: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "市民"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "text": said,
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
        },
    }


def callback_update(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "市民"}
    shown = {
        "message_id": update_id - 1,
        "date": 1_790_000_000,
        "text": "请确认您的问政内容：",
        "chat": {"id": chat_id, "type": "private"},
        "from": BOT_USER,
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": user,
            "data": data,
            "chat_instance": str(chat_id),
            "message": shown,
        },
    }
