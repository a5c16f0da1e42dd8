"""The ceiling: a bare aiohttp app that checks nothing and answers ``success`` to every request.

Run as its own process: ``python -m bench.bare --port N`` (binds 127.0.0.1 only).
"""

from __future__ import annotations

import argparse

from aiohttp import web

from bench.procs import LOOPBACK


async def success(request: web.Request) -> web.Response:
    await request.read()  # the body is received, as a real endpoint must, and ignored
    return web.Response(text="success")


def build() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", success)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(build(), host=LOOPBACK, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
