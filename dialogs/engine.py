"""The dialog engine: session state + one inbound message -> new state + replies.

It is the only place that decides what a citizen sees next. Commands work at every step; a form
step gets the message only when it is not a command. The engine never touches a database: what
must happen in the world (file a ticket, list tickets) goes through the ``IntakePort`` it is given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from adapters.base import Choice, Inbound, MessageKind, Outbound
from dialogs.address import AddressParser
from dialogs.commands import (
    Command,
    command_with_argument,
    match_command,
    ticket_number_at_start,
    ticket_number_only,
    unknown_slash_command,
)
from dialogs.extraction import Extractor
from dialogs.formatting import day, moment
from dialogs.forms import (
    Accepted,
    Context,
    Form,
    Option,
    Settings,
    match_option,
    normalize,
    options_to_choices,
)
from dialogs.intake import INTAKE, SKIP, check_details, fill_from_text
from dialogs.places import place_from_pin, with_place
from dialogs.ports import FiledTicket, IntakePort, RatingResult, TicketDraft, TicketSummary
from dialogs.state import IntakeDraft, SessionState
from dialogs.taxonomy import Bilingual, Taxonomy
from dialogs.texts import LOCALES, both, text

CONFIRM = "confirm"
EDIT = "edit"

SUBMIT = Option(
    "confirm:submit",
    Bilingual(*both("btn_submit")),
    ("确认", "确定", "是", "对", "好", "ok", "yes", "submit"),
)
EDIT_OPTION = Option("confirm:edit", Bilingual(*both("btn_edit")), ("改", "edit", "change"))
CANCEL = Option("confirm:cancel", Bilingual(*both("btn_cancel")))
CONFIRM_OPTIONS = (SUBMIT, EDIT_OPTION, CANCEL)
RATING_OPTIONS = tuple(Option(str(n), Bilingual(*both(f"rate_{n}"))) for n in (1, 2, 3))
# 撤回 cannot be undone, so it is asked first; the buttons carry the number ("withdraw:yes:WZ…"),
# the typed answers (a label, 1 / 2, 是 / 否) are read against the number kept in the state.
WITHDRAW_YES = Option(
    "withdraw:yes", Bilingual(*both("btn_withdraw_yes")), ("确定", "确认", "是", "是的", "撤回", "yes", "y", "ok")
)
WITHDRAW_NO = Option(
    "withdraw:no", Bilingual(*both("btn_withdraw_no")), ("不", "否", "不用", "算了", "取消", "no", "n", "keep")
)
WITHDRAW_OPTIONS = (WITHDRAW_YES, WITHDRAW_NO)

_GREETINGS = frozenset({"你好", "您好", "hi", "hello", "在吗", "有人吗", "喂", "hey", "你好啊", "早上好", "晚上好"})


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
        if inbound.kind is MessageKind.EVENT:
            return state, ([Outbound(text("welcome", state.locale))] if inbound.event == "subscribe" else [])
        if inbound.kind is MessageKind.UNSUPPORTED:
            return state, [Outbound(text("unsupported", state.locale)), *self._reprompt(state, now)]
        if inbound.kind is MessageKind.VOICE and not inbound.text.strip():
            return state, [Outbound(text("voice_unsupported", state.locale)), *self._reprompt(state, now)]
        if inbound.kind is MessageKind.CHOICE and (inbound.choice_id or "").startswith("rate:"):
            return await self._rating_button(state, inbound.choice_id or "", port, now)
        if inbound.kind is MessageKind.CHOICE and (inbound.choice_id or "").startswith("withdraw:"):
            answer, _, asked = (inbound.choice_id or "").removeprefix("withdraw:").partition(":")
            if answer in ("yes", "no") and asked:
                return await self._withdraw_decided(state, asked, answer == "yes", port, now)
        if inbound.kind is MessageKind.CHOICE and state.rating_ticket and inbound.choice_id == SKIP.id:
            return await self._rate(replace(state, rating_ticket=None), state.rating_ticket, 3, "", port, now)
        if inbound.kind in (MessageKind.TEXT, MessageKind.VOICE):
            inbound = replace(inbound, kind=MessageKind.TEXT)
            if not normalize(inbound.text):
                return state, [Outbound(text("empty_message", state.locale)), *self._reprompt(state, now)]
            if state.withdraw_ticket is not None:  # the answer to "确定撤回…？"; anything else drops it
                to_withdraw, state = state.withdraw_ticket, replace(state, withdraw_ticket=None)
                confirmation = match_option(WITHDRAW_OPTIONS, inbound)
                if confirmation is not None:
                    return await self._withdraw_decided(state, to_withdraw, confirmation is WITHDRAW_YES, port, now)
            command = match_command(inbound.text)
            if command is not None:
                return await self._command(replace(state, rating_ticket=None), command, port, now)
            with_argument = command_with_argument(inbound.text)
            if with_argument is not None:
                return await self._ticket_command(state, *with_argument, port, now)
            if state.rating_ticket is not None:
                if match_option((SKIP,), inbound) is not None:
                    return await self._rate(replace(state, rating_ticket=None), state.rating_ticket, 3, "", port, now)
                reason = inbound.text.strip()
                return await self._rate(replace(state, rating_ticket=None), state.rating_ticket, 3, reason, port, now)
            if state.form is None:
                score = match_option(RATING_OPTIONS, inbound)
                pending = await port.awaiting_rating() if score is not None else None
                if score is not None and pending is not None:
                    return await self._rating_button(state, f"rate:{pending}:{score.id}", port, now)
            unknown = unknown_slash_command(inbound.text)
            if unknown is not None:
                reply = Outbound(
                    text("unknown_command", state.locale, command=unknown) + "\n" + text("help", state.locale)
                )
                return state, [reply, *self._reprompt(state, now)]
            number = ticket_number_only(inbound.text)
            if number is not None:
                return state, [await self._show_ticket(state, number, port), *self._reprompt(state, now)]
        if state.form is None:
            return await self._start(state, inbound, port, now)
        if state.step == CONFIRM:
            return await self._confirm_step(state, inbound, port, now)
        if state.step == EDIT:
            return self._edit_pick(state, inbound, now)
        return self._answer_slot(state, inbound, now)

    # --- commands -------------------------------------------------------------------------------

    async def _command(
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
            return state, [Outbound(text("help", loc)), *self._reprompt(state, now)]
        if command is Command.MY:
            return state, [await self._my(state, port), *self._reprompt(state, now)]
        target = {Command.LANG_ZH: "zh", Command.LANG_EN: "en"}.get(command, "en" if loc == "zh" else "zh")
        switched = replace(state, locale=target, locale_explicit=True)
        return switched, [Outbound(text("language_set", target)), *self._reprompt(switched, now)]

    # --- after filing: rating, adding information, withdrawing ----------------------------------------

    async def _rating_button(
        self, state: SessionState, choice_id: str, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        _, number, score_text = [*choice_id.split(":"), "", ""][:3]
        if score_text not in ("1", "2", "3"):
            return state, [Outbound(text("choose_from_list", state.locale))]
        mine = await port.find_my_ticket(number)
        if mine is None or mine.status != "answered":  # someone else's, or already rated
            return state, [Outbound(text("rating_not_pending", state.locale, number=number))]
        if score_text == "3":  # ask why first; the reason goes to the staff who rework it
            asking = replace(state, rating_ticket=number)
            prompt = Outbound(text("rating_ask_reason", state.locale), choices=(SKIP.choice(state.locale),))
            return asking, [prompt]
        return await self._rate(state, number, int(score_text), "", port, now)

    async def _rate(
        self, state: SessionState, number: str, score: int, comment: str, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        result = await port.rate(number, score, comment)
        key = {
            RatingResult.RECORDED: "rating_thanks",
            RatingResult.REOPENED: "rated_reopened",
            RatingResult.ESCALATED: "rated_escalated",
            RatingResult.NOT_PENDING: "rating_not_pending",
        }[result]
        return state, [Outbound(text(key, state.locale, number=number)), *self._reprompt(state, now)]

    async def _ticket_command(
        self, state: SessionState, command: Command, argument: str, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        loc = state.locale
        leading = ticket_number_at_start(argument)
        number, rest = leading if leading is not None else (None, argument)
        if command is Command.WITHDRAW:
            if number is None:
                return state, [Outbound(text("withdraw_usage", loc))]
            return await self._withdraw_asked(state, number, port)
        if number is not None and await port.find_my_ticket(number) is None:
            # Someone else's number reads exactly like an unknown one, as in a lookup: numbers are guessable.
            return state, [Outbound(text("ticket_not_found", loc, number=number))]
        if not rest:
            return state, [Outbound(text("supplement_usage", loc))]
        sent_to = await port.supplement(number, rest)
        if sent_to is None:
            return state, [Outbound(text("supplement_none", loc))]
        return state, [Outbound(text("supplement_sent", loc, number=sent_to)), *self._reprompt(state, now)]

    async def _withdraw_asked(
        self, state: SessionState, number: str, port: IntakePort
    ) -> tuple[SessionState, list[Outbound]]:
        loc = state.locale
        mine = await port.find_my_ticket(number)
        if mine is None:  # someone else's number reads exactly like an unknown one: numbers are guessable
            return state, [Outbound(text("ticket_not_found", loc, number=number))]
        if not mine.withdrawable:
            return state, [Outbound(text("withdraw_refused", loc, number=number))]
        buttons = tuple(Choice(f"{option.id}:{number}", option.name.get(loc)) for option in WITHDRAW_OPTIONS)
        question = Outbound(text("withdraw_confirm", loc, number=number), choices=buttons, ticket_number=number)
        return replace(state, withdraw_ticket=number), [question]

    async def _withdraw_decided(
        self, state: SessionState, number: str, confirmed: bool, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        loc = state.locale
        state = replace(state, withdraw_ticket=None)
        if not confirmed:
            return state, [Outbound(text("withdraw_kept", loc, number=number)), *self._reprompt(state, now)]
        if await port.find_my_ticket(number) is None:  # a stale or forged button: same as unknown
            return state, [Outbound(text("ticket_not_found", loc, number=number))]
        done = await port.withdraw(number)
        reply = Outbound(text("withdrawn" if done else "withdraw_refused", loc, number=number))
        return state, [reply, *self._reprompt(state, now)]

    def _back(self, state: SessionState, now: datetime) -> tuple[SessionState, list[Outbound]]:
        if state.form is None:
            return state, [Outbound(text("nothing_to_go_back", state.locale))]
        if state.editing or state.step == EDIT:
            back = replace(state, step=CONFIRM, editing=False)
            return back, self._reprompt(back, now)
        if not state.history:
            return state, [Outbound(text("nothing_to_go_back", state.locale)), *self._reprompt(state, now)]
        last = state.history[-1]
        slot = self._form.slot(last)
        draft = state.draft if slot is None else slot.clear(state.draft)
        if last == self._form.slots[0].name:  # re-describing: forget what we guessed from the old text
            for guessed in draft.guessed:
                guessed_slot = self._form.slot(guessed)
                draft = draft if guessed_slot is None else guessed_slot.clear(draft)
            draft = replace(draft, guessed=frozenset())
        back = replace(state, step=last, draft=draft, history=state.history[:-1])
        return back, self._reprompt(back, now)

    async def _my(self, state: SessionState, port: IntakePort) -> Outbound:
        loc = state.locale
        items, total = await port.my_tickets(5)
        if not items:
            return Outbound(text("my_none", loc))
        lines = [text("my_title", loc, total=total)]
        for item in items:
            lines.append(
                text(
                    "my_line",
                    loc,
                    number=item.number,
                    status=self._status(item.status, loc),
                    department=self._department(item, loc),
                    due=self._day(item.answer_due, loc),
                )
            )
        if total > len(items):
            lines.append(text("my_more", loc, shown=len(items)))
        return Outbound("\n".join(lines))

    async def _show_ticket(self, state: SessionState, number: str, port: IntakePort) -> Outbound:
        loc = state.locale
        found = await port.find_my_ticket(number)
        if found is None:
            return Outbound(text("ticket_not_found", loc, number=number))
        kind = self._taxonomy.type_by_code(found.type_code)
        topic = self._taxonomy.topic_by_code(found.topic_code)
        return Outbound(
            text(
                "ticket_line_detail",
                loc,
                number=found.number,
                status=self._status(found.status, loc),
                department=self._department(found, loc),
                type=kind.name.get(loc) if kind else found.type_code,
                topic=topic.name.get(loc) if topic else found.topic_code,
                due=self._day(found.answer_due, loc),
            ),
            ticket_number=found.number,
        )

    # --- the form -------------------------------------------------------------------------------

    def _begin(self, state: SessionState) -> SessionState:
        return replace(state.idle(), form=self._form.name, intake_key=uuid.uuid4().hex)

    async def _start(
        self, state: SessionState, inbound: Inbound, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
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

    def _answer_slot(self, state: SessionState, inbound: Inbound, now: datetime) -> tuple[SessionState, list[Outbound]]:
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
        return moved, self._reprompt(moved, now)

    def _next_step(self, state: SessionState, now: datetime) -> SessionState:
        if state.form is None:
            return state
        if state.step == CONFIRM and not state.editing:
            return state
        nxt = self._form.next_slot(self._ctx(state, now), state.draft)
        return replace(state, step=CONFIRM if nxt is None else nxt.name)

    def _reprompt(self, state: SessionState, now: datetime) -> list[Outbound]:
        if state.form is None:
            return []
        ctx = self._ctx(state, now)
        if state.step in (None, CONFIRM):
            nxt = self._form.next_slot(ctx, state.draft)
            if nxt is not None:
                return [nxt.prompt(ctx, state.draft)]
            return [self._summary(ctx, state.draft)]
        if state.step == EDIT:
            return [self._edit_prompt(ctx)]
        slot = self._form.slot(state.step)
        return [] if slot is None else [slot.prompt(ctx, state.draft)]

    # --- summary, edit, submit ------------------------------------------------------------------

    def _summary(self, ctx: Context, draft: IntakeDraft) -> Outbound:
        loc = ctx.locale
        guess = text("guessed", loc)
        kind = self._taxonomy.type_by_code(draft.type_code)
        topic = self._taxonomy.topic_by_code(draft.topic_code)
        place = draft.place.describe() if draft.place else text("not_given", loc)
        details = draft.details or ""
        preview = details if len(details) <= 300 else details[:300] + "…"
        lines = [
            text("summary_title", loc),
            text(
                "summary_type",
                loc,
                value=(kind.name.get(loc) if kind else "-") + (guess if "type" in draft.guessed else ""),
            ),
            text(
                "summary_topic",
                loc,
                value=(topic.name.get(loc) if topic else "-") + (guess if "topic" in draft.guessed else ""),
            ),
            text("summary_location", loc, value=place + (guess if "location" in draft.guessed else "")),
            text("summary_details", loc, value=preview),
        ]
        if draft.media:
            lines.append(text("summary_photos", loc, count=len(draft.media)))
        lines.append(text("summary_phone", loc, value=draft.phone) if draft.phone else text("summary_phone_none", loc))
        lines += ["", text("summary_hint", loc)]
        return Outbound("\n".join(lines), choices=options_to_choices(CONFIRM_OPTIONS, loc))

    def _edit_options(self) -> tuple[Option, ...]:
        return tuple(Option(f"edit:{s.name}", s.label) for s in self._form.slots)

    def _edit_prompt(self, ctx: Context) -> Outbound:
        return Outbound(text("ask_edit", ctx.locale), choices=options_to_choices(self._edit_options(), ctx.locale))

    def _edit_pick(self, state: SessionState, inbound: Inbound, now: datetime) -> tuple[SessionState, list[Outbound]]:
        ctx = self._ctx(state, now)
        option = match_option(self._edit_options(), inbound)
        if option is None:
            return state, [Outbound(text("choose_from_list", ctx.locale)), self._edit_prompt(ctx)]
        editing = replace(state, step=option.id.removeprefix("edit:"), editing=True)
        return editing, self._reprompt(editing, now)

    async def _confirm_step(
        self, state: SessionState, inbound: Inbound, port: IntakePort, now: datetime
    ) -> tuple[SessionState, list[Outbound]]:
        ctx = self._ctx(state, now)
        loc = ctx.locale
        option = match_option(CONFIRM_OPTIONS, inbound)
        if option is SUBMIT:
            return await self._submit(state, port, now)
        if option is EDIT_OPTION:
            editing = replace(state, step=EDIT)
            return editing, [self._edit_prompt(ctx)]
        if option is CANCEL:
            return state.idle(), [Outbound(text("cancelled", loc))]
        buttons = options_to_choices(CONFIRM_OPTIONS, loc)
        notes: list[Outbound] = []
        draft = state.draft
        if inbound.kind in (MessageKind.IMAGE, MessageKind.LOCATION):
            draft = self._attach(ctx, draft, inbound, notes)
        elif inbound.kind is MessageKind.TEXT:
            said = inbound.text.strip()
            phone = self._extractor.extract(said).phone
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
            return state, [self._summary(ctx, draft)]
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
        draft = state.draft
        assert draft.type_code is not None and draft.topic_code is not None and draft.details is not None
        filed = await port.file_ticket(
            TicketDraft(
                intake_key=state.intake_key,
                type_code=draft.type_code,
                topic_code=draft.topic_code,
                place=draft.place,
                details=draft.details,
                media=draft.media,
                phone=draft.phone,
                locale=ctx.locale,
            )
        )
        done = replace(state.idle(), last_filed=filed.number)
        return done, [self._filed(filed, ctx.locale)]

    def _filed(self, filed: FiledTicket, loc: str) -> Outbound:
        key = "filed" if filed.new else "filed_already"
        department = filed.department.get(loc) if filed.department else text("department_pending", loc)
        return Outbound(
            text(
                key,
                loc,
                number=filed.number,
                department=department,
                respond_due=self._moment(filed.respond_due, loc),
                answer_due=self._day(filed.answer_due, loc),
                days=filed.answer_working_days,
            ),
            ticket_number=filed.number,
        )

    # --- formatting -----------------------------------------------------------------------------

    def _status(self, status: str, loc: str) -> str:
        try:
            return text(f"status_{status}", loc)
        except KeyError:
            return status

    def _department(self, item: TicketSummary, loc: str) -> str:
        return item.department.get(loc) if item.department else text("department_pending", loc)

    def _moment(self, when: datetime, loc: str) -> str:
        return moment(when, loc, self._settings.timezone)

    def _day(self, when: datetime, loc: str) -> str:
        return day(when, loc, self._settings.timezone)


def _mostly_latin(said: str) -> bool:
    letters = [c for c in said if c.isalpha()]
    if len(letters) < 8:
        return False
    latin = sum(1 for c in letters if c.isascii())
    return latin / len(letters) > 0.8
