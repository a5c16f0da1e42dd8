"""Personal data is masked in every log line."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import JsonFormatter, mask_personal_data


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("call +86 138-1234-5678 now", "call +86 138****5678 now"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("身份证11010119900307123X", "身份证110101********123X"),
        ("座机0532-88886666", "座机0532-****6666"),
        ("订单号2026112200001", "订单号2026112200001"),
        ("WZ20261122-0007", "WZ20261122-0007"),
    ],
)
def test_mask_personal_data(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_formatter_masks_the_rendered_line() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "citizen said %s", ("我的电话是13812345678",), None)
    line = JsonFormatter().format(record)
    assert "13812345678" not in line
    assert json.loads(line)["message"] == "citizen said 我的电话是138****5678"
