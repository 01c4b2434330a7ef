"""The data-driven sections of the instructor guide (instructor/README.md).

`python -m course_utils guide` rewrites only the text between `<!-- BEGIN GENERATED: NAME -->`
and `<!-- END GENERATED: NAME -->` markers; everything else is hand-written and kept. The
sections come from one place: each lesson module's TITLE, OBJECTIVES, MINUTES and
EXERCISE_MINUTES (through course_utils.curriculum), its exercises' misconceptions, the
measured notebook run times in instructor/timings.json, and the known set-up problems
(course_utils/troubleshooting.py).

`guide --measure [LESSON...]` executes the lecture and solution notebooks (all lessons, or the
ones named) in fresh kernels and stores their run times in instructor/timings.json first; the
plain `guide` uses the stored file, so it is fast and its output is the same on every machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
from pathlib import Path

from .curriculum import all_lessons
from .lab import ROOT
from .registry import exercises, lesson_ids
from .troubleshooting import table_markdown

GUIDE = ROOT / "instructor" / "README.md"
TIMINGS = ROOT / "instructor" / "timings.json"
SETUP_MINUTES = 15
_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.S,
)


# --------------------------------------------------------------------------- timings


def load_timings(path: Path = TIMINGS) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"lessons": {}}
    data.setdefault("lessons", {})
    return data


def measure(lessons: list[str] | None = None, path: Path = TIMINGS) -> dict:
    """Execute each lesson's lecture and solution notebooks; store their seconds in `path`."""
    from ..bench import measure_floor
    from ..execute import run_notebook

    os.environ.setdefault("COURSE_PROGRESS_FILE", os.devnull)
    wanted = [
        lesson for lesson in lesson_ids() if not lessons or lesson[:2] in {x[:2] for x in lessons}
    ]
    data = load_timings(path)
    data["about"] = (
        "Seconds to run each notebook top to bottom in a fresh kernel "
        "(python -m course_utils guide --measure); the guide's schedule adds them to the "
        "lessons' MINUTES and EXERCISE_MINUTES."
    )
    data["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    data["kernel_start_s"] = round(measure_floor(repeats=1), 1)
    for lesson in wanted:
        row = {}
        for key, folder in (("lecture_s", "notebooks"), ("solution_s", "solutions")):
            notebook = ROOT / folder / f"{lesson}.ipynb"
            if notebook.exists():
                run = run_notebook(notebook, timeout=900)
                row[key] = round(run.seconds, 1)
                if run.error:
                    row[key + "_error"] = run.error
        data["lessons"][lesson] = row
    data["lessons"] = {k: data["lessons"][k] for k in sorted(data["lessons"]) if k in lesson_ids()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return data


# --------------------------------------------------------------------------- sections


def _run_minutes(timing: dict) -> int | None:
    if "lecture_s" not in timing:
        return None
    return math.ceil((timing.get("lecture_s", 0) + timing.get("solution_s", 0)) / 60)


def lesson_slots(timings: dict) -> list[dict]:
    """Each lesson's workshop slot: lecture + exercise minutes + measured run time, rounded up
    to 5 minutes."""
    slots = []
    for info in all_lessons():
        run = _run_minutes(timings["lessons"].get(info.lesson, {}))
        total = info.minutes + info.exercise_minutes + (run or 0)
        slots.append(
            {
                "lesson": info.lesson,
                "label": f"{info.number} · {info.title}",
                "lecture": info.minutes,
                "exercise": info.exercise_minutes,
                "run": run,
                "slot": 5 * math.ceil(total / 5),
            }
        )
    return slots


def objectives_section() -> str:
    lines = []
    for info in all_lessons():
        lines += [
            f"### {info.number} · {info.title}",
            "",
            f"Lecture `notebooks/{info.lesson}.ipynb` ({info.minutes} min), exercises "
            f"`exercises/{info.lesson}.ipynb` ({info.exercise_minutes} min). "
            f"Prerequisites: {info.prerequisites}",
            "",
            "After it, learners can:",
            "",
            *(f"- {objective}" for objective in info.objectives),
            "",
        ]
    return "\n".join(lines)


def _clock(minutes: int, start: int = 9 * 60) -> str:
    t = start + minutes
    return f"{t // 60:02d}:{t % 60:02d}"


def _lecture_only(slot: dict) -> int:
    """A lesson's slot without its exercises (they become homework)."""
    return 5 * math.ceil((slot["lecture"] + (slot["run"] or 0)) / 5)


def _plan(
    slots: list[dict],
    window: int,
    breaks: list[tuple[int, int, str]],
    *,
    compact: bool = False,
) -> tuple[list, list, list]:
    """Place setup, lessons in order, and breaks near their target times within `window`.

    With `compact`, a lesson whose exercises do not fit (keeping room for every later lesson's
    lecture) is taught as a lecture and its exercises become homework, so every lesson is
    taught. Returns the rows, the lessons left out, and the lessons whose exercises are homework.
    """
    rows = [(0, SETUP_MINUTES, "Welcome, `make lab` check on every machine, notebook 00 tour")]
    t = SETUP_MINUTES
    pending = list(breaks)
    left_out, homework = [], []
    for index, slot in enumerate(slots):
        while pending and pending[0][0] <= t + slot["slot"] // 2:
            _, length, label = pending.pop(0)
            rows.append((t, length, label))
            t += length
        later = sum(_lecture_only(s) for s in slots[index + 1 :]) if compact else 0
        fixed = sum(b[1] for b in pending)
        run = (
            f", {slot['run']} min running cells"
            if slot["run"] is not None
            else ", run time not measured"
        )
        if not left_out and t + slot["slot"] + later + fixed <= window:
            minutes = slot["slot"]
            what = (
                f"{slot['label']} (lecture {slot['lecture']} + exercises {slot['exercise']}{run})"
            )
        elif compact and not left_out and t + _lecture_only(slot) + later + fixed <= window:
            minutes = _lecture_only(slot)
            what = f"{slot['label']} (lecture {slot['lecture']}{run}; exercises as homework)"
            homework.append(slot)
        else:
            left_out.append(slot)
            continue
        rows.append((t, minutes, what))
        t += minutes
    filler = "Questions, catch-up, and the learners' own data"
    for target, length, label in pending:  # breaks after the last lesson stay at their times
        start = max(t, target)
        if start + length > window:
            break
        if start - t >= 5:
            rows.append((t, start - t, filler))
        rows.append((start, length, label))
        t = start + length
    if window - t >= 5:
        rows.append((t, window - t, filler))
    return rows, left_out, homework


def _table(rows: list) -> list[str]:
    out = ["| time | minutes | what |", "|---|---|---|"]
    out += [f"| {_clock(t)}–{_clock(t + n)} | {n} | {what} |" for t, n, what in rows]
    return out


def schedule_section(timings: dict) -> str:
    slots = lesson_slots(timings)
    unmeasured = [s["lesson"] for s in slots if s["run"] is None]
    lines = [
        "Each lesson's slot = its lecture minutes + exercise minutes (the lesson module's "
        "`MINUTES` and `EXERCISE_MINUTES`) + the measured time to run its lecture and solution "
        "notebooks (`instructor/timings.json`, rounded up to a minute), rounded up to 5 minutes.",
        "",
        "| lesson | lecture | exercises | running cells | slot |",
        "|---|---|---|---|---|",
    ]
    for s in slots:
        run = f"{s['run']} min" if s["run"] is not None else "not measured"
        lines.append(
            f"| {s['label']} | {s['lecture']} min | {s['exercise']} min | {run} | {s['slot']} min |"
        )
    if unmeasured:
        lines += [
            "",
            f"Not measured yet: {', '.join(unmeasured)}; run `python -m course_utils guide --measure`.",
        ]
    # The half day teaches the first lessons fully; the full day teaches every lesson and turns
    # the exercises of the last ones into homework when the day is too short for all of them.
    for title, window, breaks, compact in (
        ("Half day (09:00–12:30)", 210, [(105, 15, "Break")], False),
        (
            "Full day (09:00–17:00)",
            480,
            [(90, 15, "Break"), (210, 60, "Lunch"), (360, 15, "Break")],
            True,
        ),
    ):
        rows, left_out, homework = _plan(slots, window, breaks, compact=compact)
        lines += ["", f"**{title}**", "", *_table(rows)]
        if homework:
            names = ", ".join(s["label"] for s in homework)
            lines += ["", f"Exercises as homework, graded afterwards with `grade`: {names}."]
        if left_out:
            names = ", ".join(s["label"] for s in left_out)
            lines += ["", f"Does not fit; leave for self-study with the solutions: {names}."]
    return "\n".join(lines) + "\n"


def misconceptions_section() -> str:
    lines = [
        "Each check recognises these wrong answers by name (each exercise's misconceptions, "
        "written once in its lesson module and replayed by the tests); a learner whose answer "
        "behaves like one reads the quoted sentence.",
        "",
        "| lesson | exercise | misconception | the check says |",
        "|---|---|---|---|",
    ]
    for lesson in lesson_ids():
        for ex in exercises(lesson):
            for wrong in ex.wrong_answers:
                says = wrong.says.replace("|", "\\|")
                lines.append(f"| {lesson[:2]} | `{ex.answer_name}` | {wrong.name} | “{says}” |")
    return "\n".join(lines) + "\n"


def sections(timings: dict | None = None) -> dict[str, str]:
    timings = load_timings() if timings is None else timings
    return {
        "objectives": objectives_section(),
        "schedule": schedule_section(timings),
        "misconceptions": misconceptions_section(),
        "setup-problems": table_markdown(),
    }


def render(text: str, generated: dict[str, str]) -> str:
    """`text` with every known marker block's body replaced; unknown blocks are left alone."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in generated:
            return match.group(0)
        return f"{match.group(1)}{generated[name].rstrip()}\n{match.group(4)}"

    return _BLOCK.sub(replace, text)


def update_guide(*, write: bool = True, path: Path = GUIDE) -> bool:
    """Regenerate the guide's marked sections; returns True if the file changed (or would)."""
    text = Path(path).read_text(encoding="utf-8")
    found = {m.group("name") for m in _BLOCK.finditer(text)}
    generated = sections()
    missing = sorted(set(generated) - found)
    if missing:
        raise ValueError(f"{path} lacks the markers for: {', '.join(missing)}")
    new = render(text, generated)
    if new != text and write:
        Path(path).write_text(new, encoding="utf-8")
    return new != text


def add_guide_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--measure",
        nargs="*",
        metavar="LESSON",
        default=None,
        help="execute the notebooks (all, or these lessons) and store their run "
        "times in instructor/timings.json first",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if instructor/README.md is out of date",
    )


def run_guide(args: argparse.Namespace) -> int:
    if args.measure is not None:
        measure(args.measure or None)
        print(f"wrote {TIMINGS}", file=sys.stderr)
    changed = update_guide(write=not args.check)
    if args.check:
        if changed:
            print(f"{GUIDE} is out of date: run `python -m course_utils guide`", file=sys.stderr)
            return 1
        print(f"{GUIDE} is up to date", file=sys.stderr)
        return 0
    print(f"{'updated' if changed else 'unchanged'}: {GUIDE}", file=sys.stderr)
    return 0
