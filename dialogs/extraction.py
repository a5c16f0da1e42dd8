"""Guessing type, topic, place and contact from a citizen's free text.

A rich first message should fill what it can so the form only asks what is missing; every guess
is shown on the summary for the citizen to confirm or change, so a wrong guess costs one tap,
not a misrouted ticket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from dialogs.address import Address, AddressParser
from dialogs.classifier import Candidate, LinearClassifier, Prediction
from dialogs.taxonomy import Taxonomy
from dialogs.words import words


@dataclass(frozen=True, slots=True)
class Extraction:
    """``type_code`` and ``topic_code`` are set only when the guess is sure enough to file without
    asking; the ranked candidates (likeliest first, with calibrated probabilities) are there
    either way, so a question can offer the likeliest few as buttons."""

    type_code: str | None  # None when nothing in the text points to a type, or too unsure
    topic_code: str | None  # None when no topic is likely enough
    address: Address | None  # None when no place was recognised
    phone: str | None  # a mainland mobile or landline number found in the text
    topic_candidates: tuple[Candidate, ...] = ()
    type_candidates: tuple[Candidate, ...] = ()


# Question forms: a citizen asking something is most often consulting. They weigh no more than the
# shortest configured keyword, and yield to longer ones containing them, so that "怎么办" (help)
# or "凭什么" (complaint) still win. They feed the type coded "consultation".
_QUESTION_CUES: Final = words().question_cues
_CUE_WEIGHT: Final = 1.0

# Openers before a type marker ("您好，我要投诉……") that do not change its meaning.
_OPENERS: Final = words().openers
_LEAD: Final = re.compile(
    rf"^[\s\W_]*(?:(?:{'|'.join(_OPENERS.greetings)}|(?:{'|'.join(_OPENERS.english_greeting_patterns)})\b)[\s\W_]*)*"
    rf"(?:{'|'.join(_OPENERS.intents)})?"
)
_ENGLISH_MARKER_END: Final = re.compile(r"\s*[:\-]")
_LATIN: Final = re.compile("[a-z]")
_ZERO_WIDTH: Final = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACE_IN_CHINESE: Final = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")

# 18-digit 身份证 numbers (also written 6-8-4) are masked first so no phone is read out of them.
_ID_CARD: Final = re.compile(
    r"(?<![\dA-Za-z])\d{6}[\s-]?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[\s-]?\d{3}[\dXx]"
    r"(?![\dA-Za-z])"
)
_SEP: Final = r"[\s\-–—]?"
_MOBILE: Final = re.compile(
    rf"(?<![\dA-Za-z])(?:[(（]?(?:\+|00)?86[)）]?{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?![\dA-Za-z])"
)
# Area codes: 010 and 02x have three digits, the rest four; then a 7- or 8-digit local number.
_LANDLINE: Final = re.compile(
    rf"(?<![\dA-Za-z])[(（]?(0(?:10|2\d|[3-9]\d{{2}}))[)）]?{_SEP}([1-9]\d{{2,3}}){_SEP}(\d{{4}})(?![\dA-Za-z])"
)


@dataclass(frozen=True, slots=True)
class _Keyword:
    text: str
    owner: int  # index into the taxonomy's types or topics
    weight: float
    pattern: re.Pattern[str] | None  # word-bounded for English; None means a plain substring


@dataclass(frozen=True, slots=True)
class _Keywords:
    """Keywords indexed by their first character: a message is read once, character by
    character, instead of searched once per keyword (hundreds of them; BENCHMARKS.md)."""

    by_first: dict[str, tuple[_Keyword, ...]]
    patterns: tuple[tuple[_Keyword, re.Pattern[str]], ...]  # English, word-bounded

    @staticmethod
    def of(keywords: Iterable[_Keyword]) -> _Keywords:
        by_first: dict[str, list[_Keyword]] = {}
        patterns: list[tuple[_Keyword, re.Pattern[str]]] = []
        for kw in keywords:
            if kw.pattern is not None:
                patterns.append((kw, kw.pattern))
            elif kw.text:
                by_first.setdefault(kw.text[0], []).append(kw)
        return _Keywords({c: tuple(kws) for c, kws in by_first.items()}, tuple(patterns))


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    keyword: _Keyword


class Extractor:
    """With a ``classifier`` (``dialogs.classifier``) the model decides topic and type and says
    how sure it is; without one (or for a head it lacks) the configured keywords decide, as
    before. A type written as a heading ("投诉：…") is the citizen's own choice and always wins."""

    def __init__(
        self, taxonomy: Taxonomy, addresses: AddressParser, classifier: LinearClassifier | None = None
    ) -> None:
        self._taxonomy = taxonomy
        self._addresses = addresses
        self._classifier = classifier
        # One description is classified when it arrives, again to rank the buttons of the question
        # and again to read the answer: the same pure result, so it is computed once.
        self._classified = lru_cache(maxsize=1024)(self._classify)
        self._topic_codes = frozenset(t.code for t in taxonomy.topics)
        self._type_codes = frozenset(t.code for t in taxonomy.types)
        self._markers = _markers(taxonomy)
        consultation = next((i for i, t in enumerate(taxonomy.types) if t.code == "consultation"), None)
        type_keywords = [_keyword(k, i) for i, t in enumerate(taxonomy.types) for k in t.keywords]
        if consultation is not None:
            configured = {k.text for k in type_keywords}
            type_keywords += [_keyword(c, consultation, _CUE_WEIGHT) for c in _QUESTION_CUES if c not in configured]
        self._type_keywords = _Keywords.of(type_keywords)
        self._topic_keywords = _Keywords.of(_keyword(k, i) for i, t in enumerate(taxonomy.topics) for k in t.keywords)

    @property
    def default_type(self) -> str:
        return self._taxonomy.default_type

    def extract(self, text: str) -> Extraction:
        found = self.classify(text)
        return replace(found, address=self._addresses.parse(text), phone=self.phone(text))

    def phone(self, text: str) -> str | None:
        """Only the phone number: what the phone question and the summary step look for, without
        classifying the text or parsing a place."""
        return _phone(_normalise(text))

    def classify(self, text: str) -> Extraction:
        """Type and topic only (no place, no phone): what ``wenzheng model eval`` measures."""
        return self._classified(text)

    def _classify(self, text: str) -> Extraction:
        norm = _normalise(text)
        heads = self._classifier.heads if self._classifier is not None else ()
        predicted = {}
        if self._classifier is not None and heads:
            extra = self.keyword_features(text) if self._classifier.wants_keywords else ()
            predicted = self._classifier.predict_all(text, extra=extra)
        marked = self._marked_type(norm)
        topic = predicted.get("topic")
        kind = predicted.get("type")
        topic_candidates = _known(topic, self._topic_codes)
        type_candidates = _known(kind, self._type_codes)
        topic_code = self._topic(norm) if topic is None else _sure(topic, topic_candidates)
        if marked is not None:
            type_code: str | None = marked
            type_candidates = (Candidate(marked, 1.0), *(c for c in type_candidates if c.code != marked))
        elif kind is None:
            type_code = self._type(norm)
        else:
            type_code = _sure(kind, type_candidates)
        return Extraction(
            type_code=type_code,
            topic_code=topic_code,
            address=None,
            phone=None,
            topic_candidates=topic_candidates,
            type_candidates=type_candidates,
        )

    def keyword_features(self, text: str) -> list[str]:
        """The configured keywords as features for the classifier: one per topic and type that
        has a keyword in the text (``k:urban``, ``t:report``). Evidence, not the decision."""
        norm = _normalise(text)
        found = [f"k:{self._taxonomy.topics[i].code}" for i in _score(norm, self._topic_keywords)]
        return found + [f"t:{self._taxonomy.types[i].code}" for i in _score(norm, self._type_keywords)]

    def answer(self, text: str, slot: str) -> str | None:
        """A typed answer to the topic or type question ("路灯的事", "求助"): the citizen is
        choosing, so the likeliest candidate counts even below the filing threshold, as long as
        the text says anything the model knows; the keywords answer otherwise."""
        found = self.classify(text)
        candidates = found.topic_candidates if slot == "topic" else found.type_candidates
        confident = found.topic_code if slot == "topic" else found.type_code
        if confident is not None:
            return confident
        norm = _normalise(text)
        keyword = self._topic(norm) if slot == "topic" else self._type(norm)
        if keyword is not None:
            return keyword
        return candidates[0].code if candidates and candidates[0].probability >= _ANSWER_FLOOR else None

    def _marked_type(self, norm: str) -> str | None:
        """A marker at the start is the citizen filing under that heading, as on a 12345 form;
        anywhere else 投诉 or 建议 is just a word in a sentence and only counts as evidence."""
        lead = _LEAD.match(norm)
        head = norm[lead.end() if lead else 0 :]
        for marker, code, english in self._markers:
            if head.startswith(marker) and (not english or _ENGLISH_MARKER_END.match(head, len(marker))):
                return code
        return None

    def _type(self, norm: str) -> str | None:
        marked = self._marked_type(norm)
        if marked is not None:
            return marked
        best = _best(_score(norm, self._type_keywords))
        return None if best is None else self._taxonomy.types[best].code

    def _topic(self, norm: str) -> str | None:
        best = _best(_score(norm, self._topic_keywords))
        return None if best is None else self._taxonomy.topics[best].code


# A typed answer's likeliest candidate is taken when it is at least this likely (uniform over 17
# topics is 0.06): below it the text said nothing the model recognises, and the question is repeated.
_ANSWER_FLOOR: Final = 0.25


def _known(prediction: Prediction | None, codes: frozenset[str]) -> tuple[Candidate, ...]:
    """Candidates the configured taxonomy still has (an operator may have removed a topic since
    the model was trained)."""
    if prediction is None:
        return ()
    return tuple(c for c in prediction.candidates if c.code in codes)


def _sure(prediction: Prediction, known: tuple[Candidate, ...]) -> str | None:
    """The best code when the model is sure of it and the taxonomy still has it."""
    if prediction.confident and known and known[0].code == prediction.best:
        return prediction.best
    return None


def _markers(taxonomy: Taxonomy) -> tuple[tuple[str, str, bool], ...]:
    """Type names as headings: 投诉, 举报 and 反映 (from 举报·反映), and English "Complaint:"."""
    found: list[tuple[str, str, bool]] = []
    for t in taxonomy.types:
        for part in re.split(r"[·・/、,，\s]+", _normalise(t.name.zh)):
            if part:
                found.append((part, t.code, False))
        if t.name.en:
            found.append((_normalise(t.name.en), t.code, True))
    return tuple(sorted(found, key=lambda m: -len(m[0])))


def _keyword(raw: str, owner: int, weight: float | None = None) -> _Keyword:
    """Longer keywords are more specific, so they weigh more: by characters in Chinese, by words
    (two each, like a two-character Chinese word) in English."""
    text = _normalise(raw)
    if re.search(r"[a-z]", text):
        words = text.split()
        body = r"\s+".join(re.escape(w) for w in words)
        pattern = re.compile(rf"(?<![a-z0-9]){body}(?:s|es)?(?![a-z0-9])")
        return _Keyword(text, owner, weight if weight is not None else 2.0 * len(words), pattern)
    return _Keyword(text, owner, weight if weight is not None else float(len(text)), None)


def _normalise(text: str) -> str:
    """For matching only: full-width letters and digits, zero-width joiners and case must not
    decide whether a keyword or number is seen."""
    text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).lower()
    return _SPACE_IN_CHINESE.sub("", text)


def _find(norm: str, keywords: _Keywords) -> list[_Match]:
    """Every occurrence of every keyword, nested and overlapping ones included (``_score`` needs them)."""
    found: list[_Match] = []
    if keywords.patterns and _LATIN.search(norm) is not None:  # most messages are all Chinese
        for kw, pattern in keywords.patterns:
            found.extend(_Match(m.start(), m.end(), kw) for m in pattern.finditer(norm))
    by_first = keywords.by_first
    for start, char in enumerate(norm):
        for kw in by_first.get(char, ()):
            if norm.startswith(kw.text, start):
                found.append(_Match(start, start + len(kw.text), kw))
    return found


def _score(norm: str, keywords: _Keywords) -> dict[int, float]:
    """A keyword inside a longer one (怎么 in 怎么办, 医保 in 医保卡) yields to it; each distinct
    keyword counts once so a repeated word does not outvote a specific one."""
    found = _find(norm, keywords)
    kept = {
        m.keyword
        for m in found
        if not any(o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start for o in found)
    }
    scores: dict[int, float] = {}
    for kw in kept:
        scores[kw.owner] = scores.get(kw.owner, 0.0) + kw.weight
    return scores


def _best(scores: dict[int, float]) -> int | None:
    """The highest score; a tie goes to the one listed first in the config."""
    if not scores:
        return None
    return min(scores, key=lambda owner: (-scores[owner], owner))


def _phone(norm: str) -> str | None:
    """The first mobile or landline number, as digits (a landline keeps its area-code dash)."""
    text = _ID_CARD.sub(lambda m: "#" * len(m.group()), norm)
    found: list[tuple[int, str]] = []
    mobile = _MOBILE.search(text)
    if mobile is not None:
        found.append((mobile.start(), "".join(mobile.groups())))
    landline = _LANDLINE.search(text)
    if landline is not None:
        found.append((landline.start(), f"{landline.group(1)}-{landline.group(2)}{landline.group(3)}"))
    return min(found)[1] if found else None
