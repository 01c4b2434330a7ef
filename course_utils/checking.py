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
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import styles
from .judging import Judge, Misconception, Observation, Status, Verdict
from .probing import Case, Probe, call, trusted
from .time_limit import TimeLimitExceeded as _Timeout

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


@dataclass(frozen=True)
class WrongAnswer:
    """A misconception with its answer resolved to the function (`Exercise.wrong_answers`), for
    the guide, the benchmark and the tests: `says` is the sentence a learner reads."""

    name: str
    answer: Any
    says: str


# --------------------------------------------------------------------------- exercises

Cases = Sequence[Case] | Callable[[np.random.Generator], Sequence[Case]]


@dataclass(eq=False)
class Exercise:
    """One graded exercise of a lesson.

    An exercise declares `cases`, a `probe` (default: call the answer, observe the value),
    `misconceptions` and `judge` options (see `judging.Judge`: what, success, fallback, facts,
    tolerance, custom, timeout); `alternatives` are differently written right answers the tests
    replay. `cases` is a list, or a function of a NumPy Generator returning one (fixed edge cases
    plus generated ones): a learner's check draws it with `PUBLIC_SEED`, the grader with a
    secret seed.

    `answer_name` is the name the learner's notebook defines (a check with no argument looks it
    up there).
    """

    lesson: str
    name: str
    answer_name: str
    hints: list[str]
    reference: Any  # the answer, or its name in the lesson's answers module
    cases: Cases = ()
    probe: Probe | None = None
    misconceptions: list[Misconception] = field(default_factory=list)
    alternatives: list[Any] = field(default_factory=list)
    judge: dict[str, Any] = field(default_factory=dict)
    # Where `reference`, `alternatives` and misconception answers given by name live: by
    # default `course_utils.answers.lNN_slug`, imported only when a judge is built, so the
    # grader's sandbox (which runs probes) never has the answers.
    answers_module: str | None = None
    solution_code: str | None = None
    title: str = ""
    _hint_tier: int = field(default=0, repr=False)
    _judges: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.cases:
            raise ValueError(f"exercise {self.name}: give it `cases`")

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
        """Each misconception with its answer resolved."""
        return [WrongAnswer(m.key, self.resolve(m.answer), m.says) for m in self.misconceptions]

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
        observations: list[Observation] = []
        for case in cases:
            if observations and observations[-1].get("outcome") == "timeout":
                # An answer that never finished on one case is not run again: an endless loop
                # costs its time limit once per exercise, not once per case.
                observations.append({"outcome": "timeout"})
                continue
            observations.append(probe(answer, case))
        return observations

    def judge_for(self, seed: int | None = None) -> Judge:
        """The judge of one seed's cases: the reference's and each misconception's observations,
        computed here (trusted code only), cached per seed."""
        key = PUBLIC_SEED if seed is None else seed
        if key not in self._judges:
            cases = self.cases_for(seed)
            options = dict(self.judge)
            options.setdefault("case_notes", [c.note for c in cases])
            with trusted():  # the course's own answers: a stall is not their timeout
                reference = self.observe(self.reference_answer, cases)
                misconceptions = [
                    (m, self.observe(self.resolve(m.answer), cases)) for m in self.misconceptions
                ]
            self._judges[key] = Judge(reference=reference, misconceptions=misconceptions, **options)
        return self._judges[key]

    def verdict(self, answer: Any, seed: int | None = None) -> Verdict:
        """Probe and judge in one process (a learner's own check)."""
        return self.judge_for(seed)(self.observe(answer, self.cases_for(seed)))

    # ----------------------------------------------------------------- the learner's check

    def evaluate(self, answer: Any, seed: int | None = None) -> Result:
        """Grade `answer` on one seed's cases; always returns a Result, never raises. Records
        nothing: a learner's check (`course_utils.learner`) adds progress, the grader its store."""
        if answer is Ellipsis or answer is None:
            return self.not_attempted()
        try:
            verdict = self.verdict(answer, seed)
            if verdict.status is Status.NOT_ATTEMPTED:
                return self.not_attempted()
            return self._result(verdict.status, verdict.message)
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
