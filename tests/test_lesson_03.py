"""Lesson 03 checks: learner classes are instantiated and called safely, stubs read as "not
attempted", and the prediction answer key agrees with the masks Keras computes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from course_utils import checking, exercises
from course_utils.checking import Status
from course_utils.lessons import l03_mask_propagation as l03

keras = pytest.importorskip("keras")
ops = keras.ops

q = exercises("03")


class StubDouble(keras.layers.Layer):
    def call(self, inputs):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError


class StubMean(keras.layers.Layer):
    def call(self, inputs, mask=None):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError


class NumpyDouble(keras.layers.Layer):
    def call(self, inputs):
        return np.asarray(inputs) * 2.0

    def compute_mask(self, inputs, mask=None):
        return mask


class LoopingDouble(keras.layers.Layer):
    def call(self, inputs):
        while True:
            pass


class MeanWithoutMaskArgument(keras.layers.Layer):
    def call(self, inputs):
        return ops.mean(inputs, axis=1)


class InitNeedsArgument(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)


def test_untouched_stub_classes_are_not_attempted(progress_file):
    assert q.double_features.check(StubDouble).status is Status.NOT_ATTEMPTED
    assert q.masked_mean.check(StubMean).status is Status.NOT_ATTEMPTED


def test_an_instance_instead_of_the_class_gets_told_to_drop_the_parentheses(progress_file):
    result = q.double_features.check(NumpyDouble())
    assert result.status is Status.FAILED and "without parentheses" in result.message


def test_a_class_that_is_not_a_layer_is_refused(progress_file):
    result = q.masked_mean.check(dict)
    assert "must subclass keras.layers.Layer" in result.message


def test_an_init_that_needs_arguments_is_a_sentence(progress_file):
    result = q.double_features.check(InitNeedsArgument)
    assert result.status is Status.FAILED
    assert result.message.startswith("creating your layer raised TypeError")


def test_numpy_inside_call_is_reported_as_the_learners_error_not_as_not_attempted(progress_file):
    result = q.double_features.check(NumpyDouble)
    assert result.status is Status.FAILED
    assert "NotImplementedError" in result.message and "numpy" in result.message.lower()
    assert "\x1b" not in result.message and "Traceback" not in result.message


def test_a_layer_that_never_returns_is_stopped(progress_file, monkeypatch):
    monkeypatch.setattr(checking, "DEFAULT_CALL_TIMEOUT", 1.0)
    result = q.double_features.check(LoopingDouble)
    assert result.status is Status.FAILED and "did not finish" in result.message


def test_a_mean_without_a_mask_argument_is_told_it_counts_padding(progress_file):
    result = q.masked_mean.check(MeanWithoutMaskArgument)
    assert "padding included" in result.message


def test_predictions_as_integers_are_asked_for_booleans(progress_file):
    result = q.predict_kept_masks.check([1, 1, 1, 1, 0, 0])
    assert result.status is Status.FAILED and "bool" in result.message


def test_the_answer_key_matches_the_masks_keras_computes():
    from course_utils.masks import trace_masks

    trace = trace_masks(l03.prediction_model(), np.array([[1, 2, 0, 0, 0, 0]]))
    assert [trace[name].keeps_mask for name in l03.PREDICTION_LAYERS] == l03.KEEPS_MASK


def test_importing_the_lesson_does_not_import_keras():
    code = (
        "import sys, course_utils.lessons.l03_mask_propagation, "
        "course_utils.lessons.l04_return_sequences_drops_mask; print('keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
