"""The course as a learner gets it, outside the clone (run by `make test-install`).

1. A wheel of the course, installed with pip into a fresh venv that already holds other
   versions of numpy, matplotlib and JupyterLab (a learner's existing environment): pip keeps
   them and pulls no test tools. From another folder, `lab` copies the notebooks into a folder
   of the learner's own and serves them (no 404); lecture 00 runs and every solution notebook's
   checks pass there, with `signal.SIGALRM` removed from the kernel as on Windows; an exercise's
   progress is written beside those notebooks, never into site-packages.
2. A fresh venv with the course's dependencies but not the course: a copy of the clone moved to
   another folder still imports its own `course_utils` (lecture 00 runs); a notebook outside any
   course folder gets one sentence from its set-up cell; with COURSE_URL pointing at the clone
   (a local path standing in for the repository URL), the set-up cell installs the course and
   the check runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from common import (
    CONSTRAINTS,
    ROOT,
    installed,
    make_venv,
    pip,
    record,
    run_notebooks,
    venv_python,
)
from lab_server import api, free_port, running_lab, server_flags

# A learner's existing environment: other versions than constraints.txt, inside the ranges.
EXISTING = {"numpy": "2.3.5", "matplotlib": "3.10.9", "jupyterlab": "4.5.11"}
TEST_TOOLS = ("pytest", "pytest-xdist", "ruff", "nbval")
PYTHON = sys._base_executable  # the interpreter `make` built .venv from

# Removes SIGALRM before anything else runs in the kernel, as on Windows.
NO_SIGALRM = "import signal\nif hasattr(signal, 'SIGALRM'):\n    del signal.SIGALRM\n"


def _runtime_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("masking_course-*.whl")
    return built


@pytest.fixture(scope="module")
def learner_env(tmp_path_factory, wheel) -> Path:
    """A venv with the learner's own numpy, matplotlib and JupyterLab, then the course's wheel."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    make_venv(PYTHON, venv)
    pip(venv, "install", "--quiet", *(f"{k}=={v}" for k, v in EXISTING.items()))
    seconds = pip(venv, "install", "--quiet", f"{wheel}[lab]")
    record("wheel_install", {"python": PYTHON, "seconds": round(seconds, 1)})
    return venv


def test_pip_install_keeps_the_environments_packages_and_pulls_no_test_tools(learner_env):
    have = installed(learner_env)
    assert {name: have.get(name) for name in EXISTING} == EXISTING
    assert not [tool for tool in TEST_TOOLS if tool in have], "test tools were installed"
    assert have["tensorflow"].startswith("2.21.")


@pytest.fixture(scope="module")
def working_copy(learner_env, tmp_path_factory) -> Path:
    """`python -m course_utils lab` from another folder, as a learner starts it: it copies the
    wheel's notebooks into ./masking-course and serves them."""
    home = tmp_path_factory.mktemp("home")
    port, token = free_port(), "install-test-token"
    command = [
        str(venv_python(learner_env)),
        "-m",
        "course_utils",
        "lab",
        *server_flags(port, token),
    ]
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
    }
    env.pop("COURSE_PROGRESS_FILE", None)
    with running_lab(
        command, port=port, token=token, env=env, log_path=home / "lab.log", cwd=home
    ) as port:
        start = api(port, token, "/api/contents/notebooks/00_start_here.ipynb")
        assert start["type"] == "notebook" and start["content"]["cells"]
        kernels = api(port, token, "/api/kernelspecs")["kernelspecs"]
        assert "masking-course" in kernels
    log = (home / "lab.log").read_text()
    assert f"Copied the course notebooks to {home / 'masking-course'}" in log
    return home / "masking-course"


def test_lab_serves_notebooks_copied_beside_the_learner(working_copy):
    for folder in ("notebooks", "exercises", "solutions"):
        assert (working_copy / folder / "00_start_here.ipynb").is_file()


def test_lecture_00_and_every_solution_pass_from_the_wheel_without_sigalrm(
    learner_env, working_copy, tmp_path
):
    hook = tmp_path / "no-sigalrm"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(NO_SIGALRM)
    notebooks = [working_copy / "notebooks" / "00_start_here.ipynb"] + sorted(
        (working_copy / "solutions").glob("*.ipynb")
    )
    env = {"PYTHONPATH": str(hook), "COURSE_PROGRESS_FILE": ""}
    runs = run_notebooks(learner_env, notebooks, env=env)
    record("wheel_notebooks", {r["notebook"]: r["seconds"] for r in runs})
    for run in runs:
        assert not run["errors"], f"{run['notebook']}: {run['errors'][0][:2]}"
    checks = [result for run in runs[1:] for result in run["results"]]
    assert len(checks) >= 20 and all(status == "✅ Passed" for _, _, status in checks), checks
    assert not (working_copy / ".course_progress.jsonl").exists()  # solutions do not record


def test_an_exercise_records_progress_beside_the_notebooks_not_in_site_packages(
    learner_env, working_copy
):
    exercise = nbformat.read(working_copy / "exercises" / "00_start_here.ipynb", as_version=4)
    solution = nbformat.read(working_copy / "solutions" / "00_start_here.ipynb", as_version=4)
    answers = {c.id: c.source for c in solution.cells}
    for cell in exercise.cells:
        if "raise NotImplementedError" in cell.source:
            cell.source = (
                answers[cell.id].replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION", "")
            )
    answered = working_copy / "exercises" / "00_answered.ipynb"
    nbformat.write(exercise, answered)
    (run,) = run_notebooks(learner_env, [answered], env={"COURSE_PROGRESS_FILE": ""})
    assert not run["errors"], run["errors"]
    assert ["00_start_here", "count_real_tokens", "✅ Passed"] in run["results"]
    progress = (working_copy / ".course_progress.jsonl").read_text()
    assert '"status": "passed"' in progress
    site = subprocess.run(
        [
            str(venv_python(learner_env)),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not list(Path(site).rglob("*progress*.jsonl"))


# --------------------------------------------------------------------------- without the course


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory) -> Path:
    """A venv with the course's dependencies (from the lock) but not the course."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    make_venv(PYTHON, venv)
    seconds = pip(venv, "install", "--quiet", "-c", str(CONSTRAINTS), *_runtime_requirements())
    record("dependencies_install", {"python": PYTHON, "seconds": round(seconds, 1)})
    assert "masking-course" not in installed(venv)
    return venv


def test_a_moved_course_folder_still_imports_its_own_course_utils(bare_env, tmp_path):
    moved = tmp_path / "somewhere" / "else" / "course"
    shutil.copytree(
        ROOT,
        moved,
        ignore=shutil.ignore_patterns("__pycache__", ".venv*", ".git", "test-artifacts", "*.whl"),
    )
    subprocess.run(
        [str(venv_python(bare_env)), "-m", "course_utils", "install-kernel"], cwd=moved, check=True
    )
    (run,) = run_notebooks(
        bare_env, [moved / "notebooks" / "00_start_here.ipynb"], env={"COURSE_PROGRESS_FILE": ""}
    )
    assert not run["errors"], run["errors"]
    assert ["00_start_here", "count_real_tokens", "✅ Passed"] in run["results"]


def _probe(folder: Path) -> Path:
    from course_utils.setup_cell import repository, setup_source

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(setup_source("exercise", repository(ROOT))),
        nbformat.v4.new_code_cell(
            "from course_utils import exercises\n"
            "q = exercises('00')\n"
            "q.count_real_tokens.check(lambda batch, pad_id=0: (batch != pad_id).sum(axis=1))"
        ),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def test_outside_a_course_folder_the_set_up_cell_says_what_to_do(bare_env, tmp_path):
    (run,) = run_notebooks(bare_env, [_probe(tmp_path / "alone")], kernel="masking-course")
    (first, *_) = run["errors"]
    name, _, traceback = first
    assert name == "CourseSetup"
    (sentence,) = traceback
    assert re.match(r"This kernel \(Python 3\.11\.\d+, .*\) cannot load the course", sentence)
    assert "choose the kernel “Python 3 (masking course)”" in sentence


def test_with_course_url_the_set_up_cell_installs_the_course(bare_env, tmp_path):
    (run,) = run_notebooks(
        bare_env,
        [_probe(tmp_path / "colab-like")],
        env={"COURSE_URL": str(ROOT), "COURSE_PROGRESS_FILE": str(tmp_path / "p.jsonl")},
    )
    assert not run["errors"], run["errors"][0][:2]
    assert run["results"] == [["00_start_here", "count_real_tokens", "✅ Passed"]]
    assert "masking-course" in installed(bare_env)


def test_the_editable_install_make_runs_shows_progress_without_a_warning_box(bare_env):
    done = subprocess.run(
        [str(venv_python(bare_env)), "-m", "pip", "install", "--no-deps", "-e", str(ROOT)],
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Building editable for masking-course" in output
    assert "Successfully installed masking-course" in output
    assert "!!" not in output, "the build printed a warning box:\n" + output[-3000:]
