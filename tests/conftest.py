"""Shared test set-up: progress goes to a temporary file, never the learner's own."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import nbval.kernel
import pytest
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent

# Set at import so kernels that nbval and nbclient start inherit it too.
_PROGRESS_DIR = tempfile.mkdtemp(prefix="course-test-progress-")
os.environ["COURSE_PROGRESS_FILE"] = str(Path(_PROGRESS_DIR) / "progress.jsonl")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


_SOCKET_DIRS: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    for folder in _SOCKET_DIRS:
        shutil.rmtree(folder, ignore_errors=True)


class _UnixSocketKernelManager(KernelManager):
    """nbval's kernels on Unix sockets instead of TCP ports.

    Under pytest-xdist two workers start kernels at once; with TCP both may pick the same free
    port, one kernel dies at start and its client waits forever. Unix socket paths cannot collide.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        if "ip" not in kwargs:
            folder = tempfile.mkdtemp(prefix="nbval-kernel-")
            _SOCKET_DIRS.append(folder)
            kwargs["ip"] = folder + "/k"
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)


nbval.kernel.KernelManager = _UnixSocketKernelManager


# How `make test` shares work between its two workers (`--dist loadscope`, refined here). A
# notebook's cells run in order in one kernel, so a notebook is one unit of work; so is a module
# whose module-scoped fixture is expensive (it grades a whole class, or a class of hostile
# notebooks), so the fixture is built once.
# Every other test is its own unit, which keeps both workers busy until the end (plain loadscope
# would hand out whole modules, and one slow module would finish alone). xdist's own loadgroup
# cannot do this under pytest 9.2: it renames `item._nodeid`, which pytest no longer reads.
_WHOLE_MODULES = {"test_grading_end_to_end.py", "test_grading_sandbox.py"}
_BY_EXERCISE = {"test_exercises.py"}
_EXERCISE_ID = re.compile(r"\[(?:[^\]]*-)?(\d\d_[a-z0-9_]+/[a-z0-9_]+)")


def pytest_xdist_make_scheduler(config, log):
    """The scheduler for `--dist loadscope`: notebooks and `_WHOLE_MODULES` whole, the rest
    test by test. Other modes keep xdist's default."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            name = Path(path).name
            if path.endswith(".ipynb") or name in _WHOLE_MODULES:
                return path
            if name in _BY_EXERCISE:
                # One exercise's replays on one worker: its judge (the reference's and every
                # misconception's observations, seconds for a loss) is built once per seed.
                found = _EXERCISE_ID.search(nodeid)
                if found:
                    return found.group(1)
            if name == "test_lesson_08.py":
                return "08_capstone/repair"  # shares the trained repairs' cache with the above
            return nodeid

    return NotebookScopeScheduling(config, log)


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    """A fresh, empty progress file for one test."""
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


@pytest.fixture
def root() -> Path:
    return ROOT
