"""Per-lesson metadata, in one place: title, objectives, prerequisites and time estimates.

Each lesson module (`course_utils/lessons/lNN_slug.py`) defines `TITLE`, `OBJECTIVES`,
`PREREQUISITES`, `MINUTES` (the lecture) and `EXERCISE_MINUTES`. A lecture notebook's first cell
is exactly `header_markdown(lesson)`, and the instructor guide reads the same values, so the two
cannot disagree (tests/test_curriculum.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import _load, lesson_ids


@dataclass(frozen=True)
class LessonInfo:
    lesson: str  # "NN_slug"
    title: str
    objectives: tuple[str, ...]
    prerequisites: str
    minutes: int
    exercise_minutes: int

    @property
    def number(self) -> str:
        return self.lesson[:2]


def lesson_info(lesson: str | int) -> LessonInfo:
    """The metadata of one lesson (`"01"`, `"01_padding"` or `1`)."""
    module = _load(lesson)
    return LessonInfo(
        lesson=module.LESSON,
        title=module.TITLE,
        objectives=tuple(module.OBJECTIVES),
        prerequisites=module.PREREQUISITES,
        minutes=int(module.MINUTES),
        exercise_minutes=int(module.EXERCISE_MINUTES),
    )


def all_lessons() -> list[LessonInfo]:
    return [lesson_info(lesson) for lesson in lesson_ids()]


def header_markdown(lesson: str | int) -> str:
    """The first cell of the lecture notebook: title, objectives, prerequisites, time."""
    info = lesson_info(lesson)
    objectives = "\n".join(f"- {line}" for line in info.objectives)
    return (
        f"# {info.number} · {info.title}\n\n"
        f"**Learning objectives.** After this notebook you can\n{objectives}\n\n"
        f"**Prerequisites.** {info.prerequisites}\n\n"
        f"**Estimated time.** {info.minutes} minutes for this lecture, "
        f"{info.exercise_minutes} minutes for its exercises."
    )
