"""Lesson 05, fix 1: pad with 0 after one end token, shift the vocabulary, `mask_zero=True`.

The exercises are data (see AUTHORING.md): cases, a probe and named misconceptions. The answers
live in `course_utils.answers.l05_fix_mask_zero`.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import VALUE, Misconception, Observation
from ..probing import Case, run

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


def _padded(rng: np.random.Generator, rows: int, steps: int, tokens, pad_id, side="post"):
    """A (rows, steps) batch of `tokens` drawn at random, each row 1..steps-1 long, padded with
    `pad_id` on `side`."""
    batch = np.full((rows, steps), pad_id)
    for r in range(rows):
        n = int(rng.integers(1, steps))
        row = rng.choice(tokens, size=n)
        if side == "post":
            batch[r, :n] = row
        else:
            batch[r, steps - n :] = row
    return batch


# --------------------------------------------------------------------------- exercise 1


def _encode_cases(rng: np.random.Generator) -> list[Case]:
    """Three fixed batches (token 0 present, a single-token sequence, a row one step short of
    `maxlen`) and two generated ones."""
    fixed = [
        Case(([[0, 3, 1], [2], [4, 0]], 6, 5), note="three short sequences"),
        Case(([[5, 5, 5], [0]], 7, 4), note="a sequence that fills all but the last step"),
        Case(
            ([[9, 0, 2, 7, 1], [3, 3], [0], [8, 6, 0, 4]], 11, 8),
            note="four sequences of different lengths",
        ),
    ]
    generated = []
    for _ in range(2):
        end_id = int(rng.integers(3, 30))
        maxlen = int(rng.integers(3, 10))
        sequences = [
            [int(t) for t in rng.integers(0, end_id, size=int(rng.integers(1, maxlen)))]
            for _ in range(int(rng.integers(2, 6)))
        ]
        sequences[0] = [0, *sequences[0][: maxlen - 2]]  # token 0 occurs
        generated.append(Case((sequences, end_id, maxlen), note="a generated batch"))
    return fixed + generated


# --------------------------------------------------------------------------- exercise 2


def _embedding_cases(rng: np.random.Generator) -> list[Case]:
    """The asker's encodings: padding with the last id (token 0 is real), padding with 1 on the
    left (tokens 0 and the last id are real), an encoding already padded with 0, and two
    generated batches whose `pad_id` is drawn from the vocabulary."""
    fixed = [
        Case(
            (np.array([[3, 0, 2, 5, 5], [1, 4, 0, 0, 5], [2, 5, 5, 5, 5]]), 5, 6, 4),
            note="padding with the last id of the vocabulary",
        ),
        Case(
            (np.array([[1, 1, 0, 7, 2], [1, 5, 3, 0, 7], [1, 1, 1, 1, 4]]), 1, 8, 3),
            note="pre-padding with id 1",
        ),
        Case((np.array([[4, 2, 0, 0], [1, 3, 4, 0]]), 0, 5, 2), note="padding that is already 0"),
    ]
    generated = []
    for side in ("post", "pre"):
        vocab_size = int(rng.integers(5, 30))
        pad_id = int(rng.integers(1, vocab_size))
        tokens = [t for t in range(vocab_size) if t != pad_id]
        ids = _padded(rng, int(rng.integers(2, 5)), int(rng.integers(4, 9)), tokens, pad_id, side)
        real = np.argwhere(ids != pad_id)
        ids[tuple(real[0])] = 0  # token 0 is real somewhere
        ids[tuple(real[-1])] = tokens[-1]  # and so is the largest real id
        generated.append(
            Case((ids, pad_id, vocab_size, int(rng.integers(2, 9))), note=f"a {side}-padded batch")
        )
    return fixed + generated


def _probe_embedding(answer, case: Case) -> Observation:
    """Run the learner's `fixed_embedding`; observe the mask its layer computes for its ids
    (the value) and, in `extra`, what the pair it returned is made of."""
    import keras

    failed, returned = run(answer, case)
    if failed is not None:
        return failed
    ids, pad_id, _, output_dim = case.args
    extra = {"returned": "pair", "ids": "ok", "in_table": True, "mask": True}
    extra |= {"distinct": True, "vector_size": True}
    observed = {"outcome": VALUE, "value": None, "kind": "b", "shape": list(ids.shape)}
    observed["extra"] = extra
    if returned is Ellipsis:
        return {"outcome": "not_attempted"}
    if not isinstance(returned, tuple | list) or len(returned) != 2:
        extra["returned"] = "not a pair"
        return observed
    fixed_ids, layer = returned
    if not isinstance(layer, keras.layers.Embedding):
        swapped = isinstance(fixed_ids, keras.layers.Embedding)
        extra["returned"] = "swapped" if swapped else f"not an Embedding: {type(layer).__name__}"
        return observed
    try:
        fixed_ids = np.asarray(fixed_ids)
    except Exception:
        fixed_ids = np.asarray(None)
    if fixed_ids.shape != ids.shape:
        extra["ids"] = "shape"
        return observed
    if fixed_ids.dtype.kind not in "iu":
        extra["ids"] = "not integers"
        return observed
    real = ids != pad_id
    pairs = set(zip(ids[real].tolist(), fixed_ids[real].tolist(), strict=True))
    extra["distinct"] = len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    extra["in_table"] = bool(fixed_ids.min() >= 0 and fixed_ids.max() < layer.input_dim)
    failed, mask = run(lambda: layer.compute_mask(fixed_ids), Case())
    if failed is not None or mask is None:
        extra["mask"] = False
    else:
        observed["value"] = np.asarray(mask).astype(bool).tolist()
    if extra["in_table"]:
        failed, vectors = run(lambda: layer(fixed_ids), Case())
        shape = () if failed is not None else tuple(vectors.shape)
        extra["vector_size"] = shape == (*ids.shape, output_dim)
    else:
        extra["vector_size"] = layer.output_dim == output_dim
    return observed


_EMBEDDING_SAYS = {
    ("returned", "not a pair"): "return a pair `(fixed_ids, layer)`: the re-encoded ids and "
    "the Embedding layer that reads them",
    ("returned", "swapped"): "return the ids first and the layer second: `(fixed_ids, layer)`",
    ("ids", "shape"): "`fixed_ids` must keep the shape of `ids`: one id per position",
    ("ids", "not integers"): "`fixed_ids` must hold integers: ids are row numbers of the table",
    ("in_table", False): "some of your ids fall outside the layer's table: `input_dim` must be "
    "larger than the largest id you feed it",
    ("mask", False): "your layer makes no mask: `mask_zero=True` is what masks id 0",
    ("distinct", False): "two different tokens got the same id (or one token two ids), so the "
    "model can no longer tell them apart; every real token keeps an id of its own",
    ("vector_size", False): "use `output_dim` for the size of each embedding vector",
}


def _embedding_custom(learner: list[Observation], reference: list[Observation]) -> str | None:
    """Name what is wrong with the returned pair, in the order a learner can fix it."""
    for observed in learner:
        if observed.get("outcome") != VALUE:
            return None
        extra = observed.get("extra", {})
        if str(extra.get("returned", "")).startswith("not an Embedding"):
            kind = extra["returned"].split(": ", 1)[1]
            return f"the second item you returned is a {kind}; return a `keras.layers.Embedding`"
        for (key, bad), says in _EMBEDDING_SAYS.items():
            if extra.get(key) == bad:
                return says
    return None


# --------------------------------------------------------------------------- exercise 3


def _accuracy_cases(rng: np.random.Generator) -> list[Case]:
    """Right on most padding and on some real tokens; right on padding only; a `pad_id` that is
    not 0; and two generated batches (random lengths, vocabulary and predictions)."""
    vocab = 6
    y_true = np.array([[3, 1, 5, 2, 4, 0, 0, 0], [2, 5, 0, 0, 0, 0, 0, 0]])
    # right on 3 of the 5 real tokens of row 0, on 1 of the 2 of row 1; right on most padding,
    # and one real position predicted as padding
    pred_ids = np.array([[3, 1, 0, 4, 4, 0, 0, 0], [2, 0, 0, 0, 1, 0, 0, 0]])
    right_on_padding_only = np.where(y_true == 0, 0, (y_true % (vocab - 1)) + 1)
    y_naive = np.array([[1, 2, 7, 7, 7], [4, 0, 6, 7, 7], [5, 7, 7, 7, 7]])
    naive_pred = np.array([[1, 0, 7, 7, 7], [4, 0, 6, 6, 7], [2, 7, 7, 3, 7]])
    fixed = [
        Case((y_true, np.eye(vocab)[pred_ids] * 0.9 + 0.01, 0), note="a post-padded batch"),
        Case(
            (y_true, np.eye(vocab)[right_on_padding_only], 0),
            note="predictions right only on padding",
        ),
        Case((y_naive, np.eye(8)[naive_pred] * 0.7 + 0.02, 7), note="a `pad_id` that is not 0"),
    ]
    generated = []
    for _ in range(2):
        vocab = int(rng.integers(4, 12))
        pad_id = int(rng.integers(0, vocab))
        tokens = [t for t in range(vocab) if t != pad_id]
        y = _padded(rng, int(rng.integers(2, 6)), int(rng.integers(3, 9)), tokens, pad_id)
        guess = np.where(rng.random(y.shape) < 0.5, y, rng.integers(0, vocab, size=y.shape))
        probs = np.eye(vocab)[guess] * 0.8 + rng.random((*y.shape, vocab)) * 0.1
        generated.append(Case((y, probs, pad_id), note="a generated batch"))
    return fixed + generated


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="encode_fixed",
        answer_name="encode_fixed",
        title="Shift the ids, add one end token, pad with 0",
        cases=_encode_cases,
        reference="encode_fixed",
        alternatives=["encode_with_np_pad", "encode_row_by_row"],
        misconceptions=[
            Misconception(
                "ids not shifted",
                "encode_no_shift",
                "real token ids are not shifted: token 0 then looks exactly like padding and "
                "gets masked; add 1 to every real id",
            ),
            Misconception(
                "padded with the end token",
                "encode_end_padding",
                "you padded with the end token, the naive padding this lesson removes; pad with "
                "0 after one end token",
            ),
            Misconception(
                "no end token",
                "encode_no_end",
                "there is no end token after the sequences; write one end token right after the "
                "last real token, then pad",
            ),
            Misconception(
                "end token not shifted",
                "encode_end_not_shifted",
                "the end token is not shifted: every id moves up by one, the end token too, or "
                "it collides with a real token",
            ),
        ],
        judge={
            "what": "what your function returned",
            "success": "ids shifted by one, one end token, then 0s: `mask_zero=True` can now "
            "find the padding.",
            "fallback": "some positions hold the wrong id: the shifted tokens, then the shifted "
            "end token, then 0s",
            "tolerance": {"strict_kind": True},
        },
        hints=[
            "Start from an array of zeros `(len(sequences), maxlen)`: every step you do not "
            "write stays padding.",
            "Each real id `t` becomes `t + 1`, so no real token is 0; the end token `end_id` "
            "becomes `end_id + 1` too, and goes at step `len(seq)`.",
            "`out[i, :len(seq)] = np.asarray(seq) + 1` then `out[i, len(seq)] = end_id + 1`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="fixed_embedding",
        answer_name="fixed_embedding",
        title="Re-encode the asker's ids for `mask_zero=True`",
        cases=_embedding_cases,
        probe=_probe_embedding,
        reference="fixed_embedding",
        alternatives=["embedding_swapping_pad_and_zero", "embedding_closing_the_gap"],
        misconceptions=[
            Misconception(
                "pad_id kept",
                "embedding_keeps_pad_id",
                "you kept the asker's ids: `mask_zero=True` masks id 0, which here is a real "
                "token, and leaves the padding (`pad_id`) unmasked; padding must become 0",
            ),
            Misconception(
                "padding set to 0 without a shift",
                "embedding_pad_to_zero_unshifted",
                "padding became 0, but token 0 stayed 0 too: it is now masked like padding; "
                "move the real ids out of the way (shift them up by one) so no real token is 0",
            ),
            Misconception(
                "table one row short",
                "embedding_table_too_small",
                "the ids are right, but the table is one row short: after the shift the "
                "largest id is `vocab_size`, so `input_dim` must be `vocab_size + 1`",
            ),
            Misconception(
                "no mask_zero",
                "embedding_without_mask",
                "the ids are right, but the layer does not produce a mask: set "
                "`mask_zero=True` so the padding (now 0) is skipped by the LSTM and the loss",
            ),
            Misconception(
                "padding shifted too",
                "embedding_shifts_padding_too",
                "you shifted every id, padding included: no id is 0 any more, so "
                "`mask_zero=True` masks nothing; padding must become 0",
            ),
        ],
        judge={
            "what": "the mask of your layer",
            "success": "padding is 0, every real token keeps an id of its own inside the "
            "table, and the layer masks exactly the padding.",
            "fallback": "your layer's mask is not True exactly at the real tokens: padding "
            "must become 0, and no real token may",
            "custom": _embedding_custom,
        },
        hints=[
            "`mask_zero=True` masks id 0 and nothing else, so the padding must become 0. What "
            "happens to a real token whose id was 0?",
            "Move every real id up by one and write 0 where `ids == pad_id`; the largest id is "
            "then `vocab_size`, so the table needs `vocab_size + 1` rows.",
            "`fixed_ids = np.where(ids == pad_id, 0, ids + 1)` and "
            "`keras.layers.Embedding(vocab_size + 1, output_dim, mask_zero=True)`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_accuracy",
        answer_name="masked_accuracy",
        title="An accuracy that ignores padding",
        cases=_accuracy_cases,
        reference="masked_accuracy",
        alternatives=["accuracy_on_selected_positions", "accuracy_with_a_loop"],
        misconceptions=[
            Misconception(
                "counts padding",
                "accuracy_counts_padding",
                "your accuracy counts padded steps too: a model that is right only on padding "
                "must score 0; keep the positions where `y_true != pad_id`",
            ),
            Misconception(
                "per-sequence mean",
                "accuracy_per_sequence",
                "you average the per-sequence accuracies, so a short sequence weighs as much as "
                "a long one; divide the right real tokens by all real tokens of the batch",
            ),
            Misconception(
                "mask from predictions",
                "accuracy_mask_from_predictions",
                "your mask comes from the predictions; padding is where the *targets* "
                "`y_true` equal `pad_id`",
            ),
            Misconception(
                "ignores pad_id",
                "accuracy_ignores_pad_id",
                "your function treats 0 as padding even when `pad_id` says otherwise",
            ),
        ],
        judge={
            "what": "your accuracy",
            "success": "padding never counts, and every real token counts once.",
            "fallback": "the accuracy is off: compare `argmax(y_pred, axis=-1)` with `y_true` "
            "on the real positions only",
        },
        hints=[
            "Two boolean arrays `(batch, time)`: where the prediction is right, and where the "
            "target is real (`y_true != pad_id`).",
            "Count the right *and* real positions, and divide by the number of real positions "
            "of the whole batch (not per sequence).",
            "`real = y_true != pad_id; right = np.argmax(y_pred, -1) == y_true; "
            "np.sum(right & real) / np.sum(real)`.",
        ],
    ),
]
