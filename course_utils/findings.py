"""What the capstone grid supports: every training claim of lessons 05-08, each a sentence with its
margin and a measurement on the committed grid (`course_utils.experiment`).

A finding holds when its measurement is inside `[low, high]` on **every** seed of the grid (or,
for a finding about the spread over seeds, for that spread). Lessons print and assert the
findings they teach (`check(grid, key, ...)`); `tests/test_findings.py` checks every finding on
the committed grid and that each is taught somewhere, so a re-computed grid that breaks a
sentence fails the tests before a learner reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .experiment import INPUT_SIDES, Grid

EVERY_SEED = "every seed"
ACROSS_SEEDS = "across seeds"


@dataclass(frozen=True)
class Finding:
    """One claim about training, checked on the grid."""

    key: str
    lessons: tuple[str, ...]  # the lessons that state it ("05", "08", ...)
    claim: str  # the sentence a learner reads, its margin included
    measure: Callable[[Grid], np.ndarray]  # (seeds,), or (1,) for a claim across seeds
    low: float = -np.inf  # holds when low <= value ...
    high: float = np.inf  # ... <= high
    scope: str = EVERY_SEED


@dataclass(frozen=True)
class Verdict:
    """A finding measured on one grid."""

    finding: Finding
    values: np.ndarray  # what `measure` gave
    seeds: tuple[int, ...]

    @property
    def each(self) -> np.ndarray:
        """(values,) bool: inside the margin?"""
        return (self.values >= self.finding.low) & (self.values <= self.finding.high)

    @property
    def holds(self) -> bool:
        return bool(np.all(self.each))

    def __repr__(self) -> str:
        values = self.values
        if self.finding.scope == ACROSS_SEEDS:
            where = f"measured {values[0]:.3f}"
        else:
            where = (
                f"{int(self.each.sum())}/{len(values)} seeds, "
                f"measured {values.min():.3f} to {values.max():.3f}"
            )
        return f"{'holds' if self.holds else 'FAILS'} ({where}): {self.finding.claim}"


def _v(input: str, loss: str, metric: str, epoch: int | None = None):
    return lambda g: g.values(input, loss, metric, epoch)


def _diff(a, b):
    return lambda g: a(g) - b(g)


def _spread(measure):
    def spread(g):
        values = measure(g)
        return np.asarray([values.max() - values.min()])

    return spread


def _blind_gap(metric: str):
    """Per seed: |naive baseline - input-blind predictor| at the course budget."""
    return lambda g: np.abs(g.values("post", "plain", metric) - g.blind(metric))


def _implementation_gap(metric: str, epoch: int | None = None):
    """Per seed: the largest difference between the four masked-loss implementations, on the
    masked encoder."""

    def gap(g):
        rows = np.stack(
            [
                g.values("masked", loss, metric, epoch)
                for loss in ("masked", "masked_weight", "masked_hand", "masked_propagated")
            ]
        )
        return rows.max(axis=0) - rows.min(axis=0)

    return gap


def _blind_end_answer(g):
    """Per seed: 1.0 when the input-blind answer is the end token at every position after the
    first, counted with and without the padding."""
    out = []
    for seed in g.seeds:
        record = g.blind_record(seed)
        end_id = record["modes"][-1]  # the last position is padding in every sequence: end
        real = [m for m in record["real_modes"][1:] if m >= 0]
        out.append(float(all(m == end_id for m in record["modes"][1:] + real)))
    return np.asarray(out)


def _end_after_first(input: str, loss: str):
    """Per seed: the lowest end-token rate over the token positions after the first, at the
    course's budget."""

    def lowest(g):
        rates = g.snapshot(input, loss, g.course_epochs, "end_rate_by_position")[:, 1:]
        return np.nanmin(rates, axis=1)

    return lowest


def _at_position_1(input: str, loss: str):
    return lambda g: g.snapshot(input, loss, g.course_epochs, "token_accuracy_by_position")[:, 0]


def _lowest(*measures):
    """Per seed: the lowest of several measurements."""
    return lambda g: np.min(np.stack([m(g) for m in measures]), axis=0)


def _highest(*measures):
    """Per seed: the highest of several measurements."""
    return lambda g: np.max(np.stack([m(g) for m in measures]), axis=0)


def _greedy_gap(input: str, loss: str, metric: str):
    """Per seed: teacher-forced minus greedy, at the course's budget."""
    return lambda g: (
        g.values(input, loss, metric) - g.snapshot(input, loss, g.course_epochs, metric)
    )


def _greedy_exact_gap_everywhere(g):
    """Per seed: the largest |teacher-forced - greedy| exact match over every cell, at the
    course's budget and at the last epoch."""
    gaps = [
        np.abs(g.values(i, loss, "exact_match", e) - g.snapshot(i, loss, e, "exact_match"))
        for i, loss in g.pairs()
        for e in g.payload["snapshots"]
    ]
    return np.max(np.stack(gaps), axis=0)


LONG = 20  # the grid's longest budget (`experiment.EPOCHS`)
READABLE = ("pre", "masked")  # input sides whose encoder's last step is a real symbol
POST_LOSSES = ("plain", "class_weight", "argmax", "masked", "mae", "argmax_mae")
CORE_LOSSES = ("plain", "class_weight", "argmax", "masked")


def _each(metric: str, sides, losses, epoch: int | None = None, how=_lowest):
    return how(*(_v(side, loss, metric, epoch) for side in sides for loss in losses))


FINDINGS: tuple[Finding, ...] = (
    # ---- lesson 05: what the collapsed model is
    Finding(
        "baseline-is-input-blind",
        ("05", "08"),
        "after 6 epochs the naive model's end-token rate is within 0.01 of the input-blind "
        "predictor's",
        _blind_gap("end_token_rate"),
        high=0.01,
    ),
    Finding(
        "baseline-says-end-after-the-first",
        ("05", "08"),
        "after 6 epochs the naive model predicts the end token on every real token after the "
        "first position",
        _end_after_first("post", "plain"),
        low=1.0,
    ),
    Finding(
        "input-blind-answer-is-end",
        ("05",),
        "the input-blind answer is the end token at every position after the first, with or "
        "without the padding counted",
        _blind_end_answer,
        low=1.0,
    ),
    # ---- the input side decides whether the model escapes
    Finding(
        "masked-encoder-escapes",
        ("05", "08"),
        "masking only the encoder, padding still in the loss: the end-token rate is 0.1 or "
        "less after 6 epochs",
        _v("masked", "plain", "end_token_rate"),
        high=0.1,
    ),
    Finding(
        "masked-loss-alone-learns-little",
        ("05", "07"),
        "masking only the loss, the encoder reading post-padding: at most 0.05 of the real "
        "tokens right after 6 epochs",
        _v("post", "masked", "real_token_accuracy"),
        high=0.05,
    ),
    Finding(
        "post-encoder-no-loss-learns",
        ("06", "07", "08"),
        "while the encoder reads post-padding, no loss (plain, class weights, the argmax rule, "
        "the masked loss, the thread's MAE) gets more than 0.3 of the real tokens right after 6 "
        "epochs",
        _each("real_token_accuracy", ("post",), POST_LOSSES, how=_highest),
        high=0.3,
    ),
    Finding(
        "masked-loss-alone-symptom-varies",
        ("07", "08"),
        "masking only the loss, the encoder reading post-padding: the end-token rate after 6 "
        "epochs differs between seeds by more than 0.3",
        _spread(_v("post", "masked", "end_token_rate")),
        low=0.3,
        scope=ACROSS_SEEDS,
    ),
    Finding(
        "pre-padding-escapes",
        ("08",),
        "pre-padding the encoder, with no mask anywhere: the end-token rate is 0.2 or less "
        "after 6 epochs",
        _v("pre", "plain", "end_token_rate"),
        high=0.2,
    ),
    # ---- fix 1, and the loss side once the input is readable
    Finding(
        "fix-1-learns",
        ("05", "08"),
        "fix 1 (mask_zero: masked encoder and masked loss) gets at least 0.6 of the real tokens "
        "right after 6 epochs",
        _v("masked", "masked_propagated", "real_token_accuracy"),
        low=0.6,
    ),
    Finding(
        "fix-1-places-the-end",
        ("05", "08"),
        "fix 1 predicts the end token in its place for at least 0.95 of the sequences after 6 "
        "epochs",
        _v("masked", "masked_propagated", "end_position_accuracy"),
        low=0.95,
    ),
    Finding(
        "fix-1-no-end-on-tokens",
        ("05", "08"),
        "fix 1 predicts the end token on at most 0.05 of the real tokens after 6 epochs",
        _v("masked", "masked_propagated", "end_token_rate"),
        high=0.05,
    ),
    Finding(
        "loss-side-speeds-learning",
        ("05", "08"),
        "with the masked encoder, masking the loss too adds at least 0.15 real-token accuracy "
        "after 6 epochs",
        _diff(
            _v("masked", "masked_propagated", "real_token_accuracy"),
            _v("masked", "plain", "real_token_accuracy"),
        ),
        low=0.15,
    ),
    Finding(
        "pre-padding-with-masked-loss",
        ("08",),
        "pre-padding the encoder plus the masked loss: at least 0.5 of the real tokens right "
        "after 6 epochs",
        _v("pre", "masked", "real_token_accuracy"),
        low=0.5,
    ),
    Finding(
        "masked-loss-four-ways-agree",
        ("07", "08"),
        "the four ways of writing the masked loss (ignore_class, mean_with_sample_weight, "
        "hand-written, the propagated mask) end within 0.02 real-token accuracy of each other, "
        "after 6 and after 20 epochs",
        _highest(
            _implementation_gap("real_token_accuracy"),
            _implementation_gap("real_token_accuracy", LONG),
        ),
        high=0.02,
    ),
    # ---- lesson 06: class weights
    Finding(
        "class-weight-removes-the-symptom",
        ("06", "08"),
        "class weights on the thread's set-up: the end token on at most 0.01 of the real tokens "
        "after 6 epochs",
        _v("post", "class_weight", "end_token_rate"),
        high=0.01,
    ),
    Finding(
        "class-weight-loses-the-end",
        ("06", "08"),
        "class weights, whatever the encoder reads: the end token in its place for at most 0.05 "
        "of the sequences after 6 epochs",
        _each("end_position_accuracy", tuple(INPUT_SIDES), ("class_weight",), how=_highest),
        high=0.05,
    ),
    Finding(
        "class-weight-post-never-ends",
        ("06", "08"),
        "class weights on the thread's set-up: the end token in its place for at most 0.05 of the "
        "sequences even after 20 epochs",
        _v("post", "class_weight", "end_position_accuracy", LONG),
        high=0.05,
    ),
    Finding(
        "class-weight-readable-end-still-behind-at-20",
        ("06", "08"),
        "class weights with a readable encoder: even after 20 epochs the end token is in its "
        "place for at most 0.8 of the sequences",
        _each("end_position_accuracy", READABLE, ("class_weight",), LONG, how=_highest),
        high=0.8,
    ),
    Finding(
        "class-weight-readable-learns-tokens",
        ("06",),
        "class weights with an encoder that reads its input (pre-padded or masked): at least "
        "0.6 of the real tokens right after 6 epochs",
        _each("real_token_accuracy", READABLE, ("class_weight",)),
        low=0.6,
    ),
    Finding(
        "class-weight-on-fix-1-misplaces",
        ("06", "08"),
        "class weights counted on the real steps, on top of fix 1: the end token in its place "
        "for at most 0.85 of the sequences after 6 epochs",
        _v("masked", "masked_class_weight", "end_position_accuracy"),
        high=0.85,
    ),
    Finding(
        "class-weight-on-fix-1-costs-sequences",
        ("06", "08"),
        "class weights on top of fix 1 cost at least 0.05 exact match against fix 1 alone after "
        "6 epochs",
        _diff(
            _v("masked", "masked_propagated", "exact_match"),
            _v("masked", "masked_class_weight", "exact_match"),
        ),
        low=0.05,
    ),
    # ---- lesson 07: the argmax rule and the thread's MAE
    Finding(
        "argmax-post-stays-collapsed",
        ("07", "08"),
        "the argmax rule on the thread's set-up: the end token still on at least 0.3 of the "
        "real tokens after 6 epochs",
        _v("post", "argmax", "end_token_rate"),
        low=0.3,
    ),
    Finding(
        "argmax-readable-learns",
        ("07", "08"),
        "the argmax rule with an encoder that reads its input: at least 0.7 of the real tokens "
        "right after 6 epochs",
        _each("real_token_accuracy", READABLE, ("argmax",)),
        low=0.7,
    ),
    Finding(
        "argmax-keeps-up-with-masked-loss",
        ("07", "08"),
        "with an encoder that reads its input, the argmax rule's real-token accuracy after 6 "
        "epochs is never more than 0.05 below the masked loss's",
        _lowest(
            *(
                _diff(
                    _v(side, "argmax", "real_token_accuracy"),
                    _v(side, "masked", "real_token_accuracy"),
                )
                for side in READABLE
            )
        ),
        low=-0.05,
    ),
    Finding(
        "argmax-readable-places-the-end",
        ("07", "08"),
        "the argmax rule with an encoder that reads its input: the end token in its place for at "
        "least 0.8 of the sequences after 6 epochs",
        _each("end_position_accuracy", READABLE, ("argmax",)),
        low=0.8,
    ),
    Finding(
        "thread-mae-predicts-only-the-end",
        ("07", "08"),
        "the thread's own loss (mean absolute error on one-hot targets): the end token on every "
        "real token, the first included, after 6 and after 20 epochs",
        _lowest(_v("post", "mae", "end_token_rate"), _v("post", "mae", "end_token_rate", LONG)),
        low=1.0,
    ),
    Finding(
        "thread-argmax-mae-collapsed",
        ("07", "08"),
        "the thread's fix 3 exactly as answered (the argmax rule on its MAE): the end token on "
        "at least 0.4 of the real tokens after 6 epochs",
        _v("post", "argmax_mae", "end_token_rate"),
        low=0.4,
    ),
    # ---- lesson 08: the training budget
    Finding(
        "baseline-on-plateau-at-6",
        ("08",),
        "the naive model is still on its plateau after 6 epochs: the end token on at least 0.4 "
        "of the real tokens",
        _v("post", "plain", "end_token_rate"),
        low=0.4,
    ),
    Finding(
        "baseline-leaves-plateau-by-20",
        ("08",),
        "by 20 epochs the naive model has left the plateau: the end token on at most 0.15 of the "
        "real tokens",
        _v("post", "plain", "end_token_rate", LONG),
        high=0.15,
    ),
    Finding(
        "baseline-still-wrong-at-20",
        ("08",),
        "after 20 epochs the naive model still gets at most 0.6 of the real tokens right",
        _v("post", "plain", "real_token_accuracy", LONG),
        high=0.6,
    ),
    Finding(
        "readable-input-every-loss-learns-by-20",
        ("08",),
        "with an encoder that reads its input, every loss gets at least 0.7 of the real tokens "
        "right after 20 epochs",
        _each("real_token_accuracy", READABLE, CORE_LOSSES, LONG),
        low=0.7,
    ),
    Finding(
        "post-behind-readable-at-20",
        ("08",),
        "after 20 epochs the best loss on the post-padded encoder is still at least 0.1 below "
        "the worst loss on a readable one (real-token accuracy)",
        _diff(
            _each("real_token_accuracy", READABLE, CORE_LOSSES, LONG),
            _each("real_token_accuracy", ("post",), POST_LOSSES, LONG, how=_highest),
        ),
        low=0.1,
    ),
    # ---- where along the sequence, and greedy decoding
    Finding(
        "position-1-fix-1",
        ("08",),
        "at position 1, the last symbol the encoder read, fix 1 gets at least 0.85 of the tokens "
        "right after 6 epochs",
        _at_position_1("masked", "masked_propagated"),
        low=0.85,
    ),
    Finding(
        "position-1-post",
        ("08",),
        "at position 1, every loss on the post-padded encoder gets at most 0.4 of the tokens "
        "right after 6 epochs",
        _highest(*(_at_position_1("post", loss) for loss in POST_LOSSES)),
        high=0.4,
    ),
    Finding(
        "greedy-exact-equals-teacher-forced",
        ("05", "08"),
        "greedy decoding gets exactly the teacher-forced exact match, in every cell (a sequence "
        "right at every step is fed the same inputs either way)",
        _greedy_exact_gap_everywhere,
        high=0.0,
    ),
    Finding(
        "greedy-tokens-close-for-fix-1",
        ("05", "08"),
        "fix 1's greedy token accuracy is at most 0.05 below the teacher-forced one after 6 epochs",
        _greedy_gap("masked", "masked_propagated", "real_token_accuracy"),
        low=0.0,
        high=0.05,
    ),
)


def finding(key: str) -> Finding:
    for item in FINDINGS:
        if item.key == key:
            return item
    raise KeyError(f"no finding {key!r}; the findings are: {', '.join(f.key for f in FINDINGS)}")


def evaluate(grid: Grid, key: str) -> Verdict:
    item = finding(key)
    values = np.atleast_1d(np.asarray(item.measure(grid), dtype=float))
    return Verdict(item, values, tuple(grid.seeds))


def check(grid: Grid, *keys: str) -> list[Verdict]:
    """Measure the findings `keys` on `grid`, print one line each, and return the verdicts
    (a lesson then asserts `all(v.holds for v in verdicts)`)."""
    verdicts = [evaluate(grid, key) for key in keys]
    for verdict in verdicts:
        print(verdict)
    return verdicts
