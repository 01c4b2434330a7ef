"""Lesson 05, fix 1: pad with 0 after one end token, shift the vocabulary, `mask_zero=True`."""

from __future__ import annotations

import numpy as np

from ..checking import Exercise, Mistake, WrongAnswer, as_array, as_number, call_learner, close

LESSON = "05_fix_mask_zero"
TITLE = "Fix 1: pad with 0 and `Embedding(mask_zero=True)`"
OBJECTIVES = [
    "reproduce the seq2seq model that predicts the end token at real positions, and measure it "
    "with metrics that ignore padding;",
    "show that the collapsed model is the input-blind per-position predictor, and why that "
    "predictor's answer is the end token even when padding is not counted;",
    "re-encode targets the fixed way: reserve id 0 for padding, shift every id by one, one end "
    "token then 0s;",
    "size `Embedding(input_dim=vocab + 1, mask_zero=True)` and show that its mask (`ids != 0`) "
    "reaches the loss and the compiled metrics;",
    "measure what the fix repairs, teacher-forced and greedily, and what it cannot do.",
]
PREREQUISITES = (
    "Lessons 01-04: padding, masks, how a mask travels through a model and where it is dropped."
)
MINUTES = 35
EXERCISE_MINUTES = 20


# --------------------------------------------------------------------------- exercise 1


def encode_fixed(sequences, end_id, maxlen):
    """Naive ids (real tokens from 0, end token `end_id`) -> the fixed encoding, (batch, maxlen):
    every id shifted up by one, one end token after each sequence, then 0s (padding)."""
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
        out[i, len(seq)] = end_id + 1
    return out


def _encode_no_shift(sequences, end_id, maxlen):
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
        out[i, len(seq)] = end_id
    return out


def _encode_end_padding(sequences, end_id, maxlen):
    out = np.full((len(sequences), maxlen), end_id + 1, dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
    return out


def _encode_no_end(sequences, end_id, maxlen):
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = np.asarray(seq, dtype="int32") + 1
    return out


def _encode_end_not_shifted(sequences, end_id, maxlen):
    out = encode_fixed(sequences, end_id, maxlen)
    out[out == end_id + 1] = end_id
    return out


_ENCODE_CASES = [
    ([[0, 3, 1], [2], [4, 0]], 6, 5),
    ([[5, 5, 5], [0]], 7, 4),
    ([[9, 0, 2, 7, 1], [3, 3], [0], [8, 6, 0, 4]], 11, 8),
]


def _grade_encode(fn) -> str:
    for sequences, end_id, maxlen in _ENCODE_CASES:
        expected = encode_fixed(sequences, end_id, maxlen)
        got = call_learner(fn, [list(s) for s in sequences], end_id, maxlen)
        got = as_array(
            got,
            name="what your function returned",
            shape=(len(sequences), maxlen),
            kind="int",
        )
        if np.array_equal(got, expected):
            continue
        lengths = [len(s) for s in sequences]
        steps = np.arange(maxlen)[None, :]
        lengths_col = np.asarray(lengths)[:, None]
        tokens, end, pad = steps < lengths_col, steps == lengths_col, steps > lengths_col
        naive = np.full((len(sequences), maxlen), -1)
        for i, seq in enumerate(sequences):
            naive[i, : len(seq)] = seq
        if np.array_equal(got[tokens], naive[tokens]):
            raise Mistake(
                "real token ids are not shifted: token 0 then looks exactly like padding and "
                "gets masked; add 1 to every real id"
            )
        if not np.array_equal(got[tokens], expected[tokens]):
            raise Mistake(
                "the real tokens are wrong: keep their order, start at the first step, and add 1 "
                "to every id"
            )
        if np.all(got[end] == 0):
            raise Mistake(
                "there is no end token after the sequences; write one end token right after the "
                "last real token, then pad"
            )
        if np.all(got[end] == end_id):
            raise Mistake(
                "the end token is not shifted: every id moves up by one, the end token too, or "
                "it collides with a real token"
            )
        if not np.array_equal(got[end], expected[end]):
            raise Mistake("the step right after each sequence must hold the (shifted) end token")
        if np.any(pad) and np.all(got[pad] == end_id + 1):
            raise Mistake(
                "you padded with the end token, the naive padding this lesson removes; pad with "
                "0 after one end token"
            )
        raise Mistake("the padding after the end token must be 0 everywhere")
    return "ids shifted by one, one end token, then 0s: `mask_zero=True` can now find the padding."


# --------------------------------------------------------------------------- exercise 2


def fixed_embedding(naive_vocab_size, output_dim):
    """The Embedding for the fixed encoding of a naive vocabulary of `naive_vocab_size` ids."""
    import keras

    return keras.layers.Embedding(
        input_dim=naive_vocab_size + 1, output_dim=output_dim, mask_zero=True
    )


def _embedding_no_plus_one(naive_vocab_size, output_dim):
    import keras

    return keras.layers.Embedding(naive_vocab_size, output_dim, mask_zero=True)


def _embedding_no_mask(naive_vocab_size, output_dim):
    import keras

    return keras.layers.Embedding(naive_vocab_size + 1, output_dim)


def _grade_embedding(fn) -> str:
    import keras

    for naive_vocab_size, output_dim in [(52, 8), (7, 3)]:
        layer = call_learner(fn, naive_vocab_size, output_dim)
        if layer is None:
            raise Mistake("your function returned None; did you forget a `return`?")
        if not isinstance(layer, keras.layers.Embedding):
            raise Mistake(
                f"your function returned a {type(layer).__name__}; return a "
                "`keras.layers.Embedding` layer"
            )
        if layer.input_dim == naive_vocab_size:
            raise Mistake(
                "`input_dim` equals the naive vocabulary size, but the fixed encoding uses one "
                "more id (0 for padding, every other id shifted up): the largest id would fall "
                "outside the table"
            )
        if layer.input_dim != naive_vocab_size + 1:
            raise Mistake(
                "`input_dim` must count every id of the fixed encoding: 0 for padding plus the "
                "naive ids, each shifted up by one"
            )
        if not layer.mask_zero:
            raise Mistake(
                "the layer does not produce a mask: set `mask_zero=True` so padding (id 0) is "
                "skipped by the LSTM and the loss"
            )
        if layer.output_dim != output_dim:
            raise Mistake("use `output_dim` for the size of each embedding vector")
        ids = np.array([[naive_vocab_size, 1, 0, 0], [2, 0, 0, 0]], dtype="int32")
        vectors = np.asarray(layer(ids))
        mask = np.asarray(layer.compute_mask(ids))
        if vectors.shape != (2, 4, output_dim) or not np.array_equal(mask, ids != 0):
            raise Mistake("the layer's mask should be True exactly where the id is not 0")
    return "one extra row for padding and `mask_zero=True`: the mask is `ids != 0`."


# --------------------------------------------------------------------------- exercise 3


def masked_accuracy(y_true, y_pred, pad_id=0):
    """Accuracy over real target positions only: `y_true` (batch, time) ids, `y_pred`
    (batch, time, vocab) probabilities; positions where `y_true == pad_id` do not count."""
    y_true = np.asarray(y_true)
    real = y_true != pad_id
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true
    return float(np.sum(right & real) / np.sum(real))


def _accuracy_counts_padding(y_true, y_pred, pad_id=0):
    return float(np.mean(np.argmax(np.asarray(y_pred), axis=-1) == np.asarray(y_true)))


def _accuracy_per_sequence(y_true, y_pred, pad_id=0):
    y_true = np.asarray(y_true)
    real = y_true != pad_id
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true
    return float(np.mean(np.sum(right & real, axis=1) / np.sum(real, axis=1)))


def _accuracy_mask_from_predictions(y_true, y_pred, pad_id=0):
    ids = np.argmax(np.asarray(y_pred), axis=-1)
    real = ids != pad_id
    return float(np.sum((ids == np.asarray(y_true)) & real) / np.sum(real))


def _accuracy_cases():
    vocab = 6
    y_true = np.array([[3, 1, 5, 2, 4, 0, 0, 0], [2, 5, 0, 0, 0, 0, 0, 0]])
    # right on 3 of the 5 real tokens of row 0, on 1 of the 2 of row 1; right on most padding,
    # and one real position predicted as padding
    pred_ids = np.array([[3, 1, 0, 4, 4, 0, 0, 0], [2, 0, 0, 0, 1, 0, 0, 0]])
    right_on_padding_only = np.where(y_true == 0, 0, (y_true % (vocab - 1)) + 1)
    y_naive = np.array([[1, 2, 7, 7, 7], [4, 0, 6, 7, 7], [5, 7, 7, 7, 7]])
    naive_pred = np.array([[1, 0, 7, 7, 7], [4, 0, 6, 6, 7], [2, 7, 7, 3, 7]])
    return [
        (y_true, np.eye(vocab)[pred_ids] * 0.9 + 0.01, 0),
        (y_true, np.eye(vocab)[right_on_padding_only], 0),
        (y_naive, np.eye(8)[naive_pred] * 0.7 + 0.02, 7),
    ]


def _grade_accuracy(fn) -> str:
    for y_true, y_pred, pad_id in _accuracy_cases():
        expected = masked_accuracy(y_true, y_pred, pad_id)
        got = call_learner(fn, y_true.copy(), y_pred.copy(), pad_id=pad_id)
        got = as_number(got, name="your accuracy")
        if close(got, expected):
            continue
        if not 0 <= got <= 1:
            raise Mistake("an accuracy is a fraction between 0 and 1")
        if close(got, _accuracy_counts_padding(y_true, y_pred, pad_id)):
            raise Mistake(
                "your accuracy counts padded steps too: a model that is right only on padding "
                "must score 0; keep the positions where `y_true != pad_id`"
            )
        if close(got, _accuracy_per_sequence(y_true, y_pred, pad_id)):
            raise Mistake(
                "you average the per-sequence accuracies, so a short sequence weighs as much as "
                "a long one; divide the right real tokens by all real tokens of the batch"
            )
        if close(got, _accuracy_mask_from_predictions(y_true, y_pred, pad_id)):
            raise Mistake(
                "your mask comes from the predictions; padding is where the *targets* "
                "`y_true` equal `pad_id`"
            )
        if pad_id != 0 and close(got, masked_accuracy(y_true, y_pred, 0)):
            raise Mistake("your function treats 0 as padding even when `pad_id` says otherwise")
        raise Mistake(
            "the accuracy is off: compare `argmax(y_pred, axis=-1)` with `y_true` on the real "
            "positions only"
        )
    return "padding never counts, and every real token counts once."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="encode_fixed",
        answer_name="encode_fixed",
        title="Shift the ids, add one end token, pad with 0",
        grader=_grade_encode,
        hints=[
            "Start from an array of zeros `(len(sequences), maxlen)`: every step you do not "
            "write stays padding.",
            "Each real id `t` becomes `t + 1`, so no real token is 0; the end token `end_id` "
            "becomes `end_id + 1` too, and goes at step `len(seq)`.",
            "`out[i, :len(seq)] = np.asarray(seq) + 1` then `out[i, len(seq)] = end_id + 1`.",
        ],
        reference=encode_fixed,
        legacy_wrong_answers=[
            WrongAnswer("ids not shifted", _encode_no_shift, "not shifted"),
            WrongAnswer("padded with the end token", _encode_end_padding, "padded with the end"),
            WrongAnswer("no end token", _encode_no_end, "no end token"),
            WrongAnswer("end token not shifted", _encode_end_not_shifted, "end token is not"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="fixed_embedding",
        answer_name="fixed_embedding",
        title="Size the Embedding for the fixed encoding",
        grader=_grade_embedding,
        hints=[
            "Count the ids of the fixed encoding: padding 0, then every naive id moved up by "
            "one. What is the largest id now?",
            "`input_dim` must be larger than the largest id: `naive_vocab_size + 1`; and the "
            "layer must make a mask from the zeros.",
            "`keras.layers.Embedding(naive_vocab_size + 1, output_dim, mask_zero=True)`.",
        ],
        reference=fixed_embedding,
        legacy_wrong_answers=[
            WrongAnswer("forgets + 1", _embedding_no_plus_one, "one more id"),
            WrongAnswer("no mask_zero", _embedding_no_mask, "mask_zero=True"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_accuracy",
        answer_name="masked_accuracy",
        title="An accuracy that ignores padding",
        grader=_grade_accuracy,
        hints=[
            "Two boolean arrays `(batch, time)`: where the prediction is right, and where the "
            "target is real (`y_true != pad_id`).",
            "Count the right *and* real positions, and divide by the number of real positions "
            "of the whole batch (not per sequence).",
            "`real = y_true != pad_id; right = np.argmax(y_pred, -1) == y_true; "
            "np.sum(right & real) / np.sum(real)`.",
        ],
        reference=masked_accuracy,
        legacy_wrong_answers=[
            WrongAnswer("counts padding", _accuracy_counts_padding, "counts padded steps"),
            WrongAnswer("per-sequence mean", _accuracy_per_sequence, "per-sequence accuracies"),
            WrongAnswer(
                "mask from predictions", _accuracy_mask_from_predictions, "from the predictions"
            ),
        ],
    ),
]
