"""The Telegram channel's section of ``config.yaml`` (``channels.telegram``), validated at start."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator


class TelegramConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
