"""Config validation: clear one-line errors that name the key, secrets from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_config
from tests.app_helpers import ROOT


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def shipped() -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_shipped_config_is_valid_and_runs_on_embedded_defaults() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert config.storage.database_url.startswith("sqlite+aiosqlite:///data/")
    assert config.storage.redis_url is None
    assert config.channels.webchat.enabled
    assert not (config.channels.wechat.enabled or config.channels.telegram.enabled or config.channels.weibo.enabled)
    assert {t.code for t in config.taxonomy.types} == {"complaint", "report", "consultation", "help", "suggestion"}
    assert len(config.taxonomy.topics) >= 12
    assert all(t.name.zh and t.name.en for t in config.taxonomy.topics)


def test_secrets_come_from_the_environment() -> None:
    config = load_config(
        ROOT / "config.yaml",
        environ={
            "WENZHENG_TELEGRAM_TOKEN": "123:abc",
            "WENZHENG_STORAGE_REDIS_URL": "redis://127.0.0.1:1/0",
            "WENZHENG_SERVER_PORT": "9090",
            "WENZHENG_WECHAT_APP_SECRET": "s3cret",
            "UNRELATED": "x",
        },
    )
    assert config.channels.telegram.token == "123:abc"
    assert config.channels.wechat.app_secret == "s3cret"
    assert config.storage.redis_url == "redis://127.0.0.1:1/0"
    assert config.server.port == 9090


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["server"].update(port=99999), "config key server.port"),
        (lambda c: c["server"].update(prot=1), "config key server.prot: Extra inputs are not permitted"),
        (lambda c: c["storage"].update(database_url="mysql://x"), "config key storage.database_url"),
        (lambda c: c["storage"].update(pool_size=0), "config key storage.pool_size"),
        (lambda c: c["outbox"].update(concurrency=0), "config key outbox.concurrency"),
        (lambda c: c["channels"]["telegram"].update(mode="push"), "config key channels.telegram.mode"),
        (lambda c: c["taxonomy"].update(default_type="nope"), "default_type 'nope'"),
        (lambda c: c["taxonomy"]["topics"].append(c["taxonomy"]["topics"][0]), "duplicate topics code"),
        (lambda c: c["deadlines"].insert(0, {"topic": "unknown"}), "deadlines[0].topic 'unknown'"),
        (lambda c: c.pop("taxonomy"), "config key taxonomy: Field required"),
    ],
)
def test_invalid_config_names_the_bad_key(tmp_path: Path, mutate: object, expected: str) -> None:
    data = shipped()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, data), environ={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unreadable_and_broken_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("server: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(broken, environ={})


@pytest.mark.parametrize(
    ("channel", "settings", "missing", "value"),
    [
        ("telegram", {"enabled": True, "secret_token": "hook-secret"}, "token", "123456789:AAE_x-y"),
        ("wechat", {"enabled": True, "app_id": "wx1", "app_secret": "s"}, "token", "wechat-token"),
        ("weibo", {"enabled": True, "app_secret": "s"}, "access_token", "weibo-token"),
    ],
)
def test_an_enabled_channel_needs_its_secrets(
    tmp_path: Path, channel: str, settings: dict[str, object], missing: str, value: str
) -> None:
    data = shipped()
    data["channels"][channel].update(settings)  # type: ignore[index]
    with pytest.raises(ConfigError, match=f"config key channels.{channel}: Value error, {missing} is required"):
        load_config(write(tmp_path, data), environ={})
    # the environment can supply it, which is where secrets belong
    env = {f"WENZHENG_{channel.upper()}_{missing.upper()}": value}
    assert getattr(getattr(load_config(write(tmp_path, data), environ=env).channels, channel), missing) == value


def test_a_telegram_token_must_look_like_one(tmp_path: Path) -> None:
    data = shipped()
    data["channels"]["telegram"].update({"enabled": True, "token": "oops", "secret_token": "x"})  # type: ignore[index]
    with pytest.raises(ConfigError, match="expected a bot token"):
        load_config(write(tmp_path, data), environ={})


def test_a_misspelt_time_zone_is_refused_by_key(tmp_path: Path) -> None:
    data = shipped()
    server = data.setdefault("server", {})
    assert isinstance(server, dict)
    server["timezone"] = "Asia/Shangai"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, data), environ={})
    assert str(caught.value) == (
        "config key server.timezone: Value error, unknown time zone 'Asia/Shangai' (an IANA name such as Asia/Shanghai)"
    )


def _with_districts(districts: list[str], service_city: str | None = None) -> dict[str, object]:
    data = shipped()
    departments = data["departments"]
    assert isinstance(departments, list)
    departments[1] = {**departments[1], "districts": districts}
    dialog = data.setdefault("dialog", {})
    assert isinstance(dialog, dict)
    dialog["service_city"] = service_city
    return data


def test_an_unknown_district_is_refused_by_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, _with_districts(["市南区", "市难区"])), environ={})
    assert str(caught.value) == "config key departments[1].districts[1]: '市难区' is not a county-level district name"


def test_a_district_outside_the_service_city_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, _with_districts(["市南区", "朝阳区"], "青岛市")), environ={})
    assert (
        str(caught.value) == "config key departments[1].districts[1]: '朝阳区' is not a county-level district of 青岛市"
    )


def test_real_districts_pass_with_and_without_a_service_city(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, _with_districts(["市南区", "黄岛区", "胶州市"], "青岛")), environ={})
    assert config.departments[1].districts == ["市南区", "黄岛区", "胶州市"]
    assert load_config(write(tmp_path, _with_districts(["朝阳区"])), environ={}).departments[1].districts == ["朝阳区"]
