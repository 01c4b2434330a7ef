"""The check API: results, hints, solutions, and learner calls that fail safely: an exercise
is cases, a probe that writes down what the answer did, and a judge that names the mistake."""

from __future__ import annotations

import time

import numpy as np
import pytest

from course_utils import probing
from course_utils.checking import Exercise, Result, Status
from course_utils.judging import Misconception, describe_difference
from course_utils.learner import LearnerExercise
from course_utils.probing import Case


def _double(x):
    return np.asarray(x) * 2


def _add_two(x):
    return np.asarray(x) + 2


def _exercise(hints=("first", "second"), probe=None):
    return Exercise(
        lesson="99_demo",
        name="demo",
        answer_name="demo",
        hints=list(hints),
        reference=_double,
        cases=[Case((np.array([2, 5]),), note="two numbers"), Case((np.array([3]),))],
        probe=probe,
        misconceptions=[Misconception("adds", _add_two, "you added 2 instead of doubling")],
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


def test_a_misconception_is_named_by_its_own_sentence():
    result = _exercise().evaluate(_add_two)
    assert result.status is Status.FAILED
    assert result.message == "you added 2 instead of doubling"


def test_an_unknown_wrong_answer_gets_the_fallback_naming_the_case():
    result = _exercise().evaluate(lambda x: np.asarray(x) * 3)
    assert result.status is Status.FAILED
    assert "two numbers" in result.message and "6" not in result.message


def test_check_never_lets_an_unforeseen_checker_error_escape(progress_file):
    def probe(answer, case):
        return {}[answer]  # KeyError inside the checker

    result = _exercise(probe=probe).evaluate("x")
    assert result.status is Status.FAILED
    assert "KeyError" in result.message and "Traceback" not in result.message


def test_passed_result_records_progress(progress_file):
    LearnerExercise(_exercise()).check(_double)
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
    assert "def demo(x):" in ex.solution().code and "return x + 1" in ex.solution().code


def _sentence(answer, *args, timeout=None):
    failed, value = probing.run(answer, Case(args), timeout=timeout)
    observed = failed if failed is not None else probing.observe_value(value)
    reference = probing.observe_value(np.zeros(3))
    return observed, describe_difference(observed, reference, what="your answer", timeout=timeout)


def test_a_learners_exception_becomes_a_sentence():
    def broken(x):
        raise ValueError("shapes do not match")

    _, says = _sentence(broken, 1)
    assert says == "your function raised ValueError: shapes do not match"


def test_not_implemented_reads_as_not_attempted():
    def stub(x):
        raise NotImplementedError

    observed, _ = _sentence(stub, 1)
    assert observed["outcome"] == "not_attempted"


def test_an_endless_loop_is_stopped_and_named():
    def forever(x):
        while True:
            try:
                pass
            except Exception:  # a learner's catch-all must not swallow the time limit
                pass

    _, says = _sentence(forever, 1, timeout=0.5)
    assert "did not finish within 0.5 seconds" in says


def test_a_non_function_is_named():
    _, says = _sentence(np.zeros(3))
    assert "expected a function" in says


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "is None"),
        ([[1, 2], [3]], "different length"),
        (np.zeros((2, 3)), "has shape (2, 3), but it should have shape (3,)"),
        (np.zeros(3, dtype=bool), "holds booleans, but it should hold floats"),
        (np.zeros(5), "has shape (5,), but it should have shape (3,)"),
        (np.array([1.0, np.nan, 0.0]), "NaN"),
        (7.0, "has shape (), but it should have shape (3,)"),
    ],
)
def test_a_returned_value_that_differs_in_kind_is_named(value, says):
    _, sentence = _sentence(lambda: value)
    assert says in sentence


def test_a_tensor_is_read_as_its_values():
    import tensorflow as tf

    observed = probing.observe_value(tf.constant([1, 2]))
    assert observed["value"] == [1, 2] and observed["kind"] == "i"


def test_a_loss_is_traced_like_fit_with_an_unknown_batch_size():
    seen = []

    def loss(y_true, y_pred, scale):
        seen.append(tuple(y_true.shape))
        return scale * y_pred[:, 0]

    failed, out = probing.compiled_call(loss, (np.zeros((2, 3)), np.ones((2, 3))), (2.0,))
    assert failed is None and seen == [(None, 3)]
    assert np.asarray(out).tolist() == [2.0, 2.0]


def test_only_the_course_s_own_answers_reuse_their_trace():
    """A judge's own observations (under `trusted()`) keep their trace per input shapes; a
    learner's function is traced at every call, so a global changed between two checks is seen
    (a kept trace would have frozen the old value in)."""
    traces, scale = [], {"now": 2.0}

    def loss(y_true, y_pred):
        traces.append(1)
        return scale["now"] * y_pred[:, 0]

    arrays = (np.zeros((2, 3)), np.ones((2, 3)))
    for now in (2.0, 3.0):
        scale["now"] = now
        failed, out = probing.compiled_call(loss, arrays)
        assert failed is None and np.asarray(out).tolist() == [now, now]
    assert len(traces) == 2

    traces.clear()
    with probing.trusted():
        probing.compiled_call(loss, arrays)
    probing.compiled_call(loss, arrays)  # the kept trace, replayed as a learner's call
    probing.compiled_call(loss, (np.zeros((2, 4)), np.ones((2, 4))))  # other shapes: traced
    assert len(traces) == 2


def test_numpy_on_a_symbolic_tensor_is_named_not_an_untouched_stub():
    def numpy_loss(y_true, y_pred):
        return np.mean(np.log(y_pred))

    failed, _ = probing.compiled_call(numpy_loss, (np.ones((2, 3)), np.ones((2, 3))))
    assert failed["error"] == "SymbolicNumpyUse"


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


def test_a_stall_while_the_judge_observes_the_reference_is_not_stored_as_its_timeout(
    monkeypatch,
):
    """The judge observes the course's own answers with `probing.TRUSTED_FACTOR` times the
    limit: a machine that stalls for a learner's limit (here the reference's first call takes
    twice that) still gets the reference's values, and a right answer passes."""
    monkeypatch.setattr(probing, "DEFAULT_CALL_TIMEOUT", 0.2)
    stalled = []

    def stalls_once(x):
        if not stalled:
            stalled.append(1)
            time.sleep(0.4)
        return _double(x)

    # Under a learner's limit the stall is a timeout ...
    assert probing.run(stalls_once, Case((np.array([1]),)))[0] == {"outcome": "timeout"}
    stalled.clear()
    ex = _exercise()
    ex.reference = stalls_once
    # ... while the judge waits it out, and a right answer passes.
    assert ex.judge_for(None).reference[0]["outcome"] == "value"
    assert stalled == [1]
    assert ex.evaluate(lambda x: np.asarray(x) * 2).status is Status.PASSED


def test_a_learners_answer_keeps_the_learners_limit():
    """Outside the judge's own observations a slow answer still runs out of time."""

    def slow():
        time.sleep(0.3)
        return 1

    assert probing.run(slow, Case(), timeout=0.1)[0] == {"outcome": "timeout"}
    with probing.trusted():
        assert probing.run(slow, Case(), timeout=0.1) == (None, 1)


def test_a_judge_built_in_one_thread_does_not_stretch_a_check_in_another():
    import threading

    seen = {}

    def learner():
        seen["observed"] = probing.run(lambda: time.sleep(0.3) or 1, Case(), timeout=0.1)[0]

    with probing.trusted():
        thread = threading.Thread(target=learner)
        thread.start()
        thread.join()
    assert seen["observed"] == {"outcome": "timeout"}
