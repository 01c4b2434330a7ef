"""Lesson metadata lives in one place: every lecture opens with exactly its generated header."""

from __future__ import annotations

import nbformat
import pytest

from course_utils.curriculum import all_lessons, header_markdown
from course_utils.registry import lesson_ids


@pytest.mark.parametrize("lesson", lesson_ids())
def test_lecture_opens_with_the_lessons_header(root, lesson):
    nb = nbformat.read(root / "notebooks" / f"{lesson}.ipynb", as_version=4)
    assert nb.cells[0].source == header_markdown(lesson), (
        f"notebooks/{lesson}.ipynb: first cell differs from course_utils.curriculum.header_markdown"
        f"({lesson!r}); edit the lesson module's TITLE/OBJECTIVES/MINUTES and paste the header"
    )


def test_every_lecture_has_a_lesson_module(root):
    lectures = sorted(p.stem for p in (root / "notebooks").glob("*.ipynb"))
    assert lectures == lesson_ids()


def test_each_lesson_states_objectives_and_positive_times():
    for info in all_lessons():
        assert info.objectives and info.minutes > 0 and info.exercise_minutes > 0
