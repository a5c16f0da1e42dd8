"""Training and measuring the topic/type classifier (``wenzheng model train|eval``).

Only this module needs scikit-learn, and only inside the functions that fit (so ``wenzheng eval``
and the service never load it); the service scores with ``dialogs.classifier`` and numpy.

The corpus is split by a hash of each example's id: 20% is held out, stable as corpus files
grow, and never used for any choice; it is only reported. Inside the training 80%, a second hash
sets a fifth aside for calibration: the regularisation is chosen by cross-validation on the rest,
the model built from the rest (its fold models averaged) scores the calibration part as the
shipped model will score new messages, and the temperature and thresholds are fitted there. The
thresholds are the lowest confidence at which at most ``target_misroute`` of messages would be
filed under a wrong label without a question: below it the form asks. The shipped model is the
average of the fold models over the whole training side.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.cli.corpus import Example, is_calibration, split
from dialogs.classifier import Head, LinearClassifier, Prediction, features, idf_of

HEADS = ("topic", "type")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rates:
    """What a citizen would see: right without a question, asked, or wrong without a question."""

    count: int
    accuracy: float  # top-1 right, asked or not
    ask_rate: float
    silent_misroute_rate: float

    def line(self) -> str:
        return f"{self.accuracy:.4f} {self.ask_rate:.4f} {self.silent_misroute_rate:.4f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainSettings:
    max_n: int = 3
    min_df: int = 2
    max_features: int = 60000
    c_grid: tuple[float, ...] = (30.0, 100.0)  # 10 did worse on cross-validation (BENCHMARKS.md)
    folds: int = 5
    target_misroute: float = 0.04  # below the 5% promise, for the gap between folds and new text
    max_ask: float = 0.30
    # When both cannot hold: a wrong topic misroutes the ticket, so topic keeps the misroute
    # target and asks more; a wrong type only changes a label on the summary (and the citizen sees
    # it there), so type keeps the ask cap.
    ask_cap_heads: tuple[str, ...] = ("type",)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadReport:
    c: float
    temperature: float
    threshold: float
    cross_validated: Rates


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainReport:
    train_count: int
    held_out_count: int
    heads: dict[str, HeadReport] = field(default_factory=dict)
    held_out: dict[str, Rates] = field(default_factory=dict)


# --- features -------------------------------------------------------------------------------------


def _vocabulary(
    texts: Sequence[str], settings: TrainSettings, extra: Callable[[str], list[str]]
) -> tuple[dict[str, int], npt.NDArray[np.float32]]:
    df: Counter[str] = Counter()
    for t in texts:
        found = features(t, settings.max_n)
        found.update(extra(t))
        df.update(found.keys())
    kept = [f for f, n in df.items() if n >= settings.min_df]
    kept.sort(key=lambda f: (-df[f], f))
    kept = sorted(kept[: settings.max_features])
    vocabulary = {f: i for i, f in enumerate(kept)}
    idf = np.array([idf_of(df[f], len(texts)) for f in kept], dtype=np.float32)
    return vocabulary, idf


def _matrix(vectorizer: LinearClassifier, texts: Sequence[str], width: int, extra: Callable[[str], list[str]]) -> Any:
    from scipy import sparse  # type: ignore[import-untyped]

    rows: list[npt.NDArray[np.intp]] = []
    values: list[npt.NDArray[np.float32]] = []
    indptr = [0]
    for t in texts:
        idx, val = vectorizer.vector(t, extra(t))
        rows.append(idx)
        values.append(val)
        indptr.append(indptr[-1] + len(idx))
    return sparse.csr_matrix(
        (np.concatenate(values) if values else np.zeros(0), np.concatenate(rows) if rows else np.zeros(0, int), indptr),
        shape=(len(texts), width),
    )


# --- fitting --------------------------------------------------------------------------------------


def _fit(x: Any, y: npt.NDArray[np.intp], c: float) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x, y)
    return model


@dataclass(frozen=True, slots=True)
class _Folds:
    """Out-of-fold decision scores, and the fold models averaged into one linear model."""

    scores: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]  # labels x features
    intercept: npt.NDArray[np.float64]


def _rows(model: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[int]]:
    """A fitted model's weights as one row per label (scikit-learn keeps a single row for two)."""
    present = [int(k) for k in model.classes_]
    if len(present) == 2:  # binary: split the one row symmetrically, so a softmax gives the same odds
        coef = np.vstack([-model.coef_[0], model.coef_[0]]) / 2
        intercept = np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    else:
        coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    return coef, intercept, present


def _out_of_fold(x: Any, y: npt.NDArray[np.intp], classes: int, c: float, folds: int) -> _Folds:
    """Scores for every training example from a model that did not see it.

    The shipped model is the average of these fold models, not a refit on everything: a refit
    sees more data and is surer of itself than the models the temperature and the threshold were
    fitted on, so it would ask less and misroute more than cross-validation promised."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    width = x.shape[1]
    scores = np.zeros((len(y), classes))
    coef_sum = np.zeros((classes, width))
    intercept_sum = np.zeros(classes)
    seen = np.zeros(classes)
    counts = np.bincount(y, minlength=classes)
    n_splits = max(2, min(folds, int(counts[counts > 0].min()) if counts.any() else 2))
    if int(counts[counts > 0].min()) < 2:
        n_splits = min(folds, max(2, len(y) // 2))
        splitter: Iterable[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = _plain_folds(len(y), n_splits)
    else:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
    for fit_idx, score_idx in splitter:
        if len(np.unique(y[fit_idx])) < 2:
            continue
        model = _fit(x[fit_idx], y[fit_idx], c)
        coef, intercept, present = _rows(model)
        part = np.full((len(score_idx), classes), -30.0)
        part[:, present] = x[score_idx] @ coef.T + intercept
        scores[score_idx] = part
        coef_sum[present] += coef
        intercept_sum[present] += intercept
        seen[present] += 1
    safe = np.maximum(seen, 1)
    intercept_avg = np.where(seen > 0, intercept_sum / safe, -30.0)
    return _Folds(scores=scores, coef=coef_sum / safe[:, None], intercept=intercept_avg)


def _plain_folds(n: int, folds: int) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    order = np.random.default_rng(0).permutation(n)
    parts = np.array_split(order, folds)
    return [(np.concatenate([p for j, p in enumerate(parts) if j != i]), parts[i]) for i in range(folds)]


def _softmax_rows(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    result: npt.NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def fit_temperature(scores: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> float:
    """Temperature scaling (Guo et al., 2017): the one divisor of the scores that minimises the
    log-loss of held-back predictions; it changes confidence, never the ranking."""
    best_t, best_loss = 1.0, math.inf
    for t in np.exp(np.linspace(math.log(0.05), math.log(20.0), 121)):
        probs = _softmax_rows(scores / t)
        loss = -float(np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def choose_threshold(confidence: Sequence[float], correct: Sequence[bool], target_misroute: float) -> float:
    """The lowest threshold at which the share of all messages that are wrong and not asked stays
    within ``target_misroute``: as few questions as the promise allows."""
    pairs = sorted(zip(confidence, correct, strict=True), key=lambda p: p[0])
    n = len(pairs)
    if n == 0:
        return 1.0
    wrong_above = sum(1 for _, ok in pairs if not ok)
    i = 0
    while i < n:
        if wrong_above / n <= target_misroute:
            return pairs[i][0]
        value = pairs[i][0]
        while i < n and pairs[i][0] == value:  # equal confidences are asked or filed together
            wrong_above -= 0 if pairs[i][1] else 1
            i += 1
    return 1.0 + 1e-9  # never confident enough: always ask


def ask_cap_threshold(confidence: Sequence[float], max_ask: float) -> float:
    """The highest threshold that asks at most ``max_ask`` of the messages."""
    ordered = sorted(confidence)
    if not ordered:
        return 1.0
    allowed = math.floor(max_ask * len(ordered))  # how many may fall below the threshold
    return ordered[min(allowed, len(ordered) - 1)]


def rates(predictions: Sequence[Prediction], acceptable: Sequence[tuple[str, ...]]) -> Rates:
    n = len(predictions)
    if n == 0:
        return Rates(count=0, accuracy=0.0, ask_rate=0.0, silent_misroute_rate=0.0)
    right = sum(1 for p, ok in zip(predictions, acceptable, strict=True) if p.best in ok)
    asked = sum(1 for p in predictions if not p.confident)
    silent_wrong = sum(1 for p, ok in zip(predictions, acceptable, strict=True) if p.confident and p.best not in ok)
    return Rates(count=n, accuracy=right / n, ask_rate=asked / n, silent_misroute_rate=silent_wrong / n)


def _label(e: Example, head: str) -> str | None:
    return e.topic[0] if head == "topic" else e.type


def train(
    examples: Sequence[Example],
    settings: TrainSettings | None = None,
    log: Callable[[str], None] = lambda _: None,
    keywords: Callable[[str], list[str]] | None = None,
) -> tuple[LinearClassifier, TrainReport]:
    """Fit on the training side of the split; report cross-validated and held-out rates.

    ``keywords`` gives the configured keywords found in a text as extra features
    (``Extractor.keyword_features``); with them the topic's cross-validated log-loss fell from
    0.543 to 0.499 (BENCHMARKS.md)."""
    settings = settings or TrainSettings()
    train_set, held = split(examples)
    if len(train_set) < 4:
        raise ValueError(f"too few training examples ({len(train_set)})")
    texts = [e.text for e in train_set]
    extra = keywords or _no_keywords
    vocabulary, idf = _vocabulary(texts, settings, extra)
    vectorizer = LinearClassifier(vocabulary=vocabulary, idf=idf, heads={}, max_n=settings.max_n, meta={})
    x_all = _matrix(vectorizer, texts, len(vocabulary), extra)
    log(f"training on {len(train_set)} examples ({len(held)} held out), {len(vocabulary)} features")
    heads: dict[str, Head] = {}
    reports: dict[str, HeadReport] = {}
    for head in HEADS:
        rows = [i for i, e in enumerate(train_set) if _label(e, head)]
        labels = sorted({str(_label(train_set[i], head)) for i in rows})
        if len(labels) < 2:
            log(f"{head}: fewer than two labels, not trained")
            continue
        y = np.array([labels.index(str(_label(train_set[i], head))) for i in rows], dtype=np.intp)
        x = x_all[rows]
        # The calibration part of the training side: the model built without it scores it, as the
        # shipped model will score new messages, and the temperature and threshold are fitted there.
        calib = np.array([is_calibration(train_set[i].id) for i in rows], dtype=bool)
        if calib.sum() < 10 or (~calib).sum() < 10:
            calib = np.zeros(len(rows), dtype=bool)  # too few to split: calibrate out-of-fold
        fit_x, fit_y = x[~calib], y[~calib]
        best: tuple[float, float, _Folds] | None = None
        for c in settings.c_grid:
            folds = _out_of_fold(fit_x, fit_y, len(labels), c, settings.folds)
            t = fit_temperature(folds.scores, fit_y)
            probs = _softmax_rows(folds.scores / t)
            loss = -float(np.mean(np.log(np.clip(probs[np.arange(len(fit_y)), fit_y], 1e-12, None))))
            log(f"{head}: C={c:g} out-of-fold accuracy {np.mean(probs.argmax(1) == fit_y):.3f}, log-loss {loss:.3f}")
            if best is None or loss < best[1]:
                best = (c, loss, folds)
        assert best is not None
        c, _, chosen = best
        if calib.any():
            calib_y = y[calib]
            scores = np.asarray(x[calib] @ chosen.coef.T) + chosen.intercept
            final = _out_of_fold(x, y, len(labels), c, settings.folds)  # the shipped model: all of it
        else:
            calib_y, scores, final = y, chosen.scores, chosen
        temperature = fit_temperature(scores, calib_y)
        probs = _softmax_rows(scores / temperature)
        confidence = probs.max(axis=1)
        correct = probs.argmax(axis=1) == calib_y
        threshold = choose_threshold(confidence.tolist(), correct.tolist(), settings.target_misroute)
        if head in settings.ask_cap_heads:
            threshold = min(threshold, ask_cap_threshold(confidence.tolist(), settings.max_ask))
        heads[head] = Head(
            labels=tuple(labels),
            weights=final.coef.T.astype(np.float32),
            bias=final.intercept.astype(np.float32),
            temperature=temperature,
            threshold=float(threshold),
        )
        cv = Rates(
            count=len(calib_y),
            accuracy=float(np.mean(correct)),
            ask_rate=float(np.mean(confidence < threshold)),
            silent_misroute_rate=float(np.mean((confidence >= threshold) & ~correct)),
        )
        reports[head] = HeadReport(c=c, temperature=temperature, threshold=float(threshold), cross_validated=cv)
        log(
            f"{head}: C={c:g} T={temperature:.3f} threshold={threshold:.3f}; on the calibration part: accuracy "
            f"{cv.accuracy:.3f}, asked {cv.ask_rate:.3f}, silent wrong {cv.silent_misroute_rate:.3f}"
        )
    meta: dict[str, object] = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "train_count": len(train_set),
        "held_out_count": len(held),
        "sources": dict(Counter(e.source for e in train_set)),
        "keyword_features": keywords is not None,
    }
    classifier = LinearClassifier(vocabulary=vocabulary, idf=idf, heads=heads, max_n=settings.max_n, meta=meta)
    held_rates = {h: evaluate(classifier, held, h, extra) for h in heads if any(_label(e, h) for e in held)}
    return classifier, TrainReport(
        train_count=len(train_set), held_out_count=len(held), heads=reports, held_out=held_rates
    )


def _no_keywords(text: str) -> list[str]:
    return []


def evaluate(
    classifier: LinearClassifier,
    examples: Sequence[Example],
    head: str = "topic",
    keywords: Callable[[str], list[str]] = _no_keywords,
) -> Rates:
    rows = [e for e in examples if _label(e, head)]
    predictions = [classifier.predict(e.text, head, keywords(e.text)) for e in rows]
    acceptable = [e.topic if head == "topic" else (str(e.type),) for e in rows]
    return rates(predictions, acceptable)


def time_per_message(predict: Callable[[str], object], texts: Sequence[str], repeat: int = 3) -> tuple[float, float]:
    """(mean, p99) seconds per message, best of ``repeat`` runs per message."""
    times: list[float] = []
    for t in texts:
        best = math.inf
        for _ in range(repeat):
            start = time.perf_counter()
            predict(t)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    if not times:
        return 0.0, 0.0
    ordered = sorted(times)
    return sum(times) / len(times), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
