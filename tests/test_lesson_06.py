"""Lesson 06: the exercise references agree with the seq2seq helpers, `fit(class_weight=...)`
fails for sequence targets as the lecture shows, and the per-timestep weights hold their
margins on seeds other than the lecture's."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import seq2seq as s2s
from course_utils.answers import l06_fix_class_weighting as l06
from course_utils.registry import exercises


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


# --------------------------------------------------------------------------- issue 11's misses


def _says(exercise, answer):
    ex = getattr(exercises("06"), exercise)
    (misconception,) = [m for m in ex.misconceptions if m.answer == answer]
    return ex, misconception.says


def test_sklearn_balanced_weights_get_their_own_sentence():
    """n_samples / (n_classes * count), as `compute_class_weight("balanced")` gives it."""
    ex, says = _says("class_weights", "weights_balanced")

    def balanced(y_true, end_id, vocab_size):
        y = np.asarray(y_true).ravel()
        classes = np.unique(y)
        weights = dict.fromkeys(range(vocab_size), 1.0)
        for c in classes:
            weights[int(c)] = y.size / (len(classes) * np.sum(y == c))
        return weights

    result = ex.evaluate(balanced)
    assert result.message == says and "balanced" in says


def test_balanced_weights_over_the_vocabulary_name_the_division_by_a_zero_count():
    ex, says = _says("class_weights", "weights_balanced_over_the_vocabulary")
    weights = l06.weights_balanced_over_the_vocabulary(np.array([[1, 3, 3]]), 3, 5)
    assert np.isinf(weights[0]), "an id that never occurs divides by a zero count"
    assert ex.evaluate(l06.weights_balanced_over_the_vocabulary).message == says
    assert "divides by zero" in says


def test_weights_normalised_to_sum_one_get_their_own_sentence():
    ex, says = _says("class_weights", "weights_summing_to_one")

    def normalised(y_true, end_id, vocab_size):
        weights = l06.class_weights(y_true, end_id, vocab_size)
        return {c: w / sum(weights.values()) for c, w in weights.items()}

    assert ex.evaluate(normalised).message == says
    assert "sum to 1" in says


def test_keras_divides_a_weighted_loss_by_the_steps_not_by_the_weights():
    """What the sum-to-1 sentence claims: scaling every sample weight scales the loss."""
    import keras

    y = np.array([[1, 2, 0, 0]])
    probs = np.full((1, 4, 3), 1 / 3, dtype="float32")
    weights = np.array([[1.0, 1.0, 0.1, 0.1]], dtype="float32")
    loss = keras.losses.SparseCategoricalCrossentropy()
    full = float(loss(y, probs, sample_weight=weights))
    normalised = float(loss(y, probs, sample_weight=weights / weights.sum()))
    assert normalised == pytest.approx(full / weights.sum(), rel=1e-5)


def test_nan_from_a_missing_class_gets_its_own_sentence():
    """`class_weight.get(c)` without a default: a class missing from the dict becomes NaN."""
    ex, says = _says("timestep_sample_weight", "sample_weight_missing_nan")

    def lookup_without_default(y_true, class_weight):
        return np.vectorize(lambda c: class_weight.get(c), otypes=[float])(y_true)

    result = ex.evaluate(lookup_without_default)
    assert result.message == says
    assert "NaN" in says and "contains NaN or infinity" not in result.message


def test_division_by_a_zero_count_gets_its_own_sentence():
    """A case whose dict holds a class that never occurs in `y_true`: sharing each class's
    weight among its positions divides by that class's zero count."""
    ex, says = _says("timestep_sample_weight", "sample_weight_divided_by_count")
    cases = ex.cases_for(None)
    assert any(set(case.args[1]) - set(np.unique(case.args[0]).tolist()) for case in cases), (
        "a class of the dict never occurs"
    )

    def shared_among_positions(y_true, class_weight):
        y_true = np.asarray(y_true)
        out = np.ones(y_true.shape)
        for c, w in class_weight.items():
            count = (y_true == c).sum()
            out[y_true == c] = w / count if count else np.inf
        return out

    assert ex.evaluate(shared_among_positions).message == says
    assert "zero count" in says
