"""The web chat channel's section of ``config.yaml`` (``channels.webchat``), validated at start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebchatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_upload_bytes: int = Field(5 * 1024 * 1024, gt=0)
    cookie_secure: bool | None = None
