"""`make bench`: how long each notebook takes in a fresh kernel, next to the floor.

The floor is a fresh kernel that only imports TensorFlow and Keras, measured in the same run, so
the ratio says how much a notebook costs beyond start-up on this machine. A benchmark, not a test:
it prints figures and fails only if a notebook errors.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .execute import run_notebook
from .lab import ROOT

FOLDERS = ("notebooks", "solutions", "exercises")


def _floor_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "masking-course", "display_name": "x", "language": "python"}
    }
    nb.cells = [nbformat.v4.new_code_cell("import tensorflow as tf\nimport keras")]
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


def measure_floor(repeats: int = 3) -> float:
    """Median seconds for a fresh kernel that only imports TensorFlow and Keras."""
    with tempfile.TemporaryDirectory() as tmp:
        path = _floor_notebook(Path(tmp))
        times = sorted(run_notebook(path).seconds for _ in range(repeats))
    return times[len(times) // 2]


def main() -> int:
    os.environ.setdefault("COURSE_PROGRESS_FILE", os.devnull)
    floor = measure_floor()
    print(f"floor (fresh kernel, import tensorflow + keras): {floor:.2f} s\n")
    print(f"{'notebook':<40} {'seconds':>8} {'x floor':>8}")
    total, errors = 0.0, 0
    start = time.perf_counter()
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            run = run_notebook(path, allow_errors=folder == "exercises")
            total += run.seconds
            flag = f"  ERROR: {run.error}" if run.error else ""
            errors += bool(run.error)
            print(
                f"{folder + '/' + path.name:<40} {run.seconds:>8.2f} {run.seconds / floor:>8.2f}{flag}"
            )
    print(f"\n{'total (sum of notebooks)':<40} {total:>8.2f} {total / floor:>8.2f}")
    print(f"{'wall clock for the loop':<40} {time.perf_counter() - start:>8.2f}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
