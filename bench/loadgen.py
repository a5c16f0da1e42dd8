"""The load generator: run as its own process (``python -m bench.loadgen``), prints one JSON result.

Two modes, both made of whole conversations (``bench.conversation``), each by a new citizen:

* ``closed``: ``--concurrency`` citizens at once, each starting a new conversation when its last
  one ends, for ``--warmup`` + ``--duration`` seconds. Finds the peak rate.
* ``open``: conversations arrive at random (Poisson) so that messages are offered at ``--rate``
  per second; each conversation sends its turns back to back. Measures latency at a set load.

Only messages sent after the warm-up count. Every loop is bounded by a deadline and a count; a
request that takes longer than ``--timeout`` is an error.

A message's latency runs from just before its request is built and sent (in the open loop, from
when its conversation was due, if the generator started it late) to the end of the HTTP answer
of the channel's endpoint. Replies that come later, through
the platform's API (Telegram always; WeChat and Weibo when the service answered without a passive
reply), are fetched from the fake platform before the next turn that needs them; that wait is
measured apart ("reply latency", from sending the turn to seeing the reply), per turn, and turns
without a passive reply are counted ("late").

When the service answers the first message with 已有人反映 instead of the summary (another citizen
reported the same matter), the citizen answers it (``bench.conversation.offer_answer``):
``--follow-share`` of them follow that ticket (and send no 提交), the rest go on to the summary and
提交. Offers, follows and separate filings are counted; the answer is one more message, counted like
any other ("messages_per_conversation" says how many were sent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, DummyCookieJar, TCPConnector

from bench.channels import CLIENTS, OFFER_ANSWER, ChannelClient, Platforms, Shown, offered
from bench.conversation import (
    DEFAULT_FOLLOW_SHARE,
    FOLLOW,
    RICH_FIRST_MESSAGES,
    SUBMIT,
    TURNS,
    Turn,
    find_number,
    offer_answer,
    turn,
)
from bench.procs import LOOPBACK
from bench.stats import Summary

GRACE_SECONDS = 30.0


@dataclass
class Tally:
    measure_from: float
    measure_to: float
    latencies_ms: list[float] = field(default_factory=list)
    completed_in_window: int = 0
    errors: int = 0
    errors_in_warmup: int = 0
    error_samples: list[str] = field(default_factory=list)
    conversations: int = 0
    filed: int = 0  # conversations that got a ticket of their own (at 提交, or 仍要单独提交)
    offers: int = 0  # the first message answered with 已有人反映 (before the summary)
    follows: int = 0  # ... and the citizen followed that ticket (关注它): no ticket of their own
    separate: int = 0  # ... and the citizen filed anyway (仍要单独提交): counted in ``filed`` too
    sent: int = 0  # messages sent, whatever their window: per conversation 6, or 7 when filed anyway
    shed: int = 0
    late: int = 0  # turns answered without a passive reply (WeChat ``success``, Weibo empty)
    reply_missing: int = 0  # waits for a later reply that ended at the deadline empty-handed
    reply_ms: dict[int, list[float]] = field(default_factory=dict)  # turn -> sent..reply seen

    def replied(self, index: int, sent: float, seen: float) -> None:
        if self.measure_from <= sent < self.measure_to:
            self.reply_ms.setdefault(index, []).append((seen - sent) * 1000.0)

    def record(self, sent: float, done: float) -> None:
        if self.measure_from <= sent < self.measure_to:
            self.latencies_ms.append((done - sent) * 1000.0)
        if self.measure_from <= done < self.measure_to:
            self.completed_in_window += 1

    def error(self, sent: float, what: str) -> None:
        if sent >= self.measure_from:
            self.errors += 1
        else:
            self.errors_in_warmup += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:200])


async def conversation(
    http: ClientSession,
    base_url: str,
    channel: ChannelClient,
    index: int,
    tally: Tally,
    stop_at: float,
    run_id: str,
    reply_timeout: float = 30.0,
    scheduled: float | None = None,
    follow_share: float = DEFAULT_FOLLOW_SHARE,
    matters: int = len(RICH_FIRST_MESSAGES),
) -> None:
    start = time.monotonic()
    # Open loop: a conversation the generator started late (its loop was busy) counts that delay in
    # its first turn, so an overloaded generator cannot hide latency by sending later.
    lag = max(0.0, start - scheduled) if scheduled is not None else 0.0
    try:
        citizen = await channel.open(http, base_url, index)
    except Exception as exc:  # any failure is a failed request, never a dead load generator
        tally.error(start, f"open: {type(exc).__name__}: {exc}")
        return
    tally.conversations += 1
    number: str | None = None
    shown = Shown()
    after = 0  # platform-API messages to this citizen already read

    async def say(i: int, message: Turn) -> bool:
        """Send one message and read what it showed; False when the conversation cannot go on."""
        nonlocal shown, after
        if time.monotonic() >= stop_at:
            return False
        sent = time.monotonic() - (lag if i == 0 else 0.0)  # before the request is built and sent
        tally.sent += 1
        try:
            inline = await channel.send(http, base_url, citizen, message, f"{run_id}-{index}-{i}", shown)
        except Exception as exc:  # any failure is a failed request, never a dead load generator
            tally.error(sent, f"turn {i}: {type(exc).__name__}: {exc}")
            return False
        tally.record(sent, time.monotonic())
        try:
            # No later than the window's end: past it no further turn is sent.
            deadline = min(stop_at, time.monotonic() + reply_timeout)
            shown = await channel.follow(http, citizen, i, inline, deadline, after)
        except Exception as exc:  # the fake platform failed: the conversation cannot go on
            tally.error(sent, f"reply to turn {i}: {type(exc).__name__}: {exc}")
            return False
        after = shown.seen if shown.fetched else after
        tally.late += shown.late and sent >= tally.measure_from
        if shown.fetched and not shown.missing:
            tally.replied(i, sent, time.monotonic())
        if shown.missing:
            tally.reply_missing += time.monotonic() < stop_at
            return False  # what the next turn needs never came: nothing a citizen could go on with
        return True

    i = 0
    while i < TURNS:
        if not await say(i, turn(index, i, number, matters)):
            return
        if i == 1:
            number = find_number(list(shown.texts))
            tally.filed += number is not None
        i += 1
        if i != 1 or not offered(shown):
            continue
        # 已有人反映 came before the summary: the number shown is the other citizen's ticket.
        tally.offers += 1
        answer = offer_answer(index, follow_share)
        if not await say(OFFER_ANSWER, answer):
            return
        followed = find_number(list(shown.texts))
        if answer.choice == FOLLOW and followed is not None and SUBMIT not in shown.choices:
            tally.follows += 1  # no ticket of their own: no 提交, and turns 3 and 4 quote the followed one
            number = followed
            i = 2
        else:  # 仍要单独提交 (or the ticket closed meanwhile): the summary, then 提交 as usual
            tally.separate += 1


async def closed_loop(http: ClientSession, args: argparse.Namespace, channel: ChannelClient, tally: Tally) -> None:
    stop_at = tally.measure_to
    counter = iter(range(args.max_conversations))
    run_id = uuid.uuid4().hex[:8]

    async def user() -> None:
        for index in counter:  # shared: bounded in total, not per user
            if time.monotonic() >= stop_at:
                return
            await conversation(
                http,
                args.base_url,
                channel,
                index,
                tally,
                stop_at,
                run_id,
                args.reply_timeout,
                None,
                args.follow_share,
                args.matters,
            )

    await asyncio.wait_for(
        asyncio.gather(*(user() for _ in range(args.concurrency))), timeout=args.warmup + args.duration + GRACE_SECONDS
    )


async def open_loop(http: ClientSession, args: argparse.Namespace, channel: ChannelClient, tally: Tally) -> None:
    rng = random.Random(args.seed)
    stop_at = tally.measure_to
    run_id = uuid.uuid4().hex[:8]
    running: set[asyncio.Task[None]] = set()
    next_at = time.monotonic()
    for index in range(args.max_conversations):
        # Conversations answering 已有人反映 send one more message: arrivals slow down by the share
        # seen so far, so messages (not conversations) are offered at ``--rate``.
        per_conversation = TURNS + (tally.offers / tally.conversations if tally.conversations else 0.0)
        next_at += rng.expovariate(args.rate / per_conversation)
        if next_at >= stop_at:
            break
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(running) >= args.max_inflight:
            tally.shed += 1
            continue
        task = asyncio.create_task(
            conversation(
                http,
                args.base_url,
                channel,
                index,
                tally,
                stop_at,
                run_id,
                args.reply_timeout,
                next_at,
                args.follow_share,
                args.matters,
            )
        )
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        _, late = await asyncio.wait(set(running), timeout=GRACE_SECONDS)
        for task in late:
            task.cancel()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.base_url.startswith(f"http://{LOOPBACK}:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    platforms = Platforms.read(args.platforms) if args.platforms is not None else None
    channel = CLIENTS[args.channel](platforms)
    # Each citizen may also hold one long-poll on the fake platform while waiting for a reply.
    limit = 2 * (args.concurrency if args.mode == "closed" else args.max_inflight)
    connector = TCPConnector(limit=limit, force_close=False)
    timeout = ClientTimeout(total=args.timeout)
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    async with ClientSession(connector=connector, timeout=timeout, cookie_jar=DummyCookieJar()) as http:
        start = time.monotonic()
        tally = Tally(start + args.warmup, start + args.warmup + args.duration)
        if args.mode == "closed":
            await closed_loop(http, args, channel, tally)
        else:
            await open_loop(http, args, channel, tally)
        wall = time.monotonic() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    summary = Summary.of(tally.latencies_ms)
    return {
        "mode": args.mode,
        "channel": args.channel,
        "concurrency": args.concurrency,
        "offered_rate": args.rate if args.mode == "open" else None,
        "window_s": args.duration,
        "messages": len(tally.latencies_ms),
        "rate": tally.completed_in_window / args.duration,
        "errors": tally.errors,
        "errors_in_warmup": tally.errors_in_warmup,
        "error_samples": tally.error_samples,
        "conversations": tally.conversations,
        "filed": tally.filed,
        "offers": tally.offers,
        "follows": tally.follows,
        "separate": tally.separate,
        "messages_per_conversation": tally.sent / tally.conversations if tally.conversations else 0.0,
        "shed": tally.shed,
        "latency_ms": asdict(summary),
        "late": tally.late,
        "reply_missing": tally.reply_missing,
        "reply_latency_ms": {str(i): asdict(Summary.of(v)) for i, v in sorted(tally.reply_ms.items())},
        "client_cpu_share": cpu / wall if wall > 0 else 0.0,
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--channel", default="webchat", choices=sorted(CLIENTS))
    parser.add_argument("--mode", choices=["closed", "open"], default="closed")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0, help="offered messages/second (open mode)")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--max-conversations", type=int, default=200_000)
    parser.add_argument("--max-inflight", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--platforms", type=Path, help="JSON file with the run's platform credentials (bench.channels.Platforms)"
    )
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="longest wait for a reply via the API")
    parser.add_argument(
        "--follow-share",
        type=float,
        default=DEFAULT_FOLLOW_SHARE,
        help="share of citizens offered 已有人反映 who follow that ticket (the rest file anyway)",
    )
    parser.add_argument(
        "--matters",
        type=int,
        default=len(RICH_FIRST_MESSAGES),
        help="how many different first messages the citizens share (1: all write about one matter)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    result = asyncio.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
