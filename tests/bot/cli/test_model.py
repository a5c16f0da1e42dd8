"""``wenzheng model train|eval`` as real processes on a small temporary corpus and database."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.corpus import is_held_out
from dialogs.classifier import LinearClassifier
from tests.app_helpers import ROOT

WORDS = {
    "urban": ["路灯不亮", "井盖丢了", "垃圾没人清", "门面占道经营", "绿化带被毁", "下水道堵了"],
    "transport": ["公交车不停站", "地铁太挤", "出租车拒载", "红绿灯坏了", "网约车绕路", "公交站牌倒了"],
    "education": ["学校乱收费", "老师体罚学生", "幼儿园报名难", "学区划分不公", "补课机构扰民", "校车超载"],
}
PLACES = [
    "市南区香港中路",
    "市北区辽宁路",
    "李沧区京口路",
    "崂山区海尔路",
    "黄岛区长江路",
    "城阳区正阳路",
    "即墨区蓝鳌路",
]
TAILS = {
    "complaint": ["，太不像话了，强烈要求处理", "，投诉好几次了没人管"],
    "consultation": ["，请问这归哪个部门管？", "，想问一下该怎么反映"],
}


def corpus(directory: Path) -> None:
    directory.mkdir(parents=True)
    n = itertools.count()
    with (directory / "synthetic.jsonl").open("w", encoding="utf-8") as out:
        for topic, words in WORDS.items():
            for word, place, (kind, tails) in itertools.product(words, PLACES, TAILS.items()):
                for tail in tails:
                    i = next(n)
                    line = {"id": f"s-{i}", "text": f"{place}{word}{tail}", "type": kind, "topic": topic, "voice": "t"}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(ROOT / "config.yaml")],
        cwd=cwd,  # the shipped config's data/ paths land in the temporary directory
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("model")
    corpus(home / "corpus")
    result = run(
        "model", "train", "--quick", "--corpus", str(home / "corpus"), "--held-out-file", "held.jsonl", cwd=home
    )
    return home, result


def test_train_reads_corpus_and_database_and_writes_a_model_under_data(
    trained: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    home, result = trained
    assert result.returncode == 0, result.stderr
    assert "held out:" in result.stdout and "time per message" in result.stdout
    assert (home / "data" / "wenzheng.db").is_file()  # the database was read (and migrated)
    (model,) = (home / "data" / "models").glob("classifier-*.npz")
    loaded = LinearClassifier.load(model)
    assert set(loaded.heads) == {"topic", "type"}
    assert int(str(loaded.meta["held_out_count"])) > 0
    assert loaded.predict("市南区香港中路井盖丢了，强烈要求处理", "topic").best == "urban"
    held = [json.loads(line) for line in (home / "held.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(held) == loaded.meta["held_out_count"]
    assert all(is_held_out(x["id"]) for x in held)
    evaluated = run("model", "eval", "held.jsonl", cwd=home)
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.strip().splitlines()[-1] == result.stdout.split("topic  ")[1].split(" |")[0]


def test_eval_prints_accuracy_ask_rate_and_misroute_as_its_last_line(
    trained: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    home, _ = trained
    lines = [
        {"text": "崂山区海尔路公交车不停站，太不像话了", "topic": "transport"},
        {"text": "李沧区京口路垃圾没人清，请问这归哪个部门管？", "topic": ["urban", "environment"]},
        {"text": "市北区辽宁路幼儿园报名难，投诉好几次了没人管", "topic": "education"},
        {"text": "黄岛区长江路井盖丢了", "topic": "transport"},  # labelled wrong on purpose
    ]
    path = home / "eval.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = run("model", "eval", str(path), cwd=home)
    assert result.returncode == 0, result.stderr
    accuracy, ask, misroute = (float(x) for x in result.stdout.strip().splitlines()[-1].split())
    assert accuracy == pytest.approx(0.75)
    assert ask + misroute <= 1.0 and misroute <= 0.25 + 1e-9
    keywords = run("model", "eval", str(path), "--keywords", cwd=home)
    assert keywords.returncode == 0, keywords.stderr
    assert len(keywords.stdout.strip().splitlines()[-1].split()) == 3


def test_eval_of_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = run("model", "eval", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("wenzheng: no file")
