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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adapters.telegram.config import TelegramConfig as TelegramConfig
from adapters.web.config import WebchatConfig as WebchatConfig
from adapters.wechat.config import WechatConfig as WechatConfig
from adapters.weibo.config import WeiboConfig as WeiboConfig
from dialogs.address import AddressParser
from dialogs.taxonomy import Bilingual, InquiryType, Taxonomy, Topic


class ConfigError(Exception):
    """One line for the operator: which key is wrong and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricsAccessConfig(_Strict):
    """Who may read ``/metrics``: loopback addresses only (default), callers presenting ``token``
    (``Authorization: Bearer …``; from the environment as ``WENZHENG_SERVER_METRICS_TOKEN``), or anyone."""

    allow: Literal["loopback", "token", "public"] = "loopback"
    token: str = ""

    @model_validator(mode="after")
    def _token_when_required(self) -> MetricsAccessConfig:
        if self.allow == "token" and len(self.token) < 16:
            raise ValueError("allow: token needs a token of at least 16 characters (WENZHENG_SERVER_METRICS_TOKEN)")
        return self


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    timezone: str = "Asia/Shanghai"
    max_body_bytes: int = Field(262144, gt=0)
    metrics: MetricsAccessConfig = MetricsAccessConfig()
    # /staff sign-in: login tokens expire (rotate with `wenzheng staff token NAME`); the page's cookie
    # holds a session id that expires sooner; failed logins are limited per client address.
    staff_token_days: int = Field(90, ge=1, le=3650)
    staff_session_hours: int = Field(168, ge=1, le=24 * 90)
    staff_login_failures: int = Field(10, ge=1, le=10_000)
    staff_login_window_minutes: int = Field(10, ge=1, le=24 * 60)

    @model_validator(mode="before")
    @classmethod
    def _metrics_token_from_env(cls, data: Any) -> Any:
        """``WENZHENG_SERVER_METRICS_TOKEN`` arrives as the flat key ``metrics_token``."""
        if isinstance(data, dict) and "metrics_token" in data:
            data = dict(data)
            metrics = dict(data.get("metrics") or {})
            metrics["token"] = data.pop("metrics_token")
            data["metrics"] = metrics
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        """Checked here because ``serve`` builds ``ZoneInfo`` late: a typo passed check-config and
        then crashed the start with a traceback."""
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)") from exc
        return v


class StorageConfig(_Strict):
    database_url: str = "sqlite+aiosqlite:///data/wenzheng.db"
    redis_url: str | None = None
    media_dir: str = "data/media"
    # Retrained classifiers (``wenzheng model train``); the service loads the newest of these and
    # the one shipped with the package.
    model_dir: str = "data/models"
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


class EscalationConfig(_Strict):
    """督办 that climbs (tickets/escalation.py): 黄牌 when a deadline passes, 红牌 this many working
    days later if still unanswered; one citizen 催办 per ticket per ``urge_interval_hours`` counts."""

    red_after_working_days: int = Field(2, ge=1, le=30)
    urge_interval_hours: float = Field(24, gt=0, le=24 * 30)


class WorkflowConfig(_Strict):
    remind_before_hours: float = Field(4, ge=0)  # the handler is reminded this long before a deadline
    rating_window_days: float = Field(7, gt=0)  # no rating by then: closed as unrated
    poll_seconds: float = Field(5.0, gt=0)
    # Reminders to staff fall inside these hours on working days (deadlines and 督办 do not move).
    office_hours: str = "09:00-18:00"
    escalation: EscalationConfig = EscalationConfig()

    @field_validator("office_hours")
    @classmethod
    def _hours_range(cls, v: str) -> str:
        found = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", v)
        if found is None:
            raise ValueError(f"expected a range like 09:00-18:00, got {v!r}")
        start, end = (int(found.group(1)), int(found.group(2))), (int(found.group(3)), int(found.group(4)))
        if not start < end:
            raise ValueError(f"{v!r}: the start must be before the end")
        return v


class HotTopicsConfig(_Strict):
    """Hot topics (tickets/hot_topics.py): a term or cluster is hot when the citizens using it per
    day over ``recent_days`` are ``min_growth`` times those over the ``baseline_days`` before, at
    least ``min_citizens`` different citizens raised it, and the rise is unlikely to be chance: were
    the rate unchanged, this many of its citizens would fall in the recent window with a probability
    of at most ``significance`` (a one-sided binomial test on the citizen counts). Without it a
    mid-size city's steady matters, a handful per district a week, "double" somewhere every few days
    by luck; at 0.001 about one steady term in a thousand does, and five citizens with nothing before
    still count (0.2**5 = 0.0003); 1.0 turns the test off. The daily run (and the digest to the
    supervisors who sent 订阅热点) happens at ``digest_at`` local time."""

    enabled: bool = True
    digest_at: str = "08:30"
    recent_days: int = Field(7, ge=1, le=90)
    baseline_days: int = Field(28, ge=1, le=365)
    min_citizens: int = Field(5, ge=2)
    min_tickets: int = Field(5, ge=1)
    min_growth: float = Field(2.0, gt=1.0)
    significance: float = Field(0.001, gt=0.0, le=1.0)
    max_topics: int = Field(10, ge=1, le=100)

    @field_validator("digest_at")
    @classmethod
    def _clock_time(cls, v: str) -> str:
        if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v.strip()) is None:
            raise ValueError(f"expected a local time like 08:30, got {v!r}")
        return v.strip()


class DuplicatesConfig(_Strict):
    """Duplicates at filing (tickets/duplicates.py): candidates on the same topic within
    ``citizen_radius_m`` (offered to a citizen before the summary) or ``staff_radius_m`` (suggested
    to staff on 查看), or at the same named place; open, or answered in the last ``answered_days``;
    filed in the last ``lookback_days``. The same citizen's same matter within ``repeat_days`` is
    flagged 重复诉求. FixMyStreet's 250 m / 1 km are the defaults. The text threshold is not here:
    it is calibrated with the method (tickets/similarity.py, bench/duplicate_pairs.py)."""

    enabled: bool = True
    citizen_radius_m: float = Field(250.0, gt=0, le=5000)
    staff_radius_m: float = Field(1000.0, gt=0, le=20000)
    answered_days: int = Field(14, ge=0, le=365)
    lookback_days: int = Field(60, ge=1, le=730)
    repeat_days: int = Field(30, ge=1, le=365)


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
    hot_topics: HotTopicsConfig = HotTopicsConfig()
    duplicates: DuplicatesConfig = DuplicatesConfig()
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
    def _districts_are_real(self) -> AppConfig:
        """Routing compares these names with the district found in the citizen's address, so an
        unknown one (a typo, a place outside the service city) would silently never match."""
        if not any(d.districts for d in self.departments):
            return self  # the address index takes ~0.1 s to build: only when it is needed
        city = self.dialog.service_city
        known = AddressParser().county_names(city)
        for i, dept in enumerate(self.departments):
            for j, name in enumerate(dept.districts):
                if name not in known:
                    where = f"a county-level district of {city}" if city else "a county-level district name"
                    raise ValueError(f"departments[{i}].districts[{j}]: {name!r} is not {where}")
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
    message = first["msg"]
    named = _NAMES_ITS_KEY.match(message.removeprefix("Value error, "))
    if not first["loc"] and named:  # a cross-section check that names its own key, e.g. departments[2].districts[0]
        return f"config key {named.group(0)}{more}"
    return f"config key {where}: {message}{more}"


_NAMES_ITS_KEY = re.compile(r"^[a-z_]+\[\d+\][^\s:]*: .*$", re.DOTALL)


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
