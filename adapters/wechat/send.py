"""WeChat outbound (the outbox worker calls ``send``): customer-service messages while WeChat
allows them (48 hours after the citizen's last message, at most five), with tappable ``msgmenu``
choices, and a template message for status updates and rating prompts once the window has closed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta, timezone

from adapters.base import (
    ConversationRef,
    DeliveryContext,
    Outbound,
    OutsideWindow,
    Purpose,
    RecipientUnreachable,
    SendError,
)
from adapters.wechat.api import CUSTOM_SEND, TEMPLATE_SEND, ApiError, ApiUnavailable, TokenStore, WechatApi
from adapters.wechat.xml import fit_bytes

log = logging.getLogger(__name__)

CHANNEL = "wechat"
WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5
MENU_TTL_SECONDS = 8 * 24 * 3600  # outlives the 7-day rating window; afterwards a tap reads as its label
BEIJING = timezone(timedelta(hours=8), "CST")  # WeChat's users read times in China's one time zone (no DST)

# 43004 not subscribed, 43019 blacklisted us, 43101 refused messages: sending again cannot help.
UNREACHABLE_CODES = frozenset({43004, 43019, 43101})
# 45015 the 48-hour window has closed, 45047 its message quota is used up.
WINDOW_CODES = frozenset({45015, 45047})
# msgmenu is for verified service accounts only (others get 40200); 40008: message type refused.
MENU_REFUSED_CODES = frozenset({40008, 40200})

_HAN = re.compile(r"[\u4e00-\u9fff]")
_TICKET = re.compile(r"WZ\d{8}-\d{4,6}")


def menu_key(openid: str, menu_id: str) -> str:
    """Where the choice behind a menu item is kept in the session store."""
    return f"wechat:menu:{openid}:{menu_id}"


class WechatSender:
    """The channel's ``send``. Keeps no state of its own: windows come from the ``DeliveryContext``,
    menu ids live in the shared session store."""

    def __init__(self, api: WechatApi, store: TokenStore, status_template_id: str) -> None:
        self._api = api
        self._store = store
        self._status_template_id = status_template_id

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        """A customer-service message while the window is open, else a template message for
        status updates and rating prompts; the template's msgid, or None.

        ``ref.account`` is not used: an openid is unique within our one official account, and
        staff are queued under the account ``staff``."""
        openid = ref.chat_id
        try:
            if _window_open(context):
                try:
                    await self._send_custom(openid, message, delivery_id)
                    return None
                except ApiError as exc:
                    if exc.code not in WINDOW_CODES:
                        raise
                    log.info("wechat window closed (%d): trying a template", exc.code, extra={"channel": CHANNEL})
            if message.purpose in (Purpose.STATUS, Purpose.RATING) and self._status_template_id:
                return await self._send_template(openid, message, delivery_id, context.now)
        except ApiError as exc:
            if exc.code in UNREACHABLE_CODES:
                raise RecipientUnreachable(str(exc)) from exc
            raise SendError(str(exc), retryable=True) from exc
        except ApiUnavailable as exc:
            raise SendError(str(exc), retryable=True) from exc
        raise OutsideWindow("WeChat allows no customer-service message now; held until the citizen writes")

    async def _send_custom(self, openid: str, message: Outbound, delivery_id: str) -> None:
        if message.choices and _menu_fits(message) and await self._remember_menu(openid, message, delivery_id):
            items = [
                {"id": menu_id, "content": choice.label}
                for menu_id, choice in zip(_menu_ids(delivery_id, len(message.choices)), message.choices, strict=True)
            ]
            menu = {"head_content": message.text, "list": items, "tail_content": ""}
            try:
                await self._api.post(CUSTOM_SEND, {"touser": openid, "msgtype": "msgmenu", "msgmenu": menu})
                return
            except ApiError as exc:
                if exc.code not in MENU_REFUSED_CODES:
                    raise
                log.info("wechat refused msgmenu (%d): numbered text instead", exc.code, extra={"channel": CHANNEL})
        text = {"content": message.as_numbered_text()}
        await self._api.post(CUSTOM_SEND, {"touser": openid, "msgtype": "text", "text": text})

    async def _remember_menu(self, openid: str, message: Outbound, delivery_id: str) -> bool:
        """Store which choice each menu id stands for, so a tap maps back to the choice."""
        try:
            for menu_id, choice in zip(_menu_ids(delivery_id, len(message.choices)), message.choices, strict=True):
                await self._store.put(menu_key(openid, menu_id), choice.id, MENU_TTL_SECONDS)
        except Exception as exc:  # numbered text needs nothing stored
            log.warning("wechat menu not stored (%s): numbered text", type(exc).__name__, extra={"channel": CHANNEL})
            return False
        return True

    async def _send_template(self, openid: str, message: Outbound, delivery_id: str, now: datetime) -> str | None:
        payload = {
            "touser": openid,
            "template_id": self._status_template_id,
            # WeChat sends one message per openid + client_msg_id (for 10 minutes): a retry after
            # a lost answer does not notify the citizen twice.
            "client_msg_id": f"wz-{delivery_id}"[:32],
            "data": template_data(message, now),
        }
        answer = await self._api.post(TEMPLATE_SEND, payload)
        msgid = answer.get("msgid")
        return None if msgid is None else str(msgid)


def _window_open(context: DeliveryContext) -> bool:
    """What we know of WeChat's customer-service window. Without a known last message (a staff
    member's ref is queued under another account) WeChat itself decides: 45015 falls back."""
    if context.sent_since_inbound >= WINDOW_MESSAGES:
        return False
    if context.last_inbound_at is None:
        return True
    return context.now - context.last_inbound_at < WINDOW


def _menu_fits(message: Outbound) -> bool:
    """WeChat's msgmenu limits: at most 10 items of up to 128 bytes, a head of up to 1024 bytes."""
    if not message.text or len(message.text.encode()) > 1024 or len(message.choices) > 10:
        return False
    return all(0 < len(c.label.encode()) <= 128 for c in message.choices)


def _menu_ids(delivery_id: str, count: int) -> list[str]:
    """Menu item ids unique to this delivery (the outbox row id), so a tap on an old menu can
    never be read as a choice in a newer one. Digits only: that is what WeChat documents."""
    base = delivery_id if delivery_id.isdigit() else str(int(hashlib.sha256(delivery_id.encode()).hexdigest()[:12], 16))
    return [f"{base}{i:02d}" for i in range(1, count + 1)]


def template_data(message: Outbound, now: datetime) -> dict[str, dict[str, str]]:
    """The status template's fields: ticket number, status, time and a short note.

    The template (chosen in the WeChat admin, id in ``status_template_id``) must have the fields
    ``first``, ``keyword1`` (编号), ``keyword2`` (状态), ``keyword3`` (时间) and ``remark``."""
    text = message.as_numbered_text()
    english = _HAN.search(text) is None
    found = _TICKET.search(text)
    number = message.ticket_number or (found.group(0) if found else "-")
    if message.purpose is Purpose.RATING:
        headline, status = ("Please rate our answer", "Awaiting your rating") if english else ("请评价答复", "待评价")
    else:
        headline, status = ("Your inquiry has news", "Updated") if english else ("您的问政有新进展", "办理进展更新")
    hint = "Reply to this account to continue." if english else "回复本公众号即可继续办理。"
    return {
        "first": {"value": headline},
        "keyword1": {"value": number},
        "keyword2": {"value": status},
        "keyword3": {"value": now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")},
        "remark": {"value": fit_bytes(text, 600) + "\n" + hint},
    }
