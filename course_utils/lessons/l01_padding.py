"""Lesson 01: padding a batch, reserving id 0, lengths <-> masks, and the masked mean.

The exercises are data (see AUTHORING.md): cases (fixed edge cases plus batches drawn from a
seed), the default probe, and named misconceptions. The answers live in
`course_utils.answers.l01_padding`.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import VALUE, Misconception, Observation
from ..probing import Case

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

# Token ids start at 1 (0 is reserved); cases hold an empty sequence, sequences longer than
# `maxlen`, one of exactly `maxlen`, and the token id 1 (so padding with 1 is visibly wrong).
PAD_CASES = [
    ([[5, 3, 8], [7], [1, 2, 3, 4, 6, 9, 2], [4, 4]], 5),
    ([[2, 9], [], [3, 1, 4, 1, 5]], 4),
    ([[6, 6, 6], [1, 2]], 3),
]


def _pad_cases(rng: np.random.Generator) -> list[Case]:
    """The fixed batches above, then two drawn from the seed: random lengths from 0 to beyond
    `maxlen`, with at least one sequence cut and one padded."""
    cases = [
        Case((seqs, maxlen), note="a batch with a long sequence") for seqs, maxlen in PAD_CASES
    ]
    for _ in range(2):
        maxlen = int(rng.integers(3, 7))
        lengths = [int(n) for n in rng.integers(0, maxlen + 4, size=int(rng.integers(2, 6)))]
        lengths[:2] = [maxlen + 2, int(rng.integers(0, maxlen))]
        seqs = [[int(t) for t in rng.integers(1, 10, size=n)] for n in lengths]
        cases.append(Case((seqs, maxlen), note="a batch drawn at random"))
    return cases


def _padded_with_another_value(learner: list[Observation], reference: list[Observation]):
    """A batch right everywhere except that its padding is one constant other than 0."""
    fills = set()
    for mine, theirs in zip(learner, reference, strict=True):
        if mine.get("outcome") != VALUE or mine.get("shape") != theirs.get("shape"):
            return None
        got, want = np.asarray(mine["value"], dtype=float), np.asarray(theirs["value"])
        if not np.array_equal(got[want != 0], want[want != 0]):
            return None
        fills |= set(got[want == 0].tolist())
    if len(fills) == 1 and fills != {0.0}:
        return (
            "you padded with a value other than 0; pad with the reserved id 0, the only id "
            "`Embedding(mask_zero=True)` masks"
        )
    return None


# --------------------------------------------------------------------------- 2. lengths_to_mask


def _length_cases(rng: np.random.Generator) -> list[Case]:
    """Pre-padded batches with an empty row, a full row and a row cut at `maxlen`; thread 001's
    lengths; a post-padded batch; then one pre- and one post-padded batch drawn from the seed."""
    fixed = [
        ([3, 1, 5, 0], 5, "pre", "a pre-padded batch with an empty row"),
        ([2, 7, 4], 5, "pre", "a pre-padded batch with a sequence longer than `maxlen`"),
        ([3, 4], 5, "pre", "thread 001's batch"),
        ([3, 0, 6], 4, "post", "a post-padded batch"),
    ]
    cases = [
        Case((np.array(lengths), maxlen), {"padding": side}, note=note)
        for lengths, maxlen, side, note in fixed
    ]
    for side in ("pre", "post"):
        rows = int(rng.integers(2, 6))
        maxlen = int(rng.choice([m for m in range(3, 8) if m != rows]))
        lengths = rng.integers(0, maxlen + 3, size=rows)
        lengths[0] = 0
        cases.append(
            Case((lengths, maxlen), {"padding": side}, note=f"a random {side}-padded batch")
        )
    return cases


# --------------------------------------------------------------------------- 3. mask_from_one_hot


def one_hot_case() -> np.ndarray:
    """'ab#c' holds the '#' placeholder inside the word; 'c' is short, so most of its row is
    padding. `(4, 5, 3)`."""
    from ..data import one_hot_chars

    return one_hot_chars(["ab#c", "ba", "c", "cab"], maxlen=5)


def feature_case() -> tuple[np.ndarray, float]:
    """Real features can be 0 or negative; padding is -1 in every feature. Some real steps hold
    -1 next to smaller numbers, or only numbers below -1."""
    x = np.array(
        [
            [[0.5, -0.5, 0.0], [-1.0, 2.0, -1.0], [-1.0, -3.0, -1.0], [-1.0, -1.0, -1.0]],
            [[0.0, 0.0, 0.0], [-3.0, -2.0, -5.0], [0.2, -1.0, 0.0], [-1.0, -1.0, -1.0]],
        ],
        dtype="float32",
    )
    return x, -1.0


def zero_sum_case() -> tuple[np.ndarray, float]:
    """Real steps whose features add up to the mask value 0."""
    x = np.array(
        [[[0.5, -0.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -2.0]], [[0.0, 0.0, 0.0]] * 3],
        dtype="float32",
    )
    return x, 0.0


def tracks_case() -> np.ndarray:
    """Two feature axes: each step holds one one-hot character per track, `(2, 4, 2, 3)`; a step
    with one silent (all-zero) track and one sounding track is real."""
    from ..data import one_hot_chars

    first, second = one_hot_chars(["ab#", "c"], maxlen=4), one_hot_chars(["#ba", "ac"], maxlen=4)
    return np.stack([first, second], axis=2)


def _one_hot_cases(rng: np.random.Generator) -> list[Case]:
    """The fixed batches above, then a 3-d and a 4-d batch drawn from the seed, post-padded with
    a drawn `mask_value`, with one real step holding `mask_value` beside a smaller number."""
    cases = [
        Case((one_hot_case(),), {"mask_value": 0.0}, note="one-hot characters with a '#'"),
        Case((feature_case()[0],), {"mask_value": -1.0}, note="negative features, mask_value -1"),
        Case((zero_sum_case()[0],), {"mask_value": 0.0}, note="features that add up to 0"),
        Case((tracks_case(),), {"mask_value": 0.0}, note="steps with two feature axes"),
    ]
    for feature_shape in ((3,), (2, 3)):
        mask_value = float(rng.choice([0.0, -1.0, 2.5]))
        rows, steps = int(rng.integers(2, 5)), int(rng.integers(3, 7))
        values = [mask_value, mask_value - 2.0, mask_value + 1.0, 0.5, -3.0]
        x = rng.choice(values, size=(rows, steps, *feature_shape)).astype("float32")
        lengths = rng.integers(1, steps, size=rows)
        x[np.arange(steps)[None, :] >= lengths[:, None]] = mask_value
        x[0, 0] = mask_value
        x[0, 0].reshape(-1)[-1] = mask_value - 2.0  # `mask_value` and a smaller number: real
        cases.append(
            Case((x,), {"mask_value": mask_value}, note=f"a random batch of steps {feature_shape}")
        )
    return cases


# --------------------------------------------------------------------------- 4. masked_mean


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    """Post- and pre-padded targets padded with 0, thread 001's targets (ids 0 and 1 are real,
    the '#' class 2 is padding), then two batches drawn from the seed with a drawn `pad_id`."""
    fixed_rng = np.random.default_rng(1)
    post = np.array([[3, 1, 4, 1, 5], [9, 2, 0, 0, 0], [6, 5, 3, 0, 0]])
    pre = np.array([[0, 0, 7, 7], [1, 2, 3, 4], [0, 0, 0, 8]])
    asker = np.array([[2, 2, 0, 1, 1], [2, 1, 0, 1, 1]])  # '##abb', '#babb'
    fixed = [(post, 0, "post-padded targets"), (pre, 0, "pre-padded targets")]
    fixed.append((asker, 2, "thread 001's targets, padded with the '#' class"))
    cases = [
        Case(
            (fixed_rng.uniform(0.1, 2.0, size=y.shape).astype("float32"), y),
            {"pad_id": pad_id},
            note=note,
        )
        for y, pad_id, note in fixed
    ]
    for side in ("post", "pre"):
        pad_id = int(rng.integers(0, 4))
        rows, steps = int(rng.integers(2, 6)), int(rng.integers(3, 8))
        lengths = rng.integers(1, steps + 1, size=rows)
        lengths[:2] = [steps, int(rng.integers(1, steps))]  # rows of different lengths
        real = np.arange(steps)[None, :] < lengths[:, None]
        real = real if side == "post" else real[:, ::-1]
        tokens = rng.choice([t for t in range(6) if t != pad_id], size=real.shape)
        y_true = np.where(real, tokens, pad_id)
        losses = rng.uniform(0.1, 2.0, size=real.shape).astype("float32")
        cases.append(
            Case((losses, y_true), {"pad_id": pad_id}, note=f"random {side}-padded targets")
        )
    return cases


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="pad_batch",
        answer_name="pad_batch",
        title="Pad a batch at the end with 0",
        cases=_pad_cases,
        reference="pad_batch",
        alternatives=["pad_with_np_pad", "pad_with_list_arithmetic"],
        misconceptions=[
            Misconception(
                "pads pre",
                "pads_pre",
                "you padded at the front ('pre', the `pad_sequences` default); this exercise "
                "pads at the end ('post'), so each sequence starts at step 0",
            ),
            Misconception(
                "pads pre, truncates post",
                "pads_pre_truncates_post",
                "you padded at the front ('pre'); this exercise pads at the end ('post'), so "
                "each sequence starts at step 0",
            ),
            Misconception(
                "truncates pre",
                "truncates_pre",
                "you cut long sequences at the front and kept their last tokens "
                "(truncating='pre'); keep their first `maxlen` tokens (truncating='post')",
            ),
            Misconception(
                "pads with a token id",
                "pads_with_a_token_id",
                "you padded with 1, which is also a real token id, so padding and that token "
                "can no longer be told apart; pad with the reserved id 0",
            ),
            Misconception(
                "width of the longest",
                "pads_to_longest",
                "your batch is as wide as the longest sequence; it must have exactly `maxlen` "
                "columns, cutting longer sequences",
            ),
            Misconception(
                "float ids",
                "float_ids",
                "your batch holds floats; token ids are integers (`pad_sequences` returns "
                "int32 by default), so build it with an int dtype",
            ),
        ],
        judge={
            "what": "your padded batch",
            "success": "you pad at the end with 0 and keep the first `maxlen` tokens of long "
            "sequences.",
            "fallback": "some rows are wrong; try an empty sequence and one longer than `maxlen` "
            "by hand",
            "tolerance": {"strict_kind": True},
            "custom": _padded_with_another_value,
        },
        hints=[
            "`keras.utils.pad_sequences` does it; its defaults pad and truncate at the front "
            "('pre'), so you need to change two options.",
            "Pass `maxlen=maxlen`, `padding='post'`, `truncating='post'` and keep `value=0`: "
            "0 is the id reserved for padding.",
            "`return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding='post', "
            "truncating='post')`",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="lengths_to_mask",
        answer_name="lengths_to_mask",
        title="The mask of a batch pad_sequences padded",
        cases=_length_cases,
        reference="lengths_to_mask",
        alternatives=["mask_by_flipping_the_post_mask", "mask_by_filling_rows"],
        misconceptions=[
            Misconception(
                "int 0/1 mask",
                "mask_as_ints",
                "your mask holds numbers; a mask is boolean (True = real token), so build it "
                "from a comparison and do not cast it",
            ),
            Misconception(
                "True on padding",
                "mask_inverted",
                "your mask is True on padding; True must mark the real tokens",
            ),
            Misconception(
                "(time, batch)",
                "mask_transposed",
                "your mask is (time, batch); put the batch first: (batch, time)",
            ),
            Misconception(
                "always post",
                "mask_always_post",
                "you built the post-padding mask whatever `padding` says; with 'pre' (the "
                "`pad_sequences` default) the padding comes first and the real tokens last",
            ),
            Misconception(
                "always pre",
                "mask_always_pre",
                "you built the pre-padding mask whatever `padding` says; with 'post' the real "
                "tokens come first",
            ),
            Misconception(
                "reverses the batch too",
                "mask_reverses_the_batch_too",
                "you reversed the batch axis as well as time (thread 001's "
                "`tf.reverse` over axes 0 and 1), so each row got another row's mask; reverse the "
                "time axis only",
            ),
            Misconception(
                "one step too many",
                "mask_off_by_one",
                "each row has one real step too many; a row of length n has exactly n real steps",
            ),
            Misconception(
                "row[-0:]",
                "mask_negative_zero_slice",
                "an empty sequence came out all real: `row[-n:]` with n = 0 slices from minus "
                "zero, which is the start: the whole row, not an empty slice",
            ),
            Misconception(
                "forgets truncation",
                "mask_forgets_truncation",
                "a sequence longer than `maxlen` came out partly padding; `pad_sequences` cut "
                "it to `maxlen` tokens, so all its steps are real",
            ),
        ],
        judge={
            "what": "your mask",
            "success": "your mask is boolean, (batch, time), True on each row's real tokens, "
            "whatever the padding side, even for a sequence that was cut.",
            "fallback": "some rows are wrong; try an empty row and a row longer than `maxlen` "
            "by hand",
        },
        hints=[
            "With 'pre' the padding comes first: step t of row i is real when it is one of the "
            "last `lengths[i]` steps. A sequence longer than `maxlen` fills every step.",
            "Compare a row of step numbers `np.arange(maxlen)` with a column of thresholds "
            "(`[:, None]`); for 'pre' the threshold is `maxlen - lengths`, for 'post' it is "
            "`lengths`. Broadcasting handles lengths above `maxlen` for you; slices do not.",
            "`steps = np.arange(maxlen)[None, :]; lengths = np.asarray(lengths)[:, None]; "
            "return steps < lengths if padding == 'post' else steps >= maxlen - lengths`",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="mask_from_one_hot",
        answer_name="mask_from_one_hot",
        title="The mask of steps with one or more feature axes",
        cases=_one_hot_cases,
        reference="mask_from_one_hot",
        alternatives=["mask_by_flattening_steps", "mask_by_counting_differences"],
        misconceptions=[
            Misconception(
                "any feature equals",
                "mask_any_feature_equal",
                "you marked a step as padding when ANY feature equals `mask_value`; a one-hot "
                "row is full of zeros, so a step is padding only when EVERY feature equals it",
            ),
            Misconception(
                "ignores mask_value",
                "mask_ignores_mask_value",
                "your function compares with 0 whatever `mask_value` says",
            ),
            Misconception(
                "True on padding",
                "mask_true_on_padding",
                "your mask is True on padding; True must mark the real steps",
            ),
            Misconception(
                "no reduction",
                "mask_per_feature",
                "your mask has one value per feature; a mask has one value per step, so "
                "reduce over the feature axes",
            ),
            Misconception(
                "last axis only",
                "mask_last_axis_only",
                "you reduced the last axis only, as `Masking` does; a step here can have "
                "several feature axes, so reduce over every axis after time",
            ),
            Misconception(
                "sums the features",
                "mask_from_sum",
                "you compared the sum of the features with `mask_value`; features can cancel "
                "out or add up, so compare each feature on its own",
            ),
            Misconception(
                "max differs",
                "mask_max_differs",
                "you took a step as real when its largest feature differs from `mask_value`; a "
                "real step can hold `mask_value` as its largest feature next to smaller ones, "
                "so ask whether ANY feature differs",
            ),
            Misconception(
                "max above",
                "mask_max_above",
                "you took a step as real only when its largest feature is above `mask_value`; "
                "real features can lie below `mask_value`, so ask whether ANY feature differs",
            ),
        ],
        judge={
            "what": "your mask",
            "success": "a step is padding only when every value of it equals `mask_value`, "
            "however many feature axes it has.",
            "fallback": "some steps are wrong; try the all-padding row and a real all-zero row",
        },
        hints=[
            "A step is padding when ALL its values equal `mask_value`; one value equal to it "
            "proves nothing (a one-hot row is mostly zeros), and real values may lie on either "
            "side of it.",
            "Compare `x != mask_value`, then ask whether ANY value differs over every axis "
            "after time: axes 2, 3, ... (`tuple(range(2, x.ndim))`).",
            "`x = np.asarray(x); return np.any(x != mask_value, axis=tuple(range(2, x.ndim)))`",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_mean",
        answer_name="masked_mean",
        title="Average a loss over the real targets",
        cases=_loss_cases,
        reference="masked_mean",
        alternatives=["mean_of_selected_losses", "mean_of_a_masked_array"],
        misconceptions=[
            Misconception(
                "divides by all steps",
                "mean_over_all_steps",
                "your mean divides by the number of steps in the batch, padding included; "
                "divide by the number of real tokens instead",
            ),
            Misconception(
                "divides by the batch size",
                "mean_over_batch_size",
                "your mean divides by the batch size (the number of sequences); divide by the "
                "number of real tokens in the whole batch instead",
            ),
            Misconception(
                "no mask",
                "unmasked_mean",
                "your mean includes the losses at padded steps; leave out the steps whose "
                "target is `pad_id`",
            ),
            Misconception(
                "mean of row means",
                "mean_of_row_means",
                "you averaged each row first, so a short row's tokens weigh more than a long "
                "row's; average over all the real tokens of the batch at once",
            ),
            Misconception(
                "sum",
                "masked_sum",
                "you returned a sum, not a mean; divide by the number of real tokens",
            ),
            Misconception(
                "mean of padding",
                "mean_of_padding",
                "you averaged the padding steps; the real tokens are the targets that are not "
                "`pad_id`",
            ),
            Misconception(
                "padding taken as 0",
                "mean_padding_taken_as_zero",
                "your mask compares the targets with 0 whatever `pad_id` says; in thread 001's "
                "targets id 0 is a real character and padding is the '#' class",
            ),
        ],
        judge={
            "what": "what your function returned",
            "success": "you average over the real targets only, whatever the padding side or "
            "`pad_id`.",
            "fallback": "your number differs from the mean loss over the real tokens; compute "
            "the mask, the sum of the masked losses and the count of real tokens separately",
        },
        hints=[
            "First the mask: a step is real when its target is not `pad_id`. Then zero the "
            "padded steps' losses and divide by how many steps are real, not by how many steps "
            "or sequences there are.",
            "`mask = y_true != pad_id`; `np.sum(losses * mask)` is the numerator, `np.sum(mask)` "
            "counts the real tokens.",
            "`mask = np.asarray(y_true) != pad_id; return float(np.sum(losses * mask) / "
            "np.sum(mask))`",
        ],
    ),
]
