"""Chinese word segmentation for hot topics and duplicate detection: jieba, with stop words.

jieba's dictionary takes a second or two to load, so a ``Segmenter`` loads it on first use or at
start (``warm_up``; the service does, since duplicates at 提交 are on the chat path) and keeps
its own tokenizer rather than jieba's global one. What counts as a term: two or more characters
(or a Latin word of three letters or more), not a stop word, not a number, and not a place the
ticket already names by its fields (its city or district: every ticket in 市南区 says 市南区,
which makes nothing hot).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba

# Words every complaint uses (filler, politeness, time, the act of complaining itself): they
# would make every pair of tickets look alike and every week look hot.
_STOP_WORDS_TEXT = """
问题 反映 投诉 举报 咨询 求助 建议 希望 请求 要求 请问 麻烦 谢谢 感谢 您好 你好 领导 政府
部门 相关 有关 单位 处理 解决 尽快 及时 马上 赶紧 一下 一直 已经 还是 就是 但是 而且 所以
因为 如果 虽然 然后 还有 现在 目前 最近 今天 昨天 明天 每天 天天 晚上 早上 上午 下午 中午
凌晨 半夜 时候 时间 小时 分钟 一个 一些 这个 那个 这些 那些 这里 那里 这样 那样 怎么 什么
为什么 怎么办 多少 没有 不是 可以 不能 不会 不要 需要 应该 可能 非常 特别 严重 十分 很多 太多
多次 好几 几次 多年 我们 你们 他们 她们 大家 自己 本人 我家 家里 市民 居民 群众 老百姓 情况
影响 导致 造成 出现 发现 存在 进行 工作 管理 人员 工作人员 联系 电话 打电话 回复 答复 说法
知道 看看 看到 告诉 地方 附近 周边 旁边 对面 门口 路口 位置 地址 所在 位于 这边 那边 上面
下面 里面 外面 一起 开始 结束 之前 之后 以来 期间 左右 大概 差不多 一样 同样 以上 以下 其他
另外 并且 以及 或者 甚至 只是 只有 不过 可是 依然 仍然 恳请 盼复 此事 该事 此处 该处 这种
那种 这次 上次 每次 多久 多长 好久 终于 根本 完全 实在 简直 真的
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Everyday words: who (老人, 孩子), where at home (小区, 楼上), how it feels (受不了, 没法), when
# (一周, 上个月). They say something in one ticket, so duplicates keep them, but many matters use
# them: a burst lifts them and two bursts share them, so hot topics count them neither as a rise
# nor as what makes two groups of tickets one matter (tickets.hot_topics).
_EVERYDAY_WORDS_TEXT = """
老人 老人家 孩子 小孩 孩子们 大人 邻居 业主 住户 家人 父母 老婆 老公 儿子 女儿
小区 楼上 楼下 楼里 屋里 家门口
受不了 没法 没办法 不敢 吵死 烦死 气死 急死 这么 那么 这么多 那么多 好多 有点 一点 越来越 老是
总是 经常 频繁
一周 两周 几天 好几天 一个月 这个月 上个月 每个月 这个星期 上个星期 星期 礼拜 周末 今年 去年
"""
EVERYDAY_WORDS = frozenset(_EVERYDAY_WORDS_TEXT.split())

_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z]{3,}")


class Segmenter:
    """Terms of a text (a set: a word said five times in one ticket is one ticket's worth)."""

    def __init__(self, stop_words: Iterable[str] = STOP_WORDS) -> None:
        self._stop = frozenset(stop_words)
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()  # the daily run segments in a worker thread

    @property
    def stop_words(self) -> frozenset[str]:
        return self._stop

    def warm_up(self) -> None:
        """Load the dictionary now (at start, on a thread): duplicates at 提交 are on the chat
        path, and a first citizen must not wait two seconds with the event loop held."""
        self._loaded()

    def _loaded(self) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                self._tokenizer = tokenizer
            return self._tokenizer

    def terms(self, text: str, *, exclude: Iterable[str | None] = ()) -> frozenset[str]:
        skip = {e for e in exclude if e}
        tokenizer = self._loaded()
        found = set()
        for word in tokenizer.cut(text):
            if not _CJK_OR_WORD.fullmatch(word):
                continue
            word = word.lower()
            if word in self._stop or word in skip:
                continue
            found.add(word)
        return frozenset(found)
