"""Whether two descriptions near in place and of one topic are the same matter: the object and its
condition agree (``tickets.matters``), scored by a small logistic model.

The lookup's SQL has already matched the place (250 m or the same named place) and the topic, so
what is left to tell is the matter. A TF-IDF cosine over words could not: the place's words
(小区 names, 6栋, 402) are rare, so they weighed most and were shared by every candidate, and
another matter at the same address says almost the same words (暖气不热 / 暖气管子漏水), while the
same matter in a neighbour's voice says other ones (电梯停运 / 电梯又坏了). On independent pairs
it did no better than chance (precision 0.48, recall 0.31), and even with the place masked its
word overlap ranked "another matter" above "the same matter". What does tell them is the matter's
concepts, read with the place masked: the objects (@) and what is wrong with them (!). Four
features, each in [0, 1]:

- objects: Jaccard of the two object sets (电梯 / 电梯: 1);
- conditions: Jaccard of the two condition sets (不亮 / 黑乎乎: both !dark, 1);
- conditions conflict: both say what is wrong and no condition is shared (不热 / 漏水);
- objects conflict: both name an object and none is shared (路灯 / 井盖).

A text with no condition neither agrees nor conflicts: it scores low (no evidence is no offer,
since a wrong "已有人反映" costs a citizen their own ticket's attention). Two descriptions with the
same words once the place is masked (the same citizen or bench text twice) score 1.

Data, three sets of labelled pairs (``bench/duplicate_pairs.py``): the 80 hand-written PAIRS, by
the author of the first concept table (calibration only: contaminated); the independent pairs
split by a hash into DEV (read while extending the concept table, and used with the calibration
pairs to fit ``WEIGHTS`` and pick ``DEFAULT_THRESHOLD``: precision at least 0.85 first, then the
best recall) and TEST (held out: only its aggregate precision and recall are ever computed).
``python -m bench.duplicate_pairs`` prints all three; BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tickets.matters import GENERIC, concepts, mask_places
from tickets.segment import Segmenter

# Fitted by ``python -m bench.duplicate_pairs --fit`` on calibration + DEV (L2 0.1): intercept, then
# objects, conditions, conditions conflict, objects conflict. The threshold is the one ``calibrate``
# picks on the same pairs with these weights.
WEIGHTS: tuple[float, float, float, float, float] = (-1.93, 2.53, 3.46, -2.61, -2.10)
DEFAULT_THRESHOLD = 0.35
PROFILE_CACHE = 20_000  # descriptions whose profiles are kept


@dataclass(frozen=True, slots=True)
class Profile:
    """What is compared of one description: its words and concepts with the place masked."""

    words: frozenset[str]
    objects: frozenset[str]
    conditions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Features:
    objects: float
    conditions: float
    conditions_conflict: float
    objects_conflict: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.objects, self.conditions, self.conditions_conflict, self.objects_conflict)


class TextSimilarity:
    def __init__(self, segmenter: Segmenter, weights: Sequence[float] = WEIGHTS) -> None:
        self._segmenter = segmenter
        self._weights = tuple(weights)
        self._lock = threading.Lock()
        self._profiles: dict[str, Profile] = {}

    def profile(self, text: str) -> Profile:
        """Cached (bounded): the same open tickets are compared with every new filing near them."""
        cached = self._profiles.get(text)
        if cached is not None:
            return cached
        made = self._profile(text)
        with self._lock:
            if len(self._profiles) >= PROFILE_CACHE:
                self._profiles.clear()
            self._profiles[text] = made
        return made

    def _profile(self, text: str) -> Profile:
        found = concepts(text)
        return Profile(
            words=self._segmenter.terms(mask_places(text)),
            objects=frozenset(c for c in found if c.startswith("@")),
            conditions=frozenset(c for c in found if c.startswith("!")),
        )

    def compare(self, a: Profile, b: Profile) -> float:
        """The probability-like score that ``a`` and ``b`` are one matter, in [0, 1]."""
        if a.words and a.words == b.words:
            return 1.0
        w = self._weights
        f = features(a, b).as_tuple()
        return 1.0 / (1.0 + math.exp(-(w[0] + sum(wi * fi for wi, fi in zip(w[1:], f, strict=True)))))

    def score(self, a: str, b: str) -> float:
        return self.compare(self.profile(a), self.profile(b))


def features(a: Profile, b: Profile) -> Features:
    return Features(
        objects=_jaccard(a.objects, b.objects),
        conditions=_jaccard(a.conditions, b.conditions),
        conditions_conflict=float(
            bool(a.conditions - GENERIC and b.conditions - GENERIC and not a.conditions & b.conditions)
        ),
        objects_conflict=float(bool(a.objects and b.objects and not a.objects & b.objects)),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def fit_logistic(rows: Sequence[Sequence[float]], labels: Sequence[bool], *, l2: float = 0.1) -> tuple[float, ...]:
    """Weights (intercept first) of an L2-regularised logistic regression, by Newton's method: a
    handful of features over a few hundred pairs needs no library."""
    size = len(rows[0]) + 1
    weights = [0.0] * size
    data = [(1.0, *row) for row in rows]
    for _ in range(100):
        grad = [l2 * weights[j] if j else 0.0 for j in range(size)]
        hess = [[l2 if i == j and i else 0.0 for j in range(size)] for i in range(size)]
        for x, y in zip(data, labels, strict=True):
            p = 1.0 / (1.0 + math.exp(-sum(wi * xi for wi, xi in zip(weights, x, strict=True))))
            for i in range(size):
                grad[i] += (p - float(y)) * x[i]
                for j in range(size):
                    hess[i][j] += p * (1 - p) * x[i] * x[j]
        step = _solve(hess, grad)
        weights = [w - s for w, s in zip(weights, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return tuple(weights)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gauss-Jordan with partial pivoting (the matrix is small and positive definite)."""
    n = len(vector)
    m = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


@dataclass(frozen=True, slots=True)
class Calibration:
    threshold: float
    precision: float
    recall: float
    pairs: int


def measure(scored: Sequence[tuple[float, bool]], threshold: float) -> Calibration:
    said = [(s >= threshold, same) for s, same in scored]
    tp = sum(1 for p, same in said if p and same)
    fp = sum(1 for p, same in said if p and not same)
    fn = sum(1 for p, same in said if not p and same)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Calibration(threshold, precision, recall, len(scored))


def calibrate(scored: Sequence[tuple[float, bool]], *, min_precision: float = 0.85) -> Calibration:
    """The threshold (on a 0.01 grid) with the best recall among those whose precision is at
    least ``min_precision`` (a wrong "已有人反映" costs a citizen their own ticket's attention, so
    precision comes first); ties go to the higher precision. The scores are few distinct values, so
    a run of thresholds gives the same answer: the middle of the run is taken, not its edge, so a
    pair scoring a hair off after a small change to the weights or the table does not flip."""
    grid = [measure(scored, step / 100) for step in range(1, 101)]
    eligible = [c for c in grid if c.precision >= min_precision]
    if not eligible:
        return measure(scored, 1.0)
    best = max(eligible, key=lambda c: (c.recall, c.precision, c.threshold))
    run = [c for c in grid if (c.precision, c.recall) == (best.precision, best.recall)]
    middle = run[len(run) // 2] if len(run) % 2 else run[len(run) // 2 - 1]
    return middle


def scored_pairs(similarity: TextSimilarity, pairs: Iterable[tuple[str, str, bool]]) -> list[tuple[float, bool]]:
    return [(similarity.score(a, b), same) for a, b, same in pairs]
