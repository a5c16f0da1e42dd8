"""Realistic tickets for the hot-topic tests: five weeks of a city's inquiries with

- a real burst: eight neighbours complain, in their own words, about night-time metro construction
  in 市南区 (and one in 崂山区) in the last week, after one such complaint in the four weeks before;
- one angry citizen who writes thirty times in the last week about a square-dance loudspeaker;
- a steady matter (parking) that ten different citizens raise every week: common, not rising;
- a small rise (four citizens about a broken bus shelter): rising but below five citizens;
- a rise in one district only: six citizens about parking on the new beach road in 崂山区, which the
  city's steady parking complaints dilute city-wide (found for 崂山区, not for the city);
- another city (济南市) with its own burst (heating not warm), which must stay in its own city.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, Identity, Ticket
from storage.upsert import table_of
from tickets.hot_topics import TicketText

METRO = [
    "香港中路地铁施工半夜还在打桩，噪音太大根本睡不着",
    "地铁4号线施工工地晚上十一点以后还在作业，噪音扰民",
    "我家楼下的地铁施工凌晨还有机器轰鸣，孩子没法睡觉",
    "地铁站施工夜间噪音很大，希望限制施工时间",
    "夜里地铁工地打桩声音太响，老人心脏受不了",
    "地铁施工围挡旁边每天夜里噪音不断，能不能管管",
    "香港中路地铁施工夜间施工噪音严重，投诉多次没用",
    "地铁施工噪音问题，晚上十二点还在施工",
    "崂山区这边的地铁施工也是夜间噪音扰民，请处理",
]
METRO_BEFORE = "地铁施工晚上有噪音，请关注一下"
SQUARE_DANCE = "小区广场舞音响声音太大，每天晚上吵到十点，第{n}次反映了"
PARKING = [
    "小区门口乱停车堵住消防通道",
    "路边违章停车太多，车辆进出困难",
    "人行道上到处停车，行人只能走机动车道",
    "楼下乱停车，车位被长期占用，物业不管",
    "商场附近违章停车严重，交通拥堵",
]
LAOSHAN_PARKING = [
    "石老人海水浴场门口乱停车，海滨路堵死了",
    "海滨路两边乱停车，公交车都过不去",
    "周末海边乱停车，救护车进不来",
    "石老人附近违章停车没人管，路口堵了一个小时",
    "海水浴场没地方停车，车都停在路上",
    "海边路上乱停车，行人只能走车道",
]
BUS_SHELTER = "公交站候车亭玻璃碎了好几天，很危险"
HEATING = [
    "家里暖气不热，室温只有十五度",
    "供暖开始了暖气还是凉的，老人冻得受不了",
    "小区暖气不热，供热公司电话打不通",
    "暖气片温度很低，供暖不达标",
    "我们楼暖气不热，孩子感冒了",
    "供暖温度不够，暖气不热，要求退费",
]


@dataclass(frozen=True, slots=True)
class Row:
    citizen_id: int
    city: str
    district: str | None
    details: str
    created_at: datetime
    topic_code: str = "urban"


def corpus(end: datetime) -> list[Row]:
    """The five weeks before ``end``; citizen ids say who wrote what."""
    day = timedelta(days=1)
    rows: list[Row] = []
    for i, text in enumerate(METRO):  # eight neighbours (one wrote twice), last week
        citizen = 100 + min(i, 7)
        district = "崂山区" if "崂山区" in text else "市南区"
        rows.append(Row(citizen, "青岛市", district, text, end - day * (1 + i % 6) - timedelta(hours=i)))
    rows.append(Row(99, "青岛市", "市南区", METRO_BEFORE, end - day * 20))
    for n in range(30):  # one angry citizen, thirty times in the last week
        rows.append(
            Row(200, "青岛市", "市北区", SQUARE_DANCE.format(n=n + 1), end - day * (n % 7) - timedelta(hours=1))
        )
    citizens = itertools.count(300)
    for week in range(5):  # parking: ten different citizens every week, steady
        for k in range(10):
            rows.append(
                Row(
                    next(citizens),
                    "青岛市",
                    "市北区",
                    PARKING[k % len(PARKING)],
                    end - day * (7 * week + k % 7) - timedelta(hours=2),
                    "transport",
                )
            )
    for k in range(4):  # four citizens about a bus shelter: below five
        rows.append(Row(500 + k, "青岛市", "李沧区", BUS_SHELTER, end - day * (k + 1), "transport"))
    for k, text in enumerate(LAOSHAN_PARKING):  # one district's rise
        rows.append(Row(700 + k, "青岛市", "崂山区", text, end - day * (k % 5 + 1) - timedelta(hours=3), "transport"))
    for k, text in enumerate(HEATING):  # 济南市's own burst
        rows.append(Row(600 + k, "济南市", "历下区", text, end - day * (k % 5 + 1)))
    return rows


def as_texts(rows: list[Row]) -> list[TicketText]:
    return [
        TicketText(
            number=f"WZ-{i}",
            citizen_id=r.citizen_id,
            city=r.city,
            district=r.district,
            details=r.details,
            created_at=r.created_at,
        )
        for i, r in enumerate(rows, 1)
    ]


async def load(session: AsyncSession, rows: list[Row], *, number_prefix: str = "WZ20261201-") -> list[str]:
    """Citizens, identities and tickets written directly (as an import would), bypassing the dialog."""
    citizens = sorted({r.citizen_id for r in rows})
    first = min(r.created_at for r in rows)
    await session.execute(insert(table_of(Citizen)), [{"id": c, "created_at": first, "locale": "zh"} for c in citizens])
    await session.execute(
        insert(table_of(Identity)),
        [
            {
                "id": c,
                "citizen_id": c,
                "channel": "webchat",
                "account": "web",
                "chat_id": f"c{c}",
                "reachable": True,
                "created_at": first,
            }
            for c in citizens
        ],
    )
    numbers = [f"{number_prefix}{i:04d}" for i in range(1, len(rows) + 1)]
    tickets: list[dict[str, Any]] = [
        {
            "number": number,
            "intake_key": f"hot-{number}",
            "citizen_id": r.citizen_id,
            "identity_id": r.citizen_id,
            "type_code": "complaint",
            "topic_code": r.topic_code,
            "city": r.city,
            "district": r.district,
            "details": r.details,
            "media": [],
            "locale": "zh",
            "status": "accepted",
            "department_code": "urban",
            "created_at": r.created_at,
            "updated_at": r.created_at,
            "respond_due_at": r.created_at + timedelta(hours=8),
            "answer_due_at": r.created_at + timedelta(days=9),
        }
        for number, r in zip(numbers, rows, strict=True)
    ]
    await session.execute(insert(table_of(Ticket)), tickets)
    return numbers


# A second city for the grouping rules (tests/tickets/test_hot_topics.py): two matters at once that
# share everyday words, one of them put five ways; a steady matter whose last week was lucky; and a
# city-wide burst that lifts a steady word in the district it is concentrated in.
YANTAI = "烟台市"
WATER = [  # twenty citizens in 芝罘区 (four in 莱山区): rusty tap water, five ways
    "自来水发黄有铁锈味，孩子不敢喝",
    "家里水龙头放出来的自来水是黄的，老人喝了拉肚子",
    "自来水浑浊发黄，烧开了有沉淀",
    "停水以后再来的自来水都是锈水，受不了",
    "自来水有股怪味，老人孩子都不敢喝",
]
LIFT = [  # eight citizens in 莱山区: a broken lift, with the same 老人, 孩子, 受不了
    "电梯又坏了，老人爬十几层楼受不了",
    "电梯停运一周了，孩子上学只能走楼梯",
    "单元电梯天天坏，物业不修",
    "电梯困人，老人被关在里面半小时",
]
BROADBAND = [  # twenty-four citizens: one matter, put four ways that share only 宽带
    "宽带三天两头断网，打客服也没用",
    "家里宽带网速慢得像蜗牛",
    "宽带师傅约了三次都没上门",
    "光纤宽带断了，网课上不了",
]
BROADBAND_BEFORE = "宽带怎么办理过户"  # two a week: 宽带 rises less steeply than each wording's own words
# Eight citizens in 福山区 last week, each about something else, all with 孩子 and 受不了: no matter.
GRUMBLES = [
    "楼下饭店排风扇太吵，孩子写字受不了",
    "隔壁养鸽子太臭，孩子过敏受不了",
    "路口红绿灯太短，带孩子过马路受不了",
    "网吧通宵营业，孩子受不了诱惑",
    "游泳池水太脏，孩子起疹子受不了",
    "公园蚊子太多，孩子被咬得受不了",
    "幼儿园伙食太差，孩子吃不饱受不了",
    "楼上天天摔东西，孩子睡不着受不了",
]
# Two matters of ten citizens each in 福山区, four of each saying 城管: 城管 (eight citizens, new)
# rises more steeply than 早市 or 烧烤 (each asked about once before) and is taken first; the group
# it starts is made of the other two's tickets.
MARKET = ["早市摊贩把路占了，城管也不管"] * 4 + ["早市占道，车开不过去"] * 3 + ["早市垃圾一地，没人打扫"] * 3
BARBECUE = ["露天烧烤油烟呛人，城管来了又走"] * 4 + ["烧烤摊烟太大，窗户都不敢开"] * 3 + ["烧烤摊吵到凌晨两点"] * 3
BEFORE = ["早市什么时候收摊", "烧烤摊能不能搬走"]
RIVER = "河水浑浊发臭，怀疑有人偷排"  # two a week in 福山区: 浑浊 (a WATER word) every week
EVERYDAY = [  # the city's steady background, one a week in each of two districts: the same everyday words
    "社区老人食堂饭菜不错，建议多开几家",
    "孩子入学需要哪些材料",
    "楼道灯坏了，老人晚上下楼看不见",
]
# Four a week in 芝罘区, five in the last, where WATER's 停水 wording adds four (and one in 莱山区):
# 停水 rises, city-wide (10 against 16) and in 芝罘区 (9 against 16), only by the water burst's tickets.
STOPPAGE = "小区停水了，什么时候来水"
# Three about tap water in the weeks before: 自来水 rises less steeply (x24) than 发黄 (x40, new),
# which the run takes first; 发黄's group is then found to be made of 自来水's tickets.
WATER_BEFORE = "自来水水压太低，楼上没水"
DOGS = "小区有人遛狗不牵绳，狗很凶"  # 福山区: eight a week, then seventeen (growth 2.06, by chance p = 0.0117)


def two_matters(end: datetime) -> list[Row]:
    day = timedelta(days=1)
    rows: list[Row] = []
    citizens = itertools.count(10_000)

    def steady(text: str, district: str, weekly: tuple[int, ...], hour: int) -> None:
        for week, count in enumerate(weekly):  # the last week first
            for k in range(count):
                when = end - day * (7 * week + k % 7) - timedelta(hours=hour)
                rows.append(Row(next(citizens), YANTAI, district, text, when))

    for k in range(24):
        district = "莱山区" if k % 6 == 5 else "芝罘区"
        when = end - day * (k % 6 + 1) - timedelta(hours=k)
        rows.append(Row(next(citizens), YANTAI, district, WATER[k % len(WATER)], when))
    for k in range(8):
        when = end - day * (k % 5 + 1) - timedelta(hours=k)
        rows.append(Row(next(citizens), YANTAI, "莱山区", LIFT[k % len(LIFT)], when))
    for n, text in enumerate(EVERYDAY):
        for district in ("芝罘区", "莱山区"):
            steady(text, district, (1, 1, 1, 1, 1), 5 + n)
    steady(STOPPAGE, "芝罘区", (5, 4, 4, 4, 4), 9)
    steady(WATER_BEFORE, "芝罘区", (0, 1, 1, 1, 0), 11)
    for k in range(24):
        when = end - day * (k % 6 + 1) - timedelta(hours=k % 5)
        rows.append(Row(next(citizens), YANTAI, ("芝罘区", "莱山区")[k % 2], BROADBAND[k % 4], when))
    steady(BROADBAND_BEFORE, "莱山区", (2, 2, 2, 2, 2), 12)
    for k, text in enumerate(GRUMBLES):
        rows.append(Row(next(citizens), YANTAI, "福山区", text, end - day * (k % 7 + 1) - timedelta(hours=2)))
    steady(RIVER, "福山区", (2, 2, 2, 2, 2), 13)
    for k, text in enumerate(MARKET + BARBECUE):
        rows.append(Row(next(citizens), YANTAI, "福山区", text, end - day * (k % 6 + 1) - timedelta(hours=3)))
    for k, text in enumerate(BEFORE):
        rows.append(Row(next(citizens), YANTAI, "福山区", text, end - day * (12 + k)))
    steady(DOGS, "福山区", (17, 8, 8, 8, 8), 10)
    return rows
