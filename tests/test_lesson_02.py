"""Lesson 02 beyond the generic exercise tests: the graders' model of `Masking` and of the loss
is the installed Keras's, and the lecture shows its per-step loss plot."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from course_utils import exercises
from course_utils.answers import l02_masking_layer as answers
from course_utils.checking import Status
from course_utils.lessons import l02_masking_layer as lesson

q = exercises("02")


def _says(exercise, key):
    return next(m.says for m in exercise.misconceptions if m.key == key)


def test_predicted_mask_reference_is_what_keras_masking_computes():
    import keras

    x, mask_value = lesson.predict_case()
    keras_mask = keras.ops.convert_to_numpy(keras.layers.Masking(mask_value).compute_mask(x))
    np.testing.assert_array_equal(np.asarray(answers.PREDICTED_MASK), keras_mask)


def test_predicted_mask_accepts_a_numpy_bool_array(progress_file):
    assert q.predicted_mask.check(np.array(answers.PREDICTED_MASK)).passed


def test_predicted_mask_rejects_a_function_with_a_sentence(progress_file):
    result = q.predicted_mask.check(lambda: answers.PREDICTED_MASK)
    assert result.status is Status.FAILED and "you passed a function" in result.message


def test_predicted_mask_counts_the_wrong_steps_without_naming_them(progress_file):
    one_wrong = [row[:] for row in answers.PREDICTED_MASK]
    one_wrong[1][3] = not one_wrong[1][3]
    result = q.predicted_mask.check(one_wrong)
    assert result.status is Status.FAILED
    assert result.message.startswith("one step is wrong")


def test_predicted_mask_asks_for_a_nested_list_when_given_a_dict(progress_file):
    result = q.predicted_mask.check({"mask": answers.PREDICTED_MASK})
    assert result.status is Status.FAILED and "nested list" in result.message


def test_binary_crossentropy_steps_matches_keras():
    import keras

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(3, 4, 1)).astype("float32")
    y_pred = rng.uniform(0.01, 0.99, size=(3, 4, 1)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(y_true, y_pred))
    np.testing.assert_allclose(
        answers.binary_crossentropy_steps(y_true, y_pred), expected, rtol=1e-5
    )


EVAL_CASES = q.evaluate_by_hand.cases_for(None) + q.evaluate_by_hand.cases_for(7331)


@pytest.mark.parametrize("case", EVAL_CASES, ids=[c.note for c in EVAL_CASES])
def test_evaluate_by_hand_reference_equals_model_evaluate(case):
    """The number the check expects is the one `evaluate` reports for a Masking model."""
    import keras

    x, y_true, _ = case.args
    mask_value = case.kwargs["mask_value"]
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.Masking(mask_value),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy")
    y_pred = model.predict(x, verbose=0)
    evaluated = model.evaluate(x, y_true, verbose=0)
    np.testing.assert_allclose(
        answers.evaluate_by_hand(x, y_true, y_pred, mask_value), evaluated, rtol=1e-5
    )


def test_eval_cases_contain_a_step_with_one_feature_equal_to_mask_value():
    for case in EVAL_CASES:
        x, mask_value = case.args[0], case.kwargs["mask_value"]
        partial = np.any(x == mask_value, axis=-1) & ~np.all(x == mask_value, axis=-1)
        assert partial.any()


def test_evaluate_by_hand_dividing_by_the_number_of_steps_gets_its_own_sentence(progress_file):
    def evaluate_by_hand(x, y_true, y_pred, mask_value=0.0):
        mask = np.any(x != mask_value, axis=-1)
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        losses = np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)
        return np.sum(losses * mask) / mask.size

    result = q.evaluate_by_hand.check(evaluate_by_hand)
    assert result.message == _says(q.evaluate_by_hand, "divides by all steps")
    assert "number of steps" in result.message


def test_evaluate_by_hand_dividing_by_the_batch_size_gets_its_own_sentence(progress_file):
    def evaluate_by_hand(x, y_true, y_pred, mask_value=0.0):
        mask = np.any(x != mask_value, axis=-1)
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        losses = np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)
        return np.sum(losses * mask) / len(x)

    result = q.evaluate_by_hand.check(evaluate_by_hand)
    assert result.message == _says(q.evaluate_by_hand, "divides by the batch size")
    assert "batch size" in result.message


WRONGLY_MASKED_CASES = q.wrongly_masked.cases_for(None) + q.wrongly_masked.cases_for(101)


def test_wrongly_masked_cases_each_hide_a_real_step_so_all_false_fails(progress_file):
    for case in WRONGLY_MASKED_CASES:
        assert answers.wrongly_masked(*case.args, **case.kwargs).any(), case.note
    result = q.wrongly_masked.check(lambda x, lengths, mask_value=0.0: np.zeros(x.shape[:2], bool))
    assert result.status is Status.FAILED


def test_wrongly_masked_reference_agrees_with_keras_masking():
    import keras

    for case in WRONGLY_MASKED_CASES:
        (x, lengths), mask_value = case.args, case.kwargs["mask_value"]
        kept = keras.ops.convert_to_numpy(keras.layers.Masking(mask_value).compute_mask(x))
        real = np.arange(x.shape[1])[None, :] < lengths[:, None]
        np.testing.assert_array_equal(answers.wrongly_masked(x, lengths, mask_value), real & ~kept)


def test_lecture_displays_the_timestep_losses_plot(root):
    nb = nbformat.read(root / "notebooks" / "02_masking_layer.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "timestep_losses(" in c.source]
    assert any("image/png" in output.get("data", {}) for cell in cells for output in cell.outputs)


LECTURE = "02_masking_layer.ipynb"


def test_the_installed_source_the_lecture_quotes_is_still_there():
    from lecture_claims import quoted_source_problems

    assert not quoted_source_problems(lesson.QUOTED_SOURCE)


def test_every_source_the_lecture_names_is_listed_in_quoted_source(root):
    from lecture_claims import string_excerpts

    assert string_excerpts(root / "notebooks" / LECTURE) <= set(lesson.QUOTED_SOURCE)


def test_lecture_ends_with_a_verdict_table_citing_its_cells(root):
    from lecture_claims import verdict_rows

    rows = verdict_rows(root / "notebooks" / LECTURE)
    compile_row = [row for row in rows if "compute_mask()" in row["advice (thread)"]]
    assert compile_row and compile_row[0]["verdict"] == "changed"


def test_the_quoted_keras2_line_keeps_its_epsilon(root):
    nb = nbformat.read(root / "notebooks" / LECTURE, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "score_array /= K.mean(mask) + K.epsilon()" in text


def test_neither_version_calls_model_compute_mask_to_mask_the_loss():
    """The premise of the lecture's "changed" verdict on thread 001's account of compile()."""
    import keras
    import tensorflow as tf
    import tf_keras

    from course_utils.data import padded_feature_batch

    x, y_true, mask = padded_feature_batch([4, 2], steps=4, features=2, seed=0)
    for api in (keras, tf_keras):
        api.utils.set_random_seed(0)
        model = api.Sequential(
            [
                api.Input((4, 2)),
                api.layers.Masking(0.0),
                api.layers.Dense(1, activation="sigmoid"),
            ]
        )
        calls, original = [], model.compute_mask
        model.compute_mask = lambda *a, _o=original, _c=calls, **k: _c.append(1) or _o(*a, **k)
        model.compile(loss="binary_crossentropy", run_eagerly=True)
        evaluated = model.evaluate(x, y_true, verbose=0)
        steps = np.asarray(api.losses.binary_crossentropy(y_true, model(tf.constant(x))))
        assert calls == []
        np.testing.assert_allclose(evaluated, steps[mask].mean(), rtol=1e-5)
