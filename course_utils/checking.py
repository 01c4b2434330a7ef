"""Graded exercises: `Exercise.check/hint/solution` and the `Result` they return.

A check calls the learner's object on cases and turns every way it can go wrong into a plain
sentence. Nothing raised inside a check reaches the learner as a traceback, and a failure message
names the misconception without ever revealing the expected value.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from . import styles
from .time_limit import TimeLimitExceeded as _Timeout
from .time_limit import time_limit as _time_limit

PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"

# How long one call of a learner's function may take before it counts as an endless loop.
DEFAULT_CALL_TIMEOUT = 20.0


class Status(StrEnum):
    PASSED = PASSED
    FAILED = FAILED
    NOT_ATTEMPTED = NOT_ATTEMPTED


# icon, the word shown, and the kind of box (see styles.ACCENT)
_STYLE = {
    Status.PASSED: ("✅", "Passed", "passed"),
    Status.FAILED: ("❌", "Not yet", "failed"),
    Status.NOT_ATTEMPTED: ("⏳", "Not attempted", "not-attempted"),
}

_UNSET = object()  # `check()` called with no argument: look the answer up in the notebook


@dataclass(frozen=True)
class Result:
    """The outcome of one check: status, and a message for the learner."""

    lesson: str
    exercise: str
    status: Status
    message: str

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def __repr__(self) -> str:
        icon, word, _ = _STYLE[self.status]
        return f"{icon} {word} [{self.lesson} / {self.exercise}]: {self.message}"

    def _repr_html_(self) -> str:
        icon, word, kind = _STYLE[self.status]
        body = f"<strong>{icon} {word}</strong> {styles.code(self.exercise)}: " + (
            styles.inline_code(self.message)
        )
        return styles.box(kind, body, f"course-check course-check-{kind}")


@dataclass(frozen=True)
class Hint:
    """One tier of a hint; repeated `Exercise.hint()` calls walk through the tiers."""

    exercise: str
    tier: int
    total: int
    text: str

    def __repr__(self) -> str:
        return f"💡 Hint {self.tier} of {self.total} [{self.exercise}]: {self.text}"

    def _repr_html_(self) -> str:
        body = (
            f"<strong>💡 Hint {self.tier} of {self.total}</strong> {styles.code(self.exercise)}: "
            + styles.inline_code(self.text)
        )
        return styles.box("hint", body, "course-hint")


@dataclass(frozen=True)
class Solution:
    """A reference solution, shown as code."""

    exercise: str
    code: str

    def __repr__(self) -> str:
        return f"Solution [{self.exercise}]:\n{self.code}"

    def _repr_html_(self) -> str:
        body = f"<strong>Solution</strong> {styles.code(self.exercise)}" + styles.code_block(
            self.code
        )
        return styles.box("solution", body, "course-solution")


class Mistake(Exception):
    """Raised by a grader with a learner-facing sentence naming what is wrong."""


class NotAttempted(Exception):
    """Raised when the answer is still the untouched stub."""


class _Undefined(Exception):
    """`check()` looked for the answer in the notebook, and the name is not defined there."""


@dataclass(frozen=True)
class WrongAnswer:
    """A known-wrong answer kept next to the reference; the tests prove the check rejects it.

    `says` is a fragment the failure message must contain (the named misconception).
    """

    name: str
    answer: Any
    says: str


# --------------------------------------------------------------------------- learner calls


def call_learner(fn: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
    """Call the learner's `fn`, turning its exceptions and endless loops into `Mistake`s.

    `timeout` defaults to `DEFAULT_CALL_TIMEOUT` seconds, read at call time.
    """
    timeout = DEFAULT_CALL_TIMEOUT if timeout is None else timeout
    if not callable(fn):
        raise Mistake(
            f"expected a function, but got a {type(fn).__name__}; define it with `def` and pass "
            "the function itself (no parentheses)"
        )
    try:
        with _time_limit(timeout):
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted() from None
    except _Timeout:
        raise Mistake(
            f"your function did not finish within {timeout:g} seconds; look for a loop that never ends"
        ) from None
    except RecursionError:
        raise Mistake("your function calls itself without end (RecursionError)") from None
    except Exception as exc:  # the learner's own error, reported as a sentence
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = detail[:200]
        raise Mistake(
            f"your function raised {type(exc).__name__}" + (f": {detail}" if detail else "")
        ) from None


class SymbolicNumpyUse(Exception):
    """NumPy met a symbolic tensor while a learner's function was traced (NumPy then raises
    NotImplementedError, which must not read as an untouched stub)."""


def call_learner_compiled(fn: Any, *arrays: Any, extra: tuple = (), timeout: float | None = None):
    """Call the learner's `fn` the way Keras calls a loss inside `fit`: traced by `tf.function`
    without AutoGraph, on float32 tensors whose batch size is unknown while tracing. `extra`
    arguments follow the arrays as plain Python values. Failures become `Mistake`s as in
    `call_learner`."""
    import logging

    import tensorflow as tf

    def traced(*tensors):
        try:
            return fn(*tensors, *extra)
        except NotImplementedError as exc:
            raise SymbolicNumpyUse(str(exc)) from None

    specs = [tf.TensorSpec((None, *np.shape(a)[1:]), tf.float32) for a in arrays]
    compiled = tf.function(traced, autograph=False, reduce_retracing=True, input_signature=specs)
    tensors = [tf.constant(np.asarray(a, dtype="float32")) for a in arrays]
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # each check traces anew: no "retracing" warnings
    try:
        return call_learner(compiled, *tensors, timeout=timeout)
    finally:
        tf_logger.setLevel(level)


def describe(value: Any) -> str:
    """A short, value-free description of an object's type (and shape, for arrays)."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    return type(value).__name__


def as_array(
    value: Any,
    *,
    name: str = "your answer",
    shape: tuple | None = None,
    kind: str | None = None,
) -> np.ndarray:
    """Convert a learner's array-like (NumPy, a tensor, nested lists) to NumPy, or raise a Mistake.

    `kind` is one of "bool", "int", "float", "number"; `shape` may contain None for any size.
    """
    if value is None:
        raise Mistake(f"{name} is None; did you forget a `return`?")
    if value is Ellipsis:
        raise NotAttempted()
    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except ValueError:  # NumPy refuses ragged nested lists
        raise Mistake(
            f"{name} could not be turned into a regular array; are some rows a different length?"
        ) from None
    except Exception:
        raise Mistake(f"{name} is a {describe(value)}, which cannot be read as an array") from None
    if arr.dtype == object:
        raise Mistake(
            f"{name} could not be turned into a regular array; are some rows a different length?"
        )
    if shape is not None:
        ok = arr.ndim == len(shape) and all(
            s is None or s == a for s, a in zip(shape, arr.shape, strict=True)
        )
        if not ok:
            parts = ["any" if s is None else str(s) for s in shape]
            want = f"({parts[0]},)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
            raise Mistake(f"{name} has shape {arr.shape}, but it should have shape {want}")
    if kind is not None:
        actual = arr.dtype.kind
        allowed = {"bool": "b", "int": "iu", "float": "f", "number": "iuf"}[kind]
        if actual not in allowed:
            raise Mistake(f"{name} has dtype {arr.dtype}, but it should hold {kind} values")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise Mistake(f"{name} contains NaN or infinity")
    return arr


def as_number(value: Any, *, name: str = "your answer") -> float:
    """Read a learner's scalar (Python number, NumPy scalar, 0-d tensor) as a float."""
    if value is Ellipsis:
        raise NotAttempted()
    if value is None:
        raise Mistake(f"{name} is None; did you forget a `return`?")
    if isinstance(value, bool):
        raise Mistake(f"{name} is a bool, but a number is expected")
    arr = as_array(value, name=name)
    if arr.size != 1:
        raise Mistake(f"{name} has shape {arr.shape}, but a single number is expected")
    if arr.dtype.kind not in "iuf":
        raise Mistake(f"{name} has dtype {arr.dtype}, but a number is expected")
    number = float(arr.reshape(()))
    if not math.isfinite(number):
        raise Mistake(f"{name} is NaN or infinite")
    return number


def close(actual: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Tolerant numeric comparison; never used to build a message."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol, atol))


# --------------------------------------------------------------------------- exercises

Grader = Callable[[Any], "str | None"]


@dataclass(eq=False)
class Exercise:
    """One graded exercise of a lesson.

    `grader(answer)` raises `Mistake` or `NotAttempted`, or returns an optional success message.
    `answer_name` is the name the learner's notebook defines (the grader looks it up there).
    """

    lesson: str
    name: str
    answer_name: str
    grader: Grader
    hints: list[str]
    reference: Any
    wrong_answers: list[WrongAnswer] = field(default_factory=list)
    solution_code: str | None = None
    title: str = ""
    _hint_tier: int = field(default=0, repr=False)

    def check(self, answer: Any = _UNSET) -> Result:
        """Grade `answer`; always returns a Result, never raises.

        With no argument, the answer is looked up by its name in the notebook
        (`q.count_real_tokens.check()`), so a check run before its definition cell says so
        instead of raising a NameError.
        """
        try:
            if answer is _UNSET:
                answer = self._from_notebook()
            if answer is Ellipsis or answer is None:
                raise NotAttempted()
            message = self.grader(answer)
            result = self._result(Status.PASSED, message or "correct, well done!")
        except _Undefined:
            result = self._result(
                Status.NOT_ATTEMPTED,
                f"`{self.answer_name}` is not defined yet; define `{self.answer_name}` above "
                "and run its cell, then run this check again",
            )
        except NotAttempted:
            result = self._result(
                Status.NOT_ATTEMPTED,
                f"replace the `...` or `raise NotImplementedError` in `{self.answer_name}` "
                "with your answer and run the cell that defines it, then run this check again",
            )
        except Mistake as mistake:
            result = self._result(Status.FAILED, str(mistake))
        except _Timeout:
            result = self._result(Status.FAILED, "your answer took too long to check")
        except Exception as exc:  # a case the grader did not foresee: still a sentence
            result = self._result(
                Status.FAILED,
                f"the checker could not use your answer ({type(exc).__name__}); check its type "
                "and shape against the exercise text",
            )
        from .progress import record  # local import: progress imports this module

        record(result)
        return result

    def _from_notebook(self) -> Any:
        """The learner's `answer_name` from the notebook's namespace (IPython's `user_ns`)."""
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        namespace = getattr(shell, "user_ns", None) or {}
        if self.answer_name not in namespace:
            raise _Undefined()
        return namespace[self.answer_name]

    def hint(self) -> Hint:
        """The next hint tier (the last one repeats)."""
        total = len(self.hints)
        self._hint_tier = min(self._hint_tier + 1, total)
        return Hint(self.name, self._hint_tier, total, self.hints[self._hint_tier - 1])

    def solution(self) -> Solution:
        """The reference solution's code."""
        if self.solution_code is not None:
            code = self.solution_code
        elif callable(self.reference):
            code = textwrap.dedent(inspect.getsource(self.reference))
        else:
            code = f"{self.answer_name} = {self.reference!r}"
        return Solution(self.name, code.strip())

    def _result(self, status: Status, message: str) -> Result:
        return Result(self.lesson, self.name, status, message)

    def __repr__(self) -> str:
        return f"<Exercise {self.lesson}/{self.name}: use .check(), .hint(), .solution()>"


class ExerciseSet:
    """The exercises of one lesson, reachable as attributes (`q.pad_batch.check(...)`)."""

    def __init__(self, lesson: str, items: list[Exercise]):
        self.lesson = lesson
        self._items = {ex.name: ex for ex in items}

    def __getattr__(self, name: str) -> Exercise:
        try:
            return self.__dict__["_items"][name]
        except KeyError:
            known = ", ".join(self.__dict__.get("_items", {})) or "none"
            raise AttributeError(
                f"lesson {self.__dict__.get('lesson')} has no exercise {name!r}; its exercises are: {known}"
            ) from None

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __dir__(self) -> list[str]:
        return [*self._items, "lesson"]

    def __repr__(self) -> str:
        names = ", ".join(self._items)
        return f"<Exercises of lesson {self.lesson}: {names}>"
