"""Typed places to province / city / district, including what cpca alone gets wrong."""

from __future__ import annotations

import time

import cpca
import pytest

from dialogs.address import Address, AddressParser
from dialogs.place_tables import place_tables
from dialogs.streets import street_hint


@pytest.fixture(scope="module")
def parser() -> AddressParser:
    p = AddressParser()
    p.warm_up()
    return p


@pytest.mark.parametrize(
    ("text", "province", "city", "district"),
    [
        # full and partial Chinese addresses in many cities
        ("山东省青岛市市南区香港中路10号", "山东省", "青岛市", "市南区"),
        ("广州市天河区体育西路191号", "广东省", "广州市", "天河区"),
        ("上海浦东新区张江镇", "上海市", "上海市", "浦东新区"),
        ("北京市朝阳区三里屯", "北京市", "北京市", "朝阳区"),
        ("重庆渝中区解放碑", "重庆市", "重庆市", "渝中区"),
        ("我们小区（张家界市武陵源区）停水三天了", "湖南省", "张家界市", "武陵源区"),
        ("举报竹溪县水坪镇有人非法采砂", "湖北省", "十堰市", "竹溪县"),  # city implied
        ("市南区的共享单车乱停", "山东省", "青岛市", "市南区"),  # unique district
        ("海口市龙华区", "海南省", "海口市", "龙华区"),  # the older 龙华区
        ("青岛城阳这边有个工地", "山东省", "青岛市", "城阳区"),  # 区 left out after the city
        ("杭州市的西湖区", "浙江省", "杭州市", "西湖区"),
        ("建议宿迁市图书馆延长开放时间", "江苏省", "宿迁市", None),  # a city only
        ("湖北省", "湖北省", None, None),
        ("仙桃市", "湖北省", "仙桃市", None),  # no district level
        ("宿迁市老城区", "江苏省", "宿迁市", None),  # 老城区 is a word here
        ("洛阳市老城区", "河南省", "洛阳市", "老城区"),  # ... and a district there
        # renamed since cpca's data, functional areas, new districts
        ("我爸在青岛市即墨区住院", "山东省", "青岛市", "即墨区"),
        ("即墨市", "山东省", "青岛市", "即墨区"),
        ("青岛市西海岸新区一位老人走失了", "山东省", "青岛市", "黄岛区"),
        ("成都郫都区犀浦镇", "四川省", "成都市", "郫都区"),
        ("郫县", "四川省", "成都市", "郫都区"),
        ("莱芜区", "山东省", "济南市", "莱芜区"),
        ("济阳区", "山东省", "济南市", "济阳区"),
        ("深圳市龙华区民治街道", "广东省", "深圳市", "龙华区"),
        ("杭州临平区", "浙江省", "杭州市", "临平区"),
        ("重庆市梁平县", "重庆市", "重庆市", "梁平区"),
        ("长治市城区", "山西省", "长治市", "潞州区"),
        ("那曲市色尼区", "西藏自治区", "那曲市", "色尼区"),
        ("长沙市宁乡市", "湖南省", "长沙市", "宁乡市"),  # 县 → 市 caught generically
        # English
        ("How do I apply for a business license in Qingdao Shinan district?", "山东省", "青岛市", "市南区"),
        ("The lights in Tianshan district, Urumqi are broken", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
        ("Chaoyang District, Beijing", "北京市", "北京市", "朝阳区"),
        ("the hospital in xuhui district shanghai", "上海市", "上海市", "徐汇区"),
        ("Hangzhou Xihu district", "浙江省", "杭州市", "西湖区"),
        ("Xi'an Huyi district", "陕西省", "西安市", "鄠邑区"),
        ("I live in Hohhot", "内蒙古自治区", "呼和浩特市", None),
        # normalisation
        ("青岛市\u200b市南区", "山东省", "青岛市", "市南区"),
    ],
)
def test_parses_places(parser: AddressParser, text: str, province: str, city: str | None, district: str | None) -> None:
    found = parser.parse(text)
    assert found is not None
    assert (found.province, found.city, found.district) == (province, city, district)
    assert found.label == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "楼上邻居装修天天电钻，物业不管",
        "吵得我们不得安宁",  # 安宁市 in Yunnan
        "辽宁路上井盖松动",  # a street, not the province
        "香港中路10号",
        "三明治变质了",  # 三明市
        "在中山路上",
        "小区东区3号楼",  # 攀枝花 has a 东区
        "The bus since June is always late on Line 2",
        "hello, no place here",
    ],
)
def test_no_place(parser: AddressParser, text: str) -> None:
    assert parser.parse(text) is None


@pytest.mark.parametrize(
    ("province", "city", "text", "expected_city"),
    [
        (None, None, "新华区路灯坏了", "石家庄市"),  # a provincial capital's, without defaults
        (None, "沧州市", "新华区路灯坏了", "沧州市"),
        ("河南省", None, "新华区路灯坏了", "平顶山市"),
        (None, None, "朝阳区望京", "北京市"),
        (None, "长春市", "朝阳区", "长春市"),
        (None, "长春", "朝阳区", "长春市"),  # defaults may omit 市
        (None, "长春市", "北京市朝阳区", "北京市"),  # the text beats the default
        (None, "青岛市", "崂山松岭路", "青岛市"),  # a typed address starting with a short name
        ("云南省", None, "安宁市太平镇", "昆明市"),  # a common word inside the default area
    ],
)
def test_defaults_settle_ambiguity(province: str | None, city: str | None, text: str, expected_city: str) -> None:
    found = AddressParser(default_province=province, default_city=city).parse(text)
    assert found is not None
    assert found.city == expected_city


def test_detail_is_what_remains() -> None:
    parser = AddressParser()
    assert parser.parse("山东省青岛市市南区香港中路10号") == Address(
        "山东省", "青岛市", "市南区", "香港中路10号", "山东省青岛市市南区香港中路10号"
    )
    found = parser.parse("香港中路10号，市南区")
    assert found is not None and found.detail == "香港中路10号"
    found = parser.parse("我们小区（乌鲁木齐市新市区）暖气一直不热")
    assert found is not None and found.detail == "我们小区暖气一直不热"


def test_renames_name_records_that_exist_in_cpca() -> None:
    """A typo in the table would silently never apply."""
    names = {info.adcode: info.name for info in cpca.ad_2_addr_dict.values()}
    known = set(names.values())
    for rename in place_tables().renames:
        for city, district in rename.was:
            assert city in known or city == rename.province, (rename, city)
            if district is not None:
                assert district in known, (rename, district)


def test_parsers_do_not_share_defaults() -> None:
    changchun = AddressParser(default_city="长春市").parse("朝阳区")
    plain = AddressParser().parse("朝阳区")
    assert changchun is not None and changchun.city == "长春市"
    assert plain is not None and plain.city == "北京市"


def test_parse_is_fast(parser: AddressParser) -> None:
    texts = [
        "投诉：宿迁市宿城区西湖路上的一家KTV每天凌晨两点还在放音乐，吵得睡不着",
        "The street lights on Jiefang North Road in Tianshan district, Urumqi have been broken for a week",
        "楼上邻居装修天天电钻，周末早上七点就开始，物业不管（青岛市崂山区）",
        "求助：青岛市西海岸新区一位老人走失了，家属联系不上派出所",
        "建议宿迁市图书馆延长周末开放时间",
    ]
    rounds = 100
    start = time.perf_counter()
    for i in range(rounds):
        for text in texts:
            parser.parse(f"{text}{i}")  # a new string each time: no cache hits
    per_call_ms = (time.perf_counter() - start) / (rounds * len(texts)) * 1000
    print(f"AddressParser.parse: {per_call_ms:.3f} ms per call (uncached)")
    assert per_call_ms < 1.0


@pytest.mark.parametrize(
    ("detail", "street"),
    [
        ("香港中路的路灯坏了一个星期了", "香港中路"),
        ("辽宁路88号门口有人占道经营", "辽宁路88号"),
        ("举报水坪镇有人在河道里非法采砂", "水坪镇"),
        ("我们小区停水三天了", ""),
        ("冬天了我们小区暖气一直不热", ""),
        ("某超市卖过期的牛奶", ""),
        ("", ""),
    ],
)
def test_street_hint(detail: str, street: str) -> None:
    assert street_hint(detail) == street
