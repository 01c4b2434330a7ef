"""Lesson 01 beyond the generic exercise tests: the graders agree with Keras, accept the
idiomatic answers, and the lecture shows its mask heatmap."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from course_utils import exercises
from course_utils.checking import Status
from course_utils.lessons import l01_padding as lesson

q = exercises("01")


@pytest.mark.parametrize(("seqs", "maxlen"), lesson._PAD_CASES)
def test_reference_pad_batch_matches_keras_pad_sequences_post_post(seqs, maxlen):
    import keras

    expected = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="post", truncating="post")
    np.testing.assert_array_equal(lesson.pad_batch(seqs, maxlen), expected)


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
    result = q.pad_batch.check(lambda seqs, maxlen: lesson._pad(seqs, maxlen, value=-1))
    assert result.status is Status.FAILED
    assert "pad with the reserved id 0" in result.message
    assert "also a real token id" not in result.message


def test_lengths_to_mask_check_accepts_tf_sequence_mask(progress_file):
    import tensorflow as tf

    assert q.lengths_to_mask.check(lambda lengths, maxlen: tf.sequence_mask(lengths, maxlen)).passed


def test_mask_from_one_hot_reference_matches_keras_masking_on_every_case():
    import keras

    cases = [(lesson._one_hot_case(), 0.0), lesson._feature_case(), lesson._zero_sum_case()]
    for x, mask_value in cases:
        keras_mask = keras.ops.convert_to_numpy(keras.layers.Masking(mask_value).compute_mask(x))
        np.testing.assert_array_equal(lesson.mask_from_one_hot(x, mask_value), keras_mask)


def test_one_hot_case_has_a_placeholder_row_inside_a_word():
    x = lesson._one_hot_case()
    assert np.all(x[0, 2] == 0) and np.any(x[0, 3] != 0)  # 'ab#c': '#' then a real 'c'


def test_masked_mean_check_accepts_a_tensor_result(progress_file):
    import tensorflow as tf

    def masked_mean(losses, mask):
        mask = tf.cast(mask, losses.dtype)
        return tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)

    assert q.masked_mean.check(masked_mean).passed


def test_masked_mean_cases_tell_the_misconceptions_apart():
    for losses, mask in lesson._loss_cases():
        right = lesson.masked_mean(losses, mask)
        wrongs = [
            f(losses, mask)
            for f in (
                lesson._mean_over_all_steps,
                lesson._unmasked_mean,
                lesson._mean_of_row_means,
                lesson._masked_sum,
                lesson._mean_of_padding,
            )
        ]
        assert all(not np.isclose(w, right) for w in wrongs)


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
