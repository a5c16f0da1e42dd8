"""The relational model. One module so Alembic sees every table at once.

Timestamps are stored in UTC (timezone-aware on PostgreSQL, naive-as-UTC on SQLite, normalised by
``UtcDateTime``); local time only appears when a text is shown to a person.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Always hands back aware UTC datetimes, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for tables that grow.
Id = BigInteger().with_variant(Integer(), "sqlite")


# ``Index.info`` key: the dialects an index exists on (with ``ddl_if``), for schema comparisons.
ONLY_ON = "only_on_dialects"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Citizen(Base):
    __tablename__ = "citizens"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    locale: Mapped[str] = mapped_column(String(8), default="zh")


class Identity(Base):
    """A citizen as one channel knows them. ``reachable`` turns false on block/unsubscribe."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "account", "chat_id", name="uq_identity"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]


class InboundMessage(Base):
    """Every message as received. The unique (channel, message_key) is how redeliveries are known;
    ``replies`` keeps the answer so a redelivery gets the same one without re-running the dialog."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_key", name="uq_inbound_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_key: Mapped[str] = mapped_column(String(255))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]]
    raw: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    replies: Mapped[list[Any] | None]
    # False when the answer went through the outbox (the 5-second budget ran out): a redelivery
    # then gets no inline copy, so the citizen does not see it twice.
    replied_inline: Mapped[bool] = mapped_column(Boolean, default=True)
    # The form state this message left (JSON), committed with it: a redelivery restores it when the
    # session store lost the save that follows the commit (a kill in between; migration 0016).
    dialog_state: Mapped[str | None] = mapped_column(Text)


class SeenRequestNonce(Base):
    """A signed request's nonce with its body's hash, written with the message it carried and kept
    until its timestamp could no longer pass (``expires_at``): a replayed query with another body is
    refused after a restart too, and the platform's retry of the same request is a redelivery."""

    __tablename__ = "seen_request_nonces"
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_citizen_created", "citizen_id", "created_at"),
        Index("ix_tickets_department_due", "department_code", "status", "answer_due_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_public", "public_consent", "answered_at"),  # the /public list, newest answer first
        # Monthly statistics per department (BENCHMARKS.md: 261 -> 47 ms at 1M tickets on SQLite).
        Index("ix_tickets_month_stats", "created_at", "department_code", "status"),
        # Duplicate lookup at filing (tickets/duplicates.py): the same topic near a point, or at
        # the same named place recently (migration 0014; BENCHMARKS.md: the lookup at 1M tickets).
        Index("ix_tickets_topic_point", "topic_code", "lat", "lon"),
        Index("ix_tickets_topic_place", "topic_code", "district", "address", "created_at"),
        # A department's open queue by due time: PostgreSQL only, partial, where it pays (5.2 -> 1.5 ms).
        # SQLite cannot use a partial index for this query and picked the full one over
        # ix_tickets_department_due, reading every closed ticket (1.9 -> 191 ms at 1M; migration 0007).
        Index(
            "ix_tickets_open_queue",
            "department_code",
            "answer_due_at",
            "id",
            postgresql_where=text("status IN ('submitted', 'accepted', 'assigned', 'in_progress', 'reopened')"),
            info={ONLY_ON: ("postgresql",)},
        ).ddl_if(dialect="postgresql"),
        # The console (migration 0011): "mine" by due time, search by phone, the scorecard's
        # cohorts (tickets whose first-round deadline fell in the period).
        Index("ix_tickets_assignee_due", "assignee_staff_id", "status", "answer_due_at"),
        Index("ix_tickets_department_created", "department_code", "created_at"),  # newest first, a date range
        Index("ix_tickets_phone", "phone"),
        Index("ix_tickets_first_respond_due", "first_respond_due_at"),
        Index("ix_tickets_first_answer_due", "first_answer_due_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    intake_key: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    type_code: Mapped[str] = mapped_column(String(32))
    topic_code: Mapped[str] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    details: Mapped[str] = mapped_column(Text)
    media: Mapped[list[Any]]
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    department_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    respond_due_at: Mapped[datetime]
    answer_due_at: Mapped[datetime]
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    answered_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    responded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 督办 ladder's rung: 0 none, 1 黄牌 (department supervisors), 2 红牌 (default department's
    # supervisors and admins); ``escalation_steps`` keeps how it got there (migration 0014).
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    # 公开 (migration 0013): the citizen agreed, at filing or later, to publish the inquiry and its
    # answer without name and contact details; withdrawn with 不公开. Staff may still hide it.
    public_consent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    public_hidden_at: Mapped[datetime | None]
    public_hidden_reason: Mapped[str | None] = mapped_column(Text)
    # Kept for the scorecard (migration 0011): what the deadlines and owners were in the first
    # round, which rework (退回重办), 督办 and 转办 do not overwrite (``tickets.changes``).
    channel: Mapped[str | None] = mapped_column(String(32))  # the citizen's channel at filing
    first_department_code: Mapped[str | None] = mapped_column(String(64))  # routing's choice
    first_respond_due_at: Mapped[datetime | None]
    first_answer_due_at: Mapped[datetime | None]  # with approved 延期 of the first round
    claimed_at: Mapped[datetime | None]  # the first 接单 ever (``responded_at`` resets on 转办)
    first_answered_at: Mapped[datetime | None]  # the first answer (``answered_at`` is the latest)
    transferred_at: Mapped[datetime | None]  # the first 转办 away
    latest_score: Mapped[int | None] = mapped_column(Integer)  # the latest rating's score


class Department(Base):
    """Seeded from the config; ``topics``/``districts`` empty means "any"."""

    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    topics: Mapped[list[Any]]
    districts: Mapped[list[Any]]
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    role: Mapped[str] = mapped_column(String(16))  # handler | supervisor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime]


class StaffIdentity(Base):
    """How a staff member appears on a channel (a Telegram user id, a WeChat openid)."""

    __tablename__ = "staff_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_staff_identity"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))


class StaffToken(Base):
    """Login tokens for the /staff page; only a SHA-256 of the token is kept."""

    __tablename__ = "staff_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in /staff browser. The cookie holds a random session id, not the login token; only
    its SHA-256 is kept. It ends at ``expires_at``, on logout, or when its token is revoked."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("staff_tokens.id"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiKey(Base):
    """An Open311 client's key (``wenzheng apikey add NAME``); only a SHA-256 of it is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only: every staff action, allowed or refused, and every citizen action on a ticket."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Timer(Base):
    """A deadline to act on (remind, escalate, close unrated). Stored, so a restart loses none."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending | done | cancelled
    created_at: Mapped[datetime]


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_month", "created_at", "department_code", "score"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 1 满意, 2 基本满意, 3 不满意
    comment: Mapped[str] = mapped_column(Text, default="")
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class DepartmentDailyStats(Base):
    """Roll-up of ``tickets``: how many tickets a department has in each status, by the local day
    they were created. Month statistics read a few thousand of these rows instead of every ticket
    of the month (BENCHMARKS.md: 47 ms at 1M tickets from ``tickets``). Kept in the transaction of
    every filing, status change and department change (``storage.stats``); ``department_code`` is
    ``''`` for a ticket not routed yet, because a NULL cannot be part of the key."""

    __tablename__ = "department_daily_stats"
    # On SQLite the rows live in the key's order (no rowid), so a month is one range read.
    __table_args__ = ({"sqlite_with_rowid": False},)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)


class DepartmentDailyRatings(Base):
    """Roll-up of ``ratings``: how many a department received on each local day and the sum of
    their scores (so an average over any range of days is exact). Kept with every rating."""

    __tablename__ = "department_daily_ratings"
    __table_args__ = ({"sqlite_with_rowid": False},)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    department_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    ratings: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[int] = mapped_column(Integer)


class TopicCorrection(Base):
    """A label from staff: the topic a ticket should have had (``改类``, or a 转办 to a department
    owning another topic). ``wenzheng model train`` learns from these; the text is the citizen's
    description as it was when corrected. Append-only (migration 0010)."""

    __tablename__ = "topic_corrections"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    type_code: Mapped[str] = mapped_column(String(32))
    old_topic: Mapped[str] = mapped_column(String(32))
    new_topic: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # retopic | transfer
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class EscalationStep(Base):
    """One rung of 督办 taken (a reminder, 黄牌, 红牌, a citizen's 催办, a supervisor's 解除督办),
    append-only and kept with the ticket's department at that moment, so a scorecard counts steps
    per department and day without reading the ticket events (migration 0014)."""

    __tablename__ = "escalation_steps"
    __table_args__ = (Index("ix_escalation_steps_day", "created_at", "department_code", "step"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(16))  # remind | yellow | red | urge | cleared
    level: Mapped[int] = mapped_column(Integer)  # the ticket's rung after this step
    cause: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class TicketFollower(Base):
    """A citizen who, offered an open ticket on the same matter at filing, chose to follow it
    (关注) instead of filing again, or whose own ticket staff linked to it: they get its pushes.
    The ticket counts once in every statistic; a follower is not a ticket (migration 0014)."""

    __tablename__ = "ticket_followers"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), primary_key=True, index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    locale: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # follow | link
    created_at: Mapped[datetime]


class TicketLink(Base):
    """Staff said a ticket is the same matter as an earlier one (关联): its citizen then gets the
    original's progress. Never a merge: both tickets stay, and staff may unlink (取消关联)."""

    __tablename__ = "ticket_links"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class RepeatRequest(Base):
    """重复诉求: a citizen filed the same matter again within 30 days; kept for the scorecard."""

    __tablename__ = "repeat_requests"
    __table_args__ = (Index("ix_repeat_requests_day", "created_at", "department_code"),)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    earlier_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    department_code: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]


class HotTopic(Base):
    """One hot topic of a day's run in one city (``''``: tickets without a city): its words, how
    many tickets raised it in the recent window against the baseline before it, by how many
    different citizens, where, and which tickets. A day's rows are replaced when it is re-run."""

    __tablename__ = "hot_topics"
    __table_args__ = (UniqueConstraint("day", "city", "rank", name="uq_hot_topic_rank"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    city: Mapped[str] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(32))  # None: city-wide
    rank: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(128))
    words: Mapped[list[Any]]
    recent: Mapped[int] = mapped_column(Integer)  # tickets in the recent window
    baseline: Mapped[int] = mapped_column(Integer)  # tickets in the window before it
    growth: Mapped[float] = mapped_column(Float)  # burst ratio, per day recent over per day baseline
    citizens: Mapped[int] = mapped_column(Integer)
    districts: Mapped[dict[str, Any]]
    numbers: Mapped[list[Any]]
    created_at: Mapped[datetime]


class HotTopicRun(Base):
    """A daily hot-topic run, claimed by inserting its day (one worker runs it) and timed."""

    __tablename__ = "hot_topic_runs"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class HotTopicSubscription(Base):
    """A supervisor who gets the daily hot-topic digest in their chat apps (订阅热点)."""

    __tablename__ = "hot_topic_subscriptions"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    created_at: Mapped[datetime]


class ScorecardSnapshot(Base):
    """A scorecard as computed at ``computed_at`` for one period and grouping (migration 0015): the
    console and /public read it instead of counting a month of tickets on every request."""

    __tablename__ = "scorecard_snapshots"
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date, primary_key=True)
    grouping: Mapped[str] = mapped_column(String(16), primary_key=True)
    computed_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


class ConsoleView(Base):
    """A staff member's saved desk filter: a name and the desk's query string (migration 0012)."""

    __tablename__ = "console_views"
    __table_args__ = (UniqueConstraint("staff_id", "name", name="uq_console_view_name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    name: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class TicketEvent(Base):
    """Append-only history: rows are inserted, never updated or deleted."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class TicketSequence(Base):
    """One row per local day; the counter behind ``WZ20261122-0007``."""

    __tablename__ = "ticket_sequences"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class OutboxMessage(Base):
    """Every message that is not an inline reply. Written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_chat_order", "channel", "chat_id", "id"),  # one chat's messages, in order
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    purpose: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))  # the worker sending it (``outbox_workers.id``)


class OutboxWorkerBeat(Base):
    """A live outbox worker's heartbeat: rows leased by a worker whose beat went stale (it died
    mid-send) are claimed again at once instead of after the whole lease."""

    __tablename__ = "outbox_workers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class SentMessage(Base):
    """A platform's id for a message we sent about a ticket: a staff reply to that message (a
    card in a Telegram group) is traced back to the ticket through it."""

    __tablename__ = "sent_messages"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "platform_id", name="uq_sent_message"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    platform_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime]


class WebchatMailbox(Base):
    """Pushed messages for the web chat, read by the page's event stream. ``outbox_id`` is unique
    so a retried delivery of the same outbox row cannot show twice."""

    __tablename__ = "webchat_mailbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(String(128), index=True)
    outbox_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
