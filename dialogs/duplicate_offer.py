"""Before the summary: when another citizen already reported the same matter, offer to follow it
(关注它) or to go on with their own (仍要单独提交: the summary, then 提交). Never merged for them:
the choice is the citizen's."""

from __future__ import annotations

from adapters.base import Outbound
from dialogs.forms import Option, options_to_choices
from dialogs.ports import IntakePort, TicketDraft
from dialogs.taxonomy import Bilingual
from dialogs.texts import both, text

PREFIX = "dup:"
FOLLOW = Option("dup:follow", Bilingual(*both("btn_follow")), ("关注", "follow"))
SEPARATE = Option("dup:separate", Bilingual(*both("btn_file_anyway")), ("单独提交", "file anyway"))
# In this order on every channel: on text-only ones (WeChat and Weibo passive replies) the citizen
# types 1 or 2, and the engine reads those numbers against these two options while the offer is open.
OPTIONS = (FOLLOW, SEPARATE)


async def offer(port: IntakePort, draft: TicketDraft, locale: str) -> tuple[Outbound, str] | None:
    """The offer and the number it is about, or None when nobody reported the same matter."""
    found = await port.similar(draft)
    if not found:
        return None
    best = found[0]
    message = Outbound(
        text(
            "duplicate_offer",
            locale,
            number=best.number,
            status=text(f"status_{best.status}", locale),
            details=best.details,
        ),
        choices=options_to_choices(OPTIONS, locale),
        ticket_number=best.number,
    )
    return message, best.number
