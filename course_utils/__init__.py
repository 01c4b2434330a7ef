"""Helpers for the Keras masking course: graded checks, hints, progress and the self-check.

Learners use:
    from course_utils import exercises, progress, check_environment
    q = exercises("01")          # the lesson's exercises
    q.pad_batch.check(pad_batch)  # -> Result (passed / failed / not attempted)
    q.pad_batch.hint()            # tiered hints
    q.pad_batch.solution()
"""

from .checking import Exercise, Hint, Result, Solution, Status
from .environment import check_environment
from .learner import exercises, progress

__all__ = [
    "Exercise",
    "Hint",
    "Result",
    "Solution",
    "Status",
    "check_environment",
    "exercises",
    "progress",
]
