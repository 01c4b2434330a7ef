"""Shared by the solution and exercise notebook runs (split in two modules so that
`pytest-xdist` can run them on different workers)."""

from __future__ import annotations

from pathlib import Path

from course_utils.execute import check_results, error_outputs, run_notebook
from course_utils.registry import exercises

ROOT = Path(__file__).resolve().parent.parent


def notebooks(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("*.ipynb"))


def run_and_collect(path: Path) -> list[tuple[str, str, str]]:
    """Execute a notebook (errors kept as outputs) and return its check results."""
    run = run_notebook(path, timeout=300, allow_errors=True)
    errors = error_outputs(run.notebook)
    assert not errors, f"{path.name}: cells raised {errors}"
    results = check_results(run.notebook)
    lesson = exercises(path.stem)
    checked = {name for _, name, _ in results}
    missing = {ex.name for ex in lesson} - checked
    assert not missing, f"{path.name} never checks {sorted(missing)}"
    return results
