"""Lesson 03: how a mask travels from layer to layer, and custom layers that pass or consume it.

The exercises are data (see AUTHORING.md): cases (masked batches), a probe and named
misconceptions. `probe_layer` instantiates the learner's layer class, calls it on a tensor that
carries a mask as a model would, and writes down as plain data the output, the mask Keras
attaches to it, `supports_masking` and whether Keras warned. The answers live in
`course_utils.answers.l03_mask_propagation`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import probing
from ..checking import Exercise
from ..judging import NOT_ATTEMPTED, RAISED, TIMEOUT, VALUE, Fact, Misconception, Observation
from ..probing import Case, given, observe_value
from ..time_limit import TimeLimitExceeded, time_limit

LESSON = "03_mask_propagation"
TITLE = "Mask propagation"
OBJECTIVES = [
    "say what `supports_masking`, `compute_mask(inputs, mask)` and a tensor's (internal) "
    "`_keras_mask` do, and ask any layer for its mask with the public `compute_mask`;",
    "follow a mask through a functional model in Keras 3 (`Layer.__call__`, "
    "`Functional._run_through_graph`) and in Keras 2 (`Model.compute_mask`, "
    "`_run_internal_graph`), skimming the installed source;",
    "write a custom layer that passes a mask on, and one that consumes it;",
    "trace a model layer by layer to see where a mask is created, passed, changed or lost, and "
    "predict the trace first;",
    "check thread 001's claim that the mask reaches the loss, and why `y_pred != 0` finds padded "
    "steps only when they are leading.",
]
PREREQUISITES = (
    "Lessons 01 (padding) and 02 (the `Masking` layer, where the loss reads its mask); "
    "subclassing `keras.layers.Layer` (a `call` method) helps."
)
MINUTES = 30
EXERCISE_MINUTES = 25

# Installed source the lecture quotes (`source_excerpt`): dotted name -> a line it asserts.
# tests/test_lesson_03.py fails if one disappears or changes, before the notebook is run.
QUOTED_SOURCE = {
    "keras.src.layers.layer.Layer.__call__": "_set_mask_metadata",
    "keras.src.layers.layer.Layer._set_mask_metadata": "self.compute_mask(inputs, previous_mask)",
    "keras.src.models.functional.Functional._run_through_graph": "def _run_through_graph(",
    "keras.src.models.functional.Functional.call": "backend.set_keras_mask(x, mask)",
    "tf_keras.src.engine.functional.Functional.compute_mask": (
        "self._run_internal_graph(inputs, mask=mask)"
    ),
    "tf_keras.src.engine.functional.Functional._run_internal_graph": "input_t._keras_mask = mask",
    "tf_keras.src.engine.base_layer.Layer.__call__": "self._set_mask_metadata(",
}

# --------------------------------------------------------------------------- cases


def _masked_batch(rng: np.random.Generator, rows: int, steps: int, features: int, side: str):
    """`(x, mask)`: float32 values that are nonzero on every step (an embedded padding token is
    not a zero vector), and a bool `(batch, time)` mask padded on `side`."""
    x = rng.uniform(0.5, 1.5, (rows, steps, features)) * rng.choice([-1, 1], (rows, steps, 1))
    lengths = rng.integers(0, steps + 1, size=rows)
    lengths[0] = max(1, min(lengths[0], steps - 1))  # one row with real steps and padding
    mask = np.zeros((rows, steps), dtype=bool)
    for r, n in enumerate(lengths):
        if side == "post":
            mask[r, :n] = True
        else:
            mask[r, steps - n :] = True
    return x.astype("float32"), mask


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    """Post-padding, pre-padding with an all-padding row and an all-real row, a batch with no
    mask at all, and two batches of random shape, padding side and lengths drawn from the seed."""
    fixed_rng = np.random.default_rng(3)
    x1, _ = _masked_batch(fixed_rng, 3, 5, 3, "post")
    mask1 = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    x2, _ = _masked_batch(fixed_rng, 3, 4, 2, "pre")
    mask2 = np.array([[0, 0, 1, 1], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)
    x3, _ = _masked_batch(fixed_rng, 2, 4, 2, "post")
    fixed = [
        Case((x1, mask1), note="a post-padded batch"),
        Case((x2, mask2), note="a pre-padded batch with an all-padding row"),
        Case((x3, None), note="a batch that carries no mask"),
    ]
    generated = []
    for side in ("post", "pre"):
        shape = (int(rng.integers(2, 5)), int(rng.integers(3, 8)), int(rng.integers(1, 5)))
        x, mask = _masked_batch(rng, *shape, side)
        generated.append(Case((x, mask), note=f"a {side}-padded batch of shape {shape}"))
    return fixed + generated


# --------------------------------------------------------------------------- the layer probe

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS_NOISE = (
    "Exception encountered when calling",
    "Could not automatically infer",
    "Arguments received by",
    "•",
)


def _clean_error(exc: BaseException) -> str:
    """The learner-relevant line of an exception message (Keras wraps errors in several lines),
    with no bracket that could read as an array printout."""
    text = _ANSI.sub("", str(exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "Error encountered:" in lines:
        after = lines[lines.index("Error encountered:") + 1 :]
        lines = after or lines
    useful = [ln for ln in lines if not ln.startswith(_KERAS_NOISE)]
    return (useful or [""])[0].replace("[", "(").replace("]", ")")[:200]


def _attempt(stage: str, fn) -> tuple[Observation | None, Any]:
    """Run learner code under the time limit: `(None, value)`, or `(observation, None)` naming
    the `stage` ("create", "call", "model") where it failed. A bare NotImplementedError is the
    untouched stub; one with a message is the learner's error (NumPy on a symbolic tensor)."""
    try:
        with time_limit(probing.limit(probing.DEFAULT_CALL_TIMEOUT)):
            return None, fn()
    except TimeLimitExceeded:
        return {"outcome": TIMEOUT}, None
    except NotImplementedError as exc:
        if not _clean_error(exc):
            return {"outcome": NOT_ATTEMPTED}, None
        return {
            "outcome": RAISED,
            "error": "NotImplementedError",
            "detail": _clean_error(exc),
            "stage": stage,
        }, None
    except Exception as exc:  # the learner's own error, kept as data
        return {
            "outcome": RAISED,
            "error": type(exc).__name__,
            "detail": _clean_error(exc),
            "stage": stage,
        }, None


def _problem(kind: str, type_name: str) -> Observation:
    return {
        "outcome": VALUE,
        "value": None,
        "kind": "O",
        "shape": None,
        "problem": kind,
        "type": type_name,
    }


def probe_layer(answer: Any, case: Case) -> Observation:
    """Instantiate the learner's layer class and call it the way a model does: on a tensor that
    carries the case's mask (`_keras_mask`, as an upstream layer attaches it). Observes the
    output, and in `extra` the mask Keras attaches to it, `supports_masking`, and whether Keras
    warned about the mask. The layer is also called on a symbolic `keras.Input`, as in a model."""
    import keras
    from keras import ops
    from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

    if isinstance(answer, keras.layers.Layer):
        return _problem("instance", type(answer).__name__)
    if not isinstance(answer, type):
        return _problem("not a class", type(answer).__name__)
    if not issubclass(answer, keras.layers.Layer):
        return _problem("not a layer", answer.__name__)
    failed, layer = _attempt("create", answer)
    if failed is not None:
        return failed
    x, mask = case.args
    inputs = ops.convert_to_tensor(x)
    if mask is not None:
        set_keras_mask(inputs, ops.convert_to_tensor(mask))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failed, out = _attempt("call", lambda: layer(inputs))
    if failed is not None:
        return failed
    observed = observe_value(out)
    out_mask = get_keras_mask(out) if hasattr(out, "shape") else None
    observed["extra"] = {
        "mask": None if out_mask is None else observe_value(out_mask).get("value"),
        "supports_masking": bool(getattr(layer, "supports_masking", False)),
        "warned": any("mask" in str(w.message).lower() for w in caught),
        "overrides_compute_mask": answer.compute_mask is not keras.layers.Layer.compute_mask,
    }
    failed, _ = _attempt("model", lambda: answer()(keras.Input(shape=(None, x.shape[-1]))))
    return failed or observed


def _layer_rule(what: str) -> Callable[[list[Observation], list[Observation]], str | None]:
    """The judge's sentences for what the generic ones cannot say: the answer is not a layer
    class, or creating it / calling it in a model raised."""

    def rule(learner: list[Observation], reference: list[Observation]) -> str | None:
        for seen in learner:
            problem, type_name = seen.get("problem"), seen.get("type")
            if problem == "instance":
                return (
                    f"you passed an instance of {type_name}; pass the class itself "
                    f"(`{type_name}`, without parentheses)"
                )
            if problem == "not a class":
                return (
                    f"expected a class (a subclass of keras.layers.Layer) for {what}, but got "
                    f"a {type_name}"
                )
            if problem == "not a layer":
                return f"your class {type_name} must subclass keras.layers.Layer"
            stage = seen.get("stage")
            if seen.get("outcome") == RAISED and stage:
                where = {
                    "create": "creating your layer",
                    "call": "your layer",
                    "model": "your layer, called in a model (on a symbolic `keras.Input`),",
                }[stage]
                detail = seen.get("detail") or ""
                return f"{where} raised {seen.get('error')}" + (f": {detail}" if detail else "")
        return None

    return rule


_LAYER_FACTS = [
    Fact(
        "supports_masking",
        "your layer has `supports_masking = False`, so Keras never asks its `compute_mask`, "
        "drops the mask and warns that the layer 'will destroy the mask'; in Keras 3, "
        "overriding `compute_mask` sets it to True (unless `__init__` sets it back to False)",
    ),
    Fact(
        "overrides_compute_mask",
        "your layer does not override `compute_mask`, so it does not say which mask leaves it",
    ),
    Fact("warned", "Keras warned about the mask while calling your layer"),
    Fact("mask", "the mask Keras attaches to your layer's output is not the right one"),
]


# --------------------------------------------------------------------------- exercise 3: predict

PREDICTION_LAYERS = ("embedding", "dense", "dropout", "lstm", "pooling", "classifier")


def prediction_model():
    """The model of exercise 3: which of its layers hand a mask on? `(batch, 6)` int ids in."""
    import keras

    inputs = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 4, mask_zero=True, name="embedding")(inputs)
    x = keras.layers.Dense(4, name="dense")(x)
    x = keras.layers.Dropout(0.1, name="dropout")(x)
    x = keras.layers.LSTM(4, return_sequences=True, name="lstm")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="classifier_model")


def prediction_evidence(model) -> list[dict]:
    """What a learner may read before predicting, one dict per layer of `model` (the input layer
    left out): its name, class, output shape (is the time axis still there?),
    `supports_masking`, and the settings the lecture discusses (`mask_zero`,
    `return_sequences`). Not the masks themselves: those are the answer."""
    rows = []
    for layer in model.layers[1:]:
        config = layer.get_config()
        rows.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output shape": tuple(layer.output.shape),
                "supports_masking": bool(layer.supports_masking),
                **{k: config[k] for k in ("mask_zero", "return_sequences") if k in config},
            }
        )
    return rows


def _prediction_rule(learner: list[Observation], reference: list[Observation]) -> str | None:
    """Sentences for a prediction that is not a list of booleans, and, for a list, for the first
    layer predicted wrong (a mask reaches layer i when one leaves layer i - 1)."""
    seen, right = learner[0], reference[0]
    if seen.get("type") == "function":
        return "give a list of True/False values, not a function"
    if isinstance(seen.get("value"), dict):
        return "give a list of True/False values in the order of PREDICTION_LAYERS, not a dict"
    if seen.get("kind") != "b" or seen.get("shape") != right.get("shape"):
        return None
    for i, (predicted, actual) in enumerate(zip(seen["value"], right["value"], strict=True)):
        if predicted == actual:
            continue
        name = PREDICTION_LAYERS[i]
        if not predicted and i == 0:
            return (
                f"you predicted that no mask leaves `{name}`, but `Embedding(mask_zero=True)` "
                "creates one from the ids (`ids != 0`): no mask needs to arrive"
            )
        if not predicted:
            return (
                f"you predicted that no mask leaves `{name}`, but it supports masking, keeps "
                "the time axis and hands on the mask it receives"
            )
        if right["value"][i - 1]:
            return (
                f"you predicted that a mask leaves `{name}`, but it takes the mask in `call` "
                "and its output has no time axis left to mask"
            )
        return (
            f"you predicted that a mask leaves `{name}`, but no mask reaches it: once a layer "
            "ends the mask, later layers have none to pass on"
        )
    return None


# --------------------------------------------------------------------------- exercises

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="reverse_time",
        answer_name="ReverseTime",
        title="A custom layer that moves the steps, and its mask with them",
        cases=_layer_cases,
        probe=probe_layer,
        reference="ReverseTime",
        alternatives=["ReverseTimeByIndexing", "ReverseTimeWithTake"],
        misconceptions=[
            Misconception(
                "hands on the same mask",
                "HandsOnTheSameMask",
                "you handed on the mask that arrived, but your layer moved the steps: the last "
                "output step is the first input step, so the mask must be reversed along time "
                "too, or padding is taken for real tokens and real tokens for padding",
            ),
            Misconception(
                "ends the mask",
                "EndsTheMask",
                "your compute_mask returns None, which ends the mask; the output still has a "
                "time axis, so the layers after it need a mask",
            ),
            Misconception(
                "no compute_mask",
                "NoComputeMask",
                "your layer has no `compute_mask`, so Keras 3 sets `supports_masking = False`, "
                "drops the mask and warns on every call that the layer 'will destroy the mask'; "
                "override compute_mask",
            ),
            Misconception(
                "switches masking off",
                "SwitchesMaskingOff",
                "your `__init__` sets `supports_masking = False`, so Keras never asks your "
                "`compute_mask`: it drops the mask and warns that the layer 'will destroy the "
                "mask'; leave `supports_masking` alone (overriding `compute_mask` sets it)",
            ),
            Misconception(
                "fails without a mask",
                "FailsWithoutAMask",
                "your `compute_mask` fails when no mask arrives (`mask=None`, as in a model "
                "whose input carries no mask, where Keras still asks it); return None then",
            ),
            Misconception(
                "reverses the batch",
                "ReversesTheBatch",
                "you reversed the mask along the batch axis (axis 0), so rows get each other's "
                "masks; a mask is (batch, time), and time is axis 1",
            ),
            Misconception(
                "mask from the values",
                "MaskFromValues",
                "your compute_mask builds a new mask from the layer's values, which marks every "
                "step real (an embedded padding token is not a zero vector); transform the mask "
                "that arrived instead",
            ),
            Misconception(
                "reverses the features",
                "ReversesTheFeatures",
                "your `call` reverses the last axis, the features; the steps are on axis 1 of "
                "(batch, time, features)",
            ),
        ],
        judge={
            "what": "your layer's output",
            "success": "your layer reverses the steps and the mask with them, so every mask "
            "entry still describes its own step.",
            "fallback": "your layer's output or the mask it hands on is not the reversed one",
            "facts": _LAYER_FACTS,
            "custom": _layer_rule("the mask-moving layer"),
        },
        hints=[
            "Keras calls `compute_mask(inputs, mask)` after `call`, with the mask that arrived; "
            "whatever it returns is attached to the output. Which output step is real?",
            "Output step t is input step (time - 1 - t): the mask entry must move the same way. "
            "A mask is (batch, time); reverse it along time. Return None when no mask arrived.",
            "`call` returns `ops.flip(inputs, axis=1)`; `compute_mask` returns "
            "`None if mask is None else ops.flip(mask, axis=1)`.",
        ],
        solution_code=(
            "class ReverseTime(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        return ops.flip(inputs, axis=1)\n\n"
            "    def compute_mask(self, inputs, mask=None):\n"
            "        if mask is None:\n"
            "            return None\n"
            "        return ops.flip(mask, axis=1)"
        ),
    ),
    Exercise(
        lesson=LESSON,
        name="masked_mean",
        answer_name="MaskedMean",
        title="A custom layer that consumes the mask",
        cases=_layer_cases,
        probe=probe_layer,
        reference="MaskedMean",
        alternatives=["MaskedMeanWithWhere", "MaskedMeanByDivideNoNan"],
        misconceptions=[
            Misconception(
                "ignores the mask",
                "PlainMean",
                "your layer averages over every step, padding included; take the `mask` "
                "argument in `call` and leave padded steps out",
            ),
            Misconception(
                "no compute_mask",
                "MeanWithoutComputeMask",
                "your layer has no `compute_mask`, so Keras 3 sets `supports_masking = False` "
                "and warns on every call that the layer 'will destroy the mask'; override "
                "compute_mask to return None, which ends the mask on purpose",
            ),
            Misconception(
                "divides by every step",
                "DividesByEveryStep",
                "your mean divides by the number of time steps; only the real tokens count, "
                "so divide by the number of True entries of each row's mask",
            ),
            Misconception(
                "averages the padding",
                "AveragesThePadding",
                "your mean uses the inverted mask: it averages the padded steps only",
            ),
            Misconception(
                "NaN for an all-padding row",
                "NanForAnEmptyRow",
                "a row with no real step gives NaN (0 / 0); give it 0, as lesson 07's masked "
                "loss does: divide by at least 1",
            ),
            Misconception(
                "passes the mask on",
                "PassesTheMaskOn",
                "a mask still leaves your layer, but its output has no time axis; "
                "compute_mask should return None so the mask ends here",
            ),
        ],
        judge={
            "what": "your layer's output",
            "success": "your layer averages the real steps only, gives 0 to a row with none, "
            "and ends the mask: it consumes it.",
            "fallback": "your layer's output is not the mean of each row's real (unmasked) steps",
            "facts": _LAYER_FACTS,
            "custom": _layer_rule("the masked-mean layer"),
        },
        hints=[
            "Give `call` a `mask=None` argument: Keras fills it with the mask that arrived. "
            "Weight each step by the mask (1.0 real, 0.0 padding) before summing over time.",
            "Divide each row's sum by its number of real steps, at least 1 (a row of padding "
            "only gives 0); let `compute_mask` return None, since the output has no time axis.",
            "`w = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)`, then "
            "`ops.sum(inputs * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)`; "
            "with `mask is None`, return `ops.mean(inputs, axis=1)`.",
        ],
        solution_code=(
            "class MaskedMean(keras.layers.Layer):\n"
            "    def call(self, inputs, mask=None):\n"
            "        if mask is None:\n"
            "            return ops.mean(inputs, axis=1)\n"
            "        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)  # (batch, time, 1)\n"
            "        total = ops.sum(inputs * weights, axis=1)  # (batch, features)\n"
            "        count = ops.maximum(ops.sum(weights, axis=1), 1.0)  # (batch, 1)\n"
            "        return total / count\n\n"
            "    def compute_mask(self, inputs, mask=None):\n"
            "        return None"
        ),
    ),
    Exercise(
        lesson=LESSON,
        name="predict_kept_masks",
        answer_name="keeps_mask",
        title="Predict which layers hand a mask on",
        cases=[Case(note="the model of exercise 3")],
        probe=given(),
        reference="keeps_mask",
        alternatives=["keeps_mask_as_tuple", "keeps_mask_from_comparisons"],
        misconceptions=[
            Misconception(
                "mask survives pooling",
                "mask_survives_pooling",
                "you predicted that the mask survives the pooling layer, but pooling removes the "
                "time axis: it takes the mask in `call` and ends it, so nothing after it has one",
            ),
            Misconception(
                "classifier re-creates it",
                "classifier_recreates_it",
                "you predicted that a mask leaves `classifier`, but no mask reaches it: once a "
                "layer ends the mask, later layers have none to pass on",
            ),
            Misconception(
                "dropout drops it",
                "dropout_drops_it",
                "you predicted that no mask leaves `dropout`, but Dropout supports masking and "
                "acts on each step: it hands on the mask it receives",
            ),
            Misconception(
                "dense drops it",
                "dense_drops_it",
                "you predicted that Dense ends the mask, but Dense acts on each step "
                "separately and supports masking: it hands the mask on",
            ),
            Misconception(
                "embedding only hands on",
                "embedding_only_passes",
                "you predicted that no layer has a mask, as if the Embedding could only hand on "
                "a mask it receives; `Embedding(mask_zero=True)` creates the mask from the ids",
            ),
        ],
        judge={
            "what": "your list of predictions",
            "success": "every prediction matches the masks Keras computes in this model.",
            "fallback": "some of your predictions differ from the masks Keras computes",
            "tolerance": {"strict_kind": True},
            "custom": _prediction_rule,
        },
        hints=[
            "A mask leaves a layer when the layer supports masking and its output still has the "
            "time axis; Dense and Dropout act on each step separately.",
            "The Embedding creates the mask (`mask_zero=True`). A pooling layer removes the time "
            "axis; everything after it sees no mask at all.",
            "Four layers hand the mask on, then it ends at the pooling layer.",
        ],
        solution_code="keeps_mask = [True, True, True, True, False, False]",
    ),
]
