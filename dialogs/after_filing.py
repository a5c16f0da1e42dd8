"""After filing: rating an answer, adding information, withdrawing. Each takes the engine (for the
question to ask again afterwards) and returns the new state and the replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.base import Choice, Outbound
from dialogs.commands import Command, ticket_number_at_start
from dialogs.intake import SKIP
from dialogs.ports import IntakePort, RatingResult, UrgeResult
from dialogs.replies import WITHDRAW_OPTIONS
from dialogs.state import SessionState
from dialogs.texts import text

if TYPE_CHECKING:
    from dialogs.engine import DialogEngine

Reply = tuple[SessionState, list[Outbound]]

_RATED: dict[RatingResult, str] = {
    RatingResult.RECORDED: "rating_thanks",
    RatingResult.REOPENED: "rated_reopened",
    RatingResult.ESCALATED: "rated_escalated",
    RatingResult.NOT_PENDING: "rating_not_pending",
}


async def rating_button(
    engine: DialogEngine, state: SessionState, choice_id: str, port: IntakePort, now: datetime
) -> Reply:
    _, number, score_text = [*choice_id.split(":"), "", ""][:3]
    if score_text not in ("1", "2", "3"):
        return state, [Outbound(text("choose_from_list", state.locale))]
    if not await port.rating_pending(number):  # someone else's (not followed), or already rated
        return state, [Outbound(text("rating_not_pending", state.locale, number=number))]
    if score_text == "3":  # ask why first; the reason goes to the staff who rework it
        asking = replace(state, rating_ticket=number)
        prompt = Outbound(text("rating_ask_reason", state.locale), choices=(SKIP.choice(state.locale),))
        return asking, [prompt]
    return await rate(engine, state, number, int(score_text), "", port, now)


async def rate(
    engine: DialogEngine, state: SessionState, number: str, score: int, comment: str, port: IntakePort, now: datetime
) -> Reply:
    result = await port.rate(number, score, comment)
    return state, [Outbound(text(_RATED[result], state.locale, number=number)), *engine.reprompt(state, now)]


async def ticket_command(
    engine: DialogEngine, state: SessionState, command: Command, argument: str, port: IntakePort, now: datetime
) -> Reply:
    loc = state.locale
    leading = ticket_number_at_start(argument)
    number, rest = leading if leading is not None else (None, argument)
    if command is Command.WITHDRAW:
        if number is None:
            return state, [Outbound(text("withdraw_usage", loc))]
        return await withdraw_asked(state, number, port)
    if command is Command.URGE:
        return await urged(engine, state, number, port, now)
    if command in (Command.PUBLISH, Command.UNPUBLISH):
        return await publication(engine, state, number, command is Command.PUBLISH, port, now)
    if number is not None and await port.find_my_ticket(number) is None:
        # Someone else's number reads exactly like an unknown one, as in a lookup: numbers are guessable.
        return state, [Outbound(text("ticket_not_found", loc, number=number))]
    if not rest:
        return state, [Outbound(text("supplement_usage", loc))]
    sent_to = await port.supplement(number, rest)
    if sent_to is None:
        return state, [Outbound(text("supplement_none", loc))]
    return state, [Outbound(text("supplement_sent", loc, number=sent_to)), *engine.reprompt(state, now)]


_URGED: dict[UrgeResult, str] = {
    UrgeResult.CLIMBED: "urge_climbed",
    UrgeResult.REMINDED: "urge_reminded",
    UrgeResult.TOO_SOON: "urge_too_soon",
    UrgeResult.NOT_OPEN: "urge_not_open",
    UrgeResult.NOT_FOUND: "ticket_not_found",
}


async def urged(
    engine: DialogEngine, state: SessionState, number: str | None, port: IntakePort, now: datetime
) -> Reply:
    """催办 编号: chase one's own ticket; someone else's number reads like an unknown one."""
    if number is None:
        return state, [Outbound(text("urge_usage", state.locale))]
    result = await port.urge(number)
    return state, [Outbound(text(_URGED[result], state.locale, number=number)), *engine.reprompt(state, now)]


async def publication(
    engine: DialogEngine, state: SessionState, number: str | None, consent: bool, port: IntakePort, now: datetime
) -> Reply:
    """公开 / 不公开 编号: consent given or withdrawn at any time, for the citizen's own tickets only.
    Not asked to confirm: either way it can be changed back with one message."""
    loc = state.locale
    if number is None:
        return state, [Outbound(text("publish_usage", loc))]
    if not await port.set_publication(number, consent):
        return state, [Outbound(text("ticket_not_found", loc, number=number))]
    done = Outbound(text("published_yes" if consent else "published_no", loc, number=number), ticket_number=number)
    return state, [done, *engine.reprompt(state, now)]


async def withdraw_asked(state: SessionState, number: str, port: IntakePort) -> Reply:
    loc = state.locale
    mine = await port.find_my_ticket(number)
    if mine is None:  # someone else's number reads exactly like an unknown one: numbers are guessable
        return state, [Outbound(text("ticket_not_found", loc, number=number))]
    if not mine.withdrawable:
        return state, [Outbound(text("withdraw_refused", loc, number=number))]
    buttons = tuple(Choice(f"{option.id}:{number}", option.name.get(loc)) for option in WITHDRAW_OPTIONS)
    question = Outbound(text("withdraw_confirm", loc, number=number), choices=buttons, ticket_number=number)
    return replace(state, withdraw_ticket=number), [question]


async def withdraw_decided(
    engine: DialogEngine, state: SessionState, number: str, confirmed: bool, port: IntakePort, now: datetime
) -> Reply:
    loc = state.locale
    state = replace(state, withdraw_ticket=None)
    if not confirmed:
        return state, [Outbound(text("withdraw_kept", loc, number=number)), *engine.reprompt(state, now)]
    if await port.find_my_ticket(number) is None:  # a stale or forged button: same as unknown
        return state, [Outbound(text("ticket_not_found", loc, number=number))]
    done = await port.withdraw(number)
    reply = Outbound(text("withdrawn" if done else "withdraw_refused", loc, number=number))
    return state, [reply, *engine.reprompt(state, now)]
