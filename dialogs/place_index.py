"""The index of place names the address parser matches against, built once per parser from
cpca's data and our tables (dialogs/resources/address_tables.json).

cpca's data is from mid-2016: the index applies the re-divisions since (即墨市 → 即墨区), adds the
forms a renamed or re-suffixed name may take (宁乡县 → 宁乡市), the short names of districts per
city (青岛 → 市南, 城阳) and the pinyin of every name for English messages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib.resources import files
from typing import Final

import cpca
from pypinyin import Style, pinyin

from dialogs.place_tables import Rename, place_tables

_TABLES: Final = place_tables()
_RENAMES: Final = _TABLES.renames
_EXONYMS: Final = _TABLES.exonyms
_PLACEHOLDERS: Final = _TABLES.placeholders
_SPECIAL_ABBR: Final = _TABLES.special_abbr
_NAME_SUFFIX: Final = re.compile(r"(特别行政区|自治区|自治州|自治县|自治旗|地区|新区|林区|矿区|省|市|区|县|盟|旗)$")
_CPCA_STOP: Final = re.compile(r"([省市]|特别行政区|自治区)$")


def _load_nations() -> frozenset[str]:
    text = files("cpca.resources").joinpath("56_nations.csv").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


_NATIONS: Final[frozenset[str]] = _load_nations()


@dataclass(frozen=True, slots=True)
class AdminUnit:
    rank: int  # 0 province, 1 city, 2 county level
    code: str  # six-digit adcode; only its prefix (province, city) is relied upon
    province: str
    city: str | None
    district: str | None

    @property
    def county_level(self) -> bool:
        """A 区, 县 or 县级市, 仙桃 and 天门 included (they have no district level under them)."""
        return self.rank == 2 or (self.rank == 1 and self.code[4:6] not in ("", "00"))

    def contains(self, other: AdminUnit) -> bool:
        if self.rank >= other.rank:
            return False
        n = 2 * (self.rank + 1)
        return self.code[:n] == other.code[:n]

    def within(self, other: AdminUnit) -> bool:
        return self == other or other.contains(self)


@dataclass(slots=True)
class PlaceIndex:
    """Everything built from cpca's data once per parser: the renamed places, the extra names and
    the pinyin keys."""

    by_code: dict[str, AdminUnit] = field(default_factory=dict)
    by_name: dict[str, list[AdminUnit]] = field(default_factory=dict)
    extra: dict[str, tuple[tuple[AdminUnit, ...], bool]] = field(default_factory=dict)
    extra_tails: set[str] = field(default_factory=set)  # last two characters
    extra_lengths: list[int] = field(default_factory=list)
    shorts: dict[str, dict[str, AdminUnit]] = field(default_factory=dict)  # city → short name → place
    short_lengths: list[int] = field(default_factory=list)
    pinyin: dict[str, tuple[AdminUnit, ...]] = field(default_factory=dict)
    default_city: str | None = None
    default_province: str | None = None


def build_index(default_province: str | None, default_city: str | None) -> PlaceIndex:
    idx = PlaceIndex()
    renamed: dict[tuple[str, str | None], Rename] = {}
    city_renames: dict[str, str] = {}
    for r in _RENAMES:
        for was in r.was:
            renamed[was] = r
            if r.district is None and was[1] is None:
                city_renames[was[0]] = r.city

    names: dict[str, str] = {info.adcode: info.name for info in cpca.ad_2_addr_dict.values()}
    parents: dict[str, str] = {}  # province or city name → its code
    for code, name in names.items():
        if name in _PLACEHOLDERS:
            continue
        province = names[code[:2] + "0000"]
        if code.endswith("0000"):  # a municipality is its own city
            city = province if names.get(code[:2] + "0100") == "市辖区" else None
            place = AdminUnit(0, code, province, city, None)
        elif code.endswith("00"):
            place = AdminUnit(1, code, province, city_renames.get(name, name), None)
        else:
            parent = names.get(code[:4] + "00", "")
            if parent in ("市辖区", "县"):  # a municipality: the province is the city
                place = AdminUnit(2, code, province, province, name)
            elif parent.endswith("直辖县级行政区划"):  # 仙桃市, 儋州市: a city with no district level
                place = AdminUnit(1, code, province, name, None)
            else:
                place = AdminUnit(2, code, province, city_renames.get(parent, parent), name)
        if place.rank == 0:
            parents.setdefault(place.province, code)
        elif place.rank == 1 and place.city is not None:
            parents.setdefault(place.city, code)
        idx.by_code[code] = place

    for code, place in list(idx.by_code.items()):
        was = (place.city or "", place.district) if place.rank == 2 else (names[code], None)
        rename = renamed.get(was)
        if rename is not None and (rename.district is not None or place.rank == 1):
            idx.by_code[code] = _renamed_place(rename, code, parents)

    taken = {_CPCA_STOP.sub("", n) for n in names.values()} | set(names.values())
    for r in _RENAMES:
        place = _renamed_place(r, "", parents)
        for alias in (r.district or r.city, *r.aliases):
            idx.extra[alias] = ((place,), False)
    for place in idx.by_code.values():
        for variant in _suffix_variants(place):
            if variant not in taken and variant not in idx.extra:
                idx.extra[variant] = ((replace(place, district=variant),), True)
    idx.extra_tails = {k[-2:] for k in idx.extra}
    idx.extra_lengths = sorted({len(k) for k in idx.extra}, reverse=True)

    # Official names only (cpca's records, renamed, and the new districts), in a fixed order so
    # that two names with one short form or one spelling always resolve the same way.
    official = dict.fromkeys([*idx.by_code.values(), *(_renamed_place(r, "", parents) for r in _RENAMES)])
    for place in official:
        full = _own_name(place)
        idx.by_name.setdefault(full, []).append(place)
        base = base_name(full)
        if place.rank == 2 and place.city is not None and len(base) >= 2 and base != full:
            idx.shorts.setdefault(place.city, {}).setdefault(base, place)
        if len(base) >= 2:
            for key in _pinyin_keys(base):
                idx.pinyin[key] = (*idx.pinyin.get(key, ()), place)
    idx.short_lengths = sorted({len(s) for d in idx.shorts.values() for s in d}, reverse=True)
    for key, zh in _EXONYMS.items():
        idx.pinyin[key] = tuple(idx.by_name.get(zh, ()))
    for key, places in idx.pinyin.items():
        idx.pinyin[key] = tuple(sorted(dict.fromkeys(places), key=lambda p: (p.rank, p.code)))

    idx.default_city = resolve_default(default_city, idx, 1)
    idx.default_province = resolve_default(default_province, idx, 0)
    return idx


def _renamed_place(r: Rename, old_code: str, parents: dict[str, str]) -> AdminUnit:
    """Keeps the old code's tail under the new parent so containment by adcode prefix still works."""
    prefix = parents[r.city][:4] if r.city in parents else parents.get(r.province, "00")[:2] + "01"
    return AdminUnit(2 if r.district else 1, prefix + (old_code[4:] or "99"), r.province, r.city, r.district)


def _suffix_variants(place: AdminUnit) -> Iterable[str]:
    """县 and county-level 市 keep their name when they become a 区 or a 市 (宁乡县 → 宁乡市), so
    the new form is accepted before anyone adds it to _RENAMES."""
    name = place.district
    if place.rank != 2 or name is None or name[-1] not in "县市" or len(name) < 3:
        return ()
    base = name[:-1]
    return (base + "区", base + "市") if name[-1] == "县" else (base + "区",)


def _own_name(place: AdminUnit) -> str:
    return place.district or place.city or place.province


def base_name(name: str) -> str:
    if name in _SPECIAL_ABBR:
        return _SPECIAL_ABBR[name]
    base = _NAME_SUFFIX.sub("", name)
    while True:  # 湘西土家族苗族自治州 → 湘西
        nation = next((n for n in _NATIONS if base.endswith(n) and len(base) - len(n) >= 2), None)
        if nation is None:
            return base
        base = base[: -len(nation)]


def _pinyin_keys(base: str) -> list[str]:
    """Every reading of a name (长治 is zhangzhi to pypinyin but Changzhi on the map), capped so a
    name of polyphones does not flood the index."""
    readings = pinyin(base, style=Style.NORMAL, heteronym=True, errors="ignore")
    keys: list[str] = []
    for combo in itertools.islice(itertools.product(*readings), 16):
        key = "".join(combo)
        keys.append(key)
        if "v" in key:  # 吕梁: lvliang or luliang
            keys.append(key.replace("v", "u"))
    return keys


def resolve_default(name: str | None, idx: PlaceIndex, rank: int) -> str | None:
    if not name:
        return None
    short = short_name(name)
    for place in idx.by_code.values():
        own = place.city if rank == 1 else place.province
        if own is not None and short_name(own) == short:
            return own
    return name


def short_name(name: str) -> str:
    return _SPECIAL_ABBR.get(name) or _CPCA_STOP.sub("", name)
