"""The judge: compares what a probe saw the learner's answer do with what it saw the reference
and every known misconception do, and names the first that matches. Pure data in, a verdict out:
no learner code runs here, nothing here imports Keras, and nothing reads the learner's process.

An **observation** is what one probe saw on one case, as plain JSON-able data:

    {"outcome": "value", "value": [[1, 0]], "kind": "b", "shape": [1, 2], "extra": {...}}
    {"outcome": "raised", "error": "ValueError", "detail": "first line of the message"}
    {"outcome": "timeout"} | {"outcome": "not_attempted"} | {"outcome": "not_callable", ...}

`kind` is NumPy's dtype kind ("b" bool, "i"/"u" integer, "f" float, "O" for a dict or other
plain value), `shape` the array shape ([] for a number). `extra` holds what a probe measured
beside the value (a loss's gradient, a layer's returned mask, the warnings Keras raised): named
facts that a `Fact` turns into a sentence when the learner's differs from the reference's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Observation = dict[str, Any]

VALUE, RAISED, TIMEOUT, NOT_ATTEMPTED, NOT_CALLABLE = (
    "value",
    "raised",
    "timeout",
    "not_attempted",
    "not_callable",
)


class Status(StrEnum):
    """The one status vocabulary of a check, of progress and of a grade."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class Misconception:
    """A known mistake, written once: `answer` is a function that makes it, or its name in the
    lesson's answers module (the tests and the judge run it on the cases); `says` is the sentence
    a learner reads when their answer behaves like it, `hint` the next step to try."""

    key: str
    answer: Any
    says: str
    hint: str = ""


@dataclass(frozen=True)
class Fact:
    """A measured fact beside the value (`observation["extra"][key]`) and the sentence a
    learner reads when theirs differs from the reference's, e.g. a loss without a gradient."""

    key: str
    says: str


@dataclass(frozen=True)
class Verdict:
    """What the judge decided about one answer."""

    status: Status
    message: str
    misconception: str | None = None  # the key of the misconception that matched, if any
    case: int | None = None  # the first case that told the answer apart, if any


# --------------------------------------------------------------------------- comparing


def _close_numbers(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_close_numbers(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_close_numbers(a[k], b[k], rtol, atol) for k in a)
        )
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


_NUMERIC = set("iuf")


def kinds_match(a: str | None, b: str | None, *, strict: bool = False) -> bool:
    """Dtype kinds agree: equal, or (unless `strict`) both numeric; a bool never passes for a
    number, nor a number for a bool."""
    if a == b:
        return True
    return not strict and a in _NUMERIC and b in _NUMERIC


def same(
    a: Observation,
    b: Observation,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    strict_kind: bool = False,
) -> bool:
    """Two observations of one case agree: the same outcome, and for a value the same shape, a
    matching dtype kind (`kinds_match`), close values and the same extra facts. A raised error
    agrees with another of the same type."""
    if a.get("outcome") != b.get("outcome"):
        return False
    if a["outcome"] == RAISED:
        return a.get("error") == b.get("error")
    if a["outcome"] != VALUE:
        return True
    if a.get("shape") != b.get("shape"):
        return False
    if not kinds_match(a.get("kind"), b.get("kind"), strict=strict_kind):
        return False
    if not _close_numbers(a.get("value"), b.get("value"), rtol, atol):
        return False
    return _close_numbers(a.get("extra", {}), b.get("extra", {}), rtol, atol)


def same_all(a: Sequence[Observation], b: Sequence[Observation], **tolerance) -> bool:
    return len(a) == len(b) and all(same(x, y, **tolerance) for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- sentences


def _shape_text(shape: list[int]) -> str:
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


_KIND_WORDS = {"b": "booleans", "i": "integers", "u": "integers", "f": "floats", "O": "objects"}


def _has_nan(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    return isinstance(value, float) and (math.isnan(value) or math.isinf(value))


def describe_difference(
    learner: Observation,
    reference: Observation,
    *,
    what: str,
    facts: Sequence[Fact] = (),
    timeout: float | None = None,
    strict_kind: bool = False,
) -> str | None:
    """A sentence for one case where the learner's observation differs from the reference's,
    naming the difference (never the expected value). None when no generic sentence fits."""
    outcome = learner.get("outcome")
    if outcome == RAISED:
        detail = learner.get("detail") or ""
        return f"your function raised {learner.get('error')}" + (f": {detail}" if detail else "")
    if outcome == TIMEOUT:
        limit = f" within {timeout:g} seconds" if timeout else ""
        return f"your function did not finish{limit}; look for a loop that never ends"
    if outcome == NOT_CALLABLE:
        return (
            f"expected a function, but got a {learner.get('type', 'value')}; define it with "
            "`def` and pass the function itself (no parentheses)"
        )
    if outcome != VALUE or reference.get("outcome") != VALUE:
        return None
    if learner.get("value") is None and learner.get("kind") is None:
        return f"{what} is None; did you forget a `return`?"
    if learner.get("irregular"):
        return f"{what} could not be turned into a regular array; are some rows a different length?"
    if learner.get("shape") != reference.get("shape"):
        got, want = learner.get("shape"), reference.get("shape")
        if got is None or want is None:
            words = _KIND_WORDS.get(learner.get("kind"), learner.get("type") or "a value")
            if want is None:
                return f"{what} is an array, but the exercise asks for another kind of value"
            return f"{what} holds {words} that cannot be read as an array of the expected shape"
        if not want:
            return f"{what} has shape {_shape_text(got)}, but a single number is expected"
        return f"{what} has shape {_shape_text(got)}, but it should have shape {_shape_text(want)}"
    if _has_nan(learner.get("value")) and not _has_nan(reference.get("value")):
        return f"{what} contains NaN or infinity"
    kinds = (learner.get("kind"), reference.get("kind"))
    if not kinds_match(*kinds, strict=strict_kind):
        return (
            f"{what} holds {_KIND_WORDS.get(kinds[0], kinds[0])}, but it should hold "
            f"{_KIND_WORDS.get(kinds[1], kinds[1])}"
        )
    for fact in facts:
        mine = learner.get("extra", {}).get(fact.key)
        theirs = reference.get("extra", {}).get(fact.key)
        if not _close_numbers(mine, theirs, 1e-4, 1e-5):
            return fact.says
    return None


# --------------------------------------------------------------------------- the judge


@dataclass
class Judge:
    """The data an exercise's judge needs, all computed in the trusted process: the reference's
    and each misconception's observations on the same cases the learner's answer was probed
    on."""

    reference: list[Observation]
    misconceptions: list[tuple[Misconception, list[Observation]]] = field(default_factory=list)
    what: str = "your answer"  # how sentences name the learner's value
    fallback: str = "your answer differs from the expected one on some cases"
    success: str = "correct, well done!"
    facts: Sequence[Fact] = ()
    case_notes: Sequence[str] = ()  # one short description per case, for the fallback sentence
    timeout: float | None = None
    tolerance: dict[str, Any] = field(default_factory=dict)  # rtol, atol, strict_kind
    # an extra rule before the generic sentences: (learner's, reference's observations) -> a
    # sentence or None
    custom: Callable[[list[Observation], list[Observation]], str | None] | None = None

    def __call__(self, learner: list[Observation]) -> Verdict:
        """The verdict on the learner's observations (one per case, in the cases' order):

        1. any case not attempted -> not attempted; all cases the same as the reference -> passed;
        2. all cases the same as one misconception's -> that misconception's sentence;
        3. the `custom` rule, if it has a sentence;
        4. at the first case that differs: a structural difference (raised, ran out of time, a
           wrong shape, kind, NaN, a differing fact) -> its generic sentence; else a misconception
           that behaves the same on that case -> its sentence; else the fallback, naming the case.
        """
        if len(learner) != len(self.reference):
            return Verdict(Status.FAILED, self.fallback)
        if any(o.get("outcome") == NOT_ATTEMPTED for o in learner):
            return Verdict(Status.NOT_ATTEMPTED, "")
        if same_all(learner, self.reference, **self.tolerance):
            return Verdict(Status.PASSED, self.success)
        for misconception, observed in self.misconceptions:
            if same_all(learner, observed, **self.tolerance):
                return Verdict(Status.FAILED, misconception.says, misconception.key)
        if self.custom is not None:
            message = self.custom(learner, self.reference)
            if message:
                return Verdict(Status.FAILED, message)
        index = next(
            i
            for i, (mine, theirs) in enumerate(zip(learner, self.reference, strict=True))
            if not same(mine, theirs, **self.tolerance)
        )
        mine, theirs = learner[index], self.reference[index]
        message = describe_difference(
            mine,
            theirs,
            what=self.what,
            facts=self.facts,
            timeout=self.timeout,
            strict_kind=self.tolerance.get("strict_kind", False),
        )
        if message is not None:
            return Verdict(Status.FAILED, message, case=index)
        for misconception, observed in self.misconceptions:
            if same(mine, observed[index], **self.tolerance):
                return Verdict(Status.FAILED, misconception.says, misconception.key, case=index)
        note = self.case_notes[index] if index < len(self.case_notes) else ""
        message = self.fallback + (f" (for example on {note})" if note else "")
        return Verdict(Status.FAILED, message, case=index)
