"""`make` speaks in sentences: no Python on PATH gets one (not `make: c: No such file or
directory`), and a course folder that moved installs itself again (its editable install and
kernel record absolute paths)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@pytest.fixture
def course(root, tmp_path):
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(root / name, tmp_path / name)
    return tmp_path


def test_no_python_on_path_gets_one_sentence(course):
    # A machine's usual tools, but no Python.
    tools = course / "bin"
    tools.mkdir()
    for name in ("sh", "id", "cat", "nproc", "rm", "mkdir", "touch"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    done = subprocess.run(
        [MAKE, "setup"], cwd=course, env={"PATH": str(tools)}, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert done.stderr.startswith(
        "make found no Python on PATH: install Python 3.11 (3.12 and 3.13 work too), or name "
        "one with make PYTHON=/path/to/python3.11 setup"
    ), done.stderr
    assert "No such file or directory" not in done.stderr
    assert not (course / ".venv").exists()


def test_a_python_that_does_not_exist_gets_one_sentence(course):
    done = subprocess.run(
        [MAKE, "setup", "PYTHON=/nowhere/python3.11"], cwd=course, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "make cannot run /nowhere/python3.11: install Python 3.11" in done.stderr


def _installed_venv(course, stamp_text: str) -> None:
    (course / ".venv" / "bin").mkdir(parents=True)
    (course / ".venv" / "bin" / "python").write_text("")
    later = time.time() + 5
    (course / ".venv" / ".installed").write_text(stamp_text)
    os.utime(course / ".venv" / ".installed", (later, later))


def test_an_installed_folder_is_not_installed_again(course):
    _installed_venv(course, f"{course}\n")
    done = subprocess.run([MAKE, "-n", "setup"], cwd=course, capture_output=True, text=True)
    assert "pip install" not in done.stdout, done.stdout


def test_a_moved_folder_installs_again(course):
    _installed_venv(course, "/where/the/course/was/before\n")
    done = subprocess.run([MAKE, "-n", "setup"], cwd=course, capture_output=True, text=True)
    install = "-m pip install --progress-bar on -c constraints.txt -e '.[lab,test]'"
    assert install in done.stdout
    line = next(line for line in done.stdout.splitlines() if install in line)
    assert "--quiet" not in line  # the long install shows pip's progress
    assert "-m course_utils install-kernel" in done.stdout


def test_the_notebook_runs_make_test_leaves_out_still_run_in_ci(root):
    """`make test` leaves the solution and exercise notebook runs to `make test-pythons` (which CI
    runs): every file it ignores must be one that test-pythons runs, and `make test-notebooks`
    runs them here."""
    makefile = (root / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if x.startswith("NOTEBOOK_RUNS :="))
    runs = line.split(":=", 1)[1].split()
    assert runs, line
    pythons = (root / "tests" / "install" / "pythons.py").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "make test-pythons" in ci
    for path in runs:
        assert (root / path).is_file(), path
        assert f'"{path}"' in pythons, (
            f"make test leaves out {path}, and test-pythons does not run it"
        )
    assert "$(addprefix --ignore=,$(NOTEBOOK_RUNS))" in makefile
    assert "test-notebooks: setup" in makefile
