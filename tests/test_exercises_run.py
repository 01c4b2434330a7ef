"""Each generated exercises/ notebook runs untouched without an error, every check saying
"not attempted" (a stub must never pass, fail, or crash)."""

from __future__ import annotations

import pytest
from notebook_runs import notebooks, run_and_collect


@pytest.mark.parametrize("path", notebooks("exercises"), ids=lambda p: p.name)
def test_untouched_exercise_notebook_reports_not_attempted(path):
    results = run_and_collect(path)
    attempted = [(name, status) for _, name, status in results if status != "not attempted"]
    assert not attempted, f"{path.name}: {attempted}"
