"""What a description is about, as concepts: the object (路灯, 井盖, 暖气…) and what is wrong with
it (dark, missing, noisy, smelly…), each written many ways by citizens.

Lexical overlap alone cannot tell 路灯不亮 from 路灯杆歪了 (both say 路灯) or see that 暖气不热 and
暖气片是凉的 are one matter; a concept table can. Each concept lists the substrings that signal it;
``concepts(text)`` is the set of concepts a text mentions. Kept as data so a reviewer adds the next
way of saying it without touching the scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# concept -> substrings. Objects first, then problems.
CONCEPTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # objects
        "@streetlight": ("路灯",),
        "@lamp_post": ("路灯杆", "灯杆"),
        "@manhole": ("井盖", "窨井", "井口"),
        "@piling": ("打桩", "桩机"),
        "@construction": ("施工", "工地"),
        "@fume": ("油烟", "排烟"),
        "@water_supply": ("停水", "没水", "来水", "自来水", "水龙头"),
        "@power": ("停电", "没电"),
        "@bus_stop": ("站牌", "公交站", "车站"),
        "@bus_service": ("班次", "间隔", "等一个", "公交车"),
        "@garbage": ("垃圾",),
        "@pothole": ("坑", "塌", "路面"),
        "@traffic_light": ("红绿灯", "信号灯"),
        "@heating": ("暖气", "供暖", "供热"),
        "@square_dance": ("广场舞", "跳舞"),
        "@parking": ("停满", "违停", "停车", "占满"),
        "@sidewalk": ("人行道", "便道"),
        "@branch": ("树枝",),
        "@wire": ("电线",),
        "@elevator": ("电梯",),
        "@sewer": ("下水道", "污水", "冒水"),
        "@bike": ("单车",),
        "@blind_lane": ("盲道",),
        "@river": ("河",),
        "@dust": ("扬尘", "尘土", "黄土", "覆盖", "盖网"),
        "@stall": ("摊", "占道"),
        "@clutter": ("杂物", "纸箱", "堆"),
        "@footbridge": ("天桥",),
        "@school_gate": ("学校门口", "上学", "放学"),
        "@fitness": ("健身器材",),
        "@camera": ("监控", "摄像头", "探头"),
        "@toilet": ("厕所",),
        "@flooding": ("积水", "下雨"),
        "@fire_lane": ("消防通道",),
        "@parcel_locker": ("快递柜",),
        "@renovation": ("装修", "电钻"),
        "@dog": ("狗",),
        "@taxi": ("出租车", "打车"),
        "@gas": ("燃气", "煤气"),
        "@greenbelt": ("绿化带",),
        "@sewage_plant": ("污水厂", "污水处理厂"),
        "@shop_food": ("三无", "过期", "小卖部"),
        # problems
        "!dark": ("不亮", "看不见", "黑乎乎", "黑"),
        "!missing": ("丢", "不见", "没了"),
        "!tilted": ("歪", "倒", "撞"),
        "!noise": ("噪音", "吵", "声音太大", "睡不着", "扰民", "太响"),
        "!smell": ("臭", "味"),
        "!broken": ("坏", "断", "破", "碎", "松"),
        "!stuck": ("困人", "关在里面", "停用"),
        "!cold": ("不热", "凉", "温度不达标", "不够", "度"),
        "!blocked": ("堵", "占", "挡"),
        "!overflow": ("满了", "溢出", "没人收", "没人清理"),
        "!dirty": ("脏", "没人打扫"),
        "!yellow_water": ("发黄", "黄的"),
        "!refuse": ("拒载", "不拉"),
        "!leak": ("漏气", "漏"),
        "!overgrown": ("修剪", "杂草", "一人高"),
        "!fire_risk": ("火灾", "着火"),
        "!bite": ("咬",),
        "!late_bus": ("等一个小时", "等一个钟头", "都不来", "太长"),
        "!discharge": ("排", "偷排"),
    }
)


def concepts(text: str) -> frozenset[str]:
    return frozenset(name for name, signs in CONCEPTS.items() if any(s in text for s in signs))
