"""Answers of lesson 01's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l01_padding`)."""

from __future__ import annotations

import numpy as np

# =========================================================================== 1. pad_batch


def pad_batch(seqs, maxlen):
    """Token-id sequences -> int array `(batch, maxlen)`: padded at the end with 0, and long
    sequences cut at the end (their first `maxlen` tokens are kept)."""
    batch = np.zeros((len(seqs), maxlen), dtype="int32")
    for i, seq in enumerate(seqs):
        kept = list(seq)[:maxlen]
        batch[i, : len(kept)] = kept
    return batch


def pad_with_np_pad(seqs, maxlen):
    return np.stack(
        [np.pad(np.asarray(s[:maxlen], dtype=int), (0, maxlen - len(s[:maxlen]))) for s in seqs]
    )


def pad_with_list_arithmetic(seqs, maxlen):
    return np.array([(list(s) + [0] * maxlen)[:maxlen] for s in seqs], dtype="int64")


def _pad(seqs, maxlen, *, padding="post", truncating="post", value=0, width=None):
    """What `pad_sequences` would return for any choice of options."""
    width = maxlen if width is None else width
    batch = np.full((len(seqs), width), value, dtype="int32")
    for i, seq in enumerate(seqs):
        seq = list(seq)
        kept = seq[:width] if truncating == "post" else seq[max(0, len(seq) - width) :]
        if kept:
            if padding == "post":
                batch[i, : len(kept)] = kept
            else:
                batch[i, width - len(kept) :] = kept
    return batch


def pads_pre(seqs, maxlen):
    """`pad_sequences`' defaults: pad and truncate at the front."""
    return _pad(seqs, maxlen, padding="pre", truncating="pre")


def pads_pre_truncates_post(seqs, maxlen):
    return _pad(seqs, maxlen, padding="pre", truncating="post")


def truncates_pre(seqs, maxlen):
    return _pad(seqs, maxlen, truncating="pre")


def pads_with_a_token_id(seqs, maxlen):
    return _pad(seqs, maxlen, value=1)


def pads_to_longest(seqs, maxlen):
    return _pad(seqs, maxlen, width=max(len(s) for s in seqs))


def float_ids(seqs, maxlen):
    return pad_batch(seqs, maxlen).astype("float32")


# =========================================================================== 2. lengths_to_mask


def lengths_to_mask(lengths, maxlen, padding="pre"):
    """`lengths` `(batch,)` before padding -> bool `mask` `(batch, maxlen)` of the batch
    `pad_sequences(..., maxlen=maxlen, padding=padding)` returns. A sequence longer than
    `maxlen` was cut, so all its `maxlen` steps are real."""
    lengths = np.asarray(lengths)[:, None]
    steps = np.arange(maxlen)[None, :]
    if padding == "post":
        return steps < lengths
    return steps >= maxlen - lengths


def mask_by_flipping_the_post_mask(lengths, maxlen, padding="pre"):
    """The post mask, reversed along time only for 'pre' (what `tf.reverse(..., [1])` does)."""
    post = np.arange(maxlen)[None, :] < np.asarray(lengths)[:, None]
    return post if padding == "post" else np.flip(post, axis=1)


def mask_by_filling_rows(lengths, maxlen, padding="pre"):
    mask = np.zeros((len(lengths), maxlen), dtype=bool)
    for i, n in enumerate(lengths):
        n = min(int(n), maxlen)
        if padding == "post":
            mask[i, :n] = True
        else:
            mask[i, maxlen - n :] = True
    return mask


def _post_mask(lengths, maxlen):
    return np.arange(maxlen)[None, :] < np.asarray(lengths)[:, None]


def mask_always_post(lengths, maxlen, padding="pre"):
    """The lecture's post-padding rule, whatever `padding` says."""
    return _post_mask(lengths, maxlen)


def mask_always_pre(lengths, maxlen, padding="pre"):
    return lengths_to_mask(lengths, maxlen, "pre")


def mask_reverses_the_batch_too(lengths, maxlen, padding="pre"):
    """Thread 001's `tf.reverse(tf.sequence_mask(...), [0, 1])`: rows get each other's mask."""
    post = _post_mask(lengths, maxlen)
    return post if padding == "post" else post[::-1, ::-1]


def mask_as_ints(lengths, maxlen, padding="pre"):
    return lengths_to_mask(lengths, maxlen, padding).astype("int64")


def mask_inverted(lengths, maxlen, padding="pre"):
    return ~lengths_to_mask(lengths, maxlen, padding)


def mask_transposed(lengths, maxlen, padding="pre"):
    return lengths_to_mask(lengths, maxlen, padding).T


def mask_off_by_one(lengths, maxlen, padding="pre"):
    lengths = np.asarray(lengths)[:, None]
    steps = np.arange(maxlen)[None, :]
    return steps <= lengths if padding == "post" else steps >= maxlen - lengths - 1


def mask_negative_zero_slice(lengths, maxlen, padding="pre"):
    """`row[-n:] = True`: right unless n is 0, where `row[-0:]` is the whole row."""
    mask = np.zeros((len(lengths), maxlen), dtype=bool)
    for i, n in enumerate(lengths):
        if padding == "post":
            mask[i, :n] = True
        else:
            mask[i, -int(n) :] = True
    return mask


def mask_forgets_truncation(lengths, maxlen, padding="pre"):
    """`row[maxlen - n:] = True` without capping n: a cut sequence gets a negative start."""
    mask = np.zeros((len(lengths), maxlen), dtype=bool)
    for i, n in enumerate(lengths):
        if padding == "post":
            mask[i, :n] = True
        else:
            mask[i, maxlen - int(n) :] = True
    return mask


# =========================================================================== 3. mask_from_one_hot


def _feature_axes(x):
    return tuple(range(2, np.ndim(x)))


def mask_from_one_hot(x, mask_value=0.0):
    """`x` `(batch, time, ...)` -> bool `mask` `(batch, time)`: a step is padding only when EVERY
    value of it (all its feature axes) equals `mask_value`."""
    x = np.asarray(x)
    return np.any(x != mask_value, axis=tuple(range(2, x.ndim)))


def mask_by_flattening_steps(x, mask_value=0.0):
    x = np.asarray(x)
    return ~np.all(x.reshape(x.shape[0], x.shape[1], -1) == mask_value, axis=-1)


def mask_by_counting_differences(x, mask_value=0.0):
    x = np.asarray(x)
    return np.count_nonzero(x != mask_value, axis=_feature_axes(x)) > 0


def mask_last_axis_only(x, mask_value=0.0):
    """What `Masking` (and the lecture's one-axis rule) computes: only the last axis reduced."""
    return np.any(np.asarray(x) != mask_value, axis=-1)


def mask_any_feature_equal(x, mask_value=0.0):
    return ~np.any(np.asarray(x) == mask_value, axis=_feature_axes(x))


def mask_ignores_mask_value(x, mask_value=0.0):
    return np.any(np.asarray(x) != 0, axis=_feature_axes(x))


def mask_true_on_padding(x, mask_value=0.0):
    return np.all(np.asarray(x) == mask_value, axis=_feature_axes(x))


def mask_per_feature(x, mask_value=0.0):
    return np.asarray(x) != mask_value


def mask_from_sum(x, mask_value=0.0):
    return np.asarray(x).sum(axis=_feature_axes(x)) != mask_value


def mask_max_differs(x, mask_value=0.0):
    """Real when the largest value differs from `mask_value`: wrong on a step holding
    `mask_value` and smaller numbers."""
    return np.max(np.asarray(x), axis=_feature_axes(x)) != mask_value


def mask_max_above(x, mask_value=0.0):
    """Real when the largest value is above `mask_value`: wrong on a step whose values are all
    below it, too."""
    return np.max(np.asarray(x), axis=_feature_axes(x)) > mask_value


# =========================================================================== 4. masked_mean


def masked_mean(losses, y_true, pad_id=0):
    """Mean of per-step `losses` `(batch, time)` over the real tokens only: the steps whose
    target id in `y_true` `(batch, time)` is not `pad_id`."""
    losses = np.asarray(losses, dtype="float64")
    mask = np.asarray(y_true) != pad_id
    return float(np.sum(losses * mask) / np.sum(mask))


def mean_of_selected_losses(losses, y_true, pad_id=0):
    return float(np.asarray(losses)[np.asarray(y_true) != pad_id].mean())


def mean_of_a_masked_array(losses, y_true, pad_id=0):
    return np.ma.masked_array(losses, mask=np.asarray(y_true) == pad_id).mean()


def _mask(y_true, pad_id):
    return np.asarray(y_true) != pad_id


def mean_over_all_steps(losses, y_true, pad_id=0):
    """Zeroes the padding, then divides by every step of the batch."""
    return float(np.mean(np.asarray(losses) * _mask(y_true, pad_id)))


def mean_over_batch_size(losses, y_true, pad_id=0):
    """Sums the real tokens' losses, then divides by the number of sequences."""
    return float(np.sum(np.asarray(losses) * _mask(y_true, pad_id)) / len(losses))


def unmasked_mean(losses, y_true, pad_id=0):
    return float(np.mean(losses))


def mean_of_row_means(losses, y_true, pad_id=0):
    losses, mask = np.asarray(losses), _mask(y_true, pad_id)
    return float(np.mean(np.sum(losses * mask, axis=1) / np.sum(mask, axis=1)))


def masked_sum(losses, y_true, pad_id=0):
    return float(np.sum(np.asarray(losses) * _mask(y_true, pad_id)))


def mean_of_padding(losses, y_true, pad_id=0):
    mask = ~_mask(y_true, pad_id)
    return float(np.sum(np.asarray(losses) * mask) / np.sum(mask))


def mean_padding_taken_as_zero(losses, y_true, pad_id=0):
    return masked_mean(losses, y_true, 0)
