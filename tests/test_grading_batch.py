"""Batch behaviour: shards merge into the same grades as one run, an interrupted run resumes
without regrading, exit statuses, and the Slurm example script."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from test_grading_end_to_end import FIXTURES, ROOT, grade, read_rows

QUICK = ["--cell-timeout", "20", "--notebook-timeout", "60"]
# Cases that need a kernel (3) and cases graded without one (2).
SUBSET = [
    "tests/fixtures/submissions/ada",
    "tests/fixtures/submissions/ben__wrong.ipynb",
    "tests/fixtures/submissions/cleo__untouched.ipynb",
    "tests/fixtures/submissions/eve__not_json.ipynb",
    "tests/fixtures/submissions/gus__unknown_lesson.ipynb",
]
NO_KERNEL = [
    "eve__not_json.ipynb",
    "fay__not_a_notebook.ipynb",
    "gus__unknown_lesson.ipynb",
    "pat__empty.ipynb",
]


def merge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "course_utils", "merge", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_two_shards_merged_give_the_same_grades_as_one_run(tmp_path):
    single = grade(*SUBSET, "-o", str(tmp_path / "single"), "--jobs", "2", *QUICK)
    assert single.returncode == 0, single.stderr
    shards = []
    for index in range(2):
        folder = tmp_path / f"shard-{index}"
        run = grade(*SUBSET, "-o", str(folder), "--shard", f"{index}/2", "--jobs", "2", *QUICK)
        assert run.returncode == 0, run.stderr
        shards.append(folder)
    sizes = [len(json.loads((f / "submissions.json").read_text())) for f in shards]
    assert sum(sizes) == 5 and all(sizes), sizes  # a real split, nothing graded twice
    merged = merge(str(tmp_path / "all"), *map(str, shards))
    assert merged.returncode == 0, merged.stderr
    assert (tmp_path / "all" / "grades.csv").read_text() == (
        tmp_path / "single" / "grades.csv"
    ).read_text()
    assert (tmp_path / "all" / "summary.md").read_text() == (
        tmp_path / "single" / "summary.md"
    ).read_text()


def test_an_interrupted_run_resumes_without_regrading(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ["ben__wrong.ipynb", "hal__cell_raises.ipynb"]:
        shutil.copy(FIXTURES / name, subs / name)
    # cleo's notebook sleeps 6 s first: the interrupt lands while it is being graded, however
    # fast the others go and however late this process polls.
    cleo = nbformat.read(FIXTURES / "cleo__untouched.ipynb", as_version=4)
    cleo.cells.insert(1, nbformat.v4.new_code_cell("import time\n\ntime.sleep(6)"))
    for number, cell in enumerate(cleo.cells):
        cell.id = f"c{number:02d}"
    nbformat.write(cleo, subs / "cleo__untouched.ipynb")
    out = tmp_path / "out"
    # Started as from a terminal, with SIGINT at its default: in a background job the shell
    # starts every process with SIGINT ignored, and Python keeps ignoring it (this test failed
    # when `make test` itself ran in a background job).
    as_from_a_terminal = (
        "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "runpy.run_module('course_utils', run_name='__main__', alter_sys=True)"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            as_from_a_terminal,
            "grade",
            str(subs),
            "-o",
            str(out),
            "--jobs",
            "1",
            *QUICK,
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((out / "results").glob("*.json")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "run the same command again" in err
    saved = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert 1 <= len(saved) < 3
    again = grade(str(subs), "-o", str(out), "--jobs", "1", *QUICK)
    assert again.returncode == 0, again.stderr
    assert f"{len(saved)} submission(s) already graded" in again.stderr
    assert f"graded {3 - len(saved)}, already graded {len(saved)}" in again.stderr
    for name, mtime in saved.items():  # nothing graded twice
        assert (out / "results" / name).stat().st_mtime_ns == mtime
    rows = read_rows(out)
    assert sorted(r["learner"] for r in rows) == ["ben", "cleo", "hal"]
    assert [r["status"] for r in sorted(rows, key=lambda r: r["learner"])] == [
        "failed",
        "not attempted",
        "passed",
    ]


def test_no_submissions_is_an_error_with_a_reason(tmp_path):
    (tmp_path / "empty").mkdir()
    run = grade(str(tmp_path / "empty"), "-o", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "no notebooks (*.ipynb) found" in run.stderr


def test_an_output_folder_that_cannot_be_written_is_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = grade(str(FIXTURES / "eve__not_json.ipynb"), "-o", str(blocker / "out"))
    assert run.returncode == 2
    assert "cannot write to the output folder" in run.stderr


def test_a_bad_shard_spec_is_an_error(tmp_path):
    run = grade(str(FIXTURES / "eve__not_json.ipynb"), "-o", str(tmp_path), "--shard", "2/2")
    assert run.returncode == 2
    assert "between 0 and N-1" in run.stderr


def test_a_kernel_that_cannot_start_is_not_saved_and_fails_the_run(tmp_path):
    run = grade(
        str(FIXTURES / "ben__wrong.ipynb"), "-o", str(tmp_path), "--kernel", "no-such-kernel"
    )
    assert run.returncode == 1
    assert "could not be graded" in run.stderr and "ben__wrong.ipynb" in run.stderr
    assert not list((tmp_path / "results").glob("*.json"))  # retried by the next run
    rows = read_rows(tmp_path)
    assert rows[0]["status"] == "error" and "did not finish" in rows[0]["message"]


def test_the_console_script_is_the_grade_command(tmp_path):
    script = Path(sys.executable).parent / "course-grade"
    if not script.exists():
        import pytest

        pytest.skip("console script not installed (run make setup)")
    run = subprocess.run(
        [str(script), str(FIXTURES / "pat__empty.ipynb"), "-o", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert read_rows(tmp_path)[0]["message"].startswith("the notebook is empty")


def test_the_slurm_script_runs_its_shards_and_merges_without_slurm(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in NO_KERNEL:
        shutil.copy(FIXTURES / name, subs / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update(SHARDS="2", PYTHON=sys.executable)
    run = subprocess.run(
        ["bash", str(ROOT / "instructor" / "slurm_grade.sh"), str(subs), str(tmp_path / "grades")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = read_rows(tmp_path / "grades" / "all")
    assert sorted(r["learner"] for r in rows) == ["eve", "fay", "gus", "pat"]
    assert all(r["status"] == "error" for r in rows)
