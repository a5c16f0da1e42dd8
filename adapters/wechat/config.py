"""The WeChat channel's section of ``config.yaml`` (``channels.wechat``), validated at start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class WechatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
