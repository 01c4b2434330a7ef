"""Every registered exercise: the reference passes, each known-wrong answer fails with its named
misconception, and no bad input ever produces a traceback or a pass.

For a data exercise (cases + probe + judge, see AUTHORING.md) also: every misconception gets its
own sentence, exactly; no two misconceptions (nor a misconception and the reference) behave the
same on the cases; every differently written right answer passes; and all of it holds on cases
drawn from seeds the course never uses, as the grader's secret seed would draw them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_utils import checking, probing
from course_utils.checking import Status
from course_utils.judging import same_all
from course_utils.registry import all_exercises, exercises, lesson_ids

EXERCISES = all_exercises()
IDS = [f"{ex.lesson}/{ex.name}" for ex in EXERCISES]
DATA = EXERCISES  # every exercise is cases + probe + judge
DATA_IDS = [f"{ex.lesson}/{ex.name}" for ex in DATA]
MISCONCEPTIONS = [(ex, m) for ex in DATA for m in ex.misconceptions]
MISCONCEPTION_IDS = [f"{ex.lesson}/{ex.name}/{m.key}" for ex, m in MISCONCEPTIONS]
ALTERNATIVES = [(ex, k) for ex in DATA for k in range(len(ex.alternatives))]
ALTERNATIVE_IDS = [f"{ex.lesson}/{ex.name}/alternative-{k}" for ex, k in ALTERNATIVES]
# Seeds no lesson uses: the grader draws its cases from a secret seed like these.
UNSEEN_SEEDS = [7331]


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
    result = ex.evaluate(ex.reference_answer)
    assert result.status is Status.PASSED, result.message


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
def test_every_exercise_has_hints_and_named_wrong_answers(ex):
    assert len(ex.hints) >= 2, "give at least two hint tiers"
    assert ex.wrong_answers, "keep known-wrong answers next to the reference"
    assert ex.solution().code.strip()


def _verdict_on(ex, misconception, seed):
    """The verdict on a named wrong answer, as `evaluate` gives it. The judge ran every
    misconception's answer on the seed's cases when it was built (`Exercise.judge_for`), so its
    observations are judged here rather than observed a second time (the next test keeps the
    two the same); a judge that measures instead (lesson 08's repair) keeps none, and the answer
    is evaluated."""
    judge = ex.judge_for(seed)
    for known, observed in judge.misconceptions:
        if known.key == misconception.key:
            return judge(observed)
    return ex.evaluate(ex.resolve(misconception.answer), seed=seed)


@pytest.mark.parametrize(("ex", "misconception"), MISCONCEPTIONS, ids=MISCONCEPTION_IDS)
def test_each_misconception_fails_with_its_own_sentence_revealing_no_answer(
    ex, misconception, progress_file
):
    """On the public cases and on cases from a seed the course never uses: the named wrong answer
    fails with exactly its misconception's sentence, which shows no array and, for a value
    answer, none of the expected numbers."""
    for seed in [None, *UNSEEN_SEEDS]:
        result = _verdict_on(ex, misconception, seed)
        assert result.status is Status.FAILED, (seed, f"{misconception.key} passed")
        assert result.message == misconception.says, (seed, result.message)
        message = result.message
        assert not re.search(r"\[\s*-?\d", message) and "array(" not in message, message
        if not callable(ex.reference_answer):
            for value in np.asarray(ex.reference_answer, dtype=float).ravel():
                assert f"{value:g}" not in message


# Exercises whose judge compares observations (not lesson 08's repair, whose judge measures).
COMPARED = [ex for ex in DATA if type(ex).judge_for is checking.Exercise.judge_for]


@pytest.mark.parametrize("ex", COMPARED, ids=[f"{ex.lesson}/{ex.name}" for ex in COMPARED])
def test_a_misconception_observed_again_is_observed_the_same(ex, progress_file):
    """What the test above relies on: running a wrong answer again gives the observations its
    judge holds, and `evaluate` on it gives the same sentence as the judge on those."""
    judge = ex.judge_for(None)
    misconception, held = judge.misconceptions[-1]
    answer = ex.resolve(misconception.answer)
    assert same_all(ex.observe(answer, ex.cases_for(None)), held, **judge.tolerance)
    assert ex.evaluate(answer).message == judge(held).message == misconception.says


@pytest.mark.parametrize("ex", EXERCISES, ids=IDS)
@pytest.mark.parametrize("bad", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_gets_a_sentence_not_a_traceback(ex, bad, progress_file, monkeypatch):
    ex.judge_for(None)  # the judge's own observations, before the limit is shortened
    # A short limit for the answer: the endless loop spins until it runs out (26 of them).
    monkeypatch.setattr(probing, "DEFAULT_CALL_TIMEOUT", 0.25)
    result = ex.evaluate(BAD_INPUTS[bad])
    assert isinstance(result, checking.Result)
    assert result.status is not Status.PASSED
    assert "Traceback" not in result.message and 'File "' not in result.message
    assert result.message.strip()


# --------------------------------------------------------------------------- data exercises


@pytest.mark.parametrize("ex", DATA, ids=DATA_IDS)
def test_misconceptions_are_told_apart_on_the_cases(ex):
    judge = ex.judge_for(None)
    seen = [("the reference", judge.reference)]
    for misconception, observed in judge.misconceptions:
        for name, other in seen:
            assert not same_all(observed, other, **judge.tolerance), (
                f"{misconception.key} behaves exactly like {name} on every case: add a case "
                "that tells them apart"
            )
        seen.append((misconception.key, observed))
    keys = [m.key for m in ex.misconceptions]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("ex", DATA, ids=DATA_IDS)
def test_a_data_exercise_has_a_differently_written_right_answer(ex):
    assert ex.alternatives, "add at least one right answer written differently from the reference"
    assert len(ex.misconceptions) >= 2, "name the commonest mistakes as misconceptions"


@pytest.mark.parametrize(("ex", "k"), ALTERNATIVES, ids=ALTERNATIVE_IDS)
def test_differently_written_right_answer_passes(ex, k):
    for seed in [None, *UNSEEN_SEEDS]:
        result = ex.evaluate(ex.alternative_answers[k], seed=seed)
        assert result.status is Status.PASSED, (seed, result.message)


@pytest.mark.parametrize("ex", DATA, ids=DATA_IDS)
def test_reference_passes_on_unseen_seeds(ex):
    for seed in UNSEEN_SEEDS:
        result = ex.evaluate(ex.reference_answer, seed=seed)
        assert result.status is Status.PASSED, (seed, result.message)
