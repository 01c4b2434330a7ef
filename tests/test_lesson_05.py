"""Lesson 05: the exercise references agree with the course's seq2seq encoding, and the fix
holds its margins on seeds other than the lecture's."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import seq2seq as s2s
from course_utils.lessons import l05_fix_mask_zero as l05


def test_encode_fixed_reproduces_the_fixed_targets_of_the_toy_task():
    naive = s2s.make_task(40, seed=5)
    fixed = s2s.make_task(40, seed=5, encoding=s2s.FIXED)
    sequences = [
        list(row[:length]) for row, length in zip(naive.targets, naive.lengths, strict=True)
    ]
    encoded = l05.encode_fixed(sequences, naive.end_id, naive.targets.shape[1])
    np.testing.assert_array_equal(encoded, fixed.targets)


def test_fixed_embedding_covers_every_fixed_id_and_masks_zeros():
    fixed = s2s.make_task(40, seed=5, encoding=s2s.FIXED)
    layer = l05.fixed_embedding(fixed.vocab_size - 1, 4)
    assert layer.input_dim == fixed.vocab_size
    np.testing.assert_array_equal(
        np.asarray(layer.compute_mask(fixed.decoder_inputs)), fixed.decoder_inputs != 0
    )


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
