"""Whether a name found in a message reads as a place there: the characters around it.

County names hide in everyday words (大城市, 拆迁安置, 周辉县长, 樟树), so the parser asks these
questions of every short or risky name before it counts (dialogs/address.py, ``_bare_counts``).
The word lists are data, in dialogs/resources/address_tables.json.
"""

from __future__ import annotations

import re
from typing import Final

from dialogs.place_tables import place_tables

_TABLES: Final = place_tables()
PLACE_WORD: Final = re.compile("|".join(_TABLES.place_words))
_INTRODUCE: Final = frozenset("在到去住从于往至近靠是与及经赴回离")
_POINTER: Final = frozenset("的这那边附周境里一人")
_TOWN_TAILS: Final = frozenset({"县城", "县里", "市里", "区里"})
_END_PUNCT: Final = " \t\r\n。.!！?？"


def place_word_at(norm: str, end: int) -> bool:
    """A place word follows (樟树镇, 迁安开发区)."""
    return PLACE_WORD.match(norm, end) is not None


def alone(norm: str, start: int, end: int) -> bool:
    """The name is all the text says, as when it answers "where?"."""
    return not (norm[:start].strip() or norm[end:].strip(_END_PUNCT))


def introduced(norm: str, start: int) -> bool:
    """A word that introduces a place comes right before it (在昆山, 回讷河)."""
    return norm[start - 1 : start] in _INTRODUCE


def town_tail(norm: str, end: int) -> bool:
    """县城, 县里: as often "a county town" after a word (比如县城) as the town of that county."""
    return norm[end - 1 : end + 1] in _TOWN_TAILS


def word_tail(norm: str, end: int, short: bool) -> bool:
    """The name's last character and the next one make a word: 和平区 + 域, or, for a short name
    ending in 县 or 市 (辉县), a title: 周辉 + 县长."""
    tail = norm[end - 1 : end + 1]
    return tail in _TABLES.word_tails or (short and tail in _TABLES.title_tails)


def clear(norm: str, start: int, end: int) -> bool:
    """Nothing glued to either side: the text's edge, punctuation, a word that introduces a place
    (在, 到, 住) before it, and a place word or a pointer (的, 这边, 附近) after it."""
    before = norm[start - 1] if start > 0 else ""
    after = norm[end] if end < len(norm) else ""
    return (not _is_han(before) or before in _INTRODUCE) and (
        not _is_han(after) or after in _POINTER or PLACE_WORD.match(norm, end) is not None
    )


def _is_han(ch: str) -> bool:
    return bool(ch) and "\u4e00" <= ch <= "\u9fff"
