"""Lesson 01 beyond the generic exercise tests: the graders agree with Keras, accept the
idiomatic answers, and the lecture shows its mask heatmap."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from course_utils import exercises
from course_utils.answers import l01_padding as answers
from course_utils.checking import Status
from course_utils.lessons import l01_padding as lesson

q = exercises("01")


@pytest.mark.parametrize(("seqs", "maxlen"), lesson.PAD_CASES)
def test_reference_pad_batch_matches_keras_pad_sequences_post_post(seqs, maxlen):
    import keras

    expected = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="post", truncating="post")
    np.testing.assert_array_equal(answers.pad_batch(seqs, maxlen), expected)


def test_pad_batch_check_accepts_the_keras_one_liner(progress_file):
    import keras

    def pad_batch(seqs, maxlen):
        return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="post", truncating="post")

    assert q.pad_batch.check(pad_batch).passed


def test_pad_batch_check_rejects_keras_defaults_as_front_padding(progress_file):
    import keras

    def pad_batch(seqs, maxlen):
        return keras.utils.pad_sequences(seqs, maxlen=maxlen)

    result = q.pad_batch.check(pad_batch)
    assert result.status is Status.FAILED and "padded at the front" in result.message


def test_pad_batch_padding_with_an_unused_value_is_told_to_use_zero(progress_file):
    import keras

    def pad_batch(seqs, maxlen):
        return keras.utils.pad_sequences(
            seqs, maxlen=maxlen, padding="post", truncating="post", value=-1
        )

    result = q.pad_batch.check(pad_batch)
    assert result.status is Status.FAILED
    assert "pad with the reserved id 0" in result.message
    assert "also a real token id" not in result.message


# --------------------------------------------------------------------------- lengths_to_mask


def test_lengths_to_mask_reference_matches_the_batch_pad_sequences_returns():
    import keras

    for case in q.lengths_to_mask.cases_for(None) + q.lengths_to_mask.cases_for(7331):
        lengths, maxlen = case.args
        seqs = [[5] * int(n) for n in lengths]
        padding = case.kwargs["padding"]
        batch = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding=padding)
        np.testing.assert_array_equal(
            answers.lengths_to_mask(lengths, maxlen, padding=padding), batch != 0
        )


def test_lengths_to_mask_check_accepts_tf_sequence_mask_reversed_in_time(progress_file):
    import tensorflow as tf

    def lengths_to_mask(lengths, maxlen, padding="pre"):
        mask = tf.sequence_mask(lengths, maxlen)
        return mask if padding == "post" else tf.reverse(mask, [1])

    assert q.lengths_to_mask.check(lengths_to_mask).passed


def test_lengths_to_mask_cannot_be_solved_by_copying_the_lecture_cell(progress_file):
    """The lecture's post-padding rule, copied as it is, is named as the misconception it is."""

    def lengths_to_mask(lengths, maxlen, padding="pre"):
        return np.arange(maxlen)[None, :] < lengths[:, None]

    result = q.lengths_to_mask.check(lengths_to_mask)
    assert result.status is Status.FAILED
    assert result.message == _says(q.lengths_to_mask, "always post")


def test_lengths_to_mask_thread_001s_reverse_over_both_axes_is_named(progress_file):
    import tensorflow as tf

    def lengths_to_mask(lengths, maxlen, padding="pre"):
        mask = tf.sequence_mask(lengths, maxlen)
        return mask if padding == "post" else tf.reverse(mask, [0, 1])

    result = q.lengths_to_mask.check(lengths_to_mask)
    assert result.message == _says(q.lengths_to_mask, "reverses the batch too")


# --------------------------------------------------------------------------- mask_from_one_hot


def _says(exercise, key):
    return next(m.says for m in exercise.misconceptions if m.key == key)


def test_mask_from_one_hot_reference_matches_keras_masking_on_every_case():
    """On steps with one feature axis the reference is `Masking`'s mask; on steps with several,
    it is `Masking`'s mask of the steps flattened to one axis."""
    import keras

    for case in q.mask_from_one_hot.cases_for(None) + q.mask_from_one_hot.cases_for(101):
        (x,), mask_value = case.args, case.kwargs["mask_value"]
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        keras_mask = keras.ops.convert_to_numpy(keras.layers.Masking(mask_value).compute_mask(flat))
        np.testing.assert_array_equal(answers.mask_from_one_hot(x, mask_value), keras_mask)


def test_one_hot_case_has_a_placeholder_row_inside_a_word():
    x = lesson.one_hot_case()
    assert np.all(x[0, 2] == 0) and np.any(x[0, 3] != 0)  # 'ab#c': '#' then a real 'c'


def test_mask_from_one_hot_rejects_real_when_max_differs_from_mask_value(progress_file):
    """Issue 11: "real when max(features) != mask_value" was accepted; a step holding
    `mask_value` beside a smaller number (-1 and -3 with mask_value -1) is real."""
    x, mask_value = lesson.feature_case()
    assert answers.mask_from_one_hot(x, mask_value)[0, 2]  # the step -1, -3, -1 is real

    def mask_from_one_hot(x, mask_value=0.0):
        return np.max(x, axis=-1) != mask_value

    result = q.mask_from_one_hot.check(mask_from_one_hot)
    assert result.status is Status.FAILED
    assert result.message == _says(q.mask_from_one_hot, "max differs")


def test_mask_from_one_hot_rejects_real_when_max_above_mask_value(progress_file):
    """Issue 11: "real when max(features) > mask_value" was accepted; real features can all lie
    below `mask_value`."""

    def mask_from_one_hot(x, mask_value=0.0):
        return np.max(x, axis=-1) > mask_value

    result = q.mask_from_one_hot.check(mask_from_one_hot)
    assert result.status is Status.FAILED
    assert result.message == _says(q.mask_from_one_hot, "max above")


def test_mask_from_one_hot_cannot_be_solved_by_copying_the_lecture_cell(progress_file):
    """The lecture's one-axis rule (`np.any(x != 0, axis=-1)`), even with `mask_value`, is
    named: a step here can have several feature axes."""

    def mask_from_one_hot(x, mask_value=0.0):
        return np.any(x != mask_value, axis=-1)

    result = q.mask_from_one_hot.check(mask_from_one_hot)
    assert result.message == _says(q.mask_from_one_hot, "last axis only")
    copied = q.mask_from_one_hot.check(lambda x, mask_value=0.0: np.any(x != 0, axis=-1))
    assert copied.status is Status.FAILED


# --------------------------------------------------------------------------- masked_mean


def test_masked_mean_check_accepts_a_tensor_result(progress_file):
    import tensorflow as tf

    def masked_mean(losses, y_true, pad_id=0):
        mask = tf.cast(tf.not_equal(y_true, pad_id), losses.dtype)
        return tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)

    assert q.masked_mean.check(masked_mean).passed


def test_masked_mean_dividing_by_the_number_of_steps_gets_its_own_sentence(progress_file):
    def masked_mean(losses, y_true, pad_id=0):
        mask = y_true != pad_id
        return np.sum(losses * mask) / losses.size

    result = q.masked_mean.check(masked_mean)
    assert result.message == _says(q.masked_mean, "divides by all steps")
    assert "number of steps" in result.message


def test_masked_mean_dividing_by_the_batch_size_gets_its_own_sentence(progress_file):
    def masked_mean(losses, y_true, pad_id=0):
        mask = y_true != pad_id
        return np.sum(losses * mask) / losses.shape[0]

    result = q.masked_mean.check(masked_mean)
    assert result.message == _says(q.masked_mean, "divides by the batch size")
    assert "batch size" in result.message


def test_masked_mean_cannot_be_solved_by_copying_the_lecture_cell(progress_file):
    """The lecture's `np.sum(losses * mask) / np.sum(mask)` with the targets taken as the mask
    fails: the mask has to be built from `y_true` and `pad_id`."""

    def masked_mean(losses, mask, pad_id=0):
        return np.sum(losses * mask) / np.sum(mask)

    assert q.masked_mean.check(masked_mean).status is Status.FAILED


def test_lecture_displays_a_mask_heatmap_image(root):
    nb = nbformat.read(root / "notebooks" / "01_padding.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "mask_heatmap(" in c.source]
    assert any(
        "image/png" in output.get("data", {}) for cell in cells for output in cell.outputs
    ), "the lecture must show a mask heatmap (course_utils.plots.mask_heatmap) as an image"


LECTURE = "01_padding.ipynb"


def test_the_installed_source_the_lecture_quotes_is_still_there():
    from lecture_claims import quoted_source_problems

    assert not quoted_source_problems(lesson.QUOTED_SOURCE)


def test_every_source_the_lecture_names_is_listed_in_quoted_source(root):
    from lecture_claims import string_excerpts

    assert string_excerpts(root / "notebooks" / LECTURE) <= set(lesson.QUOTED_SOURCE)


def test_lecture_ends_with_a_verdict_table_citing_its_cells(root):
    from lecture_claims import verdict_rows

    rows = verdict_rows(root / "notebooks" / LECTURE)
    assert any("tf.reverse" in row["advice (thread)"] for row in rows)
    assert any(row["verdict"].startswith("changed") for row in rows)  # the cuDNN row


def test_lecture_shows_thread_001s_arrays_as_posted(root):
    nb = nbformat.read(root / "notebooks" / LECTURE, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "[[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]]" in source
    assert "[[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]]" in source


def test_keras3_cudnn_check_rejects_left_padding_and_tf_keras_falls_back():
    import importlib

    import tensorflow as tf
    from tf_keras.src.layers.rnn import gru_lstm_utils

    keras_tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    left = tf.constant([[False, False, True], [False, True, True]])
    right = tf.constant([[True, True, False], [True, True, True]])
    keras_tf_rnn._assert_valid_mask(right)  # no error
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded"):
        keras_tf_rnn._assert_valid_mask(left)
    assert not bool(gru_lstm_utils.is_cudnn_supported_inputs(left, False, None))
