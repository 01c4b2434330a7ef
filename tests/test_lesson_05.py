"""Lesson 05: the exercise references agree with the course's seq2seq encoding, and the fix
holds its margins on seeds other than the lecture's."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import seq2seq as s2s
from course_utils.answers import l05_fix_mask_zero as l05
from course_utils.registry import exercises


def test_encode_fixed_reproduces_the_fixed_targets_of_the_toy_task():
    naive = s2s.make_task(40, seed=5)
    fixed = s2s.make_task(40, seed=5, encoding=s2s.FIXED)
    sequences = [
        list(row[:length]) for row, length in zip(naive.targets, naive.lengths, strict=True)
    ]
    encoded = l05.encode_fixed(sequences, naive.end_id, naive.targets.shape[1])
    np.testing.assert_array_equal(encoded, fixed.targets)


def test_fixed_embedding_reads_the_fixed_encoding_of_the_toy_task():
    """The reference, given the naive encoding's padding as `pad_id`, masks what the fixed
    encoding masks (the naive pad id is the end token, so only padding rows are compared)."""
    naive = s2s.make_task(40, seed=5)
    fixed = s2s.make_task(40, seed=5, encoding=s2s.FIXED)
    inputs = naive.encoder_inputs
    fixed_ids, layer = l05.fixed_embedding(inputs, naive.pad_id, naive.vocab_size, 4)
    np.testing.assert_array_equal(fixed_ids, fixed.encoder_inputs)
    assert layer.input_dim == fixed.vocab_size
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(fixed_ids)), fixed_ids != 0)


def test_fixed_embedding_cannot_be_solved_by_copying_the_lecture_cell():
    """The lecture's cell sizes an Embedding for ids already padded with 0; applied to the
    asker's ids unchanged it masks a real token and not the padding, and the check says so."""
    ex = exercises("05").fixed_embedding

    def lecture_copy(ids, pad_id, vocab_size, output_dim):
        import keras

        return ids, keras.layers.Embedding(vocab_size + 1, output_dim, mask_zero=True)

    result = ex.evaluate(lecture_copy)
    assert not result.passed
    assert "you kept the asker's ids" in result.message


def test_fixed_embedding_names_a_layer_returned_alone():
    ex = exercises("05").fixed_embedding

    def layer_only(ids, pad_id, vocab_size, output_dim):
        import keras

        return keras.layers.Embedding(vocab_size + 1, output_dim, mask_zero=True)

    assert ex.evaluate(layer_only).message.startswith("return a pair `(fixed_ids, layer)`")


def test_masked_accuracy_is_zero_when_right_only_on_padding_and_counts_the_end_token():
    fixed = s2s.make_task(40, seed=5, encoding=s2s.FIXED)
    vocab = fixed.vocab_size
    right_everywhere = np.eye(vocab)[fixed.targets]
    assert l05.masked_accuracy(fixed.targets, right_everywhere) == 1.0
    only_padding = np.eye(vocab)[np.zeros_like(fixed.targets)]
    assert l05.masked_accuracy(fixed.targets, only_padding) == 0.0
    # the end token is a real target position in the fixed encoding
    only_end = np.eye(vocab)[np.full_like(fixed.targets, fixed.end_id)]
    assert l05.masked_accuracy(fixed.targets, only_end) == pytest.approx(
        1 / (fixed.lengths.mean() + 1)
    )
