"""Probes: run a learner's answer on an exercise's cases and write down what happened, as plain
data (`judging.Observation`). A probe never decides anything and never builds a sentence: its
observations go to the judge, possibly in another process (the grader's sandbox).

- `call(...)`: call a function; observe its return value (an array, a number, a dict, None).
- `keras_loss(...)`: call a loss as a quick test would (eagerly) and as `fit` does (traced by
  `tf.function`, symbolic `y_true` as float32 with an unknown batch size), and check that a
  gradient reaches `y_pred`. The one home of "call a learner's loss the way `fit` traces it";
  its failures come back as data (`extra["compiled"]`), not as sentences.
- `given(...)`: the answer is a value, not a function (a prediction the learner writes down).

Every call runs under a time limit (`time_limit`, also without SIGALRM); `...` and
`raise NotImplementedError` read as "not attempted".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .judging import NOT_ATTEMPTED, NOT_CALLABLE, RAISED, TIMEOUT, VALUE, Observation
from .time_limit import TimeLimitExceeded, time_limit

# How long one call of a learner's function may take before it counts as an endless loop.
DEFAULT_CALL_TIMEOUT = 20.0
# Calls of the course's own answers (the reference and the misconceptions a judge observes, under
# `trusted()`) get this many times as long: a machine that stalls for a learner's limit must not
# store a timeout as the reference's behaviour for the rest of the session.
TRUSTED_FACTOR = 10
_TRUSTED: ContextVar[bool] = ContextVar("trusted", default=False)  # per thread


@contextmanager
def trusted() -> Iterator[None]:
    """Inside this block, calls are the course's own answers: `limit` stretches every limit."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def limit(seconds: float) -> float:
    """The time limit for a call allowed `seconds`: longer for the course's own answers."""
    return seconds * TRUSTED_FACTOR if _TRUSTED.get() else seconds


@dataclass(frozen=True)
class Case:
    """One input of an exercise: the arguments its answer is called with, and a short note a
    failure message can point at ("a batch with an empty sequence")."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    note: str = ""


Probe = Callable[[Any, Case], Observation]


# --------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    """NumPy / Python scalars and nested sequences as JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def observe_value(value: Any) -> Observation:
    """What a returned value is, as data: its kind, shape and values (dicts keep their keys)."""
    if value is Ellipsis:
        return {"outcome": NOT_ATTEMPTED}
    if value is None:
        return {"outcome": VALUE, "value": None, "kind": None, "shape": None}
    if isinstance(value, dict):
        try:
            items = {str(k): _plain(np.asarray(v).item()) for k, v in value.items()}
        except (TypeError, ValueError):
            return {"outcome": VALUE, "value": None, "kind": "O", "shape": None, "irregular": True}
        return {"outcome": VALUE, "value": items, "kind": "O", "shape": None}
    if isinstance(value, str):
        return {"outcome": VALUE, "value": value, "kind": "U", "shape": []}
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:
        array = np.empty(0, dtype=object)
    if array.dtype == object:  # ragged rows, or a value NumPy cannot read
        return {
            "outcome": VALUE,
            "value": None,
            "kind": "O",
            "shape": None,
            "irregular": True,
            "type": type(value).__name__,
        }
    kind = array.dtype.kind
    if kind not in "biuf":
        return {
            "outcome": VALUE,
            "value": None,
            "kind": kind,
            "shape": list(array.shape),
            "type": type(value).__name__,
        }
    return {
        "outcome": VALUE,
        "value": _plain(array),
        "kind": kind,
        "shape": list(array.shape),
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


def raised(exc: BaseException) -> Observation:
    """A learner's exception, as data: its type's name and the first line of its message."""
    return {"outcome": RAISED, "error": type(exc).__name__, "detail": _first_line(exc)}


def run(fn: Any, case: Case, *, timeout: float | None = None) -> tuple[Observation | None, Any]:
    """Call `fn(*case.args, **case.kwargs)` under the time limit. Returns `(None, value)` when it
    returned, or `(observation, None)` when it could not (not callable, not attempted, raised,
    ran out of time)."""
    if not callable(fn):
        return {"outcome": NOT_CALLABLE, "type": type(fn).__name__}, None
    seconds = limit(DEFAULT_CALL_TIMEOUT if timeout is None else timeout)
    try:
        with time_limit(seconds):
            value = fn(*copy_args(case.args), **copy_args(case.kwargs))
    except NotImplementedError:
        return {"outcome": NOT_ATTEMPTED}, None
    except TimeLimitExceeded:
        return {"outcome": TIMEOUT}, None
    except RecursionError as exc:
        return raised(exc), None
    except Exception as exc:  # the learner's own error, kept as data
        return raised(exc), None
    return None, value


def copy_args(args: Any) -> Any:
    """Fresh copies of array arguments, so an answer that changes its input in place cannot
    change the next case."""
    if isinstance(args, dict):
        return {k: copy_args(v) for k, v in args.items()}
    if isinstance(args, tuple):
        return tuple(copy_args(a) for a in args)
    if isinstance(args, list):
        return [copy_args(a) for a in args]
    if isinstance(args, np.ndarray):
        return args.copy()
    return args


# --------------------------------------------------------------------------- probe kinds


def call(*, timeout: float | None = None) -> Probe:
    """A probe that calls the answer on the case and observes its return value."""

    def probe(answer: Any, case: Case) -> Observation:
        failed, value = run(answer, case, timeout=timeout)
        return failed if failed is not None else observe_value(value)

    return probe


def given() -> Probe:
    """A probe for an answer that is itself a value (a prediction): observed as it is."""

    def probe(answer: Any, case: Case) -> Observation:
        if callable(answer):
            return {"outcome": VALUE, "value": None, "kind": "O", "shape": None, "type": "function"}
        return observe_value(answer)

    return probe


@contextmanager
def _quiet_tensorflow() -> Iterator[None]:
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a learner's probe traces anew: no "retracing" warnings
    try:
        yield
    finally:
        logger.setLevel(level)


class SymbolicNumpyUse(Exception):
    """NumPy met a symbolic tensor while the learner's loss was traced (NumPy then raises
    NotImplementedError, which must not read as an untouched stub)."""


# The course's own answers (the reference and the misconceptions a judge observes under
# `trusted()`) keep their traced function per input shapes: a judge observes them again for
# every seed, and the tests replay them, and a trace costs tens of milliseconds (a quarter of
# the lesson 07 and 04 replays). A learner's function is traced anew at every call: one
# redefined or reading a changed global must be observed as it is now.
_TRACED: dict[tuple, tuple[Any, Any]] = {}
_TRACED_KEEP = 256


def keep(store: dict, key: Any, value: Any, size: int) -> None:
    """Store `value` under `key`, dropping the oldest entries so that `store` keeps at most
    `size`: the bounded caches of traced losses (here) and trained repairs (lesson 08)."""
    while len(store) >= size:
        store.pop(next(iter(store)))
    store[key] = value


def compiled_call(fn: Any, arrays: tuple, extra: tuple = (), *, timeout: float | None = None):
    """Call `fn` the way Keras calls a loss inside `fit`: traced by `tf.function` without
    AutoGraph, on float32 tensors whose batch size is unknown while tracing; `extra` arguments
    follow as plain Python values. Returns `(observation_or_None, value)` like `run`."""
    import tensorflow as tf

    def traced(*tensors):
        try:
            return fn(*tensors, *extra)
        except NotImplementedError as exc:
            raise SymbolicNumpyUse(str(exc)) from None

    shapes = tuple((None, *np.shape(a)[1:]) for a in arrays)
    specs = [tf.TensorSpec(shape, tf.float32) for shape in shapes]
    tensors = [tf.constant(np.asarray(a, dtype="float32")) for a in arrays]
    key = (id(fn), shapes, repr(extra))
    kept = _TRACED.get(key)
    with _quiet_tensorflow():
        if kept is not None and kept[0] is fn:
            compiled = kept[1]
        else:
            compiled = tf.function(
                traced, autograph=False, reduce_retracing=True, input_signature=specs
            )
        failed, value = run(compiled, Case(tuple(tensors)), timeout=timeout)
    if kept is None and failed is None and _TRUSTED.get():
        keep(_TRACED, key, (fn, compiled), _TRACED_KEEP)
    return failed, value


def gradient_reaches(fn: Any, arrays: tuple, extra: tuple = ()) -> bool:
    """Whether the loss `fn(y_true, y_pred, *extra)` has a nonzero, finite gradient with respect
    to `y_pred` (the second array): a loss meant for training must have one."""
    import tensorflow as tf

    y_true = tf.constant(np.asarray(arrays[0], dtype="float32"))
    # An eager tensor, watched: what `fit` hands a loss (a tf.Variable breaks `ops.argmax`).
    y_pred = tf.constant(np.asarray(arrays[1], dtype="float32"))
    try:
        with tf.GradientTape() as tape, time_limit(limit(DEFAULT_CALL_TIMEOUT)):
            tape.watch(y_pred)
            loss = tf.reduce_sum(tf.convert_to_tensor(fn(y_true, y_pred, *extra), tf.float32))
        grad = tape.gradient(loss, y_pred)
    except (Exception, TimeLimitExceeded):
        return False
    if grad is None:
        return False
    grad = np.asarray(grad)
    return bool(np.all(np.isfinite(grad)) and np.any(grad != 0))


def keras_loss(*, extra_args: int = 0, timeout: float | None = None) -> Probe:
    """A probe for a loss `fn(y_true, y_pred, *extra)`: the eager value is the observation's
    value; `extra["compiled"]` says what the traced call did ("same", "differs", or the error's
    type, e.g. "OperatorNotAllowedInGraphError", "SymbolicNumpyUse"); `extra["gradient"]` says
    whether a gradient reaches `y_pred`. The case's first two arguments are the arrays, the
    last `extra_args` plain values."""

    def probe(answer: Any, case: Case) -> Observation:
        cut = len(case.args) - extra_args
        arrays, extra = case.args[:cut], case.args[cut:]
        failed, value = run(answer, case, timeout=timeout)
        if failed is not None:
            return failed
        observed = observe_value(value)
        if observed.get("outcome") != VALUE or observed.get("value") is None:
            return observed
        failed, traced = compiled_call(answer, arrays, extra, timeout=timeout)
        if failed is not None:
            compiled = failed.get("error") or failed["outcome"]
        else:
            traced_obs = observe_value(traced)
            compiled = (
                "same"
                if traced_obs.get("shape") == observed.get("shape")
                and np.allclose(
                    np.asarray(traced_obs.get("value"), dtype=float),
                    np.asarray(observed.get("value"), dtype=float),
                    rtol=1e-4,
                    atol=1e-5,
                    equal_nan=True,
                )
                else "differs"
            )
        observed["extra"] = {
            "compiled": compiled,
            "gradient": gradient_reaches(answer, arrays, extra),
        }
        return observed

    return probe
