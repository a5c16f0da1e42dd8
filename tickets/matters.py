"""What a description is about, as concepts: the object (路灯, 井盖, 暖气, 工资…) and what is wrong
with it (dark, missing, noisy, smelly, in arrears…), each written many ways by citizens.

The duplicate lookup only compares tickets already near in place and of one topic, so what tells
one matter from another there is the object and above all its condition: 暖气不热 and 暖气漏水 share
the object, the place and most words, and are two matters; 电梯停运 and 电梯又坏了 share almost
nothing and are one. Lexical overlap cannot see either; a concept table can. ``concepts(text)`` is
the set of concepts a text mentions, objects prefixed ``@`` and conditions ``!``.

Matching is longest sign first, and a character one sign used is not read again by a shorter one:
路灯杆 is a pole, not also a street lamp; 污水处理厂 is a plant, not also sewage. Place names are
masked first (``mask_places``): 星河湾 is no river and 锦绣花园 no greenery. Kept as data so a
reviewer adds the next way of saying it without touching the scoring. The lists were extended
while reading the calibration and DEV pairs (``bench/duplicate_pairs.py``), never the TEST ones,
so only TEST says how well they carry over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

# concept -> substrings. Objects (@) first, then conditions (!).
CONCEPTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # --- objects: street furniture and public works -------------------------------------
        "@streetlight": ("路灯", "路等", "照明", "灯泡"),
        "@pole": ("路灯杆", "灯杆", "电线杆", "电杆", "杆子"),
        "@stair_light": ("声控灯", "楼道灯", "楼道的灯", "感应灯"),
        "@traffic_light": ("红绿灯", "信号灯", "交通灯"),
        "@manhole": ("井盖", "窨井", "井口", "盖板", "雨水篦", "水篦子"),
        "@drain": ("下水道", "排水沟", "雨水井", "排水管", "化粪池", "管网"),
        "@sewage": ("污水", "粪水", "返水", "倒灌", "冒水", "泔水"),
        "@road": ("路面", "坑洼", "大坑", "塌", "坑", "路烂", "路面破", "破路", "马路牙子"),
        "@speed_bump": ("减速带",),
        "@flooding": ("积水", "内涝", "淹", "蹚水", "趟水", "下雨"),
        "@railing": ("护栏", "栏杆", "隔离栏", "围栏"),
        "@trench": ("挖沟", "回填", "开挖", "挖开", "挖了", "刨开"),
        "@sidewalk": ("人行道", "便道", "盲道"),
        "@footbridge": ("天桥",),
        "@camera": ("监控", "摄像头", "探头", "抓拍", "拍照"),
        "@bus": ("公交", "班次", "站牌", "公交站", "车站"),
        "@taxi": ("出租车", "打车", "的士", "打的", "网约车"),
        "@bike": ("单车", "共享单车", "电子围栏", "调度费"),
        "@parking": ("停车", "违停", "乱停", "停满", "车位", "僵尸车", "停放", "并排停"),
        "@tree": ("树", "行道树", "树枝", "树木", "树杈"),
        "@greenbelt": ("绿化带", "草坪", "杂草", "绿地"),
        "@fitness": ("健身器材", "健身器械", "单杠"),
        "@playground": ("滑梯", "游乐", "秋千", "蹦床"),
        "@toilet": ("厕所", "公厕", "卫生间", "洗手池"),
        "@river": ("河水", "河道", "河里", "河边", "河岸", "河面", "水沟", "池塘", "湖水"),
        # --- objects: buildings and homes ------------------------------------------------------
        "@elevator": ("电梯",),
        "@fire_lane": ("消防通道", "生命通道"),
        "@stairwell": ("楼道", "楼梯间", "走廊"),
        "@roof": ("顶楼", "楼顶", "屋顶", "防水层", "天花板", "顶棚", "外墙"),
        "@load_wall": ("承重墙",),
        "@door": ("门禁", "大门", "单元门", "防盗门", "道闸"),
        "@illegal_build": ("违建", "违章建筑", "搭建", "棚子", "加盖", "私搭", "盖房", "厂房"),
        "@ac": ("空调", "外机", "冷凝水"),
        "@clutter": ("杂物", "纸箱", "堆放", "旧家具"),
        # --- objects: utilities -----------------------------------------------------------------
        "@water": ("自来水", "停水", "没水", "断水", "来水", "水压", "不出水", "供水", "水龙头", "用水"),
        "@water_pipe": ("水管", "管子", "管道", "主管"),
        "@water_meter": ("水表",),
        "@water_tank": ("水箱", "蓄水池"),
        "@power": ("停电", "没电", "断电", "供电", "电压", "跳闸"),
        "@power_kit": ("变压器", "配电房", "配电箱", "电箱", "电线", "电缆", "线路"),
        "@power_bill": ("电费", "电价", "转供电", "一度电", "电表"),
        "@heating": ("暖气", "供暖", "供热", "暖气片", "地暖", "热力", "停暖"),
        "@heating_fee": ("取暖费", "供暖费", "采暖费"),
        "@gas": ("燃气", "煤气", "天然气", "液化气", "石油气", "钢瓶", "气罐", "通气"),
        # --- objects: nuisances -------------------------------------------------------------
        "@construction": ("施工", "工地", "打桩", "桩机", "拆除", "脚手架", "搅拌站", "渣土车", "罐车"),
        "@renovation": ("装修", "电钻", "砸墙"),
        "@garbage": ("垃圾", "环卫", "收运", "清运"),
        "@debris": ("建筑垃圾", "渣土", "偷倒", "乱倒", "倾倒"),
        "@fume": ("油烟", "排烟", "烟道", "烟", "炒菜"),
        "@square_dance": ("广场舞", "跳舞", "跳广场舞"),
        "@loudspeaker": ("音响", "喇叭", "音乐", "放音乐", "放歌", "唱歌", "ktv", "歌厅"),
        "@neighbour": ("楼上", "邻居", "隔壁"),
        "@gym": ("健身房", "杠铃", "器械"),
        "@dog": ("狗", "犬", "遛狗"),
        "@cat": ("猫",),
        "@livestock": ("养猪", "养殖", "猪场", "鸡场", "粪污"),
        "@factory": ("工厂", "厂里", "印染", "化工", "车间", "机器"),
        "@flare": ("火炬", "火光"),
        "@stall": ("摊", "摊贩", "占道经营", "早市", "夜市", "商贩", "小贩", "摆卖"),
        # --- objects: money, services, papers ---------------------------------------------------
        "@wages": ("工资", "欠薪", "薪水", "工钱", "血汗钱"),
        "@social_insurance": ("社保", "五险", "养老保险", "医保"),
        "@work_injury": ("工伤",),
        "@property_papers": ("产权证", "不动产", "房产证", "办证", "网签", "首次登记", "分户"),
        "@handover": ("交房", "延期交付"),
        "@allowance": ("补贴", "低保", "过渡费", "补助", "养老金", "救助"),
        "@property_fee": ("物业费", "公共收益", "广告位", "维修基金"),
        "@stall_fee": ("摊位费", "管理费"),
        "@parking_fee": ("停车费", "收费员"),
        "@school_fee": ("学费", "课程费", "择校费", "补课费"),
        "@hospital_number": ("挂号", "专家号", "号贩子", "黄牛", "号源"),
        "@medicine": ("药品", "药", "慢病"),
        "@canteen": ("食堂", "老年餐", "助餐"),
        "@restaurant": ("饭店", "餐馆", "菜馆", "餐饮", "私房菜", "外卖", "小吃", "烧烤", "大排档", "烤肉", "卤味"),
        "@food": ("食品", "肉", "牛奶", "乳制品", "零食", "辣条", "大米", "米虫"),
        "@scales": ("秤", "斤", "八两", "缺斤"),
        "@price": ("价签", "标价", "明码标价", "结账"),
        "@office": ("居委会", "窗口", "政务", "办事大厅", "工作人员", "值守"),
        "@farmland": ("耕地", "农田", "基本农田"),
        "@teacher": ("老师", "体罚", "教师"),
        "@guard": ("保安",),
        "@lost_item": ("遗失", "落在", "掉在", "失物"),
        "@confiscation": ("暂扣", "收走", "没收", "扣押"),
        "@school_gate": ("学校门口", "上学", "放学", "上下学", "接送孩子"),
        "@parcel_locker": ("快递柜",),
        "@sewage_plant": ("污水厂", "污水处理厂"),
        "@shop_food": ("三无", "小卖部"),
        "@overtime": ("加班", "加班费", "调休"),
        "@contract": ("劳动合同", "签合同", "合同", "试用期"),
        "@dismissal": ("辞退", "开除", "裁员", "解雇", "赔偿金", "经济补偿"),
        "@burning": ("焚烧", "烧垃圾", "烧秸秆", "烧东西", "露天烧"),
        "@glare": ("强光", "灯光刺眼", "广告屏", "大屏", "彩灯", "射灯"),
        "@base_station": ("基站", "辐射", "信号塔"),
        "@house_quality": ("空鼓", "墙裂", "墙体", "房屋质量", "墙皮"),
        "@rent": ("房租", "租房", "中介", "房东", "押金"),
        "@fake_goods": ("假货", "假冒", "山寨", "以次充好"),
        "@prepaid": ("预付卡", "办卡", "充值", "会员卡", "退卡"),
        "@medical_claim": ("报销", "医保卡", "住院费"),
        "@traffic": ("堵车", "拥堵", "交警", "疏导", "车流"),
        "@reckless_driving": ("开太快", "急刹", "开车太猛", "超速", "飙车", "闯红灯"),
        "@billboard": ("广告牌", "招牌", "灯箱", "横幅"),
        "@network": ("宽带", "网络", "断网", "手机信号", "网速"),
        "@farm_inputs": ("种子", "农药", "化肥", "饲料"),
        "@scenic": ("景区", "门票", "导游", "强制购物"),
        "@school_bus": ("校车",),
        "@enrolment": ("入学", "学位", "划片", "转学", "报名"),
        "@tutoring": ("补课", "培训班", "辅导班"),
        "@doctor": ("医生", "护士", "大夫", "误诊", "手术"),
        "@scam": ("诈骗", "骗子", "被骗", "骗了", "传销", "非法集资"),
        "@fight": ("打架", "斗殴", "闹事", "寻衅"),
        "@gambling": ("赌博", "赌场", "麻将馆"),
        "@internet_cafe": ("网吧", "游戏厅"),
        "@mosquito": ("蚊子", "蟑螂", "老鼠", "苍蝇", "虫"),
        "@pet_waste": ("狗屎", "粪便", "便便"),
        "@housing_subsidy": ("公租房", "廉租房", "保障房", "住房补贴"),
        "@resettlement": ("安置房", "回迁", "拆迁款", "补偿款", "征收"),
        "@vehicle": ("电动车", "汽车", "摩托车", "三轮车", "货车", "大车"),
        # --- conditions -------------------------------------------------------------------------
        "!dark": ("不亮", "看不见", "黑乎乎", "漆黑", "一片黑", "摸黑", "无照明", "熄", "灭了", "黑灯", "没有灯"),
        "!lit_by_day": ("白天也亮", "大白天", "不关", "太早", "长明", "全开", "天还亮"),
        "!flicker": ("一闪", "闪烁", "忽明忽暗", "晃眼"),
        "!broken": (
            "坏",
            "损坏",
            "破损",
            "故障",
            "断了",
            "断裂",
            "折断",
            "刮断",
            "断开",
            "碎",
            "失灵",
            "不能用",
            "停用",
            "停运",
            "不好使",
            "没修",
            "报修",
        ),
        "!stuck": ("困人", "关在里面", "困在"),
        "!cracked": ("裂", "开裂", "裂缝"),
        "!missing": ("丢", "不见", "没了", "缺失", "被偷", "偷走", "掉了"),
        "!loose": ("松", "哐当", "咣当", "翻起来", "晃动", "一压就响", "一踩"),
        "!tilted": ("歪", "倒了", "倾斜", "撞倒", "倒在", "刮倒", "撞歪"),
        "!falling": ("掉下来", "坠落", "砸到", "砸人", "掉落"),
        "!leak": ("漏", "渗", "滴水", "长流水", "关不上", "流个不停", "哗哗", "滴"),
        "!burst": ("爆", "喷"),
        "!no_supply": (
            "停水",
            "没水",
            "断水",
            "不出水",
            "一滴都不出",
            "停电",
            "没电",
            "断电",
            "停气",
            "没通气",
            "没气",
        ),
        "!cold": ("不热", "凉", "冷", "温度低", "不达标", "温度不够", "冻"),
        "!noise": (
            "吵",
            "噪音",
            "噪声",
            "燥音",
            "扰民",
            "嗡嗡",
            "咚咚",
            "睡不着",
            "失眠",
            "入睡",
            "声音大",
            "声音太大",
            "鬼哭狼嚎",
            "太响",
            "哐哐",
            "啪啪",
            "狗叫",
            "撞击声",
            "声音",
            "开得太大",
            "太大声",
            "放音乐",
            "一起叫",
            "叫个不停",
        ),
        "!smell": ("臭", "味", "熏"),
        "!dust": ("灰", "扬尘", "粉尘", "灰尘", "尘土", "降尘", "沙尘", "黄土", "覆盖", "洒水"),
        "!discharge": ("偷排", "直排", "排放", "废水", "排污", "往河里", "黑水", "发黑"),
        "!blocked": ("堵", "挡", "遮", "占", "不让过", "过不去"),
        "!overgrown": ("修剪", "一人高", "太高", "遮光", "晒不到"),
        "!cut_down": ("砍",),
        "!fee": ("收费", "乱收费", "多收", "涨价", "涨了", "翻倍", "一倍", "收钱", "费用", "贵", "多交"),
        "!arrears": ("拖欠", "欠", "不发", "停发", "没发", "不给钱", "拿不到"),
        "!delay": (
            "迟迟",
            "拖延",
            "拖着",
            "一拖再拖",
            "拖了",
            "延期",
            "未办理",
            "没回复",
            "不给办",
            "一直不",
            "几年了",
            "多年",
        ),
        "!runaround": ("五趟", "好几趟", "跑了", "一次性告知", "一次性说清", "缺材料"),
        "!unattended": ("无人值守", "找不到人", "没人接", "门锁着", "不在岗"),
        "!queue": ("排队", "排号", "只开了", "等了"),
        "!dirty": ("脏", "没人打扫", "乱扔", "扔一地", "一地", "苍蝇"),
        "!spoiled": ("变质", "过期", "发霉", "保质期", "米虫", "异物", "吃坏", "拉肚子", "钢丝"),
        "!short_weight": ("缺斤短两", "八两", "短斤", "按35算", "价签", "不一致"),
        "!refuse": ("拒载", "不拉"),
        "!detour": ("绕路", "绕远"),
        "!injury": ("摔", "受伤", "扑倒", "扑人", "咬", "划伤", "烫", "工伤"),
        "!water_quality": ("发黄", "黄的", "铁锈", "浑浊", "消毒水味", "漂白水味", "余氯", "氯加多", "水质"),
        "!waterlogged": ("积水", "淹", "内涝", "蹚水", "泡了"),
        "!fire_risk": ("火灾", "着火", "安全隐患", "易燃"),
        "!scalping": ("倒卖", "号贩子", "黄牛"),
        "!abuse": ("打人", "体罚", "打业主", "殴打"),
        "!closed": ("关门", "停业", "锁门"),
        "!shortage": ("缺货", "没有药", "没药", "配不到", "开不到"),
        "!fraud": ("坑人", "冒领", "骗保", "开着宝马", "不公平"),
        "!unlicensed": ("无证", "没有营业执照", "无照", "违规经营", "三无"),
        "!attitude": ("态度", "冷漠", "不耐烦", "骂人", "推诿", "踢皮球", "爱答不理", "不作为"),
        "!theft": ("被盗", "小偷", "偷了", "被偷"),
        "!congestion": ("堵车", "拥堵", "堵成", "水泄不通", "走不动"),
        "!overcrowded": ("爆满", "太挤", "拥挤", "人太多", "挤不上"),
        "!unsafe": ("危险", "隐患", "迟早要出事", "吓人"),
        "!dumped": ("偷倒", "乱倒", "倾倒", "乱扔", "堆成"),
        "!pests": ("蚊子", "蟑螂", "老鼠", "苍蝇", "生虫"),
        "!slow": ("太慢", "慢", "等太久", "半天"),
        "!encroach": ("占用耕地", "基本农田上", "违法占用"),
    }
)

# Conditions that say little of what is wrong (坏了, 危险, 没人管, 摔了): 路灯坏了 and 路灯不亮 are one
# matter, so these agree with a more telling condition but never conflict with one.
GENERIC: frozenset[str] = frozenset({"!broken", "!unsafe", "!delay", "!injury"})

# Everyday words that hold a sign and mean none of it: read (so the shorter sign is not) and
# dropped. 不断 is no break, 拖鞋 no delay, 灰色 no dust.
NEUTRAL: tuple[str, ...] = (
    "不断",
    "判断",
    "垄断",
    "断断续续",
    "拖鞋",
    "拖地",
    "拖把",
    "灰色",
    "冷静",
    "冷冻",
    "慢性",
    "口味",
    "美味",
    "火爆",
    "坏人",
    "漏洞",
    "欠条",
)


# Longest sign first: a character is read by the longest sign that covers it.
def _by_sign() -> tuple[tuple[str, frozenset[str]], ...]:
    names: dict[str, set[str]] = {}
    for name, signs in CONCEPTS.items():
        for sign in signs:
            names.setdefault(sign, set()).add(name)
    for word in NEUTRAL:
        names.setdefault(word, set())
    return tuple(sorted(((s, frozenset(n)) for s, n in names.items()), key=lambda p: (-len(p[0]), p[0])))


_SIGNS = _by_sign()

# What names a place rather than a matter: the lookup has matched the place already (250 m or the
# same named place), so these only make two matters at one address look alike. House numbers
# (6栋, 3-1-402, 10号楼2单元, B区, A座), and a name before a place word (锦绣花园, 碧水湾, 学府路).
_NUMBERED = re.compile(
    r"(?:[0-9０-９]+(?:[-—－][0-9０-９]+)*|[一二三四五六七八九十两]+|[A-Za-z])"
    r"(?:号楼|号院|号|栋|幢|单元|楼|层|室|座|区|户|期)"
    r"|[0-9０-９]+(?:[-—－][0-9０-９]+)+"
)
_PLACE_WORDS = (
    "小区|花园|花苑|家园|新村|新城|公寓|大厦|广场|社区|街道|园区|工业园|公园|村|苑|湾|府|庄|城|里"
    "|大道|中路|东路|西路|南路|北路|路|街|巷|弄|胡同|镇|乡"
)
_NAMED = re.compile(
    rf"[\u4e00-\u9fff]{{2,4}}?(?:{_PLACE_WORDS})"
    r"(?=[东西南北]门|门口|[0-9A-Za-z一二三四五六七八九十]|[的那这附周里]|$)"
)
_GATE = re.compile(r"[东西南北]门|[东西南北]大门")


@lru_cache(maxsize=4096)
def mask_places(text: str) -> str:
    """The text with house numbers, named places and gates blanked (same length, spaces)."""
    text = text.lower()
    for pattern in (_NAMED, _NUMBERED, _GATE):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def concepts(text: str) -> frozenset[str]:
    """The concepts of a text, read from its place-masked form, longest sign first."""
    masked = mask_places(text)
    taken = bytearray(len(masked))
    found: set[str] = set()
    for sign, names in _SIGNS:
        start = masked.find(sign)
        while start >= 0:
            end = start + len(sign)
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * len(sign)
                found.update(names)
            start = masked.find(sign, end)
    return frozenset(found)
