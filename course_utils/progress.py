"""Offline progress: every check outcome of an exercise is appended to a small JSON-lines file.

Where the file lives, first match wins:
1. `$COURSE_PROGRESS_FILE`;
2. `.course_progress.jsonl` in the course folder around the working directory (a notebook's
   kernel runs in the notebook's folder: a clone, or the copy `python -m course_utils lab`
   made from a wheel);
3. `.course_progress.jsonl` in the clone this package is imported from;
4. `progress.jsonl` in the user data folder (`paths.user_data_dir()`), never site-packages.

Only exercises count: checks run in a lecture or a solutions notebook (each notebook's first
cell says which it is, see `kernel_check.ready`) are not recorded. An exercise counts by its best
outcome, so an untouched re-run or a later experiment cannot turn a pass back into a failure;
the latest outcome is shown next to it.

A missing, unreadable or corrupt file never breaks a check: bad lines are skipped and counted,
and a failed write is silently dropped.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import paths, styles
from .checking import FAILED, NOT_ATTEMPTED, PASSED, Result

ENV_VAR = "COURSE_PROGRESS_FILE"
FILE_NAME = ".course_progress.jsonl"
_RANK = {NOT_ATTEMPTED: 0, FAILED: 1, PASSED: 2}

# What kind of notebook this kernel runs ("lecture", "exercise", "solution"), as its first cell
# declared; None when no cell said (a learner's own notebook counts like an exercise).
_notebook_kind: str | None = None
_NOT_RECORDED = {"lecture", "solution"}


def set_notebook_kind(kind: str | None) -> None:
    """Declare the kind of notebook this kernel runs; checks in lectures and solutions are not
    recorded."""
    global _notebook_kind
    _notebook_kind = kind


def progress_path() -> Path:
    """Where progress is kept (see the module docstring for the order)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    folder = paths.enclosing_course_folder() or paths.source_checkout()
    if folder is not None:
        return folder / FILE_NAME
    return paths.user_data_dir() / "progress.jsonl"


def record(result: Result) -> bool:
    """Append one outcome; returns False if it is not recorded (a lecture's or a solution's
    check) or cannot be written (and loses nothing else)."""
    if _notebook_kind in _NOT_RECORDED:
        return False
    line = json.dumps(
        {
            "time": round(time.time(), 3),
            "lesson": result.lesson,
            "exercise": result.exercise,
            "status": result.status.value,
        }
    )
    try:
        path = progress_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return True
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Outcome:
    """One exercise's history: its best outcome so far and its latest."""

    best: str
    latest: str


def _read(path: Path) -> tuple[dict[tuple[str, str], Outcome], int]:
    """Best and latest status per (lesson, exercise), and how many lines could not be read."""
    outcomes: dict[tuple[str, str], Outcome] = {}
    bad = 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return outcomes, 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = (str(row["lesson"]), str(row["exercise"]))
            status = str(row["status"])
            rank = _RANK[status]
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        before = outcomes.get(key)
        best = status if before is None or rank > _RANK[before.best] else before.best
        outcomes[key] = Outcome(best=best, latest=status)
    return outcomes, bad


@dataclass(frozen=True)
class ProgressReport:
    """Per-lesson counts of passed / failed / not attempted (by each exercise's best outcome),
    the exercises whose latest run says otherwise, and a text and an HTML view."""

    rows: list[tuple[str, int, int, int]]  # lesson, passed, failed, not attempted
    skipped_lines: int
    path: Path
    changed: list[tuple[str, str, str, str]]  # lesson, exercise, best, latest (when they differ)

    def __repr__(self) -> str:
        width = max([len("lesson")] + [len(r[0]) for r in self.rows])
        lines = [f"{'lesson':<{width}}  passed  failed  not attempted"]
        for lesson, p, f, n in self.rows:
            lines.append(f"{lesson:<{width}}  {p:>6}  {f:>6}  {n:>13}")
        if self.changed:
            lines.append("Counted by best result; the latest run of these differs:")
            lines += [
                f"  {lesson} / {exercise}: best {best}, latest {latest}"
                for lesson, exercise, best, latest in self.changed
            ]
        if self.skipped_lines:
            lines.append(f"({self.skipped_lines} unreadable line(s) in {self.path} were skipped)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        out = styles.table(
            ["lesson", "passed", "failed", "not attempted"],
            [[styles.code(lesson), str(p), str(f), str(n)] for lesson, p, f, n in self.rows],
            "course-progress",
        )
        notes = []
        if self.changed:
            items = "".join(
                f"<li>{styles.code(exercise)} ({lesson}): best {best}, latest {latest}</li>"
                for lesson, exercise, best, latest in self.changed
            )
            notes.append(
                "<p>Counted by best result; the latest run of these differs:</p>"
                f'<ul style="margin:0">{items}</ul>'
            )
        if self.skipped_lines:
            notes.append(
                f"<p>{self.skipped_lines} unreadable line(s) in the progress file were skipped.</p>"
            )
        if notes:
            out += f'<div style="color:{styles.TEXT}">{"".join(notes)}</div>'
        return out


def progress() -> ProgressReport:
    """Your progress per lesson: each exercise counts by the best outcome of its checks."""
    from .registry import all_exercises

    outcomes, bad = _read(progress_path())
    counts: dict[str, list[int]] = {}
    changed = []
    for ex in all_exercises():
        outcome = outcomes.get((ex.lesson, ex.name), Outcome(NOT_ATTEMPTED, NOT_ATTEMPTED))
        row = counts.setdefault(ex.lesson, [0, 0, 0])
        row[{PASSED: 0, FAILED: 1}.get(outcome.best, 2)] += 1
        if outcome.latest != outcome.best:
            changed.append((ex.lesson, ex.name, outcome.best, outcome.latest))
    rows = [(lesson, *c) for lesson, c in counts.items()]
    return ProgressReport(rows, bad, progress_path(), changed)
