"""Grade many submissions in parallel, each in its own sandbox, with a progress line.

A submission that is not a notebook or belongs to no lesson is graded on the spot (an `error`
row, no kernel). The others go to `jobs` sandboxes at a time. Grading one is `run_job`'s steps:
copy the submission's folder -> write the cases of this run's secret seed (exchange.py) -> run
the notebook and the probes in the sandbox (sandbox.py, runner.py) -> read the report, at most
a few MB of JSON -> judge it here, where the references are (`judge_report`) -> store. Each
result is saved in the store the moment it arrives, so Ctrl-C (or a killed job) loses only the
submissions in flight; running the same command again grades only what is missing.

A result the grader itself could not produce (the kernel did not start, the runner crashed or
overran its hard time limit) is not saved: that submission is retried on the next run, and the
run's exit status says so.
"""

from __future__ import annotations

import json
import os
import secrets
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
from . import sandbox
from .collect import Entry
from .exchange import CannotSend, observations_of, read_report, write_cases
from .identify import BadSubmission, code_cells, identify_lesson, read_notebook, suspicious
from .runner import Limits, copy_folder
from .store import Store, installed_fingerprint, verify_installation

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


def _bad(lesson: str | None, message: str | None) -> dict:
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

    def add(self, proc: subprocess.Popen) -> None:
        with self.lock:
            self.procs = {p for p in self.procs if p.poll() is None}  # never a reaped pid
            self.procs.add(proc)

    def kill_all(self) -> None:
        with self.lock:
            self.stopping = True
            procs = [p for p in self.procs if p.poll() is None]
        for proc in procs:
            _kill_tree(proc.pid)
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass


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


def run_job(job: dict, limits: Limits, kernel: str, runners: _Runners, seed: int) -> dict:
    """Grade one submission: copy -> send cases -> run in the sandbox -> read the report ->
    judge -> a result (the store is the caller's). A failure of the grader itself becomes an
    infrastructure result (not saved, retried next time)."""
    how = sandbox.isolation()
    items = list(exercises(job["lesson"]))
    with tempfile.TemporaryDirectory(prefix="course-grade-job-") as tmp:
        in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        in_dir.mkdir()
        out_dir.mkdir()
        notes = list(job.get("notes", []))
        if not copy_folder(Path(job["path"]), in_dir / "submission"):
            notes.append("some files beside the notebook were too large to copy and were left out")
        try:
            write_cases(in_dir, {ex.name: ex.cases_for(seed) for ex in items})
        except CannotSend as exc:
            return _infra(job, how, f"an exercise's cases cannot enter the sandbox ({exc})")
        inside = {k: v for k, v in job.items() if k not in ("path", "notes", "package_dir")}
        inside.update(limits=asdict(limits), kernel=kernel)
        (in_dir / "job.json").write_text(json.dumps(inside), encoding="utf-8")
        inside_in, inside_out = sandbox.inside_paths(how, in_dir, out_dir)
        with runners.lock:
            if runners.stopping:
                return _infra(job, how, "interrupted")
        command = [sys.executable, "-m", "course_utils.grading.runner", inside_in, inside_out]
        finished = sandbox.run(
            command,
            in_dir=in_dir,
            out_dir=out_dir,
            stderr=Path(tmp, "stderr"),
            how=how,
            # reruns for probes that never finish: up to one notebook run per exercise more
            wall_seconds=limits.hard_timeout()
            + len(items) * (limits.notebook_timeout + limits.grade_timeout),
            memory_mb=limits.memory_mb * 1.5 + 1024,
            started=runners.add,
        )
        report = read_report(out_dir / "report.json")
        tail = sandbox.stderr_tail(Path(tmp, "stderr"))
    if how == sandbox.PROCESS_GROUP and installed_fingerprint.cache_info().currsize:
        verify_installation()  # the fallback hides nothing: did the submission edit the course?
    try:
        return judge_report(job, items, seed, report, finished, how, notes, tail)
    except Exception as exc:  # a report shaped to break the judge: that submission's error
        return {
            **_bad(job["lesson"], f"the sandbox's report could not be read ({type(exc).__name__})"),
            "isolation": how,
            "notes": notes,
        }


def _infra(job: dict, how: str, message: str) -> dict:
    return {**_bad(job["lesson"], message), "infrastructure": True, "isolation": how}


_STATUSES = {"passed", "failed", "not attempted", "error"}
_judge_lock = threading.Lock()


def _text(value, limit: int = 1000) -> str:
    return str(value)[:limit]


def judge_report(
    job: dict,
    items: list,
    seed: int,
    report: dict | None,
    finished: sandbox.Finished,
    how: str,
    notes: list[str],
    tail: str = "",
) -> dict:
    """The grader's verdict from the sandbox's report, which is untrusted data: each field is
    checked, a data exercise passes only if the judge (here, with the references) says so."""
    result = {**_bad(job["lesson"], None), "isolation": how, "seconds": round(finished.seconds, 2)}
    if report is None:
        if finished.killed_for == "time":
            why = f"the sandbox overran its hard limit of {finished.seconds:.0f} s and was stopped"
        elif finished.killed_for == "memory":
            why = "the sandbox used far more memory than the limit and was stopped"
        elif finished.killed_for == "disk":
            why = "the notebook wrote more than 64 MB into the grader's exchange folder and was stopped"
        elif finished.returncode is not None and (
            finished.returncode < 0 or (how == sandbox.BUBBLEWRAP and finished.returncode > 128)
        ):
            code = -finished.returncode if finished.returncode < 0 else finished.returncode - 128
            why = (
                f"the notebook stopped its own grading process (signal {code}); nothing was graded"
            )
        else:
            detail = tail or f"exit status {finished.returncode}"
            return _infra(job, how, f"the grader's runner failed ({detail})")
        return {**result, "error": why, "notes": notes}
    got_notes = report.get("notes")
    notes = notes + [_text(n, 500) for n in (got_notes if isinstance(got_notes, list) else [])[:50]]
    result["notes"] = notes
    if report.get("infrastructure"):
        return _infra(job, how, _text(report.get("error")))
    if report.get("error"):
        return {**result, "error": _text(report["error"])}
    data = {ex.name: ex for ex in items}
    rows: dict[str, dict] = {}
    got_rows = report.get("checks")
    for row in got_rows if isinstance(got_rows, list) else []:
        if not isinstance(row, dict) or row.get("check") not in {ex.name for ex in items}:
            continue
        name, status = row["check"], row.get("status")
        if name in rows or status not in _STATUSES:
            continue
        if name in data and status in ("passed", "failed"):
            continue  # only the judge decides a data exercise
        rows[name] = {"check": name, "status": status, "message": _text(row.get("message", ""))}
    for name, ex in data.items():
        if name in rows:
            continue
        got = report.get("observations")
        raw = got.get(name) if isinstance(got, dict) else None
        try:
            observed = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            observed = None
        observed = observations_of(
            {"observations": {name: observed}}, name, len(ex.cases_for(seed))
        )
        if observed is None:
            rows[name] = {
                "check": name,
                "status": "error",
                "message": (
                    "the probe's observations were malformed: the notebook changed how its "
                    "answer is observed (see the notes), so it cannot be graded"
                ),
            }
            continue
        try:
            with _judge_lock:
                judge = ex.judge_for(seed)
            verdict = judge(observed)
            message = verdict.message or (
                f"`{ex.answer_name}` is still the exercise's stub (`...` or `raise "
                "NotImplementedError`)"
            )
            rows[name] = {"check": name, "status": verdict.status.value, "message": message}
        except Exception as exc:
            rows[name] = {
                "check": name,
                "status": "error",
                "message": f"the probe's report could not be judged ({type(exc).__name__})",
            }
    checks = [
        rows.get(
            ex.name, {"check": ex.name, "status": "error", "message": "the probe did not report"}
        )
        for ex in items
    ]
    return {**result, "checks": checks}


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
    installed_fingerprint()  # before any submission runs
    seed = secrets.randbits(64)  # the cases of this run: never written anywhere the sandbox sees
    todo: dict[str, Entry] = {}
    for entry in entries:
        if not regrade and store.get(entry.key) is not None:
            continue
        todo.setdefault(entry.key, entry)
    outcome.reused = len({e.key for e in entries}) - len(todo)
    progress = Progress(len({e.key for e in entries}), stream, outcome.reused)
    if stream is not None and todo:
        print(f"isolation: {sandbox.isolation()} (see the guide's threat model)", file=stream)
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
    futures = {
        pool.submit(run_job, job, limits, kernel, runners, seed): entry for entry, job in pending
    }
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
