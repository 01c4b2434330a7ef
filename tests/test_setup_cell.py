"""Every notebook starts with the generated cells of course_utils/setup_cell.py: launch links
(lectures, exercises) and the set-up cell, which is silent in the course's kernel and otherwise
says in one sentence what to do, or installs the course (Colab, or COURSE_URL set)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from course_utils import setup_cell
from course_utils.execute import run_notebook
from course_utils.exercise_builder import check_all


def test_every_notebook_starts_with_its_current_generated_cells(root):
    stale = setup_cell.stale(root)
    assert not stale, (
        f"generated first cells missing or out of date in {[str(p) for p in stale]}; "
        "run `python -m course_utils setup-cells`"
    )
    assert not check_all(root)  # exercises/ carry the exercise's own generated cells


@pytest.mark.parametrize("folder", ["notebooks", "exercises", "solutions"])
def test_the_set_up_cell_is_the_first_code_cell_and_declares_the_notebook_kind(root, folder):
    kind = setup_cell.KIND_OF_FOLDER[folder]
    for path in sorted((root / folder).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert first_code.id == setup_cell.SETUP_ID, path.name
        assert first_code.source.endswith(f'ready("{kind}")'), path.name
        launch = [c for c in nb.cells if c.get("id") == setup_cell.LAUNCH_ID]
        if kind == "solution":
            assert not launch
        else:
            (cell,) = launch
            assert (
                f"colab.research.google.com/github/your-org/masking-course/blob/main/{folder}/{path.name}"
                in cell.source
            )
            assert (
                f"mybinder.org/v2/gh/your-org/masking-course/main?labpath={folder}/{path.name}"
                in cell.source
            )


def test_the_repository_is_one_setting_in_pyproject(root, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(root / "notebooks", copy / "notebooks")
    shutil.copytree(root / "solutions", copy / "solutions")
    text = (root / "pyproject.toml").read_text()
    (copy / "pyproject.toml").write_text(
        text.replace("github.com/your-org/masking-course", "github.com/someone/fork")
    )
    assert setup_cell.repository(copy) == "https://github.com/someone/fork"
    assert len(setup_cell.stale(copy)) == len(list(copy.glob("*/*.ipynb")))
    changed = setup_cell.refresh(copy)
    assert len(changed) == len(list(copy.glob("*/*.ipynb")))
    assert not setup_cell.stale(copy)
    nb = nbformat.read(copy / "notebooks" / "01_padding.ipynb", as_version=4)
    assert "git+https://github.com/someone/fork@main" in nb.cells[2].source
    # Refreshing keeps every other cell and its outputs.
    before = nbformat.read(root / "notebooks" / "01_padding.ipynb", as_version=4)
    rest = [c for c in nb.cells if c.get("id") not in ("course-launch", "course-setup")]
    kept = [c for c in before.cells if c.get("id") not in ("course-launch", "course-setup")]
    assert [(c.source, c.get("outputs")) for c in rest] == [
        (c.source, c.get("outputs")) for c in kept
    ]


def test_a_notebook_without_generated_cells_gets_them_after_its_title(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    setup_cell.apply(
        nb, setup_cell.generated_cells("notebooks", "09_x.ipynb", "https://github.com/a/b")
    )
    assert [c.get("id") for c in nb.cells][1:3] == ["course-launch", "course-setup"]
    assert nb.cells[0].source == "# Title" and nb.cells[3].source == "x = 1"


# --------------------------------------------------------------------------- the cell's branches

_BLOCK_COURSE = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "course_utils" or name.startswith("course_utils."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _Block())
class _Shell:
    calls = []
    def run_line_magic(self, name, line):
        self.calls.append((name, line))
        sys.meta_path.pop(0)  # "installed"
shell = _Shell()
get_ipython = lambda: shell
"""


def _run_cell_without_the_course(tmp_path, env_extra: dict) -> dict:
    """Run the set-up cell's code in a Python that cannot import course_utils (as in a kernel
    of another environment), from a folder outside the course; report what happened."""
    source = setup_cell.setup_source("exercise", "https://github.com/your-org/masking-course")
    program = (
        _BLOCK_COURSE
        + "import json\nresult = {}\ntry:\n"
        + "".join(f"    {line}\n" for line in source.splitlines())
        + "except Exception as exc:\n"
        + "    result['error'] = type(exc).__name__\n"
        + "    result['shown'] = exc._render_traceback_() if hasattr(exc, '_render_traceback_') else None\n"
        + "result['pip'] = shell.calls\nprint(json.dumps(result))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "COURSE_URL"}
    env.update(env_extra)
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_the_course_the_cell_says_what_to_do_in_one_sentence(tmp_path):
    result = _run_cell_without_the_course(tmp_path, {})
    assert result["error"] == "CourseSetup" and result["pip"] == []
    (sentence,) = result["shown"]  # IPython shows this instead of a traceback
    assert sentence.startswith("This kernel (Python 3.")
    assert "choose the kernel “Python 3 (masking course)” under Kernel › Change Kernel…" in sentence
    assert '`%pip install "git+https://github.com/your-org/masking-course@main"`' in sentence
    assert sentence.count(". ") == 0 and "\n" not in sentence


def test_with_course_url_set_the_cell_installs_the_course_from_it(tmp_path):
    result = _run_cell_without_the_course(tmp_path, {"COURSE_URL": "/some/local/clone"})
    assert result["pip"] == [["pip", 'install "/some/local/clone"']]
    assert "error" not in result


# --------------------------------------------------------------------------- in a real kernel


def _kernel_run(tmp_path, cells: list[str], kernel_name: str = "masking-course"):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": kernel_name, "display_name": "x", "language": "python"}}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    run = run_notebook(path, allow_errors=True, kernel_name=kernel_name)
    return [cell.outputs for cell in run.notebook.cells]


def test_in_the_course_kernel_the_cell_prints_nothing_and_early_checks_point_at_definitions(
    root, tmp_path, progress_file
):
    setup = setup_cell.setup_source("exercise", setup_cell.repository(root))
    outputs = _kernel_run(
        tmp_path,
        [
            f"import os\nos.chdir({str(root / 'exercises')!r})\n" + setup,
            "from course_utils import exercises\nq = exercises('00')",
            "q.count_real_tokens.check()",
            "q.count_real_tokens.check(count_real_tokens)",
            "print(undefined_name_of_mine)",
            "def count_real_tokens(batch, pad_id=0):\n    return (batch != pad_id).sum(axis=1)",
            "q.count_real_tokens.check()",
        ],
    )
    assert outputs[0] == [] and outputs[1] == []
    early = outputs[2][0]["data"]["text/plain"]
    assert "⏳ Not attempted" in early
    assert (
        "`count_real_tokens` is not defined yet; define `count_real_tokens` above and run its cell"
        in early
    )
    (error,) = outputs[3]
    assert error["ename"] == "NameError"
    assert error["traceback"] == [
        "`count_real_tokens` is not defined yet: run the cell above that defines "
        "`count_real_tokens`, then run this check again."
    ]
    other = outputs[4][0]
    assert other["ename"] == "NameError" and len(other["traceback"]) > 1  # the usual traceback
    assert "✅ Passed" in outputs[6][0]["data"]["text/plain"]


def test_a_kernel_other_than_the_courses_is_named_in_one_sentence(root, tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "plain-python"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("COURSE_KERNEL", raising=False)
    setup = setup_cell.setup_source("lecture", setup_cell.repository(root))
    outputs = _kernel_run(
        tmp_path,
        [f"import os\nos.chdir({str(root / 'notebooks')!r})\n" + setup],
        kernel_name="plain-python",
    )
    (notice,) = outputs[0]
    assert notice["name"] == "stdout"
    text = notice["text"].strip()
    assert text.startswith(
        "Note: this notebook runs on another kernel than “Python 3 (masking course)”"
    )
    assert "\n" not in text


def test_the_set_up_cell_starts_collapsed_and_stays_so_after_make_execute(root):
    from course_utils.execute import clean_for_git

    nb = nbformat.read(root / "notebooks" / "00_start_here.ipynb", as_version=4)
    cleaned = clean_for_git(nb)
    (setup,) = [c for c in cleaned.cells if c.get("id") == setup_cell.SETUP_ID]
    assert setup.metadata == setup_cell.SETUP_METADATA
    assert setup.source.startswith("# @title Course set-up: run this cell first")
    assert not setup_cell.stale(root)
