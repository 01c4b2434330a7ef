"""exercises/ is generated from solutions/: stubs, refused markers, and drift detection."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from course_utils.exercise_builder import (
    BuildError,
    build_all,
    build_notebook,
    check_all,
    strip_solution,
)


def _notebook(tmp_path, *sources, name="01_demo.ipynb", markdown=()):
    (tmp_path / "solutions").mkdir(exist_ok=True)
    (tmp_path / "exercises").mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "masking-course", "display_name": "x", "language": "python"},
        "widgets": {"big": "noise"},
    }
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    for source in sources:
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output")]
        cell.execution_count = 3
        nb.cells.append(cell)
    path = tmp_path / "solutions" / name
    nbformat.write(nb, path)
    return path


def test_function_body_becomes_raise_not_implemented_with_its_indentation():
    source = (
        "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n"
    )
    assert (
        strip_solution(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"
    )


def test_top_level_assignments_become_ellipsis_values():
    source = (
        "### BEGIN SOLUTION\nmask = x != 0\nlengths, total = 1, 2\n### END SOLUTION\ncheck(mask)"
    )
    assert strip_solution(source) == (
        "# YOUR CODE HERE\nmask = ...\nlengths = ...\ntotal = ...\ncheck(mask)"
    )


def test_code_outside_the_markers_is_kept():
    source = "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3"
    assert strip_solution(source).splitlines()[0] == "a = 1"
    assert strip_solution(source).splitlines()[-1] == "c = 3"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx=1\n### END SOLUTION\n### END SOLUTION",
            "cannot be nested",
        ),
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "END SOLUTION without a BEGIN"),
    ],
)
def test_bad_markers_are_refused_with_notebook_and_cell(tmp_path, source, says):
    path = _notebook(tmp_path, "import numpy", source)
    with pytest.raises(BuildError) as err:
        build_notebook(path)
    assert says in str(err.value)
    assert f"{path}, cell 2" in str(err.value)


def test_markers_in_markdown_are_refused(tmp_path):
    path = _notebook(tmp_path, "x = 1", markdown=["### BEGIN SOLUTION"])
    with pytest.raises(BuildError, match="cell 1: solution markers are only allowed in code cells"):
        build_notebook(path)


def test_a_notebook_without_markers_is_refused(tmp_path):
    with pytest.raises(BuildError, match="has no `### BEGIN SOLUTION` region"):
        build_notebook(_notebook(tmp_path, "x = 1"))


def test_a_malformed_notebook_is_refused_in_a_sentence(tmp_path):
    (tmp_path / "solutions").mkdir()
    path = tmp_path / "solutions" / "02_broken.ipynb"
    path.write_text("{ not json")
    with pytest.raises(BuildError, match="is not a notebook"):
        build_notebook(path)


def test_outputs_are_cleared_and_metadata_trimmed_to_the_kernelspec(tmp_path):
    path = _notebook(tmp_path, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    nb = nbformat.reads(build_notebook(path), as_version=4)
    assert list(nb.metadata) == ["kernelspec"]
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_drift_names_the_edited_missing_and_orphaned_files(tmp_path):
    _notebook(tmp_path, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", name="01_a.ipynb")
    _notebook(tmp_path, "### BEGIN SOLUTION\ny = 1\n### END SOLUTION", name="02_b.ipynb")
    build_all(tmp_path)
    assert check_all(tmp_path) == []
    (tmp_path / "exercises" / "01_a.ipynb").write_text("{}")
    (tmp_path / "exercises" / "02_b.ipynb").unlink()
    (tmp_path / "exercises" / "99_orphan.ipynb").write_text("{}")
    reasons = {d.path.name: d.reason for d in check_all(tmp_path)}
    assert "edited by hand" in reasons["01_a.ipynb"]
    assert "missing" in reasons["02_b.ipynb"]
    assert "no source in solutions/" in reasons["99_orphan.ipynb"]


def test_command_line_check_exits_non_zero_and_names_drifting_files(tmp_path):
    _notebook(tmp_path, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", name="01_a.ipynb")
    command = [sys.executable, "-m", "course_utils", "build-exercises", "--root", str(tmp_path)]
    drift = subprocess.run([*command, "--check"], capture_output=True, text=True)
    assert drift.returncode == 1 and "01_a.ipynb" in drift.stderr
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0


def test_the_committed_exercises_match_their_solutions(root):
    assert [str(d) for d in check_all(root)] == []
