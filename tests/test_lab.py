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


def _as_installed_wheel(monkeypatch, root):
    """Pretend the package runs from a wheel: no clone around it, the notebooks inside it."""
    from course_utils import paths

    monkeypatch.setattr(paths, "source_checkout", lambda: None)
    monkeypatch.setattr(paths, "bundled_course", lambda: root)


def test_from_a_wheel_lab_copies_the_notebooks_into_a_folder_of_the_learners_own(
    root, tmp_path, monkeypatch
):
    from course_utils.lab import serve_folder

    _as_installed_wheel(monkeypatch, root)
    monkeypatch.chdir(tmp_path)
    folder, created = serve_folder()
    assert (folder, created) == (tmp_path / "masking-course", True)
    assert (folder / START_PAGE).is_file()
    (folder / "exercises" / "00_start_here.ipynb").write_text("my edits")
    again, created = serve_folder()  # a second start never overwrites the learner's work
    assert (again, created) == (folder, False)
    assert (folder / "exercises" / "00_start_here.ipynb").read_text() == "my edits"


def test_a_folder_that_is_not_a_course_is_refused_in_a_sentence(root, tmp_path, monkeypatch):
    from course_utils.lab import LabProblem, serve_folder

    _as_installed_wheel(monkeypatch, root)
    (tmp_path / "masking-course").mkdir()
    (tmp_path / "masking-course" / "thesis.tex").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LabProblem, match="exists but holds no course notebooks; choose another"):
        serve_folder()


def test_lab_without_jupyterlab_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    from course_utils.__main__ import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jupyterlab" else real(name, *a),
    )
    assert main(["lab"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: JupyterLab is not installed in this environment")
    assert "Traceback" not in err


def test_the_course_kernel_marks_itself_for_the_set_up_cell():
    from course_utils.lab import KERNEL_ENV, KERNEL_NAME, kernel_spec

    assert kernel_spec()["env"][KERNEL_ENV] == KERNEL_NAME
