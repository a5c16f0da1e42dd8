"""The masker for published text, on realistic messages: a development set the rules were
written against and a held-out set written afterwards in other voices (elderly speech, a formal
letter, an English resident, full-width digits, ...), never tuned on. Both must not leak a single
secret and must keep the words that make the inquiry readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.public_mask import ID_CARD, NAME, PHONE, mask_for_public, names_in

CASES = Path(__file__).parent / "mask_cases"


def _load(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (CASES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _ids(cases: list[dict[str, object]]) -> list[str]:
    return [str(c["voice"]) for c in cases]


DEVELOPMENT = _load("development.jsonl")
HELD_OUT = _load("heldout.jsonl")


def _check(case: dict[str, object]) -> None:
    masked = mask_for_public(str(case["text"]))
    for secret in case["secrets"]:  # type: ignore[attr-defined]
        assert secret not in masked, f"{secret!r} leaks in {masked!r}"
    for kept in case["keep"]:  # type: ignore[attr-defined]
        assert kept in masked, f"{kept!r} was lost from {masked!r}"


@pytest.mark.parametrize("case", DEVELOPMENT, ids=_ids(DEVELOPMENT))
def test_development_cases(case: dict[str, object]) -> None:
    _check(case)


@pytest.mark.parametrize("case", HELD_OUT, ids=_ids(HELD_OUT))
def test_held_out_cases(case: dict[str, object]) -> None:
    _check(case)


def test_masks_are_words_not_partial_numbers() -> None:
    masked = mask_for_public("电话13800138000，身份证370202199001011234")
    assert masked == f"电话{PHONE}，身份证{ID_CARD}"
    assert "8000" not in masked and "1234" not in masked


def test_text_without_personal_data_is_unchanged() -> None:
    said = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险。2026年12月3号开始的。"
    assert mask_for_public(said) == said


@given(st.text(alphabet="0123456789 -王张先生我叫号楼单元室路街鲁BＸ１２", max_size=60))
def test_masking_is_idempotent(said: str) -> None:
    once = mask_for_public(said)
    assert mask_for_public(once) == once


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", " ", "-"]))
def test_any_mobile_in_any_spacing_is_masked(number: str, sep: str) -> None:
    spaced = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    assert number[3:] not in mask_for_public(f"请打{spaced}联系").replace(sep, "")


def test_the_answer_loses_the_name_the_question_gave() -> None:
    question = "我叫王小明，小区门口的路灯坏了"
    assert names_in(question) == {"王小明"}
    answer = "王小明：路灯已修复。小明如有问题请再联系"
    masked = mask_for_public(answer, names_in(question))
    assert "王小明" not in masked and masked.startswith(NAME)


def test_a_greeted_name_is_masked_without_a_cue() -> None:
    assert mask_for_public("李建国同志，您好！已修复。").startswith(f"{NAME}同志")
