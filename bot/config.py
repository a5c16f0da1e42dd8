"""The service configuration: ``config.yaml`` validated at start, secrets from the environment.

Validation happens once, before anything starts, so a typo stops the service with one line that
names the key instead of a stack trace at the first message. Any key can be overridden by
``WENZHENG_<SECTION>_<KEY>`` (``WENZHENG_TELEGRAM_TOKEN``, ``WENZHENG_STORAGE_DATABASE_URL``), which
is how secrets stay out of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dialogs.taxonomy import Bilingual, InquiryType, Taxonomy, Topic


class ConfigError(Exception):
    """One line for the operator: which key is wrong and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    timezone: str = "Asia/Shanghai"
    max_body_bytes: int = Field(262144, gt=0)


class StorageConfig(_Strict):
    database_url: str = "sqlite+aiosqlite:///data/wenzheng.db"
    redis_url: str | None = None
    media_dir: str = "data/media"
    # PostgreSQL only (SQLite has one writer connection): connections per worker, and how long a
    # request waits for one before it is answered "retry later". Several workers share the
    # server's max_connections (100 by default).
    pool_size: int = Field(10, ge=1, le=200)
    pool_max_overflow: int = Field(10, ge=0, le=200)
    pool_timeout_seconds: float = Field(5.0, gt=0, le=60)

    @field_validator("database_url")
    @classmethod
    def _supported_driver(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v


class WebchatConfig(_Strict):
    enabled: bool = True
    max_upload_bytes: int = Field(5 * 1024 * 1024, gt=0)
    cookie_secure: bool | None = None


class WechatConfig(_Strict):
    enabled: bool = False
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com"
    status_template_id: str = ""

    @model_validator(mode="after")
    def _secrets_when_enabled(self) -> WechatConfig:
        missing = [
            name
            for name in (
                "app_id",
                "app_secret",
                "token",
            )
            if not getattr(self, name)
        ]
        if self.enabled and missing:
            raise ValueError(f"{missing[0]} is required when the WeChat channel is enabled")
        return self


class TelegramConfig(_Strict):
    enabled: bool = False
    token: str = ""
    secret_token: str = ""
    api_base_url: str = "https://api.telegram.org"
    mode: Literal["webhook", "polling"] = "webhook"

    @model_validator(mode="after")
    def _secrets_when_enabled(self) -> TelegramConfig:
        missing = [name for name in ("token",) if not getattr(self, name)]
        if self.enabled and missing:
            raise ValueError(f"{missing[0]} is required when the Telegram channel is enabled")
        if self.enabled and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", self.token):
            raise ValueError("token: expected a bot token like 123456789:AA… from BotFather")
        if self.enabled and self.mode == "webhook" and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.secret_token):
            raise ValueError("secret_token: required in webhook mode, 1-256 characters of A-Z a-z 0-9 _ -")
        return self


class WeiboConfig(_Strict):
    enabled: bool = False
    app_secret: str = ""
    access_token: str = ""
    api_base_url: str = "https://m.api.weibo.com"

    @model_validator(mode="after")
    def _secrets_when_enabled(self) -> WeiboConfig:
        missing = [
            name
            for name in (
                "app_secret",
                "access_token",
            )
            if not getattr(self, name)
        ]
        if self.enabled and missing:
            raise ValueError(f"{missing[0]} is required when the Weibo channel is enabled")
        return self


class ChannelsConfig(_Strict):
    webchat: WebchatConfig = WebchatConfig()
    wechat: WechatConfig = WechatConfig()
    telegram: TelegramConfig = TelegramConfig()
    weibo: WeiboConfig = WeiboConfig()


class NameConfig(_Strict):
    zh: str
    en: str


class TypeConfig(_Strict):
    code: str
    name: NameConfig
    keywords: list[str] = []
    location_required: bool = True


class TopicConfig(_Strict):
    code: str
    name: NameConfig
    keywords: list[str] = []


class DeadlineRule(_Strict):
    """Deadlines for inquiries matching ``type`` and/or ``topic`` (omitted: any)."""

    type: str | None = None
    topic: str | None = None
    respond_hours: float = Field(8, gt=0)
    answer_working_days: int = Field(7, gt=0)


class DialogConfig(_Strict):
    idle_minutes: float = Field(30, gt=0)
    max_details_chars: int = Field(5000, gt=0)
    min_details_chars: int = Field(5, ge=1)
    default_locale: Literal["zh", "en"] = "zh"
    service_province: str | None = None
    service_city: str | None = None


class TaxonomyConfig(_Strict):
    default_type: str = "complaint"
    types: list[TypeConfig]
    topics: list[TopicConfig]

    @model_validator(mode="after")
    def _unique_codes(self) -> TaxonomyConfig:
        for kind, items in (("types", self.types), ("topics", self.topics)):
            codes = [i.code for i in items]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} code(s): {', '.join(dupes)}")
        if self.default_type not in {t.code for t in self.types}:
            raise ValueError(f"default_type {self.default_type!r} is not one of the types")
        return self

    def build(self) -> Taxonomy:
        return Taxonomy(
            types=tuple(
                InquiryType(t.code, Bilingual(t.name.zh, t.name.en), tuple(t.keywords), t.location_required)
                for t in self.types
            ),
            topics=tuple(Topic(t.code, Bilingual(t.name.zh, t.name.en), tuple(t.keywords)) for t in self.topics),
            default_type=self.default_type,
        )


class DepartmentConfig(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    name: NameConfig
    topics: list[str] = []  # topic codes it owns; empty: none by topic (it can still own districts)
    districts: list[str] = []  # empty: every district
    telegram_chat_id: str | None = None

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat_id_as_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class StaffIdentityConfig(_Strict):
    channel: str
    id: str

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class StaffConfig(_Strict):
    name: str = Field(min_length=1, max_length=64)
    department: str
    role: Literal["handler", "supervisor", "admin"] = "handler"
    identities: list[StaffIdentityConfig] = []
    locale: Literal["zh", "en"] = "zh"


class WorkflowConfig(_Strict):
    remind_before_hours: float = Field(4, ge=0)  # the handler is reminded this long before a deadline
    rating_window_days: float = Field(7, gt=0)  # no rating by then: closed as unrated
    poll_seconds: float = Field(5.0, gt=0)


class OutboxConfig(_Strict):
    max_attempts: int = Field(8, ge=1)
    base_delay_seconds: float = Field(2.0, gt=0)
    max_delay_seconds: float = Field(600.0, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(50, ge=1)
    concurrency: int = Field(8, ge=1, le=64)  # deliveries in flight at once, each to a different chat


class AppConfig(_Strict):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    channels: ChannelsConfig = ChannelsConfig()
    dialog: DialogConfig = DialogConfig()
    outbox: OutboxConfig = OutboxConfig()
    deadlines: list[DeadlineRule] = [DeadlineRule()]
    taxonomy: TaxonomyConfig
    departments: list[DepartmentConfig] = [
        DepartmentConfig(code="city_service", name=NameConfig(zh="市民服务中心", en="Citizen Service Centre"))
    ]
    default_department: str = "city_service"
    staff: list[StaffConfig] = []
    workflow: WorkflowConfig = WorkflowConfig()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _departments_and_staff_are_consistent(self) -> AppConfig:
        codes = [d.code for d in self.departments]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate department code(s): {', '.join(dupes)}")
        if self.default_department not in codes:
            raise ValueError(f"default_department {self.default_department!r} is not one of the departments")
        topics = {t.code for t in self.taxonomy.topics}
        for i, dept in enumerate(self.departments):
            unknown = sorted(set(dept.topics) - topics)
            if unknown:
                raise ValueError(f"departments[{i}].topics: unknown topic(s) {', '.join(unknown)}")
        names = [s.name for s in self.staff]
        seen: set[tuple[str, str]] = set()
        for i, member in enumerate(self.staff):
            if names.count(member.name) > 1:
                raise ValueError(f"staff[{i}].name {member.name!r} is used twice")
            if member.department not in codes:
                raise ValueError(f"staff[{i}].department {member.department!r} is not one of the departments")
            for ident in member.identities:
                key = (ident.channel, ident.id)
                if key in seen:
                    raise ValueError(f"staff[{i}]: identity {ident.channel}:{ident.id} belongs to two staff")
                seen.add(key)
        return self

    @model_validator(mode="after")
    def _deadlines_name_known_codes(self) -> AppConfig:
        types = {t.code for t in self.taxonomy.types}
        topics = {t.code for t in self.taxonomy.topics}
        for i, rule in enumerate(self.deadlines):
            if rule.type is not None and rule.type not in types:
                raise ValueError(f"deadlines[{i}].type {rule.type!r} is not a configured type")
            if rule.topic is not None and rule.topic not in topics:
                raise ValueError(f"deadlines[{i}].topic {rule.topic!r} is not a configured topic")
        return self


ENV_PREFIX = "WENZHENG_"


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``WENZHENG_<SECTION>_<KEY>`` variables. Channel sections are addressed by channel
    name (``WENZHENG_TELEGRAM_TOKEN``), the others by section (``WENZHENG_STORAGE_REDIS_URL``)."""
    channel_names = set(ChannelsConfig.model_fields)
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if not key:
            continue
        if section in channel_names:
            target = data.setdefault("channels", {}).setdefault(section, {})
        elif section in ("server", "storage", "dialog", "outbox", "workflow"):
            target = data.setdefault(section, {})
        else:
            continue
        if isinstance(target, dict):
            target[key] = value
    return data


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"config key {where}: {first['msg']}{more}"


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> AppConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{at}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections")
    data = _apply_env(raw, os.environ if environ is None else environ)
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from exc
