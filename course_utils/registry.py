"""Find each lesson's exercises: one module per lesson in `course_utils.lessons`.

A lesson module is named `lNN_slug` and defines `LESSON = "NN_slug"` and `EXERCISES`, a list of
`Exercise` objects. Modules are imported on first use, so importing `course_utils` stays cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from . import lessons as _lessons_pkg
from .checking import Exercise, ExerciseSet


def _module_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(_lessons_pkg.__path__)
        if info.name[:1] == "l" and info.name[1:3].isdigit()
    )


def lesson_ids() -> list[str]:
    """Every lesson that has exercises, as `NN_slug` (the notebook's file stem)."""
    return [name[1:] for name in _module_names()]


def _load(lesson: str | int) -> ModuleType:
    key = f"{lesson:02d}" if isinstance(lesson, int) else str(lesson)
    key = key.removesuffix(".ipynb").split("/")[-1]
    for name in _module_names():
        stem = name[1:]
        if stem == key or stem[:2] == key[:2] and (len(key) == 2 or stem == key):
            return importlib.import_module(f"{_lessons_pkg.__name__}.{name}")
    known = ", ".join(lesson_ids())
    raise LookupError(f"there is no lesson {lesson!r}; the lessons with exercises are: {known}")


def exercises(lesson: str | int) -> ExerciseSet:
    """The exercises of one lesson: `exercises("01")` or `exercises("01_padding")`."""
    module = _load(lesson)
    return ExerciseSet(module.LESSON, list(module.EXERCISES))


def all_exercises() -> list[Exercise]:
    """Every registered exercise of every lesson, in lesson order."""
    return [ex for lesson in lesson_ids() for ex in exercises(lesson)]
