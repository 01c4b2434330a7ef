"""Start the course's JupyterLab server for a test, talk to its REST API, and always stop it.

Shared by tests/test_lab.py and the browser test (tests/browser/), so both start, wait for and
stop the server the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_flags(port: int, token: str) -> list[str]:
    """Headless, loopback only, on exactly `port`, with a known token."""
    return [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]


def api(port: int, token: str, path: str, method: str = "GET"):
    """One REST call; the decoded JSON body, or None for an empty one."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _stop(process: subprocess.Popen, port: int, token: str) -> None:
    """Shut kernels down through the API, then end the server's whole process group."""
    with contextlib.suppress(OSError):
        for kernel in api(port, token, "/api/kernels"):
            api(port, token, f"/api/kernels/{kernel['id']}", method="DELETE")
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_lab(
    command: list[str],
    *,
    port: int,
    token: str,
    env: dict,
    log_path: Path,
    timeout: float = 120,
    cwd: Path | None = None,
) -> Iterator[int]:
    """Run `command` (a server on `port`) until the block ends; fail with its log if it never
    answers. The server is stopped however the block ends."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=cwd
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    api(port, token, "/api/status")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("JupyterLab did not start:\n" + log_path.read_text())
                    time.sleep(0.5)
            yield port
        finally:
            _stop(process, port, token)
