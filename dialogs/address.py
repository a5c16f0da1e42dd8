"""Typed addresses to province / city / district.

cpca knows every county-level name and its parents, but three things make its raw answer a poor
guess for a citizen's message: its data predates several re-divisions (it still says 即墨市), it
only reads Chinese, and it picks the first of several same-named districts whatever city the
service runs in. The parser keeps cpca's matcher and data and fixes those three on top.

We call cpca's bundled matcher (``cpca.matcher``, ``cpca.ad_2_addr_dict``) rather than
``cpca.transform``: the matching is the same, but ``transform`` wraps every call in a pandas
DataFrame, which alone costs about 0.6 ms, and it hides the candidate list we need to resolve
same-named districts against the default city.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Final, NamedTuple

import cpca
from pypinyin import Style, pinyin


@dataclass(frozen=True, slots=True)
class Address:
    province: str | None
    city: str | None
    district: str | None
    detail: str  # what is left after the administrative parts (street, building)
    label: str  # the text as the citizen wrote it, for staff


class _Rename(NamedTuple):
    """A current county-level name and the names cpca's (2016) data still uses for it.

    ``was`` pairs are (city, district) as cpca names them, district None meaning the city record
    itself; ``aliases`` are other names people write for the same place.
    """

    province: str
    city: str
    district: str | None
    was: tuple[tuple[str, str | None], ...] = ()
    aliases: tuple[str, ...] = ()


# Re-divisions after cpca 0.5.5's data (mid-2016), from the State Council approvals. Plain suffix
# changes of the same name (济阳县 → 济阳区, 宁乡县 → 宁乡市) are also caught generically (see
# _suffix_variants), but are listed where known so that the old name reads as the new one.
_RENAMES: Final[tuple[_Rename, ...]] = (
    _Rename("山东省", "青岛市", "即墨区", (("青岛市", "即墨市"),)),  # 2017
    _Rename("山东省", "青岛市", "黄岛区", (), ("西海岸新区", "青岛西海岸新区")),  # same area
    _Rename("山东省", "济南市", "章丘区", (("济南市", "章丘市"),)),  # 2016-12
    _Rename("山东省", "济南市", "济阳区", (("济南市", "济阳县"),)),  # 2018
    _Rename("山东省", "济南市", "莱芜区", (("莱芜市", "莱城区"), ("莱芜市", None))),  # 2019
    _Rename("山东省", "济南市", "钢城区", (("莱芜市", "钢城区"),)),  # 2019
    _Rename("山东省", "烟台市", "蓬莱区", (("烟台市", "蓬莱市"), ("烟台市", "长岛县"))),  # 2020
    _Rename("山东省", "聊城市", "茌平区", (("聊城市", "茌平县"),)),  # 2019
    _Rename("浙江省", "杭州市", "临安区", (("杭州市", "临安市"),)),  # 2017
    _Rename("浙江省", "杭州市", "拱墅区", (("杭州市", "下城区"),)),  # 2021 merger
    _Rename("浙江省", "杭州市", "上城区", (("杭州市", "江干区"),)),  # 2021 merger
    _Rename("浙江省", "杭州市", "临平区"),  # 2021, from 余杭区
    _Rename("浙江省", "杭州市", "钱塘区"),  # 2021
    _Rename("浙江省", "宁波市", "奉化区", (("宁波市", "奉化市"),)),  # 2016-09
    _Rename("江苏省", "南通市", "海门区", (("南通市", "海门市"),)),  # 2020
    _Rename("福建省", "福州市", "长乐区", (("福州市", "长乐市"),)),  # 2017
    _Rename("福建省", "漳州市", "龙海区", (("漳州市", "龙海市"),)),  # 2021
    _Rename("福建省", "漳州市", "长泰区", (("漳州市", "长泰县"),)),  # 2021
    _Rename("福建省", "三明市", "沙县区", (("三明市", "沙县"),)),  # 2021
    _Rename("江西省", "南昌市", "红谷滩区"),  # 2019, new
    _Rename("安徽省", "芜湖市", "湾沚区", (("芜湖市", "芜湖县"),)),  # 2020
    _Rename("安徽省", "芜湖市", "繁昌区", (("芜湖市", "繁昌县"),)),  # 2020
    _Rename("安徽省", "芜湖市", "弋江区", (("芜湖市", "三山区"),)),  # 2020 merger
    _Rename("江西省", "九江市", "柴桑区", (("九江市", "九江县"),)),  # 2017
    _Rename("江西省", "上饶市", "广信区", (("上饶市", "上饶县"),)),  # 2019
    _Rename("江西省", "鹰潭市", "余江区", (("鹰潭市", "余江县"),)),  # 2018
    _Rename("江西省", "赣州市", "赣县区", (("赣州市", "赣县"),)),  # 2016-10
    _Rename("江西省", "抚州市", "东乡区", (("抚州市", "东乡县"),)),  # 2016-11
    _Rename("湖南省", "株洲市", "渌口区", (("株洲市", "株洲县"),)),  # 2018
    _Rename("山西省", "长治市", "潞州区", (("长治市", "城区"), ("长治市", "郊区"))),  # 2018
    _Rename("山西省", "长治市", "上党区", (("长治市", "长治县"),)),  # 2018
    _Rename("山西省", "长治市", "屯留区", (("长治市", "屯留县"),)),  # 2018
    _Rename("山西省", "长治市", "潞城区", (("长治市", "潞城市"),)),  # 2018
    _Rename("山西省", "大同市", "平城区", (("大同市", "城区"),)),  # 2018
    _Rename("山西省", "大同市", "云冈区", (("大同市", "矿区"), ("大同市", "南郊区"))),  # 2018
    _Rename("山西省", "大同市", "云州区", (("大同市", "大同县"),)),  # 2018
    _Rename("山西省", "晋中市", "太谷区", (("晋中市", "太谷县"),)),  # 2019
    _Rename("陕西省", "西安市", "鄠邑区", (("西安市", "户县"),), ("户县",)),  # 2016-11
    _Rename("四川省", "成都市", "郫都区", (("成都市", "郫县"),)),  # 2016-12
    _Rename("四川省", "成都市", "新津区", (("成都市", "新津县"),)),  # 2020
    _Rename("四川省", "宜宾市", "叙州区", (("宜宾市", "宜宾县"),)),  # 2018
    _Rename("四川省", "德阳市", "罗江区", (("德阳市", "罗江县"),)),  # 2017
    _Rename("云南省", "昆明市", "晋宁区", (("昆明市", "晋宁县"),)),  # 2016-10
    _Rename("云南省", "曲靖市", "马龙区", (("曲靖市", "马龙县"),)),  # 2018
    _Rename("广东省", "深圳市", "龙华区"),  # 2016-17, new
    _Rename("广东省", "深圳市", "坪山区"),  # 2016-17, new
    _Rename("广东省", "深圳市", "光明区"),  # 2018, new
    _Rename("重庆市", "重庆市", "梁平区", (("重庆市", "梁平县"),)),  # 2016-11
    _Rename("重庆市", "重庆市", "武隆区", (("重庆市", "武隆县"),)),  # 2016-11
    _Rename("西藏自治区", "拉萨市", "达孜区", (("拉萨市", "达孜县"),)),  # 2017
    _Rename("西藏自治区", "那曲市", None, (("那曲地区", None),)),  # 2017, 地区 → 市
    _Rename("西藏自治区", "那曲市", "色尼区", (("那曲地区", "那曲县"),)),  # 2017
)

# Names cpca carries that are also everyday words (安宁 "peace", 东方 "east", 三明治 "sandwich",
# 合作 "cooperate", 城区 "downtown"): they count only next to a parent place in the text or inside
# the default city, so "吵得不得安宁" does not send a ticket to Kunming.
_COMMON_WORDS: Final[frozenset[str]] = frozenset(
    {
        "城区",
        "郊区",
        "矿区",
        "东区",
        "西区",
        "老城区",
        "新城区",
        "新市区",
        "城中区",
        "城东区",
        "城西区",
        "城北区",
        "城关区",
        "合作",
        "东方",
        "江山",
        "阳春",
        "安宁",
        "永安",
        "安康",
        "朝阳",
        "长治",
        "大同",
        "津市",
        "沙河",
        "三河",
        "开平",
        "开原",
        "开远",
        "大安",
        "新民",
        "临江",
        "龙井",
        "灯塔",
        "和龙",
        "龙泉",
        "中山",
        "天长",
        "三明",
        "普洱",
        "白山",
        "黑河",
        "长乐",
        "海城",
        "东港",
        "宁安",
        "安国",
        "福安",
        "永康",
        "明光",
        "南宫",
        "高安",
        "孝义",
        "当阳",
        "赤水",
        "合山",
        "宜城",
        "安达",
        "北安",
        "乐平",
        "新乐",
        "华阴",
        "东兴",
        "海宁",
        "万宁",
        "山南",
        "和平",
        "平安",
    }
)

# A city or province name right before one of these is a street named after it (辽宁路, 延安一路,
# 香港中路), not the place.
_STREET_AFTER: Final = re.compile(r"(?:[东西南北中]|[一二三四五六七八九十]+|\d+)?(?:路|街|大街|大道|巷|弄|胡同)")

# English spellings that are not Hanyu Pinyin (Urumqi is "wulumuqi" in pinyin), or that pinyin
# without tones gets wrong (陕西 and 山西 are both "shanxi").
_EXONYMS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "urumqi": "乌鲁木齐市",
        "urumchi": "乌鲁木齐市",
        "hohhot": "呼和浩特市",
        "harbin": "哈尔滨市",
        "kashgar": "喀什地区",
        "lhasa": "拉萨市",
        "tibet": "西藏自治区",
        "innermongolia": "内蒙古自治区",
        "shaanxi": "陕西省",
        "shanxi": "山西省",
        "peking": "北京市",
        "canton": "广州市",
        "hongkong": "香港特别行政区",
        "macau": "澳门特别行政区",
        "macao": "澳门特别行政区",
    }
)

# Capitalised English words that happen to spell the pinyin of a place (June → 居?, Line → 临?).
_ENGLISH_WORDS: Final[frozenset[str]] = frozenset(
    {
        "change",
        "line",
        "june",
        "guide",
        "dean",
        "lean",
        "anti",
        "mile",
        "saga",
        "jingle",
        "bose",
        "anna",
        "ali",
        "yuan",
        "sina",
        "hema",
        "bole",
        "eli",
        "bobo",
        "tuan",
        "ande",
        "anda",
        "mose",
    }
)

# English words that name the administrative level of the word before them.
_LEVEL_WORDS: Final[Mapping[str, frozenset[int]]] = MappingProxyType(
    {
        "district": frozenset({2}),
        "county": frozenset({2}),
        "qu": frozenset({2}),
        "xian": frozenset({2}),
        "banner": frozenset({2}),
        "city": frozenset({1, 2}),
        "shi": frozenset({1, 2}),
        "prefecture": frozenset({1}),
        "province": frozenset({0}),
        "sheng": frozenset({0}),
    }
)

_ZERO_WIDTH: Final[frozenset[str]] = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad")
_PLACEHOLDERS: Final[frozenset[str]] = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_NAME_SUFFIX: Final = re.compile(r"(特别行政区|自治区|自治州|自治县|自治旗|地区|新区|林区|矿区|省|市|区|县|盟|旗)$")
_CPCA_STOP: Final = re.compile(r"([省市]|特别行政区|自治区)$")
_SPECIAL_ABBR: Final[Mapping[str, str]] = MappingProxyType(
    {
        "内蒙古自治区": "内蒙古",
        "广西壮族自治区": "广西",
        "西藏自治区": "西藏",
        "新疆维吾尔自治区": "新疆",
        "宁夏回族自治区": "宁夏",
    }
)
# Dishes and chain shops named after a place and found in every city: 沙县小吃 in Qingdao is not
# a ticket for 三明市沙县.
_FOOD_AND_SHOPS: Final = re.compile(
    "沙县小吃|兰州拉面|兰州牛肉面|重庆火锅|重庆小面|北京烤鸭|天津包子|新疆大盘鸡|武汉热干面|桂林米粉"
    "|柳州螺蛳粉|长沙臭豆腐|扬州炒饭|延吉冷面|潮汕牛肉|云南过桥米线"
)
_ENGLISH_TOKEN: Final = re.compile(r"[A-Za-z]+")
_RANK_WEIGHT: Final = (3.0, 6.0, 10.0)
_CACHE_SIZE: Final = 1024


def _load_nations() -> frozenset[str]:
    from importlib.resources import files

    text = files("cpca.resources").joinpath("56_nations.csv").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


_NATIONS: Final[frozenset[str]] = _load_nations()


@dataclass(frozen=True, slots=True)
class _Place:
    rank: int  # 0 province, 1 city, 2 county level
    code: str  # six-digit adcode; only its prefix (province, city) is relied upon
    province: str
    city: str | None
    district: str | None

    def contains(self, other: _Place) -> bool:
        if self.rank >= other.rank:
            return False
        n = 2 * (self.rank + 1)
        return self.code[:n] == other.code[:n]

    def within(self, other: _Place) -> bool:
        return self == other or other.contains(self)


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    places: tuple[_Place, ...]
    weak: bool = False  # an everyday word: needs a parent place to count
    ranks: frozenset[int] = frozenset({0, 1, 2})


@dataclass(slots=True)
class _Index:
    """Everything built from cpca's data once per parser: the renamed places, the extra names and
    the pinyin keys."""

    by_code: dict[str, _Place] = field(default_factory=dict)
    by_name: dict[str, list[_Place]] = field(default_factory=dict)
    extra: dict[str, tuple[tuple[_Place, ...], bool]] = field(default_factory=dict)
    extra_tails: set[str] = field(default_factory=set)  # last two characters
    extra_lengths: list[int] = field(default_factory=list)
    shorts: dict[str, dict[str, _Place]] = field(default_factory=dict)  # city → short name → place
    short_lengths: list[int] = field(default_factory=list)
    pinyin: dict[str, tuple[_Place, ...]] = field(default_factory=dict)
    default_city: str | None = None
    default_province: str | None = None


class AddressParser:
    def __init__(self, default_province: str | None = None, default_city: str | None = None) -> None:
        self._province = default_province
        self._city = default_city
        self._index: _Index | None = None
        self._cached: Callable[[str], Address | None] = lru_cache(maxsize=_CACHE_SIZE)(self._parse)

    def parse(self, text: str) -> Address | None:
        """Memoised because the same message is parsed by the extractor and again by the form."""
        return self._cached(text)

    def warm_up(self) -> None:
        """Builds the index now (a few hundred ms) so the first citizen does not pay for it."""
        self._idx()

    # -- parsing ------------------------------------------------------------------------------------

    def _idx(self) -> _Index:
        if self._index is None:
            self._index = _build_index(self._province, self._city)
        return self._index

    def _parse(self, text: str) -> Address | None:
        if not text or text.isspace():
            return None
        idx = self._idx()
        norm, origin = _normalise(text)
        norm = _FOOD_AND_SHOPS.sub(lambda m: "#" * len(m.group()), norm)
        hits = _drop_contained(_extra_hits(norm, idx) + _cpca_hits(norm, idx) + _english_hits(norm, idx))
        chosen = _choose(hits, idx)
        if chosen is None:
            typed = _short_hit(norm, 0, idx.default_city, idx)
            if typed is None:
                return None
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


# -- index ------------------------------------------------------------------------------------------


def _build_index(default_province: str | None, default_city: str | None) -> _Index:
    idx = _Index()
    renamed: dict[tuple[str, str | None], _Rename] = {}
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
            place = _Place(0, code, province, city, None)
        elif code.endswith("00"):
            place = _Place(1, code, province, city_renames.get(name, name), None)
        else:
            parent = names.get(code[:4] + "00", "")
            if parent in ("市辖区", "县"):  # a municipality: the province is the city
                place = _Place(2, code, province, province, name)
            elif parent.endswith("直辖县级行政区划"):  # 仙桃市, 儋州市: a city with no district level
                place = _Place(1, code, province, name, None)
            else:
                place = _Place(2, code, province, city_renames.get(parent, parent), name)
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
                idx.extra[variant] = ((replace(place, district=variant),), False)
    idx.extra_tails = {k[-2:] for k in idx.extra}
    idx.extra_lengths = sorted({len(k) for k in idx.extra}, reverse=True)

    # Official names only (cpca's records, renamed, and the new districts), in a fixed order so
    # that two names with one short form or one spelling always resolve the same way.
    official = dict.fromkeys([*idx.by_code.values(), *(_renamed_place(r, "", parents) for r in _RENAMES)])
    for place in official:
        full = _own_name(place)
        idx.by_name.setdefault(full, []).append(place)
        base = _base_name(full)
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

    idx.default_city = _resolve_default(default_city, idx, 1)
    idx.default_province = _resolve_default(default_province, idx, 0)
    return idx


def _renamed_place(r: _Rename, old_code: str, parents: dict[str, str]) -> _Place:
    """Keeps the old code's tail under the new parent so containment by adcode prefix still works."""
    prefix = parents[r.city][:4] if r.city in parents else parents.get(r.province, "00")[:2] + "01"
    return _Place(2 if r.district else 1, prefix + (old_code[4:] or "99"), r.province, r.city, r.district)


def _suffix_variants(place: _Place) -> Iterable[str]:
    """县 and county-level 市 keep their name when they become a 区 or a 市 (宁乡县 → 宁乡市), so
    the new form is accepted before anyone adds it to _RENAMES."""
    name = place.district
    if place.rank != 2 or name is None or name[-1] not in "县市" or len(name) < 3:
        return ()
    base = name[:-1]
    return (base + "区", base + "市") if name[-1] == "县" else (base + "区",)


def _own_name(place: _Place) -> str:
    return place.district or place.city or place.province


def _base_name(name: str) -> str:
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


def _resolve_default(name: str | None, idx: _Index, rank: int) -> str | None:
    if not name:
        return None
    short = _short(name)
    for place in idx.by_code.values():
        own = place.city if rank == 1 else place.province
        if own is not None and _short(own) == short:
            return own
    return name


def _short(name: str) -> str:
    return _SPECIAL_ABBR.get(name) or _CPCA_STOP.sub("", name)


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


def _extra_hits(norm: str, idx: _Index) -> list[_Hit]:
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
            places, weak = found
            hits.append(_Hit(start, i + 1, places, weak))
            break
    return hits


def _cpca_hits(norm: str, idx: _Index) -> list[_Hit]:
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
        places = tuple(idx.by_code[i.adcode] for i in infos if i.adcode in idx.by_code)
        if places:
            hits.append(_Hit(start, end, places, word in _COMMON_WORDS or len(word) < 2))
    return hits


def _english_hits(norm: str, idx: _Index) -> list[_Hit]:
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
            kept[same] = _Hit(k.start, k.end, places, k.weak and h.weak, k.ranks | h.ranks)
        elif not any(k.start <= h.start and h.end <= k.end for k in kept):
            kept.append(h)
    return kept


def _choose(hits: list[_Hit], idx: _Index) -> tuple[_Place, _Hit] | None:
    """The most specific place best supported by the rest of the text, then by the defaults.
    A tie goes to the earliest mention, then to the likelier of same-named places: a
    municipality's district, then a provincial capital's (adcode xx01), then cpca's order."""
    best: tuple[float, int, int, int] | None = None
    chosen: tuple[_Place, _Hit] | None = None
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
            score = _RANK_WEIGHT[place.rank] + 4 * city_support + 2 * prov_support + 1.0 * in_city + 0.5 * in_province
            prominence = 2 if place.city == place.province else int(place.code[2:4] == "01")
            key = (score, -hit.start, prominence, -order)
            if best is None or key > best:
                best, chosen = key, (place, hit)
    return chosen


def _short_hit(norm: str, at: int, city: str | None, idx: _Index) -> _Hit | None:
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


_STREET = re.compile(
    r"[^\s，。,.!！?？、；;：:（）()“”\"的在里]{2,16}?"
    r"(?:大道|大街|路|街|巷|胡同|弄|小区|广场|社区|花园|大厦|公园|景区|医院|学校|镇|乡)"
    r"(?:[\d一二三四五六七八九十]+号)?"
)
_LEADING_WORDS = re.compile(r"^(?:投诉|举报|反映|咨询|求助|建议|请问|关于)+")


def street_hint(detail: str) -> str:
    """A street, square or compound named near the start of what is left after the district
    ("香港中路的路灯坏了" -> "香港中路"), so staff see where, not only which district. Empty when
    nothing looks like one; the citizen sees it marked as a guess and can change it."""
    found = _STREET.search(detail[:40])
    if found is None:
        return ""
    street = _LEADING_WORDS.sub("", found.group(0))
    if len(street) < 2 or any(p in street for p in ("我", "你", "他", "了")):
        return ""
    return street
