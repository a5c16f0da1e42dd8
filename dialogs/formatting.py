"""Dates as people read them, in the service's time zone: "2026年12月1日 23:59" / "1 Dec 2026 23:59"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def moment(when: datetime, locale: str, tz: ZoneInfo) -> str:
    local = when.astimezone(tz)
    if locale == "en":
        return local.strftime("%d %b %Y %H:%M").lstrip("0")
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def day(when: datetime, locale: str, tz: ZoneInfo) -> str:
    local = when.astimezone(tz)
    if locale == "en":
        return local.strftime("%d %b %Y").lstrip("0")
    return f"{local.year}年{local.month}月{local.day}日"
