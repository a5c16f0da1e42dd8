"""Hot topics: the terms, and clusters of tickets sharing them, that rise in one city.

For each city, a term is hot when, in the recent window (7 days), the number of DIFFERENT citizens
who used it per day is at least ``min_growth`` times what it was in the baseline window before it
(28 days; +1 smoothing so a term never seen before needs real numbers, not 1 against 0), and at
least ``min_citizens`` different citizens and ``min_tickets`` tickets raised it. Growth is counted
in citizens, not tickets, so one angry citizen writing thirty times is thirty tickets but not a
trend. Hot terms whose tickets overlap (Jaccard >= ``merge_overlap``) are one topic: 地铁 + 施工 +
噪音 over the same tickets is one matter, listed with its top words, its count and growth, its
districts and its ticket numbers.

Per city, and then per district for what only one district shows (its rise diluted city-wide).

Pure: it takes the tickets and returns the topics; reading and storing them is ``tickets.hot_run``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tickets.segment import Segmenter


@dataclass(frozen=True, slots=True, kw_only=True)
class HotRules:
    recent_days: int = 7
    baseline_days: int = 28
    min_citizens: int = 5
    min_tickets: int = 5
    min_growth: float = 2.0
    merge_overlap: float = 0.5
    max_topics: int = 10  # per city
    top_words: int = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketText:
    """What the run reads of a ticket."""

    number: str
    citizen_id: int
    city: str
    district: str | None
    details: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    city: str
    words: tuple[str, ...]
    district: str | None = None  # None: city-wide; else a rise only this district shows
    recent: int  # tickets in the recent window
    baseline: int  # tickets with its lead word in the baseline window
    growth: float  # citizens per day, recent over baseline
    citizens: int
    districts: dict[str, int] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "·".join(self.words[:3])


@dataclass(slots=True)
class _Term:
    recent: set[int] = field(default_factory=set)  # indexes into the city's tickets
    recent_citizens: set[int] = field(default_factory=set)
    baseline: int = 0
    baseline_citizens: set[int] = field(default_factory=set)


def find_topics(tickets: Sequence[TicketText], *, end: datetime, rules: HotRules, segmenter: Segmenter) -> list[Topic]:
    """The hot topics of the window ending at ``end``, per city, hottest first."""
    recent_start = end - timedelta(days=rules.recent_days)
    baseline_start = recent_start - timedelta(days=rules.baseline_days)
    by_city: dict[str, list[TicketText]] = {}
    for ticket in tickets:
        if baseline_start <= ticket.created_at < end:
            by_city.setdefault(ticket.city, []).append(ticket)
    topics: list[Topic] = []
    for city in sorted(by_city):
        in_city = by_city[city]
        words = [segmenter.terms(t.details, exclude=(t.city, t.district)) for t in in_city]
        city_wide = _topics(in_city, words, recent_start, rules)
        covered = [set(t.numbers) for t in city_wide]
        topics += city_wide
        # Per district: a rise in one district that the rest of the city dilutes (growth counted
        # city-wide stays under the bar) is still news for that district's department.
        for district in sorted({t.district for t in in_city if t.district}):
            picked = [i for i, t in enumerate(in_city) if t.district == district]
            local = _topics([in_city[i] for i in picked], [words[i] for i in picked], recent_start, rules)
            for topic in local:
                if not any(len(set(topic.numbers) & seen) * 2 >= len(topic.numbers) for seen in covered):
                    topics.append(replace(topic, district=district))
    return topics


def _growth(recent_citizens: int, baseline_citizens: int, rules: HotRules) -> float:
    return (recent_citizens / rules.recent_days) / ((baseline_citizens + 1) / rules.baseline_days)


def _topics(
    tickets: list[TicketText], terms_of: list[frozenset[str]], recent_start: datetime, rules: HotRules
) -> list[Topic]:
    terms: dict[str, _Term] = {}
    for index, ticket in enumerate(tickets):
        recent = ticket.created_at >= recent_start
        for word in terms_of[index]:
            term = terms.setdefault(word, _Term())
            if recent:
                term.recent.add(index)
                term.recent_citizens.add(ticket.citizen_id)
            else:
                term.baseline += 1
                term.baseline_citizens.add(ticket.citizen_id)
    hot = [
        (word, term)
        for word, term in terms.items()
        if len(term.recent) >= rules.min_tickets
        and len(term.recent_citizens) >= rules.min_citizens
        and _growth(len(term.recent_citizens), len(term.baseline_citizens), rules) >= rules.min_growth
    ]
    hot.sort(key=lambda wt: (-len(wt[1].recent_citizens), -len(wt[1].recent), wt[0]))
    clusters: list[tuple[list[str], set[int], _Term]] = []  # words, tickets, the lead term
    for word, term in hot:
        for words, members, _lead in clusters:
            if len(members & term.recent) / len(members | term.recent) >= rules.merge_overlap:
                words.append(word)
                members |= term.recent
                break
        else:
            clusters.append(([word], set(term.recent), term))
    found: list[Topic] = []
    for words, members, lead in clusters:
        chosen = [tickets[i] for i in sorted(members)]
        citizens = {t.citizen_id for t in chosen}
        if len(citizens) < rules.min_citizens:
            continue
        districts = Counter(t.district for t in chosen if t.district)
        found.append(
            Topic(
                city=chosen[0].city,
                words=tuple(words[: rules.top_words]),
                recent=len(chosen),
                baseline=lead.baseline,
                growth=round(_growth(len(lead.recent_citizens), len(lead.baseline_citizens), rules), 2),
                citizens=len(citizens),
                districts=dict(districts.most_common()),
                numbers=tuple(t.number for t in chosen),
            )
        )
    found.sort(key=lambda t: (-t.citizens, -t.growth, t.label))
    return found[: rules.max_topics]
