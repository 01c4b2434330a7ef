"""What a learner calls in a notebook, and nothing else:

    from course_utils import exercises, progress
    q = exercises("01")
    q.pad_batch.check(pad_batch)   # or q.pad_batch.check(): looks `pad_batch` up in the notebook
    q.pad_batch.hint(); q.pad_batch.solution(); progress()

A check here is the exercise's own `evaluate` (probe and judge in this process, see
`checking.Exercise`) plus a line in the learner's progress file. Grading never comes through
this module: the grader evaluates exercises itself and keeps its own store, so nothing in
`checking` or `grading` imports `progress`.
"""

from __future__ import annotations

from typing import Any

from . import registry
from .checking import Exercise, ExerciseSet, Hint, Result, Solution
from .progress import progress, record

__all__ = ["LearnerExercise", "exercises", "progress"]

_UNSET = object()  # `check()` with no argument: look the answer up in the notebook


def _notebook_namespace() -> dict:
    """The notebook's variables (IPython's `user_ns`), or {} outside IPython."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    return getattr(shell, "user_ns", None) or {}


class LearnerExercise:
    """One exercise as a learner sees it: `check`, `hint`, `solution`."""

    def __init__(self, exercise: Exercise):
        self.exercise = exercise

    def check(self, answer: Any = _UNSET) -> Result:
        """Grade `answer` and record the outcome in your progress; never raises.

        With no argument the answer is looked up by its name in the notebook, so a check run
        before its definition cell says "define it above" instead of raising a NameError.
        """
        if answer is _UNSET:
            namespace = _notebook_namespace()
            if self.exercise.answer_name not in namespace:
                result = self.exercise.undefined()
                record(result)
                return result
            answer = namespace[self.exercise.answer_name]
        result = self.exercise.evaluate(answer)
        record(result)
        return result

    def hint(self) -> Hint:
        return self.exercise.hint()

    def solution(self) -> Solution:
        return self.exercise.solution()

    def __getattr__(self, name: str) -> Any:  # name, lesson, title, answer_name, ...
        return getattr(self.__dict__["exercise"], name)

    def __repr__(self) -> str:
        return repr(self.exercise)


def exercises(lesson: str | int) -> ExerciseSet:
    """The exercises of one lesson: `exercises("01")` or `exercises("01_padding")`."""
    inner = registry.exercises(lesson)
    return ExerciseSet(inner.lesson, [LearnerExercise(ex) for ex in inner])
