"""Hostile payloads for the endpoint fuzz tests, and a runner that drives the real app with them.

Payloads start from what each platform really sends (a template) and then turn hostile: any field
kept, dropped or replaced by a hostile value (any code point, lone surrogates and NUL included;
integers of hundreds of digits; NaN, ±Infinity, 1e400; deep nesting; the wrong type), encoded as a
platform would (ASCII escapes, raw UTF-8, or CESU-8 for surrogates) and then, sometimes, mutated
byte by byte. Every answer must be one of ``hostile.ALLOWED``, and an ordinary message afterwards
must still be answered 200.

Hypothesis drives plain functions, so the runner owns an event loop and builds the app in it once;
each example is one real HTTP request through aiohttp's test client.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from random import Random
from typing import Any, TypeVar
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.adapters.hostile import Endpoint

E = TypeVar("E", bound=Endpoint)
EXAMPLES = 3000
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the working tree; failures print their reproduction
    # CI replays one fixed sequence, so a red run is reproducible and never a coin toss; a developer's
    # run draws fresh examples each time and so keeps exploring.
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

SPECIAL_TEXT = [
    "\ud800",
    "\udfff",
    "\udbff\udc00",
    "\x00",
    "a\x00b",
    "\r\n",
    "\x1b[31m",
    "\u2028",
    "\ufeff",
    "\uffff",
    "]]>",
    "<![CDATA[",
    "&#0;",
    "%00",
    "%ED%A0%80",
    "1" * 4301,
    "9" * 300,
    "²",
    "፩",
    "NaN",
    "-Infinity",
    "1e400",
    "路灯坏了",
    "",
    " ",
    "x" * 70_000,
]
HUGE_INTS = [10**400, -(10**400), 2**63, -(2**63) - 1, 2**64, int("9" * 256)]

# Hostile values come from a ``random.Random`` seeded by hypothesis: one draw per example instead
# of hundreds keeps generation cheaper than the request it feeds, so 3,000 examples fit in well
# under a minute; a failing example is reported with its template and seed, which reproduce it.
SEEDS = st.integers(min_value=0, max_value=2**64)


def hostile_text(r: Random) -> str:
    if r.random() < 0.4:
        return r.choice(SPECIAL_TEXT)
    pools = [(0, 0x7F), (0, 0x1F), (0x80, 0xFFFF), (0xD800, 0xDFFF), (0x4E00, 0x9FFF), (0, 0x10FFFF)]
    chars = []
    for _ in range(r.randint(0, 24)):
        low, high = r.choice(pools)
        chars.append(chr(r.randint(low, high)))
    return "".join(chars)


def hostile_number(r: Random) -> int | float:
    pick = r.randrange(5)
    if pick == 0:
        return r.choice(HUGE_INTS)
    if pick == 1:
        return r.randint(-(10 ** r.randint(1, 420)), 10 ** r.randint(1, 420))
    if pick == 2:
        return r.choice([float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 5e-324])
    if pick == 3:
        return r.uniform(-1e6, 1e6)
    return r.randint(-5, 5)


def hostile_value(r: Random, depth: int = 0) -> Any:
    """Any JSON value (NaN and friends included), hostile in content, type and nesting."""
    pick = r.randrange(10 if depth < 3 else 7)
    if pick == 0:
        return None
    if pick == 1:
        return r.random() < 0.5
    if pick in (2, 3):
        return hostile_number(r)
    if pick in (4, 5, 6):
        return hostile_text(r)
    if pick == 7:
        nested: Any = r.choice([[], {}, ""])
        for _ in range(r.choice([5, 50, 500])):
            nested = [nested]
        return nested
    if pick == 8:
        return [hostile_value(r, depth + 1) for _ in range(r.randint(0, 4))]
    return {hostile_text(r): hostile_value(r, depth + 1) for _ in range(r.randint(0, 4))}


def mutated(r: Random, template: Any, percent: int) -> Any:
    """``template`` with each field, at every depth, kept or (``percent`` % of them) dropped or made
    hostile; now and then a hostile extra field."""
    if isinstance(template, dict):
        result: dict[Any, Any] = {}
        for key, value in template.items():
            if r.randrange(100) >= percent:
                result[key] = mutated(r, value, percent)
            elif r.random() < 0.5:
                result[key] = hostile_value(r)
        if r.randrange(100) < percent // 2:
            result[hostile_text(r)] = hostile_value(r)
        return result
    if isinstance(template, list):
        return [mutated(r, v, percent) for v in template]
    return hostile_value(r) if r.randrange(100) < percent else template


def encode(value: Any, *, ascii_only: bool) -> bytes:
    """As a platform's JSON encoder would write it: with ``\\uXXXX`` escapes, or raw UTF-8 with any
    lone surrogate as its three CESU-8 bytes (what a careless encoder sends)."""
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


def byte_mutations(r: Random, body: bytes) -> bytes:
    """``body`` with a few bytes flipped, inserted, deleted, nested or the tail cut."""
    data = bytearray(body)
    for _ in range(r.randint(1, 3)):
        op = r.choice(["flip", "insert", "delete", "truncate", "nest"])
        at = r.randint(0, max(0, len(data) - 1))
        if op == "flip" and data:
            data[at] = r.randrange(256)
        elif op == "insert":
            data[at:at] = r.randbytes(r.randint(1, 8))
        elif op == "delete" and data:
            del data[at]
        elif op == "truncate":
            del data[at:]
        elif op == "nest":
            depth = r.choice([10, 100, 1000, 5000])
            data[at:at] = b"[" * depth + b"]" * depth
    return bytes(data)


def json_bodies(templates: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Bodies built from platform templates, made hostile, encoded, sometimes byte-mutated."""

    def build(template: Any, seed: int) -> bytes:
        r = Random(seed)
        pick = r.randrange(20)
        if pick == 0:
            return r.choice([b"", b"[" * 100_000, b"{" * 5000, b"\xed\xa0\x80", b"null", b"1" + b"0" * 5000])
        # Mostly a few hostile values in an otherwise real payload, so they reach the dialog and
        # the database; sometimes a payload hostile through and through.
        value = hostile_value(r) if pick == 1 else mutated(r, template, r.choice([3, 8, 15, 40]))
        body = encode(value, ascii_only=r.random() < 0.5)
        return byte_mutations(r, body) if r.random() < 0.2 else body

    return st.builds(build, templates, SEEDS)


def xml_value(value: Any, raw: bool) -> str:
    text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    return text if raw else escape(text)


def xml_bodies(templates: st.SearchStrategy[dict[str, str]]) -> st.SearchStrategy[bytes]:
    """WeChat pushes: a real message's fields, each kept, dropped or made hostile, written raw
    (control characters, ``<``, surrogates as CESU-8) or escaped, sometimes byte-mutated."""

    def build(template: dict[str, str], seed: int) -> bytes:
        r = Random(seed)
        fields = mutated(r, template, r.choice([5, 15, 40]))
        raw = r.random() < 0.5
        parts = ["<xml>"]
        for name, value in fields.items():
            tag = name if name.isidentifier() and name.isascii() else "Extra"
            if r.random() < 0.5:
                parts.append(f"<{tag}><![CDATA[{xml_value(value, True)}]]></{tag}>")
            else:
                parts.append(f"<{tag}>{xml_value(value, raw)}</{tag}>")
        parts.append("</xml>")
        body = "".join(parts).encode("utf-8", "surrogatepass")
        return byte_mutations(r, body) if r.random() < 0.2 else body

    return st.builds(build, templates, SEEDS)


@contextmanager
def running(build: Callable[[AsyncExitStack], Awaitable[E]]) -> Iterator[tuple[asyncio.AbstractEventLoop, E]]:
    """The endpoint, built and served in an event loop of its own for the whole hypothesis run."""
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    try:
        endpoint = loop.run_until_complete(build(stack))
        yield loop, endpoint
    finally:
        loop.run_until_complete(stack.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
