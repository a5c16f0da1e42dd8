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
    }
)


def labels(locale: str) -> dict[str, str]:
    index = 1 if locale == "en" else 0
    return {key: pair[index] for key, pair in LABELS.items()}
