"""WeChat XML (``POST /webhooks/wechat``) under 3,000 hostile pushes per mode: never a 500 or 503.

Templates are the recorded pushes in ``tests/payloads/wechat`` (messages and events), each with a
fresh ``MsgId``. In 安全模式 the hostile bytes are what the AES envelope carries (encrypted and
signed as WeChat does), so they reach the XML reader behind the signature check; in plain mode the
body itself is hostile.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.wechat.xml import MalformedXml, parse_fields
from tests.adapters import hostile
from tests.adapters.fuzz import FUZZ_SETTINGS, running, xml_bodies

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "wechat"


def recorded() -> list[dict[str, str]]:
    found = []
    for path in sorted(PAYLOADS.glob("*.xml")):
        try:
            found.append(parse_fields(path.read_bytes()))
        except MalformedXml:
            continue  # the recorded attacks (XXE, billion laughs) are tested on their own
    return found


RECORDED = recorded()
TEMPLATES = st.builds(
    lambda fields, msg_id, created: (
        {**fields, "MsgId": str(msg_id), "CreateTime": str(created)}
        if "MsgId" in fields
        else {**fields, "CreateTime": str(created)}
    ),
    st.sampled_from(RECORDED),
    st.integers(10**16, 10**17),
    st.integers(1_795_000_000, 1_796_000_000),
)


@pytest.mark.parametrize("safe", [True, False], ids=["safe", "plain"])
def test_wechat_answers_every_hostile_push_with_a_4xx_or_200(tmp_path: Path, safe: bool) -> None:
    seen: Counter[int] = Counter()
    with running(lambda stack: hostile.wechat(stack, tmp_path, safe=safe)) as (loop, wx):

        @FUZZ_SETTINGS
        @given(xml_bodies(TEMPLATES))
        def one(body: bytes) -> None:
            status = loop.run_until_complete(wx.post(body))
            seen[status] += 1
            assert status in hostile.ALLOWED, (status, body[:300])

        one()
        assert loop.run_until_complete(wx.ordinary("路灯坏了一个星期了")) == 200
    assert seen[200] > 300 and seen[400] > 300, seen  # both paths were really exercised
