"""Builds the Weibo channel from ``channels.weibo`` (imported only when it is enabled).

The adapter never touches the database, so what it needs from the service is handed over here:
the dispatcher and the shared session store (replay cache, unfollow marks, partial-send progress).
"""

from __future__ import annotations

from adapters.weibo.channel import WeiboChannel, WeiboSettings
from adapters.weibo.config import WeiboConfig
from adapters.weibo.protocol import MAX_BODY_BYTES
from bot.channels import ChannelDeps
from bot.config import ConfigError


def build(settings: WeiboConfig, deps: ChannelDeps) -> WeiboChannel:
    missing = [name for name in ("app_secret", "access_token") if not getattr(settings, name)]
    if missing:
        # An empty secret would make every forged push verify; refuse to start instead.
        raise ConfigError(f"config key channels.weibo.{missing[0]}: required when the Weibo channel is enabled")
    return WeiboChannel(
        WeiboSettings(
            app_secret=settings.app_secret,
            access_token=settings.access_token,
            api_base_url=settings.api_base_url,
            max_body_bytes=min(deps.max_body_bytes, MAX_BODY_BYTES),
        ),
        deps.sink,
        deps.store,
        deps.clock,
    )
