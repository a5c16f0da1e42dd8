"""A hand-set linear model: every weight chosen here, so a test knows exactly which topics tie
and which one is sure, whatever the shipped model learned."""

from __future__ import annotations

import numpy as np

from dialogs.classifier import Head, LinearClassifier

TOPICS = ("urban", "transport", "education", "health")
TYPES = ("complaint", "report", "consultation", "help", "suggestion")
# character -> (topic index or None, type index or None)
_SIGNALS = {"灯": (0, None), "车": (1, None), "学": (2, None), "医": (3, None), "坏": (None, 1), "问": (None, 2)}


def hand_set_classifier(*, strength: float = 6.0, threshold: float = 0.6) -> LinearClassifier:
    vocabulary = {ch: i for i, ch in enumerate(_SIGNALS)}
    topic_w = np.zeros((len(vocabulary), len(TOPICS)), dtype=np.float32)
    type_w = np.zeros((len(vocabulary), len(TYPES)), dtype=np.float32)
    for ch, (topic, kind) in _SIGNALS.items():
        if topic is not None:
            topic_w[vocabulary[ch], topic] = strength
        if kind is not None:
            type_w[vocabulary[ch], kind] = strength
    # A faint preference so that, with no type word, the ranking is complaint, report, consultation.
    type_bias = np.array([0.03, 0.02, 0.01, 0.0, 0.0], dtype=np.float32)
    return LinearClassifier(
        vocabulary=vocabulary,
        idf=np.ones(len(vocabulary), dtype=np.float32),
        heads={
            "topic": Head(
                labels=TOPICS,
                weights=topic_w,
                bias=np.zeros(len(TOPICS), dtype=np.float32),
                temperature=1.0,
                threshold=threshold,
            ),
            "type": Head(labels=TYPES, weights=type_w, bias=type_bias, temperature=1.0, threshold=threshold),
        },
        max_n=1,
        meta={"trained_at": "2026-01-01T00:00:00+00:00"},
    )
