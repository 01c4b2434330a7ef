"""The check API: results, hints, solutions, and learner calls that fail safely."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import checking
from course_utils.checking import (
    Exercise,
    Mistake,
    NotAttempted,
    Result,
    Status,
    as_array,
    as_number,
    call_learner,
)
from course_utils.learner import LearnerExercise


def _exercise(grader=lambda answer: None, hints=("first", "second")):
    return Exercise(
        lesson="99_demo",
        name="demo",
        answer_name="demo",
        grader=grader,
        hints=list(hints),
        reference=lambda: 1,
    )


def test_result_text_names_status_lesson_exercise_and_message():
    result = Result("01_padding", "pad_batch", Status.FAILED, "you padded at the front")
    assert repr(result) == "❌ Not yet [01_padding / pad_batch]: you padded at the front"


def test_result_html_escapes_the_message():
    result = Result("01_padding", "pad_batch", Status.PASSED, "<b>ok</b>")
    assert "&lt;b&gt;ok&lt;/b&gt;" in result._repr_html_()
    assert "course-check-passed" in result._repr_html_()


def test_check_of_ellipsis_or_none_is_not_attempted(progress_file):
    ex = _exercise()
    assert ex.evaluate(...).status is Status.NOT_ATTEMPTED
    assert ex.evaluate(None).status is Status.NOT_ATTEMPTED


def test_check_turns_a_grader_mistake_into_a_failed_result(progress_file):
    def grader(answer):
        raise Mistake("your mean divides by all 10 steps")

    result = _exercise(grader).evaluate(1)
    assert result.status is Status.FAILED
    assert result.message == "your mean divides by all 10 steps"


def test_check_never_lets_an_unforeseen_checker_error_escape(progress_file):
    def grader(answer):
        return {}[answer]  # KeyError inside the checker

    result = _exercise(grader).evaluate("x")
    assert result.status is Status.FAILED
    assert "KeyError" in result.message and "Traceback" not in result.message


def test_passed_result_records_progress(progress_file):
    LearnerExercise(_exercise()).check(1)
    assert '"status": "passed"' in progress_file.read_text()


def test_hints_come_in_tiers_and_the_last_one_repeats():
    ex = _exercise(hints=("first", "second"))
    assert [ex.hint().text for _ in range(3)] == ["first", "second", "second"]
    assert repr(ex.hint()).startswith("💡 Hint 2 of 2")


def test_solution_shows_the_reference_source():
    def reference(x):
        return x + 1

    ex = _exercise()
    ex.reference = reference
    assert "return x + 1" in ex.solution().code


def test_call_learner_reports_the_learners_exception_as_a_sentence():
    def broken(x):
        raise ValueError("shapes do not match")

    with pytest.raises(Mistake, match="your function raised ValueError: shapes do not match"):
        call_learner(broken, 1)


def test_call_learner_treats_not_implemented_as_not_attempted():
    def stub(x):
        raise NotImplementedError

    with pytest.raises(NotAttempted):
        call_learner(stub, 1)


def test_call_learner_stops_an_endless_loop():
    def forever(x):
        while True:
            try:
                pass
            except Exception:  # a learner's catch-all must not swallow the time limit
                pass

    with pytest.raises(Mistake, match="did not finish within 0.5 seconds"):
        call_learner(forever, 1, timeout=0.5)


def test_call_learner_rejects_a_non_function():
    with pytest.raises(Mistake, match="expected a function"):
        call_learner(np.zeros(3))


@pytest.mark.parametrize(
    ("value", "kwargs", "says"),
    [
        (None, {}, "is None"),
        ([[1, 2], [3]], {}, "different length"),
        (np.zeros((2, 3)), {"shape": (2, 4)}, "has shape (2, 3), but it should have shape (2, 4)"),
        (np.zeros(3, dtype=int), {"kind": "bool"}, "should hold bool values"),
        (np.zeros(5), {"shape": (3,)}, "has shape (5,), but it should have shape (3,)"),
        (np.array([1.0, np.nan]), {}, "NaN"),
    ],
)
def test_as_array_names_the_problem(value, kwargs, says):
    with pytest.raises(Mistake) as err:
        as_array(value, **kwargs)
    assert says in str(err.value)


def test_as_array_reads_a_tensor():
    import tensorflow as tf

    assert as_array(tf.constant([1, 2]), kind="int").tolist() == [1, 2]


@pytest.mark.parametrize(
    ("value", "says"), [(True, "is a bool"), (np.ones(3), "single number"), ("7", "dtype")]
)
def test_as_number_rejects_non_numbers(value, says):
    with pytest.raises(Mistake, match=says):
        as_number(value)


def test_close_uses_a_tolerance():
    assert checking.close(1.0 + 1e-9, 1.0)
    assert not checking.close(1.01, 1.0)
    assert not checking.close([1.0, 2.0], [1.0])


def test_call_learner_compiled_traces_like_fit_with_an_unknown_batch_size():
    seen = []

    def loss(y_true, y_pred, scale):
        seen.append(tuple(y_true.shape))
        return scale * y_pred[:, 0]

    out = checking.call_learner_compiled(loss, np.zeros((2, 3)), np.ones((2, 3)), extra=(2.0,))
    assert seen == [(None, 3)]
    assert np.asarray(out).tolist() == [2.0, 2.0]


def test_numpy_on_a_symbolic_tensor_is_a_mistake_not_an_untouched_stub():
    def numpy_loss(y_true, y_pred):
        return np.mean(np.log(y_pred))

    with pytest.raises(Mistake, match="SymbolicNumpyUse"):
        checking.call_learner_compiled(numpy_loss, np.ones((2, 3)), np.ones((2, 3)))


def test_check_with_no_argument_finds_the_answer_in_the_notebook(progress_file, monkeypatch):
    from course_utils import learner

    ex = learner.exercises("00").count_real_tokens
    monkeypatch.setattr(learner, "_notebook_namespace", lambda: {})
    result = ex.check()
    assert (
        result.status is Status.NOT_ATTEMPTED
        and "define `count_real_tokens` above" in result.message
    )
    reference = ex.exercise.reference_answer
    monkeypatch.setattr(learner, "_notebook_namespace", lambda: {"count_real_tokens": reference})
    assert ex.check().passed


def test_checking_and_grading_do_not_import_progress():
    """The learner-facing API records progress; the exercise model and the grader never do."""
    import ast
    from pathlib import Path

    import course_utils

    root = Path(course_utils.__file__).parent
    for path in [
        root / "checking.py",
        root / "judging.py",
        root / "probing.py",
        root / "registry.py",
        *sorted((root / "grading").glob("*.py")),
    ]:
        tree = ast.parse(path.read_text())
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom | ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not any(n == "progress" or n.endswith(".progress") for n in names), path.name
