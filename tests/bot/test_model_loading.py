"""The service loads the newest model at start: a retrained one under ``storage.model_dir`` wins
over the shipped one, and the web chat then asks with that model's likeliest topics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import build_app
from tests.adapters.web.test_webchat import say, tap
from tests.app_helpers import Clock, make_config
from tests.dialogs.classifier_helpers import hand_set_classifier

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


async def test_a_retrained_model_under_data_is_loaded_at_start(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    retrained = hand_set_classifier()
    retrained.meta["trained_at"] = "2999-01-01T00:00:00+00:00"  # newer than the shipped model
    retrained.save(tmp_path / "models" / "classifier-29990101T000000Z.npz")
    config = make_config(tmp_path, model_dir=str(tmp_path / "models"))
    app = build_app(config, clock=Clock(), run_workers=False)
    client = await aiohttp_client(app)
    assert (await client.post("/chat/api/session")).status == 200
    body = await say(client, "青岛市市南区香港中路学校门口车站的灯坏了")
    ids = [c["id"] for r in body["replies"] for c in r.get("choices", [])]
    assert ids == ["topic:urban", "topic:transport", "topic:education", "topic:more"]
    body = await tap(client, "topic:more")
    assert len([c for r in body["replies"] for c in r.get("choices", [])]) == len(config.taxonomy.topics)
