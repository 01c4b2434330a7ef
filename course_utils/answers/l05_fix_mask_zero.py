"""Answers of lesson 05's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l05_fix_mask_zero`)."""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- exercise 1


def encode_fixed(sequences, end_id, maxlen):
    """Naive ids (real tokens from 0, end token `end_id`) -> the fixed encoding, (batch, maxlen):
    every id shifted up by one, one end token after each sequence, then 0s (padding)."""
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
        out[i, len(seq)] = end_id + 1
    return out


def encode_with_np_pad(sequences, end_id, maxlen):
    rows = [np.append(seq, end_id).astype(int) + 1 for seq in sequences]
    return np.stack([np.pad(row, (0, maxlen - len(row))) for row in rows])


def encode_row_by_row(sequences, end_id, maxlen):
    rows = []
    for seq in sequences:
        row = [t + 1 for t in seq] + [end_id + 1]
        rows.append(row + [0] * (maxlen - len(row)))
    return np.array(rows)


def encode_no_shift(sequences, end_id, maxlen):
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
        out[i, len(seq)] = end_id
    return out


def encode_end_padding(sequences, end_id, maxlen):
    out = np.full((len(sequences), maxlen), end_id + 1, dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
    return out


def encode_no_end(sequences, end_id, maxlen):
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
    return out


def encode_end_not_shifted(sequences, end_id, maxlen):
    out = encode_fixed(sequences, end_id, maxlen)
    out[out == end_id + 1] = end_id
    return out


# --------------------------------------------------------------------------- exercise 2


def fixed_embedding(ids, pad_id, vocab_size, output_dim):
    """The asker's `ids` (batch, time), padded with `pad_id` -> `(fixed_ids, layer)`: padding
    becomes 0, every real id moves up by one, and the Embedding has one more row and masks 0."""
    import keras

    ids = np.asarray(ids)
    fixed_ids = np.where(ids == pad_id, 0, ids + 1)
    layer = keras.layers.Embedding(vocab_size + 1, output_dim, mask_zero=True)
    return fixed_ids, layer


def embedding_swapping_pad_and_zero(ids, pad_id, vocab_size, output_dim):
    """Padding and token 0 trade ids: no id moves otherwise, and the table keeps its size."""
    import keras

    ids = np.asarray(ids)
    fixed_ids = ids.copy()
    fixed_ids[ids == pad_id] = 0
    fixed_ids[ids == 0] = pad_id
    return fixed_ids, keras.layers.Embedding(vocab_size, output_dim, mask_zero=True)


def embedding_closing_the_gap(ids, pad_id, vocab_size, output_dim):
    """Ids below `pad_id` move up by one into the gap the padding leaves; the rest stay."""
    import keras

    ids = np.asarray(ids)
    fixed_ids = np.select([ids == pad_id, ids < pad_id], [0, ids + 1], ids)
    return fixed_ids, keras.layers.Embedding(
        input_dim=vocab_size, output_dim=output_dim, mask_zero=True
    )


def embedding_keeps_pad_id(ids, pad_id, vocab_size, output_dim):
    import keras

    return np.asarray(ids), keras.layers.Embedding(vocab_size, output_dim, mask_zero=True)


def embedding_pad_to_zero_unshifted(ids, pad_id, vocab_size, output_dim):
    import keras

    ids = np.asarray(ids)
    fixed_ids = np.where(ids == pad_id, 0, ids)
    return fixed_ids, keras.layers.Embedding(vocab_size, output_dim, mask_zero=True)


def embedding_table_too_small(ids, pad_id, vocab_size, output_dim):
    import keras

    ids = np.asarray(ids)
    fixed_ids = np.where(ids == pad_id, 0, ids + 1)
    return fixed_ids, keras.layers.Embedding(vocab_size, output_dim, mask_zero=True)


def embedding_without_mask(ids, pad_id, vocab_size, output_dim):
    import keras

    ids = np.asarray(ids)
    fixed_ids = np.where(ids == pad_id, 0, ids + 1)
    return fixed_ids, keras.layers.Embedding(vocab_size + 1, output_dim)


def embedding_shifts_padding_too(ids, pad_id, vocab_size, output_dim):
    import keras

    return np.asarray(ids) + 1, keras.layers.Embedding(vocab_size + 1, output_dim, mask_zero=True)


# --------------------------------------------------------------------------- exercise 3


def masked_accuracy(y_true, y_pred, pad_id=0):
    """Accuracy over real target positions only: `y_true` (batch, time) ids, `y_pred`
    (batch, time, vocab) probabilities; positions where `y_true == pad_id` do not count."""
    y_true = np.asarray(y_true)
    real = y_true != pad_id
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true
    return float(np.sum(right & real) / np.sum(real))


def accuracy_on_selected_positions(y_true, y_pred, pad_id=0):
    y_true = np.asarray(y_true)
    real = y_true != pad_id
    return np.mean(np.argmax(y_pred, axis=-1)[real] == y_true[real])


def accuracy_with_a_loop(y_true, y_pred, pad_id=0):
    right = total = 0
    for targets, probs in zip(y_true, y_pred, strict=True):
        for target, p in zip(targets, probs, strict=True):
            if target != pad_id:
                total += 1
                right += int(np.argmax(p) == target)
    return right / total


def accuracy_counts_padding(y_true, y_pred, pad_id=0):
    return float(np.mean(np.argmax(np.asarray(y_pred), axis=-1) == np.asarray(y_true)))


def accuracy_per_sequence(y_true, y_pred, pad_id=0):
    y_true = np.asarray(y_true)
    real = y_true != pad_id
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true
    return float(np.mean(np.sum(right & real, axis=1) / np.sum(real, axis=1)))


def accuracy_mask_from_predictions(y_true, y_pred, pad_id=0):
    ids = np.argmax(np.asarray(y_pred), axis=-1)
    real = ids != pad_id
    return float(np.sum((ids == np.asarray(y_true)) & real) / max(np.sum(real), 1))


def accuracy_ignores_pad_id(y_true, y_pred, pad_id=0):
    return masked_accuracy(y_true, y_pred, 0)
