"""The words of the /public page, in Chinese and English (the dialog's texts are in
``dialogs.texts``; these are labels of a web page)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "title": ("问政办理结果公开", "Public results of citizen inquiries"),
        "intro": (
            "以下是经提问人同意公开的问政及部门答复，已隐去姓名、电话、身份证号和门牌号等个人信息。",
            "Inquiries whose authors agreed to publish them, with the departments' answers. Names, phone "
            "and ID numbers and house numbers are masked.",
        ),
        "search": ("搜索", "Search"),
        "words": ("关键词", "Words"),
        "topic": ("领域", "Area"),
        "district": ("区县", "District"),
        "department": ("部门", "Department"),
        "any": ("全部", "All"),
        "count": ("共 {total} 条", "{total} results"),
        "none": ("没有符合条件的公开结果。", "No published results match."),
        "filed": ("提交", "Filed"),
        "answered": ("答复", "Answered"),
        "answer_by": ("{department}答复：", "Answer from {department}:"),
        "rating": ("评价", "Rating"),
        "not_rated": ("未评价", "Not rated"),
        "rate_1": ("满意", "Satisfied"),
        "rate_2": ("基本满意", "Mostly satisfied"),
        "rate_3": ("不满意", "Not satisfied"),
        "prev": ("上一页", "Previous"),
        "next": ("下一页", "Next"),
        "page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
        "other_language": ("English", "中文"),
        "no_answer": ("（无文字答复）", "(no written answer)"),
        "open311": ("数据接口（Open311）", "Data interface (Open311)"),
        "figures_title": ("{month} 各部门办理情况", "Departments in {month}"),
        "figures_as_of": (
            "统计截至 {time}，每分钟更新。口径与考核相同：响应率 = 8 小时内签收或答复的件数 ÷ 应响应件数；"
            "按时办结率 = 在答复期限内办结的件数 ÷ 应办结件数；"
            "满意率 = 最后一次评价为满意或基本满意的件数 ÷ 已评价件数。",
            "As of {time}, updated every minute. The scorecard's definitions: responded = claimed or answered "
            "within 8 hours ÷ due a response; concluded on time = concluded by the answer deadline ÷ due an "
            "answer; satisfied = latest rating 满意 or 基本满意 ÷ rated.",
        ),
        "figures_department": ("部门", "Department"),
        "figures_none": ("本月还没有到期的问政。", "Nothing has fallen due this month yet."),
        "figures_other_month": ("查看 {month}", "See {month}"),
    }
)


def labels(locale: str) -> dict[str, str]:
    index = 1 if locale == "en" else 0
    return {key: pair[index] for key, pair in LABELS.items()}
