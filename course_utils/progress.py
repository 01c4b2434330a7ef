"""Offline progress: every check outcome is appended to a small local JSON-lines file.

The file lives at `$COURSE_PROGRESS_FILE` if set, otherwise `.course_progress.jsonl` in the
course folder (ignored by git). A missing, unreadable or corrupt file never breaks a check:
bad lines are skipped and counted, and a failed write is silently dropped.
"""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .checking import NOT_ATTEMPTED, Result

ENV_VAR = "COURSE_PROGRESS_FILE"
_DEFAULT = Path(__file__).resolve().parent.parent / ".course_progress.jsonl"


def progress_path() -> Path:
    """Where progress is kept (the environment variable wins)."""
    return Path(os.environ.get(ENV_VAR) or _DEFAULT)


def record(result: Result) -> bool:
    """Append one outcome; returns False (and loses nothing else) if it cannot be written."""
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


def _read(path: Path) -> tuple[dict[tuple[str, str], str], int]:
    """Latest status per (lesson, exercise), and how many lines could not be read."""
    latest: dict[tuple[str, str], str] = {}
    bad = 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return latest, 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = (str(row["lesson"]), str(row["exercise"]))
            status = str(row["status"])
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        latest[key] = status
    return latest, bad


@dataclass(frozen=True)
class ProgressReport:
    """Per-lesson counts of passed / failed / not attempted, with a text and an HTML view."""

    rows: list[tuple[str, int, int, int]]  # lesson, passed, failed, not attempted
    skipped_lines: int
    path: Path

    def __repr__(self) -> str:
        width = max([len("lesson")] + [len(r[0]) for r in self.rows])
        lines = [f"{'lesson':<{width}}  passed  failed  not attempted"]
        for lesson, p, f, n in self.rows:
            lines.append(f"{lesson:<{width}}  {p:>6}  {f:>6}  {n:>13}")
        if self.skipped_lines:
            lines.append(f"({self.skipped_lines} unreadable line(s) in {self.path} were skipped)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(lesson)}</td><td>{p}</td><td>{f}</td><td>{n}</td></tr>"
            for lesson, p, f, n in self.rows
        )
        note = (
            f"<p>{self.skipped_lines} unreadable line(s) in the progress file were skipped.</p>"
            if self.skipped_lines
            else ""
        )
        return (
            '<table class="course-progress"><thead><tr><th>lesson</th><th>passed</th>'
            f"<th>failed</th><th>not attempted</th></tr></thead><tbody>{body}</tbody></table>{note}"
        )


def progress() -> ProgressReport:
    """Your progress per lesson: each exercise counts by the latest outcome of its check."""
    from .registry import all_exercises

    latest, bad = _read(progress_path())
    counts: dict[str, list[int]] = {}
    for ex in all_exercises():
        status = latest.get((ex.lesson, ex.name), NOT_ATTEMPTED)
        row = counts.setdefault(ex.lesson, [0, 0, 0])
        row[{"passed": 0, "failed": 1}.get(status, 2)] += 1
    rows = [(lesson, *c) for lesson, c in counts.items()]
    return ProgressReport(rows, bad, progress_path())
