"""Lesson 01: padding a batch, reserving id 0, lengths <-> masks, and the masked mean.

Every grader calls the learner's function on several batches (post- and pre-padded, an empty
sequence, a sequence longer than `maxlen`) and compares what it returns with what each known
misconception would return, so the failure message can name the mistake.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise, Mistake, WrongAnswer, as_array, as_number, call_learner, close

LESSON = "01_padding"
TITLE = "Padding variable-length sequences"
OBJECTIVES = [
    "pad and truncate a batch with `keras.utils.pad_sequences` (`padding`, `truncating`, "
    "`maxlen`, `value`) and say what each option does;",
    "explain why token id 0 is reserved for padding, and show that `Embedding(mask_zero=True)` "
    "masks id 0 and no other value;",
    "turn `lengths` into a boolean `mask` of shape `(batch, time)` and back, for post- and "
    "pre-padded batches;",
    "write the mask from the padding row of an encoding: an all-zero one-hot row (the course's "
    "`'#'`) or thread 001's `'#'` class `[0, 0, 1]`;",
    "choose the padding side: post-padding for a masked LSTM that may run on cuDNN (GPU);",
    "show why an unmasked mean over a padded batch is biased, and compute the masked mean.",
]
PREREQUISITES = "Lesson 00; NumPy indexing and broadcasting."
MINUTES = 30
EXERCISE_MINUTES = 25

# Installed source the lecture quotes (`source_excerpt`): dotted name -> a line it asserts.
# tests/test_lesson_01.py fails if one disappears or changes, before the notebook is run.
QUOTED_SOURCE = {
    "keras.src.layers.core.embedding.Embedding.compute_mask": "return ops.not_equal(inputs, 0)",
    "keras.src.layers.rnn.lstm.LSTM": "6. Inputs, if use masking, are strictly right-padded.",
    "keras.src.backend.tensorflow.rnn._assert_valid_mask": "_is_sequence_right_padded(mask)",
    "keras.src.backend.tensorflow.rnn._cudnn_lstm": "_assert_valid_mask(mask)",
    "keras.src.backend.tensorflow.rnn.lstm": "except tf.errors.InvalidArgumentError:",
    "tf_keras.src.layers.rnn.lstm.lstm_with_backend_selection": "false_fn=stardard_lstm_fn",
}


# --------------------------------------------------------------------------- 1. pad_batch


def pad_batch(seqs, maxlen):
    """Token-id sequences -> int array `(batch, maxlen)`: padded at the end with 0, and long
    sequences cut at the end (their first `maxlen` tokens are kept)."""
    batch = np.zeros((len(seqs), maxlen), dtype="int32")
    for i, seq in enumerate(seqs):
        kept = list(seq)[:maxlen]
        batch[i, : len(kept)] = kept
    return batch


def _pad(seqs, maxlen, *, padding="post", truncating="post", value=0, width=None):
    """What `pad_sequences` would return for any choice of options (used to diagnose)."""
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


def _pads_pre(seqs, maxlen):
    return _pad(seqs, maxlen, padding="pre", truncating="pre")


def _truncates_pre(seqs, maxlen):
    return _pad(seqs, maxlen, truncating="pre")


def _pads_with_one(seqs, maxlen):
    return _pad(seqs, maxlen, value=1)


def _pads_to_longest(seqs, maxlen):
    return _pad(seqs, maxlen, width=max(len(s) for s in seqs))


def _float_batch(seqs, maxlen):
    return pad_batch(seqs, maxlen).astype("float32")


# Token ids start at 1 (0 is reserved); cases hold an empty sequence, sequences longer than
# `maxlen`, one of exactly `maxlen`, and the token id 1 (so padding with 1 is visibly wrong).
_PAD_CASES = [
    ([[5, 3, 8], [7], [1, 2, 3, 4, 6, 9, 2], [4, 4]], 5),
    ([[2, 9], [], [3, 1, 4, 1, 5]], 4),
    ([[6, 6, 6], [1, 2]], 3),
]


def _grade_pad_batch(fn) -> str:
    for seqs, maxlen in _PAD_CASES:
        expected = pad_batch(seqs, maxlen)
        got = call_learner(fn, [list(s) for s in seqs], maxlen)
        got = as_array(got, name="your padded batch", kind="number")
        longest = max(len(s) for s in seqs)
        if got.ndim == 2 and got.shape == (len(seqs), longest) and longest != maxlen:
            raise Mistake(
                "your batch is as wide as the longest sequence; it must have exactly `maxlen` "
                "columns, cutting longer sequences"
            )
        got = as_array(got, name="your padded batch", shape=expected.shape)
        if got.dtype.kind == "f":
            raise Mistake(
                "your batch holds floats; token ids are integers (`pad_sequences` returns "
                "int32 by default), so build it with an int dtype"
            )
        if np.array_equal(got, expected):
            continue
        if any(
            np.array_equal(got, _pad(seqs, maxlen, padding="pre", truncating=t))
            for t in ("pre", "post")
        ):
            raise Mistake(
                "you padded at the front ('pre', the `pad_sequences` default); this exercise "
                "pads at the end ('post'), so each sequence starts at step 0"
            )
        if np.array_equal(got, _truncates_pre(seqs, maxlen)):
            raise Mistake(
                "you cut long sequences at the front and kept their last tokens "
                "(truncating='pre'); keep their first `maxlen` tokens (truncating='post')"
            )
        fill = got[expected == 0]
        real = expected[expected != 0]
        if fill.size and np.all(fill == fill[0]) and fill[0] != 0:
            if np.any(real == fill[0]):
                raise Mistake(
                    f"you padded with {fill[0]}, which is also a real token id, so padding and "
                    "that token can no longer be told apart; pad with the reserved id 0"
                )
            raise Mistake(f"you padded with {fill[0]}; pad with the reserved id 0")
        raise Mistake(
            "some rows are wrong; try an empty sequence and one longer than `maxlen` by hand"
        )
    return "you pad at the end with 0 and keep the first `maxlen` tokens of long sequences."


# --------------------------------------------------------------------------- 2. lengths_to_mask


def lengths_to_mask(lengths, maxlen):
    """`lengths` `(batch,)` -> bool `mask` `(batch, maxlen)`, True on the real (first) steps."""
    return np.arange(maxlen)[None, :] < np.asarray(lengths)[:, None]


def _mask_as_ints(lengths, maxlen):
    return lengths_to_mask(lengths, maxlen).astype("int64")


def _mask_inverted(lengths, maxlen):
    return ~lengths_to_mask(lengths, maxlen)


def _mask_transposed(lengths, maxlen):
    return lengths_to_mask(lengths, maxlen).T


def _mask_to_longest(lengths, maxlen):
    return lengths_to_mask(lengths, int(np.max(lengths)))


def _mask_pre(lengths, maxlen):
    return lengths_to_mask(lengths, maxlen)[:, ::-1]


def _mask_off_by_one(lengths, maxlen):
    return np.arange(maxlen)[None, :] <= np.asarray(lengths)[:, None]


_LENGTH_CASES = [
    (np.array([3, 1, 5, 0]), 5),
    (np.array([2, 4, 1]), 6),
    (np.array([4]), 4),
]


def _grade_lengths_to_mask(fn) -> str:
    for lengths, maxlen in _LENGTH_CASES:
        expected = lengths_to_mask(lengths, maxlen)
        got = as_array(call_learner(fn, lengths.copy(), maxlen), name="your mask")
        n = len(lengths)
        if got.shape == (maxlen, n) and n != maxlen:
            raise Mistake("your mask is (time, batch); put the batch first: (batch, time)")
        if got.ndim == 2 and got.shape[0] == n and got.shape[1] == lengths.max() != maxlen:
            raise Mistake(
                "your mask is as wide as the longest sequence; it needs `maxlen` steps, "
                "like the padded batch it describes"
            )
        got = as_array(got, name="your mask", shape=expected.shape)
        if got.dtype.kind != "b":
            raise Mistake(
                f"your mask holds {got.dtype} numbers; a mask is boolean (True = real token), "
                "so build it from a comparison and do not cast it"
            )
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            raise Mistake("your mask is True on padding; True must mark the real tokens")
        if np.array_equal(got, expected[:, ::-1]):
            raise Mistake(
                "your mask marks the last steps as real; these sequences are padded at the end "
                "(post), so the real tokens come first"
            )
        if np.array_equal(got, _mask_off_by_one(lengths, maxlen)):
            raise Mistake("each row has one real step too many; steps 0 .. length-1 are real")
        raise Mistake("some rows are wrong; try a row of length 0 and a full row by hand")
    return "your mask is boolean, (batch, time), True on each row's first `length` steps."


# --------------------------------------------------------------------------- 3. mask_from_one_hot


def mask_from_one_hot(x, mask_value=0.0):
    """`x` `(batch, time, features)` -> bool `mask` `(batch, time)`: a step is padding only when
    EVERY feature equals `mask_value` (what `keras.layers.Masking` does)."""
    return np.any(np.asarray(x) != mask_value, axis=-1)


def _mask_any_feature(x, mask_value=0.0):
    return ~np.any(np.asarray(x) == mask_value, axis=-1)


def _mask_ignores_mask_value(x, mask_value=0.0):
    return np.any(np.asarray(x) != 0, axis=-1)


def _mask_true_on_padding(x, mask_value=0.0):
    return np.all(np.asarray(x) == mask_value, axis=-1)


def _mask_per_feature(x, mask_value=0.0):
    return np.asarray(x) != mask_value


def _mask_from_sum(x, mask_value=0.0):
    return np.asarray(x).sum(axis=-1) != mask_value


def _one_hot_case():
    from ..data import one_hot_chars

    # 'ab#c' holds the '#' placeholder inside the word; 'c' is short, so most of its row is padding.
    return one_hot_chars(["ab#c", "ba", "c", "cab"], maxlen=5)


def _feature_case():
    # Real features can be 0 or negative; padding is -1 in every feature.
    x = np.array(
        [
            [[0.5, -0.5, 0.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]],
            [[0.0, 0.0, 0.0], [1.0, 1.0, -3.0], [0.2, -1.0, 0.0], [-1.0, -1.0, -1.0]],
        ],
        dtype="float32",
    )
    return x, -1.0


def _zero_sum_case():
    x = np.array(
        [[[0.5, -0.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -2.0]], [[0.0, 0.0, 0.0]] * 3],
        dtype="float32",
    )
    return x, 0.0


def _grade_mask_from_one_hot(fn) -> str:
    cases = [(_one_hot_case(), 0.0), _feature_case(), _zero_sum_case()]
    for x, mask_value in cases:
        expected = mask_from_one_hot(x, mask_value)
        got = as_array(call_learner(fn, x.copy(), mask_value=mask_value), name="your mask")
        if got.shape == x.shape:
            raise Mistake(
                "your mask has one value per feature; a mask has one value per step, so "
                "reduce over the feature (last) axis"
            )
        got = as_array(got, name="your mask", shape=expected.shape)
        if got.dtype.kind != "b":
            raise Mistake(
                f"your mask holds {got.dtype} numbers; a mask is boolean (True = real step)"
            )
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            raise Mistake("your mask is True on padding; True must mark the real steps")
        if np.array_equal(got, _mask_any_feature(x, mask_value)):
            raise Mistake(
                "you marked a step as padding when ANY feature equals `mask_value`; a one-hot "
                "row is full of zeros, so a step is padding only when EVERY feature equals it"
            )
        if mask_value != 0 and np.array_equal(got, _mask_ignores_mask_value(x, mask_value)):
            raise Mistake("your function compares with 0 whatever `mask_value` says")
        if np.array_equal(got, _mask_from_sum(x, mask_value)):
            raise Mistake(
                "you compared the sum of the features with `mask_value`; features can cancel "
                "out or add up, so compare each feature on its own"
            )
        raise Mistake("some steps are wrong; try the all-padding row and a real all-zero row")
    return "a step is padding only when every feature equals `mask_value`, as in `Masking`."


# --------------------------------------------------------------------------- 4. masked_mean


def masked_mean(losses, mask):
    """Mean of per-step `losses` `(batch, time)` over the real tokens only (`mask` True)."""
    losses = np.asarray(losses, dtype="float64")
    mask = np.asarray(mask, dtype=bool)
    return float(np.sum(losses * mask) / np.sum(mask))


def _mean_over_all_steps(losses, mask):
    return float(np.mean(np.asarray(losses) * np.asarray(mask)))


def _unmasked_mean(losses, mask):
    return float(np.mean(losses))


def _mean_of_row_means(losses, mask):
    losses, mask = np.asarray(losses), np.asarray(mask, dtype=bool)
    return float(np.mean(np.sum(losses * mask, axis=1) / np.sum(mask, axis=1)))


def _masked_sum(losses, mask):
    return float(np.sum(np.asarray(losses) * np.asarray(mask)))


def _mean_of_padding(losses, mask):
    mask = ~np.asarray(mask, dtype=bool)
    return float(np.sum(np.asarray(losses) * mask) / np.sum(mask))


def _loss_cases():
    rng = np.random.default_rng(1)
    post = lengths_to_mask(np.array([5, 2, 3]), 5)
    pre = np.array([[False, False, True, True], [True, True, True, True], [False] * 3 + [True]])
    return [
        (rng.uniform(0.1, 2.0, size=post.shape).astype("float32"), post),
        (rng.uniform(0.1, 2.0, size=pre.shape).astype("float32"), pre),
    ]


def _grade_masked_mean(fn) -> str:
    for losses, mask in _loss_cases():
        expected = masked_mean(losses, mask)
        got = as_number(
            call_learner(fn, losses.copy(), mask.copy()), name="what your function returned"
        )
        if close(got, expected):
            continue
        diagnoses = [
            (
                _mean_over_all_steps,
                "your mean divides by all the steps, padding included; divide by the number "
                "of real tokens (the mask's True entries) instead",
            ),
            (
                _unmasked_mean,
                "your mean includes the losses at padded steps; multiply by the mask first",
            ),
            (
                _mean_of_row_means,
                "you averaged each row first, so a short row's tokens weigh more than a long "
                "row's; average over all the real tokens of the batch at once",
            ),
            (_masked_sum, "you returned a sum, not a mean; divide by the number of real tokens"),
            (_mean_of_padding, "you averaged the padding steps; True in `mask` marks real tokens"),
        ]
        for wrong, message in diagnoses:
            if close(got, wrong(losses, mask)):
                raise Mistake(message)
        raise Mistake(
            "your number differs from the mean loss over the real tokens; compute "
            "sum(losses * mask) and the count of real tokens separately and compare"
        )
    return "you average over the real tokens only, whatever the padding side."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="pad_batch",
        answer_name="pad_batch",
        title="Pad a batch at the end with 0",
        grader=_grade_pad_batch,
        hints=[
            "`keras.utils.pad_sequences` does it; its defaults pad and truncate at the front "
            "('pre'), so you need to change two options.",
            "Pass `maxlen=maxlen`, `padding='post'`, `truncating='post'` and keep `value=0`: "
            "0 is the id reserved for padding.",
            "`return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding='post', "
            "truncating='post')`",
        ],
        reference=pad_batch,
        legacy_wrong_answers=[
            WrongAnswer("pads pre", _pads_pre, "padded at the front"),
            WrongAnswer("truncates pre", _truncates_pre, "truncating='pre'"),
            WrongAnswer("pads with a token id", _pads_with_one, "also a real token id"),
            WrongAnswer("width of the longest", _pads_to_longest, "as wide as the longest"),
            WrongAnswer("float ids", _float_batch, "holds floats"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="lengths_to_mask",
        answer_name="lengths_to_mask",
        title="Build the boolean mask from lengths",
        grader=_grade_lengths_to_mask,
        hints=[
            "Step t of row i is real when t < lengths[i]. Compare a row of step numbers with a "
            "column of lengths and let broadcasting do the rest.",
            "`np.arange(maxlen)` has shape (maxlen,); `np.asarray(lengths)[:, None]` has shape "
            "(batch, 1). Their `<` comparison is (batch, maxlen) and already boolean.",
            "`return np.arange(maxlen)[None, :] < np.asarray(lengths)[:, None]`",
        ],
        reference=lengths_to_mask,
        legacy_wrong_answers=[
            WrongAnswer("int 0/1 mask", _mask_as_ints, "a mask is boolean"),
            WrongAnswer("True on padding", _mask_inverted, "True on padding"),
            WrongAnswer("(time, batch)", _mask_transposed, "put the batch first"),
            WrongAnswer("width of the longest", _mask_to_longest, "as wide as the longest"),
            WrongAnswer("pre-padding mask", _mask_pre, "marks the last steps"),
            WrongAnswer("<= instead of <", _mask_off_by_one, "one real step too many"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="mask_from_one_hot",
        answer_name="mask_from_one_hot",
        title="Build the mask from one-hot rows",
        grader=_grade_mask_from_one_hot,
        hints=[
            "A step is padding when its whole feature vector equals `mask_value`; one feature "
            "equal to it proves nothing (a one-hot row is mostly zeros).",
            "Compare `x != mask_value` (batch, time, features), then ask whether ANY feature "
            "differs, over the last axis: that step is real.",
            "`return np.any(np.asarray(x) != mask_value, axis=-1)`",
        ],
        reference=mask_from_one_hot,
        legacy_wrong_answers=[
            WrongAnswer("any feature equals", _mask_any_feature, "EVERY feature"),
            WrongAnswer("ignores mask_value", _mask_ignores_mask_value, "whatever `mask_value`"),
            WrongAnswer("True on padding", _mask_true_on_padding, "True on padding"),
            WrongAnswer("no reduction", _mask_per_feature, "one value per feature"),
            WrongAnswer("sums the features", _mask_from_sum, "sum of the features"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_mean",
        answer_name="masked_mean",
        title="Average a loss over the real tokens",
        grader=_grade_masked_mean,
        hints=[
            "Zero the padded steps' losses with the mask, then divide by how many steps are "
            "real, not by how many steps there are.",
            "`np.sum(losses * mask)` is the numerator; `np.sum(mask)` counts the real tokens.",
            "`return float(np.sum(losses * mask) / np.sum(mask))`",
        ],
        reference=masked_mean,
        legacy_wrong_answers=[
            WrongAnswer("divides by all steps", _mean_over_all_steps, "divides by all the steps"),
            WrongAnswer("no mask", _unmasked_mean, "includes the losses at padded steps"),
            WrongAnswer("mean of row means", _mean_of_row_means, "averaged each row first"),
            WrongAnswer("sum", _masked_sum, "a sum, not a mean"),
            WrongAnswer("mean of padding", _mean_of_padding, "averaged the padding"),
        ],
    ),
]
