"""The course on Python 3.11, 3.12 and 3.13 (run by `make test-pythons`).

For each version: a venv in .venvs/3.X installed exactly as `make` installs .venv (the course,
editable, with the `lab` and `test` extras, from constraints.txt), its own course kernel; then,
inside that venv, nbval on lecture 00 and the notebook runs of every solution (every check
passes) and every exercise (every check says "not attempted"). A venv whose pyproject.toml and
constraints.txt are unchanged is reused, so install time is measured on the first run only.

Interpreters are found as `python3.X` on PATH, else `~/.pyenv/versions/3.X.*/bin/python`.
A missing one is skipped with its reason; under CI=true it fails instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest
from common import ROOT, make_venv, pip, record, require_python, venv_python

VERSIONS = ("3.11", "3.12", "3.13")
VENVS = ROOT / ".venvs"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _prepare(version: str) -> tuple:
    """The venv for `version`, installed if missing or stale; (python, install seconds or None)."""
    python = require_python(version)
    venv = VENVS / version
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == _fingerprint():
        return venv, python, None
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    make_venv(python, venv)
    pip(venv, "install", "--quiet", "-c", "constraints.txt", "-e", ".[lab,test]", cwd=ROOT)
    subprocess.run(
        [str(venv_python(venv)), "-m", "course_utils", "install-kernel"], cwd=ROOT, check=True
    )
    seconds = time.perf_counter() - start
    stamp.write_text(_fingerprint())
    return venv, python, seconds


@pytest.mark.parametrize("version", VERSIONS)
def test_lecture_00_solutions_and_exercises_run_on(version):
    venv, python, install_seconds = _prepare(version)
    py = str(venv_python(venv))
    kernel_python = subprocess.run(
        [
            py,
            "-c",
            "import json, jupyter_client.kernelspec as k; print(json.dumps(k.KernelSpecManager().get_kernel_spec('masking-course').argv[0]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(kernel_python) == py, "the course kernel of this venv runs another Python"
    start = time.perf_counter()
    done = subprocess.run(
        [
            py,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            os.environ.get("JOBS", "2"),
            "--dist",
            "loadscope",
            "tests/test_solutions_run.py",
            "tests/test_exercises_run.py",
            "notebooks/00_start_here.ipynb",
            "--nbval",
            "--nbval-sanitize-with",
            "tests/sanitize.cfg",
            "--nbval-cell-timeout",
            "300",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    record(
        f"python-{version}",
        {
            "interpreter": python,
            "version": subprocess.run(
                [py, "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
            ).stdout.strip(),
            "install_seconds": None if install_seconds is None else round(install_seconds, 1),
            "notebook_seconds": round(time.perf_counter() - start, 1),
            "result": summary,
        },
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
