"""The dialog engine: session state + one inbound message -> new state + replies.

It is the only place that decides what a citizen sees next. Commands work at every step; a form
step gets the message only when it is not a command. The engine never touches a database: what
must happen in the world (file a ticket, list tickets) goes through the ``IntakePort`` it is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from adapters.base import Inbound, MessageKind, Outbound
from dialogs import duplicate_offer, routes
from dialogs.address import AddressParser
from dialogs.commands import Command
from dialogs.extraction import Extractor
from dialogs.forms import Accepted, Context, Form, Option, Settings, match_option, normalize, options_to_choices
from dialogs.intake import INTAKE, check_details, fill_from_text
from dialogs.places import place_from_pin, with_place
from dialogs.ports import IntakePort, TicketDraft
from dialogs.replies import CANCEL, EDIT_OPTION, PUBLISH_NO, PUBLISH_YES, SUBMIT, Views, confirm_options
from dialogs.routes import Reply, Route, Turn
from dialogs.state import IntakeDraft, SessionState
from dialogs.taxonomy import Taxonomy
from dialogs.texts import LOCALES, text
from dialogs.words import words

CONFIRM = "confirm"
EDIT = "edit"
_IDLE = "<no form>"  # the step key of a session with no form under way

_GREETINGS: Final = words().greetings

# The routing, declared: every message is offered to ``_ANY_KIND`` in order, typed text (and
# transcribed voice) then to ``_TYPED``; what none of them answers goes to the handler of the step
# the session is at (``_BY_STEP``, after the class), a form question's answer by default.
_ANY_KIND: Final[tuple[Route, ...]] = (
    routes.event,
    routes.unsupported,
    routes.silent_voice,
    routes.rating_button,
    routes.withdraw_button,
    routes.rating_skipped,
)
_TYPED: Final[tuple[Route, ...]] = (
    routes.empty,
    routes.withdraw_answer,
    routes.command,
    routes.command_and_argument,
    routes.rating_reason,
    routes.rating_typed,
    routes.unknown_slash,
    routes.ticket_number,
)
_TYPED_KINDS: Final = (MessageKind.TEXT, MessageKind.VOICE)


@dataclass(frozen=True, slots=True)
class StepResult:
    state: SessionState
    replies: tuple[Outbound, ...]


class DialogEngine:
    def __init__(
        self,
        taxonomy: Taxonomy,
        extractor: Extractor,
        addresses: AddressParser,
        settings: Settings,
        form: Form = INTAKE,
    ) -> None:
        self._taxonomy = taxonomy
        self._extractor = extractor
        self._addresses = addresses
        self._settings = settings
        self._form = form
        self.views = Views(taxonomy=taxonomy, settings=settings)

    @property
    def settings(self) -> Settings:
        return self._settings

    def new_state(self, now: datetime, locale_hint: str | None = None) -> SessionState:
        locale = locale_hint if locale_hint in LOCALES else self._settings.default_locale
        return SessionState(locale=locale, updated_at=now)

    def _ctx(self, state: SessionState, now: datetime) -> Context:
        return Context(self._taxonomy, self._extractor, self._addresses, self._settings, state.locale, now)

    async def step(self, state: SessionState | None, inbound: Inbound, port: IntakePort, now: datetime) -> StepResult:
        current = state if state is not None else self.new_state(now, inbound.locale_hint)
        replies: list[Outbound] = []
        idle_limit = timedelta(minutes=self._settings.idle_minutes)
        if current.form is not None and now - current.updated_at > idle_limit:
            replies.append(Outbound(text("expired", current.locale, minutes=round(self._settings.idle_minutes))))
            current = current.idle()
        if current.withdraw_ticket is not None and now - current.updated_at > idle_limit:
            current = replace(current, withdraw_ticket=None)  # a "1" days later is not an answer to it
        new_state, more = await self._dispatch(current, inbound, port, now)
        return StepResult(replace(new_state, updated_at=now), (*replies, *more))

    # --- routing of one message -----------------------------------------------------------------

    async def _dispatch(
        self, state: SessionState, inbound: Inbound, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        turn: Reply | Turn = await self._first(_ANY_KIND, Turn(state, inbound, port, now))
        if isinstance(turn, Turn) and inbound.kind in _TYPED_KINDS:
            turn = await self._first(_TYPED, replace(turn, inbound=replace(inbound, kind=MessageKind.TEXT)))
        if not isinstance(turn, Turn):
            return turn
        step = _IDLE if turn.state.form is None else turn.state.step
        moved, replies = await _BY_STEP.get(step or "", DialogEngine._answer_slot)(self, turn)
        return await self._offer_before_summary(moved, replies, port, now)

    async def _offer_before_summary(
        self, state: SessionState, replies: list[Outbound], port: IntakePort, now: datetime
    ) -> Reply:
        """已有人反映, asked before the summary: when the form is complete and its matter (topic and
        place) was not looked up yet, another citizen's ticket on the same matter is offered in the
        summary's place. Once per matter: showing the summary again (帮助, 返回) asks nothing."""
        if state.form is None or state.step != CONFIRM or state.editing or state.offered_ticket is not None:
            return state, replies
        matter = _matter_key(state.draft)
        if matter is None or matter == state.checked_matter:
            return state, replies
        ctx = self._ctx(state, now)
        checked = replace(state, checked_matter=matter)
        if self._form.next_slot(ctx, state.draft) is not None or state.intake_key is None:
            return checked, replies
        offer = await duplicate_offer.offer(port, self._ticket_draft(state, ctx), ctx.locale)
        if offer is None:
            return checked, replies
        message, number = offer
        summary = self.views.summary(ctx, state.draft)
        kept = replies[:-1] if replies and replies[-1] == summary else replies
        return replace(checked, offered_ticket=number), [*kept, message]

    def _ticket_draft(self, state: SessionState, ctx: Context) -> TicketDraft:
        draft = state.draft
        assert state.intake_key is not None
        assert draft.type_code is not None and draft.topic_code is not None and draft.details is not None
        return TicketDraft(
            intake_key=state.intake_key,
            type_code=draft.type_code,
            topic_code=draft.topic_code,
            place=draft.place,
            details=draft.details,
            media=draft.media,
            phone=draft.phone,
            locale=ctx.locale,
            publish=draft.publish,
        )

    async def _first(self, table: tuple[Route, ...], turn: Turn) -> Reply | Turn:
        """The first answer a route of ``table`` gives, or the turn as the routes left it."""
        for route in table:
            outcome = await route(self, turn)
            if outcome is None:
                continue
            if not isinstance(outcome, Turn):
                return outcome
            turn = outcome
        return turn

    # --- commands -------------------------------------------------------------------------------

    async def command(
        self, state: SessionState, command: Command, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        loc = state.locale
        if command is Command.NEW:
            fresh, asked = self._advance(self._begin(state.idle()), now)
            return fresh, [Outbound(text("welcome", loc)), *self._after_welcome(fresh, asked)]
        if command is Command.CANCEL:
            if state.form is None:
                return state, [Outbound(text("nothing_to_cancel", loc))]
            return state.idle(), [Outbound(text("cancelled", loc))]
        if command is Command.BACK:
            return self._back(state, now)
        if command is Command.HELP:
            return state, [Outbound(text("help", loc)), *self.reprompt(state, now)]
        if command is Command.MY:
            return state, [self.views.my(*await port.my_tickets(5), loc), *self.reprompt(state, now)]
        target = {Command.LANG_ZH: "zh", Command.LANG_EN: "en"}.get(command, "en" if loc == "zh" else "zh")
        switched = replace(state, locale=target, locale_explicit=True)
        return switched, [Outbound(text("language_set", target)), *self.reprompt(switched, now)]

    def _back(self, state: SessionState, now: datetime) -> tuple[SessionState, list[Outbound]]:
        if state.form is None:
            return state, [Outbound(text("nothing_to_go_back", state.locale))]
        if state.editing or state.step == EDIT:
            back = replace(state, step=CONFIRM, editing=False)
            return back, self.reprompt(back, now)
        if not state.history:
            return state, [Outbound(text("nothing_to_go_back", state.locale)), *self.reprompt(state, now)]
        last = state.history[-1]
        slot = self._form.slot(last)
        draft = state.draft if slot is None else slot.clear(state.draft)
        if last == self._form.slots[0].name:  # re-describing: forget what we guessed from the old text
            for guessed in draft.guessed:
                guessed_slot = self._form.slot(guessed)
                draft = draft if guessed_slot is None else guessed_slot.clear(draft)
            draft = replace(draft, guessed=frozenset())
        back = replace(state, step=last, draft=draft, history=state.history[:-1])
        return back, self.reprompt(back, now)

    # --- the form -------------------------------------------------------------------------------

    def _begin(self, state: SessionState) -> SessionState:
        return replace(state.idle(), form=self._form.name, intake_key=uuid.uuid4().hex)

    async def _start(self, turn: Turn) -> Reply:
        state, inbound, now = turn.state, turn.inbound, turn.now
        if inbound.kind is MessageKind.CHOICE:
            # A button from a finished or reset form (a double tap on "submit" lands here).
            if inbound.choice_id == SUBMIT.id and state.last_filed is not None:
                return state, [Outbound(text("filed_already", state.locale, number=state.last_filed))]
            return state, [
                Outbound(text("nothing_to_cancel", state.locale)),
                Outbound(text("help", state.locale)),
            ]
        started = self._begin(state)
        ctx = self._ctx(started, now)
        notes: list[Outbound] = []
        draft = started.draft
        if inbound.kind is MessageKind.TEXT:
            said = inbound.text
            if _mostly_latin(said) and not state.locale_explicit and started.locale == "zh":
                started = replace(started, locale="en")
                ctx = self._ctx(started, now)
            if normalize(said) in _GREETINGS:
                notes.append(Outbound(text("welcome", started.locale)))
            else:
                problem = check_details(ctx, said)
                if problem is None:
                    draft = replace(draft, details=said.strip())
                    draft = fill_from_text(ctx, draft, said)
                    started = replace(started, history=(self._form.slots[0].name,))
                else:
                    if len(said.strip()) > self._settings.max_details_chars:
                        notes.append(Outbound(problem))
                    else:
                        notes.append(Outbound(text("welcome", started.locale)))
                    draft = fill_from_text(ctx, draft, said) if len(normalize(said)) >= 2 else draft
                    draft = replace(draft, type_code=None, guessed=draft.guessed - {"type"})
        else:
            notes.append(Outbound(text("welcome", started.locale)))
            draft = self._attach(ctx, draft, inbound, notes)
        started, asked = self._advance(replace(started, draft=draft), now)
        if any(n.text == text("welcome", started.locale) for n in notes):
            asked = self._after_welcome(started, asked)
        return started, [*notes, *asked]

    def _after_welcome(self, state: SessionState, asked: list[Outbound]) -> list[Outbound]:
        """The welcome already asks for a description: when that is the next question, asking it
        again right below read as two near-identical greetings, so the welcome stands alone."""
        first = self._form.slots[0]
        if state.step == first.name and all(not a.choices and not a.request_location for a in asked):
            return []
        return asked

    def _attach(self, ctx: Context, draft: IntakeDraft, inbound: Inbound, notes: list[Outbound]) -> IntakeDraft:
        """Photos and map pins are welcome at any step; they never derail the current question."""
        if inbound.kind is MessageKind.IMAGE:
            room = self._settings.max_photos - len(draft.media)
            if room <= 0:
                notes.append(Outbound(text("photo_limit", ctx.locale, max=self._settings.max_photos)))
                return draft
            media = (*draft.media, *inbound.media[:room])
            notes.append(Outbound(text("photo_received", ctx.locale, count=len(media))))
            return replace(draft, media=media)
        if inbound.kind is MessageKind.LOCATION and inbound.location is not None:
            place = place_from_pin(self._addresses, inbound.location)
            placed = with_place(ctx, draft, place)
            if not placed.outside_area:  # else the area question that follows shows the place
                notes.append(Outbound(text("location_saved", ctx.locale, place=place.describe())))
            return replace(placed, guessed=draft.guessed - {"location"})
        return draft

    async def _answer_slot(self, turn: Turn) -> Reply:
        state, inbound, now = turn.state, turn.inbound, turn.now
        ctx = self._ctx(state, now)
        slot = self._form.slot(state.step or "")
        if slot is None:  # a state from an older release: start the summary over
            return self._advance(replace(state, step=None), now)
        takes_pins = slot.name == "location"
        if inbound.kind is MessageKind.IMAGE or (inbound.kind is MessageKind.LOCATION and not takes_pins):
            notes: list[Outbound] = []
            draft = self._attach(ctx, state.draft, inbound, notes)
            moved, asked = self._advance(replace(state, draft=draft), now)
            return moved, [*notes, *asked]
        result = slot.accept(ctx, state.draft, inbound)
        if not isinstance(result, Accepted):
            return state, [Outbound(result.reason), result.prompt or slot.prompt(ctx, state.draft)]
        history = state.history if state.editing else (*state.history, slot.name)
        moved = replace(state, draft=result.draft, history=history, editing=False)
        if state.editing and self._form.next_slot(ctx, result.draft) is None:  # else ask what it raised first
            moved = replace(moved, step=CONFIRM)
        moved, asked = self._advance(moved, now)
        return moved, [*(Outbound(n) for n in result.notes), *asked]

    def _advance(self, state: SessionState, now: datetime) -> tuple[SessionState, list[Outbound]]:
        """Move to the next missing slot, or to the summary when nothing is missing, and ask it."""
        moved = self._next_step(state, now)
        return moved, self.reprompt(moved, now)

    def _next_step(self, state: SessionState, now: datetime) -> SessionState:
        if state.form is None:
            return state
        if state.step == CONFIRM and not state.editing:
            return state
        nxt = self._form.next_slot(self._ctx(state, now), state.draft)
        return replace(state, step=CONFIRM if nxt is None else nxt.name)

    def reprompt(self, state: SessionState, now: datetime) -> list[Outbound]:
        if state.form is None:
            return []
        ctx = self._ctx(state, now)
        if state.step in (None, CONFIRM):
            nxt = self._form.next_slot(ctx, state.draft)
            if nxt is not None:
                return [nxt.prompt(ctx, state.draft)]
            return [self.views.summary(ctx, state.draft)]
        if state.step == EDIT:
            return [self._edit_prompt(ctx)]
        slot = self._form.slot(state.step)
        return [] if slot is None else [slot.prompt(ctx, state.draft)]

    # --- summary, edit, submit ------------------------------------------------------------------

    def _edit_options(self) -> tuple[Option, ...]:
        return tuple(Option(f"edit:{s.name}", s.label) for s in self._form.slots)

    def _edit_prompt(self, ctx: Context) -> Outbound:
        return Outbound(text("ask_edit", ctx.locale), choices=options_to_choices(self._edit_options(), ctx.locale))

    async def _edit_pick(self, turn: Turn) -> Reply:
        state, inbound, now = turn.state, turn.inbound, turn.now
        ctx = self._ctx(state, now)
        option = match_option(self._edit_options(), inbound)
        if option is None:
            return state, [Outbound(text("choose_from_list", ctx.locale)), self._edit_prompt(ctx)]
        editing = replace(state, step=option.id.removeprefix("edit:"), editing=True)
        return editing, self.reprompt(editing, now)

    async def _confirm_step(self, turn: Turn) -> Reply:
        state, inbound, port, now = turn.state, turn.inbound, turn.port, turn.now
        ctx = self._ctx(state, now)
        loc = ctx.locale
        if state.offered_ticket is not None:
            # 已有人反映 is open: "1"/"2" (or the buttons) answer it, not the summary's options.
            offered = state.offered_ticket
            state = replace(state, offered_ticket=None)
            picked = match_option(duplicate_offer.OPTIONS, inbound)
            if picked is duplicate_offer.FOLLOW:
                if await port.follow(offered, loc):
                    return state.idle(), [Outbound(text("followed", loc, number=offered))]
                # Closed (or withdrawn) since it was offered: their own inquiry is what is left.
                return state, [
                    Outbound(text("follow_unavailable", loc, number=offered)),
                    self.views.summary(ctx, state.draft),
                ]
            if picked is duplicate_offer.SEPARATE:
                return state, [self.views.summary(ctx, state.draft)]
        option = match_option(confirm_options(state.draft), inbound)
        if option in (PUBLISH_YES, PUBLISH_NO):
            toggled = replace(state, draft=replace(state.draft, publish=option is PUBLISH_YES))
            return toggled, [self.views.summary(ctx, toggled.draft)]
        if option is SUBMIT:
            return await self._submit(state, port, now)
        if option is EDIT_OPTION:
            editing = replace(state, step=EDIT)
            return editing, [self._edit_prompt(ctx)]
        if option is CANCEL:
            return state.idle(), [Outbound(text("cancelled", loc))]
        buttons = options_to_choices(confirm_options(state.draft), loc)
        notes: list[Outbound] = []
        draft = state.draft
        if inbound.kind in (MessageKind.IMAGE, MessageKind.LOCATION):
            draft = self._attach(ctx, draft, inbound, notes)
        elif inbound.kind is MessageKind.TEXT:
            said = inbound.text.strip()
            phone = self._extractor.phone(said)
            if phone is not None and len(normalize(said)) <= len(phone) + 8:
                draft = replace(draft, phone=phone)
                notes.append(Outbound(text("phone_saved", loc, phone=phone)))
            else:
                combined = f"{draft.details or ''}\n{said}".strip()
                problem = check_details(ctx, combined)
                if problem is not None:
                    return state, [Outbound(problem, choices=buttons)]
                draft = replace(draft, details=combined)
                if draft.phone is None and phone is not None:
                    draft = replace(draft, phone=phone)
                notes.append(Outbound(text("details_appended", loc)))
        else:
            return state, [self.views.summary(ctx, draft)]
        moved = replace(state, draft=draft)
        if self._form.next_slot(ctx, draft) is not None:  # e.g. the type changed and now needs a place
            moved, asked = self._advance(replace(moved, step=None), now)
            return moved, [*notes, *asked]
        last = notes[-1]
        return moved, [*notes[:-1], replace(last, choices=buttons)]

    async def _submit(
        self, state: SessionState, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        ctx = self._ctx(state, now)
        missing = self._form.next_slot(ctx, state.draft)
        if missing is not None or state.intake_key is None:
            return self._advance(replace(state, step=None), now)
        # 已有人反映 was looked for on the way here (``_offer_before_summary`` runs after every step,
        # a map pin dropped on the summary included): 提交 files.
        filed = await port.file_ticket(self._ticket_draft(state, ctx))
        done = replace(state.idle(), last_filed=filed.number)
        return done, [self.views.filed(filed, ctx.locale)]


def _matter_key(draft: IntakeDraft) -> str | None:
    """What the duplicate lookup depends on besides the text: the topic and the place."""
    if draft.topic_code is None:
        return None
    place = draft.place
    where = "" if place is None else f"{place.district}|{place.address}|{place.lat}|{place.lon}"
    return f"{draft.topic_code}|{where}"


def _mostly_latin(said: str) -> bool:
    letters = [c for c in said if c.isalpha()]
    if len(letters) < 8:
        return False
    latin = sum(1 for c in letters if c.isascii())
    return latin / len(letters) > 0.8


# What a message goes to when no route answered it: by the step the session is at.
_BY_STEP: Final[Mapping[str, Callable[[DialogEngine, Turn], Awaitable[Reply]]]] = MappingProxyType(
    {
        _IDLE: DialogEngine._start,
        CONFIRM: DialogEngine._confirm_step,
        EDIT: DialogEngine._edit_pick,
    }
)
