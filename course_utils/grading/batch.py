"""Grade many submissions in parallel, each in its own runner process, with a progress line.

A submission that is not a notebook or belongs to no lesson is graded on the spot (an `error`
row, no kernel). The others go to `jobs` runner processes at a time (runner.py). Each result is
saved in the store the moment it arrives, so Ctrl-C (or a killed job) loses only the
submissions in flight; running the same command again grades only what is missing.

A result the grader itself could not produce (the kernel did not start, the runner crashed or
overran its hard time limit) is not saved: that submission is retried on the next run, and the
run's exit status says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from ..registry import exercises
from .collect import Entry
from .identify import BadSubmission, code_cells, identify_lesson, read_notebook, suspicious
from .runner import Limits
from .store import Store

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    graded: int = 0  # graded in this run
    reused: int = 0  # already in the store
    problems: int = 0  # graded, but with an `error` (bad submission, kernel died, ...)
    not_graded: list[str] = field(default_factory=list)  # grader failures: "path: reason"


class Progress:
    """`graded 3/10, 1 failed, 6 left` on stderr: one updating line on a terminal, else a line
    per finished submission."""

    def __init__(self, total: int, stream: TextIO | None, reused: int):
        self.total, self.stream = total, stream
        self.done = reused
        self.failed = 0
        self.start = time.monotonic()
        self.tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
        self.lock = threading.Lock()
        if reused and stream is not None:
            print(f"{reused} submission(s) already graded in this output folder", file=stream)

    def update(self, name: str, failed: bool) -> None:
        if self.stream is None:
            return
        with self.lock:
            self.done += 1
            self.failed += failed
            left = self.total - self.done
            minutes = (time.monotonic() - self.start) / 60
            bar = "#" * int(20 * self.done / max(self.total, 1))
            line = f"[{bar:<20}] {self.done}/{self.total} done, {self.failed} failed, {left} left"
            if self.tty:
                print("\r" + line, end="\n" if left == 0 else "", file=self.stream, flush=True)
            else:
                print(f"{line} ({minutes:.1f} min) {name}", file=self.stream, flush=True)


def _bad(lesson: str | None, message: str) -> dict:
    return {
        "lesson": lesson,
        "checks": [],
        "notes": [],
        "error": message,
        "infrastructure": False,
        "seconds": 0.0,
    }


def prepare(entry: Entry) -> tuple[dict | None, dict | None]:
    """(job, None) for a notebook to execute, or (None, result) for one graded on the spot."""
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        return None, _bad(None, f"the file could not be read ({exc.strerror})")
    try:
        nb = read_notebook(data)
        lesson = identify_lesson(nb)
        items = list(exercises(lesson))
    except BadSubmission as exc:
        return None, _bad(None, str(exc))
    cells = code_cells(nb)
    job = {
        "path": str(entry.path),
        "cells": [[cell.number, cell.source] for cell in cells],
        "notes": suspicious(cells),
        "lesson": lesson,
        "exercises": [ex.name for ex in items],
        "answer_names": {ex.name: ex.answer_name for ex in items},
        "package_dir": str(PACKAGE_DIR),
    }
    return job, None


class _Runners:
    """The runner processes in flight, so an interrupt can stop them and their kernels."""

    def __init__(self):
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def kill_all(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs)
        for proc in procs:
            _kill_tree(proc.pid)


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        for proc in [*parent.children(recursive=True), parent]:
            try:
                proc.kill()
            except psutil.Error:
                pass
    except psutil.Error:
        pass


def run_job(job: dict, limits: Limits, kernel: str, runners: _Runners) -> dict:
    """Run one runner process; any failure of the process itself becomes an infrastructure
    result (not saved, retried next time)."""
    job = {**job, "limits": asdict(limits), "kernel": kernel}
    with tempfile.TemporaryDirectory(prefix="course-grade-job-") as tmp:
        job_path, result_path = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        with runners.lock:
            if runners.stopping:
                return {**_bad(job["lesson"], "interrupted"), "infrastructure": True}
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "course_utils.grading.runner",
                    str(job_path),
                    str(result_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env={**os.environ, "PYTHONPATH": str(PACKAGE_DIR.parent)},
            )
            runners.procs.add(proc)
        try:
            _, err = proc.communicate(timeout=limits.hard_timeout())
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.communicate()
            return {
                **_bad(job["lesson"], f"the grader's runner overran {limits.hard_timeout():.0f} s"),
                "infrastructure": True,
            }
        finally:
            with runners.lock:
                runners.procs.discard(proc)
        try:
            return json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-3:]
            why = " / ".join(tail) if tail else f"exit status {proc.returncode}"
            return {
                **_bad(job["lesson"], f"the grader's runner failed ({why})"),
                "infrastructure": True,
            }


def grade_all(
    entries: list[Entry],
    out: Path,
    *,
    limits: Limits,
    jobs: int,
    kernel: str = "masking-course",
    regrade: bool = False,
    stream: TextIO | None = sys.stderr,
) -> Outcome:
    """Grade every entry not already in the store; results are saved as they arrive."""
    store = Store(out)
    outcome = Outcome()
    todo: dict[str, Entry] = {}
    for entry in entries:
        if not regrade and store.get(entry.key) is not None:
            continue
        todo.setdefault(entry.key, entry)
    outcome.reused = len({e.key for e in entries}) - len(todo)
    progress = Progress(len({e.key for e in entries}), stream, outcome.reused)
    runners = _Runners()

    def finish(entry: Entry, result: dict) -> None:
        if result.get("infrastructure"):
            outcome.not_graded.append(f"{entry.submission}: {result.get('error')}")
            progress.update(entry.submission, True)
            return
        store.put(entry.key, result)
        outcome.graded += 1
        outcome.problems += bool(result.get("error"))
        progress.update(entry.submission, bool(result.get("error")))

    pending: list[tuple[Entry, dict]] = []
    for entry in todo.values():
        job, result = prepare(entry)
        if result is not None:
            finish(entry, result)
        else:
            pending.append((entry, job))

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = {pool.submit(run_job, job, limits, kernel, runners): entry for entry, job in pending}
    try:
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                finish(futures[future], future.result())
    except BaseException:
        runners.kill_all()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcome
