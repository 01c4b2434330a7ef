"""Lesson 03 checks: learner classes are instantiated and called safely, stubs read as "not
attempted", the prediction answer key agrees with the masks Keras computes, and issue 11's
misses for this lesson are handled."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from course_utils import exercises, probing
from course_utils.checking import Status
from course_utils.lessons import l03_mask_propagation as l03

keras = pytest.importorskip("keras")
ops = keras.ops

answers = pytest.importorskip("course_utils.answers.l03_mask_propagation")
q = exercises("03")


class StubReverse(keras.layers.Layer):
    def call(self, inputs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError


class StubMean(keras.layers.Layer):
    def call(self, inputs, mask=None):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError


class NumpyReverse(keras.layers.Layer):
    def call(self, inputs):
        return np.flip(np.asarray(inputs), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else ops.flip(mask, axis=1)


class LoopingReverse(keras.layers.Layer):
    def call(self, inputs):
        while True:
            pass


class InitNeedsArgument(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)


class Scale(keras.layers.Layer):
    """Lecture 03's `Scale`, copied as it is (its `compute_mask` hands the mask on)."""

    def call(self, inputs):
        return inputs * 0.5

    def compute_mask(self, inputs, mask=None):
        return mask


def _says(ex, key):
    return next(m.says for m in ex.misconceptions if m.key == key)


def test_untouched_stub_classes_are_not_attempted(progress_file):
    assert q.reverse_time.check(StubReverse).status is Status.NOT_ATTEMPTED
    assert q.masked_mean.check(StubMean).status is Status.NOT_ATTEMPTED


def test_an_instance_instead_of_the_class_gets_told_to_drop_the_parentheses(progress_file):
    result = q.reverse_time.check(answers.ReverseTime())
    assert result.status is Status.FAILED and "without parentheses" in result.message


def test_a_class_that_is_not_a_layer_is_refused(progress_file):
    result = q.masked_mean.check(dict)
    assert result.message == "your class dict must subclass keras.layers.Layer"


def test_an_init_that_needs_arguments_is_a_sentence(progress_file):
    result = q.reverse_time.check(InitNeedsArgument)
    assert result.status is Status.FAILED
    assert result.message.startswith("creating your layer raised TypeError")


def test_numpy_inside_call_is_reported_as_the_learners_error_not_as_not_attempted(progress_file):
    result = q.reverse_time.check(NumpyReverse)
    assert result.status is Status.FAILED
    assert result.message.startswith("your layer, called in a model")
    assert "NotImplementedError" in result.message and "numpy" in result.message.lower()
    assert "\x1b" not in result.message and "Traceback" not in result.message


def test_a_layer_that_never_returns_is_stopped(progress_file, monkeypatch):
    monkeypatch.setattr(probing, "DEFAULT_CALL_TIMEOUT", 1.0)
    result = q.reverse_time.check(LoopingReverse)
    assert result.status is Status.FAILED and "did not finish" in result.message


def test_a_mean_without_a_mask_argument_is_told_it_counts_padding(progress_file):
    result = q.masked_mean.check(answers.PlainMean)
    assert "padding included" in result.message


def test_predictions_as_integers_are_asked_for_booleans(progress_file):
    result = q.predict_kept_masks.check([1, 1, 1, 1, 0, 0])
    assert result.status is Status.FAILED and "bool" in result.message


def test_the_answer_key_matches_the_masks_keras_computes():
    from course_utils.masks import trace_masks

    trace = trace_masks(l03.prediction_model(), np.array([[1, 2, 0, 0, 0, 0]]))
    assert [trace[name].keeps_mask for name in l03.PREDICTION_LAYERS] == answers.keeps_mask


def test_the_layer_probe_returns_plain_data_only():
    for case in q.reverse_time.cases_for(None):
        for answer in (answers.ReverseTime, answers.NoComputeMask, StubReverse, 42):
            observed = l03.probe_layer(answer, case)
            assert json.loads(json.dumps(observed)) == observed


def test_importing_the_lesson_does_not_import_keras_or_the_answers():
    code = (
        "import sys, course_utils.lessons.l03_mask_propagation, "
        "course_utils.lessons.l04_return_sequences_drops_mask; "
        "print('keras' in sys.modules, 'course_utils.answers.l03_mask_propagation' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


# --------------------------------------------------------------------------- issue 11's misses


def test_masked_mean_without_compute_mask_is_rejected_for_the_mask_warning(progress_file):
    """Right values but no `compute_mask` override: Keras warns "will destroy the mask" on every
    call; the probe observes the warning and `supports_masking`, and the check names it."""
    case = q.masked_mean.cases_for(None)[0]
    observed = l03.probe_layer(answers.MeanWithoutComputeMask, case)
    reference = l03.probe_layer(answers.MaskedMean, case)
    np.testing.assert_allclose(observed["value"], reference["value"], rtol=1e-6)
    assert observed["extra"]["warned"] and not observed["extra"]["supports_masking"]
    assert not reference["extra"]["warned"] and reference["extra"]["supports_masking"]
    result = q.masked_mean.check(answers.MeanWithoutComputeMask)
    assert result.status is Status.FAILED
    assert result.message == _says(q.masked_mean, "no compute_mask")
    assert "will destroy the mask" in result.message


def test_masked_mean_gives_0_not_nan_for_an_all_padding_row(progress_file):
    """The rule of lesson 07's masked loss: a row with no real step gives 0, never NaN."""
    cases = q.masked_mean.cases_for(None)
    case = next(
        c
        for c in cases
        if c.args[1] is not None
        and not c.args[1].all(axis=1).all()
        and (~c.args[1].any(axis=1)).any()
    )
    empty_row = int(np.flatnonzero(~case.args[1].any(axis=1))[0])
    observed = l03.probe_layer(answers.MaskedMean, case)
    assert observed["value"][empty_row] == [0.0] * case.args[0].shape[-1]
    result = q.masked_mean.check(answers.NanForAnEmptyRow)
    assert result.status is Status.FAILED
    assert result.message == _says(q.masked_mean, "NaN for an all-padding row")


def test_predict_kept_masks_says_embedding_creates_the_mask_not_hands_it_on(progress_file):
    result = q.predict_kept_masks.check([False, True, True, True, False, False])
    assert result.status is Status.FAILED
    assert "creates" in result.message and "hands on" not in result.message
    result = q.predict_kept_masks.check(answers.embedding_only_passes)
    assert result.message == _says(q.predict_kept_masks, "embedding only hands on")
    for misconception in q.predict_kept_masks.misconceptions:
        assert "embedding" not in misconception.says.lower() or "creates" in misconception.says


def test_predict_kept_masks_evidence_is_what_the_lecture_explains(root):
    """The evidence printed before the prediction is each layer's class, output shape,
    `supports_masking` and `mask_zero`/`return_sequences` (lecture 03 explains each), not a
    `model.summary()` whose `not_equal` node no lecture explains; the text explains that node."""
    import nbformat

    rows = l03.prediction_evidence(l03.prediction_model())
    assert [row["name"] for row in rows] == list(l03.PREDICTION_LAYERS)
    assert all({"class", "output shape", "supports_masking"} <= set(row) for row in rows)
    assert rows[0]["mask_zero"] is True and rows[3]["return_sequences"] is True
    assert not any(
        "mask" in key and key != "supports_masking" and key != "mask_zero"
        for row in rows
        for key in row
    )  # the masks themselves are the answer
    nb = nbformat.read(root / "solutions" / "03_mask_propagation.ipynb", as_version=4)
    sources = {cell.id: cell.source for cell in nb.cells}
    assert "prediction_evidence(model)" in sources["c11"]
    assert "model.summary()" not in sources["c11"]
    assert "not_equal" in sources["c10"] and "ids != 0" in sources["c10"]


def test_double_features_cannot_be_solved_by_copying_the_lecture_cell(progress_file):
    """The old exercise (`* 2`, hand the mask on) was lecture 03's `Scale`; the new layer moves
    the steps, so a copied `Scale` fails, and so does handing on the mask unchanged."""
    assert "double_features" not in [ex.name for ex in q]
    assert q.reverse_time.check(Scale).status is Status.FAILED
    result = q.reverse_time.check(answers.HandsOnTheSameMask)
    assert result.message == _says(q.reverse_time, "hands on the same mask")


LECTURE = "03_mask_propagation.ipynb"


def test_the_installed_source_the_lecture_quotes_is_still_there():
    from lecture_claims import quoted_source_problems

    assert not quoted_source_problems(l03.QUOTED_SOURCE)


def test_every_source_the_lecture_names_is_listed_in_quoted_source(root):
    from lecture_claims import string_excerpts

    assert string_excerpts(root / "notebooks" / LECTURE) <= set(l03.QUOTED_SOURCE)


def test_lecture_ends_with_a_verdict_table_citing_its_cells(root):
    from lecture_claims import verdict_rows

    rows = verdict_rows(root / "notebooks" / LECTURE)
    assert len(rows) >= 3


def test_source_reading_sections_are_marked_skim_and_predictions_come_first(root):
    import nbformat

    nb = nbformat.read(root / "notebooks" / LECTURE, as_version=4)
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert sum("(source reading: skim)" in h for h in headings) == 2
    traces = (
        "trace = trace_masks(model",
        "pooling_trace = trace_masks(",
        "fixed_trace = trace_masks(",
    )
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.find("trace_masks(") >= 0:
            if any(name in cell.source for name in traces):
                # asked before it is shown; the verdicts are asserted in a later cell
                assert "**Predict**" in nb.cells[i - 1].source, cell.id
                assert "verdicts()" not in cell.source, cell.id
