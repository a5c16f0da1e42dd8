"""Child processes on loopback: start, wait until they answer, and always stop them.

Every child gets its own session (process group) so a stop reaches anything it spawned, and is
stopped by its own id: SIGTERM, a bounded wait, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """Our environment without ``WENZHENG_*`` overrides, so the temp config is what runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, wait, SIGKILL; then make sure nothing is left in the child's own process group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group the child led (start_new_session)


@contextlib.contextmanager
def running(
    cmd: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` in the project root, output to ``log_path``; stopped when the block ends."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            list(cmd),
            cwd=ROOT,
            env=env if env is not None else child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def loopback_server(module: str, port_flag: str, health_path: str, log_path: Path) -> Iterator[str]:
    """``python -m <module> <port_flag> N`` on a free loopback port, answering ``health_path``: its
    base URL while the block runs, stopped after."""
    port = free_port()
    with running([sys.executable, "-m", module, port_flag, str(port)], log_path) as proc:
        base = f"http://{LOOPBACK}:{port}"
        wait_http(base + health_path, proc, log_path, timeout=30)
        yield base


def wait_http(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0) -> None:
    """Poll ``url`` (loopback only) until it answers 2xx; fail early if the process died."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"refusing a non-loopback URL: {url}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if 200 <= answer.status < 300:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{tail(log_path)}")


def run_json_child(cmd: Sequence[str], log_path: Path, timeout: float) -> str:
    """Run a bench helper to completion and return its stdout (one JSON document)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            list(cmd),
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc)
            raise TimeoutError(f"{cmd[2] if len(cmd) > 2 else cmd} ran past {timeout:.0f} s") from None
        finally:
            stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"{list(cmd)[:4]} exited with {proc.returncode}:\n{tail(log_path)}")
    return out.decode()
