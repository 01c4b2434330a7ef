"""Mask inspection: traces read the masks Keras really attaches, and source excerpts come from
the installed packages (so a function that moves or vanishes on upgrade fails here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_utils.masks import (  # noqa: E402
    CHANGES,
    CONSUMES,
    CREATES,
    DROPS,
    NO_MASK,
    PASSES,
    MaskTrace,
    SourceExcerpt,
    layer_output_mask,
    source_excerpt,
    trace_masks,
)

IDS = np.array([[4, 2, 7, 0, 0], [5, 1, 0, 0, 0]])


def _model(*layers, input_shape=(5,), dtype="int32"):
    inputs = keras.Input(input_shape, dtype=dtype)
    x = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for layer in layers:
            x = layer(x)
    return keras.Model(inputs, x, name="probe")


class _HalfMask(keras.layers.Layer):
    """Passes values through and keeps only the first two steps of the mask."""

    def call(self, inputs):
        return inputs + 0.0

    def compute_mask(self, inputs, mask=None):
        return keras.ops.logical_and(mask, keras.ops.arange(5) < 2)


def test_trace_reports_creates_passes_and_the_output_mask():
    model = _model(
        keras.layers.Embedding(10, 3, mask_zero=True, name="embedding"),
        keras.layers.LSTM(2, return_sequences=True, name="lstm"),
        keras.layers.Dense(2, name="dense"),
    )
    trace = trace_masks(model, IDS)
    assert trace.verdicts() == {"embedding": CREATES, "lstm": PASSES, "dense": PASSES}
    np.testing.assert_array_equal(trace.output_mask, IDS != 0)
    assert trace["lstm"].mask_in == (2, 5) and trace["lstm"].mask_out == (2, 5)
    np.testing.assert_array_equal(trace["embedding"].mask_out_value, IDS != 0)


def test_trace_tells_consumes_from_drops_by_the_call_signature():
    consumed = trace_masks(
        _model(
            keras.layers.Embedding(10, 3, mask_zero=True, name="embedding"),
            keras.layers.GlobalAveragePooling1D(name="pool"),
        ),
        IDS,
    )
    dropped = trace_masks(
        _model(
            keras.layers.Embedding(10, 3, mask_zero=True, name="embedding"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(2, name="dense"),
        ),
        IDS,
    )
    assert consumed["pool"].verdict == CONSUMES and consumed["pool"].uses_mask_arg
    assert dropped["flatten"].verdict == DROPS and not dropped["flatten"].supports_masking
    assert "does not support masking" in dropped["flatten"].warning
    assert dropped["dense"].verdict == NO_MASK and dropped.output_mask is None


def test_trace_sees_a_changed_mask_and_skips_bare_ops():
    inputs = keras.Input((5,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True, name="embedding")(inputs)
    x = _HalfMask(name="half")(x)
    x = x + 1.0  # a bare op: runs, gets no row, and loses the mask
    x = keras.layers.Dense(2, name="dense")(x)
    trace = trace_masks(keras.Model(inputs, x), IDS)
    assert [row.name for row in trace] == ["embedding", "half", "dense"]
    assert trace["half"].verdict == CHANGES
    assert trace["dense"].verdict == NO_MASK


def test_trace_outputs_equal_the_models_own_call():
    model = _model(
        keras.layers.Embedding(10, 3, mask_zero=True), keras.layers.LSTM(2, return_sequences=True)
    )
    trace = trace_masks(model, IDS)
    np.testing.assert_array_equal(trace.output_mask, np.asarray(model(IDS)._keras_mask))


def test_trace_refuses_what_is_not_a_functional_model():
    with pytest.raises(TypeError, match="functional keras.Model"):
        trace_masks(keras.layers.Dense(2), IDS)
    with pytest.raises(ValueError, match="takes 1 input"):
        trace_masks(_model(keras.layers.Dense(2), input_shape=(3,), dtype="float32"), [IDS, IDS])


def test_mask_trace_views_show_every_layer_and_warning():
    trace = trace_masks(
        _model(
            keras.layers.Masking(0.0, name="masking"),
            keras.layers.RepeatVector(2, name="repeat"),
            input_shape=(3,),
            dtype="float32",
        ),
        np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]),
    )
    text, page = repr(trace), trace._repr_html_()
    for word in ("masking", "repeat", "RepeatVector", CREATES, DROPS, "does not support masking"):
        assert word in text and word in page
    assert "warning from repeat" in text
    assert isinstance(trace, MaskTrace) and len(trace) == 2
    with pytest.raises(KeyError, match="its layers are: masking, repeat"):
        trace["nope"]


def test_layer_output_mask_reads_the_mask_a_model_would_see():
    x = np.ones((2, 4, 3), dtype="float32")
    mask = np.array([[True, True, False, False], [True, False, False, False]])
    np.testing.assert_array_equal(layer_output_mask(keras.layers.Dense(2), x, mask), mask)
    assert layer_output_mask(keras.layers.LSTM(2), x, mask) is None
    assert layer_output_mask(keras.layers.Dense(2), x) is None


# ----------------------------------------------------------------------------- source excerpts

# Every function the lessons show. If an upgrade moves or removes one, these fail by name.
KERAS3_NAMES = {
    "keras.src.layers.layer.Layer.__call__": "keras.src.layers.layer.Layer.__call__",
    "keras.src.layers.layer.Layer._set_mask_metadata": (
        "keras.src.layers.layer.Layer._set_mask_metadata"
    ),
    "keras.src.models.functional.Functional._run_through_graph": (
        "keras.src.ops.function.Function._run_through_graph"
    ),
    "keras.src.models.functional.Functional.call": "keras.src.models.functional.Functional.call",
    "keras.src.layers.rnn.rnn.RNN.compute_mask": "keras.src.layers.rnn.rnn.RNN.compute_mask",
}
KERAS2_NAMES = {
    "tf_keras.src.engine.functional.Functional._run_internal_graph": (
        "tf_keras.src.engine.functional.Functional._run_internal_graph"
    ),
    "tf_keras.src.engine.functional.Functional.compute_mask": (
        "tf_keras.src.engine.functional.Functional.compute_mask"
    ),
}


@pytest.mark.parametrize("dotted", list(KERAS3_NAMES))
def test_keras3_functions_the_lessons_show_still_exist(dotted):
    excerpt = source_excerpt(dotted)
    assert excerpt.defined_in == KERAS3_NAMES[dotted]
    assert excerpt.file.startswith("keras/src/") and excerpt.lines


@pytest.mark.parametrize("dotted", list(KERAS2_NAMES))
def test_tf_keras_functions_the_lessons_show_still_exist(dotted):
    pytest.importorskip("tf_keras")
    excerpt = source_excerpt(dotted)
    assert excerpt.defined_in == KERAS2_NAMES[dotted]
    assert excerpt.file == "tf_keras/src/engine/functional.py"


def test_keras3_layer_call_attaches_the_mask_through_set_mask_metadata():
    call = source_excerpt("keras.src.layers.layer.Layer.__call__").text
    metadata = source_excerpt("keras.src.layers.layer.Layer._set_mask_metadata").text
    assert "self._set_mask_metadata(" in call
    assert "self.compute_mask(inputs, previous_mask)" in metadata
    assert "backend.set_keras_mask(tensor, mask)" in metadata


def test_keras2_layer_call_also_attaches_the_mask_through_set_mask_metadata():
    pytest.importorskip("tf_keras")
    call = source_excerpt("tf_keras.src.engine.base_layer.Layer.__call__").text
    metadata = source_excerpt("tf_keras.src.engine.base_layer.Layer._set_mask_metadata").text
    assert "self._set_mask_metadata(" in call
    assert "self.compute_mask(inputs, previous_mask)" in metadata


def test_keras2_model_compute_mask_runs_the_internal_graph():
    tf_keras = pytest.importorskip("tf_keras")
    inputs = tf_keras.Input((3,))
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(2)(inputs))  # a Functional instance

    excerpt = source_excerpt(type(model).compute_mask)
    assert excerpt.defined_in == "tf_keras.src.engine.functional.Functional.compute_mask"
    assert "self._run_internal_graph(inputs, mask=mask)" in excerpt.text


def test_a_vanished_name_raises_attribute_error():
    with pytest.raises(AttributeError):
        source_excerpt("keras.src.layers.layer.Layer._no_such_method_anywhere")
    with pytest.raises(ImportError):
        source_excerpt("no_such_package_at_all.thing")


def test_trimmed_excerpt_keeps_the_signature_and_mask_lines_with_real_line_numbers():
    import inspect

    from keras.src.layers.layer import Layer

    excerpt = source_excerpt("keras.src.layers.layer.Layer.__call__", only="mask")
    assert excerpt.trimmed and isinstance(excerpt, SourceExcerpt)
    assert any("def __call__" in text for _, text in excerpt.lines)
    body = [text for _, text in excerpt.lines if "def __call__" not in text and "@" not in text]
    assert all("mask" in text.lower() for text in body)
    lines, first = inspect.getsourcelines(inspect.unwrap(Layer.__call__))
    for number, text in excerpt.lines:
        assert lines[number - first].rstrip("\n") == text
    assert "..." in repr(excerpt) and "lines that mention masks" in excerpt._repr_html_()


def test_excerpt_accepts_the_object_itself():
    from keras.src.layers.rnn.rnn import RNN

    by_name = source_excerpt("keras.src.layers.rnn.rnn.RNN.compute_mask")
    by_object = source_excerpt(RNN.compute_mask)
    assert by_name.lines == by_object.lines
    assert "mask if self.return_sequences else None" in by_object.text


def test_an_excerpt_trimmed_to_other_words_names_them_in_its_title():
    excerpt = source_excerpt(
        "keras.src.backend.tensorflow.rnn._assert_valid_mask", only=("tf.Assert", "valid =")
    )
    title = repr(excerpt).splitlines()[0]
    assert "lines that mention 'tf.Assert' or 'valid ='" in title
    assert "lines that mention masks" not in title
    assert excerpt.kept_words == ("tf.Assert", "valid =")
