"""The Weibo channel's section of ``config.yaml`` (``channels.weibo``), validated at start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class WeiboConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
