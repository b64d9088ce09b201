"""Run an ASGI app under a real uvicorn process, for lessons that talk about serving.

    with serve("course_app.main:create_app", factory=True) as server:
        httpx.get(f"{server.url}/health")

The server binds a free port on 127.0.0.1, is waited for until ``/health`` answers,
and is stopped with SIGTERM (then SIGKILL) when the block ends, even on error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    command: list[str]
    log_path: Path
    final_log: str | None = None  # kept after the server stops and its log file is removed

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """Everything the server printed (stdout and stderr), also after it stopped."""
        if self.final_log is not None:
            return self.final_log
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def uvicorn_command(
    target: str, *, port: int, factory: bool = False, workers: int = 1, extra: Sequence[str] = ()
) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    if factory:
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers)]
    return [*command, *extra]


@contextmanager
def serve(
    target: str,
    *,
    factory: bool = False,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    ready_path: str = "/health",
    startup_timeout: float = 30.0,
    extra: Sequence[str] = (),
) -> Iterator[Server]:
    """Start uvicorn on a free port, wait until ``ready_path`` answers, stop it afterwards."""
    import tempfile

    port = free_port()
    command = uvicorn_command(target, port=port, factory=factory, workers=workers, extra=extra)
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in finally
        "w+", prefix="uvicorn-", suffix=".log", delete=False
    )
    process_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(  # noqa: S603 - a fixed command built above
        command,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=process_env,
        cwd=str(cwd) if cwd else None,
        text=True,
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}", command, Path(log_file.name))
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with code {process.returncode} before serving:\n{server.log()}"
                )
            try:
                if httpx.get(server.url + ready_path, timeout=1.0).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"uvicorn did not answer within {startup_timeout} s:\n{server.log()}"
                )
            time.sleep(0.1)
        yield server
    finally:
        stop(process)
        log_file.close()
        server.final_log = server.log()
        server.log_path.unlink(missing_ok=True)


def stop(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in ``timeout`` s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError, AttributeError):
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, AttributeError):
                process.kill()
            process.wait(timeout)
    return int(process.returncode)
