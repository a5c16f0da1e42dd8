"""``wenzheng model train|eval``: build the topic/type classifier and measure it.

``train`` learns from the shipped corpus (``dialogs/corpus/raw/*.jsonl``) plus the city's own
labels from the database (staff corrections, answered tickets; ``storage.corrections``), prints
cross-validated and held-out figures beside the keyword extractor's on the same held-out split,
and writes ``<storage.model_dir>/classifier-<time>.npz``, which the service loads at its next
start when it is newer than the shipped model (``--ship`` writes the shipped one instead, for a
release). ``eval FILE.jsonl`` reads ``{"text", "topic": code or [codes]}`` lines and prints
accuracy, ask rate and silent-misroute rate; its last line is exactly those three numbers.

scikit-learn is imported only here (through ``bot.cli.model_training``), never by the service.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import corpus
from bot.cli import model_training as mt
from bot.cli.runner import on_database
from bot.config import AppConfig
from dialogs.address import AddressParser
from dialogs.classifier import Candidate, LinearClassifier, Prediction, load_newest, shipped_model_path
from dialogs.extraction import Extraction, Extractor
from storage import corrections
from tickets.lifecycle import Status

SHIPPED_CORPUS = shipped_model_path().parent.parent / "corpus" / "raw"
ANSWERED = (Status.ANSWERED.value, Status.CLOSED.value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    model = subparsers.add_parser("model", help="the topic/type classifier")
    commands = model.add_subparsers(dest="model_command", required=True, metavar="COMMAND")
    train = commands.add_parser("train", help="retrain from the corpus and the city's corrected tickets")
    train.add_argument("--corpus", type=Path, default=SHIPPED_CORPUS, help="directory of *.jsonl")
    train.add_argument("--no-database", action="store_true", help="the corpus only, no tickets")
    train.add_argument("--out", type=Path, help="write the model here instead of storage.model_dir")
    train.add_argument("--ship", action="store_true", help="write the model shipped with the package")
    train.add_argument("--quick", action="store_true", help="one regularisation strength, 3 folds")
    train.add_argument("--held-out-file", type=Path, help="also write the held-out split here, for `model eval`")
    ev = commands.add_parser("eval", help="accuracy, ask rate, silent-misroute rate on a labelled file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--model", type=Path, help="a model file (default: the one the service would load)")
    ev.add_argument("--keywords", action="store_true", help="measure the keyword extractor instead")
    ev.add_argument("--head", choices=("topic", "type"), default="topic")
    for command in (train, ev):
        command.add_argument("--config", default="config.yaml")


async def run(args: argparse.Namespace, config: AppConfig) -> int:
    if args.model_command == "train":
        return await _train(args, config)
    if args.model_command == "eval":
        return _eval(args, config)
    print(f"wenzheng: unknown model command {args.model_command!r}", file=sys.stderr)
    return 2


async def _train(args: argparse.Namespace, config: AppConfig) -> int:
    if not args.corpus.is_dir():
        print(f"wenzheng: no corpus directory {args.corpus}", file=sys.stderr)
        return 2
    examples = corpus.read_corpus(args.corpus)
    if not args.no_database:
        found: list[corrections.Label] = []

        async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions() as session:
                found.extend(await corrections.labels(session, ANSWERED))

        code = await on_database(config, work)
        if code != 0:
            return code
        examples += [
            corpus.Example(
                id=label.id, text=label.text, topic=(label.topic,), type=label.type_code, source=label.source
            )
            for label in found
        ]
    settings = mt.TrainSettings(c_grid=(10.0,), folds=3) if args.quick else mt.TrainSettings()
    keywords = _extractor(config, None)
    try:
        classifier, report = mt.train(examples, settings, log=print, keywords=keywords.keyword_features)
    except ValueError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        return 2
    _, held = corpus.split(examples)
    if args.held_out_file is not None:
        with args.held_out_file.open("w", encoding="utf-8") as out:
            for e in held:
                line = {"id": e.id, "text": e.text, "topic": e.topic[0], "type": e.type}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"held out: {report.held_out_count} examples (never used for any choice)")
    print("head   model: accuracy ask silent-wrong | keywords: accuracy ask silent-wrong")
    for head, rates in report.held_out.items():
        old = extraction_rates(keywords, held, head)
        print(f"{head:6} {rates.line()} | {old.line()}")
    mean, p99 = mt.time_per_message(_extractor(config, classifier).classify, [e.text for e in held[:500]])
    print(f"time per message (type and topic with keyword features): mean {mean * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
    if args.ship:
        path = shipped_model_path()
    elif args.out is not None:
        path = args.out
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path(config.storage.model_dir) / f"classifier-{stamp}.npz"
    classifier.save(path)
    print(f"model written to {path}")
    return 0


def _extractor(config: AppConfig, classifier: LinearClassifier | None) -> Extractor:
    taxonomy = config.taxonomy.build()
    return Extractor(taxonomy, AddressParser(config.dialog.service_province, config.dialog.service_city), classifier)


def extraction_rates(extractor: Extractor, examples: Sequence[corpus.Example], head: str) -> mt.Rates:
    """The extractor as the form uses it: a code means filed without a question, None means asked."""
    rows = [e for e in examples if (e.topic if head == "topic" else e.type)]
    predictions = [_as_prediction(extractor.classify(e.text), head, extractor.default_type) for e in rows]
    acceptable = [e.topic if head == "topic" else (str(e.type),) for e in rows]
    return mt.rates(predictions, acceptable)


def _as_prediction(found: Extraction, head: str, default_type: str) -> Prediction:
    """As ``dialogs.intake.fill_from_text`` uses it: with no ranking (keywords) a missing type is
    filed as the default type, not asked."""
    code = found.topic_code if head == "topic" else found.type_code
    ranked = found.topic_candidates if head == "topic" else found.type_candidates
    if head == "type" and code is None and not ranked:
        code = default_type
    if code is not None:
        return Prediction((Candidate(code, 1.0), *(c for c in ranked if c.code != code)), True)
    return Prediction(ranked, False)


def _eval(args: argparse.Namespace, config: AppConfig) -> int:
    if not args.file.is_file():
        print(f"wenzheng: no file {args.file}", file=sys.stderr)
        return 2
    try:
        examples = corpus.read_jsonl(args.file, source="eval")
    except ValueError as exc:
        print(f"wenzheng: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.keywords:
        classifier = None
        what = "keyword extractor"
    else:
        classifier = LinearClassifier.load(args.model) if args.model else load_newest(Path(config.storage.model_dir))
        what = str(args.model) if args.model else "the newest model"
        if classifier is None:
            print("wenzheng: no model (run `wenzheng model train`)", file=sys.stderr)
            return 2
    rates = extraction_rates(_extractor(config, classifier), examples, args.head)
    print(f"{what}, {args.head}, {rates.count} messages")
    print("accuracy ask_rate silent_misroute_rate")
    print(rates.line())
    return 0
