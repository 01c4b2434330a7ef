"""Shared data sets: shapes, padding and the invariants the lessons rely on."""

from __future__ import annotations

import numpy as np

from course_utils.data import padded_feature_batch


def test_padded_feature_batch_pads_with_all_zero_steps_after_each_length():
    x, y_true, mask = padded_feature_batch([3, 1, 4], steps=4, features=2, seed=0)
    assert x.shape == (3, 4, 2) and y_true.shape == (3, 4, 1) and mask.shape == (3, 4)
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 1, 4])
    assert np.all(x[~mask] == 0.0)


def test_padded_feature_batch_has_no_all_zero_real_step_so_masking_zero_finds_the_padding():
    x, _, mask = padded_feature_batch([5, 2], steps=6, features=3, seed=1)
    np.testing.assert_array_equal(np.any(x != 0.0, axis=-1), mask)


def test_padded_feature_batch_labels_every_step_with_zero_or_one_and_is_seeded():
    x, y_true, _ = padded_feature_batch([2, 2], steps=3, seed=2)
    again = padded_feature_batch([2, 2], steps=3, seed=2)
    assert set(np.unique(y_true)) <= {0.0, 1.0}
    np.testing.assert_array_equal(x, again[0])
    np.testing.assert_array_equal(y_true, again[1])
