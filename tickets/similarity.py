"""How alike two descriptions are: TF-IDF cosine over jieba words and the matter's concepts.

Words carry the matter (路灯, 井盖, 噪音); concepts (``tickets.matters``) see one matter said two
ways (暖气不热 / 暖气片是凉的) and two matters sharing a word (路灯不亮 / 路灯杆歪了). Inverse
document frequencies come from the shipped classifier corpus (``dialogs/corpus/raw``: thousands
of real-sounding inquiries over every topic), so the words every inquiry uses weigh little and
the ones that name a matter weigh much. It is loaded on first use, like jieba's dictionary.

``calibrate`` picks the threshold from labelled pairs (``bench/duplicate_pairs.py``); the shipped
threshold is the one it picks on the calibration split (precision at least 0.85 first, then the
best recall), and its precision and recall on the held-out split are reported in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files

from tickets.matters import concepts
from tickets.segment import Segmenter

# Calibrated on bench/duplicate_pairs.py (``python -m bench.duplicate_pairs``): a concept weighs three
# times a word of the same rarity, and 0.52 is the threshold ``calibrate`` picks on the calibration split.
CONCEPT_WEIGHT = 3.0
DEFAULT_THRESHOLD = 0.52
VECTOR_CACHE = 20_000  # descriptions whose vectors are kept


class TextSimilarity:
    def __init__(self, segmenter: Segmenter, corpus: Iterable[str] | None = None) -> None:
        self._segmenter = segmenter
        self._corpus = corpus
        self._idf: dict[str, float] | None = None
        self._default_idf = 0.0
        self._lock = threading.Lock()
        self._vectors: dict[str, dict[str, float]] = {}

    def features(self, text: str) -> set[str]:
        """jieba words and the matter's concepts (``tickets.matters``)."""
        return set(self._segmenter.terms(text)) | concepts(text)

    def _weights(self) -> dict[str, float]:
        with self._lock:
            if self._idf is None:
                texts = list(self._corpus) if self._corpus is not None else shipped_corpus()
                df: Counter[str] = Counter()
                for text in texts:
                    df.update(self.features(text))
                n = max(len(texts), 1)
                self._idf = {w: math.log((n + 1) / (c + 1)) + 1 for w, c in df.items()}
                self._default_idf = math.log(n + 1) + 1  # a word the corpus never saw: rare, telling
            return self._idf

    def vector(self, text: str) -> dict[str, float]:
        """Cached (bounded): the same open tickets are compared with every new filing near them."""
        cached = self._vectors.get(text)
        if cached is not None:
            return cached
        if len(self._vectors) >= VECTOR_CACHE:
            self._vectors.clear()
        made = self._vectors[text] = self._vector(text)
        return made

    def _vector(self, text: str) -> dict[str, float]:
        idf = self._weights()
        return {
            w: idf.get(w, self._default_idf) * (CONCEPT_WEIGHT if w[0] in "@!" else 1.0) for w in self.features(text)
        }

    def score(self, a: str, b: str) -> float:
        return cosine(self.vector(a), self.vector(b))


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b[k] for k, w in a.items() if k in b)
    return dot / (math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values())))


def shipped_corpus() -> list[str]:
    folder = files("dialogs").joinpath("corpus/raw")
    texts: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(str(json.loads(line)["text"]))
    return texts


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
    precision comes first); ties go to the higher threshold."""
    best: Calibration | None = None
    for step in range(100, 0, -1):
        found = measure(scored, step / 100)
        if found.precision >= min_precision and (best is None or found.recall > best.recall):
            best = found
    return best if best is not None else measure(scored, 1.0)
