"""Graded exercises: `Exercise.check/hint/solution` and the `Result` they return.

An exercise is data (see AUTHORING.md): its *cases* (fixed edge cases plus cases generated from a
seed), a *probe* that runs the learner's answer on each case and writes down what happened as
plain data (`probing`), and the *misconceptions* it knows, each written once as a function and
the sentence a learner reads. The *judge* (`judging`) compares the learner's observations with the
reference's and each misconception's, computed in the trusted process, and names the first that
matches. In a notebook probe and judge run together; the grader runs the probe in a sandbox and
the judge in its own process.

Nothing raised inside a check reaches the learner as a traceback, and a failure message names the
misconception without ever revealing the expected value.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import styles
from .judging import Judge, Misconception, Observation, Status, Verdict
from .probing import DEFAULT_CALL_TIMEOUT, Case, Probe, call
from .time_limit import TimeLimitExceeded as _Timeout
from .time_limit import time_limit as _time_limit

PASSED = Status.PASSED.value
FAILED = Status.FAILED.value
NOT_ATTEMPTED = Status.NOT_ATTEMPTED.value

# The seed of the generated cases a learner's own check uses; the grader draws a secret one.
PUBLIC_SEED = 0


# icon, the word shown, and the kind of box (see styles.ACCENT)
_STYLE = {
    Status.PASSED: ("✅", "Passed", "passed"),
    Status.FAILED: ("❌", "Not yet", "failed"),
    Status.NOT_ATTEMPTED: ("⏳", "Not attempted", "not-attempted"),
}


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


@dataclass(frozen=True)
class WrongAnswer:
    """A known-wrong answer of a hand-written grader (the older model; a data exercise keeps
    `Misconception`s instead, and `Exercise.wrong_answers` lists them in this form).

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


def call_learner_compiled(fn: Any, *arrays: Any, extra: tuple = (), timeout: float | None = None):
    """Call the learner's `fn` the way Keras calls a loss inside `fit` (`probing.compiled_call`,
    the one home of that), turning a failure into a `Mistake` as `call_learner` does."""
    from .probing import compiled_call

    failed, value = compiled_call(fn, arrays, extra, timeout=timeout)
    if failed is None:
        return value
    if failed["outcome"] == "not_attempted":
        raise NotAttempted()
    if failed["outcome"] == "timeout":
        limit = DEFAULT_CALL_TIMEOUT if timeout is None else timeout
        raise Mistake(
            f"your function did not finish within {limit:g} seconds; look for a loop that never ends"
        )
    detail = failed.get("detail") or ""
    raise Mistake(f"your function raised {failed.get('error')}" + (f": {detail}" if detail else ""))


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
Cases = Sequence[Case] | Callable[[np.random.Generator], Sequence[Case]]


@dataclass(eq=False)
class Exercise:
    """One graded exercise of a lesson.

    A data exercise declares `cases`, a `probe` (default: call the answer, observe the value),
    `misconceptions` and `judge` options (see `judging.Judge`: what, success, fallback, facts,
    tolerance, custom, timeout); `alternatives` are differently written right answers the tests
    replay. `cases` is a list, or a function of a NumPy Generator returning one (fixed edge cases
    plus generated ones): a learner's check draws it with `PUBLIC_SEED`, the grader with a
    secret seed.

    `grader(answer)` is the older hand-written model: it raises `Mistake` or `NotAttempted`, or
    returns an optional success message. `answer_name` is the name the learner's notebook
    defines (the check looks it up there).
    """

    lesson: str
    name: str
    answer_name: str
    hints: list[str]
    reference: Any  # the answer, or (data exercise) its name in the lesson's answers module
    grader: Grader | None = None
    cases: Cases = ()
    probe: Probe | None = None
    misconceptions: list[Misconception] = field(default_factory=list)
    alternatives: list[Any] = field(default_factory=list)
    judge: dict[str, Any] = field(default_factory=dict)
    legacy_wrong_answers: list[WrongAnswer] = field(default_factory=list)
    # Where `reference`, `alternatives` and misconception answers given by name live: by
    # default `course_utils.answers.lNN_slug`, imported only when a judge is built, so the
    # grader's sandbox (which runs probes) never has the answers.
    answers_module: str | None = None
    solution_code: str | None = None
    title: str = ""
    _hint_tier: int = field(default=0, repr=False)
    _judges: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.grader is None and not self.cases:
            raise ValueError(f"exercise {self.name}: give either `cases` or a `grader`")

    # ----------------------------------------------------------------- the data model

    @property
    def is_data(self) -> bool:
        """Whether this exercise is cases + probe + judge (not a hand-written grader)."""
        return self.grader is None

    def resolve(self, answer: Any) -> Any:
        """An answer given by name (a string) -> the function of that name in the answers
        module; anything else as it is."""
        if not isinstance(answer, str):
            return answer
        import importlib

        module = self.answers_module or f"course_utils.answers.l{self.lesson}"
        return getattr(importlib.import_module(module), answer)

    @property
    def reference_answer(self) -> Any:
        """The reference answer itself (resolved when given by name)."""
        return self.resolve(self.reference)

    @property
    def alternative_answers(self) -> list[Any]:
        return [self.resolve(a) for a in self.alternatives]

    @property
    def wrong_answers(self) -> list[WrongAnswer]:
        """The known-wrong answers: the misconceptions (a data exercise) or the legacy list."""
        if self.is_data:
            return [WrongAnswer(m.key, self.resolve(m.answer), m.says) for m in self.misconceptions]
        return list(self.legacy_wrong_answers)

    def cases_for(self, seed: int | None = None) -> list[Case]:
        """The cases for one seed (`PUBLIC_SEED` when None)."""
        if callable(self.cases):
            rng = np.random.default_rng(PUBLIC_SEED if seed is None else seed)
            return list(self.cases(rng))
        return list(self.cases)

    def observe(self, answer: Any, cases: Sequence[Case]) -> list[Observation]:
        """Run the probe on every case: what the answer did, as plain data. This is the part
        that runs the learner's code (in the grader: inside the sandbox)."""
        probe = self.probe or call()
        if answer is Ellipsis or answer is None:
            return [{"outcome": "not_attempted"} for _ in cases]
        return [probe(answer, case) for case in cases]

    def judge_for(self, seed: int | None = None) -> Judge:
        """The judge of one seed's cases: the reference's and each misconception's observations,
        computed here (trusted code only), cached per seed."""
        key = PUBLIC_SEED if seed is None else seed
        if key not in self._judges:
            cases = self.cases_for(seed)
            options = dict(self.judge)
            options.setdefault("case_notes", [c.note for c in cases])
            self._judges[key] = Judge(
                reference=self.observe(self.reference_answer, cases),
                misconceptions=[
                    (m, self.observe(self.resolve(m.answer), cases)) for m in self.misconceptions
                ],
                **options,
            )
        return self._judges[key]

    def verdict(self, answer: Any, seed: int | None = None) -> Verdict:
        """Probe and judge in one process (a learner's own check)."""
        return self.judge_for(seed)(self.observe(answer, self.cases_for(seed)))

    # ----------------------------------------------------------------- the learner's check

    def evaluate(self, answer: Any, seed: int | None = None) -> Result:
        """Grade `answer` on one seed's cases; always returns a Result, never raises. Records
        nothing: a learner's check (`course_utils.learner`) adds progress, the grader its store."""
        try:
            if answer is Ellipsis or answer is None:
                raise NotAttempted()
            if self.is_data:
                verdict = self.verdict(answer, seed)
                if verdict.status is Status.NOT_ATTEMPTED:
                    raise NotAttempted()
                return self._result(verdict.status, verdict.message)
            message = self.grader(answer)
            return self._result(Status.PASSED, message or "correct, well done!")
        except NotAttempted:
            return self.not_attempted()
        except Mistake as mistake:
            return self._result(Status.FAILED, str(mistake))
        except _Timeout:
            return self._result(Status.FAILED, "your answer took too long to check")
        except Exception as exc:  # a case the grader did not foresee: still a sentence
            return self._result(
                Status.FAILED,
                f"the checker could not use your answer ({type(exc).__name__}); check its type "
                "and shape against the exercise text",
            )

    def not_attempted(self) -> Result:
        """The result of an untouched stub."""
        return self._result(
            Status.NOT_ATTEMPTED,
            f"replace the `...` or `raise NotImplementedError` in `{self.answer_name}` "
            "with your answer and run the cell that defines it, then run this check again",
        )

    def undefined(self) -> Result:
        """The result of a check run before the answer's name exists in the notebook."""
        return self._result(
            Status.NOT_ATTEMPTED,
            f"`{self.answer_name}` is not defined yet; define `{self.answer_name}` above "
            "and run its cell, then run this check again",
        )

    def hint(self) -> Hint:
        """The next hint tier (the last one repeats)."""
        total = len(self.hints)
        self._hint_tier = min(self._hint_tier + 1, total)
        return Hint(self.name, self._hint_tier, total, self.hints[self._hint_tier - 1])

    def solution(self) -> Solution:
        """The reference solution's code."""
        reference = self.reference_answer
        if self.solution_code is not None:
            code = self.solution_code
        elif callable(reference):
            code = textwrap.dedent(inspect.getsource(reference))
            if reference.__name__ != self.answer_name:  # named apart from the learner's
                code = code.replace(f"def {reference.__name__}(", f"def {self.answer_name}(", 1)
        else:
            code = f"{self.answer_name} = {reference!r}"
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
