"""Scoring a citizen's text for topic and type with a trained linear model.

Keyword lists decided by whichever word came first; on real messages that filed one inquiry in
five under a wrong topic without a word (issue #11). A linear model over character n-grams weighs
every part of the message and says how sure it is, so the form can ask when it is not.

The model is trained with scikit-learn by ``wenzheng model train`` (``bot/cli/model.py``) and
saved as a plain ``.npz`` of arrays (no pickle, loaded with ``allow_pickle=False``); scoring here
needs only numpy, runs offline and takes well under a millisecond per message. ``features`` is the
one definition of what the model sees: the trainer calls it too, so the two can never drift apart.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

FORMAT: Final = "wenzheng-linear/1"
_ZERO_WIDTH: Final = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_DIGITS: Final = re.compile(r"\d+")
_SPACES: Final = re.compile(r"\s+")
_LATIN_WORD: Final = re.compile(r"[a-z]{2,}")
_URL: Final = re.compile(r"(?:https?://|www\.)[^\s,;\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    probability: float


@dataclass(frozen=True, slots=True)
class Prediction:
    """Candidates best first; ``confident`` when the best one clears the head's threshold, that is
    when the form may fill it without asking."""

    candidates: tuple[Candidate, ...]
    confident: bool

    @property
    def best(self) -> str | None:
        return self.candidates[0].code if self.candidates else None

    def top(self, n: int) -> tuple[str, ...]:
        return tuple(c.code for c in self.candidates[:n])


def normalise(text: str) -> str:
    """Width, case and invisible characters must not change what the model sees; numbers are
    all alike (a house number says nothing about the topic), and links say nothing at all (a
    Weibo post's link is added to its text)."""
    text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).lower()
    text = _URL.sub(" ", text)
    return _SPACES.sub(" ", _DIGITS.sub("0", text)).strip()


def features(text: str, max_n: int = 3) -> Counter[str]:
    """Character 1..max_n-grams (Chinese has no spaces; n-grams find words and their parts, typos
    included) plus whole Latin words for English messages. Longer grams see the message's start
    and end (``^``, ``$``). Built as one list and counted once: this runs on every message."""
    norm = normalise(text)
    padded = f"^{norm}$"
    grams = [ch for ch in norm if ch != " "]
    for n in range(2, max_n + 1):
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    grams += ["w:" + word for word in _LATIN_WORD.findall(norm)]
    return Counter(grams)


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    """One decision (topic or type): labels, a weight row per vocabulary entry, a temperature
    fitted on held-back training folds (so probabilities mean what they say) and the threshold
    below which the form asks."""

    labels: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # vocabulary x labels
    bias: npt.NDArray[np.float32]  # labels
    temperature: float
    threshold: float


class LinearClassifier:
    """TF-IDF over ``features``, then a multinomial logistic model per head."""

    def __init__(
        self,
        *,
        vocabulary: dict[str, int],
        idf: npt.NDArray[np.float32],
        heads: dict[str, Head],
        max_n: int,
        meta: dict[str, object],
    ) -> None:
        self._vocabulary = vocabulary
        self._idf = idf
        self._heads = heads
        self._max_n = max_n
        self.meta = meta
        # Every head's weights side by side: a message's rows are gathered once for all heads.
        self._stacked = (
            np.hstack([h.weights for h in heads.values()]).astype(np.float32)
            if heads
            else np.zeros((len(vocabulary), 0), np.float32)
        )
        offsets = np.cumsum([0, *(len(h.labels) for h in heads.values())])
        self._columns = {name: (int(offsets[i]), int(offsets[i + 1])) for i, name in enumerate(heads)}

    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(self._heads)

    @property
    def wants_keywords(self) -> bool:
        """Trained with the configured keywords as features (``k:<topic>``, ``t:<type>``): the
        caller passes the keyword hits, the model has learned how far to trust each."""
        return bool(self.meta.get("keyword_features"))

    def vector(self, text: str, extra: Iterable[str] = ()) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The message as sparse TF-IDF: vocabulary indices and L2-normalised values."""
        counts = features(text, self._max_n)
        counts.update(extra)
        vocab = self._vocabulary
        get = vocab.get
        known = [(i, n) for i, n in ((get(f), n) for f, n in counts.items()) if i is not None]
        if not known:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        pairs = np.array(known, dtype=np.int64)
        idx = pairs[:, 0].astype(np.intp)
        tf = pairs[:, 1].astype(np.float32)
        values: npt.NDArray[np.float32] = ((1.0 + np.log(tf)) * self._idf[idx]).astype(np.float32)
        norm = float(np.sqrt(np.dot(values, values)))
        if norm > 0:
            values /= np.float32(norm)
        return idx, values

    def predict(self, text: str, head: str, extra: Iterable[str] = ()) -> Prediction:
        found = self.predict_all(text, (head,), extra)
        return found[head]

    def predict_all(
        self, text: str, heads: tuple[str, ...] | None = None, extra: Iterable[str] = ()
    ) -> dict[str, Prediction]:
        idx, values = self.vector(text, extra)
        combined = (values @ self._stacked[idx]).astype(np.float64) if len(idx) else None
        out: dict[str, Prediction] = {}
        for name in heads if heads is not None else self.heads:
            h = self._heads[name]
            scores = h.bias.astype(np.float64)
            if combined is not None:
                start, end = self._columns[name]
                scores = scores + combined[start:end]
            probs = _softmax(scores / h.temperature)
            order = np.argsort(-probs, kind="stable")
            candidates = tuple(Candidate(h.labels[i], float(probs[i])) for i in order)
            out[name] = Prediction(candidates, bool(len(idx)) and candidates[0].probability >= h.threshold)
        return out

    # --- the file ---------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Arrays only (no pickle). Weights as float16: half the size, and the rounding moves
        probabilities by far less than the calibration error."""
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "vocabulary": np.array(sorted(self._vocabulary, key=self._vocabulary.__getitem__), dtype=np.str_),
            "idf": self._idf.astype(np.float32),
        }
        heads_meta: dict[str, dict[str, object]] = {}
        for name, h in self._heads.items():
            arrays[f"{name}.weights"] = h.weights.astype(np.float16)
            arrays[f"{name}.bias"] = h.bias.astype(np.float32)
            heads_meta[name] = {"labels": list(h.labels), "temperature": h.temperature, "threshold": h.threshold}
        header = {"format": FORMAT, "max_n": self._max_n, "heads": heads_meta, "meta": self.meta}
        arrays["header"] = np.array(json.dumps(header, ensure_ascii=False), dtype=np.str_)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            np.savez_compressed(out, **arrays)  # type: ignore[arg-type]

    @staticmethod
    def load(path: Path) -> LinearClassifier:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} model")
            vocabulary = {str(f): i for i, f in enumerate(data["vocabulary"])}
            heads = {
                name: Head(
                    labels=tuple(h["labels"]),
                    weights=data[f"{name}.weights"].astype(np.float32),
                    bias=data[f"{name}.bias"].astype(np.float32),
                    temperature=float(h["temperature"]),
                    threshold=float(h["threshold"]),
                )
                for name, h in header["heads"].items()
            }
            return LinearClassifier(
                vocabulary=vocabulary,
                idf=data["idf"].astype(np.float32),
                heads=heads,
                max_n=int(header["max_n"]),
                meta=dict(header.get("meta", {})),
            )


def _softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shifted = np.exp(scores - scores.max())
    result: npt.NDArray[np.float64] = shifted / shifted.sum()
    return result


def shipped_model_path() -> Path:
    """The model built from the shipped corpus, installed with the package."""
    return Path(__file__).parent / "models" / "classifier.npz"


def newest_model(retrained_dir: Path | None) -> Path | None:
    """The newest of the shipped model and any retrained under ``retrained_dir``, by the training
    time written inside (file times change when a package is installed): a city's model, built
    from its own corrected tickets, wins until a release ships a newer one."""
    found = [p for p in (shipped_model_path(),) if p.is_file()]
    if retrained_dir is not None and retrained_dir.is_dir():
        found += sorted(p for p in retrained_dir.glob("classifier-*.npz") if p.is_file())
    if not found:
        return None
    return max(found, key=lambda p: (trained_at(p), p.name))


def load_newest(retrained_dir: Path | None) -> LinearClassifier | None:
    """The model the service runs with (``bot/app.py``), or None when there is none: then the
    configured keywords decide, as before there was a model."""
    path = newest_model(retrained_dir)
    return None if path is None else LinearClassifier.load(path)


def trained_at(path: Path) -> str:
    """The ISO time a model was trained (reads only its small header)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(json.loads(str(data["header"])).get("meta", {}).get("trained_at", ""))
    except (OSError, ValueError, KeyError):
        return ""


def idf_of(document_frequency: int, documents: int) -> float:
    """Smoothed inverse document frequency, as scikit-learn's ``TfidfVectorizer`` computes it."""
    return math.log((1 + documents) / (1 + document_frequency)) + 1.0
