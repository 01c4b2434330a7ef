"""Lesson 08: the capstone. Read the controlled experiment, diagnose the broken seq2seq model,
then repair it.

The lecture reads the committed grid (`course_utils.experiment`) and asserts its findings
(`course_utils.findings`). The first two checks grade diagnostic functions on hand-made
predictions. The third trains the learner's repair on a seeded split of the toy task
(`course_utils.seq2seq`) for the course's budget and measures it with the padding-blind metrics
on that split's test data, post-padded as `seq2seq` encodes it (naive ids, or fixed ids for a
model with one more output). The grid says what passes at that budget: a model whose encoder
reads its input (fix 1, `mask_zero`), whatever the loss; loss-side fixes alone (class weights,
the argmax rule, a masked loss) leave the post-padded encoder collapsed.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .. import checking
from ..checking import Exercise, Mistake, WrongAnswer, as_array, as_number, call_learner, close

LESSON = "08_capstone"
TITLE = "Capstone: a controlled experiment on the three fixes"
OBJECTIVES = [
    "read a controlled experiment: the input side, the loss side, the training budget and the "
    "seed, each varied with the others held fixed, reported as mean and spread over seeds;",
    "say which side of the model decides whether the end token takes over, and which decides how "
    "fast the tokens are learned;",
    "choose a fix for a padded seq2seq model and say when each of the thread's three suggestions "
    "works, on which budget, and what it costs;",
    "diagnose a broken seq2seq model from its predictions and repair it so that its encoder can "
    "read its input.",
]
PREREQUISITES = "Lessons 05, 06 and 07: the toy task and the three fixes."
MINUTES = 25
EXERCISE_MINUTES = 40

# The repair check trains on `seq2seq.make_split(CHECK_SEED)`, a seed no lecture uses (a smaller
# split does not give the mask enough examples to learn in the course's epochs).
CHECK_SEED = 3
# A repaired model must reach this real-token accuracy on the check's test split. The broken
# baseline and the loss-only fixes stay far below it, the mask far above it
# (tests/test_lesson_08.py keeps both margins).
REPAIR_MIN_ACCURACY = 0.4

# --------------------------------------------------------------------------- references


def end_token_rate(y_pred, lengths, end_id):
    """The share of real token positions (`t < lengths`) where the model predicts the end token.
    `y_pred`: probabilities (n, time, vocab); `lengths`: (n,) real tokens before the end token."""
    pred_id = np.argmax(np.asarray(y_pred), axis=-1)  # (n, time)
    steps = np.arange(pred_id.shape[1])
    tokens = steps[None, :] < np.asarray(lengths)[:, None]  # (n, time), True on real tokens
    return float(np.mean(pred_id[tokens] == end_id))


def per_position_accuracy(y_true, y_pred, lengths):
    """(time,): at each position t, the accuracy over the sequences for which t is a real
    position (`t <= lengths`: a token or the end token); NaN where no sequence reaches t."""
    y_true = np.asarray(y_true)
    right = np.argmax(np.asarray(y_pred), axis=-1) == y_true  # (n, time)
    steps = np.arange(y_true.shape[1])
    real = steps[None, :] <= np.asarray(lengths)[:, None]  # (n, time)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (right & real).sum(axis=0) / real.sum(axis=0)


def repair(train, seed=0):
    """Fix 1 (mask_zero): re-encode with 0 as padding, mask it in both embeddings, train."""
    from course_utils import seq2seq

    fixed = seq2seq.to_fixed(train)
    model = seq2seq.build_model(fixed.vocab_size, mask_zero=True, seed=seed)
    seq2seq.train(model, fixed, seed=seed)
    return model


def broken_model(train, seed=0):
    """The model to diagnose: naive targets (end token repeated), no mask, plain crossentropy."""
    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, seed=seed)
    seq2seq.train(model, train, seed=seed)
    return model


# --------------------------------------------------------------------------- cases


def _probs_for(pred_ids, vocab, rng):
    logits = rng.normal(0.0, 0.5, size=(*pred_ids.shape, vocab))
    np.put_along_axis(logits, pred_ids[..., None], 3.0, -1)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _diagnosis_cases():
    """(y_true naive ids, y_pred probabilities, lengths, end_id): each case has a sequence of
    full length (every position is real for someone), sequences of length 0, and predictions
    that put the end token on some real tokens and symbols on some padded steps."""
    rng = np.random.default_rng(8)
    cases = []
    for n_symbols, time, lengths in [
        (3, 6, [5, 1, 0, 2, 3, 1, 2]),
        (5, 8, [7, 2, 2, 4, 0]),
        (4, 5, [1, 4, 3, 1, 1, 2, 0, 2, 1]),
    ]:
        end_id, vocab = n_symbols + 1, n_symbols + 2
        lengths = np.asarray(lengths, dtype="int32")
        y_true = np.full((len(lengths), time), end_id, dtype="int32")
        for i, n in enumerate(lengths):
            y_true[i, :n] = rng.integers(0, n_symbols, size=n)
        pred = y_true.copy()
        to_end = rng.random(pred.shape) < 0.3
        pred[to_end] = end_id
        flips = rng.random(pred.shape) < 0.2
        pred[flips] = rng.integers(0, n_symbols, size=int(flips.sum()))
        cases.append((y_true, _probs_for(pred, vocab, rng), lengths, end_id))
    return cases


# --------------------------------------------------------------------------- graders


def _grade_end_token_rate(fn) -> str:
    for y_true, y_pred, lengths, end_id in _diagnosis_cases():
        got = as_number(call_learner(fn, y_pred.copy(), lengths.copy(), end_id), name="your rate")
        if close(got, end_token_rate(y_pred, lengths, end_id)):
            continue
        pred_id = np.argmax(y_pred, -1)
        steps = np.arange(y_true.shape[1])[None, :]
        tokens = steps < lengths[:, None]
        real = steps <= lengths[:, None]
        if close(got, np.mean(pred_id == end_id)):
            raise Mistake(
                "your rate counts padded steps too, where the end token is the right answer in "
                "the naive encoding; count only the real tokens (`t < lengths`)"
            )
        if close(got, np.mean(pred_id[real] == end_id)):
            raise Mistake(
                "your rate counts the end position (`t == lengths`) too, where predicting the end "
                "token is right; count only the tokens before it (`t < lengths`)"
            )
        if close(got, np.mean((pred_id == end_id) & tokens)):
            raise Mistake(
                "you divided by every step of the batch; divide by the number of real tokens"
            )
        if close(got, 1.0 - np.mean(pred_id[tokens] == end_id)):
            raise Mistake(
                "your rate is inverted: it counts the real tokens NOT predicted as the end"
            )
        raise Mistake(
            "your rate has the wrong value; it is the share of real token positions "
            "(`t < lengths`) whose argmax prediction is `end_id`"
        )
    return "you measure the symptom on real tokens only."


def _grade_per_position_accuracy(fn) -> str:
    for y_true, y_pred, lengths, _ in _diagnosis_cases():
        n, time = y_true.shape
        got = call_learner(fn, y_true.copy(), y_pred.copy(), lengths.copy())
        if got is not None and got is not Ellipsis and np.shape(got) == (n,):
            raise Mistake(
                "you returned one value per sequence; average over the sequences at each "
                "position instead (one value per time step, `axis=0`)"
            )
        got = as_array(got, name="your accuracies", shape=(time,), kind="number")
        expected = per_position_accuracy(y_true, y_pred, lengths)
        if close(got, expected):
            continue
        right = np.argmax(y_pred, -1) == y_true
        steps = np.arange(time)[None, :]
        real = steps <= lengths[:, None]
        tokens = steps < lengths[:, None]
        if close(got, right.mean(axis=0)):
            raise Mistake(
                "your accuracy counts padded steps too; late positions look right only because "
                "padding is the end token, which the model predicts. Count real positions only"
            )
        if close(got, (right & real).sum(axis=0) / n):
            raise Mistake(
                "you divided by every sequence; at each position divide by the number of "
                "sequences that are real there"
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            only_tokens = (right & tokens).sum(axis=0) / tokens.sum(axis=0)
        finite = np.isfinite(only_tokens)
        if finite.any() and close(got[finite], only_tokens[finite]):
            raise Mistake(
                "your accuracy leaves out the end position; a position is real up to and "
                "including the end token (`t <= lengths`)"
            )
        raise Mistake(
            "some positions get the wrong accuracy; at position t, use the sequences with "
            "`t <= lengths` and the share of them predicted right"
        )
    return "you can now see where along the sequence a model fails."


MASK_ZERO_ON_NAIVE = (
    "your model uses `mask_zero=True` on the naive encoding, where id 0 is a real symbol: it "
    "hides a real token from the model. Re-encode first (`seq2seq.to_fixed`: 0 becomes padding, "
    "every id moves up by one) and build the model with the fixed vocabulary size"
)
CLASS_WEIGHT_IN_FIT = (
    "training failed on a shape mismatch in the loss weights: `fit(class_weight=...)` does not "
    "work for sequence targets in Keras 3 (lesson 06), and a `sample_weight` must have shape "
    "(batch, time). Pass a per-step `sample_weight` instead"
)
# What Keras raises when per-sequence weights meet per-step losses (at trace time or at run time).
_WEIGHT_SHAPE_SIGNS = ("Incompatible shapes", "Dimensions must be equal", "0-dimensional arrays")


class WeightShapeError(Exception):
    """The learner's training failed on loss weights of the wrong shape (read from the whole
    error text, which `call_learner` would cut to its first line)."""


def _naming_weight_errors(fn):
    def repair_(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as exc:
            if any(sign in str(exc) for sign in _WEIGHT_SHAPE_SIGNS):
                raise WeightShapeError() from None
            raise

    return repair_


@cache
def check_split():
    """`(train, test)` of the repair check: naive encoding, small, seeded."""
    from course_utils import seq2seq

    return seq2seq.make_split(CHECK_SEED)


def measure_repair(model, test):
    """The padding-blind metrics of `model` on the naive `test` split, read in the encoding the
    model was trained on (its output size tells: naive vocabulary, or one more for fix 1)."""
    from course_utils import seq2seq

    classes = model.output_shape[-1]
    data = test if classes == test.vocab_size else seq2seq.to_fixed(test)
    return seq2seq.evaluate(model, data)


def _grade_repair(fn) -> str:
    import keras

    if not callable(fn):
        call_learner(fn)  # raises the usual "expected a function" sentence
    train, test = check_split()
    try:
        # Training takes seconds; the limit still stops a function that never returns.
        model = call_learner(
            _naming_weight_errors(fn), train, seed=0, timeout=checking.DEFAULT_CALL_TIMEOUT * 6
        )
    except Mistake as mistake:
        if "WeightShapeError" in str(mistake):
            raise Mistake(CLASS_WEIGHT_IN_FIT) from None
        raise
    if model is None:
        raise Mistake("your function returned None; return the trained model")
    if model is Ellipsis:
        raise checking.NotAttempted()
    if not isinstance(model, keras.Model):
        raise Mistake(
            f"your function returned a {checking.describe(model)}; return the trained Keras model"
        )
    classes = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    if classes not in (test.vocab_size, test.vocab_size + 1):
        raise Mistake(
            "your model's output does not match the toy task: it should give one probability "
            "per token id of the naive vocabulary, or of the fixed one (one id more)"
        )
    masks_zero = any(getattr(layer, "mask_zero", False) for layer in model.layers)
    if masks_zero and classes == test.vocab_size:
        raise Mistake(MASK_ZERO_ON_NAIVE)
    try:
        measured = measure_repair(model, test)
    except Exception as exc:
        raise Mistake(
            f"your model could not predict the toy task's inputs ({type(exc).__name__}); build "
            "it with `seq2seq.build_model`"
        ) from None
    accuracy = measured["real_token_accuracy"]
    if not np.isfinite(accuracy) or accuracy < REPAIR_MIN_ACCURACY:
        raise Mistake(
            f"your model gets {accuracy:.0%} of the real tokens right on the check's test split, "
            "no better than the broken model. In the capstone's grid, while the encoder reads the "
            "padding after the last symbol, no change to the loss alone (class weights, the "
            "argmax rule, a loss masked from `y_true`) learns the real tokens within the "
            "course's 6 epochs. Let the encoder read its input: mask the padding in its "
            "Embedding (fix 1, lesson 05)"
        )
    return (
        f"repaired: {accuracy:.0%} of the real tokens right, end token predicted on "
        f"{measured['end_token_rate']:.0%} of them."
    )


# --------------------------------------------------------------------------- wrong answers


def _rate_all_steps(y_pred, lengths, end_id):
    return float(np.mean(np.argmax(y_pred, -1) == end_id))


def _rate_with_end_position(y_pred, lengths, end_id):
    pred_id = np.argmax(y_pred, -1)
    real = np.arange(pred_id.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return float(np.mean(pred_id[real] == end_id))


def _rate_over_batch(y_pred, lengths, end_id):
    pred_id = np.argmax(y_pred, -1)
    tokens = np.arange(pred_id.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return float(np.mean((pred_id == end_id) & tokens))


def _position_with_padding(y_true, y_pred, lengths):
    return (np.argmax(y_pred, -1) == np.asarray(y_true)).mean(axis=0)


def _position_over_all_sequences(y_true, y_pred, lengths):
    y_true = np.asarray(y_true)
    right = np.argmax(y_pred, -1) == y_true
    real = np.arange(y_true.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return (right & real).sum(axis=0) / len(y_true)


def _position_per_sequence(y_true, y_pred, lengths):
    y_true = np.asarray(y_true)
    right = np.argmax(y_pred, -1) == y_true
    real = np.arange(y_true.shape[1])[None, :] <= np.asarray(lengths)[:, None]
    return (right & real).sum(axis=1) / real.sum(axis=1)


def _repair_unchanged(train, seed=0):
    return broken_model(train, seed)


def _repair_mask_zero_naive(train, seed=0):
    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, mask_zero=True, seed=seed)
    seq2seq.train(model, train, seed=seed)
    return model


def _repair_fit_class_weight(train, seed=0):
    import keras

    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, seed=seed)
    model.compile(keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    weights = seq2seq.class_weight_dict(train.targets, train.end_id, train.vocab_size)
    model.fit(train.inputs, train.targets, class_weight=weights, epochs=1, verbose=0)
    return model


def _repair_class_weight_only(train, seed=0):
    from course_utils import seq2seq

    model = seq2seq.build_model(train.vocab_size, seed=seed)
    weights = seq2seq.class_weight_dict(train.targets, train.end_id, train.vocab_size)
    sample_weight = seq2seq.timestep_sample_weight(train.targets, weights)
    seq2seq.train(model, train, seed=seed, sample_weight=sample_weight)
    return model


def _repair_untrained(train, seed=0):
    from course_utils import seq2seq

    return seq2seq.build_model(train.vocab_size, seed=seed)


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="end_token_rate",
        answer_name="end_token_rate",
        title="Diagnose: how often does the model say 'end' on a real token?",
        grader=_grade_end_token_rate,
        hints=[
            "Take the predicted ids with an argmax over the vocabulary, then look only at the real "
            "tokens: position t of sequence i is a real token when t < lengths[i].",
            "Build a boolean (n, time) array `tokens = np.arange(time)[None, :] < "
            "lengths[:, None]` and average `pred_id == end_id` over `pred_id[tokens]`.",
            "`float(np.mean(np.argmax(y_pred, -1)[tokens] == end_id))`.",
        ],
        reference=end_token_rate,
        legacy_wrong_answers=[
            WrongAnswer("counts padded steps", _rate_all_steps, "padded steps too"),
            WrongAnswer("counts the end position", _rate_with_end_position, "end position"),
            WrongAnswer("divides by every step", _rate_over_batch, "every step"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="per_position_accuracy",
        answer_name="per_position_accuracy",
        title="Diagnose: where along the sequence does it fail?",
        grader=_grade_per_position_accuracy,
        hints=[
            "Compare the argmax predictions with `y_true` to get an (n, time) array of right/"
            "wrong, and a boolean (n, time) array of real positions (`t <= lengths`).",
            "At each position, count the right AND real entries and divide by the number of real "
            "entries: sums over `axis=0`, the sequences.",
            "`(right & real).sum(axis=0) / real.sum(axis=0)`.",
        ],
        reference=per_position_accuracy,
        legacy_wrong_answers=[
            WrongAnswer("counts padded steps", _position_with_padding, "padded steps too"),
            WrongAnswer(
                "divides by every sequence", _position_over_all_sequences, "every sequence"
            ),
            WrongAnswer("one value per sequence", _position_per_sequence, "one value per sequence"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="repair",
        answer_name="repair",
        title="Repair the broken model",
        grader=_grade_repair,
        hints=[
            "Look at the capstone's verdict table: which variants get the real tokens right, "
            "and what do they have in common that the others lack?",
            "Only the variants with `mask_zero=True` stop the encoder from reading padding, and "
            "`mask_zero` needs the fixed encoding (0 = padding): `seq2seq.to_fixed(train)`.",
            "`fixed = seq2seq.to_fixed(train)`; `model = seq2seq.build_model(fixed.vocab_size, "
            "mask_zero=True, seed=seed)`; `seq2seq.train(model, fixed, seed=seed)`; return "
            "`model`.",
        ],
        reference=repair,
        legacy_wrong_answers=[
            WrongAnswer(
                "mask_zero on the naive ids", _repair_mask_zero_naive, "id 0 is a real symbol"
            ),
            WrongAnswer("fit(class_weight=...)", _repair_fit_class_weight, "class_weight"),
            WrongAnswer("untrained model", _repair_untrained, "no better than the broken model"),
            WrongAnswer("unchanged training", _repair_unchanged, "no better than the broken model"),
            WrongAnswer("class weights only", _repair_class_weight_only, "the loss alone"),
        ],
    ),
]
