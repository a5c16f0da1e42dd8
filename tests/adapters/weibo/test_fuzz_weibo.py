"""Weibo fan-service JSON (``POST /webhooks/weibo``) under 3,000 hostile pushes: never a 500 or 503.

Templates are the recorded pushes in ``tests/payloads/weibo`` (texts, positions, images, voices,
mentions, events), each signed with a fresh nonce and carrying its own ``created_at``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.adapters import hostile
from tests.adapters.fuzz import FUZZ_SETTINGS, json_bodies, running

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "weibo"
RECORDED = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(PAYLOADS.glob("*.json")) if "bad_" not in p.name]


def fresh(push: dict[str, Any], second: int) -> dict[str, Any]:
    return {**push, "created_at": f"Sun Nov 22 16:{second // 60 % 60:02d}:{second % 60:02d} +0800 2026 {second}"}


TEMPLATES = st.builds(fresh, st.sampled_from(RECORDED), st.integers(0, 10**9))


def test_weibo_answers_every_hostile_push_with_a_4xx_or_200(tmp_path: Path) -> None:
    seen: Counter[int] = Counter()
    with running(lambda stack: hostile.weibo(stack, tmp_path)) as (loop, wb):

        @FUZZ_SETTINGS
        @given(json_bodies(TEMPLATES))
        def one(body: bytes) -> None:
            status = loop.run_until_complete(wb.post(body))
            seen[status] += 1
            assert status in hostile.ALLOWED, (status, body[:300])

        one()
        assert loop.run_until_complete(wb.ordinary("路灯坏了一个星期了")) == 200
    assert seen[200] > 300 and seen[400] > 300, seen  # both paths were really exercised
