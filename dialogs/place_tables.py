"""The place-name tables behind dialogs/address.py, read once from dialogs/resources/.

They are data a reviewer updates when the State Council approves a re-division or a new everyday
word turns out to be a county's name; keeping them in JSON keeps the matcher's code short and
lets a table change be reviewed without reading Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, NamedTuple


class Rename(NamedTuple):
    """A current county-level name and the names cpca's (2016) data still uses for it.

    ``was`` pairs are (city, district) as cpca names them, district None meaning the city record
    itself; ``aliases`` are other names people write for the same place.
    """

    province: str
    city: str
    district: str | None
    was: tuple[tuple[str, str | None], ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceTables:
    renames: tuple[Rename, ...]
    common_words: frozenset[str]
    exonyms: MappingProxyType[str, str]
    english_words: frozenset[str]
    level_words: MappingProxyType[str, frozenset[int]]
    special_abbr: MappingProxyType[str, str]
    placeholders: frozenset[str]
    food_and_shops: tuple[str, ...]
    place_words: tuple[str, ...]  # what may follow a bare county name for it to read as a place
    word_tails: tuple[str, ...]  # what after a name's 市/区/县 makes it a word (市场, 区域)
    title_tails: tuple[str, ...]  # ... or a title, when the 县 is part of a short name (周辉县长)


@cache
def place_tables() -> PlaceTables:
    """Read once per process: the tables are constants, the same for every parser."""
    return load_place_tables()


def load_place_tables(name: str = "address_tables.json") -> PlaceTables:
    raw: dict[str, Any] = json.loads(files("dialogs").joinpath("resources", name).read_text(encoding="utf-8"))
    return PlaceTables(
        renames=tuple(
            Rename(
                r["province"],
                r["city"],
                r["district"],
                tuple((city, district) for city, district in r["was"]),
                tuple(r["aliases"]),
            )
            for r in raw["renames"]
        ),
        common_words=frozenset(raw["common_words"]),
        exonyms=MappingProxyType(dict(raw["exonyms"])),
        english_words=frozenset(raw["english_words"]),
        level_words=MappingProxyType({k: frozenset(v) for k, v in raw["level_words"].items()}),
        special_abbr=MappingProxyType(dict(raw["special_abbr"])),
        placeholders=frozenset(raw["placeholders"]),
        food_and_shops=tuple(raw["food_and_shops"]),
        place_words=tuple(sorted(raw["place_words"], key=len, reverse=True)),
        word_tails=tuple(raw["word_tails"]),
        title_tails=tuple(raw["title_tails"]),
    )
