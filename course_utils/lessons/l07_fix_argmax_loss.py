"""Lesson 07: fix 3, an argmax-based custom loss, and the general masked loss.

Every check calls the learner's loss twice, as `fit` would and as a quick test would: once on
eager tensors, once traced by `tf.function(autograph=False)` with symbolic inputs of unknown
batch size, `y_true` as float32 `(None, time)` (what Keras hands a loss inside `fit`). A Python
`if`, `and`/`or` or `.numpy()` on a tensor fails one of the two, and the check says so.
"""

from __future__ import annotations

import numpy as np

from ..checking import (
    Exercise,
    Mistake,
    WrongAnswer,
    as_array,
    as_number,
    call_learner,
    call_learner_compiled,
    close,
)

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

# --------------------------------------------------------------------------- references


def skip_weight(y_true, y_pred, start_id, end_id):
    """(batch, time) float32: 0.0 where the predicted token equals the true token and that token
    is the start or the end token, 1.0 everywhere else."""
    from keras import ops

    true_id = ops.cast(y_true, "int32")  # inside fit, y_true arrives as float32
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")  # the vocabulary is the last axis
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    skip = ops.logical_and(ops.equal(true_id, pred_id), special)
    return 1.0 - ops.cast(skip, "float32")


def masked_loss(y_true, y_pred):
    """Mean crossentropy over the real tokens (`y_true != 0`): sum of the masked per-step losses
    divided by the number of real tokens; 0.0 when there is none."""
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)  # (batch, time)
    return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)


def argmax_loss(y_true, y_pred, start_id, end_id):
    """Crossentropy with no loss on correctly predicted start/end tokens, averaged over every
    step (a skipped step counts as a step with loss 0)."""
    import keras
    from keras import ops

    true_id = ops.cast(y_true, "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    weight = 1.0 - ops.cast(ops.logical_and(ops.equal(true_id, pred_id), special), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)  # (batch, time)
    return ops.mean(losses * weight)


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


def _naive_targets(lengths, time, n_symbols, end_id, rng):
    """Targets padded the naive way: tokens, then the end token repeated to `time`."""
    y = np.full((len(lengths), time), end_id, dtype="int32")
    for i, n in enumerate(lengths):
        y[i, :n] = rng.integers(0, n_symbols, size=n)
    return y


def _skip_cases():
    """(y_true ids, y_pred probabilities, start_id, end_id). The first case is square
    (batch = time = vocab), so an argmax over the wrong axis still returns a (batch, time) array
    and its values can be told apart; the others vary every size and the ids."""
    rng = np.random.default_rng(7)
    cases = []
    for time, n_symbols, lengths in [
        (5, 3, [1, 3, 2, 4, 0]),
        (6, 5, [2, 5, 3]),
        (7, 4, [6, 1, 3, 0]),
    ]:
        start_id, end_id = n_symbols, n_symbols + 1
        vocab = n_symbols + 2
        y_true = _naive_targets(lengths, time, n_symbols, end_id, rng)
        pred = y_true.copy()
        # Some padded steps predicted as a symbol, some tokens predicted as the end token or
        # as another symbol, and one start token predicted right (the start id can be a target).
        flips = rng.random(y_true.shape) < 0.35
        pred[flips] = rng.integers(0, vocab, size=int(flips.sum()))
        y_true[0, -1] = start_id
        pred[0, -1] = start_id
        y_true[1, 0] = start_id
        pred[1, 0] = end_id
        cases.append((y_true, _probs_for(pred, vocab, rng), start_id, end_id))
    return cases


def _loss_cases():
    """(y_true ids with 0 = padding, y_pred probabilities): ragged rows, a row of padding only,
    a batch with no padding; the square first case separates an argmax over the wrong axis."""
    rng = np.random.default_rng(11)
    cases = []
    for batch, time, vocab, lengths in [
        (5, 5, 5, [1, 3, 2, 4, 0]),
        (4, 8, 6, [7, 2, 5, 1]),
        (3, 4, 5, [4, 4, 4]),
    ]:
        y_true = np.zeros((batch, time), dtype="int32")
        for i, n in enumerate(lengths):
            y_true[i, :n] = rng.integers(1, vocab, size=n)
        pred = y_true.copy()
        flips = rng.random(y_true.shape) < 0.4
        pred[flips] = rng.integers(0, vocab, size=int(flips.sum()))
        cases.append((y_true, _probs_for(pred, vocab, rng)))
    return cases


# --------------------------------------------------------------------------- calling a loss

# Fragments of the errors a tensor used as a Python value raises, eagerly or inside a graph.
_BOOL_SIGNS = (
    "OperatorNotAllowedInGraphError",
    "truth value of an array",
    "truth value of a",
    "as a Python `bool`",
)
_VALUE_SIGNS = (
    "no attribute 'numpy'",
    "no attribute 'eval'",
    "Cannot evaluate tensor",
    "eval is not supported",
    "SymbolicNumpyUse",
)
_LOOP_SIGNS = ("'NoneType' object cannot be interpreted as an integer",)

PYTHON_IF = (
    "your function uses a Python `if` (or `and`/`or`, `==` read as a bool) on a tensor. A tensor "
    "holds many steps, and inside `fit` it is symbolic: it has no True/False value to branch on, "
    "so it raises an error. Compute the condition for every step as a tensor with "
    "`ops.equal`, `ops.logical_and`, `ops.logical_or` and cast it to a float weight"
)
PYTHON_VALUE = (
    "your function asks a tensor for its concrete values (`.numpy()`, `.eval()` or a NumPy "
    "function). That works on an eager tensor in a quick test, but inside `fit` the loss is "
    "traced into a graph where tensors are symbolic and have no values yet; use `keras.ops` "
    "functions, which build the computation instead"
)
PYTHON_LOOP = (
    "your function loops over the batch in Python. Inside `fit` the batch size is unknown "
    "(None) when the loss is traced, so the loop cannot run; compute all steps at once with "
    "`keras.ops`"
)


def _explain(mistake: Mistake) -> Mistake:
    text = str(mistake)
    if any(sign in text for sign in _BOOL_SIGNS):
        return Mistake(PYTHON_IF)
    if any(sign in text for sign in _VALUE_SIGNS):
        return Mistake(PYTHON_VALUE)
    if any(sign in text for sign in _LOOP_SIGNS):
        return Mistake(PYTHON_LOOP)
    return mistake


def call_loss_eagerly(fn, y_true, y_pred, *extra):
    """The learner's loss on eager tensors (y_true as float32, as `fit` passes it)."""
    import tensorflow as tf

    y_true = tf.constant(np.asarray(y_true, dtype="float32"))
    y_pred = tf.constant(np.asarray(y_pred, dtype="float32"))
    try:
        return call_learner(fn, y_true, y_pred, *extra)
    except Mistake as mistake:
        raise _explain(mistake) from None


def call_loss_compiled(fn, y_true, y_pred, *extra):
    """The learner's loss traced as `fit` traces it (`tf.function`, no AutoGraph, unknown batch
    size, y_true float32), then run on the case."""
    try:
        return call_learner_compiled(fn, y_true, y_pred, extra=extra)
    except Mistake as mistake:
        raise _explain(mistake) from None


# --------------------------------------------------------------------------- misconceptions


def _np_ce(y_true, y_pred):
    picked = np.take_along_axis(np.clip(y_pred, 1e-7, 1 - 1e-7), y_true[..., None], -1)[..., 0]
    return -np.log(picked)


def _np_skip(
    y_true, y_pred, start_id, end_id, *, axis=-1, need_match=True, need_special=True, join="and"
):
    """NumPy versions of the skip condition, right (defaults) and wrong (the keyword choices)."""
    pred = np.argmax(y_pred, axis=axis)
    match = y_true == pred
    special = (y_true == start_id) | (y_true == end_id)
    if join == "or":
        skip = match | special
    else:
        skip = (match if need_match else True) & (special if need_special else True)
    return 1.0 - np.asarray(skip, dtype="float32")


WRONG_AXIS = (
    "your argmax runs over the wrong axis: `y_pred` is (batch, time, vocab) and the predicted "
    "token of each step is the argmax over the vocabulary, the last axis (`axis=-1`)"
)


def _skip_wrong_variants(y_true, y_pred, start_id, end_id):
    b, t, v = y_pred.shape
    variants = []
    for axis in (1, 0):
        shape = (b, v) if axis == 1 else (t, v)
        if shape == (b, t):
            variants.append((_np_skip(y_true, y_pred, start_id, end_id, axis=axis), WRONG_AXIS))
    right = _np_skip(y_true, y_pred, start_id, end_id)
    variants += [
        (
            1.0 - right,
            "your weight is inverted: it is 1.0 on the steps that should cost nothing and 0.0 on "
            "the others",
        ),
        (
            _np_skip(y_true, y_pred, start_id, end_id, need_match=False),
            "you skip every start and end token, even where the model predicted something else; "
            "a step is free only when the prediction is right too",
        ),
        (
            _np_skip(y_true, y_pred, start_id, end_id, need_special=False),
            "you skip every correctly predicted step; only correct start and end tokens are free",
        ),
        (
            _np_skip(y_true, y_pred, start_id, end_id, join="or"),
            "you joined the two conditions with `or`; a step is free only when the prediction is "
            "right `and` the token is the start or the end token",
        ),
    ]
    return variants


def _first_calls(fn, case):
    """Run the learner's function once eagerly (an untouched stub stops here) and once traced
    as `fit` traces a loss (a Python `if` or `.numpy()` stops here), before any value is read."""
    call_loss_eagerly(fn, *case)
    call_loss_compiled(fn, *case)


def _grade_skip_weight(fn) -> str:
    cases = _skip_cases()
    _first_calls(fn, cases[0])
    for y_true, y_pred, start_id, end_id in cases:
        got = call_loss_eagerly(fn, y_true, y_pred, start_id, end_id)
        got = as_array(got, name="your weight", shape=y_true.shape, kind="number")
        expected = _np_skip(y_true, y_pred, start_id, end_id)
        if close(got, expected):
            continue
        for variant, message in _skip_wrong_variants(y_true, y_pred, start_id, end_id):
            if close(got, variant):
                raise Mistake(message)
        raise Mistake(
            "some steps get the wrong weight; a step costs nothing (weight 0.0) exactly when the "
            "argmax of `y_pred` equals `y_true` and `y_true` is `start_id` or `end_id`"
        )
    y_true, y_pred, start_id, end_id = cases[1]
    compiled = as_array(
        call_loss_compiled(fn, y_true, y_pred, start_id, end_id),
        name="your weight inside a compiled loss",
        shape=y_true.shape,
        kind="number",
    )
    if not close(compiled, _np_skip(y_true, y_pred, start_id, end_id)):
        raise Mistake("your weight differs when it runs inside a compiled loss (tf.function)")
    return "your weight is built from tensors only, so it works inside `fit` as well."


# -- masked loss


def _masked_variants(y_true, y_pred):
    ce = _np_ce(y_true, y_pred)
    mask = y_true != 0
    real = max(mask.sum(), 1)
    per_row = [ce[i][mask[i]].mean() for i in range(len(ce)) if mask[i].any()]
    pred_mask = np.argmax(y_pred, -1) != 0
    return [
        (
            (ce * mask).sum() / ce.size,
            "your loss divides by all {steps} steps; only {real} are real tokens. Divide the "
            "masked sum by the number of real tokens (the sum of the mask)",
        ),
        (
            ce.mean(),
            "your loss averages over every step, padding included; build a mask from `y_true` "
            "(`y_true != 0`) and keep only the real tokens",
        ),
        (
            (ce * pred_mask).sum() / max(pred_mask.sum(), 1),
            "you took the mask from the predictions; padding is a property of the target, so "
            "build the mask from `y_true`",
        ),
        (
            np.mean(per_row),
            "you averaged each sequence first and then the sequences; that gives a short "
            "sequence's tokens more weight. Divide the sum over all real tokens by their count",
        ),
        (
            (ce * mask).sum() / len(ce),
            "your loss divides by the number of sequences; divide by the number of real tokens",
        ),
        (
            (ce * mask).sum() / real,
            None,
        ),
    ]


def _grade_masked_loss(fn) -> str:
    cases = _loss_cases()
    _first_calls(fn, cases[0])
    for y_true, y_pred in cases:
        got = as_number(call_loss_eagerly(fn, y_true, y_pred), name="your loss")
        variants = _masked_variants(y_true, y_pred)
        expected = variants[-1][0]
        if close(got, expected, rtol=1e-4, atol=1e-5):
            continue
        mask = y_true != 0
        for value, message in variants[:-1]:
            if close(got, value, rtol=1e-4, atol=1e-5):
                raise Mistake(message.format(steps=y_true.size, real=int(mask.sum())))
        raise Mistake(
            "your loss has the wrong value; it should be the mean crossentropy of the real "
            "tokens (`y_true != 0`) only"
        )
    # Edge case: a batch of padding only must give 0.0, not NaN.
    y_true, y_pred = cases[0]
    empty = np.zeros_like(y_true)
    try:
        got = as_number(call_loss_eagerly(fn, empty, y_pred), name="your loss")
    except Mistake as mistake:
        if "NaN" in str(mistake):
            raise Mistake(
                "your loss is NaN for a batch with no real token (0 divided by 0); divide by "
                "`ops.maximum(count, 1.0)` so such a batch costs 0"
            ) from None
        raise
    if not close(got, 0.0):
        raise Mistake("a batch with no real token should cost 0.0; only real tokens count")
    compiled = as_number(
        call_loss_compiled(fn, y_true, y_pred), name="your loss inside a compiled loss"
    )
    if not close(compiled, _masked_variants(y_true, y_pred)[-1][0], rtol=1e-4, atol=1e-5):
        raise Mistake("your loss gives a different value inside a compiled loss (tf.function)")
    return "your loss counts real tokens only and divides by their number, also inside `fit`."


# -- argmax loss


def _argmax_loss_variants(y_true, y_pred, start_id, end_id):
    ce = _np_ce(y_true, y_pred)
    right = _np_skip(y_true, y_pred, start_id, end_id)
    out = []
    for axis in (1, 0):
        b, t, v = y_pred.shape
        if ((b, v) if axis == 1 else (t, v)) == (b, t):
            out.append(
                (np.mean(ce * _np_skip(y_true, y_pred, start_id, end_id, axis=axis)), WRONG_AXIS)
            )
    out += [
        (
            (ce * right).sum() / max(right.sum(), 1),
            "you divided by the steps the weight keeps; this loss averages over every step, a "
            "skipped step counting as a step with loss 0 (`ops.mean`)",
        ),
        (
            np.mean(ce * _np_skip(y_true, y_pred, start_id, end_id, need_match=False)),
            "you drop the loss of every start and end token, even where the model predicted "
            "something else; a step is free only when the prediction is right too",
        ),
        (
            np.mean(ce * (1.0 - right)),
            "your weight is inverted: only the steps that should be free carry a loss",
        ),
        (
            np.mean(ce),
            "your loss equals plain crossentropy; multiply each step's loss by the skip weight",
        ),
    ]
    return out


def _grade_argmax_loss(fn) -> str:
    cases = _skip_cases()
    _first_calls(fn, cases[0])
    for y_true, y_pred, start_id, end_id in cases:
        got = as_number(call_loss_eagerly(fn, y_true, y_pred, start_id, end_id), name="your loss")
        expected = np.mean(_np_ce(y_true, y_pred) * _np_skip(y_true, y_pred, start_id, end_id))
        if close(got, expected, rtol=1e-4, atol=1e-5):
            continue
        for value, message in _argmax_loss_variants(y_true, y_pred, start_id, end_id):
            if close(got, value, rtol=1e-4, atol=1e-5):
                raise Mistake(message)
        raise Mistake(
            "your loss has the wrong value; it should be the mean over every step of the "
            "crossentropy times the skip weight"
        )
    y_true, y_pred, start_id, end_id = cases[1]
    compiled = as_number(
        call_loss_compiled(fn, y_true, y_pred, start_id, end_id),
        name="your loss inside a compiled loss",
    )
    expected = np.mean(_np_ce(y_true, y_pred) * _np_skip(y_true, y_pred, start_id, end_id))
    if not close(compiled, expected, rtol=1e-4, atol=1e-5):
        raise Mistake("your loss gives a different value inside a compiled loss (tf.function)")
    return (
        "your loss skips correct start/end tokens with tensor operations only, so `fit` can use it."
    )


# --------------------------------------------------------------------------- wrong answers


def _skip_python_if(y_true, y_pred, start_id, end_id):
    from keras import ops

    true_id = ops.cast(y_true, "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    if true_id == pred_id and (true_id == start_id or true_id == end_id):
        return ops.zeros_like(y_true)
    return ops.ones_like(y_true)


def _skip_python_loop(y_true, y_pred, start_id, end_id):
    from keras import ops

    pred_id = ops.argmax(y_pred, axis=-1)
    rows = []
    for b in range(y_true.shape[0]):
        row = []
        for t in range(y_true.shape[1]):
            true_bt, pred_bt = int(y_true[b, t]), int(pred_id[b, t])
            row.append(0.0 if true_bt == pred_bt and true_bt in (start_id, end_id) else 1.0)
        rows.append(row)
    return ops.convert_to_tensor(rows)


def _skip_wrong_axis(y_true, y_pred, start_id, end_id):
    from keras import ops

    true_id = ops.cast(y_true, "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=1), "int32")
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    return 1.0 - ops.cast(ops.logical_and(ops.equal(true_id, pred_id), special), "float32")


def _skip_every_end(y_true, y_pred, start_id, end_id):
    from keras import ops

    true_id = ops.cast(y_true, "int32")
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    return 1.0 - ops.cast(special, "float32")


def _skip_inverted(y_true, y_pred, start_id, end_id):
    return 1.0 - skip_weight(y_true, y_pred, start_id, end_id)


def _skip_eval(y_true, y_pred, start_id, end_id):
    from keras import ops

    true_id = y_true.numpy().astype(int)
    pred_id = ops.convert_to_numpy(ops.argmax(y_pred, axis=-1))
    skip = (true_id == pred_id) & np.isin(true_id, [start_id, end_id])
    return 1.0 - skip.astype("float32")


def _masked_over_steps(y_true, y_pred):
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    return ops.sum(losses * mask) / ops.cast(ops.size(mask), "float32")


def _masked_none(y_true, y_pred):
    import keras
    from keras import ops

    return ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred))


def _masked_from_pred(y_true, y_pred):
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(ops.argmax(y_pred, axis=-1), 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)


def _masked_per_sequence(y_true, y_pred):
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    counts = ops.sum(mask, axis=1)
    per_row = ops.sum(losses * mask, axis=1) / ops.maximum(counts, 1.0)
    rows = ops.cast(counts > 0, "float32")
    return ops.sum(per_row * rows) / ops.maximum(ops.sum(rows), 1.0)


def _masked_python_if(y_true, y_pred):
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    if ops.sum(mask) == 0:
        return ops.convert_to_tensor(0.0)
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    return ops.sum(losses * mask) / ops.sum(mask)


def _masked_nan_on_empty(y_true, y_pred):
    import keras
    from keras import ops

    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    return ops.sum(losses * mask) / ops.sum(mask)


def _argmax_wrong_axis(y_true, y_pred, start_id, end_id):
    import keras
    from keras import ops

    weight = _skip_wrong_axis(y_true, y_pred, start_id, end_id)
    return ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * weight)


def _argmax_python_if(y_true, y_pred, start_id, end_id):
    import keras
    from keras import ops

    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    true_id = ops.cast(y_true, "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    if ops.all(ops.equal(true_id, pred_id)):
        return ops.convert_to_tensor(0.0)
    return ops.mean(losses)


def _argmax_kept_steps(y_true, y_pred, start_id, end_id):
    import keras
    from keras import ops

    weight = skip_weight(y_true, y_pred, start_id, end_id)
    losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    return ops.sum(losses * weight) / ops.maximum(ops.sum(weight), 1.0)


def _argmax_every_end(y_true, y_pred, start_id, end_id):
    import keras
    from keras import ops

    weight = _skip_every_end(y_true, y_pred, start_id, end_id)
    return ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * weight)


_LOSS_HINT_OPS = (
    "`keras.losses.sparse_categorical_crossentropy(y_true, y_pred)` gives the loss of every "
    "step, shape (batch, time), without reducing it."
)

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="skip_weight",
        answer_name="skip_weight",
        title="The argmax condition as a per-step weight",
        grader=_grade_skip_weight,
        hints=[
            "Work on whole tensors: find the predicted token of every step, compare it with "
            "`y_true`, and test whether `y_true` is the start or the end token. No Python `if`.",
            "`ops.argmax(y_pred, axis=-1)` gives the predicted ids (batch, time); `ops.equal` "
            "compares element by element; `ops.logical_or` and `ops.logical_and` combine the "
            "conditions. Cast `y_true` to int32 first: inside `fit` it arrives as float32.",
            "`skip = logical_and(equal(true_id, pred_id), logical_or(equal(true_id, start_id), "
            "equal(true_id, end_id)))`, then return `1.0 - ops.cast(skip, 'float32')`.",
        ],
        reference=skip_weight,
        legacy_wrong_answers=[
            WrongAnswer("python if on tensors", _skip_python_if, "Python `if`"),
            WrongAnswer("python loop over the batch", _skip_python_loop, "loops over the batch"),
            WrongAnswer("numpy() on a tensor", _skip_eval, "concrete values"),
            WrongAnswer("argmax over the time axis", _skip_wrong_axis, "wrong axis"),
            WrongAnswer("skips every end token", _skip_every_end, "even where the model"),
            WrongAnswer("inverted weight", _skip_inverted, "inverted"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_loss",
        answer_name="masked_loss",
        title="The general masked loss",
        grader=_grade_masked_loss,
        hints=[
            "Padding is id 0 in `y_true`. Build a float mask from `y_true`, multiply the "
            "per-step losses by it, and think about what to divide the sum by. " + _LOSS_HINT_OPS,
            "Divide by the number of real tokens, `ops.sum(mask)`, not by the number of steps "
            "(`ops.mean` would divide by every step). A batch of padding only has no real token: "
            "divide by `ops.maximum(ops.sum(mask), 1.0)` and do not branch with `if`.",
            "`mask = ops.cast(ops.not_equal(y_true, 0), 'float32')`; "
            "`return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)`.",
        ],
        reference=masked_loss,
        legacy_wrong_answers=[
            WrongAnswer("divides by every step", _masked_over_steps, "divides by all"),
            WrongAnswer("no mask", _masked_none, "padding included"),
            WrongAnswer("mask from y_pred", _masked_from_pred, "from the predictions"),
            WrongAnswer("mean of sequence means", _masked_per_sequence, "each sequence first"),
            WrongAnswer("python if guarding the division", _masked_python_if, "Python `if`"),
            WrongAnswer("NaN on an empty batch", _masked_nan_on_empty, "no real token"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="argmax_loss",
        answer_name="argmax_loss",
        title="Fix 3: the argmax-based loss",
        grader=_grade_argmax_loss,
        hints=[
            "Reuse the skip weight of the first exercise: compute the per-step crossentropy, "
            "multiply it by the weight, and average. " + _LOSS_HINT_OPS,
            "Average over every step with `ops.mean`: a skipped step is a step whose loss is 0. "
            "The argmax is over the vocabulary, `axis=-1`.",
            "`return ops.mean(losses * skip_weight(y_true, y_pred, start_id, end_id))`, with "
            "`losses = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)`.",
        ],
        reference=argmax_loss,
        legacy_wrong_answers=[
            WrongAnswer("python if on tensors", _argmax_python_if, "Python `if`"),
            WrongAnswer("argmax over the time axis", _argmax_wrong_axis, "wrong axis"),
            WrongAnswer("divides by kept steps", _argmax_kept_steps, "steps the weight keeps"),
            WrongAnswer("drops every end token", _argmax_every_end, "every start and end token"),
        ],
    ),
]
