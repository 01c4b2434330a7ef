"""Every training claim of lessons 05-08 holds on every seed of the committed grid, each is taught
by a lecture that asserts it, and a claim the grid contradicts is reported as failing."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from course_utils import experiment, findings

LECTURES = ("05_fix_mask_zero", "06_fix_class_weighting", "07_fix_argmax_loss", "08_capstone")


@pytest.fixture(scope="module")
def grid():
    return experiment.load()


def _checked_keys(root, lesson):
    """The finding keys a lecture passes to `findings.check(...)`."""
    notebook = json.loads((root / "notebooks" / f"{lesson}.ipynb").read_text())
    source = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    keys = []
    for call in re.findall(r"findings\.check\(\s*grid,(.*?)\)", source, flags=re.S):
        keys += re.findall(r'"([a-z0-9-]+)"', call)
    return keys


@pytest.mark.parametrize("key", [f.key for f in findings.FINDINGS])
def test_each_finding_holds_on_every_seed_of_the_committed_grid(grid, key):
    verdict = findings.evaluate(grid, key)
    assert verdict.holds, repr(verdict)


def test_findings_have_unique_keys_and_a_real_margin():
    keys = [f.key for f in findings.FINDINGS]
    assert len(keys) == len(set(keys)) and len(keys) >= 10
    for item in findings.FINDINGS:
        assert np.isfinite(item.low) or np.isfinite(item.high), item.key
        assert item.scope in (findings.EVERY_SEED, findings.ACROSS_SEEDS)


def test_every_finding_is_asserted_by_a_lecture_that_names_it_and_no_lecture_names_an_unknown_one(
    root,
):
    taught = {lesson[:2]: set(_checked_keys(root, lesson)) for lesson in LECTURES}
    known = {f.key for f in findings.FINDINGS}
    for lesson, keys in taught.items():
        assert keys <= known, f"lesson {lesson} checks unknown findings {keys - known}"
    for item in findings.FINDINGS:
        for lesson in item.lessons:
            assert item.key in taught[lesson], f"{item.key} is not checked in lesson {lesson}"


def test_a_finding_the_grid_contradicts_fails_and_says_on_how_many_seeds(grid):
    payload = copy.deepcopy(grid.payload)
    for cell in payload["cells"]:
        if (cell["input"], cell["loss"], cell["seed"]) == ("masked", "masked_propagated", 2):
            cell["metrics"]["real_token_accuracy"] = [0.0] * len(cell["train_loss"])
    broken = experiment.Grid(payload)
    verdict = findings.evaluate(broken, "fix-1-learns")
    assert not verdict.holds
    assert repr(verdict).startswith(f"FAILS ({len(grid.seeds) - 1}/{len(grid.seeds)} seeds")


def test_unknown_findings_are_named_with_the_known_ones():
    with pytest.raises(KeyError, match="no finding 'nope'; the findings are: "):
        findings.finding("nope")
