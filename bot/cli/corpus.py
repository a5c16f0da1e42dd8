"""The labelled corpus of the classifier (``wenzheng model``): its files, its examples, and the
stable split by a hash of each example's id into the training side and the held-out 20%.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HELD_OUT_PERCENT = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A labelled message. ``topic`` may hold several acceptable codes (evaluation files); the
    first is the one trained on. ``type`` is None when unknown."""

    id: str
    text: str
    topic: tuple[str, ...]
    type: str | None = None
    source: str = "corpus"


def is_calibration(example_id: str) -> bool:
    """A fifth of the training side, by a second, independent hash: temperature and thresholds
    are fitted on it (never on the held-out part)."""
    digest = hashlib.sha256(f"calibration:{example_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < HELD_OUT_PERCENT


def is_held_out(example_id: str) -> bool:
    """Stable as files grow: an example's side depends on its id alone."""
    digest = hashlib.sha256(example_id.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < HELD_OUT_PERCENT


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out). Examples from the city's own tickets always train: the held-out figure
    is about the shipped corpus and must stay comparable between releases."""
    train: list[Example] = []
    held: list[Example] = []
    for e in examples:
        (held if e.source == "corpus" and is_held_out(e.id) else train).append(e)
    return train, held


def read_jsonl(path: Path, source: str = "corpus") -> list[Example]:
    """Corpus lines ``{"id","text","type","topic",...}`` or evaluation lines ``{"text","topic"}``
    where topic is a code or a list of acceptable codes. Lines without text or topic are skipped."""
    found: list[Example] = []
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, 1):
            raw = raw.strip()
            if not raw:
                continue
            data = json.loads(raw)
            text = data.get("text")
            topic = data.get("topic")
            if not isinstance(text, str) or not text.strip() or not topic:
                continue
            topics = (topic,) if isinstance(topic, str) else tuple(str(t) for t in topic)
            kind = data.get("type")
            found.append(
                Example(
                    id=str(data.get("id") or f"{path.name}:{number}"),
                    text=text,
                    topic=topics,
                    type=kind if isinstance(kind, str) else None,
                    source=source,
                )
            )
    return found


def read_corpus(directory: Path) -> list[Example]:
    """Every ``*.jsonl`` under the corpus directory, in name order, duplicates (same id) once."""
    seen: dict[str, Example] = {}
    for path in sorted(directory.glob("*.jsonl")):
        for e in read_jsonl(path):
            seen.setdefault(e.id, e)
    return list(seen.values())
