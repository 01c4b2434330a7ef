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


# How `make test` shares work between its workers (`--dist loadscope`, refined here). A
# notebook's cells run in order in one kernel, so a notebook is one unit of work. So are the
# tests that mostly wait (on grading subprocesses, their kernels and their time limits; two
# modules build a whole class in a module-scoped fixture): they wait one after another on one
# worker while the others keep both cores busy (spread over the workers, two of them waited at
# once for up to a minute, and a core stood idle).
# So is a lesson: its exercises' replays (tests/test_exercises.py) and its own tests
# (tests/test_lesson_NN.py) share judges and trained models.
# Every other test is its own unit, which keeps the workers busy until the end (plain loadscope
# would hand out whole modules, and one slow module would finish alone). xdist's own loadgroup
# cannot do this under pytest 9.2: it renames `item._nodeid`, which pytest no longer reads.
_WAITING = {
    "test_grading_end_to_end.py",
    "test_grading_sandbox.py",
    "test_grading_batch.py",
    "test_kernel.py",
}
_BY_LESSON = {"test_exercises.py"}
_EXERCISE_ID = re.compile(r"\[(?:[^\]]*-)?(\d\d_[a-z0-9_]+/[a-z0-9_]+)")
_LESSON_MODULE = re.compile(r"test_lesson_(\d\d)\.py")


# Lesson 08's repair check trains a model per answer (seconds each): its right repairs and their
# tests go to one worker, its named wrong repairs to another, so each is trained once and the
# two halves run side by side.
_RIGHT_REPAIRS = re.compile(
    r"\[08_capstone/repair(?:/alternative-\d+)?\]"
    r"|test_lesson_08\.py::test_(repair_that_masks|the_right_repairs|the_repair_probe)"
)


# The units that take longest on 2 cores (half a minute or more), longest first, started before
# the rest so that short ones fill the end and none of them finishes alone (the waiting tests
# take about 2.5 minutes, one after another). A name that is no longer a unit is skipped.
_LONGEST = (
    "waiting",
    "lesson 08",
    "lesson 08, right repairs",
    "lesson 07",
    "notebooks/05_fix_mask_zero.ipynb",
    "notebooks/07_fix_argmax_loss.ipynb",
    "tests/test_experiment.py::test_a_sample_of_the_grid_reproduces_when_re_run",
    "notebooks/06_fix_class_weighting.ipynb",
    "notebooks/04_return_sequences_drops_mask.ipynb",
    "notebooks/02_masking_layer.ipynb",
    "lesson 06",
    "tests/test_training_progress.py::test_a_long_fit_shows_one_line_that_nbval_ignores",
    "tests/test_seq2seq.py::test_train_traces_its_step_once_and_gives_the_numbers_of_a_plain_fit",
)


def _split_lesson_08(scope: str, nodeid: str) -> str:
    if scope == "lesson 08" and _RIGHT_REPAIRS.search(nodeid):
        return "lesson 08, right repairs"
    return scope


def pytest_xdist_make_scheduler(config, log):
    """The scheduler for `--dist loadscope`: notebooks, lessons and `_WAITING` whole, the rest
    test by test. Other modes keep xdist's default."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScopeScheduling(LoadScopeScheduling):
        def _assign_work_unit(self, node):
            # xdist queues units by their number of tests; the longest (in seconds) go first.
            if not getattr(self, "_longest_first", False):
                self._longest_first = True
                for scope in reversed([s for s in _LONGEST if s in self.workqueue]):
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            name = Path(path).name
            if name in _WAITING:
                return "waiting"
            if path.endswith(".ipynb"):
                return path
            if name in _BY_LESSON:
                # One lesson's replays on one worker: each judge (the reference's and every
                # misconception's observations, seconds for a loss) is built once per seed, and
                # lesson 08's repairs are trained once.
                found = _EXERCISE_ID.search(nodeid)
                if found:
                    return _split_lesson_08("lesson " + found.group(1)[:2], nodeid)
            lesson = _LESSON_MODULE.fullmatch(name)
            if lesson:  # a lesson's own tests read the same judges and trained repairs
                return _split_lesson_08("lesson " + lesson.group(1), nodeid)
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
