"""Type, topic, place and phone from a citizen's first message, against the shipped taxonomy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.extraction import Extractor
from dialogs.taxonomy import Bilingual, InquiryType, Taxonomy, Topic

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(os.environ.get("WENZHENG_SAMPLES", "/work/shared/data/sample_inquiries.jsonl"))
TYPE_LABELS = {
    "投诉": "complaint",
    "举报": "report",
    "咨询": "consultation",
    "求助": "help",
    "建议": "suggestion",
}


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_config(str(ROOT / "config.yaml")).taxonomy.build()


@pytest.fixture(scope="module")
def extractor(taxonomy: Taxonomy) -> Extractor:
    return Extractor(taxonomy, AddressParser())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a marker at the start wins over everything said after it
        ("投诉：停水两天了", "complaint"),
        ("您好，我要投诉杭州市西湖区文三路一家餐馆油烟太大", "complaint"),
        ("建议：有人在河道里偷排污水，应该管一管", "suggestion"),
        ("举报一家无证经营的黑诊所", "report"),
        ("反映一下，我们村的自来水发黄", "report"),
        ("我想咨询一下公积金怎么提取", "consultation"),
        ("求助：老人走失了", "help"),
        ("Complaint: loud construction noise at night", "complaint"),
        ("Suggestion - the library should open on Sundays", "suggestion"),
        ("投\u200b诉：停水两天了", "complaint"),  # zero-width inside the marker
        # otherwise the evidence in the text
        ("请问办理身份证需要带什么材料", "consultation"),
        ("孩子明年上小学，学区怎么划分的？", "consultation"),
        ("How can I apply for public rental housing in Shenzhen?", "consultation"),
        ("工资被拖欠三个月，老板跑路了，怎么办", "help"),  # 怎么办 outweighs 怎么
        ("咋办啊，老人走失了", "help"),  # dialect
        ("成都郫都区犀浦镇有人半夜偷排污水", "report"),
        ("I want to report illegal dumping of garbage", "report"),
        ("医院挂号排队太久了，能不能多开几个窗口", "suggestion"),
        ("我有个建议：地铁末班车能不能晚一点", "suggestion"),
        ("楼上漏水，物业不管不问", "complaint"),
        ("凭什么停车费这么贵？", "complaint"),  # a rhetorical question
        ("俺们村的路灯坏了半个月了咋没人修", "complaint"),
        # nothing points anywhere: the form uses the default
        ("停电了一整天，冰箱里的东西都坏了", None),
        ("The street lights on Jiefang North Road have been broken for a week", None),
    ],
)
def test_type(extractor: Extractor, text: str, expected: str | None) -> None:
    assert extractor.extract(text).type_code == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("小区里天天有人跳广场舞，音响声音太大", "environment"),
        ("小区门口的拉圾没人清理", "urban"),  # a common typo
        ("燃气公司乱收费，每个月多扣钱", "utilities"),
        ("幼儿园乱收费", "education"),
        ("希望能在我们镇上开通一条公交线路", "transport"),
        ("出租车司机绕路多收钱", "transport"),
        ("乱要价的出租车", "transport"),  # 出租车 is longer than 要价
        ("我想咨询一下公积金怎么提取", "housing"),
        ("异地医保报销比例怎么算，我爸在住院", "social_security"),
        ("学校门口没有红绿灯，孩子过马路太危险了", "transport"),
        ("老人走失了，家属联系不上派出所", "public_security"),
        ("Bus No. 5 never comes on time in Shinan district, Qingdao", "transport"),
        ("BUS drivers ignore the stop", "transport"),  # case-insensitive
        ("The street lights on Jiefang North Road are broken", "urban"),  # plural of a keyword
        ("Where can I get my PENSION paid?", "social_security"),
        ("my business partner is a nice person", None),  # "bus" inside a word
        ("你好", None),
    ],
)
def test_topic(extractor: Extractor, text: str, expected: str | None) -> None:
    assert extractor.extract(text).topic_code == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13812345678", "13812345678"),
        ("手机号 138-1234-5678", "13812345678"),
        ("call me: 138 1234 5678", "13812345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("+8615912345678", "15912345678"),
        ("0086-13812345678", "13812345678"),
        ("（+86）19912345678", "19912345678"),
        ("电话：０５３２－８８８８６６６６", "0532-88886666"),  # full-width
        ("座机0532-12345678转801", "0532-12345678"),
        ("010-87654321", "010-87654321"),
        ("(0532) 8888 6666", "0532-88886666"),
        ("身份证37020219900101123X，电话13912345678", "13912345678"),
        ("我叫张三，身份证370202199001011234，手机 138-1234-5678", "13812345678"),
        ("先打0532-12345678，不行就打13812345678", "0532-12345678"),  # the first one given
    ],
)
def test_phone(extractor: Extractor, text: str, expected: str) -> None:
    assert extractor.extract(text).phone == expected
    assert extractor.phone(text) == expected  # the phone question's shortcut finds the same


@pytest.mark.parametrize(
    "text",
    [
        "身份证号370202199001011234",
        "身份证130102199003071234",  # a Hebei number: starts like a 13x mobile
        "身份证 370202 19900101 1234",
        "打12345热线没人接",
        "订单号2023123456789012",
        "12813812345",  # 12x is not a mobile prefix
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "车牌鲁B12345",
    ],
)
def test_not_a_phone(extractor: Extractor, text: str) -> None:
    assert extractor.extract(text).phone is None
    assert extractor.phone(text) is None


def test_address_and_everything_together(extractor: Extractor) -> None:
    found = extractor.extract("您好，咨询一下，乌鲁木齐市天山区医保卡丢了怎么补办？电话13812345678")
    assert found.type_code == "consultation"
    assert found.topic_code == "social_security"
    assert found.phone == "13812345678"
    assert found.address is not None
    assert (found.address.city, found.address.district) == ("乌鲁木齐市", "天山区")


def test_nothing_found(extractor: Extractor) -> None:
    found = extractor.extract("你好")
    assert (found.type_code, found.topic_code, found.address, found.phone) == (None, None, None, None)


def _topic(code: str, *keywords: str) -> Topic:
    return Topic(code, Bilingual(code, code), keywords)


def test_topic_tie_goes_to_the_first_listed_and_longer_keywords_win() -> None:
    taxonomy = Taxonomy(
        types=(InquiryType("complaint", Bilingual("投诉", "Complaint")),),
        topics=(_topic("a", "公交", "water"), _topic("b", "地铁", "公交站牌"), _topic("c", "water supply")),
    )
    extractor = Extractor(taxonomy, AddressParser())
    assert extractor.extract("公交和地铁都很挤").topic_code == "a"  # 2 against 2: first listed
    assert extractor.extract("地铁和公交都很挤").topic_code == "a"  # order in the text does not matter
    assert extractor.extract("公交站牌坏了").topic_code == "b"  # 公交 inside 公交站牌 yields
    assert extractor.extract("The Water Supply is off").topic_code == "c"
    assert extractor.extract("waterfall").topic_code is None


def test_sample_accuracy(taxonomy: Taxonomy, extractor: Extractor) -> None:
    """The floors guard against regressions; the printed numbers are the real measure."""
    if not SAMPLES.exists():
        pytest.skip(f"{SAMPLES} not found")
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    topics = {t.name.zh: t.code for t in taxonomy.topics}
    hits = {"type": 0, "type (no default)": 0, "topic": 0, "district": 0, "city": 0}
    misses: list[str] = []
    for row in rows:
        found = extractor.extract(row["text"])
        address = found.address
        checks = {
            "type": (found.type_code or taxonomy.default_type) == TYPE_LABELS[row["type"]],
            "type (no default)": found.type_code == TYPE_LABELS[row["type"]],
            "topic": found.topic_code == topics[row["topic"]],
            "district": ((address.district if address else None) or "") == row["district"],
            "city": ((address.city if address else None) or "") == row["city"],
        }
        for field, ok in checks.items():
            hits[field] += ok
        misses += [
            f"  {field}: {row['text']}" for field, ok in checks.items() if not ok and field != "type (no default)"
        ]
    accuracy = {field: n / len(rows) for field, n in hits.items()}
    print()
    for field, value in accuracy.items():
        print(f"{field:18} {hits[field]:2}/{len(rows)} = {value:.0%}")
    print("\n".join(misses))
    assert accuracy["district"] >= 0.90
    assert accuracy["topic"] >= 0.75
    assert accuracy["type"] >= 0.75


def test_the_same_description_is_classified_once(extractor: Extractor) -> None:
    """The arrival, the ranked question and the answer all classify the same description: the
    result is the same value, so the second and third are the first one, not recomputed."""
    said = "楼下的垃圾桶好几天没人清理了"
    first = extractor.classify(said)
    assert extractor.classify(said) is first
    assert extractor.classify(said + "。") is not first
