"""Every registered exercise: the reference passes, each known-wrong answer fails with its named
misconception, and no bad input ever produces a traceback or a pass."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_utils import checking
from course_utils.checking import Status
from course_utils.registry import all_exercises, exercises, lesson_ids

EXERCISES = all_exercises()
IDS = [f"{ex.lesson}/{ex.name}" for ex in EXERCISES]
WRONG = [(ex, wrong) for ex in EXERCISES for wrong in ex.wrong_answers]
WRONG_IDS = [f"{ex.lesson}/{ex.name}/{wrong.name}" for ex, wrong in WRONG]


def _raises_not_implemented(*args, **kwargs):
    raise NotImplementedError


def _raises_value_error(*args, **kwargs):
    raise ValueError("learner bug")


def _returns_none(*args, **kwargs):
    return None


def _returns_nan(*args, **kwargs):
    return np.full((3, 4), np.nan)


def _returns_string(*args, **kwargs):
    return "an answer"


def _loops_forever(*args, **kwargs):
    while True:
        pass


def _wrong_signature():
    return 1


BAD_INPUTS = {
    "ellipsis": ...,
    "None": None,
    "an int": 42,
    "a string": "text",
    "a dict": {"a": 1},
    "an empty list": [],
    "a ragged list": [[1, 2], [3]],
    "a NaN array": np.array([np.nan, 1.0]),
    "a 3-d array": np.zeros((2, 3, 4)),
    "a stub raising NotImplementedError": _raises_not_implemented,
    "a function raising ValueError": _raises_value_error,
    "a function returning None": _returns_none,
    "a function returning NaN": _returns_nan,
    "a function returning a string": _returns_string,
    "a function with the wrong signature": _wrong_signature,
    "a function that never returns": _loops_forever,
}


def test_every_lesson_has_exercises():
    assert lesson_ids(), "no lessons registered"
    for lesson in lesson_ids():
        assert len(exercises(lesson)) >= 1


def test_exercise_names_are_unique_within_a_lesson():
    keys = [(ex.lesson, ex.name) for ex in EXERCISES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_reference_answer_passes(ex, progress_file):
    result = ex.check(ex.reference)
    assert result.status is Status.PASSED, result.message


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_every_exercise_has_hints_and_named_wrong_answers(ex):
    assert len(ex.hints) >= 2, "give at least two hint tiers"
    assert ex.wrong_answers, "keep known-wrong answers next to the reference"
    assert ex.solution().code.strip()


@pytest.mark.parametrize(("ex", "wrong"), WRONG, ids=WRONG_IDS)
def test_wrong_answer_fails_naming_the_misconception_without_revealing_the_answer(
    ex, wrong, progress_file
):
    result = ex.check(wrong.answer)
    assert result.status is Status.FAILED, f"{wrong.name} was not rejected: {result.message}"
    assert wrong.says in result.message
    message = result.message
    # No array printout ("[1 2 3]", "array(") in any message ...
    assert not re.search(r"\[\s*-?\d", message) and "array(" not in message, message
    # ... and for value answers, none of the expected numbers.
    if not callable(ex.reference):
        for value in np.asarray(ex.reference, dtype=float).ravel():
            assert f"{value:g}" not in message


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
@pytest.mark.parametrize("bad", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_gets_a_sentence_not_a_traceback(ex, bad, progress_file, monkeypatch):
    monkeypatch.setattr(checking, "DEFAULT_CALL_TIMEOUT", 1.0)
    result = ex.check(BAD_INPUTS[bad])
    assert isinstance(result, checking.Result)
    assert result.status is not Status.PASSED
    assert "Traceback" not in result.message and 'File "' not in result.message
    assert result.message.strip()
