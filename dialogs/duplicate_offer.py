"""At 提交: when another citizen already reported the same matter, offer to follow it (关注它) or
to file anyway (仍要单独提交). Never merged for them: the choice is the citizen's."""

from __future__ import annotations

from adapters.base import Choice, Outbound
from dialogs.ports import IntakePort, TicketDraft
from dialogs.texts import text

PREFIX = "dup:"
_FOLLOW = "dup:follow:"
_SEPARATE = "dup:separate"


async def offer(port: IntakePort, draft: TicketDraft, locale: str) -> Outbound | None:
    found = await port.similar(draft)
    if not found:
        return None
    best = found[0]
    return Outbound(
        text(
            "duplicate_offer",
            locale,
            number=best.number,
            status=text(f"status_{best.status}", locale),
            details=best.details,
        ),
        choices=(
            Choice(f"{_FOLLOW}{best.number}", text("btn_follow", locale)),
            Choice(_SEPARATE, text("btn_file_anyway", locale)),
        ),
        ticket_number=best.number,
    )


def to_follow(choice_id: str) -> str | None:
    """The number to follow, or None for 仍要单独提交 (or anything else: file it)."""
    return choice_id.removeprefix(_FOLLOW) if choice_id.startswith(_FOLLOW) else None
