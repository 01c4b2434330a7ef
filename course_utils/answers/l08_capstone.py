"""Answers of lesson 08's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l08_capstone`)."""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- end_token_rate


def end_token_rate(y_pred, lengths, end_id):
    """The share of real token positions (`t < lengths`) where the model predicts the end token.
    `y_pred`: probabilities (n, time, vocab); `lengths`: (n,) real tokens before the end token."""
    pred_id = np.argmax(np.asarray(y_pred), axis=-1)  # (n, time)
    steps = np.arange(pred_id.shape[1])
    tokens = steps[None, :] < np.asarray(lengths)[:, None]  # (n, time), True on real tokens
    return float(np.mean(pred_id[tokens] == end_id))


def rate_with_a_loop(y_pred, lengths, end_id):
    hits = total = 0
    for row, n in zip(np.asarray(y_pred), lengths, strict=True):
        for t in range(int(n)):
            hits += int(np.argmax(row[t]) == end_id)
            total += 1
    return hits / total


def rate_by_counting(y_pred, lengths, end_id):
    pred_id = np.asarray(y_pred).argmax(-1)
    tokens = np.arange(pred_id.shape[1]) < np.asarray(lengths)[:, None]
    return np.count_nonzero((pred_id == end_id) & tokens) / np.count_nonzero(tokens)


def rate_all_steps(y_pred, lengths, end_id):
    return float(np.mean(np.argmax(y_pred, -1) == end_id))


def rate_with_end_position(y_pred, lengths, end_id):
    pred_id = np.argmax(y_pred, -1)
    real = np.arange(pred_id.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return float(np.mean(pred_id[real] == end_id))


def rate_over_batch(y_pred, lengths, end_id):
    pred_id = np.argmax(y_pred, -1)
    tokens = np.arange(pred_id.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return float(np.mean((pred_id == end_id) & tokens))


def rate_inverted(y_pred, lengths, end_id):
    return 1.0 - end_token_rate(y_pred, lengths, end_id)


# --------------------------------------------------------------------------- per_position_accuracy


def per_position_accuracy(y_true, y_pred, lengths):
    """(time,): at each position t, the accuracy over the sequences for which t is a real
    position (`t <= lengths`: a token or the end token); NaN where no sequence reaches t."""
    y_true = np.asarray(y_true)
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true  # (n, time)
    steps = np.arange(y_true.shape[1])
    real = steps[None, :] <= np.asarray(lengths)[:, None]  # (n, time)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (right & real).sum(axis=0) / real.sum(axis=0)


def accuracy_column_by_column(y_true, y_pred, lengths):
    y_true, pred_id = np.asarray(y_true), np.asarray(y_pred).argmax(-1)
    out = []
    for t in range(y_true.shape[1]):
        rows = np.asarray(lengths) >= t
        out.append(np.mean(pred_id[rows, t] == y_true[rows, t]) if rows.any() else np.nan)
    return np.array(out)


def accuracy_with_masked_arrays(y_true, y_pred, lengths):
    right = np.asarray(y_pred).argmax(-1) == np.asarray(y_true)
    padded = np.arange(right.shape[1])[None, :] > np.asarray(lengths)[:, None]
    return np.ma.masked_array(right, mask=padded).mean(axis=0).filled(np.nan)


def position_with_padding(y_true, y_pred, lengths):
    return (np.argmax(y_pred, -1) == np.asarray(y_true)).mean(axis=0)


def position_over_all_sequences(y_true, y_pred, lengths):
    y_true = np.asarray(y_true)
    right = np.argmax(y_pred, -1) == y_true
    real = np.arange(y_true.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return (right & real).sum(axis=0) / len(y_true)


def position_per_sequence(y_true, y_pred, lengths):
    y_true = np.asarray(y_true)
    right = np.argmax(y_pred, -1) == y_true
    real = np.arange(y_true.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return (right & real).sum(axis=1) / real.sum(axis=1)


def position_tokens_only(y_true, y_pred, lengths):
    """Leaves out the end position: NaN where only an end token is real."""
    y_true = np.asarray(y_true)
    right = np.argmax(y_pred, -1) == y_true
    tokens = np.arange(y_true.shape[1])[None, :] < np.asarray(lengths)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (right & tokens).sum(axis=0) / tokens.sum(axis=0)


# --------------------------------------------------------------------------- repair


def repair(train, seed=0):
    """Fix 1 (mask_zero): re-encode with 0 as padding, mask it in both embeddings, train."""
    from course_utils import seq2seq

    fixed = seq2seq.to_fixed(train)
    model = seq2seq.build_model(fixed.vocab_size, mask_zero=True, seed=seed)
    seq2seq.train(model, fixed, seed=seed)
    return model


def _shift_ids(end_id):
    """A Keras layer that maps naive ids to 'fixed' ones inside the model: the end token (the
    naive padding) becomes 0, every other id moves up by one."""
    import keras

    return keras.layers.Lambda(
        lambda ids: keras.ops.where(keras.ops.equal(ids, end_id), 0, ids + 1), name=None
    )


def _masked_inside(train, seed, *, mask_decoder):
    """Naive ids in, naive classes out; the encoder (and, if asked, the decoder) masks the naive
    padding inside the model: ids shifted so the end token becomes 0, then `mask_zero`."""
    import keras

    from course_utils import seq2seq

    config = seq2seq.CONFIG
    keras.utils.set_random_seed(seed)
    encoder_inputs = keras.Input(shape=(None,), dtype="int32")
    decoder_inputs = keras.Input(shape=(None,), dtype="int32")
    x = _shift_ids(train.end_id)(encoder_inputs)
    x = keras.layers.Embedding(train.vocab_size + 1, config.embed_dim, mask_zero=True)(x)
    _, state_h, state_c = keras.layers.LSTM(config.units, return_state=True)(x)
    y = decoder_inputs
    if mask_decoder:  # the decoder reads the end token only as padding: its mask reaches the loss
        y = _shift_ids(train.end_id)(y)
    y = keras.layers.Embedding(
        train.vocab_size + mask_decoder, config.embed_dim, mask_zero=mask_decoder
    )(y)
    y = keras.layers.LSTM(config.units, return_sequences=True)(y, initial_state=[state_h, state_c])
    probs = keras.layers.Dense(train.vocab_size, activation="softmax")(y)
    return keras.Model([encoder_inputs, decoder_inputs], probs)


def repair_masking_inside_the_model(train, seed=0):
    """Fix 1 without re-encoding the data: the model shifts the naive ids itself and masks what
    was the end-token padding, in the encoder and the decoder."""
    from course_utils import seq2seq

    model = _masked_inside(train, seed, mask_decoder=True)
    seq2seq.train(model, train, seed=seed)
    return model


def repair_masked_encoder_ignore_class(train, seed=0):
    """The fixed encoding, a masked encoder, and the loss masked by `ignore_class=0`."""
    import keras

    from course_utils import seq2seq

    fixed = seq2seq.to_fixed(train)
    model = seq2seq.build_model(
        fixed.vocab_size, encoder_mask_zero=True, decoder_mask_zero=False, seed=seed
    )
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    seq2seq.train(model, fixed, seed=seed, loss=loss)
    return model


def repair_class_weight_only(train, seed=0):
    """A loss-side fix alone: per-step class weights, the encoder still reads the padding."""
    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, seed=seed)
    weights = seq2seq.class_weight_dict(train.targets, train.end_id, train.vocab_size)
    sample_weight = seq2seq.timestep_sample_weight(train.targets, weights)
    seq2seq.train(model, train, seed=seed, sample_weight=sample_weight)
    return model


def repair_mask_with_class_weight(train, seed=0):
    """The capstone's masked encoder plus the class weights of lesson 06 (naive targets, the end
    token weighted by the ratio): the tokens are learned, the end token lost."""
    from course_utils import seq2seq

    model = _masked_inside(train, seed, mask_decoder=False)
    weights = seq2seq.class_weight_dict(train.targets, train.end_id, train.vocab_size)
    sample_weight = seq2seq.timestep_sample_weight(train.targets, weights)
    seq2seq.train(model, train, seed=seed, sample_weight=sample_weight)
    return model


def repair_off_by_one_vocabulary(train, seed=0):
    """The fixed encoding with the naive vocabulary size: the largest fixed id is out of range."""
    from course_utils import seq2seq

    fixed = seq2seq.to_fixed(train)
    model = seq2seq.build_model(train.vocab_size, mask_zero=True, seed=seed)
    seq2seq.train(model, fixed, seed=seed)
    return model


def repair_fit_class_weight(train, seed=0):
    """`fit(class_weight=...)` on sequence targets, which Keras 3 cannot do (lesson 06)."""
    import keras

    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, seed=seed)
    model.compile(keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    weights = seq2seq.class_weight_dict(train.targets, train.end_id, train.vocab_size)
    model.fit(train.inputs, train.targets, class_weight=weights, epochs=1, verbose=0)
    return model


def repair_untrained(train, seed=0):
    """The fixed model built but never trained."""
    from course_utils import seq2seq

    fixed = seq2seq.to_fixed(train)
    return seq2seq.build_model(fixed.vocab_size, mask_zero=True, seed=seed)
