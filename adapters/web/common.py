"""What the citizens' web chat and the staff web channel share: the static files and the mailbox.

Both channels serve their pages from ``static/`` beside this module and deliver replies through a
mailbox the browser reads as an event stream; neither channel imports the other.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

STATIC = Path(__file__).with_name("static")


class Mailbox(Protocol):
    async def append(self, chat_id: str, delivery_id: str, payload: dict[str, Any], now: datetime) -> None: ...
    async def read_after(self, chat_id: str, after_id: int, limit: int = 100) -> list[tuple[int, dict[str, Any]]]: ...
