"""The scorecard against figures counted by hand from the stories in ``month.py``.

Respond-due in November (first respond deadline in the month; T10 is a duplicate, T13's was in
October, T14's is 12-01 04:00): T1 T2 T3 T4 T5 T6 T7 T8 T9 T11 T12 T16 = 12.
  签收 (claimed by the first deadline): all but T2 (late), T6 (never), T9 (rejected unclaimed) = 9.
  响应 (claimed or answered within 8 h of filing): those 9 less T16 (12 h, its deadline is 24 h) = 8.
  回退: T5 = 1.
Answer-due in November (first answer deadline, with T7's 延期 to 11-27; T12's is 12-02, T13's
11-10): T1 T2 T3 T4 T5 T6 T7 T8 T9 T11 T13 T16 = 12.
  办结 (answered or 不予受理): all but T6 = 11; on time: less T3 (answered 11-13, due 11-11) = 10.
  Answered: the 11 less T9 = 10. Rated (latest rating): T1 1, T2 2, T3 1, T4 2, T7 1, T11 3, T13 1,
  T16 2 = 8 (T5, T8 expired unrated); 满意 or 基本满意: 7. 重办 (reopened after 不满意): T3 T4 T11.
  督办: T2 and T6 (respond deadline), T3 (answer deadline), T4 (second 不满意), T11 (its rework
  deadline 11-26) = 5. T2's was cleared (解除督办) the next morning: it still counts.
  Hours from filing to the first answer: 25 48 263 24 48 384 24 24 168 48 -> median 48.
Counts of November's events (the 督办 ladder's steps where they were taken, 重复诉求 where filed):
  提醒 (a deadline 4 h away, or the last office moment before): T2 13:00, T6 13:00, T16 11-16 18:00
  (its 24-h respond deadline falls at 09:00 the next day), T3 11-11 18:00, T6 11-18 18:00, T11
  11-26 18:00 = 6 urban's; T5 15:00, after its 转办 at 11:00 reset the respond deadline (urban's
  13:00 one was cancelled; 王五 claimed at 15:00, just after it) = 1 transport's.
  黄牌: T2, T6 (respond deadline), T3, T11 (answer deadline), T4 (second 不满意) = 5.
  红牌 two working days later, still open: T6 11-11, T3 11-13 (reopened by 不满意 that noon), T11 11-30
  = 3; T2 was answered and T4 closed before theirs. 催办: none. 重复诉求: T14 (T1's citizen again) = 1.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select

from storage.models import Rating, Staff, Ticket
from tests.tickets.console.month import END, START, TZ, Month, at, november
from tickets.console.scorecard import Figure, GroupBy, Kpi, Part, Tally, scorecard, tally_behind, tickets_behind

__all__ = ["november"]

TOTAL = {
    Kpi.CLAIM_RATE: (9, 12),
    Kpi.RESPONSE_RATE: (8, 12),
    Kpi.TRANSFER_RATE: (1, 12),
    Kpi.CONCLUSION_RATE: (11, 12),
    Kpi.ON_TIME_RATE: (10, 12),
    Kpi.SATISFACTION_RATE: (7, 8),
    Kpi.RATING_RATE: (8, 10),
    Kpi.REWORK_RATE: (3, 10),
    Kpi.ESCALATIONS: (5, 12),
}


def _pairs(figures: Mapping[Kpi, Figure]) -> dict[Kpi, tuple[int, int]]:
    return {k: (f.numerator, f.denominator) for k, f in figures.items()}


async def test_each_kpi_matches_the_hand_count(november: Month) -> None:
    async with november.services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT)
    assert _pairs(card.total.figures) == TOTAL
    assert card.total.median_hours == 48.0
    assert (card.total.respond_due, card.total.answer_due) == (12, 12)
    assert card.total.figures[Kpi.SATISFACTION_RATE].rate == 7 / 8


async def test_by_department_the_transfer_counts_where_it_was_received(november: Month) -> None:
    async with november.services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT)
    rows = {r.key: r for r in card.rows}
    assert set(rows) == {"urban", "transport"}
    transport = _pairs(rows["transport"].figures)
    assert transport[Kpi.CLAIM_RATE] == (1, 1) and transport[Kpi.RESPONSE_RATE] == (1, 1)
    assert transport[Kpi.TRANSFER_RATE] == (0, 0)  # it received nothing from routing
    assert transport[Kpi.SATISFACTION_RATE] == (0, 0) and rows["transport"].figures[Kpi.SATISFACTION_RATE].rate is None
    assert transport[Kpi.RATING_RATE] == (0, 1)
    urban = _pairs(rows["urban"].figures)
    assert urban[Kpi.CLAIM_RATE] == (8, 11) and urban[Kpi.RESPONSE_RATE] == (7, 11)
    assert urban[Kpi.TRANSFER_RATE] == (1, 12)  # T5 left urban, where routing put it
    assert urban[Kpi.ESCALATIONS] == (5, 11)


async def test_by_handler_and_district(november: Month) -> None:
    async with november.services.sessions() as session:
        by_handler = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.HANDLER)
        by_district = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DISTRICT)
        sun = (await session.execute(select(Staff.id).where(Staff.name == "孙七"))).scalar_one()
    handlers = {r.label: r for r in by_handler.rows}
    assert set(handlers) == {"张三", "孙七", "王五", None}  # None: T6 and T9, nobody took them
    assert handlers["孙七"].key == str(sun)
    assert _pairs(handlers["孙七"].figures)[Kpi.REWORK_RATE] == (1, 1)
    assert _pairs(handlers["孙七"].figures)[Kpi.SATISFACTION_RATE] == (0, 1)
    north = next(r for r in by_district.rows if r.key == "市北区")
    assert (north.respond_due, north.answer_due) == (2, 2)  # T5 and T11
    assert north.median_hours == (48 + 24) / 2


async def test_the_tickets_behind_a_figure(november: Month) -> None:
    n = november.numbers
    async with november.services.sessions() as session:

        async def behind(kpi: Kpi, part: Part, key: str | None = None, whole: bool = True) -> set[str]:
            found = await tickets_behind(
                session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, key=key, kpi=kpi, part=part, whole=whole
            )
            return set(found)

        assert await behind(Kpi.ESCALATIONS, Part.NUMERATOR) == {n[k] for k in ("T2", "T3", "T4", "T6", "T11")}
        assert await behind(Kpi.CLAIM_RATE, Part.DENOMINATOR) - await behind(Kpi.CLAIM_RATE, Part.NUMERATOR) == {
            n[k] for k in ("T2", "T6", "T9")
        }
        assert await behind(Kpi.TRANSFER_RATE, Part.NUMERATOR, "urban", whole=False) == {n["T5"]}
        assert await behind(Kpi.SATISFACTION_RATE, Part.DENOMINATOR, "transport", whole=False) == set()


async def test_the_first_round_survives_rework_and_escalation(november: Month) -> None:
    """The bug of issue #15: 不满意 and 督办 overwrote the respond deadline; 响应率 lost it."""
    n = november.numbers
    async with november.services.sessions() as session:
        t4 = (await session.execute(select(Ticket).where(Ticket.number == n["T4"]))).scalar_one()
        ratings = (await session.execute(select(func.count()).where(Rating.ticket_id == t4.id))).scalar_one()
    assert ratings == 3 and t4.latest_score == 2 and t4.rework_count == 2 and t4.escalated
    assert t4.first_respond_due_at == at(11, 3, 17)  # filed 09:00 + 8 h, whatever happened since
    assert t4.respond_due_at == at(11, 5, 18)  # the current round's: the second 不满意 + 8 h
    assert t4.claimed_at == at(11, 3, 9, 30) and t4.first_answered_at == at(11, 4, 9)


async def test_an_empty_period_has_no_rates_not_zero(november: Month) -> None:
    async with november.services.sessions() as session:
        card = await scorecard(
            session, start=START.replace(year=2025), end=END.replace(year=2025), tz=TZ, by=GroupBy.TOPIC
        )
    assert card.rows == ()
    assert all(f.rate is None for f in card.total.figures.values())


async def test_a_cleared_card_counts_and_the_months_counts(november: Month) -> None:
    n = november.numbers
    async with november.services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT)
        t2 = (await session.execute(select(Ticket).where(Ticket.number == n["T2"]))).scalar_one()
        repeats = await tally_behind(
            session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, key="urban", tally=Tally.REPEAT_REQUESTS
        )
    assert (t2.escalation_level, t2.escalated) == (0, False)  # 解除督办 took it off the ladder...
    assert card.total.figures[Kpi.ESCALATIONS].numerator == 5  # ...and it still counts
    rows = {r.key: dict(r.tallies) for r in card.rows}
    assert rows["urban"] == {
        Tally.REPEAT_REQUESTS: 1,
        Tally.REMINDERS: 6,
        Tally.YELLOW_CARDS: 5,
        Tally.RED_CARDS: 3,
        Tally.URGES: 0,
    }
    assert rows["transport"] == {
        Tally.REPEAT_REQUESTS: 0,
        Tally.REMINDERS: 1,
        Tally.YELLOW_CARDS: 0,
        Tally.RED_CARDS: 0,
        Tally.URGES: 0,
    }
    assert repeats == [n["T14"]]
