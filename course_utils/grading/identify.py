"""What a submitted file is: a readable notebook, which lesson it belongs to, and what to flag.

A submission's lesson comes from the notebook itself, never from its file name:

1. the lessons its code cells name in `exercises("NN")` calls (the line every exercise notebook
   starts with); if exactly one registered lesson is named, that is the lesson;
2. otherwise (no call, or several lessons named), the lesson whose generated `exercises/`
   notebook shares the most cells with the submission (cell text compared after trimming
   whitespace; cell ids are not used, because every notebook numbers its cells c00, c01, ...),
   provided at least `MIN_SHARED` of that notebook's cells are found; among several named
   lessons, the best-matching one (or the first named, if none matches).

A notebook that names only lessons the course does not have, or matches nothing, is reported as
an unknown exercise notebook.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from ..lab import ROOT
from ..registry import lesson_ids
from .runner import CodeCell

MAX_BYTES = 20 * 2**20
MIN_SHARED = 0.3

_CALL = re.compile(
    r"""\bexercises\(\s*(?:lesson\s*=\s*)?(?:(["'])(?P<name>[^"'\n]{1,60})\1|(?P<number>\d{1,2}))\s*[,)]"""
)

# Source patterns worth an instructor's look: they cannot change a grade (the judge runs in the
# grader's process, see batch.py) but they suggest an attempt to change how checks behave.
_SUSPICIOUS = [
    (re.compile(r"\bcourse_utils\b[\w.]*\.\w+\s*=(?!=)"), "assigns to part of course_utils"),
    (
        re.compile(r"\b(?:Exercise|ExerciseSet|Result|Status|Mistake)\.\w+\s*=(?!=)"),
        "replaces part of the check machinery",
    ),
    (re.compile(r"\.(?:check|grader|_grade)\s*=(?!=)"), "replaces a check function"),
    (re.compile(r"\bsys\.modules\s*\["), "edits sys.modules"),
    (
        re.compile(
            r"events\.register|\bsettrace\b|\bsetprofile\b|input_transformers|ast_transformers"
        ),
        "installs an interpreter hook",
    ),
    (re.compile(r"✅|Passed \[|x-course-grade"), "prints text that imitates a check result"),
]


class BadSubmission(Exception):
    """A submission that cannot be graded; the message is a sentence for the instructor."""


def read_notebook(data: bytes):
    """Parse a submission's bytes, or raise BadSubmission saying what the file is instead."""
    import nbformat

    if len(data) > MAX_BYTES:
        raise BadSubmission(
            f"the file is {len(data) / 2**20:.0f} MB, more than a notebook should be "
            f"(limit {MAX_BYTES // 2**20} MB); clear its outputs and resubmit"
        )
    if not data.strip():
        raise BadSubmission("the file is empty (no bytes at all), not a notebook")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadSubmission("the file is not text (not UTF-8), so it is not a notebook") from None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno}: {exc.msg})" if hasattr(exc, "lineno") else ""
        )
        raise BadSubmission(
            f"the file is not JSON{where}, so it is not a notebook; was it saved from Jupyter "
            "as .ipynb (not exported as .py or .html)?"
        ) from None
    if not isinstance(obj, dict) or "cells" not in obj or "nbformat" not in obj:
        raise BadSubmission(
            "the file is JSON but not a Jupyter notebook (it has no `cells` and `nbformat`)"
        )
    try:
        nb = nbformat.reads(text, as_version=4)
        cells = list(nb.cells)
        for cell in cells:
            _ = cell.cell_type, cell.source
    except Exception as exc:
        raise BadSubmission(
            f"the file looks like a notebook but nbformat cannot read it ({type(exc).__name__}); "
            "open it in Jupyter, save it again, and resubmit"
        ) from None
    if not any(c.cell_type == "code" and c.source.strip() for c in cells):
        raise BadSubmission("the notebook is empty: it has no code cells with code in them")
    return nb


def code_cells(nb) -> list[CodeCell]:
    """The non-empty code cells, numbered by their position among all cells (from 1)."""
    return [
        CodeCell(number, cell.source)
        for number, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "code" and cell.source.strip()
    ]


def _normalise(cell_type: str, source: str) -> str:
    lines = [line.rstrip() for line in source.strip().splitlines()]
    return cell_type + "\n" + "\n".join(lines)


@cache
def _exercise_cells(lesson: str, root: str) -> frozenset[str]:
    import nbformat

    path = Path(root) / "exercises" / f"{lesson}.ipynb"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return frozenset()
    return frozenset(_normalise(c.cell_type, c.source) for c in nb.cells if c.source.strip())


def shared_fraction(nb, lesson: str, root: Path = ROOT) -> float:
    """The fraction of the lesson's exercise-notebook cells that the submission contains."""
    reference = _exercise_cells(lesson, str(root))
    if not reference:
        return 0.0
    mine = {_normalise(c.cell_type, c.source) for c in nb.cells if c.source.strip()}
    return len(reference & mine) / len(reference)


def resolve_lesson(name: str) -> str | None:
    """The registered lesson a name in `exercises(name)` refers to ("01", "01_padding", "1")."""
    key = name.strip().removesuffix(".ipynb").split("/")[-1]
    if key.isdigit():
        key = f"{int(key):02d}"
    for lesson in lesson_ids():
        if lesson == key or (len(key) == 2 and lesson[:2] == key):
            return lesson
    return None


def named_lessons(nb) -> list[str]:
    """The arguments of every `exercises(...)` call in the code cells, in order, unique."""
    found: list[str] = []
    for cell in code_cells(nb):
        for match in _CALL.finditer(cell.source):
            name = match.group("name") or match.group("number")
            if name not in found:
                found.append(name)
    return found


def identify_lesson(nb, root: Path = ROOT) -> str:
    """The lesson this notebook is an exercise notebook of, or BadSubmission (see module doc)."""
    raw = named_lessons(nb)
    known = list(dict.fromkeys(r for r in (resolve_lesson(n) for n in raw) if r))
    if len(known) == 1:
        return known[0]
    candidates = known or lesson_ids()
    scores = {lesson: shared_fraction(nb, lesson, root) for lesson in candidates}
    best = max(candidates, key=lambda lesson: scores[lesson], default=None)
    if best is not None and scores[best] >= MIN_SHARED:
        return best
    if known:
        return known[0]
    courses = ", ".join(lesson_ids())
    if raw:
        names = ", ".join(f'`exercises("{n}")`' for n in raw)
        raise BadSubmission(
            f"unknown exercise notebook: it calls {names}, but the course has no such lesson "
            f"(the lessons with exercises are {courses})"
        )
    closest = f" (closest: {best}, {scores[best]:.0%} of its cells)" if best else ""
    raise BadSubmission(
        'unknown exercise notebook: it never calls `exercises("NN")` and shares too few cells '
        f"with any exercise notebook{closest}; the lessons with exercises are {courses}"
    )


def suspicious(cells: list[CodeCell]) -> list[str]:
    """Notes for the instructor about cells that look like they tamper with grading."""
    notes = []
    for cell in cells:
        for pattern, what in _SUSPICIOUS:
            match = pattern.search(cell.source)
            if match:
                line = next(
                    (ln.strip() for ln in cell.source.splitlines() if match.group(0) in ln),
                    match.group(0).strip(),
                )
                line = line if len(line) <= 70 else line[:67] + "..."
                notes.append(
                    f"cell {cell.number} {what} (`{line}`); it cannot make a check pass (the "
                    "judge runs outside the notebook), but you may want to look"
                )
                break
    return notes
