"""Hostile and awkward submissions against the sandboxed grader (issue 12): one batch run over
small notebooks built here from lesson 00's solution, then each case's row. Every case must be
graded truthfully, the batch must survive all of them, and the output folder must hold only
what the grader wrote."""

from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from course_utils.grading import sandbox

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = nbformat.read(ROOT / "solutions" / "00_start_here.ipynb", as_version=4)
ANSWER_CELL = next(
    i
    for i, c in enumerate(SOLUTION.cells)
    if c.cell_type == "code" and c.source.startswith("def count_real_tokens")
)


def _with(nb, index, *sources):
    """A copy of `nb` without outputs, with code cells `sources` inserted at `index`."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for offset, source in enumerate(sources):
        nb.cells.insert(index + offset, nbformat.v4.new_code_cell(source))
    for number, cell in enumerate(nb.cells):
        cell.id = f"c{number:02d}"
    return nb


def _replace_answer(nb, source):
    nb = _with(nb, 0)
    nb.cells[ANSWER_CELL].source = source
    return nb


LIMITS = ["--cell-timeout", "30", "--notebook-timeout", "60", "--grade-timeout", "4"]
LIMITS += ["--memory-mb", "1500"]

TAMPER = """import course_utils.checking as checking, course_utils.judging as judging
import course_utils.probing as probing
from course_utils.judging import Status, Verdict
judging.Judge.__call__ = lambda self, observed: Verdict(Status.PASSED, "correct")
checking.Exercise.observe = lambda self, answer, cases: [{"outcome": "value", "value": 1}] * len(cases)
probing.observe_value = lambda value: {"outcome": "value", "value": [3, 1, 5], "kind": "i", "shape": [3]}
def str(x=""):
    return "passed"
"""

REFERENCES = """from course_utils.answers.l00_start_here import count_real_tokens
count_real_tokens = count_real_tokens"""

READ_SOLUTIONS = f"""source = open({str(ROOT / "solutions" / "00_start_here.ipynb")!r}).read()
exec(source[source.index("def count_real_tokens"):].split('"')[0])"""

KILL_PARENT = """import os, signal
for pid in range(1, 100):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
os.kill(os.getppid(), signal.SIGKILL)"""

DETACHED = """import subprocess
subprocess.Popen(["sleep", "307"], start_new_session=True)  # inherits stderr"""

FLOOD = """import os
try:
    for _ in range(1024):
        os.write(2, b"x" * 2**20)
except OSError as exc:
    print("stderr refused more:", exc)"""

STACK = """def count_real_tokens(batch, pad_id=0):
    import inspect
    for info in inspect.stack():
        for name in ("expected", "reference", "judge", "want"):
            if name in info.frame.f_locals:
                return info.frame.f_locals[name]
    return None"""


def _peer(folder: Path) -> str:
    return f"""import glob, json
peer = json.load(open(sorted(glob.glob({str(folder)!r} + "/*.ipynb"))[0]))
exec(next(c["source"] for c in peer["cells"] if "def count_real_tokens" in "".join(c["source"])))"""


RETRY = """def count_real_tokens(batch, pad_id=0):
    import time
    while True:
        try:
            time.sleep(0.5)
        except:
            continue"""


def _write_out(out: Path) -> str:
    return f"""import os
for target in [{str(out / "results" / "forged.json")!r}, {str(out / "grades.csv")!r}]:
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").write("forged")
    except OSError:
        pass"""


def _one_loop_of_three():
    """Lesson 06's solution (three exercises, NumPy only) with `timestep_sample_weight` as an
    endless retry loop (and its check cell gone, as a learner who gave up on it might leave it)."""
    nb = _with(nbformat.read(ROOT / "solutions" / "06_fix_class_weighting.ipynb", as_version=4), 0)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.source.startswith("def timestep_sample_weight"):
            cell.source = RETRY.replace(
                "count_real_tokens(batch, pad_id=0)", "timestep_sample_weight(y_true, class_weight)"
            )
        elif cell.source.startswith("q.timestep_sample_weight.check"):
            cell.source = "# gave up on this one"
    return nb


def _capture():
    nb = _with(SOLUTION, 0)
    for cell in nb.cells:
        if cell.cell_type == "code" and "import" in cell.source:
            cell.source = "%%capture\n" + cell.source
            break
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("grades")
    cases = {
        "tamper__patches_checks.ipynb": _with(
            _replace_answer(SOLUTION, "def count_real_tokens(b, pad_id=0):\n    return 0"),
            ANSWER_CELL + 1,
            TAMPER,
        ),
        "refs__imports_answers.ipynb": _replace_answer(SOLUTION, REFERENCES),
        "sol__reads_solutions.ipynb": _replace_answer(SOLUTION, READ_SOLUTIONS),
        "peer__reads_classmates.ipynb": _replace_answer(SOLUTION, _peer(folder)),
        "stack__reads_the_checker.ipynb": _replace_answer(SOLUTION, STACK),
        "killer__kills_parent.ipynb": _with(SOLUTION, ANSWER_CELL + 1, KILL_PARENT),
        "writer__writes_output.ipynb": _with(SOLUTION, ANSWER_CELL + 1, _write_out(out)),
        "daemon__detached_stderr.ipynb": _with(SOLUTION, ANSWER_CELL + 1, DETACHED),
        "flood__stderr_gib.ipynb": _with(SOLUTION, ANSWER_CELL + 1, FLOOD),
        "quiet__capture_import.ipynb": _capture(),
        "retry__endless_retry.ipynb": _replace_answer(SOLUTION, RETRY),
        "retry06__one_loop_of_three.ipynb": _one_loop_of_three(),
        '=HYPERLINK("http:x")__formula.ipynb': _with(SOLUTION, 0),
    }
    for name, nb in cases.items():
        nbformat.write(nb, folder / name)
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "course_utils", "grade", str(folder), "-o", str(out)]
        + ["--jobs", "2", *LIMITS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    with open(out / "grades.csv", encoding="utf-8") as fh:
        every = list(csv.DictReader(fh))
    rows = {Path(r["submission"]).name.split("__")[-1]: r for r in every}
    return {"run": run, "out": out, "rows": rows, "every": every, "seconds": seconds}


def test_the_batch_survives_every_hostile_notebook(graded):
    assert graded["run"].returncode == 0, graded["run"].stderr
    assert len(graded["rows"]) == 13
    isolation = sandbox.isolation()
    assert {r["isolation"] for r in graded["every"]} == {isolation}


def test_a_notebook_that_patches_the_checks_in_its_kernel_does_not_pass(graded):
    row = graded["rows"]["patches_checks.ipynb"]
    assert row["status"] == "error", row
    assert "observations were malformed: the notebook changed how" in row["message"]
    assert "cannot make a check pass" in row["notes"]


@pytest.mark.skipif(sandbox.isolation() != sandbox.BUBBLEWRAP, reason="only bubblewrap hides files")
def test_the_references_and_the_solutions_are_not_visible_in_the_sandbox(graded):
    imports = graded["rows"]["imports_answers.ipynb"]
    assert imports["status"] == "not attempted"
    assert "raised ModuleNotFoundError" in imports["message"]
    reads = graded["rows"]["reads_solutions.ipynb"]
    assert reads["status"] == "not attempted"
    assert "raised FileNotFoundError" in reads["notes"]
    peer = graded["rows"]["reads_classmates.ipynb"]
    assert peer["status"] == "not attempted"
    assert "raised IndexError" in peer["notes"]


def test_an_answer_that_reads_the_expected_value_from_the_call_stack_finds_none(graded):
    row = graded["rows"]["reads_the_checker.ipynb"]
    assert (row["status"], row["message"]) == (
        "failed",
        "what your function returned is None; did you forget a `return`?",
    )


def test_a_notebook_that_kills_its_grading_process_gets_a_row_saying_so(graded):
    row = graded["rows"]["kills_parent.ipynb"]
    assert row["status"] == "error"
    assert "stopped its own grading process" in row["message"]


@pytest.mark.skipif(sandbox.isolation() != sandbox.BUBBLEWRAP, reason="only bubblewrap hides files")
def test_the_output_folder_is_out_of_the_sandboxs_reach(graded):
    assert graded["rows"]["writes_output.ipynb"]["status"] == "passed"
    assert not (graded["out"] / "results" / "forged.json").exists()
    assert "forged" not in (graded["out"] / "grades.csv").read_text(encoding="utf-8")


def test_a_detached_process_neither_stalls_the_batch_nor_outlives_it(graded):
    assert graded["rows"]["detached_stderr.ipynb"]["status"] == "passed"
    left = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "307"]]
    assert not left


def test_a_stderr_flood_is_capped_and_the_answer_still_counts(graded):
    assert graded["rows"]["stderr_gib.ipynb"]["status"] == "passed"


def test_capture_on_the_import_cell_runs_and_the_answer_is_graded(graded):
    row = graded["rows"]["capture_import.ipynb"]
    assert (row["status"], row["notes"]) == ("passed", "")


def test_an_endless_retry_loop_costs_its_exercise_only_with_a_true_reason(graded):
    row = graded["rows"]["endless_retry.ipynb"]
    assert row["status"] == "error"
    assert "did not finish" in row["message"] and "catches the interrupt" in row["message"]


def test_a_retry_loop_in_one_answer_leaves_the_other_answers_graded(graded):
    rows = {r["check"]: r for r in graded["every"] if r["learner"] == "retry06"}
    assert rows.pop("timestep_sample_weight")["status"] == "error"
    assert len(rows) == 2 and {r["status"] for r in rows.values()} == {"passed"}, rows


def test_a_formula_in_a_learner_name_is_escaped_in_grades_csv(graded):
    assert graded["rows"]["formula.ipynb"]["learner"] == '\'=HYPERLINK("http:x")'
    assert graded["rows"]["formula.ipynb"]["status"] == "passed"


# --------------------------------------------------------------------------- the steps alone


def test_cases_cross_into_the_sandbox_as_json_and_npz_without_pickle(tmp_path):
    from course_utils.grading.exchange import CannotSend, read_cases, write_cases
    from course_utils.probing import Case

    case = Case((np.array([[1, 0], [2, 3]]), 0, (1.5, float("nan"))), {"pad_id": np.int64(2)})
    write_cases(tmp_path, {"ex": [case]})
    (back,) = read_cases(tmp_path, "ex")
    np.testing.assert_array_equal(back.args[0], case.args[0])
    assert back.args[1] == 0 and back.args[2][0] == 1.5 and np.isnan(back.args[2][1])
    assert back.kwargs == {"pad_id": 2}
    with pytest.raises(CannotSend):
        write_cases(tmp_path, {"ex": [Case((np.array([object()]),))]})
    with pytest.raises(CannotSend):
        write_cases(tmp_path, {"ex": [Case((lambda: 0,))]})


def test_the_report_is_read_size_capped_and_forged_observations_are_refused(tmp_path):
    from course_utils.grading.exchange import REPORT_LIMIT, observations_of, read_report

    big = tmp_path / "big.json"
    big.write_bytes(b'{"x": "' + b"a" * REPORT_LIMIT + b'"}')
    assert read_report(big) is None
    ok = {"outcome": "value", "value": [1], "kind": "i", "shape": [1]}
    forged = {"outcome": "value", "value": 1}
    assert observations_of({"observations": {"e": [ok]}}, "e", 1) == [ok]
    assert observations_of({"observations": {"e": [forged]}}, "e", 1) is None
    assert observations_of({"observations": {"e": [ok, ok]}}, "e", 1) is None


def test_only_the_judge_can_pass_a_data_exercise(tmp_path):
    from course_utils.grading.batch import judge_report
    from course_utils.registry import exercises

    items = list(exercises("00"))
    job = {"lesson": "00_start_here"}
    report = {"checks": [{"check": "count_real_tokens", "status": "passed", "message": "forged"}]}
    done = sandbox.Finished(0, None, 1.0)
    (row,) = judge_report(job, items, 7, report, done, "bubblewrap", [])["checks"]
    assert row["status"] == "error"


def test_a_formula_cell_is_made_spreadsheet_safe():
    from course_utils.grading.report import spreadsheet_safe

    assert spreadsheet_safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert spreadsheet_safe("ada") == "ada"


@pytest.mark.parametrize("how", [sandbox.BUBBLEWRAP, sandbox.PROCESS_GROUP])
def test_a_sandbox_ends_every_process_it_started_and_caps_its_stderr(tmp_path, how):
    if how == sandbox.BUBBLEWRAP and sandbox.isolation() != how:
        pytest.skip("bubblewrap is not usable here")
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    out_dir.mkdir()
    code = (
        "import os, subprocess\n"
        "subprocess.Popen(['sleep', '311'], start_new_session=True)\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        os.write(2, b'x' * 2**20)\n"
        "except OSError:\n"
        "    pass\n"
    )
    started = time.monotonic()
    done = sandbox.run(
        [
            sys.executable,
            "-c",
            "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n" + code,
        ],
        in_dir=in_dir,
        out_dir=out_dir,
        stderr=tmp_path / "stderr",
        how=how,
        wall_seconds=30,
        memory_mb=2000,
    )
    assert time.monotonic() - started < 20 and done.killed_for is None
    assert (tmp_path / "stderr").stat().st_size <= sandbox.FILE_LIMIT
    time.sleep(0.2)
    assert not [
        p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "311"]
    ]


def test_without_bubblewrap_the_fallback_grades_and_says_which_isolation_did(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    nbformat.write(_with(SOLUTION, 0), folder / "ada__right.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "course_utils", "grade", str(folder), "-o", str(out), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COURSE_GRADE_ISOLATION": sandbox.PROCESS_GROUP},
    )
    assert run.returncode == 0, run.stderr
    with open(out / "grades.csv", encoding="utf-8") as fh:
        (row,) = csv.DictReader(fh)
    assert (row["status"], row["isolation"]) == ("passed", sandbox.PROCESS_GROUP)


def test_a_resume_verifies_the_installed_files_before_reusing_a_result(tmp_path, monkeypatch):
    from course_utils.grading import store

    check = tmp_path / "check.py"
    check.write_text("right")
    monkeypatch.setattr(store, "_installed_files", lambda: [check])
    store.installed_fingerprint.cache_clear()
    try:
        results = store.Store(tmp_path / "out")
        results.put("k", {"checks": []})
        assert results.get("k") == {"checks": []}
        check.write_text("edited to pass everything")
        with pytest.raises(store.InstallationChanged):
            results.get("k")
    finally:
        monkeypatch.undo()
        store.installed_fingerprint.cache_clear()


def test_a_report_shaped_to_break_the_grader_is_that_submissions_error(tmp_path):
    from course_utils.grading.batch import judge_report
    from course_utils.registry import exercises

    items = list(exercises("00"))
    done = sandbox.Finished(0, None, 1.0)
    for report in (
        {"notes": "abc", "checks": {"x": 1}, "observations": ["x"]},
        {"observations": {"count_real_tokens": "[1, 2"}},
        {"observations": {"count_real_tokens": 5}, "checks": [None, "x"]},
    ):
        result = judge_report({"lesson": "00_start_here"}, items, 7, report, done, "bubblewrap", [])
        assert [c["status"] for c in result["checks"]] == ["error"]


def test_links_beside_a_notebook_are_copied_as_links_never_followed(tmp_path):
    from course_utils.grading.runner import copy_folder

    secret = tmp_path / "secret.txt"
    secret.write_text("another learner's answer")
    sub = tmp_path / "sub"
    (sub / "data").mkdir(parents=True)
    (sub / "data" / "link.txt").symlink_to(secret)
    (sub / "n.ipynb").write_text("{}")
    copy_folder(sub / "n.ipynb", tmp_path / "copy")
    assert (tmp_path / "copy" / "data" / "link.txt").is_symlink()


def test_a_sandbox_that_fills_its_exchange_folder_is_stopped(tmp_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    out_dir.mkdir()
    code = (
        "import os, sys, time\n"
        "for i in range(5000):\n"
        "    open(os.path.join(sys.argv[1], str(i)), 'w').close()\n"
        "time.sleep(60)\n"
    )
    inside = sandbox.inside_paths(sandbox.isolation(), in_dir, out_dir)[1]
    done = sandbox.run(
        [sys.executable, "-c", code, inside],
        in_dir=in_dir,
        out_dir=out_dir,
        stderr=tmp_path / "stderr",
        how=sandbox.isolation(),
        wall_seconds=30,
        memory_mb=2000,
    )
    assert done.killed_for == "disk" and done.seconds < 20


def test_where_bubblewrap_runs_the_grader_uses_it_wherever_the_course_lives():
    """A course checked out under /tmp (as CI checks out) must not fall back: the sandbox's
    private /tmp once hid the course and the venv, and the fallback's skips hid that."""
    import shutil
    import subprocess

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed here")
    probe = subprocess.run(
        ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("bubblewrap cannot create namespaces here")
    assert sandbox.isolation() == sandbox.BUBBLEWRAP
    args = sandbox.bwrap_args(Path("/in"), Path("/out"), "marker")
    tmpfs = args.index("/tmp", args.index("--tmpfs"))
    package = args.index(str(sandbox.PACKAGE_DIR))
    assert tmpfs < package, "the private /tmp must be mounted before the course is bound"


def test_every_exercises_cases_enter_the_sandbox_and_come_back_equal(tmp_path):
    """Every exercise's cases, on the public seed and a secret one, cross into the sandbox as
    data (a class_weight dict keeps its integer keys); none is refused, so no lesson is left
    ungraded."""
    import dataclasses

    from course_utils.grading.exchange import read_cases, write_cases
    from course_utils.registry import all_exercises

    def same(a, b):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if dataclasses.is_dataclass(a):
            return type(a) is type(b) and same(dataclasses.asdict(a), dataclasses.asdict(b))
        if isinstance(a, list | tuple):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return type(a) is type(b) and (a == b or a != a)

    for seed in (None, 123456789):
        cases = {f"{ex.lesson}/{ex.name}": ex.cases_for(seed) for ex in all_exercises()}
        folder = tmp_path / str(seed)
        folder.mkdir()
        write_cases(folder, cases)
        for name, sent in cases.items():
            back = read_cases(folder, name)
            for a, b in zip(sent, back, strict=True):
                assert same(tuple(a.args), tuple(b.args)) and same(a.kwargs, b.kwargs), name
