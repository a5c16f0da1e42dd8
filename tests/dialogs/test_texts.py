"""Every citizen-facing text exists in Chinese and English with the same placeholders."""

from __future__ import annotations

import string

import pytest

from dialogs.texts import both, keys, text


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(keys()))
def test_both_languages_exist_with_the_same_placeholders(key: str) -> None:
    zh, en = both(key)
    assert zh.strip() and en.strip()
    assert _fields(zh) == _fields(en)
    assert any("\u4e00" <= c <= "\u9fff" for c in zh), "the Chinese text has no Chinese in it"


def test_unknown_locale_falls_back_to_chinese() -> None:
    assert text("btn_submit", "fr") == "提交"
    assert text("btn_submit", "en") == "Submit"
