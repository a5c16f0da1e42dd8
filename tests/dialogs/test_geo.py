"""Shared pins to districts with the shipped county boundaries (dialogs/geo.py), and how much
better that is than the nearest centroid of cpca's adcodes.csv on known points."""

from __future__ import annotations

import csv
import math
import time
from importlib.resources import files

import pytest

from dialogs.address import AddressParser
from dialogs.geo import CountyLocator

# Known points (WGS-84, read off OpenStreetMap), several within 1-2 km of a district border.
KNOWN = [
    ((36.0625, 120.3844), "市南区"),  # 五四广场, Qingdao
    ((36.0605, 120.3185), "市南区"),  # 栈桥, at the western end of a long coastal district
    ((36.0660, 120.3300), "市南区"),  # 中山路, 1 km from 市北区
    ((36.0865, 120.3519), "市北区"),  # 台东
    ((36.1000, 120.4700), "崂山区"),
    ((36.1600, 120.4320), "李沧区"),
    ((36.3070, 120.3960), "城阳区"),
    ((36.3890, 120.4470), "即墨区"),  # 即墨市 in cpca's 2016 data
    ((39.9200, 116.4400), "朝阳区"),  # Beijing, 1 km from 东城区
    ((39.9087, 116.3975), "东城区"),  # 天安门
    ((39.9150, 116.3560), "西城区"),  # 金融街
    ((39.9840, 116.3070), "海淀区"),  # 中关村
    ((31.2397, 121.4998), "浦东新区"),  # 陆家嘴, across the river from 黄浦区
    ((31.2304, 121.4737), "黄浦区"),  # 人民广场
    ((23.1390, 113.3250), "天河区"),  # 天河体育中心, Guangzhou
    ((23.1250, 113.2700), "越秀区"),  # 北京路
    ((38.7000, 116.6400), "大城县"),
]


@pytest.fixture(scope="module")
def locator() -> CountyLocator:
    return CountyLocator.shipped()


@pytest.mark.parametrize(("point", "district"), KNOWN)
def test_known_points_lie_in_their_district(locator: CountyLocator, point: tuple[float, float], district: str) -> None:
    found = locator.locate(*point)
    assert found is not None and found.district == district and found.km == 0


def test_cities_without_districts_and_municipalities(locator: CountyLocator) -> None:
    dongguan = locator.locate(23.02, 113.75)
    assert dongguan is not None and (dongguan.city, dongguan.district) == ("东莞市", None)
    xiantao = locator.locate(30.36, 113.45)
    assert xiantao is not None and (xiantao.province, xiantao.city, xiantao.district) == ("湖北省", "仙桃市", None)
    chaoyang = locator.locate(39.92, 116.44)
    assert chaoyang is not None and (chaoyang.province, chaoyang.city) == ("北京市", "北京市")


def test_a_pin_just_off_the_coast_takes_the_nearest_district(locator: CountyLocator) -> None:
    beach = locator.locate(35.9620, 120.2560)  # 金沙滩: the simplified coast runs inland of it
    assert beach is not None and beach.district == "黄岛区" and 0 < beach.km < 2


@pytest.mark.parametrize("point", [(35.0, 124.5), (35.68, 139.76), (0.0, 0.0), (91.0, 0.0), (36.0, 181.0)])
def test_the_open_sea_and_abroad_are_nowhere(locator: CountyLocator, point: tuple[float, float]) -> None:
    assert locator.locate(*point) is None


def test_a_lookup_takes_well_under_a_millisecond(locator: CountyLocator) -> None:
    points = [(36.0 + i * 0.0004, 120.3 + i * 0.0003) for i in range(500)]
    points += [(39.8 + i * 0.0004, 116.3 + i * 0.0003) for i in range(500)]
    start = time.perf_counter()
    for lat, lon in points:
        locator.locate(lat, lon)
    per_lookup = (time.perf_counter() - start) / len(points)
    assert per_lookup < 0.0005, f"{per_lookup * 1e6:.0f} µs"


def test_the_parser_names_a_pin_by_todays_names() -> None:
    found = AddressParser().place_at(36.389, 120.447)
    assert found is not None and (found.province, found.city, found.district) == ("山东省", "青岛市", "即墨区")
    assert AddressParser().place_at(35.0, 124.5) is None


def _cpca_nearest_centroid(lat: float, lon: float) -> str:
    text = files("cpca.resources").joinpath("adcodes.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.DictReader(text.splitlines()) if r["longitude"] and r["adcode"][4:6] != "00"]
    k = math.cos(math.radians(lat))
    best = min(rows, key=lambda r: (float(r["latitude"]) - lat) ** 2 + ((float(r["longitude"]) - lon) * k) ** 2)
    return best["name"]


def test_nearest_centroid_alone_would_misplace_pins_in_town() -> None:
    """Why the boundaries are shipped: cpca's one point per district gets these known points wrong."""
    wrong = [(point, district) for point, district in KNOWN if _cpca_nearest_centroid(*point) != district]
    assert len(wrong) >= 3, wrong  # 栈桥 and 中山路 go to 市北区, 陆家嘴 to 黄浦区, ...
