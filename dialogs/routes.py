"""The routes one message may take before the form sees it, as python-telegram-bot's
ConversationHandler reads its handlers: each route looks at the turn and either answers it (the new
state and the replies), declines it (None), or declines it with the turn changed (a ``Turn``) for
the routes after it. The engine tries them in the order of its tables; the first answer wins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.base import Inbound, MessageKind, Outbound
from dialogs import after_filing
from dialogs.commands import Command, command_with_argument, match_command, ticket_number_only, unknown_slash_command
from dialogs.forms import match_option, normalize
from dialogs.intake import SKIP
from dialogs.ports import IntakePort
from dialogs.replies import RATING_OPTIONS, WITHDRAW_OPTIONS, WITHDRAW_YES
from dialogs.state import SessionState
from dialogs.texts import text

if TYPE_CHECKING:
    from dialogs.engine import DialogEngine

Reply = tuple[SessionState, list[Outbound]]


@dataclass(frozen=True, slots=True)
class Turn:
    """One inbound message on its way through the routes."""

    state: SessionState
    inbound: Inbound
    port: IntakePort
    now: datetime


Route = Callable[["DialogEngine", Turn], Awaitable["Reply | Turn | None"]]


def _choice(turn: Turn, prefix: str) -> str | None:
    choice_id = turn.inbound.choice_id or ""
    return choice_id if turn.inbound.kind is MessageKind.CHOICE and choice_id.startswith(prefix) else None


# --- any kind of message ------------------------------------------------------------------------


async def event(engine: DialogEngine, turn: Turn) -> Reply | None:
    if turn.inbound.kind is not MessageKind.EVENT:
        return None
    welcome = [Outbound(text("welcome", turn.state.locale))] if turn.inbound.event == "subscribe" else []
    return turn.state, welcome


async def unsupported(engine: DialogEngine, turn: Turn) -> Reply | None:
    if turn.inbound.kind is not MessageKind.UNSUPPORTED:
        return None
    return turn.state, [Outbound(text("unsupported", turn.state.locale)), *engine.reprompt(turn.state, turn.now)]


async def silent_voice(engine: DialogEngine, turn: Turn) -> Reply | None:
    if turn.inbound.kind is not MessageKind.VOICE or turn.inbound.text.strip():
        return None
    state = turn.state
    return state, [Outbound(text("voice_unsupported", state.locale)), *engine.reprompt(state, turn.now)]


async def rating_button(engine: DialogEngine, turn: Turn) -> Reply | None:
    choice_id = _choice(turn, "rate:")
    if choice_id is None:
        return None
    return await after_filing.rating_button(engine, turn.state, choice_id, turn.port, turn.now)


async def withdraw_button(engine: DialogEngine, turn: Turn) -> Reply | None:
    choice_id = _choice(turn, "withdraw:")
    if choice_id is None:
        return None
    answer, _, asked = choice_id.removeprefix("withdraw:").partition(":")
    if answer not in ("yes", "no") or not asked:
        return None
    return await after_filing.withdraw_decided(engine, turn.state, asked, answer == "yes", turn.port, turn.now)


async def rating_skipped(engine: DialogEngine, turn: Turn) -> Reply | None:
    state = turn.state
    if turn.inbound.kind is not MessageKind.CHOICE or not state.rating_ticket or turn.inbound.choice_id != SKIP.id:
        return None
    return await after_filing.rate(
        engine, replace(state, rating_ticket=None), state.rating_ticket, 3, "", turn.port, turn.now
    )


# --- typed text (and transcribed voice) -----------------------------------------------------------


async def empty(engine: DialogEngine, turn: Turn) -> Reply | None:
    if normalize(turn.inbound.text):
        return None
    state = turn.state
    return state, [Outbound(text("empty_message", state.locale)), *engine.reprompt(state, turn.now)]


async def withdraw_answer(engine: DialogEngine, turn: Turn) -> Reply | Turn | None:
    """The answer to "确定撤回…？"; anything else drops the question."""
    to_withdraw = turn.state.withdraw_ticket
    if to_withdraw is None:
        return None
    state = replace(turn.state, withdraw_ticket=None)
    confirmation = match_option(WITHDRAW_OPTIONS, turn.inbound)
    if confirmation is None:
        return replace(turn, state=state)
    return await after_filing.withdraw_decided(
        engine, state, to_withdraw, confirmation is WITHDRAW_YES, turn.port, turn.now
    )


async def command(engine: DialogEngine, turn: Turn) -> Reply | None:
    found = match_command(turn.inbound.text)
    if found is None:
        return None
    return await engine.command(replace(turn.state, rating_ticket=None), found, turn.port, turn.now)


async def command_and_argument(engine: DialogEngine, turn: Turn) -> Reply | None:
    found = command_with_argument(turn.inbound.text)
    if found is None:
        return None
    if found[0] in (Command.PUBLISH, Command.UNPUBLISH) and not found[1] and turn.state.form is not None:
        return None  # "公开" alone on the summary is its toggle button typed out
    return await after_filing.ticket_command(engine, turn.state, *found, turn.port, turn.now)


async def rating_reason(engine: DialogEngine, turn: Turn) -> Reply | None:
    """After a 3 ("not satisfied"): whatever comes next is the reason, or 跳过."""
    state = turn.state
    if state.rating_ticket is None:
        return None
    reason = "" if match_option((SKIP,), turn.inbound) is not None else turn.inbound.text.strip()
    return await after_filing.rate(
        engine, replace(state, rating_ticket=None), state.rating_ticket, 3, reason, turn.port, turn.now
    )


async def rating_typed(engine: DialogEngine, turn: Turn) -> Reply | None:
    if turn.state.form is not None:
        return None
    score = match_option(RATING_OPTIONS, turn.inbound)
    pending = await turn.port.awaiting_rating() if score is not None else None
    if score is None or pending is None:
        return None
    return await after_filing.rating_button(engine, turn.state, f"rate:{pending}:{score.id}", turn.port, turn.now)


async def unknown_slash(engine: DialogEngine, turn: Turn) -> Reply | None:
    unknown = unknown_slash_command(turn.inbound.text)
    if unknown is None:
        return None
    loc = turn.state.locale
    reply = Outbound(text("unknown_command", loc, command=unknown) + "\n" + text("help", loc))
    return turn.state, [reply, *engine.reprompt(turn.state, turn.now)]


async def ticket_number(engine: DialogEngine, turn: Turn) -> Reply | None:
    number = ticket_number_only(turn.inbound.text)
    if number is None:
        return None
    found = await turn.port.find_my_ticket(number)
    loc = turn.state.locale
    shown = engine.views.ticket(found, loc) if found else Outbound(text("ticket_not_found", loc, number=number))
    return turn.state, [shown, *engine.reprompt(turn.state, turn.now)]
