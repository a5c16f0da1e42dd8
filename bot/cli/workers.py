"""``wenzheng serve --workers N``: N worker processes serving one listening socket.

Why one pre-bound socket rather than SO_REUSEPORT: the parent binds and listens once, then forks
the workers, which all accept from the same queue. A connection waiting in the queue is never
lost when a worker dies (with SO_REUSEPORT the kernel resets the connections queued on the dead
worker's own socket), and a restarted worker simply starts accepting again.

The parent does no request work: it starts the workers, restarts one that dies, forwards SIGTERM
and SIGINT for a graceful stop, and gives up (exit 1) when workers keep dying before they are
ready, which is a configuration or schema problem that restarting cannot fix.

Several workers need state that all of them see: the database must be a server (SQLite is one
writer in one process) and dialog drafts, conversation locks and the Telegram send limits must be
in Redis. ``refusal`` says, in one line, why a configuration cannot run with several workers.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import mark_process_dead

from bot.config import AppConfig
from bot.metrics import MULTIPROCESS_ENV

# A worker that exits before it says it is ready failed to start; this many in a row ends the service.
START_FAILURES_ALLOWED = 3
READY = b"r"
QUICK_DEATH_SECONDS = 10.0


def refusal(config: AppConfig, workers: int) -> str | None:
    """Why this configuration cannot run ``workers`` processes, or None when it can."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    storage = config.storage
    if storage.database_url.startswith("sqlite"):
        return (
            f"--workers {workers} needs a database server shared by every worker, but storage.database_url is "
            "SQLite (embedded, one process). Use postgresql+asyncpg://… (run `wenzheng db upgrade` first)."
        )
    if not storage.redis_url:
        return (
            f"--workers {workers} needs storage.redis_url: without it dialog drafts, conversation locks and "
            "send limits are kept in one process and the workers would not see each other's."
        )
    telegram = config.channels.telegram
    if telegram.enabled and telegram.mode == "polling":
        return (
            f"--workers {workers} with channels.telegram.mode polling: every worker would fetch the same "
            "updates. Use mode webhook with several workers."
        )
    return None


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """Bound and listening before any worker exists, so no connection is refused while they start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=backlog, reuse_port=False)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Worker:
    slot: int
    pid: int
    ready_fd: int  # read end of the pipe the worker writes READY to
    started: float = field(default_factory=time.monotonic)
    ready: bool = False


@dataclass
class Supervisor:
    """Keeps ``count`` workers running; ``run_worker(slot, ready)`` is what each forked child runs
    (it calls ``ready()`` once it accepts connections and returns when it has stopped)."""

    count: int
    run_worker: Callable[[int, Callable[[], None]], None]
    log: Callable[[str], None] = lambda line: print(f"wenzheng: {line}", file=sys.stderr, flush=True)
    on_exit: Callable[[int], None] = lambda pid: None  # a worker's process ended (reaped)
    grace_seconds: float = 30.0
    _workers: dict[int, _Worker] = field(default_factory=dict)
    _stopping: bool = False
    _start_failures: int = 0

    def run(self) -> int:
        """Until a signal stops the service (0) or workers keep failing to start (1)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in range(self.count):
                self._spawn(slot)
            while not self._stopping:
                self._collect_ready(0.2)
                if self._reap() and self._start_failures >= START_FAILURES_ALLOWED:
                    self.log(f"workers failed to start {self._start_failures} times in a row; stopping")
                    self._stop_all()
                    return 1
            self._stop_all()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _spawn(self, slot: int) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_fd)
            for other in self._workers.values():
                with contextlib.suppress(OSError):
                    os.close(other.ready_fd)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            code = 0
            try:
                self.run_worker(slot, lambda: _say_ready(write_fd))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # a worker must never return into the supervisor's loop
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        os.close(write_fd)
        self._workers[pid] = _Worker(slot=slot, pid=pid, ready_fd=read_fd)

    def _collect_ready(self, timeout: float) -> None:
        waiting = {w.ready_fd: w for w in self._workers.values() if not w.ready}
        if not waiting:
            time.sleep(timeout)
            return
        with contextlib.suppress(InterruptedError):
            readable, _, _ = select.select(list(waiting), [], [], timeout)
            for fd in readable:
                worker = waiting[fd]
                if os.read(fd, 1) == READY:
                    worker.ready = True
                    self._start_failures = 0
                    self.log(f"worker {worker.slot} (pid {worker.pid}) ready")

    def _reap(self) -> bool:
        """Restart workers that died; True when one died before it was ready."""
        failed_start = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return failed_start
            if pid == 0:
                return failed_start
            worker = self._workers.pop(pid, None)
            if worker is None:
                continue
            self.on_exit(pid)
            with contextlib.suppress(OSError):
                if not worker.ready and os.read(worker.ready_fd, 1) == READY:  # ready, then died at once
                    worker.ready = True
            os.close(worker.ready_fd)
            how = _describe(status)
            if self._stopping:
                continue
            if worker.ready:
                self.log(f"worker {worker.slot} (pid {pid}) {how}; starting another")
                if time.monotonic() - worker.started < QUICK_DEATH_SECONDS:
                    time.sleep(1.0)  # dying again and again right after start: do not spin
            else:
                self._start_failures += 1
                failed_start = True
                self.log(f"worker {worker.slot} (pid {pid}) {how} before it was ready")
                if self._start_failures >= START_FAILURES_ALLOWED:
                    return True
                time.sleep(min(0.5 * self._start_failures, 5.0))
            self._spawn(worker.slot)

    def _stop_all(self) -> None:
        """SIGTERM to every worker (a graceful stop: in-flight requests finish), then SIGKILL after
        the grace period."""
        for worker in self._workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while self._workers and time.monotonic() < deadline:
            for pid in list(self._workers):
                with contextlib.suppress(ChildProcessError):
                    done, _status = os.waitpid(pid, os.WNOHANG)
                    if done == 0:
                        continue
                worker = self._workers.pop(pid)
                with contextlib.suppress(OSError):
                    os.close(worker.ready_fd)
            time.sleep(0.05)
        for pid, worker in list(self._workers.items()):
            self.log(f"worker {worker.slot} (pid {pid}) did not stop in {self.grace_seconds:g}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                os.close(worker.ready_fd)
        self._workers.clear()


def _say_ready(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, READY)
        os.close(fd)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def serve(config: AppConfig, host: str, port: int, workers: int) -> int:
    """Run ``workers`` processes of the service on ``host:port``; the exit code for the shell."""
    from aiohttp import web

    from bot.app import build_app
    from bot.config import ConfigError

    reason = refusal(config, workers)
    if reason is not None:
        print(f"wenzheng: {reason}", file=sys.stderr)
        return 2
    sock = listening_socket(host, port)
    # /metrics adds up every worker's values: they write them to files in one directory.
    metrics_dir = tempfile.mkdtemp(prefix="wenzheng-metrics-")
    os.environ[MULTIPROCESS_ENV] = metrics_dir
    print(f"wenzheng: serving on http://{host}:{port}/chat with {workers} workers", file=sys.stderr, flush=True)

    def run_worker(slot: int, ready: Callable[[], None]) -> None:
        # The library chose its in-memory values when it was imported, before the directory was
        # set; metrics built from here on (build_app) write theirs to the shared files.
        prometheus_values.ValueClass = prometheus_values.MultiProcessValue()  # type: ignore[no-untyped-call]
        try:
            app = build_app(config)
        except ConfigError as exc:
            print(f"wenzheng: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc

        async def announce(app: web.Application) -> None:  # after the service's own start-up
            ready()

        app.on_startup.append(announce)
        web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)

    try:
        return Supervisor(
            count=workers,
            run_worker=run_worker,
            on_exit=lambda pid: mark_process_dead(pid, metrics_dir),  # type: ignore[no-untyped-call]
        ).run()
    finally:
        sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
