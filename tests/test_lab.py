"""`make lab` serves the course: the same command (`python -m course_utils lab`, with extra flags
passed through as `LAB_ARGS` does), headless on a free loopback port."""

from __future__ import annotations

import os
import sys

import pytest
from lab_server import api, free_port, running_lab, server_flags

from course_utils.lab import KERNEL_NAME, START_PAGE, lab_command

TOKEN = "course-test-token"


def _get(port: int, path: str) -> dict:
    return api(port, TOKEN, path)


@pytest.fixture
def server(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "course_utils", "lab", *server_flags(port, TOKEN)]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with running_lab(
        command, port=port, token=TOKEN, env=env, log_path=tmp_path / "server.log", timeout=60
    ):
        yield port


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


def test_lab_command_can_serve_a_copy_of_the_course(tmp_path):
    command = lab_command(root=tmp_path)
    roots = [arg for arg in command if arg.startswith("--ServerApp.root_dir=")]
    assert roots == [f"--ServerApp.root_dir={tmp_path}"]  # Jupyter refuses a second one
