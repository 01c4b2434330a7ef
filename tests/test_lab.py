"""`make lab` serves the course: the same command (`python -m course_utils lab`, with extra flags
passed through as `LAB_ARGS` does), headless on a free loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from course_utils.lab import KERNEL_NAME, START_PAGE, lab_command

TOKEN = "course-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> dict:
    url = f"http://127.0.0.1:{port}{path}?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    extra = [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
    ]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "course_utils", "lab", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/api/status")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "JupyterLab did not start:\n" + (tmp_path / "server.log").read_text()
                    )
                time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_lab_serves_the_course_notebooks_and_kernel(server):
    folders = {item["name"] for item in _get(server, "/api/contents")["content"]}
    assert {"notebooks", "exercises", "solutions"} <= folders
    lectures = {item["name"] for item in _get(server, "/api/contents/notebooks")["content"]}
    assert START_PAGE.split("/")[-1] in lectures
    start = _get(server, f"/api/contents/{START_PAGE}")
    assert start["type"] == "notebook" and start["content"]["cells"]
    assert KERNEL_NAME in _get(server, "/api/kernelspecs")["kernelspecs"]


def test_lab_command_opens_the_start_page_and_passes_extra_flags_through():
    command = lab_command(["--no-browser", "--port", "8899"])
    assert f"--LabApp.default_url=/lab/tree/{START_PAGE}" in command
    assert command[-3:] == ["--no-browser", "--port", "8899"]
