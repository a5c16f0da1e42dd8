"""Reply templates per topic: the sentences a clerk starts an answer from (then edits).

Kept as data here, keyed by topic code (the taxonomy's), with general ones every topic offers.
Each is Chinese and English; the console offers the language of the citizen's ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    key: str
    title_zh: str
    title_en: str
    zh: str
    en: str

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh

    def body(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


GENERAL = (
    ReplyTemplate(
        "received",
        "已转相关单位核查",
        "Passed on for checking",
        "您好，您反映的问题已收悉，我们已安排相关单位现场核查，将于办结后再次答复您。感谢您的监督。",
        "Hello. We received your message and have asked the responsible unit to check on site; we will answer"
        " again once it is resolved. Thank you.",
    ),
    ReplyTemplate(
        "more_info",
        "请补充信息",
        "More information needed",
        "您好，为便于核查，请补充具体位置（路名、门牌号或附近标志）和发生时间，可直接回复本消息。",
        "Hello. To look into this we need the exact place (street, number or a landmark) and the time;"
        " please reply to this message.",
    ),
)

BY_TOPIC: Mapping[str, tuple[ReplyTemplate, ...]] = MappingProxyType(
    {
        "urban": (
            ReplyTemplate(
                "urban_fixed",
                "设施已修复",
                "Fixed",
                "您好，您反映的市政设施问题，经城市管理部门现场核查，已于今日修复。感谢您对城市管理工作的支持。",
                "Hello. The urban management team checked the facility you reported and repaired it today."
                " Thank you for your support.",
            ),
        ),
        "transport": (
            ReplyTemplate(
                "transport_checked",
                "交通问题已处理",
                "Traffic issue handled",
                "您好，您反映的交通问题已转交通运输部门处理，相关路段已安排整改，请注意出行安全。",
                "Hello. The transport bureau has taken up the traffic problem you reported and scheduled work"
                " on that road. Please travel safely.",
            ),
        ),
        "environment": (
            ReplyTemplate(
                "environment_inspected",
                "已执法检查",
                "Inspected",
                "您好，生态环境部门已对您反映的污染问题进行执法检查，责令相关单位限期整改，后续将跟踪复查。",
                "Hello. The environment bureau inspected the pollution you reported and ordered the party to fix"
                " it by a deadline; we will check again.",
            ),
        ),
    }
)


def templates_for(topic: str) -> tuple[ReplyTemplate, ...]:
    return BY_TOPIC.get(topic, ()) + GENERAL
