"""Lesson 07: fix 3, an argmax-based custom loss, and the general masked loss.

The exercises are data (see AUTHORING.md); the answers live in
`course_utils.answers.l07_fix_argmax_loss`. Every check probes the learner's loss as a quick test
and as `fit` would (`probing.keras_loss`): on eager float32 tensors, traced by `tf.function` with
symbolic inputs of unknown batch size (`extra["compiled"]`: "same", "differs" or the error's
type), and for a gradient reaching `y_pred` (`extra["gradient"]`). A Python `if`, a loop over the
batch or NumPy on a tensor is named from the error type; a loss meant for training without a
gradient (`stop_gradient`) is named too.

Exercises 1 and 3 take thread 002's encoding, one-hot targets `(batch, time, vocab)` padded with
the end token, so the lecture's weight (token ids) does not carry over as it is; exercise 2 takes
lesson 05's fixed encoding, token ids with 0 = padding.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import RAISED, VALUE, Fact, Misconception, Observation
from ..probing import Case, keras_loss

LESSON = "07_fix_argmax_loss"
TITLE = "Fix 3: an argmax-based custom loss, and Keras' own masked losses"
OBJECTIVES = [
    "explain, from the real errors, why a Python `if` or `.eval()` cannot work inside a loss, "
    "and where Keras 2's backend functions went in Keras 3;",
    "rebuild a per-step condition on tensors with `keras.ops` (`argmax`, `equal`, "
    "`logical_and`, `logical_or`, casts);",
    "show with `tf.GradientTape` that an argmax-based condition passes no gradient, so it acts "
    "only as a constant weight;",
    "get the mean over real tokens from Keras 3 itself (`ignore_class`, "
    '`reduction="mean_with_sample_weight"`) or write it by hand, and say which denominator '
    "Keras uses when a mask meets a `sample_weight`;",
    "measure, on five seeds, when the argmax-based loss helps and when it cannot.",
]
PREREQUISITES = (
    "Lessons 05 and 06: the toy seq2seq task, its end-token failure and its metrics. "
    "Lesson 04's masked loss helps."
)
MINUTES = 35
EXERCISE_MINUTES = 30

# --------------------------------------------------------------------------- cases


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype("float32")


def _probs_for(pred_ids, vocab, rng):
    """Probabilities (batch, time, vocab) whose argmax is `pred_ids`, with varied confidence."""
    logits = rng.normal(0.0, 0.5, size=(*pred_ids.shape, vocab))
    np.put_along_axis(
        logits, pred_ids[..., None], 2.5 + rng.uniform(0, 1.5, pred_ids.shape)[..., None], -1
    )
    return _softmax(logits)


def _flip(ids, vocab, rng, share):
    """A copy of `ids` with about `share` of the steps replaced by random ids."""
    pred = ids.copy()
    flips = rng.random(ids.shape) < share
    pred[flips] = rng.integers(0, vocab, size=int(flips.sum()))
    return pred


def _skip_case(rng, time, n_symbols, lengths, note):
    """Thread 002's targets: one-hot rows of `n_symbols` symbols, then the start and end ids;
    padded the naive way (the end token repeated). Some padded steps predicted as a symbol, some
    tokens as the end token, a start token predicted right and one predicted as the end."""
    start_id, end_id = n_symbols, n_symbols + 1
    vocab = n_symbols + 2
    ids = np.full((len(lengths), time), end_id)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(0, n_symbols, size=n)
    pred = _flip(ids, vocab, rng, 0.35)
    ids[0, -1] = pred[0, -1] = start_id
    ids[1, 0], pred[1, 0] = start_id, end_id
    pred[1, -1] = ids[1, -1]  # a right end token, whatever the flips did
    y_true = np.eye(vocab, dtype="float32")[ids]
    return Case((y_true, _probs_for(pred, vocab, rng), start_id, end_id), note=note)


def _skip_cases(rng: np.random.Generator) -> list[Case]:
    """The first case is square (batch = time = vocab), so an argmax over the wrong axis still
    gives a (batch, time) array and its values can be told apart; then other sizes and ids, and
    two batches drawn from the seed."""
    fixed_rng = np.random.default_rng(7)
    cases = [
        _skip_case(fixed_rng, 5, 3, [1, 3, 2, 4, 0], "a square batch (batch = time = vocab)"),
        _skip_case(fixed_rng, 6, 5, [2, 5, 3], "a batch of three sequences"),
        _skip_case(fixed_rng, 7, 4, [6, 1, 3, 0], "a batch with an empty sequence"),
    ]
    for _ in range(2):
        time, n_symbols = int(rng.integers(3, 9)), int(rng.integers(2, 7))
        lengths = rng.integers(0, time + 1, size=int(rng.integers(2, 6)))
        cases.append(_skip_case(rng, time, n_symbols, lengths, "a batch drawn at random"))
    return cases


def _loss_case(rng, batch, time, vocab, lengths, note):
    """Lesson 05's fixed targets: ids 1.. for tokens, 0 for padding after them."""
    y_true = np.zeros((batch, time), dtype="int32")
    for i, n in enumerate(lengths):
        y_true[i, :n] = rng.integers(1, vocab, size=n)
    pred = _flip(y_true, vocab, rng, 0.4)
    return Case((y_true, _probs_for(pred, vocab, rng)), note=note)


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    """Ragged rows with a row of padding only (square, so an argmax over the wrong axis keeps
    the shape), batch != time, a batch without padding, a batch of padding only, and two drawn
    from the seed."""
    fixed_rng = np.random.default_rng(11)
    cases = [
        _loss_case(fixed_rng, 5, 5, 5, [1, 3, 2, 4, 0], "a batch with a row of padding only"),
        _loss_case(fixed_rng, 4, 8, 6, [7, 2, 5, 1], "a batch of four ragged sequences"),
        _loss_case(fixed_rng, 3, 4, 5, [4, 4, 4], "a batch without padding"),
        _loss_case(fixed_rng, 2, 4, 5, [0, 0], "a batch of padding only"),
    ]
    for _ in range(2):
        batch, time, vocab = (int(rng.integers(2, 7)) for _ in range(3))
        time += 2
        lengths = rng.integers(0, time + 1, size=batch)
        lengths[0] = max(lengths[0], 1)
        cases.append(_loss_case(rng, batch, time, vocab, lengths, "a batch drawn at random"))
    return cases


# --------------------------------------------------------------------------- the probe


def _loss_probe(extra_args: int = 0):
    """`probing.keras_loss`, with the case's arrays handed over as eager float32 tensors (what a
    quick test passes, and `y_true`'s dtype inside `fit`)."""
    probe = keras_loss(extra_args=extra_args)

    def run(answer, case: Case) -> Observation:
        import tensorflow as tf

        cut = len(case.args) - extra_args
        tensors = tuple(tf.constant(np.asarray(a, dtype="float32")) for a in case.args[:cut])
        extra = tuple(case.args[cut:])
        return probe(answer, Case(tensors + extra, case.kwargs, case.note))

    return run


# --------------------------------------------------------------------------- sentences

PYTHON_IF = (
    "your function uses a Python `if` (or `and`/`or`, `==` read as a bool) on a tensor. A tensor "
    "holds many steps, and inside `fit` it is symbolic: it has no True/False value to branch on, "
    "so it raises an error. Compute the condition for every step as a tensor with "
    "`ops.equal`, `ops.logical_and`, `ops.logical_or` and cast it to a float weight (a Keras "
    "function can do this too: with the TensorFlow backend `ops.isin` does, inside `fit`)"
)
ISIN = (
    "your function uses `ops.isin`: with the TensorFlow backend it branches on a tensor in "
    "Python, so it works in a quick eager test and raises OperatorNotAllowedInGraphError inside "
    "`fit`. Test the two ids with `ops.equal` and join them with `ops.logical_or`"
)
PYTHON_VALUE = (
    "your function asks a tensor for its concrete values (`.numpy()`, `.eval()` or a NumPy "
    "function). That works on an eager tensor in a quick test, but inside `fit` the loss is "
    "traced into a graph where tensors are symbolic and have no values yet; use `keras.ops` "
    "functions, which build the computation instead"
)
PYTHON_LOOP = (
    "your function loops over the batch in Python (or reads a size or a value as a Python "
    "number). Inside `fit` the batch size is unknown (None) when the loss is traced, so the "
    "loop cannot run; compute all steps at once with `keras.ops`"
)
TRACED = (
    "your function works in a quick eager test but not the same way when traced as `fit` traces "
    "a loss (symbolic tensors, `y_true` as float32, batch size None); use `keras.ops` on whole "
    "tensors only"
)
NO_GRADIENT = (
    "your loss has the right value but passes no gradient to `y_pred` (`tape.gradient` is "
    "None or zero), so `fit` could not train with it: drop `stop_gradient`, and build the loss "
    "from `y_pred` with `keras.ops`, not from NumPy values turned back into a tensor"
)
WRONG_AXIS = (
    "your argmax runs over the wrong axis: `y_pred` is (batch, time, vocab) and the predicted "
    "token of each step is the argmax over the vocabulary, the last axis (`axis=-1`)"
)
SPARSE_ON_ONE_HOT = (
    "you called `sparse_categorical_crossentropy`, which expects token ids (batch, time); the "
    "asker's targets are one-hot rows (batch, time, vocab): use "
    "`keras.losses.categorical_crossentropy`, or take the argmax of `y_true` first"
)
_FACTS = [Fact("compiled", TRACED), Fact("gradient", NO_GRADIENT)]

# What an eager error's message, or the traced call's error type (`extra["compiled"]`), says
# the learner did.
_EAGER_SIGNS = (
    (("truth value of", "as a Python `bool`"), PYTHON_IF),
    (("no attribute 'numpy'", "no attribute 'eval'"), PYTHON_VALUE),
    (("'NoneType' object cannot be interpreted",), PYTHON_LOOP),
    (("must have rank (ndim) `target.ndim - 1`",), SPARSE_ON_ONE_HOT),
)
_TRACED_ERRORS = {
    "OperatorNotAllowedInGraphError": PYTHON_IF,
    "SymbolicNumpyUse": PYTHON_VALUE,  # NumPy met a symbolic tensor
    "AttributeError": PYTHON_VALUE,  # `.numpy()` / `.eval()` on a symbolic tensor
    "TypeError": PYTHON_LOOP,  # a symbolic size or value used as a Python int
}


def _cause(learner: list[Observation], reference: list[Observation]) -> str | None:
    """Name a tensor used as a Python value (or the lecture's sparse loss on one-hot rows) from
    the first eager error's message or traced error's type, before any value is compared."""
    for observed in learner:
        if observed.get("outcome") == RAISED:
            detail = str(observed.get("detail"))
            for signs, sentence in _EAGER_SIGNS:
                if any(sign in detail for sign in signs):
                    return sentence
        elif observed.get("outcome") == VALUE:
            compiled = observed.get("extra", {}).get("compiled")
            if compiled in _TRACED_ERRORS:
                return _TRACED_ERRORS[compiled]
    return None


_JUDGE = {"facts": _FACTS, "custom": _cause, "tolerance": {"rtol": 1e-4, "atol": 1e-5}}

_LOSS_HINT_OPS = (
    "`keras.losses.sparse_categorical_crossentropy(y_true, y_pred)` gives the loss of every "
    "step, shape (batch, time), without reducing it."
)

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="skip_weight",
        answer_name="skip_weight",
        title="The argmax condition as a per-step weight, on the asker's one-hot targets",
        cases=_skip_cases,
        probe=_loss_probe(extra_args=2),
        reference="skip_weight",
        alternatives=["skip_weight_as_the_thread_writes", "skip_weight_from_the_prediction"],
        misconceptions=[
            Misconception("python if on tensors", "skip_python_if", PYTHON_IF),
            Misconception("python loop over the batch", "skip_python_loop", PYTHON_LOOP),
            Misconception("numpy() on a tensor", "skip_numpy", PYTHON_VALUE),
            Misconception("ops.isin", "skip_isin", ISIN),
            Misconception(
                "reads y_true as ids",
                "skip_reads_ids",
                "your function reads `y_true` as token ids, as the lecture's targets were; here "
                "it holds the asker's one-hot rows (batch, time, vocab): take its argmax over "
                "the last axis to get the true ids",
            ),
            Misconception(
                "compares probabilities with the one-hot row",
                "skip_compares_probabilities",
                "your weight never skips a step: probabilities never equal a one-hot row exactly "
                "(the thread's `y == _y`). Compare the argmax of `y_pred` with the argmax of "
                "`y_true`",
            ),
            Misconception("argmax over the wrong axis", "skip_wrong_axis", WRONG_AXIS),
            Misconception(
                "inverted weight",
                "skip_inverted",
                "your weight is inverted: it is 1.0 on the steps that should cost nothing and "
                "0.0 on the others",
            ),
            Misconception(
                "skips every start and end token",
                "skip_every_special",
                "you skip every start and end token, even where the model predicted something "
                "else; a step is free only when the prediction is right too",
            ),
            Misconception(
                "skips every right step",
                "skip_every_right_step",
                "you skip every correctly predicted step; only correct start and end tokens "
                "are free",
            ),
            Misconception(
                "only the end token",
                "skip_only_the_end",
                "you skip only correct end tokens; a correctly predicted start token costs "
                "nothing too (`start_id` or `end_id`)",
            ),
            Misconception(
                "joined with or",
                "skip_joined_with_or",
                "you joined the two conditions with `or`; a step is free only when the "
                "prediction is right `and` the token is the start or the end token",
            ),
        ],
        judge={
            "what": "your weight",
            "success": "your weight is built from tensors only, so it works inside `fit` as well.",
            "fallback": "some steps get the wrong weight; a step costs nothing (weight 0.0) "
            "exactly when the argmax of `y_pred` equals the argmax of `y_true` and that token is "
            "`start_id` or `end_id`",
            **_JUDGE,
        },
        hints=[
            "`y_true` holds one-hot rows here, like `y_pred` holds probabilities: turn both into "
            "token ids (batch, time) first. Then compare them, and test whether the true id is "
            "the start or the end id. No Python `if`.",
            "`ops.argmax(..., axis=-1)` gives the ids of both (the vocabulary is the last axis); "
            "`ops.equal` compares element by element; `ops.logical_or` and `ops.logical_and` "
            "combine the conditions.",
            "`skip = logical_and(equal(true_id, pred_id), logical_or(equal(true_id, start_id), "
            "equal(true_id, end_id)))`, then return `1.0 - ops.cast(skip, 'float32')`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_loss",
        answer_name="masked_loss",
        title="The general masked loss",
        cases=_loss_cases,
        probe=_loss_probe(),
        reference="masked_loss",
        alternatives=["masked_loss_with_ignore_class", "masked_loss_divide_no_nan"],
        misconceptions=[
            Misconception("python if guarding the division", "masked_python_if", PYTHON_IF),
            Misconception("stop_gradient", "masked_stop_gradient", NO_GRADIENT),
            Misconception(
                "divides by every step",
                "masked_over_every_step",
                "your loss divides the masked sum by every step (batch × time), padding "
                "included; divide it by the number of real tokens, the sum of the mask",
            ),
            Misconception(
                "divides by the batch size",
                "masked_over_batch_size",
                "your loss divides by the batch size (the number of sequences); a loss per "
                "token divides by the number of real tokens, the sum of the mask",
            ),
            Misconception(
                "divides by the number of time steps",
                "masked_over_time_steps",
                "your loss divides by the number of time steps of a sequence; divide by the "
                "number of real tokens in the whole batch, the sum of the mask",
            ),
            Misconception(
                "no mask",
                "masked_no_mask",
                "your loss averages over every step, padding included; build a mask from "
                "`y_true` (`y_true != 0`) and keep only the real tokens",
            ),
            Misconception(
                "mask from y_pred",
                "masked_from_prediction",
                "you took the mask from the predictions; padding is a property of the target, "
                "so build the mask from `y_true`",
            ),
            Misconception(
                "mean of sequence means",
                "masked_mean_of_sequences",
                "you averaged each sequence first and then the sequences; that gives a short "
                "sequence's tokens more weight. Divide the sum over all real tokens by their "
                "count",
            ),
            Misconception(
                "NaN on a batch of padding only",
                "masked_nan_when_empty",
                "your loss is NaN for a batch with no real token (0 divided by 0); divide by "
                "`ops.maximum(count, 1.0)` so such a batch costs 0",
            ),
        ],
        judge={
            "what": "your loss",
            "success": "your loss counts real tokens only, divides by their number, and trains "
            "inside `fit`.",
            "fallback": "your loss has the wrong value; it should be the mean crossentropy of "
            "the real tokens (`y_true != 0`) only, and 0.0 for a batch of padding only",
            **_JUDGE,
        },
        hints=[
            "Padding is id 0 in `y_true`. Build a float mask from `y_true`, multiply the "
            "per-step losses by it, and think about what to divide the sum by. " + _LOSS_HINT_OPS,
            "Divide by the number of real tokens, `ops.sum(mask)`, not by the number of steps "
            "or sequences (`ops.mean` would divide by every step). A batch of padding only has "
            "no real token: divide by `ops.maximum(ops.sum(mask), 1.0)` and do not branch with "
            "`if`.",
            "`mask = ops.cast(ops.not_equal(y_true, 0), 'float32')`; "
            "`return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="argmax_loss",
        answer_name="argmax_loss",
        title="Fix 3: the argmax-based loss, on the asker's one-hot targets",
        cases=_skip_cases,
        probe=_loss_probe(extra_args=2),
        reference="argmax_loss",
        alternatives=[
            "argmax_loss_with_sample_weight",
            "argmax_loss_by_hand",
            "argmax_loss_on_ids",
        ],
        misconceptions=[
            Misconception("python if on tensors", "argmax_python_if", PYTHON_IF),
            Misconception("stop_gradient", "argmax_stop_gradient", NO_GRADIENT),
            Misconception("argmax over the wrong axis", "argmax_wrong_axis", WRONG_AXIS),
            Misconception(
                "divides by kept steps",
                "argmax_over_kept_steps",
                "you divided by the steps the weight keeps; this loss averages over every step, "
                "a skipped step counting as a step with loss 0 (`ops.mean`)",
            ),
            Misconception(
                "divides by the batch size",
                "argmax_over_batch_size",
                "your loss divides by the batch size (the number of sequences); this loss "
                "averages over every step of the batch (`ops.mean`), a skipped step counting as "
                "a step with loss 0",
            ),
            Misconception(
                "drops every start and end token",
                "argmax_every_special",
                "you drop the loss of every start and end token, even where the model "
                "predicted something else; a step is free only when the prediction is right too",
            ),
            Misconception(
                "inverted weight",
                "argmax_inverted",
                "your weight is inverted: only the steps that should be free carry a loss",
            ),
            Misconception(
                "no weight",
                "argmax_no_weight",
                "your loss equals plain crossentropy; multiply each step's loss by the skip weight",
            ),
        ],
        judge={
            "what": "your loss",
            "success": "your loss skips correct start/end tokens with tensor operations only, "
            "and passes a gradient, so `fit` can train with it.",
            "fallback": "your loss has the wrong value; it should be the mean over every step "
            "of the crossentropy times the skip weight",
            **_JUDGE,
        },
        hints=[
            "Reuse the skip weight of the first exercise: compute the per-step crossentropy of "
            "the one-hot targets, multiply it by the weight, and average. "
            "`keras.losses.categorical_crossentropy(y_true, y_pred)` gives the loss of every "
            "step, shape (batch, time), without reducing it.",
            "Average over every step with `ops.mean`: a skipped step is a step whose loss is 0. "
            "Do not wrap the result in `stop_gradient`: the weight has no gradient, the "
            "crossentropy must keep its own.",
            "`return ops.mean(losses * skip_weight(y_true, y_pred, start_id, end_id))`, with "
            "`losses = keras.losses.categorical_crossentropy(y_true, y_pred)`.",
        ],
    ),
]
