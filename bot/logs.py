"""Structured (JSON) logs with personal data masked and secrets redacted.

Citizens type phone and 身份证 numbers into free text, and free text ends up in log lines; the
mask is applied to the final rendered line so no call site can forget it.

Secrets end up in log lines too, by way of libraries: httpx logs every request's URL at INFO, and a
Telegram Bot API URL carries the bot token (``…/bot<TOKEN>/sendMessage``). So httpx and httpcore
are held at WARNING, and ``SecretRedactor`` replaces every configured secret (channel tokens, app
secrets, AES keys, access tokens, passwords in database and Redis URLs) with ``***`` in every record
that reaches a handler, whatever logged it, with URL-shaped credentials redacted by pattern as well.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

from bot.config import AppConfig
from dialogs.privacy import mask_personal_data

# ``extra=`` keys copied into the JSON line. Requests: method, path, status, duration_ms; filings:
# ticket, channel, type, topic, department.
_FIELDS = (
    *("channel", "chat", "ticket", "outbox_id", "status", "duration_ms"),
    *("method", "path", "type", "topic", "department"),
)


REDACTED = "***"
# Libraries that log credentials in URLs at INFO or DEBUG: never below WARNING.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack")
_MIN_SECRET = 6  # shorter values would redact ordinary words; config validation asks for longer ones
# Credentials by shape, for secrets we were never told about (a WeChat access token fetched at run
# time, another bot's token): ``access_token=…`` in a query, ``/bot<id>:<token>`` in a Bot API URL,
# and ``user:password@`` in any URL.
_SHAPES = (
    (re.compile(r"((?:access_token|secret|token|password|key)=)[^&\s\"']+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(/(?:file/)?bot\d+:)[A-Za-z0-9_-]+"), r"\1" + REDACTED),
    (re.compile(r"(\w+://[^/\s:@\"']*:)[^@/\s\"']+@"), r"\1" + REDACTED + "@"),
)


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def config_secrets(config: AppConfig) -> tuple[str, ...]:
    """Every secret ``config`` holds, enabled channels or not (a disabled channel's token is still
    a token): what ``SecretRedactor`` must never let through."""
    channels = config.channels
    values = [
        channels.telegram.token,
        channels.telegram.secret_token,
        channels.wechat.app_secret,
        channels.wechat.token,
        channels.wechat.encoding_aes_key,
        channels.weibo.app_secret,
        channels.weibo.access_token,
        config.server.metrics.token,
        _url_password(config.storage.database_url),
        _url_password(config.storage.redis_url),
    ]
    return tuple(v for v in values if v)


class SecretRedactor(logging.Filter):
    """Replaces secrets with ``***`` in a record's message, arguments, traceback and extra fields.

    Attached to handlers (not loggers), because a logger's filters never see records propagated
    from its children; it rewrites the record in place, so every handler after it sees it clean.
    """

    def __init__(self, *, secrets: Iterable[str]) -> None:
        super().__init__()
        variants = {v for s in secrets if len(s) >= _MIN_SECRET for v in (s, quote(s, safe=""), quote(s))}
        # Longest first, so a secret containing another is replaced whole.
        self._pattern = (
            re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))) if variants else None
        )

    def redact(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        for shape, replacement in _SHAPES:
            text = shape.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        for key in _FIELDS:
            value = record.__dict__.get(key)
            if isinstance(value, str):
                record.__dict__[key] = self.redact(value)
        return True


def protect(secrets: Iterable[str], root: logging.Logger | None = None) -> SecretRedactor:
    """Quiet the URL-logging libraries and put one redactor (replacing an earlier one) on every
    handler of the root logger; ``build_app`` calls it, so however the app is run its logs are
    clean. Handlers added later get it from ``configure_logging`` or by calling this again."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    redactor = SecretRedactor(secrets=secrets)
    for handler in (root or logging.getLogger()).handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _FIELDS:
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_text:  # already rendered (and redacted) by SecretRedactor
            entry["error"] = record.exc_text
        elif record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return mask_personal_data(json.dumps(entry, ensure_ascii=False))


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    protect(secrets, root)
