"""Lesson 03: how a mask travels from layer to layer, and custom layers that pass or consume it.

The checks build small Keras models around the learner's layer classes and read the real masks
Keras attaches (`course_utils.masks.trace_masks`), so they grade behaviour, not code.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from ..checking import Exercise, Mistake, WrongAnswer, as_array, call_learner, describe

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

# The batch every check feeds through `Embedding(mask_zero=True)`: id 0 is padding, rows padded
# at the end, at the front, and not at all.
_IDS = np.array([[4, 2, 7, 0, 0], [0, 0, 3, 3, 1], [5, 6, 1, 2, 8]], dtype="int32")
_VOCAB, _FEATURES = 9, 3


# --------------------------------------------------------------------------- calling learner code

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS_NOISE = (
    "Exception encountered when calling",
    "Could not automatically infer",
    "Arguments received by",
    "•",
)


def _clean_error(exc: BaseException) -> str:
    """The learner-relevant line of an exception message (Keras wraps errors in several lines)."""
    text = _ANSI.sub("", str(exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "Error encountered:" in lines:
        after = lines[lines.index("Error encountered:") + 1 :]
        lines = after or lines
    useful = [ln for ln in lines if not ln.startswith(_KERAS_NOISE)]
    line = (useful or [""])[0]
    line = line.replace("[", "(").replace("]", ")")  # no array-like printouts in messages
    return line[:200]


class _Failed:
    def __init__(self, exc: BaseException):
        self.name = type(exc).__name__
        self.detail = _clean_error(exc)


def _run(what: str, fn, *args, **kwargs) -> Any:
    """Run learner code (`what` names it: "your layer") with the time limit of `call_learner`;
    exceptions become a Mistake sentence, NotImplementedError means "not attempted"."""

    def guarded():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. "will destroy the mask": graded instead
                return fn(*args, **kwargs)
        except NotImplementedError as exc:
            if not _clean_error(exc):
                raise  # the untouched stub: "not attempted"
            return _Failed(exc)  # e.g. TensorFlow refusing NumPy on a symbolic tensor
        except Exception as exc:  # the learner's error, turned into a sentence below
            return _Failed(exc)

    try:
        out = call_learner(guarded)
    except Mistake as mistake:
        raise Mistake(str(mistake).replace("your function", what)) from None
    if isinstance(out, _Failed):
        raise Mistake(f"{what} raised {out.name}" + (f": {out.detail}" if out.detail else ""))
    return out


def _instantiate(cls: Any, kind: str):
    """A fresh instance of the learner's layer class, or a Mistake saying why not."""
    import keras

    if isinstance(cls, keras.layers.Layer):
        raise Mistake(
            f"you passed an instance of {type(cls).__name__}; pass the class itself "
            f"(`{type(cls).__name__}`, without parentheses)"
        )
    if not isinstance(cls, type):
        raise Mistake(
            f"expected a class (a subclass of keras.layers.Layer) for the {kind}, but got a "
            f"{describe(cls)}"
        )
    if not issubclass(cls, keras.layers.Layer):
        raise Mistake(f"your class {cls.__name__} must subclass keras.layers.Layer")
    layer = _run("creating your layer", cls)
    if not isinstance(layer, keras.layers.Layer):
        raise Mistake(f"creating your class gave a {describe(layer)}, not a Keras layer")
    return layer


def _embedded(ids: np.ndarray):
    """A fixed `Embedding(mask_zero=True)` and its eager output on `ids` (mask attached)."""
    import keras

    embedding = keras.layers.Embedding(
        _VOCAB,
        _FEATURES,
        mask_zero=True,
        embeddings_initializer=keras.initializers.RandomUniform(0.5, 1.5, seed=3),
        name="embedding",
    )
    return embedding, embedding(ids)


def _mask_np(tensor) -> np.ndarray | None:
    from keras.src.backend.common.masking import get_keras_mask

    mask = get_keras_mask(tensor) if tensor is not None else None
    return None if mask is None else np.asarray(mask)


# --------------------------------------------------------------------------- exercise 1: pass on


def _make_reference_classes():
    import keras
    from keras import ops

    class DoubleFeatures(keras.layers.Layer):
        """Doubles every feature, `(batch, time, features)` -> same shape; hands the mask on."""

        def call(self, inputs):
            return inputs * 2.0

        def compute_mask(self, inputs, mask=None):
            return mask

    class MaskedMean(keras.layers.Layer):
        """Mean over the real time steps: `(batch, time, features)` -> `(batch, features)`."""

        def call(self, inputs, mask=None):
            if mask is None:
                return ops.mean(inputs, axis=1)
            weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)  # (batch, time, 1)
            total = ops.sum(inputs * weights, axis=1)  # (batch, features)
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)  # (batch, 1)
            return total / count

        def compute_mask(self, inputs, mask=None):
            return None  # the time axis is gone, so the mask ends here

    return DoubleFeatures, MaskedMean


_CLASSES: dict[str, type] = {}


def _reference(name: str) -> type:
    if not _CLASSES:
        double, mean = _make_reference_classes()
        _CLASSES.update(DoubleFeatures=double, MaskedMean=mean)
    return _CLASSES[name]


def _wrong_double(kind: str) -> type:
    """Known-wrong `DoubleFeatures` variants, built lazily so importing the lesson stays cheap."""
    from keras import ops

    base = _reference("DoubleFeatures")

    class Wrong(base):
        def compute_mask(self, inputs, mask=None):
            if kind == "returns None":
                return None
            if kind == "per feature":  # (batch, time, features): one entry per feature
                return ops.broadcast_to(ops.expand_dims(mask, -1), ops.shape(inputs))
            if kind == "from inputs":  # a new mask from the values: embeddings are never zero
                return ops.any(ops.not_equal(inputs, 0), axis=-1)
            if kind == "inverted":
                return ops.logical_not(mask)
            return mask

    class NoSupport(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = False

    class NoDoubling(base):
        def call(self, inputs):
            return inputs + 0.0

    if kind == "supports_masking False":
        Wrong = NoSupport  # noqa: N806
    if kind == "no doubling":
        Wrong = NoDoubling  # noqa: N806
    Wrong.__name__ = Wrong.__qualname__ = "DoubleFeatures"
    return Wrong


class _LazyClass:
    """A stand-in for a class, built on first use: importing the lesson must not import Keras."""

    def __init__(self, factory, *args):
        self._factory, self._args, self._cls = factory, args, None

    def get(self) -> type:
        if self._cls is None:
            self._cls = self._factory(*self._args)
        return self._cls

    def __call__(self, *args, **kwargs):
        return self.get()(*args, **kwargs)


def _unwrap(answer: Any) -> Any:
    return answer.get() if isinstance(answer, _LazyClass) else answer


def _grade_double(answer) -> str:
    import keras

    from ..masks import trace_masks

    answer = _unwrap(answer)
    layer = _instantiate(answer, "mask-passing layer")
    expected_mask = _IDS != 0
    _, embedded = _embedded(_IDS)
    out = _run("your layer", layer, embedded)
    values = as_array(out, name="your layer's output", shape=_IDS.shape + (_FEATURES,))
    if not np.allclose(values, 2.0 * np.asarray(embedded), atol=1e-5):
        raise Mistake("your layer's `call` should return its inputs times 2 (the mask is separate)")
    if not layer.supports_masking:
        raise Mistake(
            "your layer has supports_masking = False, so Keras never calls its compute_mask and "
            "the mask is lost (Keras warns that the layer will destroy the mask)"
        )
    mask = _mask_np(out)
    if mask is None:
        raise Mistake(
            "no mask leaves your layer: compute_mask returned None, which ends the mask; "
            "return the mask that arrived"
        )
    if mask.shape != expected_mask.shape:
        raise Mistake(
            f"your compute_mask returns a mask of shape {mask.shape}; a mask has one entry per "
            "time step, shape (batch, time), the same as the mask that arrived"
        )
    if np.array_equal(mask, ~expected_mask):
        raise Mistake("your mask is inverted: True must mark the real tokens, not the padding")
    if not np.array_equal(mask, expected_mask):
        if mask.all():
            raise Mistake(
                "your compute_mask builds a new mask from the layer's inputs, which marks every "
                "step real (an embedded padding token is not a zero vector); hand on the mask "
                "that arrived instead"
            )
        raise Mistake("the mask leaving your layer differs from the mask that arrived")

    # Downstream: Embedding -> your layer -> LSTM(return_sequences=True) -> Dense in a model.
    def build():
        inputs = keras.Input((_IDS.shape[1],), dtype="int32")
        x = _embedded(_IDS)[0](inputs)
        x = _instantiate(answer, "mask-passing layer")(x)
        x = keras.layers.LSTM(2, return_sequences=True, name="lstm")(x)
        outputs = keras.layers.Dense(2, name="dense")(x)
        return keras.Model(inputs, outputs)

    model = _run("building a model with your layer", build)
    trace = _run("running a model with your layer", trace_masks, model, _IDS)
    if trace.output_mask is None or not np.array_equal(trace.output_mask, expected_mask):
        raise Mistake("in a model, the mask does not reach the Dense layer after your layer")
    return (
        "your layer doubles its inputs and hands the mask on: in a model it reaches the LSTM "
        "and the Dense layer unchanged."
    )


# --------------------------------------------------------------------------- exercise 2: consume


def _wrong_mean(kind: str) -> type:
    from keras import ops

    base = _reference("MaskedMean")

    class Wrong(base):
        def call(self, inputs, mask=None):
            if mask is None or kind == "plain mean":
                return ops.mean(inputs, axis=1)
            weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
            if kind == "inverted":
                weights = 1.0 - weights
            total = ops.sum(inputs * weights, axis=1)
            if kind == "divides by steps":
                return total / ops.cast(ops.shape(inputs)[1], inputs.dtype)
            return total / ops.maximum(ops.sum(weights, axis=1), 1.0)

        def compute_mask(self, inputs, mask=None):
            if kind == "passes mask on":
                return mask
            return None

    Wrong.__name__ = Wrong.__qualname__ = "MaskedMean"
    return Wrong


def _masked_mean_np(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = mask[..., None].astype(float)
    return (x * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1.0)


def _grade_mean(answer) -> str:
    import keras

    from ..masks import trace_masks

    answer = _unwrap(answer)
    layer = _instantiate(answer, "masked-mean layer")
    mask = _IDS != 0
    _, embedded = _embedded(_IDS)
    x = np.asarray(embedded)
    out = _run("your layer", layer, embedded)
    got = as_array(out, name="your layer's output", shape=(_IDS.shape[0], _FEATURES))
    if not np.allclose(got, _masked_mean_np(x, mask), atol=1e-5):
        if np.allclose(got, x.mean(axis=1), atol=1e-5):
            raise Mistake(
                "your layer averages over every step, padding included; use the `mask` "
                "argument of `call` to leave padded steps out"
            )
        if np.allclose(got, (x * mask[..., None]).sum(axis=1) / x.shape[1], atol=1e-5):
            raise Mistake(
                "your mean divides by the number of time steps; only the real tokens count, "
                "so divide by the number of True entries of each row's mask"
            )
        if np.allclose(got, _masked_mean_np(x, ~mask), atol=1e-5):
            raise Mistake("your mean uses the inverted mask: it averages the padded steps only")
        raise Mistake("your layer's output is not the mean of each row's real (unmasked) steps")
    if _mask_np(out) is not None:
        raise Mistake(
            "a mask still leaves your layer, but its output has no time axis; compute_mask "
            "should return None so the mask ends here"
        )

    # Without any mask (no Embedding mask), the layer must fall back to a plain mean.
    plain = np.asarray(x, dtype="float32")
    layer2 = _instantiate(answer, "masked-mean layer")
    out2 = _run("your layer, called without a mask,", layer2, plain)
    got2 = as_array(
        out2, name="your layer's output without a mask", shape=(_IDS.shape[0], _FEATURES)
    )
    if not np.allclose(got2, plain.mean(axis=1), atol=1e-5):
        raise Mistake("called without a mask (`mask=None`), your layer should average every step")

    def build():
        inputs = keras.Input((_IDS.shape[1],), dtype="int32")
        x_ = _embedded(_IDS)[0](inputs)
        x_ = _instantiate(answer, "masked-mean layer")(x_)
        return keras.Model(inputs, keras.layers.Dense(2, name="dense")(x_))

    model = _run("building a model with your layer", build)
    trace = _run("running a model with your layer", trace_masks, model, _IDS)
    rows = [row for row in trace if row.name not in ("embedding", "dense")]
    if not rows or rows[0].verdict != "consumes":
        raise Mistake("in a model, your layer should receive the mask and end it (consume it)")
    return "your layer averages the real steps only and ends the mask: it consumes it."


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


_PREDICTION_IDS = np.array([[3, 5, 0, 0, 0, 0], [7, 1, 2, 9, 4, 0]], dtype="int32")

KEEPS_MASK = [True, True, True, True, False, False]


def _grade_prediction(answer) -> str:
    from ..masks import trace_masks

    if isinstance(answer, dict):
        raise Mistake(
            "give a list of True/False values in the order of PREDICTION_LAYERS, not a dict"
        )
    if callable(answer):
        raise Mistake("give a list of True/False values, not a function")
    n = len(PREDICTION_LAYERS)
    got = as_array(answer, name="your list of predictions", shape=(n,), kind="bool")
    trace = trace_masks(prediction_model(), _PREDICTION_IDS)
    for name, predicted in zip(PREDICTION_LAYERS, got, strict=True):
        row = trace[name]
        if bool(predicted) == row.keeps_mask:
            continue
        if predicted:
            if row.mask_arrived:
                raise Mistake(
                    f"you predicted that a mask leaves `{name}`, but it takes the "
                    "mask in `call` and its output has no time axis left to mask"
                )
            raise Mistake(
                f"you predicted that a mask leaves `{name}`, but no mask reaches it: "
                "once a layer ends the mask, later layers have none to pass on"
            )
        raise Mistake(
            f"you predicted that no mask leaves `{name}`, but it supports masking "
            "and hands on the mask it receives"
        )
    return "every prediction matches the masks Keras computes in this model."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="double_features",
        answer_name="DoubleFeatures",
        title="A custom layer that passes the mask on",
        grader=_grade_double,
        hints=[
            "Keras calls `compute_mask(inputs, mask)` after `call`, with the mask that arrived; "
            "whatever it returns is attached to the output.",
            "This layer does not change the time axis, so the mask that arrived is still right.",
            "`call` returns `inputs * 2.0`; `compute_mask` returns `mask` unchanged.",
        ],
        reference=_LazyClass(_reference, "DoubleFeatures"),
        solution_code=(
            "class DoubleFeatures(keras.layers.Layer):\n"
            "    def call(self, inputs):\n"
            "        return inputs * 2.0\n\n"
            "    def compute_mask(self, inputs, mask=None):\n"
            "        return mask"
        ),
        legacy_wrong_answers=[
            WrongAnswer(
                "forgets to return the mask",
                _LazyClass(_wrong_double, "returns None"),
                "compute_mask returned None",
            ),
            WrongAnswer(
                "mask of the wrong shape",
                _LazyClass(_wrong_double, "per feature"),
                "one entry per time step",
            ),
            WrongAnswer(
                "new mask from the inputs",
                _LazyClass(_wrong_double, "from inputs"),
                "builds a new mask from the layer's inputs",
            ),
            WrongAnswer(
                "inverted mask", _LazyClass(_wrong_double, "inverted"), "your mask is inverted"
            ),
            WrongAnswer(
                "sets supports_masking False",
                _LazyClass(_wrong_double, "supports_masking False"),
                "supports_masking = False",
            ),
            WrongAnswer(
                "call does not double",
                _LazyClass(_wrong_double, "no doubling"),
                "inputs times 2",
            ),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_mean",
        answer_name="MaskedMean",
        title="A custom layer that consumes the mask",
        grader=_grade_mean,
        hints=[
            "Give `call` a `mask=None` argument: Keras fills it with the mask that arrived. "
            "Weight each step by the mask (1.0 real, 0.0 padding) before summing over time.",
            "Divide each row's sum by its number of real steps, not by the number of steps; "
            "and let `compute_mask` return None, since the output has no time axis.",
            "`w = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)`, then "
            "`ops.sum(inputs * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)`; "
            "with `mask is None`, return `ops.mean(inputs, axis=1)`.",
        ],
        reference=_LazyClass(_reference, "MaskedMean"),
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
        legacy_wrong_answers=[
            WrongAnswer(
                "ignores the mask", _LazyClass(_wrong_mean, "plain mean"), "padding included"
            ),
            WrongAnswer(
                "divides by every step",
                _LazyClass(_wrong_mean, "divides by steps"),
                "divides by the number of time steps",
            ),
            WrongAnswer("inverted mask", _LazyClass(_wrong_mean, "inverted"), "inverted mask"),
            WrongAnswer(
                "passes the mask on",
                _LazyClass(_wrong_mean, "passes mask on"),
                "compute_mask should return None",
            ),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="predict_kept_masks",
        answer_name="keeps_mask",
        title="Predict which layers hand a mask on",
        grader=_grade_prediction,
        hints=[
            "A mask leaves a layer when the layer supports masking and its output still has the "
            "time axis; Dense and Dropout act on each step separately.",
            "A pooling layer removes the time axis; everything after it sees no mask at all.",
            "Four layers hand the mask on, then it ends at the pooling layer.",
        ],
        reference=KEEPS_MASK,
        solution_code="keeps_mask = [True, True, True, True, False, False]",
        legacy_wrong_answers=[
            WrongAnswer(
                "mask survives pooling",
                [True, True, True, True, True, True],
                "you predicted that a mask leaves `pooling`",
            ),
            WrongAnswer(
                "classifier re-creates it",
                [True, True, True, True, False, True],
                "no mask reaches it",
            ),
            WrongAnswer(
                "dropout drops it",
                [True, True, False, True, False, False],
                "no mask leaves `dropout`",
            ),
            WrongAnswer(
                "a dict", dict(zip(PREDICTION_LAYERS, KEEPS_MASK, strict=True)), "not a dict"
            ),
        ],
    ),
]
