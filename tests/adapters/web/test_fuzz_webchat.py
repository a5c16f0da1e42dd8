"""Web chat JSON (``POST /chat/api/messages``) under 3,000 hostile payloads: never a 500 or 503."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.adapters import hostile
from tests.adapters.fuzz import FUZZ_SETTINGS, json_bodies, running

ids = st.uuids().map(lambda u: f"fz-{u.hex[:20]}")
TEMPLATES = st.one_of(
    st.builds(lambda i: {"id": i, "text": "青岛市市南区香港中路的路灯坏了"}, ids),
    st.builds(lambda i: {"id": i, "choice": {"id": "confirm:submit", "label": "提交"}}, ids),
    st.builds(lambda i: {"id": i, "location": {"lat": 36.06, "lon": 120.38, "label": "香港中路"}}, ids),
)


def test_webchat_answers_every_hostile_payload_with_a_4xx_or_a_reply(tmp_path: Path) -> None:
    seen: Counter[int] = Counter()
    with running(lambda stack: hostile.webchat(stack, tmp_path)) as (loop, chat):

        @FUZZ_SETTINGS
        @given(json_bodies(TEMPLATES))
        def one(body: bytes) -> None:
            status = loop.run_until_complete(chat.post(body))
            seen[status] += 1
            assert status in hostile.ALLOWED, (status, body[:300])

        one()
        assert loop.run_until_complete(chat.ordinary("路灯坏了一个星期了")) == 200
    print(dict(seen))
    assert seen[200] > 300 and seen[400] > 300, seen  # both paths were really exercised
