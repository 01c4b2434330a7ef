"""Each solutions/ notebook runs in a fresh kernel and every check in it passes."""

from __future__ import annotations

import pytest
from notebook_runs import notebooks, run_and_collect


@pytest.mark.parametrize("path", notebooks("solutions"), ids=lambda p: p.name)
def test_solution_notebook_passes_every_check(path):
    results = run_and_collect(path)
    not_passed = [(name, status) for _, name, status in results if status != "passed"]
    assert not not_passed, f"{path.name}: {not_passed}"
