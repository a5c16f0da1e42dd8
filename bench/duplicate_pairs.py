"""Labelled pairs for the duplicate threshold: two descriptions already known to be the same
topic and near each other (the lookup's SQL checks that), and whether they are the SAME MATTER.

Two sources, three uses:

- ``PAIRS`` (80, below): written by hand to be hard, by the author of the first concept table
  (``tickets/matters.py``) with all pairs in view. Contaminated, so CALIBRATION only: used with
  DEV to fit the weights and pick the threshold, never to claim how well the method does.
- ``duplicate_pairs_independent.jsonl`` (240, 120 same / 120 other): written by someone else in
  many voices (dialect, typos, elderly, angry, landmarks, house numbers), every pair near in place
  and of one topic. Split by ``zlib.crc32(f"{a}|{b}".encode()) % 2``: 0 is DEV (read while
  extending the concept table; fits and threshold), 1 is TEST (held out: nobody reads its pairs or
  their scores; only its aggregate precision and recall are computed, rarely: each look is noted
  in BENCHMARKS.md).

``python -m bench.duplicate_pairs`` prints precision and recall at the shipped threshold on all
three and the threshold ``calibrate`` picks on calibration + DEV; ``--fit`` refits the weights.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

SAME = True
OTHER = False

PAIRS: tuple[tuple[str, str, bool], ...] = (
    # --- the same matter, other words ---------------------------------------------------------
    ("香港中路的路灯坏了一个星期了，晚上很危险", "香港中路路灯不亮好几天了，晚上走路看不见", SAME),
    ("路灯不亮", "这条路的路灯晚上一直不亮，黑乎乎的", SAME),
    ("小区门口井盖丢了，车辆经过很危险", "井盖不见了，就在小区大门口，差点有人掉下去", SAME),
    ("工地夜里施工打桩，噪音太大，严重影响休息", "半夜工地还在打桩，吵得睡不着觉", SAME),
    ("地铁施工半夜噪音扰民", "地铁工地夜间施工声音太大，影响居民休息", SAME),
    ("饭店油烟直排，楼上住户家里全是油烟味", "楼下餐馆排油烟，我家窗户都不敢开", SAME),
    ("小区停水两天了，也没有通知", "我们小区已经两天没水了，物业也不说什么时候来水", SAME),
    ("公交站牌被撞倒了，乘客等车找不到站", "公交车站的站牌倒在地上，等车的人找不到", SAME),
    ("垃圾桶满了好几天没人清理，臭气熏天", "垃圾没人收，垃圾桶都溢出来了，特别臭", SAME),
    ("道路中间有个大坑，电动车经过容易摔倒", "路面塌了一个坑，昨天有骑电动车的摔了", SAME),
    ("红绿灯坏了，路口车辆乱成一团", "十字路口信号灯不亮，车都堵住了", SAME),
    ("暖气不热，室温只有十五度", "家里暖气片是凉的，供暖温度不达标", SAME),
    ("广场舞音响声音太大，每天晚上吵到十点", "小区广场跳舞放音乐太吵，晚上十点还不停", SAME),
    ("人行道上停满了车，行人只能走机动车道", "便道被违停车辆占满，行人没法走", SAME),
    ("树枝快断了挂在电线上，刮风很危险", "大风把树枝刮断了搭在电线上，随时可能掉下来", SAME),
    ("自来水发黄有异味，不敢喝", "水龙头出来的水是黄的，还有一股味道", SAME),
    ("电梯经常困人，物业不修", "我们楼电梯老是坏，上周又把人关在里面了", SAME),
    ("下水道堵了，污水漫到路上", "马路上污水横流，下水道井口往外冒水", SAME),
    ("共享单车乱停乱放堵住盲道", "盲道上全是共享单车，盲人根本没法走", SAME),
    ("河里有人偷排污水，河水发黑发臭", "有工厂往河里排黑水，整条河都臭了", SAME),
    ("工地扬尘很大，没有洒水也没有覆盖", "施工工地尘土飞扬，黄土没有盖网", SAME),
    ("夜市摊位占道经营，晚上车过不去", "每天晚上小吃摊把路占了，汽车开不过去", SAME),
    ("楼道里堆满杂物，有火灾隐患", "楼梯间堆了很多纸箱和旧家具，着火了跑不出去", SAME),
    ("路边的窨井盖松动，车压过去哐哐响", "井盖松了，每次有车经过都咣当咣当响", SAME),
    ("过街天桥的电梯停用半年了", "天桥电梯坏了半年还没修好，老人上不去", SAME),
    ("学校门口早晚高峰堵车严重，没有交警疏导", "上学放学时学校门口堵得水泄不通，希望派交警", SAME),
    ("小区的健身器材坏了，容易伤到老人孩子", "小区里的健身器材断了一根，小孩玩很危险", SAME),
    ("路口的监控探头被树挡住了", "树枝把路口的摄像头挡住了，拍不到", SAME),
    ("公园厕所脏乱差，没人打扫", "公园里的公共厕所特别脏，好久没人打扫了", SAME),
    ("雨天路口积水很深，行人过不去", "一下雨这个路口就积水，水到小腿，没法过马路", SAME),
    ("快递柜占了消防通道", "小区消防通道被快递柜堵住了", SAME),
    ("装修噪音中午也不停", "楼上装修天天电钻，中午休息时间也在钻", SAME),
    ("野狗成群，晚上追咬行人", "附近流浪狗很多，晚上追着人咬", SAME),
    ("出租车拒载，去医院都不拉", "打车去医院，出租车司机不拉", SAME),
    ("燃气管道有漏气的味道", "楼道里闻到煤气味，怀疑燃气管漏了", SAME),
    ("路灯杆被撞歪了，随时可能倒下", "那根路灯杆歪得厉害，怕砸到人", SAME),
    ("绿化带里的草很久没修剪，长到一人高", "绿化带杂草丛生，好久没人修剪了", SAME),
    ("污水处理厂臭味很大，周边居民受不了", "污水厂每天散发臭味，附近小区都能闻到", SAME),
    ("公交车班次太少，等一个小时都不来", "这路公交车间隔太长，经常等一个钟头", SAME),
    ("学校周边有无证经营的小卖部卖三无食品", "学校附近小卖部卖过期零食，没有营业执照", SAME),
    # --- not the same matter, though near in place, topic and words --------------------------
    ("香港中路的路灯坏了一个星期了，晚上很危险", "香港中路的井盖丢了，车辆经过很危险", OTHER),
    ("路灯不亮", "路灯杆被撞歪了，随时可能倒下", OTHER),
    ("工地夜里施工打桩，噪音太大，严重影响休息", "工地扬尘很大，没有洒水也没有覆盖", OTHER),
    ("地铁施工半夜噪音扰民", "地铁施工围挡占了人行道，行人只能走马路", OTHER),
    ("饭店油烟直排，楼上住户家里全是油烟味", "饭店在人行道上摆桌子占道经营", OTHER),
    ("小区停水两天了，也没有通知", "小区停电一整天，冰箱里东西都坏了", OTHER),
    ("公交站牌被撞倒了，乘客等车找不到站", "公交车班次太少，等一个小时都不来", OTHER),
    ("垃圾桶满了好几天没人清理，臭气熏天", "垃圾分类亭的位置离我家窗户太近，希望挪一挪", OTHER),
    ("道路中间有个大坑，电动车经过容易摔倒", "道路两边的隔离栏被撞坏了", OTHER),
    ("红绿灯坏了，路口车辆乱成一团", "红绿灯时间太短，老人过不完马路", OTHER),
    ("暖气不热，室温只有十五度", "暖气管道漏水，把楼下淹了", OTHER),
    ("广场舞音响声音太大，每天晚上吵到十点", "广场的地砖碎了好多，老人容易绊倒", OTHER),
    ("人行道上停满了车，行人只能走机动车道", "人行道的地砖松动，一踩就溅一身泥水", OTHER),
    ("树枝快断了挂在电线上，刮风很危险", "小区的树被物业砍了好几棵", OTHER),
    ("自来水发黄有异味，不敢喝", "自来水费涨价了也没有听证", OTHER),
    ("电梯经常困人，物业不修", "电梯广告屏声音太大", OTHER),
    ("下水道堵了，污水漫到路上", "下水道井盖丢了，晚上看不见很危险", OTHER),
    ("共享单车乱停乱放堵住盲道", "共享单车押金退不回来", OTHER),
    ("河里有人偷排污水，河水发黑发臭", "河边的护栏断了，小孩容易掉下去", OTHER),
    ("夜市摊位占道经营，晚上车过不去", "夜市的烧烤摊油烟很大，熏得窗户都黑了", OTHER),
    ("楼道里堆满杂物，有火灾隐患", "楼道的声控灯坏了，晚上上楼看不见", OTHER),
    ("过街天桥的电梯停用半年了", "过街天桥上有人摆摊乞讨", OTHER),
    ("学校门口早晚高峰堵车严重，没有交警疏导", "学校门口的小卖部卖辣条给小学生", OTHER),
    ("小区的健身器材坏了，容易伤到老人孩子", "小区的儿童游乐场被改成了停车位", OTHER),
    ("公园厕所脏乱差，没人打扫", "公园晚上十点就锁门，散步的人出不去", OTHER),
    ("雨天路口积水很深，行人过不去", "路口的斑马线磨没了，车都不让行人", OTHER),
    ("快递柜占了消防通道", "快递员把包裹扔在门口，丢了也不管", OTHER),
    ("装修噪音中午也不停", "楼上装修把承重墙拆了", OTHER),
    ("野狗成群，晚上追咬行人", "邻居养狗不拴绳，狗屎到处都是", OTHER),
    ("出租车拒载，去医院都不拉", "出租车绕路多收钱", OTHER),
    ("燃气管道有漏气的味道", "燃气费每个月都多收", OTHER),
    ("绿化带里的草很久没修剪，长到一人高", "绿化带被人毁了种菜", OTHER),
    ("污水处理厂臭味很大，周边居民受不了", "垃圾中转站臭味很大，夏天根本开不了窗", OTHER),
    ("公交车班次太少，等一个小时都不来", "公交车司机开车太猛，老人站不稳摔倒了", OTHER),
    ("学校周边有无证经营的小卖部卖三无食品", "学校周边网吧接待未成年人", OTHER),
    ("工地扬尘很大，没有洒水也没有覆盖", "工地的渣土车晚上闯红灯，很危险", OTHER),
    ("路口的监控探头被树挡住了", "路口的违章拍照抓拍不准，被冤枉罚款", OTHER),
    ("小区停水两天了，也没有通知", "小区二次供水水箱很久没清洗", OTHER),
    ("地铁施工半夜噪音扰民", "地铁站出口没有无障碍电梯", OTHER),
    ("香港中路路灯不亮好几天了，晚上走路看不见", "香港中路人行道上停满了车", OTHER),
)


INDEPENDENT = Path(__file__).with_name("duplicate_pairs_independent.jsonl")

Pair = tuple[str, str, bool]


def calibration_pairs() -> list[Pair]:
    return list(PAIRS)


def _independent(part: int) -> list[Pair]:
    pairs: list[Pair] = []
    for line in INDEPENDENT.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            a, b = str(row["a"]), str(row["b"])
            if zlib.crc32(f"{a}|{b}".encode()) % 2 == part:
                pairs.append((a, b, bool(row["same"])))
    return pairs


def dev_pairs() -> list[Pair]:
    """The independent pairs one may read, fit and pick the threshold on."""
    return _independent(0)


def held_out_pairs() -> list[Pair]:
    """The held-out independent pairs: score them only to compute aggregate precision and recall."""
    return _independent(1)


def fit() -> tuple[float, ...]:
    """The logistic weights on calibration + DEV (``tickets.similarity.WEIGHTS``)."""
    from tickets.segment import Segmenter
    from tickets.similarity import TextSimilarity, features, fit_logistic

    similarity = TextSimilarity(Segmenter())
    pairs = calibration_pairs() + dev_pairs()
    rows = [features(similarity.profile(a), similarity.profile(b)).as_tuple() for a, b, _ in pairs]
    return fit_logistic(rows, [same for _, _, same in pairs])


def main() -> None:
    from tickets.segment import Segmenter
    from tickets.similarity import DEFAULT_THRESHOLD, TextSimilarity, calibrate, measure, scored_pairs

    if "--fit" in sys.argv[1:]:
        print("weights (intercept, objects, conditions, conditions conflict, objects conflict):")
        print(", ".join(f"{w:.2f}" for w in fit()))
        return
    similarity = TextSimilarity(Segmenter())
    on_calibration, on_dev = scored_pairs(similarity, calibration_pairs()), scored_pairs(similarity, dev_pairs())
    picked = calibrate(on_calibration + on_dev)
    print(
        f"picked on calibration + DEV ({picked.pairs} pairs): threshold {picked.threshold:.2f} "
        f"(precision {picked.precision:.2f}, recall {picked.recall:.2f}); shipped {DEFAULT_THRESHOLD:.2f}"
    )
    for name, scored in (
        ("calibration", on_calibration),
        ("DEV", on_dev),
        ("TEST (held out)", scored_pairs(similarity, held_out_pairs())),
    ):
        found = measure(scored, DEFAULT_THRESHOLD)
        print(
            f"{name}: {found.pairs} pairs at {found.threshold:.2f}: "
            f"precision {found.precision:.2f}, recall {found.recall:.2f}"
        )


if __name__ == "__main__":
    main()
