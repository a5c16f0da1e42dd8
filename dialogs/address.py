"""Typed addresses to province / city / district.

cpca knows every county-level name and its parents, but three things make its raw answer a poor
guess for a citizen's message: its data predates several re-divisions (it still says 即墨市), it
only reads Chinese, and it picks the first of several same-named districts whatever city the
service runs in. The parser keeps cpca's matcher and data and fixes those three on top. A fourth:
county names hide in everyday words (大城市, 拆迁安置, 周辉县长, 樟树), so a county-level name
counts only where it reads as a place (see ``_bare_counts``). The names and word lists are data,
in dialogs/resources/address_tables.json; the index built from them is dialogs/place_index.py.

We call cpca's matcher (``cpca.matcher``) rather than ``cpca.transform``: the matching is the
same, but ``transform`` builds a pandas DataFrame per call (0.6 ms) and hides the candidates we
need to resolve same-named districts against the default city.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import cpca

from dialogs.geo import CountyLocator
from dialogs.place_context import alone, clear, introduced, place_word_at, town_tail, word_tail
from dialogs.place_index import AdminUnit, PlaceIndex, build_index, resolve_default
from dialogs.place_tables import place_tables
from dialogs.streets import STREET


@dataclass(frozen=True, slots=True)
class Address:
    province: str | None
    city: str | None
    district: str | None
    detail: str  # what is left after the administrative parts (street, building)
    label: str  # the text as the citizen wrote it, for staff


_TABLES: Final = place_tables()
# Names cpca carries that are also everyday words (安宁 "peace", 东方 "east", 三明治 "sandwich",
# 合作 "cooperate", 城区 "downtown"): they count only next to a parent place in the text or inside
# the default city, so "吵得不得安宁" does not send a ticket to Kunming.
_COMMON_WORDS: Final = _TABLES.common_words
# English spellings that are not Hanyu Pinyin (Urumqi is "wulumuqi" in pinyin).
_EXONYMS: Final = _TABLES.exonyms
# Capitalised English words that happen to spell the pinyin of a place (June → 居?, Line → 临?).
_ENGLISH_WORDS: Final = _TABLES.english_words
# English words that name the administrative level of the word before them.
_LEVEL_WORDS: Final = _TABLES.level_words
_PLACEHOLDERS: Final = _TABLES.placeholders
# Dishes and chain shops named after a place and found in every city: 沙县小吃 in Qingdao is not
# a ticket for 三明市沙县.
_FOOD_AND_SHOPS: Final = re.compile("|".join(_TABLES.food_and_shops))

# A city or province name right before one of these is a street named after it (辽宁路, 延安一路,
# 香港中路), not the place.
_STREET_AFTER: Final = re.compile(r"(?:[东西南北中]|[一二三四五六七八九十]+|\d+)?(?:路|街|大街|大道|巷|弄|胡同)")
_ZERO_WIDTH: Final[frozenset[str]] = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad")
_ENGLISH_TOKEN: Final = re.compile(r"[A-Za-z]+")
_RANK_WEIGHT: Final = (3.0, 6.0, 10.0)
_CACHE_SIZE: Final = 1024


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    places: tuple[AdminUnit, ...]
    weak: bool = False  # an everyday word: needs a parent place to count
    ranks: frozenset[int] = frozenset({0, 1, 2})
    # A county-level reading of a short name (樟树, 迁安) or of a guessed suffix (大城市): it counts
    # only right after its city or province, before a place word (镇, 小区), or, inside the
    # service area, standing clear of the words around it (``clear``).
    bare: bool = False
    clear: bool = False


class AddressParser:
    def __init__(
        self,
        default_province: str | None = None,
        default_city: str | None = None,
        locator: CountyLocator | None = None,
    ) -> None:
        self._province = default_province
        self._city = default_city
        self._index: PlaceIndex | None = None
        self._locator = locator
        self._cached: Callable[[str], Address | None] = lru_cache(maxsize=_CACHE_SIZE)(self._parse)

    def parse(self, text: str) -> Address | None:
        """Memoised because the same message is parsed by the extractor and again by the form."""
        return self._cached(text)

    def warm_up(self) -> None:
        """Builds the index now (a few hundred ms) so the first citizen does not pay for it."""
        self._idx()
        self._locate()

    def place_at(self, lat: float, lon: float) -> Address | None:
        """The county-level unit a shared pin lies in (see dialogs/geo.py)."""
        found = self._locate().locate(lat, lon)
        return None if found is None else Address(found.province, found.city, found.district, "", "")

    def outside_area(self, province: str | None, city: str | None) -> bool:
        """True when a place is known to lie outside the service city (or province): the citizen
        is asked before it is filed there. Unknown places and services without an area are in."""
        idx = self._idx()
        if idx.default_city is not None:
            if city is not None:
                return city != idx.default_city
            home = idx.by_name.get(idx.default_city) or []
            return province is not None and any(province != h.province for h in home[:1])
        return idx.default_province is not None and province is not None and province != idx.default_province

    def county_names(self, city: str | None = None) -> frozenset[str]:
        """Today's official county-level names (区, 县, 县级市), within ``city`` when given (青岛 or
        青岛市): what the config checks ``departments[].districts`` against, since routing compares
        them with the district this parser finds and a typo would silently never match."""
        idx = self._idx()
        wanted = resolve_default(city, idx, 1) if city else None
        return frozenset(
            p.district
            for places in idx.by_name.values()
            for p in places
            if p.rank == 2 and p.district and (wanted is None or p.city == wanted)
        )

    # -- parsing ------------------------------------------------------------------------------------

    def _locate(self) -> CountyLocator:
        if self._locator is None:
            self._locator = CountyLocator.shipped()
        return self._locator

    def _idx(self) -> PlaceIndex:
        if self._index is None:
            self._index = build_index(self._province, self._city)
        return self._index

    def _parse(self, text: str) -> Address | None:
        if not text or text.isspace():
            return None
        idx = self._idx()
        norm, origin = _normalise(text)
        norm = _FOOD_AND_SHOPS.sub(lambda m: "#" * len(m.group()), norm)
        hits = _drop_contained(_extra_hits(norm, idx) + _cpca_hits(norm, idx) + _english_hits(norm, idx))
        chosen = _choose(hits, idx, norm)
        if chosen is None:
            typed = _short_hit(norm, 0, idx.default_city, idx)
            if typed is None or not (clear(norm, 0, typed.end) or STREET.match(norm, typed.end)):
                return None  # 崂山松岭路 is a place in Qingdao, 樟树都被砍了 is not one in Yichun
            used = [typed]
            place = typed.places[0]
        else:
            place, hit = chosen
            if place.rank == 1 and place.city is not None:
                short = _short_hit(norm, hit.end, place.city, idx)
                if short is not None:
                    hits.append(short)
                    place = short.places[0]
            used = [h for h in hits if any(place.within(p) for p in h.places)]
        return Address(place.province, place.city, place.district, _detail(text, origin, used), text)


# -- matching ---------------------------------------------------------------------------------------


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC with a map back to the original, so the detail keeps the citizen's punctuation while
    matching sees plain digits and ASCII."""
    kept = [i for i, ch in enumerate(text) if ch not in _ZERO_WIDTH]
    stripped = "".join(text[i] for i in kept) if len(kept) < len(text) else text
    norm = unicodedata.normalize("NFKC", stripped)
    if len(norm) == len(stripped):  # full-width forms map one to one
        return norm, [*kept, len(text)]
    out: list[str] = []
    origin: list[int] = []
    for i in kept:
        n = unicodedata.normalize("NFKC", text[i])
        out.append(n)
        origin.extend([i] * len(n))
    origin.append(len(text))
    return "".join(out), origin


def _extra_hits(norm: str, idx: PlaceIndex) -> list[_Hit]:
    hits: list[_Hit] = []
    for i in range(1, len(norm)):
        if norm[i - 1 : i + 1] not in idx.extra_tails:
            continue
        ch = norm[i]
        for length in idx.extra_lengths:
            start = i + 1 - length
            if start < 0:
                continue
            found = idx.extra.get(norm[start : i + 1])
            if found is None:
                continue
            if ch == "市" and norm[i + 1 : i + 2] == "场":  # 和平市场 is a market
                continue
            places, bare = found
            if word_tail(norm, i + 1, bare):
                break
            hits.append(_Hit(start, i + 1, places, bare=bare))  # a guessed suffix is never clear (大城市)
            break
    return hits


def _cpca_hits(norm: str, idx: PlaceIndex) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in cpca.matcher.iter(norm):
        infos = [i for i in m.attr_infos if i.name not in _PLACEHOLDERS]
        if not infos:
            continue
        word: str = m.origin_value
        start: int = m.start_index
        end: int = m.end_index + 1
        abbreviated = all(i.name != word for i in infos)
        if abbreviated:
            if _STREET_AFTER.match(norm, end):
                continue
            if norm[end : end + 1] in ("省", "市", "区", "县"):  # 即墨 + 区: cpca knows only 即墨市
                end += 1
        if word_tail(norm, end, abbreviated):  # 和平区域, 周辉县长
            continue
        places = tuple(idx.by_code[i.adcode] for i in infos if i.adcode in idx.by_code)
        standing = clear(norm, start, end)
        # 和县 and 滑县 are full names, and words; 比如县城 is as often 比如 + 县城
        bare = abbreviated or (len(word) == 2 and not standing) or town_tail(norm, end)
        if places:
            hits.append(_Hit(start, end, places, word in _COMMON_WORDS or len(word) < 2, bare=bare, clear=standing))
    return hits


def _english_hits(norm: str, idx: PlaceIndex) -> list[_Hit]:
    if _ENGLISH_TOKEN.search(norm) is None:
        return []
    tokens = list(_ENGLISH_TOKEN.finditer(norm))
    caseless = not any(c.isupper() for c in norm if c.isascii())
    hits: list[_Hit] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            group = tokens[i : i + n]
            if len(group) < n or any(b.start() - a.end() > 2 for a, b in itertools.pairwise(group)):
                continue
            key = "".join(t.group().lower() for t in group)
            places = idx.pinyin.get(key)
            if not places:
                continue
            nxt = tokens[i + n].group().lower() if i + n < len(tokens) else ""
            ranks = _LEVEL_WORDS.get(nxt)
            named = key not in _ENGLISH_WORDS and _capitalised(group, norm)
            loose = caseless and len(key) >= 5 and key not in _ENGLISH_WORDS
            if ranks is None and not (named or loose) and key not in _EXONYMS:
                continue
            if ranks is not None:
                fitting = tuple(p for p in places if p.rank in ranks)
                places = fitting or places
            end = tokens[i + n].end() if ranks is not None else group[-1].end()
            hits.append(_Hit(group[0].start(), end, places))
            i += n + (1 if ranks is not None else 0) - 1
            break
        i += 1
    return hits


def _capitalised(group: list[re.Match[str]], norm: str) -> bool:
    """Place names are capitalised in English; Xi'an and Da-ban-cheng count as one word."""
    return group[0].group()[0].isupper() and all(
        t.group()[0].isupper() or norm[prev.end()] in "'’-" for prev, t in itertools.pairwise(group)
    )


def _drop_contained(hits: list[_Hit]) -> list[_Hit]:
    """A name inside a longer one (即墨 in 即墨区, 西海岸 in 青岛西海岸新区) is the same mention; the
    same name from two sources (深圳's new 龙华区 and cpca's 海口 one) keeps both readings."""
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[_Hit] = []
    for h in hits:
        same = next((i for i, k in enumerate(kept) if (k.start, k.end) == (h.start, h.end)), None)
        if same is not None:
            k = kept[same]
            places = (*k.places, *(p for p in h.places if p not in k.places))
            kept[same] = _Hit(k.start, k.end, places, k.weak and h.weak, k.ranks | h.ranks, k.bare and h.bare, k.clear)
        elif not any(k.start <= h.start and h.end <= k.end for k in kept):
            kept.append(h)
    return kept


def _choose(hits: list[_Hit], idx: PlaceIndex, norm: str) -> tuple[AdminUnit, _Hit] | None:
    """The most specific place best supported by the rest of the text, then by the defaults.
    A tie goes to the earliest mention, then to the likelier of same-named places: a
    municipality's district, then a provincial capital's (adcode xx01), then cpca's order."""
    best: tuple[float, int, int, int] | None = None
    chosen: tuple[AdminUnit, _Hit] | None = None
    for hit in hits:
        for order, place in enumerate(hit.places):
            if place.rank not in hit.ranks:
                continue
            city_support = prov_support = False
            for other in hits:
                if other is hit or other.weak:
                    continue
                for p in other.places:
                    if p.contains(place):
                        city_support |= p.rank == 1
                        prov_support |= p.rank == 0
            in_city = idx.default_city is not None and place.city == idx.default_city
            in_province = idx.default_province is not None and place.province == idx.default_province
            if hit.weak and not (city_support or prov_support or in_city or in_province):
                continue
            if hit.bare and place.county_level and not _bare_counts(hit, place, hits, norm, in_city or in_province):
                continue
            score = _RANK_WEIGHT[place.rank] + 4 * city_support + 2 * prov_support + 1.0 * in_city + 0.5 * in_province
            prominence = 2 if place.city == place.province else int(place.code[2:4] == "01")
            key = (score, -hit.start, prominence, -order)
            if best is None or key > best:
                best, chosen = key, (place, hit)
    return chosen


def _bare_counts(hit: _Hit, place: AdminUnit, hits: list[_Hit], norm: str, in_area: bool) -> bool:
    """Right after its parent (唐山迁安, 宜春的樟树), before a place word (樟树镇), or clear of the
    words around it (即墨这边, not 拆迁安置): inside the service area, or after 在, 回, 到…"""
    if place_word_at(norm, hit.end) or alone(norm, hit.start, hit.end):
        return True  # ... or all the text says: the answer to "where?"
    for other in hits:
        gap = norm[other.end : hit.start]
        if other is not hit and gap in ("", " ", "的") and any(p.contains(place) for p in other.places):
            return True
    return hit.clear and (in_area or introduced(norm, hit.start))  # 回讷河, 在昆山


def _short_hit(norm: str, at: int, city: str | None, idx: PlaceIndex) -> _Hit | None:
    """A district without its 区 right after its city (青岛城阳), or at the very start of a typed
    address in the default city; anywhere else 市南 or 城阳 are too often parts of other words."""
    if city is None:
        return None
    shorts = idx.shorts.get(city)
    if not shorts:
        return None
    while at < len(norm) and norm[at] in " 的":
        at += 1
    for length in idx.short_lengths:
        if at + length > len(norm):
            continue
        place = shorts.get(norm[at : at + length])
        if place is not None:
            return _Hit(at, at + length, (place,))
    return None


def _detail(text: str, origin: list[int], used: list[_Hit]) -> str:
    spans = sorted((origin[h.start], origin[h.end]) for h in used)
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            parts.append(text[pos:start])
        pos = max(pos, end)
    parts.append(text[pos:])
    detail = "".join(parts)
    detail = re.sub(r"[（(【\[]\s*[）)】\]]", "", detail)
    detail = re.sub(r"\b(?:in|at|near|of)\s*(?=[,.;!?]|$)", "", detail)
    detail = re.sub(r"\s+([,.;:!?，。；：！？、])", r"\1", detail)
    detail = re.sub(r"\s{2,}", " ", detail)
    return detail.strip(" \t\r\n,.;:!?，。；：！？、·-—的")
