"""A street, square or compound named in what is left of a message after its district, so staff
see where, not only which district."""

from __future__ import annotations

import re

STREET = re.compile(
    r"[^\s，。,.!！?？、；;：:（）()“”\"的在里]{2,16}?"
    r"(?:大道|大街|路|街|巷|胡同|弄|小区|广场|社区|花园|大厦|公园|景区|医院|学校|镇|乡)"
    r"(?:[\d一二三四五六七八九十]+号)?"
)
_LEADING_WORDS = re.compile(r"^(?:投诉|举报|反映|咨询|求助|建议|请问|关于)+")


def street_hint(detail: str) -> str:
    """A street, square or compound named near the start of what is left after the district
    ("香港中路的路灯坏了" -> "香港中路"), so staff see where, not only which district. Empty when
    nothing looks like one; the citizen sees it marked as a guess and can change it."""
    found = STREET.search(detail[:40])
    if found is None:
        return ""
    street = _LEADING_WORDS.sub("", found.group(0))
    if len(street) < 2 or any(p in street for p in ("我", "你", "他", "了")):
        return ""
    return street
