"""The mayor's scorecard: 签收率, 响应率, 办结率, 按时办结率, 满意率, 参评率, 重办率, 回退率, 督办, median
handling time, and the counts of 重复诉求 and of the 督办 ladder's steps, per department, handler,
topic or district, for any range of local days.

What "due" means, and every definition (the one place they are written; ``wenzheng report month``,
the console and the exports all read them from here; ``DEFINITIONS`` says them in Chinese and
English for the pages and the reports):

* The period is ``start``..``end``, local days in the service's time zone, both inclusive; given
  ``now``, it ends there too (a deadline later this month has not fallen yet: the month so far).
* Tickets withdrawn by the citizen or merged as duplicates (关联: a 重复件) are left out of every
  figure and every count: nothing was owed on them, and the matter is counted on the original.
* **Respond-due** tickets: those whose *first-round* respond deadline (``first_respond_due_at``,
  kept by migration 0011: rework and 督办 do not move it) fell in the period.
* **Answer-due** tickets: those whose first-round answer deadline (``first_answer_due_at``, moved
  only by an approved 延期 in the first round) fell in the period.
* 签收率 = respond-due tickets first claimed (接单, ``claimed_at``) at or before that deadline ÷
  respond-due tickets.
* 响应率 = respond-due tickets with a first contact (claim or answer: both reach the citizen) within
  8 hours of filing ÷ respond-due tickets.
* 回退率 = respond-due tickets transferred away (转办) at least once ÷ respond-due tickets; by
  department, a ticket counts for the department routing first gave it to (the one that received
  it and passed it on).
* 办结率 = answer-due tickets concluded (answered, or 不予受理) ÷ answer-due tickets; 按时办结率 =
  those concluded at or before the first-round answer deadline ÷ answer-due tickets.
* 满意率 = answer-due tickets whose *latest* rating is 满意 or 基本满意 ÷ answer-due tickets rated
  (each ticket once, with its latest rating: two 不满意 on one ticket count once).
* 参评率 = answer-due tickets rated ÷ answer-due tickets answered.
* 重办率 = answer-due tickets reopened after 不满意 (退回重办) ÷ answer-due tickets answered.
* 督办 = answer-due tickets that were ever put under 督办 (a 黄牌 or 红牌 in ``escalation_steps``;
  for tickets from before that table, the ``escalated`` flag) ÷ answer-due tickets. A supervisor's
  解除督办 does not take it back: the card was shown, so it counts.
* Median handling time = the median, over answer-due tickets answered, of the hours from filing to
  the first answer.

Counts (``Tally``): events that happened in the period, not a cohort, so they have no rate:

* 重复诉求 = tickets filed in the period that were flagged as the same citizen's same matter again
  (``repeat_requests``); by department, where the repeat was filed.
* 提醒, 黄牌, 红牌 = the 督办 ladder's steps taken in the period (``escalation_steps``): reminders
  before a deadline, yellow cards at a passed deadline (or a second 不满意, or a 催办 after the
  deadline), red cards; 催办 = citizens' 催办 that counted (one per ticket per interval), before
  or after the deadline. By department, a step counts where it was taken (the department the
  ticket was in then), so a 黄牌 stays with the department that missed the deadline.

Grouping: by the ticket's current department (回退率: its first department; the counts: see
above), by handler (who answered it, else who holds it), by topic, by district. ``None`` keys are
"not routed" / "nobody" / "unknown district".

For console-web: ``scorecard(session, start=, end=, tz=, by=, now=)`` -> ``Scorecard``; each
``ScoreRow.figures[Kpi.X]`` is a ``Figure`` with ``numerator``, ``denominator`` and ``rate``, and
``ScoreRow.tallies[Tally.X]`` a count; the tickets behind a figure: ``tickets_behind(session,
start=, end=, tz=, by=, key=row.key, kpi=, part=Part.NUMERATOR, now=)`` (a count: ``tally_behind``)
-> ticket numbers, shown with ``QueueFilter(numbers=..., statuses=())``.
Speed: each cohort is a range on ``ix_tickets_first_respond_due`` / ``ix_tickets_first_answer_due``;
the counts are ranges on ``ix_escalation_steps_day`` / ``ix_repeat_requests_day``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import EscalationStep, RepeatRequest, Staff, Ticket
from tickets.escalation import Step
from tickets.lifecycle import Status

RESPONSE_WINDOW = timedelta(hours=8)  # 响应率: first contact within 8 hours of filing
SATISFIED_SCORES = (1, 2)  # 满意, 基本满意
LEFT_OUT = (Status.WITHDRAWN.value, Status.DUPLICATE.value)
BEHIND_LIMIT = 5_000
UNLIMITED = 2**62


class GroupBy(StrEnum):
    DEPARTMENT = "department"
    HANDLER = "handler"
    TOPIC = "topic"
    DISTRICT = "district"


class Cohort(StrEnum):
    RESPOND = "respond"  # first respond deadline in the period
    ANSWER = "answer"  # first answer deadline in the period


class Kpi(StrEnum):
    CLAIM_RATE = "claim_rate"  # 签收率
    RESPONSE_RATE = "response_rate"  # 响应率
    TRANSFER_RATE = "transfer_rate"  # 回退率
    CONCLUSION_RATE = "conclusion_rate"  # 办结率
    ON_TIME_RATE = "on_time_rate"  # 按时办结率
    SATISFACTION_RATE = "satisfaction_rate"  # 满意率
    RATING_RATE = "rating_rate"  # 参评率
    REWORK_RATE = "rework_rate"  # 重办率
    ESCALATIONS = "escalations"  # 督办


KPI_NAMES: Mapping[Kpi, Mapping[str, str]] = MappingProxyType(
    {
        Kpi.CLAIM_RATE: {"zh": "签收率", "en": "Claimed on time"},
        Kpi.RESPONSE_RATE: {"zh": "响应率", "en": "Responded within 8 h"},
        Kpi.TRANSFER_RATE: {"zh": "回退率", "en": "Transferred away"},
        Kpi.CONCLUSION_RATE: {"zh": "办结率", "en": "Concluded"},
        Kpi.ON_TIME_RATE: {"zh": "按时办结率", "en": "Concluded on time"},
        Kpi.SATISFACTION_RATE: {"zh": "满意率", "en": "Satisfied"},
        Kpi.RATING_RATE: {"zh": "参评率", "en": "Rated"},
        Kpi.REWORK_RATE: {"zh": "重办率", "en": "Reworked"},
        Kpi.ESCALATIONS: {"zh": "督办", "en": "Escalated (督办)"},
    }
)
MEDIAN_NAME: Mapping[str, str] = MappingProxyType({"zh": "办理时长中位数(小时)", "en": "Median hours to answer"})


class Tally(StrEnum):
    """Counts of what happened in the period (no cohort, no rate): see the module docstring."""

    REPEAT_REQUESTS = "repeat_requests"  # 重复诉求
    REMINDERS = "reminders"  # 提醒: the ladder's first rung
    YELLOW_CARDS = "yellow_cards"  # 黄牌
    RED_CARDS = "red_cards"  # 红牌
    URGES = "urges"  # 催办


TALLY_NAMES: Mapping[Tally, Mapping[str, str]] = MappingProxyType(
    {
        Tally.REPEAT_REQUESTS: {"zh": "重复诉求", "en": "Repeat requests"},
        Tally.REMINDERS: {"zh": "提醒", "en": "Reminders"},
        Tally.YELLOW_CARDS: {"zh": "黄牌", "en": "Yellow cards"},
        Tally.RED_CARDS: {"zh": "红牌", "en": "Red cards"},
        Tally.URGES: {"zh": "催办", "en": "Chased by citizens (催办)"},
    }
)

# Each figure's definition in words, Chinese and English: the console's scorecard shows them, the
# report prints them and the workbook carries them on a sheet of their own.
DEFINITIONS: Mapping[Kpi | Tally | str, tuple[str, str]] = MappingProxyType(
    {
        Kpi.CLAIM_RATE: (
            "首轮签收时限落在期间内的工单中，在时限前签收的比例。",
            "Of the tickets whose first respond deadline fell in the period, those claimed by it.",
        ),
        Kpi.RESPONSE_RATE: (
            "同上工单中，提交后 8 小时内签收或答复的比例。",
            "Of the same tickets, those claimed or answered within 8 hours of filing.",
        ),
        Kpi.TRANSFER_RATE: (
            "同上工单中，被转办出去的比例（按首个承办部门统计）。",
            "Of the same tickets, those transferred away (counted for the department that received them first).",
        ),
        Kpi.CONCLUSION_RATE: (
            "首轮办结时限落在期间内的工单中，已答复或不予受理的比例。",
            "Of the tickets whose first answer deadline fell in the period, those answered or rejected.",
        ),
        Kpi.ON_TIME_RATE: (
            "同上工单中，在首轮办结时限前答复或不予受理的比例。",
            "Of the same tickets, those answered or rejected by that deadline.",
        ),
        Kpi.SATISFACTION_RATE: (
            "同上工单中已评价的，最后一次评价为满意或基本满意的比例。",
            "Of the same tickets rated, those whose latest rating is satisfied or mostly satisfied.",
        ),
        Kpi.RATING_RATE: (
            "同上工单中已答复的，市民作出评价的比例。",
            "Of the same tickets answered, those the citizen rated.",
        ),
        Kpi.REWORK_RATE: (
            "同上工单中已答复的，因不满意退回重办的比例。",
            "Of the same tickets answered, those sent back for rework after a 不满意.",
        ),
        Kpi.ESCALATIONS: (
            "同上工单中，曾被黄牌或红牌督办的件数（解除督办后仍计入）。",
            "Of the same tickets, those that ever got a yellow or red card (still counted after the card was cleared).",
        ),
        Tally.REPEAT_REQUESTS: (
            "期间内同一市民 30 天内再次反映同一问题的件数，计入受理该件的部门。",
            "Tickets filed in the period by a citizen raising the same matter again within 30 days, "
            "counted for the department that received the repeat.",
        ),
        Tally.REMINDERS: (
            "期间内到期前发给承办人的提醒次数。",
            "Reminders sent to handlers before a deadline in the period.",
        ),
        Tally.YELLOW_CARDS: (
            "期间内的黄牌督办次数（超期、第二次不满意或超期催办），计入当时的承办部门。",
            "Yellow cards in the period (a passed deadline, a second 不满意, or a 催办 after the deadline), "
            "counted for the department the ticket was in then.",
        ),
        Tally.RED_CARDS: (
            "期间内的红牌督办次数，计入当时的承办部门。",
            "Red cards in the period, counted for the department the ticket was in then.",
        ),
        Tally.URGES: (
            "期间内市民有效催办的次数（到期前提醒承办人，超期则督办升级）。",
            "Citizens' 催办 that counted in the period (before the deadline a reminder, after it a card).",
        ),
        "median": (
            "首轮办结时限落在期间内且已答复的工单，从提交到首次答复的小时数中位数。",
            "Of the tickets due an answer in the period and answered, the median hours from filing to "
            "the first answer.",
        ),
        "left_out": (
            "市民撤回的工单和关联为重复件的工单不计入任何指标。",
            "Tickets the citizen withdrew and tickets linked as duplicates are left out of every figure.",
        ),
    }
)


def definitions(locale: str) -> list[tuple[str, str]]:
    """(name, definition) for every figure and count, in the table's order, then the general rule."""
    lang = "en" if locale == "en" else "zh"
    pick = 1 if lang == "en" else 0
    named: list[tuple[str, str]] = [(KPI_NAMES[k][lang], DEFINITIONS[k][pick]) for k in Kpi]
    named += [(TALLY_NAMES[c][lang], DEFINITIONS[c][pick]) for c in Tally]
    named.append((MEDIAN_NAME[lang], DEFINITIONS["median"][pick]))
    named.append(("", DEFINITIONS["left_out"][pick]))
    return named


class Part(StrEnum):
    NUMERATOR = "numerator"
    DENOMINATOR = "denominator"


def _concluded_at() -> ColumnElement[Any]:
    return func.coalesce(
        Ticket.first_answered_at, case((Ticket.status == Status.REJECTED.value, Ticket.closed_at), else_=None)
    )


def _answered() -> ColumnElement[bool]:
    return Ticket.first_answered_at.is_not(None)


def _rated() -> ColumnElement[bool]:
    return Ticket.latest_score.is_not(None)


def _always() -> ColumnElement[bool]:
    return Ticket.id.is_not(None)


@dataclass(frozen=True, slots=True)
class KpiRule:
    """A figure: among the cohort's tickets that meet ``base`` (the denominator), those that also
    meet ``hit`` (the numerator)."""

    cohort: Cohort
    base: Callable[[], ColumnElement[bool]]
    hit: Callable[[str], ColumnElement[bool]]  # given the SQL dialect (time arithmetic differs)


def _hours(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _claimed_on_time(dialect: str) -> ColumnElement[bool]:
    return and_(Ticket.claimed_at.is_not(None), Ticket.claimed_at <= Ticket.first_respond_due_at)


def _contacted_in_window(dialect: str) -> ColumnElement[bool]:
    contact = func.coalesce(Ticket.claimed_at, Ticket.first_answered_at)
    window = RESPONSE_WINDOW / timedelta(hours=1)
    return and_(contact.is_not(None), _hours(dialect, contact, Ticket.created_at) <= window)


def _concluded_on_time(dialect: str) -> ColumnElement[bool]:
    return and_(_concluded_at().is_not(None), _concluded_at() <= Ticket.first_answer_due_at)


CARD_STEPS = (Step.YELLOW.value, Step.RED.value)


def _carded(dialect: str) -> ColumnElement[bool]:
    """Ever under 督办: a 黄牌/红牌 step (one probe of ``ix_escalation_steps_ticket_id``), which a
    later 解除督办 does not remove; ``escalated`` for tickets escalated before steps were kept
    (migration 0014)."""
    card = exists().where(EscalationStep.ticket_id == Ticket.id, EscalationStep.step.in_(CARD_STEPS))
    return or_(Ticket.escalated.is_(True), card)


RULES: Mapping[Kpi, KpiRule] = MappingProxyType(
    {
        Kpi.CLAIM_RATE: KpiRule(Cohort.RESPOND, _always, _claimed_on_time),
        Kpi.RESPONSE_RATE: KpiRule(Cohort.RESPOND, _always, _contacted_in_window),
        Kpi.TRANSFER_RATE: KpiRule(Cohort.RESPOND, _always, lambda d: Ticket.transferred_at.is_not(None)),
        Kpi.CONCLUSION_RATE: KpiRule(Cohort.ANSWER, _always, lambda d: _concluded_at().is_not(None)),
        Kpi.ON_TIME_RATE: KpiRule(Cohort.ANSWER, _always, _concluded_on_time),
        Kpi.SATISFACTION_RATE: KpiRule(Cohort.ANSWER, _rated, lambda d: Ticket.latest_score.in_(SATISFIED_SCORES)),
        Kpi.RATING_RATE: KpiRule(Cohort.ANSWER, _answered, lambda d: _rated()),
        Kpi.REWORK_RATE: KpiRule(Cohort.ANSWER, _answered, lambda d: Ticket.rework_count > 0),
        Kpi.ESCALATIONS: KpiRule(Cohort.ANSWER, _always, _carded),
    }
)


@dataclass(frozen=True, slots=True)
class Figure:
    kpi: Kpi
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """numerator ÷ denominator, None when nothing was due (not 0 %, not 100 %)."""
        return None if self.denominator == 0 else self.numerator / self.denominator


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreRow:
    key: str | None  # department code, staff id (as text), topic code or district; None: see above
    label: str | None  # the handler's name for GroupBy.HANDLER; console-web names the others
    figures: Mapping[Kpi, Figure]
    median_hours: float | None  # filing to first answer, answer-due tickets answered
    respond_due: int  # tickets in the respond cohort
    answer_due: int  # tickets in the answer cohort
    tallies: Mapping[Tally, int]  # every ``Tally``, 0 when none


@dataclass(frozen=True, slots=True, kw_only=True)
class Scorecard:
    start: date
    end: date
    by: GroupBy
    rows: tuple[ScoreRow, ...]  # by key, None last
    total: ScoreRow


def bounds(start: date, end: date, tz: ZoneInfo, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period as [first moment, moment after the last day) in local time, cut at ``now``."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    high = datetime.combine(end + timedelta(days=1), time(0), tz)
    return datetime.combine(start, time(0), tz), high if now is None else min(high, now)


def _cohort_column(cohort: Cohort) -> Any:
    return Ticket.first_respond_due_at if cohort is Cohort.RESPOND else Ticket.first_answer_due_at


def _group_column(by: GroupBy, kpi: Kpi | None) -> Any:
    match by:
        case GroupBy.DEPARTMENT:
            return Ticket.first_department_code if kpi is Kpi.TRANSFER_RATE else Ticket.department_code
        case GroupBy.HANDLER:
            return func.coalesce(Ticket.answered_by_staff_id, Ticket.assignee_staff_id)
        case GroupBy.TOPIC:
            return Ticket.topic_code
        case GroupBy.DISTRICT:
            return Ticket.district


def _in_cohort(cohort: Cohort, low: datetime, high: datetime) -> list[ColumnElement[bool]]:
    column = _cohort_column(cohort)
    return [column >= low, column < high, Ticket.status.not_in(LEFT_OUT)]


def _key(value: object) -> str | None:
    return None if value is None else str(value)


def _cohort_flag(cohort: Cohort, low: datetime, high: datetime) -> ColumnElement[bool]:
    column = _cohort_column(cohort)
    return and_(column >= low, column < high)


async def _count(
    session: AsyncSession, by: GroupBy, low: datetime, high: datetime
) -> dict[str | None, dict[Kpi, Figure]]:
    """One pass over both cohorts (an OR of two index ranges): numerator and denominator of every
    KPI per group. By department the rows are (department, first department) pairs, so 回退率 can be
    counted where the ticket was received and the rest where it is now."""
    dialect = session.get_bind().dialect.name
    either = or_(_cohort_flag(Cohort.RESPOND, low, high), _cohort_flag(Cohort.ANSWER, low, high))
    # Each row's conditions once, as 0/1 (the LIMIT keeps SQLite from folding them back into every
    # sum): about half the work of evaluating them inside the sums.
    flags: list[Any] = [_group_column(by, None).label("g"), _group_column(by, Kpi.TRANSFER_RATE).label("g2")]
    for i, kpi in enumerate(Kpi):
        rule = RULES[kpi]
        flags.append(case((and_(_cohort_flag(rule.cohort, low, high), rule.base()), 1), else_=0).label(f"b{i}"))
        flags.append(case((rule.hit(dialect), 1), else_=0).label(f"h{i}"))
    rows = select(*flags).where(either, Ticket.status.not_in(LEFT_OUT)).limit(UNLIMITED).subquery()
    columns: list[Any] = [rows.c.g, rows.c.g2]
    for i, _ in enumerate(Kpi):
        columns += [func.sum(rows.c[f"b{i}"] * rows.c[f"h{i}"]), func.sum(rows.c[f"b{i}"])]
    stmt = select(*columns).group_by(rows.c.g, rows.c.g2)
    found: dict[str | None, dict[Kpi, tuple[int, int]]] = {}
    for row in (await session.execute(stmt)).all():
        for i, kpi in enumerate(Kpi):
            key = _key(row[1] if kpi is Kpi.TRANSFER_RATE else row[0])
            numerator, denominator = int(row[2 + 2 * i] or 0), int(row[3 + 2 * i] or 0)
            if denominator:
                before = found.setdefault(key, {}).get(kpi, (0, 0))
                found[key][kpi] = (before[0] + numerator, before[1] + denominator)
    return {key: {k: Figure(k, n, d) for k, (n, d) in figures.items()} for key, figures in found.items()}


async def _durations(
    session: AsyncSession, by: GroupBy, low: datetime, high: datetime
) -> dict[str | None, Counter[float]]:
    """Hours from filing to the first answer per group, counted per tenth of an hour (so a month
    is a few thousand rows, not one per ticket): the median is exact to 6 minutes."""
    dialect = session.get_bind().dialect.name
    group = _group_column(by, None).label("g")
    tenths = cast(func.round(_hours(dialect, Ticket.first_answered_at, Ticket.created_at) * 10), Integer).label("t")
    stmt = (
        select(group, tenths, func.count())
        .where(*_in_cohort(Cohort.ANSWER, low, high), _answered())
        .group_by(group, tenths)
    )
    found: dict[str | None, Counter[float]] = {}
    for key, value, count in (await session.execute(stmt)).all():
        found.setdefault(_key(key), Counter())[int(value) / 10] += int(count)
    return found


def _tally_group(by: GroupBy, department: Any) -> Any:
    """A count's group: by department where it happened (the row's stored department), else as
    the figures (the ticket's handler, topic, district)."""
    return department if by is GroupBy.DEPARTMENT else _group_column(by, None)


def _step_flags() -> dict[Tally, ColumnElement[bool]]:
    urged = and_(EscalationStep.cause == "urge", EscalationStep.step.in_((Step.URGE.value, *CARD_STEPS)))
    return {
        Tally.REMINDERS: EscalationStep.step == Step.REMIND.value,
        Tally.YELLOW_CARDS: EscalationStep.step == Step.YELLOW.value,
        Tally.RED_CARDS: EscalationStep.step == Step.RED.value,
        Tally.URGES: urged,
    }


def _step_where(low: datetime, high: datetime) -> list[ColumnElement[bool]]:
    return [EscalationStep.created_at >= low, EscalationStep.created_at < high, Ticket.status.not_in(LEFT_OUT)]


def _repeat_where(low: datetime, high: datetime) -> list[ColumnElement[bool]]:
    return [RepeatRequest.created_at >= low, RepeatRequest.created_at < high, Ticket.status.not_in(LEFT_OUT)]


async def _tallies(
    session: AsyncSession, by: GroupBy, low: datetime, high: datetime
) -> dict[str | None, dict[Tally, int]]:
    """Steps and 重复诉求 in the period per group: two range reads, each joined to its ticket (for
    the grouping and to leave out withdrawn tickets and 重复件)."""
    found: dict[str | None, dict[Tally, int]] = {}
    flags = _step_flags()
    group = _tally_group(by, EscalationStep.department_code).label("g")
    stmt = (
        select(group, *(func.sum(case((flag, 1), else_=0)) for flag in flags.values()))
        .select_from(EscalationStep)
        .join(Ticket, Ticket.id == EscalationStep.ticket_id)
        .where(*_step_where(low, high))
        .group_by(group)
    )
    for row in (await session.execute(stmt)).all():
        counts = found.setdefault(_key(row[0]), {})
        for i, tally in enumerate(flags):
            counts[tally] = counts.get(tally, 0) + int(row[1 + i] or 0)
    group = _tally_group(by, RepeatRequest.department_code).label("g")
    stmt = (
        select(group, func.count())
        .select_from(RepeatRequest)
        .join(Ticket, Ticket.id == RepeatRequest.ticket_id)
        .where(*_repeat_where(low, high))
        .group_by(group)
    )
    for key, count in (await session.execute(stmt)).all():
        counts = found.setdefault(_key(key), {})
        counts[Tally.REPEAT_REQUESTS] = counts.get(Tally.REPEAT_REQUESTS, 0) + int(count)
    return {key: counts for key, counts in found.items() if any(counts.values())}


async def _handler_names(session: AsyncSession, keys: set[str | None]) -> dict[str, str]:
    ids = [int(k) for k in keys if k is not None and k.isdigit()]
    if not ids:
        return {}
    rows = await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    return {str(i): str(n) for i, n in rows.all()}


def _median(counts: Counter[float]) -> float | None:
    """The median of values given with their counts (the mean of the two middle ones if even)."""
    total = sum(counts.values())
    if total == 0:
        return None
    wanted = ((total - 1) // 2, total // 2)  # positions of the middle value(s), from 0
    found: list[float] = []
    seen = 0
    for value in sorted(counts):
        after = seen + counts[value]
        found += [value for position in wanted if seen <= position < after]
        seen = after
    return sum(found) / 2


async def scorecard(
    session: AsyncSession, *, start: date, end: date, tz: ZoneInfo, by: GroupBy, now: datetime | None = None
) -> Scorecard:
    """The figures of every group and the total (see the module docstring); pass ``now`` for a
    period that is not over yet."""
    low, high = bounds(start, end, tz, now)
    merged = await _count(session, by, low, high)
    durations = await _durations(session, by, low, high)
    tallies = await _tallies(session, by, low, high)
    keys = set(merged) | set(durations) | set(tallies)
    names = await _handler_names(session, keys) if by is GroupBy.HANDLER else {}

    def row(
        key: str | None, figures: Mapping[Kpi, Figure], hours: Counter[float], counts: Mapping[Tally, int]
    ) -> ScoreRow:
        complete = {k: figures.get(k, Figure(k, 0, 0)) for k in Kpi}
        return ScoreRow(
            key=key,
            label=names.get(key) if key is not None else None,
            figures=MappingProxyType(complete),
            median_hours=_median(hours),
            respond_due=complete[Kpi.CLAIM_RATE].denominator,
            answer_due=complete[Kpi.CONCLUSION_RATE].denominator,
            tallies=MappingProxyType({c: counts.get(c, 0) for c in Tally}),
        )

    ordered = sorted(keys, key=lambda k: (k is None, k or ""))
    rows = tuple(row(k, merged.get(k, {}), durations.get(k, Counter()), tallies.get(k, {})) for k in ordered)
    totals = {
        kpi: Figure(
            kpi,
            sum(r.figures[kpi].numerator for r in rows),
            sum(r.figures[kpi].denominator for r in rows),
        )
        for kpi in Kpi
    }
    every_duration: Counter[float] = Counter()
    for hours in durations.values():
        every_duration.update(hours)
    counted = {c: sum(r.tallies[c] for r in rows) for c in Tally}
    return Scorecard(start=start, end=end, by=by, rows=rows, total=row(None, totals, every_duration, counted))


async def tickets_behind(
    session: AsyncSession,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    by: GroupBy,
    key: str | None,
    kpi: Kpi,
    part: Part,
    whole: bool = False,
    limit: int = BEHIND_LIMIT,
    now: datetime | None = None,
) -> list[str]:
    """The numbers of the tickets counted in a figure (``part``) of one row (``key``; ``whole``:
    the total row), by number, the same conditions as ``scorecard`` uses."""
    low, high = bounds(start, end, tz, now)
    rule = RULES[kpi]
    dialect = session.get_bind().dialect.name
    where = [*_in_cohort(rule.cohort, low, high), rule.base()]
    if part is Part.NUMERATOR:
        where.append(RULES[kpi].hit(dialect))
    if not whole:
        group = _group_column(by, kpi)
        where.append(group.is_(None) if key is None else cast(group, Ticket.number.type) == key)
    stmt = select(Ticket.number).where(*where).order_by(Ticket.number).limit(limit)
    return [str(n) for n in (await session.execute(stmt)).scalars()]


async def tally_behind(
    session: AsyncSession,
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
    by: GroupBy,
    key: str | None,
    tally: Tally,
    whole: bool = False,
    limit: int = BEHIND_LIMIT,
    now: datetime | None = None,
) -> list[str]:
    """The numbers of the tickets behind a count (a ticket with two reminders is listed once), by
    number, with the conditions ``scorecard`` counts with."""
    low, high = bounds(start, end, tz, now)
    if tally is Tally.REPEAT_REQUESTS:
        table: Any = RepeatRequest
        where = [*_repeat_where(low, high)]
    else:
        table = EscalationStep
        where = [*_step_where(low, high), _step_flags()[tally]]
    if not whole:
        group = _tally_group(by, table.department_code)
        where.append(group.is_(None) if key is None else cast(group, Ticket.number.type) == key)
    stmt = (
        select(Ticket.number)
        .select_from(table)
        .join(Ticket, Ticket.id == table.ticket_id)
        .where(*where)
        .distinct()
        .order_by(Ticket.number)
        .limit(limit)
    )
    return [str(n) for n in (await session.execute(stmt)).scalars()]
