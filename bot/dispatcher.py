"""The one inbound path: dedupe -> store -> run the dialog -> replies inline or to the outbox.

Order matters. The message is committed before the dialog runs, so a crash mid-dialog leaves a
stored, unprocessed message that a redelivery or the recovery sweep picks up; it is never lost and
never acknowledged unstored. The dialog's effects, the "processed" mark and the replies commit in
one second transaction, so a redelivery either re-runs nothing (processed: the stored replies are
returned) or re-runs a dialog whose earlier attempt left no trace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import (
    ConversationRef,
    Handled,
    Inbound,
    MessageKind,
    NonceReused,
    Outbound,
    RequestNonce,
    TemporarilyUnavailable,
)
from adapters.sanitize import clean_inbound
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.overload import Admission
from bot.recovery import unprocessed
from bot.staff_path import card_ticket, on_platform, staff_member
from bot.storage_errors import is_poison
from dialogs.engine import DialogEngine, StepResult
from dialogs.state import SessionState
from dialogs.texts import text
from storage.group_commit import GroupCommitter
from storage.identities import IdentityRef, IdentityRepository
from storage.inbound import InboundRepository, Recorded
from storage.models import Staff
from storage.nonces import NonceRepository
from storage.sessions import SessionStore
from storage.staff import StaffRepository
from storage.tickets import TicketRepository
from tickets.context import Workflow
from tickets.deadlines import DeadlineClock
from tickets.intake_port import SqlIntakePort
from tickets.staff_desk import StaffDesk

log = logging.getLogger(__name__)

_STORAGE_ERRORS = (SQLAlchemyError, OSError, RedisError, TimeoutError)
SESSION_TTL_SECONDS = 30 * 24 * 3600  # the language choice outlives the form; the form expires by idle time


# Past the budget, a dialog already committing its inline answer gets this much longer (WeChat and
# Weibo budgets are 4 s of the platforms' 5) before the platform is asked to retry instead.
COMMIT_GRACE_SECONDS = 0.5

UNREACHABLE_EVENTS = frozenset({"unsubscribe", "unfollow", "blocked"})
# Platform notices, not the citizen writing: they neither open a reply window nor release held pushes.
PASSIVE_EVENTS = frozenset({"location_hint", "template_send_finished", "view"})


@dataclass
class _Delivery:
    """How one message's replies travel; ``split`` decides it once, inside the transaction, so the
    HTTP side giving up (``abandoned``) and the commit can never both claim the replies.
    ``stored``: the first transaction (the message, its nonce) has committed; until then the HTTP
    side must not acknowledge the message, whatever the budget says."""

    inline: bool
    inline_limit: int | None = None
    inline_fits: Callable[[Outbound], bool] | None = None
    abandoned: bool = False
    committed_inline: bool = False
    stored: bool = False

    def split(self, replies: tuple[Outbound, ...]) -> tuple[tuple[Outbound, ...], tuple[Outbound, ...]]:
        if self.abandoned or not self.inline:
            return (), replies
        self.committed_inline = True
        limit = len(replies) if self.inline_limit is None else min(self.inline_limit, len(replies))
        count = 0  # in order: a reply that cannot go inline sends everything after it the same way
        while count < limit and (self.inline_fits is None or self.inline_fits(replies[count])):
            count += 1
        return replies[:count], replies[count:]


@dataclass(frozen=True, slots=True)
class _Stored:
    """What storing a message found out: the stored row, who sent it, and pushes it released."""

    recorded: Recorded
    identity: IdentityRef
    staff: Staff | None
    released: int


@dataclass(frozen=True, slots=True)
class Repositories:
    identities: IdentityRepository
    inbound: InboundRepository
    tickets: TicketRepository
    staff: StaffRepository
    nonces: NonceRepository


class Dispatcher:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: SessionStore,
        engine: DialogEngine,
        repos: Repositories,
        outbox: Outbox,
        deadlines: DeadlineClock,
        tz: ZoneInfo,
        metrics: Metrics,
        clock: Callable[[], datetime],
        workflow: Workflow,
        staff_desk: StaffDesk,
        committer: GroupCommitter,
        admission: Admission,
    ) -> None:
        self._sessions = sessions
        self._committer = committer
        self._admission = admission
        self._store = store
        self._engine = engine
        self._repos = repos
        self._outbox = outbox
        self._deadlines = deadlines
        self._tz = tz
        self._metrics = metrics
        self._clock = clock
        self._workflow = workflow
        self._staff_desk = staff_desk
        self._background: set[asyncio.Task[Handled]] = set()  # dialogs finishing after their budget

    async def handle(
        self,
        inbound: Inbound,
        *,
        inline: bool = True,
        inline_limit: int | None = None,
        budget: float | None = None,
        inline_fits: Callable[[Outbound], bool] | None = None,
        nonce: RequestNonce | None = None,
        arrived: float | None = None,
    ) -> Handled:
        """``inline``: the channel answers in its HTTP response (else everything goes through the
        outbox). ``inline_limit``: at most that many replies inline, the rest through the outbox
        (a WeChat passive reply carries one message). ``budget``: seconds the channel can wait
        (WeChat and Weibo give up after 5); past it, if the message is stored, ``Handled.timed_out``
        comes back at once and the dialog's replies, when it finishes, go through the outbox; if
        it is not stored yet (the database hangs), ``TemporarilyUnavailable`` is raised so the
        channel answers with a retryable status: a message is never acknowledged unstored. The
        late task carries on; when the platform retries, the message's unique key makes the retry
        a redelivery, so nothing is run twice. ``inline_fits``: whether the platform's passive
        reply can carry a reply (Weibo: under 300 characters). ``nonce``: recorded with the message
        in its transaction; ``NonceReused`` (a 403) when it was seen with another body.
        ``arrived``: when the request came in (``time.monotonic()``); the budget counts from it, and
        a message that could not be stored within what is left is refused at once
        (``TemporarilyUnavailable``: load shed, the platform retries) rather than answered late."""
        delivery = _Delivery(inline, inline_limit, inline_fits)
        if budget is None:
            return await self._handle_measured(inbound, delivery, nonce)
        left = self._admission.remaining(budget, arrived)
        if not self._admission.admit(
            budget,
            left,
            backlog=self._committer.waiting,
            seconds_per_job=self._committer.seconds_per_job,
            samples=self._committer.samples,
        ):
            self._metrics.messages_in.labels(inbound.channel, "shed").inc()
            raise TemporarilyUnavailable(f"overloaded: {left:.2f} s left, the platform is asked to retry")
        budget = left
        task = asyncio.create_task(self._handle_measured(inbound, delivery, nonce))
        done, _ = await asyncio.wait({task}, timeout=budget)
        if not done and delivery.committed_inline:  # committing its inline answer right now
            done, _ = await asyncio.wait({task}, timeout=COMMIT_GRACE_SECONDS)
        if task in done:
            return await task
        delivery.abandoned = True
        self._background.add(task)
        task.add_done_callback(self._finished_late)
        if delivery.committed_inline:
            # Stored, but its inline answer is in a commit that hangs: "received" would lose that
            # answer, so the platform is asked to retry; the retry gets it from storage.
            self._metrics.messages_in.labels(inbound.channel, "unavailable").inc()
            raise TemporarilyUnavailable("the answer was not committed within the budget")
        if not delivery.stored:
            self._metrics.messages_in.labels(inbound.channel, "unavailable").inc()
            log.error(
                "message not stored within %.1f s: the platform is asked to retry",
                budget,
                extra={"channel": inbound.channel},
            )
            raise TemporarilyUnavailable(f"not stored within the {budget:g} s budget")
        return Handled((), timed_out=True)

    def _finished_late(self, task: asyncio.Task[Handled]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Stored but not processed: a redelivery or the recovery sweep runs it again.
            log.error("late dialog failed: %s", task.exception())

    async def _handle_measured(self, inbound: Inbound, delivery: _Delivery, nonce: RequestNonce | None) -> Handled:
        started = time.perf_counter()
        inbound = clean_inbound(inbound)  # lone surrogates, NUL: storable on every database
        key = inbound.conversation.key()
        try:
            async with self._store.lock(key):
                handled = await self._handle_locked(inbound, delivery, nonce)
        except NonceReused:
            self._metrics.messages_in.labels(inbound.channel, "refused").inc()
            log.warning("replayed nonce refused", extra={"channel": inbound.channel})
            raise
        except TemporarilyUnavailable:
            self._metrics.messages_in.labels(inbound.channel, "unavailable").inc()
            raise
        except (*_STORAGE_ERRORS, ValueError, OverflowError) as exc:
            if is_poison(exc):  # the database refuses this message itself: a 503 would loop forever
                return await self._refuse_poison(inbound, delivery, exc)
            if not isinstance(exc, _STORAGE_ERRORS):
                raise
            self._metrics.messages_in.labels(inbound.channel, "unavailable").inc()
            log.error("storage unavailable: %s", exc, extra={"channel": inbound.channel})
            raise TemporarilyUnavailable(str(exc)) from exc
        self._metrics.messages_in.labels(inbound.channel, "duplicate" if handled.duplicate else "processed").inc()
        self._metrics.dialog_seconds.labels(inbound.channel).observe(time.perf_counter() - started)
        return handled

    async def _refuse_poison(self, inbound: Inbound, delivery: _Delivery, exc: BaseException) -> Handled:
        """A message the database itself refused (not an outage): counted, logged, and answered
        once with a polite request to send it again in other words. Not raised as
        ``TemporarilyUnavailable``, which would have the platform resend it forever. Inline
        channels get the reply in their answer; others through the outbox, if even that can be
        written for this conversation (else the log line is all that is left of it)."""
        self._metrics.messages_in.labels(inbound.channel, "rejected").inc()
        log.error(
            "message refused by the database, not stored (%s): %.300s",
            type(exc).__name__,
            exc,
            extra={"channel": inbound.channel},
        )
        locale = inbound.locale_hint if inbound.locale_hint in ("zh", "en") else self._engine.settings.default_locale
        reply = Outbound(text("unreadable_message", locale))
        if delivery.inline and not delivery.abandoned:
            delivery.committed_inline = True
            return Handled((reply,))
        try:
            await self._committer.run(
                lambda session: self._outbox.enqueue(session, inbound.conversation, reply, self._clock())
            )
        except Exception as again:  # the conversation itself is unstorable (or the database left)
            log.error(
                "no reply queued for a refused message: %s", type(again).__name__, extra={"channel": inbound.channel}
            )
            return Handled(())
        self._outbox.wake()
        return Handled(())

    async def _handle_locked(self, inbound: Inbound, delivery: _Delivery, nonce: RequestNonce | None) -> Handled:
        now = self._clock()
        stored = await self._committer.run(partial(self._store_message, inbound=inbound, nonce=nonce, now=now))
        if stored is None:
            raise NonceReused()  # nothing of the replay was written
        delivery.stored = True  # committed: from here on the channel may acknowledge the message
        self._repos.identities.remember(inbound.conversation.account, inbound.conversation.chat_id, stored.identity)
        recorded = stored.recorded
        if stored.released:
            self._outbox.wake()
        if recorded.replies is not None:
            await self._restore_state(inbound.conversation.key(), recorded.dialog_state)
            return Handled(tuple(Outbound.from_dict(r) for r in recorded.replies), duplicate=True)
        if stored.staff is not None:
            staff = stored.staff
            replies = await self._process_staff(recorded.message_id, staff.id, staff.locale, inbound, delivery)
        else:
            replies = await self._process(recorded.message_id, stored.identity, inbound, delivery)
        return Handled(replies)

    async def _store_message(
        self, session: AsyncSession, *, inbound: Inbound, nonce: RequestNonce | None, now: datetime
    ) -> _Stored | None:
        """The message, its nonce and its sender, as one job of a group commit. None: the nonce was
        seen with another body (refused before anything was written, so the batch goes on)."""
        ref = inbound.conversation
        if nonce is not None and not await self._repos.nonces.claim(
            session,
            channel=inbound.channel,
            nonce=nonce.nonce,
            body_sha256=nonce.body_sha256,
            expires_at=nonce.expires_at,
            now=now,
        ):
            return None
        identity = await self._repos.identities.ref_for(
            session, ref.channel, ref.account, ref.chat_id, now, self._engine.settings.default_locale
        )
        recorded = await self._repos.inbound.record(
            session,
            channel=inbound.channel,
            message_key=inbound.message_key,
            identity_id=identity.id,
            kind=inbound.kind.value,
            text=inbound.text,
            payload=inbound.payload(),
            raw=inbound.raw,
            received_at=inbound.received_at,
        )
        released = 0
        event = inbound.event if inbound.kind is MessageKind.EVENT else None
        if recorded.new and event not in PASSIVE_EVENTS:
            await self._repos.identities.touch(session, identity.id, now)
            if event in UNREACHABLE_EVENTS:
                await self._repos.identities.set_reachable(session, identity.id, False)
            elif on_platform(inbound):  # they wrote: what waited for the reply window can go now
                released = await self._outbox.release_held(session, ref, now)
        staff = await staff_member(session, self._repos.staff, inbound) if recorded.replies is None else None
        if recorded.replies is None and staff is None and inbound.group:
            # Chatter in a staff group from someone who is not staff: stored, never answered.
            await self._repos.inbound.mark_processed(session, recorded.message_id, [], now)
            recorded = replace(recorded, replies=[])
        return _Stored(recorded, identity, staff, released)

    async def _process_staff(
        self, message_id: int, staff_id: int, locale: str, inbound: Inbound, delivery: _Delivery
    ) -> tuple[Outbound, ...]:
        now = self._clock()
        ref = inbound.conversation

        async def command(session: AsyncSession) -> tuple[Outbound, ...]:
            staff = await self._repos.staff.get(session, staff_id)
            assert staff is not None
            card = await card_ticket(session, inbound)
            replies = await self._staff_desk.handle(session, staff, inbound, now, reply_to=card)
            return await self._finish(session, message_id, ref, replies, delivery, now)

        try:
            replies = await self._committer.run(command)
        except Exception as exc:
            if isinstance(exc, _STORAGE_ERRORS) and not is_poison(exc):
                raise
            log.exception("staff command failed", extra={"channel": inbound.channel})
            apology = (Outbound(text("internal_error", locale)),)
            replies = await self._committer.run(
                lambda session: self._finish(session, message_id, ref, apology, delivery, now)
            )
        self._outbox.wake()  # a staff action usually queued a push to a citizen
        return replies

    async def _process(
        self, message_id: int, identity: IdentityRef, inbound: Inbound, delivery: _Delivery
    ) -> tuple[Outbound, ...]:
        ref = inbound.conversation
        key = ref.key()
        state = self._load_state(await self._store.get(key))
        now = self._clock()

        async def dialog(session: AsyncSession) -> tuple[StepResult, SqlIntakePort, tuple[Outbound, ...]]:
            # Re-runnable (group commit may run it twice): everything it changes is in the session
            # or in the values it returns.
            port = SqlIntakePort(
                session=session,
                tickets=self._repos.tickets,
                identity=identity,
                deadlines=self._deadlines,
                tz=self._tz,
                now=now,
                workflow=self._workflow,
            )
            result = await self._engine.step(state, inbound, port, now)
            saved = result.state.to_json()
            return result, port, await self._finish(session, message_id, ref, result.replies, delivery, now, saved)

        try:
            result, port, inline_replies = await self._committer.run(dialog)
            for _ in port.filed:
                self._metrics.tickets_filed.labels(inbound.channel).inc()
            port.log_filings()
        except Exception as exc:
            if isinstance(exc, _STORAGE_ERRORS) and not is_poison(exc):
                raise
            # A bug in a dialog (or a value the database refuses) must not leave the citizen without
            # an answer or loop on redelivery: the message stays stored, the state is untouched, the
            # citizen is told to retry.
            log.exception("dialog failed", extra={"channel": inbound.channel})
            locale = state.locale if state else self._engine.settings.default_locale
            apology = (Outbound(text("internal_error", locale)),)
            return await self._committer.run(
                lambda session: self._finish(session, message_id, ref, apology, delivery, now)
            )
        await self._store.put(key, result.state.to_json(), SESSION_TTL_SECONDS)
        self._outbox.wake()  # filing, rating or adding information may have queued pushes
        return inline_replies

    async def _finish(
        self,
        session: AsyncSession,
        message_id: int,
        ref: ConversationRef,
        replies: tuple[Outbound, ...],
        delivery: _Delivery,
        now: datetime,
        dialog_state: str | None = None,
    ) -> tuple[Outbound, ...]:
        """Queue what is not answered inline and mark the message processed, keeping the inline
        part so a redelivery gets exactly that again, and the form state the message left (it is
        saved to the session store only after this commits). The inline replies."""
        inline, queued = delivery.split(replies)
        for reply in queued:
            await self._outbox.enqueue(session, ref, reply, now)
        await self._repos.inbound.mark_processed(
            session,
            message_id,
            [r.to_dict() for r in inline],
            now,
            replied_inline=bool(inline) or not queued,
            dialog_state=dialog_state,
        )
        return inline

    async def _restore_state(self, key: str, left: str | None) -> None:
        """A redelivered message's form state, put back when the session store lost it: the save
        after the commit did not happen (a kill in that instant, a batch of citizens at once with
        group commit). Only when the store holds nothing newer, so a later step is never undone."""
        if left is None:
            return
        stored = self._load_state(left)
        current = self._load_state(await self._store.get(key))
        if stored is not None and (current is None or current.updated_at < stored.updated_at):
            await self._store.put(key, left, SESSION_TTL_SECONDS)
            log.warning("form state restored from a redelivered message", extra={"channel": key.split(":", 1)[0]})

    @staticmethod
    def _load_state(raw: str | None) -> SessionState | None:
        if raw is None:
            return None
        try:
            return SessionState.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable session state dropped")
            return None

    async def close(self) -> None:
        """Commit what is queued for the database writer, then stop it (at shutdown)."""
        await self._committer.close()

    async def forget_expired_nonces(self) -> int:
        """Prune nonces whose requests would be refused as stale anyway (the recovery loop)."""
        async with self._sessions.begin() as session:
            return await self._repos.nonces.prune(session, self._clock())

    async def recover(self, older_than: timedelta = timedelta(seconds=30), limit: int = 100) -> int:
        """Run messages that were stored but never processed (a crash between the two transactions).
        Their HTTP request is long gone, so replies go through the outbox."""
        cutoff = self._clock() - older_than
        pending = await unprocessed(self._sessions, self._repos.inbound, self._repos.identities, cutoff, limit)
        for inbound in pending:
            await self.handle(inbound, inline=False)
        return len(pending)
