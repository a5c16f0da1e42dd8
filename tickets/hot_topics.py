"""Hot topics: the terms, and groups of tickets sharing them, that rise in one city.

For each city, a term is hot when, in the recent window (7 days), the number of DIFFERENT citizens
who used it per day is at least ``min_growth`` times what it was in the baseline window before it
(28 days; +1 smoothing so a term never seen before needs real numbers, not 1 against 0), at least
``min_citizens`` different citizens and ``min_tickets`` tickets raised it, and the rise is unlikely
to be chance (``significance``, below). Growth is counted in citizens, not tickets, so one angry
citizen writing thirty times is thirty tickets but not a trend.

Why the chance test: in a mid-size city a steady matter is a handful of citizens per district per
week, and a handful doubles by luck now and then (8 one week, 16 the next); with ten districts and
dozens of matters some district "doubles" every day. Were the rate unchanged, each of the recent and
baseline citizens would fall in the recent window with probability recent/(recent + baseline days)
(0.2 for 7 against 28); the rise counts only if seeing this many or more recent citizens that way
has a probability of at most ``significance`` (a one-sided binomial test, exact, on the counts).

One matter is one topic, however citizens put it, and a word two matters share glues nothing:

- Hot terms are taken strongest first: the steepest rise (the burst's own words rise more steeply
  than the words it shares with what the city writes every week). A term joins the group that holds
  more than half of its recent tickets. Otherwise it starts a group of its own, taking (claiming) its
  tickets no group holds, if on those tickets it is still hot by itself (against its baseline
  tickets carrying no earlier group's lead); else it is left out: 停水 rising only by a water
  burst's wording on top of the steady 小区停水 complaints.
- A term that started a group whose tickets mostly carry other groups' leads is a word those
  matters share that came up first (城管, in the 早市 and the 烧烤 complaints): the groups are made
  again with it only allowed to join.
- A ticket is in the topic that claimed it. One no lead claimed is in the topic of its joined terms
  (most of them) that rise by themselves there, against their baseline tickets carrying no lead:
  夜里 and 工地 in a wording that never says 地铁, but not 危险 on the street-light complaints of
  every week that a 井盖 burst lifted.
- A word of three or four characters also counts as the two it starts with when others in the city
  use those alone (jieba keeps 地铁站, 暖气片, 燃气公司 whole).
- Everyday words (老人, 小区, 受不了, 上个月: ``tickets.segment.EVERYDAY_WORDS``) are not counted:
  bursts lift them and matters share them.
- Groups most of whose tickets each carry the same word are one matter put different ways (宽带
  三天两头断网 and 宽带师傅没上门); that word leads the topic if it is hot. Words that share nothing
  (电瓶车, 小电驴) stay apart: grouping is by words, not by meaning.

A topic is listed with its lead and then its terms by how many of its tickets carry them, its count,
the growth and baseline of its lead, its districts and its ticket numbers.

Per city, and then per district for what only one district shows (its rise diluted city-wide): the
district pass leaves out the tickets the city-wide topics already hold, so a city-wide burst does
not come back as the district rise it causes.

Pure: it takes the tickets and returns the topics; reading and storing them is ``tickets.hot_run``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tickets.segment import EVERYDAY_WORDS, Segmenter

_CJK = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class HotRules:
    recent_days: int = 7
    baseline_days: int = 28
    min_citizens: int = 5
    min_tickets: int = 5
    min_growth: float = 2.0
    significance: float = 0.001  # the rise's chance under an unchanged rate, at most (1.0: no test)
    join_share: float = 0.5  # a term joins the group holding more than this share of its recent tickets
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
    baseline: set[int] = field(default_factory=set)
    baseline_citizens: set[int] = field(default_factory=set)

    def growth(self, rules: HotRules) -> float:
        return _growth(len(self.recent_citizens), len(self.baseline_citizens), rules)


@dataclass(slots=True)
class _Group:
    lead: str
    term: _Term  # the lead's
    joined: list[str] = field(default_factory=list)  # strongest first

    @property
    def words(self) -> list[str]:
        return [self.lead, *self.joined]


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
        words = [
            ws - EVERYDAY_WORDS
            for ws in _with_heads([segmenter.terms(t.details, exclude=(t.city, t.district)) for t in in_city])
        ]
        city_wide = _topics(in_city, words, recent_start, rules)
        topics += city_wide
        # Per district: a rise in one district that the rest of the city dilutes (growth counted
        # city-wide stays under the bar) is still news for that district's department. What the
        # city-wide topics hold is theirs: counted again here, 施工 in 市南区 would "rise" by the
        # metro burst's tickets on top of the district's steady building-site complaints.
        held = {n for t in city_wide for n in t.numbers}
        for district in sorted({t.district for t in in_city if t.district}):
            picked = [i for i, t in enumerate(in_city) if t.district == district and t.number not in held]
            local = _topics([in_city[i] for i in picked], [words[i] for i in picked], recent_start, rules)
            topics += [replace(topic, district=district) for topic in local]
    return topics


def _with_heads(terms_of: list[frozenset[str]]) -> list[frozenset[str]]:
    """A word of three or four characters also counts as the two it starts with, where others in
    the city use those alone: jieba keeps 地铁站, 暖气片, 停车场, 燃气公司 whole, and a citizen who
    writes 地铁站施工 is about the same 地铁 as one who writes 地铁施工 (石老人, the beach, stays
    itself: nobody writes 石老)."""
    used = set().union(*terms_of) if terms_of else set()
    heads = {w: w[:2] for w in used if len(w) in (3, 4) and _CJK.fullmatch(w) and w[:2] in used}
    if not heads:
        return terms_of
    return [ws | {heads[w] for w in ws if w in heads} if any(w in heads for w in ws) else ws for ws in terms_of]


def _growth(recent_citizens: int, baseline_citizens: int, rules: HotRules) -> float:
    return (recent_citizens / rules.recent_days) / ((baseline_citizens + 1) / rules.baseline_days)


def log_chance_of_rise(recent: int, baseline: int, rules: HotRules) -> float:
    """The natural log of how likely ``recent`` or more of the ``recent + baseline`` citizens fall in
    the recent window if the rate did not change: each does with probability recent_days /
    (recent_days + baseline_days) (the exact test for two Poisson counts, conditioned on their sum).
    A log: a burst of hundreds is far below what a float holds, and the run ranks terms by it."""
    n = recent + baseline
    if recent <= 0:
        return 0.0
    p = rules.recent_days / (rules.recent_days + rules.baseline_days)
    odds = p / (1 - p)
    # log P(X = recent), then the tail as a sum of ratios to it (no huge binomials, no underflow).
    first = (
        math.lgamma(n + 1)
        - math.lgamma(recent + 1)
        - math.lgamma(n - recent + 1)
        + recent * math.log(p)
        + (n - recent) * math.log1p(-p)
    )
    total, ratio = 0.0, 1.0
    for k in range(recent, n + 1):
        total += ratio
        if ratio < total * 1e-12:
            break
        ratio *= (n - k) / (k + 1) * odds
    return min(0.0, first + math.log(total))


def _is_hot(term: _Term, rules: HotRules) -> bool:
    recent, baseline = len(term.recent_citizens), len(term.baseline_citizens)
    return (
        len(term.recent) >= rules.min_tickets
        and recent >= rules.min_citizens
        and _growth(recent, baseline, rules) >= rules.min_growth
        and (rules.significance >= 1 or log_chance_of_rise(recent, baseline, rules) <= math.log(rules.significance))
    )


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
                term.baseline.add(index)
                term.baseline_citizens.add(ticket.citizen_id)
    hot = [(word, term) for word, term in terms.items() if _is_hot(term, rules)]
    # Strongest first: the steepest rise. The burst's own words rise more steeply than the everyday
    # words it lifts, which the rest of the city also uses every week.
    hot.sort(key=lambda wt: (-wt[1].growth(rules), -len(wt[1].recent_citizens), wt[0]))
    groups, member = _Grouping(tickets, terms_of, rules).run(hot)
    members: dict[int, list[int]] = {}
    for index in sorted(member):
        members.setdefault(member[index], []).append(index)
    found: list[Topic] = []
    for g, indexes in members.items():
        chosen = [tickets[i] for i in indexes]
        citizens = {t.citizen_id for t in chosen}
        if len(citizens) < rules.min_citizens:
            continue
        group = groups[g]
        mine = set(indexes)
        carried = {w: len(terms[w].recent & mine) for w in group.joined}
        listed = sorted(group.joined, key=lambda w: -carried[w])  # stable: the stronger first among equals
        districts = Counter(t.district for t in chosen if t.district)
        lead = group.term
        found.append(
            Topic(
                city=chosen[0].city,
                words=tuple([group.lead, *listed][: rules.top_words]),
                recent=len(chosen),
                baseline=len(lead.baseline),
                growth=round(_growth(len(lead.recent_citizens), len(lead.baseline_citizens), rules), 2),
                citizens=len(citizens),
                districts=dict(districts.most_common()),
                numbers=tuple(t.number for t in chosen),
            )
        )
    found.sort(key=lambda t: (-t.citizens, -t.growth, t.label))
    return found[: rules.max_topics]


class _Grouping:
    """The hot terms in groups, and the group of each recent ticket (see the module's docstring)."""

    def __init__(self, tickets: list[TicketText], terms_of: list[frozenset[str]], rules: HotRules) -> None:
        self._tickets = tickets
        self._terms_of = terms_of
        self._rules = rules

    def run(self, hot: list[tuple[str, _Term]]) -> tuple[list[_Group], dict[int, int]]:
        shared: set[str] = set()  # words that started a group made of other groups' tickets
        while True:
            groups, claimed = self._pass(hot, shared)
            leads = {g.lead for g in groups}
            found = {
                g.lead
                for n, g in enumerate(groups)
                if (mine := [i for i, owner in claimed.items() if owner == n])
                and sum(bool(self._terms_of[i] & (leads - {g.lead})) for i in mine) * 2 > len(mine)
            }
            if not found:
                break
            shared |= found
        member = dict(claimed)
        # The tickets no lead took: a joined term brings its own where, without the leads' tickets,
        # it still rises (夜里 and 工地 in a wording that never says 地铁), not where it is an
        # everyday word the burst merely lifted (危险 on the street-light complaints of every week).
        terms = dict(hot)
        votes: dict[int, Counter[int]] = {}
        for n, group in enumerate(groups):
            for word in group.joined:
                free = {i for i in terms[word].recent if i not in claimed}
                alone = self._alone(terms[word], free, leads)
                if free and _growth(len(alone.recent_citizens), len(alone.baseline_citizens), self._rules) >= (
                    self._rules.min_growth
                ):
                    for index in free:
                        votes.setdefault(index, Counter())[n] += 1
        for index, count in votes.items():
            member[index] = min(count, key=lambda g: (-count[g], g))
        return self._merged(groups, member, terms)

    def _merged(
        self, groups: list[_Group], member: dict[int, int], hot: dict[str, _Term]
    ) -> tuple[list[_Group], dict[int, int]]:
        """Groups most of whose tickets each carry the same word are one matter put different ways:
        宽带三天两头断网 and 宽带师傅没上门 (宽带), 又停电了 and 停电也不通知 (停电, even where it is
        not hot itself, its rise diluted by the city's steady complaints). That word leads the
        topic if it is hot; else the biggest group's lead does."""
        tickets_of: dict[int, list[int]] = {}
        for index, g in member.items():
            tickets_of.setdefault(g, []).append(index)
        carried_by: dict[str, list[int]] = {}
        for g, indexes in tickets_of.items():
            for word, count in Counter(w for i in indexes for w in self._terms_of[i]).items():
                if count * 2 > len(indexes):
                    carried_by.setdefault(word, []).append(g)
        into = list(range(len(groups)))

        def root(g: int) -> int:
            while into[g] != g:
                g = into[g]
            return g

        size = {g: len(indexes) for g, indexes in tickets_of.items()}
        merged_by: dict[int, list[str]] = {}
        for word, sharing in carried_by.items():
            for g in sharing[1:]:
                a, b = sorted((root(sharing[0]), root(g)), key=lambda r: (-size.get(r, 0), r))
                if a != b:
                    into[b] = a
                    size[a] = size.get(a, 0) + size.get(b, 0)
                    merged_by.setdefault(a, []).extend([word, *merged_by.pop(b, [])])
        for g, group in enumerate(groups):
            if root(g) != g:
                groups[root(g)].joined += group.words
        for g, words in merged_by.items():
            leads = sorted((w for w in dict.fromkeys(words) if w in hot), key=lambda w: -len(hot[w].recent))
            if leads and leads[0] != groups[g].lead:
                group = groups[g]
                group.joined = [group.lead, *(w for w in group.joined if w != leads[0])]
                group.lead, group.term = leads[0], hot[leads[0]]
        return groups, {i: root(g) for i, g in member.items()}

    def _pass(self, hot: list[tuple[str, _Term]], shared: set[str]) -> tuple[list[_Group], dict[int, int]]:
        """Strongest first (the shared words last: they may only join)."""
        groups: list[_Group] = []
        claimed: dict[int, int] = {}  # ticket -> the group whose lead took it
        for word, term in [wt for wt in hot if wt[0] not in shared] + [wt for wt in hot if wt[0] in shared]:
            held = Counter(claimed[i] for i in term.recent if i in claimed)
            best = min(held, key=lambda g: (-held[g], g)) if held else None
            if best is not None and held[best] > self._rules.join_share * len(term.recent):
                groups[best].joined.append(word)
                continue
            if word in shared:
                continue
            free = {i for i in term.recent if i not in claimed}
            # A new group only for a rise of its own: not 停水 whose rise is a burst's wording
            # on top of the steady 小区停水 complaints.
            if _is_hot(self._alone(term, free, {g.lead for g in groups}), self._rules):
                groups.append(_Group(word, term))
                claimed.update(dict.fromkeys(free, len(groups) - 1))
        return groups, claimed

    def _alone(self, term: _Term, free: set[int], leads: set[str]) -> _Term:
        """The term's counts on ``free`` recent tickets, against its baseline tickets that carry
        none of ``leads``."""
        before = {i for i in term.baseline if not leads & self._terms_of[i]}
        return _Term(
            recent=free,
            recent_citizens={self._tickets[i].citizen_id for i in free},
            baseline=before,
            baseline_citizens={self._tickets[i].citizen_id for i in before},
        )
