"""The toy seq2seq task: encodings, metrics that ignore padding, class-weight helpers, and the
failure it exists to show (naive training predicts the end token; mask_zero repairs it)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import seq2seq as s


@pytest.fixture(scope="module")
def naive():
    return s.make_task(300, seed=3)


@pytest.fixture(scope="module")
def fixed():
    return s.make_task(300, seed=3, encoding=s.FIXED)


def test_naive_targets_are_padded_by_repeating_the_end_token(naive):
    assert naive.targets.shape == (300, s.CONFIG.time)
    assert naive.pad_id == naive.end_id == s.CONFIG.n_symbols + 1
    assert naive.start_id == s.CONFIG.n_symbols
    assert naive.vocab_size == s.CONFIG.n_symbols + 2
    for row, length in zip(naive.targets, naive.lengths, strict=True):
        assert np.all(row[:length] < s.CONFIG.n_symbols)
        assert np.all(row[length:] == naive.end_id)


def test_fixed_targets_have_one_end_token_then_zeros(fixed):
    assert fixed.pad_id == 0
    assert fixed.vocab_size == s.CONFIG.n_symbols + 3
    for row, length in zip(fixed.targets, fixed.lengths, strict=True):
        assert np.all((row[:length] >= 1) & (row[:length] <= s.CONFIG.n_symbols))
        assert row[length] == fixed.end_id
        assert np.all(row[length + 1 :] == 0)


def test_both_encodings_hold_the_same_sequences_shifted_by_one(naive, fixed):
    np.testing.assert_array_equal(naive.lengths, fixed.lengths)
    np.testing.assert_array_equal(
        naive.targets[naive.token_mask] + 1, fixed.targets[fixed.token_mask]
    )
    np.testing.assert_array_equal(
        naive.encoder_inputs[naive.token_mask] + 1, fixed.encoder_inputs[fixed.token_mask]
    )
    np.testing.assert_array_equal(s.to_fixed(naive).targets, fixed.targets)


def test_targets_reverse_the_encoder_inputs(naive):
    for x, y, length in zip(naive.encoder_inputs, naive.targets, naive.lengths, strict=True):
        np.testing.assert_array_equal(y[:length], x[:length][::-1])


def test_decoder_inputs_are_start_then_targets_shifted_right(naive, fixed):
    assert np.all(naive.decoder_inputs[:, 0] == naive.start_id)
    np.testing.assert_array_equal(naive.decoder_inputs[:, 1:], naive.targets[:, :-1])
    assert np.all(fixed.decoder_inputs[:, 0] == fixed.start_id)
    tokens = fixed.token_mask[:, :-1]
    np.testing.assert_array_equal(
        fixed.decoder_inputs[:, 1:][tokens], fixed.targets[:, :-1][tokens]
    )


def test_fixed_decoder_inputs_are_nonzero_exactly_on_real_target_positions(fixed):
    np.testing.assert_array_equal(fixed.decoder_inputs != 0, fixed.mask)
    np.testing.assert_array_equal(fixed.targets != 0, fixed.mask)


def test_most_target_positions_are_padding(naive):
    assert 1 - naive.mask.mean() > 0.75
    assert (naive.targets == naive.end_id).mean() > 0.8


def test_same_seed_same_data_and_split_streams_differ():
    a, b = s.make_task(50, seed=7), s.make_task(50, seed=7)
    np.testing.assert_array_equal(a.targets, b.targets)
    train, test = s.make_split(0)
    assert len(train) == s.CONFIG.n_train and len(test) == s.CONFIG.n_test
    assert not np.array_equal(train.targets[: len(test)], test.targets)


def test_take_keeps_rows_consistent(naive):
    part = naive.take(slice(2, 5))
    assert len(part) == 3
    np.testing.assert_array_equal(part.lengths, naive.lengths[2:5])


END = 9
Y_TRUE = np.array([[1, 2, 3, END, END], [4, END, END, END, END]])
LENGTHS = np.array([3, 1])


def test_end_token_rate_counts_only_real_non_end_positions():
    all_end = np.full_like(Y_TRUE, END)
    assert s.end_token_rate(all_end, LENGTHS, END) == 1.0
    assert s.end_token_rate(Y_TRUE, LENGTHS, END) == 0.0
    one_wrong = Y_TRUE.copy()
    one_wrong[0, 1] = END
    assert s.end_token_rate(one_wrong, LENGTHS, END) == pytest.approx(1 / 4)


def test_real_token_accuracy_ignores_padding_and_the_end():
    right_only_on_padding = np.where(Y_TRUE == END, END, 0)
    assert s.real_token_accuracy(Y_TRUE, right_only_on_padding, LENGTHS) == 0.0
    assert s.real_token_accuracy(Y_TRUE, Y_TRUE, LENGTHS) == 1.0
    probs = np.eye(10)[Y_TRUE]  # (batch, time, vocab) probabilities are accepted too
    assert s.real_token_accuracy(Y_TRUE, probs, LENGTHS) == 1.0


def test_exact_match_and_end_position_ignore_what_follows_the_end():
    pred = Y_TRUE.copy()
    pred[:, -1] = 0  # wrong on padding only: still an exact match
    assert s.exact_match(Y_TRUE, pred, LENGTHS) == 1.0
    assert s.end_position_accuracy(pred, LENGTHS, END) == 1.0
    pred[1, 1] = 5  # the second sequence misses its end token
    assert s.exact_match(Y_TRUE, pred, LENGTHS) == 0.5
    assert s.end_position_accuracy(pred, LENGTHS, END) == 0.5


def test_class_weight_ratio_is_mean_other_count_over_end_count():
    y = np.array([[1, 1, 2, END, END, END, END, END], [3, END, END, END, END, END, END, END]])
    weights = s.class_weight_dict(y, END, 10)
    assert set(weights) == set(range(10))
    # counts: 1 -> 2, 2 -> 1, 3 -> 1 (mean 4/3); end -> 12
    assert weights[END] == pytest.approx((4 / 3) / 12)
    assert all(weights[c] == 1.0 for c in range(10) if c != END)
    sample_weight = s.timestep_sample_weight(y, weights)
    assert sample_weight.shape == y.shape and sample_weight.dtype == np.float32
    np.testing.assert_allclose(sample_weight[y == END], weights[END])
    np.testing.assert_allclose(sample_weight[y != END], 1.0)


def test_model_masks_padding_only_with_mask_zero(fixed):
    model = s.build_model(fixed.vocab_size, mask_zero=True, units=8, embed_dim=4)
    assert model.output_shape == (None, None, fixed.vocab_size)
    embedding = model.get_layer("decoder_embedding")
    mask = np.asarray(embedding.compute_mask(fixed.decoder_inputs[:4]))
    np.testing.assert_array_equal(mask, fixed.mask[:4])
    plain = s.build_model(fixed.vocab_size, units=8, embed_dim=4)
    assert plain.get_layer("decoder_embedding").compute_mask(fixed.decoder_inputs[:4]) is None


def test_train_accepts_a_custom_loss_and_per_timestep_sample_weight():
    import keras

    def argmax_weighted_loss(y_true, y_pred):
        # the shape of lesson 07's loss: a constant weight from an argmax condition
        base = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        return base * (1.0 + keras.ops.cast(predicted == s.CONFIG.n_symbols + 1, "float32"))

    data = s.make_task(64, seed=2)
    model = s.build_model(data.vocab_size, units=4, embed_dim=2)
    weights = s.timestep_sample_weight(data.targets, {data.end_id: 0.5})
    history, seconds = s.train(
        model, data, epochs=2, seed=1, sample_weight=weights, loss=argmax_weighted_loss
    )
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    assert seconds > 0


def test_train_traces_its_step_once_and_gives_the_numbers_of_a_plain_fit(fixed, monkeypatch):
    """`train` builds Adam's slots before `fit`, so the step is traced once, not twice (Keras 3
    creates them inside the first trace otherwise); the weights are those of a plain
    compile-and-fit with the same seed."""
    import keras
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    traced = []
    step = TensorFlowTrainer.train_step
    monkeypatch.setattr(
        TensorFlowTrainer, "train_step", lambda self, data: traced.append(1) or step(self, data)
    )
    data = fixed.take(np.arange(100))  # 100 rows: a full batch of 64 and a partial one
    model = s.build_model(data.vocab_size, units=4, embed_dim=2, mask_zero=True, seed=1)
    s.train(model, data, epochs=2, seed=1)
    assert len(traced) == 1

    plain = s.build_model(data.vocab_size, units=4, embed_dim=2, mask_zero=True, seed=1)
    keras.utils.set_random_seed(1)
    plain.compile(
        optimizer=keras.optimizers.Adam(s.CONFIG.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    plain.fit(
        data.inputs, data.targets, epochs=2, batch_size=s.CONFIG.batch_size, shuffle=True, verbose=0
    )
    assert len(traced) == 3  # the plain fit traces twice
    for ours, theirs in zip(model.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_predict_ids_are_those_of_a_plain_predict(fixed):
    """`predict_ids` runs the batches itself (no tf.data pipeline) and gives the ids of
    `model.predict(..., batch_size=256)`, a partial last batch included. An untrained model's
    probabilities are nearly uniform, so a difference in their last bits would move ids."""
    model = s.build_model(fixed.vocab_size, units=8, embed_dim=4, mask_zero=True, seed=2)
    data = fixed.take(np.arange(300))  # a batch of 256, then one of 44
    plain = model.predict(data.inputs, batch_size=256, verbose=0)
    np.testing.assert_array_equal(s.predict_ids(model, data), np.argmax(plain, axis=-1))
    assert s.predict_ids(model, data.take(np.arange(0))).shape == (0, data.targets.shape[1])
