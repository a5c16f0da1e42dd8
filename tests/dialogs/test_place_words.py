"""County-level names count only where they read as places, never inside everyday words.

Our own sentences, in the voices citizens write in: each negative hides a county-level name
(or its short form, or a guessed suffix form) inside a common word; each positive names a real
place with its suffix, without it after its city, or in the service area.
"""

from __future__ import annotations

import pytest

from dialogs.address import AddressParser


@pytest.fixture(scope="module")
def parser() -> AddressParser:
    p = AddressParser()
    p.warm_up()
    return p


@pytest.mark.parametrize(
    "text",
    [
        # a guessed 县→市 suffix form inside 城市
        "现在大城市房价太高了，年轻人根本买不起",  # 大城县
        "北方城市冬天供暖费又涨了，谁来管管",  # 方城县
        "我们这种小县城比不了大城市的医院",
        "南北方城市的差距越来越大",
        # short forms of county-level cities inside words
        "拆迁安置房拖了三年还没交钥匙！！",  # 迁安市
        "周辉县长答应的事到现在都没办",  # 辉县市 + 县长
        "小区门口那排樟树都被砍光了",  # 樟树市
        "门口的石狮子被人偷走了一个",  # 石狮市
        "院子里的老榆树倒了压坏了车",  # 榆树市
        "老人家讲三纲五常，我们年轻人不懂",  # 五常市
        "洪湖水浪打浪这首歌广场舞天天放到半夜",  # 洪湖市
        "赤壁之战的遗址门票太贵",  # 赤壁市
        "庙里的弥勒佛像被刷成金色了",  # 弥勒市
        "在商场买的和田玉手镯是假的，要求退货",  # 和田市
        "不识庐山真面目，只缘身在此山中，领导不要官僚",  # 庐山市
        "暑假想去峨眉山旅游，请问有没有优惠",  # 峨眉山市
        "买的武夷山大红袍茶叶有问题",  # 武夷山市
        "学习井冈山精神，为人民服务",  # 井冈山市
        "敦煌壁画展什么时候开放",  # 敦煌市
        "都江堰景区的门票能用老年卡吗",  # 都江堰市
        "香格里拉酒店门口天天堵车",  # 香格里拉市
        "丹江口水库的水能不能直接喝",  # 丹江口市
        "栖霞寺附近停车乱收费",  # 栖霞市
        "浏阳河烟花晚上放到两点",  # 浏阳市
        "去天门山玩被导游强制购物",  # 天门市
        "文昌阁年久失修，墙都裂了",  # 文昌市
        # full two-character names that are also words
        "我和县长反映过三次了，一直没有答复",  # 和县
        "和平区域合作论坛扰民",  # 和平区 + 区域
        "比如我们小区，垃圾三天没人收",  # 比如县
        "比如县城里的医院，我们这边也该有",  # "for example, county towns", not 比如县 + 城
        # phone-typed, angry, elderly
        "拆迁安置！！！到底管不管",
        "大城市 打工 没社保 怎么办",
        "樟树叶子堵了下水道",
        "樟树的叶子堵了下水道",  # clear of words, but nothing says it is a place
        "我老头子腿脚不好，周辉县长说给办残疾证，半年了还没消息",
        "Why are big-city (大城市) rents so high? The government should do something",
    ],
)
def test_county_names_inside_words_are_no_place(parser: AddressParser, text: str) -> None:
    found = parser.parse(text)
    assert found is None or found.district is None, (text, found)


@pytest.mark.parametrize(
    ("text", "city", "district"),
    [
        # with the suffix, anywhere it reads as a place
        ("大城县的农民工工资拖欠", "廊坊市", "大城县"),
        ("我老家在方城县，想咨询社保转移", "南阳市", "方城县"),
        ("迁安市有家钢厂夜里冒黑烟", "唐山市", "迁安市"),
        ("辉县市的公交车不按时发车", "新乡市", "辉县市"),
        ("樟树市药材市场假药多", "宜春市", "樟树市"),
        ("比如县的牧民草场纠纷", "那曲市", "比如县"),
        ("那曲市比如县城里停电了", "那曲市", "比如县"),
        ("在和县的一个工地摔伤了", "马鞍山市", "和县"),
        ("滑县的路灯坏了半个月", "安阳市", "滑县"),
        ("辉县市长什么时候接待群众", "新乡市", "辉县市"),  # the mayor of a place names it
        # the short form right after its city or province
        ("唐山迁安这边拆迁款没发", "唐山市", "迁安市"),
        ("江西宜春的樟树有人非法采砂", "宜春市", "樟树市"),
        ("新乡辉县一个养猪场臭气熏天", "新乡市", "辉县市"),
        ("湖北天门卖假种子", "天门市", None),
        ("泉州石狮服装厂排污", "泉州市", "石狮市"),
        # the short form before a place word
        ("樟树镇的菜市场脏乱差", "宜春市", "樟树市"),
        ("迁安开发区的企业欠薪", "唐山市", "迁安市"),
        # the short form after a word that introduces a place, standing clear
        ("我在昆山一家台资企业上了十五年班，社保怎么转", "苏州市", "昆山市"),
        ("过年想从齐齐哈尔回讷河，班车停了吗", "齐齐哈尔市", "讷河市"),
        # the short form as the whole answer to "where?"
        ("樟树", "宜春市", "樟树市"),
        ("石狮。", "泉州市", "石狮市"),
        # a guessed suffix form after its city
        ("长沙市宁乡市", "长沙市", "宁乡市"),
    ],
)
def test_real_places_are_found(parser: AddressParser, text: str, city: str, district: str | None) -> None:
    found = parser.parse(text)
    assert found is not None, text
    assert (found.city, found.district) == (city, district)


@pytest.mark.parametrize(
    ("city", "text", "district"),
    [
        ("青岛市", "我在即墨这边，路灯不亮", "即墨区"),
        ("唐山市", "迁安的钢厂夜里排烟", "迁安市"),
        ("宜春市", "住樟树，想问下医保报销", "樟树市"),
    ],
)
def test_short_forms_count_inside_the_service_city_when_clear(city: str, text: str, district: str) -> None:
    found = AddressParser(default_city=city).parse(text)
    assert found is not None and found.district == district


@pytest.mark.parametrize(
    ("city", "text"),
    [
        ("唐山市", "拆迁安置房漏水"),  # glued to 拆 and 置
        ("宜春市", "樟树都被砍了"),  # a tree, even in Yichun
        ("廊坊市", "大城市的生活压力大"),  # a guessed suffix needs its city named
    ],
)
def test_words_stay_words_inside_the_service_city(city: str, text: str) -> None:
    found = AddressParser(default_city=city).parse(text)
    assert found is None or found.district is None, found
