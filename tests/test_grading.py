"""The grader's parts without a kernel: reading submissions, finding the lesson and the learner,
shards, the result store, the reports, and the grader cell's tamper checks."""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from course_utils.grading import report
from course_utils.grading.collect import NoSubmissions, collect, learner_from_name
from course_utils.grading.identify import (
    BadSubmission,
    code_cells,
    identify_lesson,
    read_notebook,
    resolve_lesson,
    suspicious,
)
from course_utils.grading.runner import MIME, observe_cell, strip_shell
from course_utils.grading.shard import ShardError, parse_shard, select
from course_utils.grading.store import Store, content_key
from course_utils.registry import lesson_ids


def _nb(*sources: str, markdown: str | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    if markdown:
        nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty (no bytes at all)"),
        (b"\xff\xfe\x00garbage", "not text"),
        (b"print('hello')\n", "not JSON (line 1"),
        (b"[1, 2, 3]", "JSON but not a Jupyter notebook"),
        (b'{"cells": "many", "nbformat": 4}', "nbformat cannot read it"),
    ],
)
def test_files_that_are_not_notebooks_are_named_for_what_they_are(data, says):
    with pytest.raises(BadSubmission) as raised:
        read_notebook(data)
    assert says in str(raised.value)


def test_a_notebook_without_code_is_empty():
    with pytest.raises(BadSubmission, match="empty"):
        read_notebook(_bytes(_nb("   ", markdown="# just text")))


def test_code_cells_are_numbered_by_their_place_among_all_cells():
    cells = code_cells(_nb("a = 1", "", "b = 2", markdown="# title"))
    assert [(c.number, c.source) for c in cells] == [(2, "a = 1"), (4, "b = 2")]
    assert cells[0].label == "cell 2 (`a = 1`)"


# --------------------------------------------------------------------------- the lesson


def test_the_lesson_comes_from_the_exercises_call():
    assert identify_lesson(_nb('q = exercises("00")')) == "00_start_here"
    assert identify_lesson(_nb("q = exercises('00_start_here')")) == "00_start_here"
    assert identify_lesson(_nb("q = exercises(0)")) == "00_start_here"


def test_the_lesson_comes_from_shared_cells_when_there_is_no_call(root):
    nb = nbformat.read(root / "exercises" / "00_start_here.ipynb", as_version=4)
    nb.cells[1].source = "import numpy as np"  # the exercises("00") line is gone
    assert identify_lesson(nb) == "00_start_here"


def test_an_unknown_lesson_is_reported_with_the_known_ones():
    with pytest.raises(
        BadSubmission, match=r'exercises\("42"\)`, but the course has no such lesson'
    ):
        identify_lesson(_nb('q = exercises("42")'))
    with pytest.raises(BadSubmission, match="never calls"):
        identify_lesson(_nb("print('hello')"))


def test_lesson_names_resolve_like_the_registry():
    assert resolve_lesson("00") == resolve_lesson("0") == "00_start_here"
    assert resolve_lesson("99") is None


# --------------------------------------------------------------------------- learners


@pytest.mark.parametrize(
    ("path", "learner"),
    [
        ("in/alice__00_start_here.ipynb", "alice"),
        ("in/alice_00_start_here.ipynb", "alice"),
        ("in/Alice Smith-00_start_here.ipynb", "Alice Smith"),
        ("in/bob.ipynb", "bob"),
        ("carol/00_start_here.ipynb", "carol"),
    ],
)
def test_the_learner_comes_from_the_file_name(tmp_path, path, learner):
    from pathlib import Path

    assert learner_from_name(tmp_path / Path(path)) == learner


def test_collect_walks_folders_skips_the_output_folder_and_counts_each_file_once(tmp_path):
    subs = tmp_path / "subs"
    (subs / "dave").mkdir(parents=True)
    (subs / ".ipynb_checkpoints").mkdir()
    (subs / "grades").mkdir()
    for path in [
        subs / "dave" / "x.ipynb",
        subs / "erin__y.ipynb",
        subs / ".ipynb_checkpoints" / "z.ipynb",
        subs / "grades" / "old.ipynb",
    ]:
        path.write_bytes(_bytes(_nb("1")))
    (subs / "notes.txt").write_text("not a notebook")
    entries = collect([str(subs), str(subs / "erin__y.ipynb")], skip=[subs / "grades"])
    assert [(e.learner, e.submission) for e in entries] == [
        ("dave", f"{subs}/dave/x.ipynb"),
        ("erin", f"{subs}/erin__y.ipynb"),
    ]
    with pytest.raises(NoSubmissions, match="not found"):
        collect([str(tmp_path / "nowhere")])


# --------------------------------------------------------------------------- shards and store


def test_shards_partition_the_submissions(tmp_path):
    for i in range(20):
        nb = _nb(f"x = {i}")
        # A fixed cell id: nbformat draws a random one, and with random bytes (the shard is the
        # bytes' hash) one shard in about a thousand runs got none of the 20.
        nb.cells[0].id = "cell"
        (tmp_path / f"s{i}.ipynb").write_bytes(_bytes(nb))
    entries = collect([str(tmp_path)])
    parts = [select(entries, i, 3) for i in range(3)]
    assert sorted(e.submission for part in parts for e in part) == [e.submission for e in entries]
    assert all(parts)
    assert parse_shard("2/3") == (2, 3)
    for bad in ["3/3", "-1/3", "1", "a/b", "0/0"]:
        with pytest.raises(ShardError):
            parse_shard(bad)


def test_the_store_forgets_results_from_other_checks(tmp_path):
    store = Store(tmp_path)
    key = content_key(b"notebook")
    store.put(key, {"checks": []})
    assert store.get(key) == {"checks": []}
    record = json.loads(store.path(key).read_text())
    record["fingerprint"] = "older-checks"
    store.path(key).write_text(json.dumps(record))
    assert store.get(key) is None
    assert store.get(key, any_fingerprint=True) == {"checks": []}


# --------------------------------------------------------------------------- running


def test_shell_escapes_become_pass_and_keep_their_indentation():
    source, removed = strip_shell("x = 1\n!pip install foo\nif x:\n    %pip install bar\n")
    assert removed
    assert (
        source == "x = 1\npass  # removed by the grader\nif x:\n    pass  # removed by the grader"
    )
    assert strip_shell("%%bash\nrm -rf /")[0].startswith("pass")
    assert strip_shell("y = 2") == ("y = 2", False)


def test_tampering_is_pointed_out_to_the_instructor():
    cells = code_cells(
        _nb(
            "import course_utils.checking as c\nc.Exercise.check = lambda self, a: None",
            "print('✅ Passed [00_start_here / x]')",
            "def count_real_tokens(batch, pad_id=0):\n    return 1",
        )
    )
    notes = suspicious(cells)
    assert len(notes) == 2
    assert notes[0].startswith("cell 1 replaces part of the check machinery")
    assert notes[1].startswith("cell 2 prints text that imitates a check result")


def test_the_observe_cell_carries_its_nonce_and_reads_the_cases_it_was_sent():
    code = observe_cell("abc123", "00_start_here", "count_real_tokens", "/grading/in", 5.0)
    compile(code, "<observe>", "exec")
    assert "'abc123'" in code and MIME in code
    assert "read_cases('/grading/in'" not in code and "exchange.read_cases(in_dir, name)" in code


# --------------------------------------------------------------------------- reports


MANIFEST = [
    {"submission": "s/b.ipynb", "learner": "bo", "key": "k2"},
    {"submission": "s/a.ipynb", "learner": "al", "key": "k1"},
    {"submission": "s/c.ipynb", "learner": "cy", "key": "k3"},
]
RESULTS = {
    "k1": {
        "lesson": "00_start_here",
        "checks": [
            {
                "check": "count_real_tokens",
                "status": "failed",
                "message": "you counted <b>padding</b>",
            }
        ],
        "notes": ["cell 2 raised ValueError"],
        "error": None,
    },
    "k2": {
        "lesson": "00_start_here",
        "checks": [],
        "notes": [],
        "error": "the kernel died 3 times",
    },
    "k3": None,
}


def test_rows_are_sorted_and_errors_cover_every_check_of_the_lesson():
    rows = report.build_rows(MANIFEST, RESULTS)
    assert [(r["learner"], r["check"], r["status"]) for r in rows] == [
        ("al", "count_real_tokens", "failed"),
        ("bo", "count_real_tokens", "error"),
        ("cy", "", "error"),
    ]
    assert rows[0]["notes"] == "cell 2 raised ValueError"
    assert "did not finish" in rows[2]["message"]


def test_the_summary_ranks_misconceptions_and_lists_submissions_to_look_at():
    rows = report.build_rows(MANIFEST, RESULTS)
    text = report.summary_markdown(MANIFEST, rows)
    assert "3 submission(s) from 3 learner(s); 2 with a problem" in text
    assert "| 1 | 00_start_here / count_real_tokens | you counted <b>padding</b> |" in text
    assert "- `s/b.ipynb` (bo): the kernel died 3 times" in text


def test_feedback_is_escaped_html_with_a_hint(tmp_path):
    rows = report.write_all(tmp_path, MANIFEST, RESULTS)
    page = (tmp_path / "feedback" / "al" / "a.html").read_text()
    assert "you counted &lt;b&gt;padding&lt;/b&gt;" in page and "<b>padding" not in page
    assert "Hint:" in page and "cell 2 raised ValueError" in page
    assert len(rows) == 3 and (tmp_path / "pass_rates.png").exists()


def test_feedback_pages_of_one_learner_never_collide():
    manifest = [
        {"submission": "x/al/one/00.ipynb", "learner": "al", "key": "a" * 64},
        {"submission": "x/al/two/00.ipynb", "learner": "al", "key": "b" * 64},
    ]
    paths = report.feedback_paths(manifest)
    assert len(set(paths.values())) == 2


def test_every_registered_lesson_can_be_identified_from_its_exercise_notebook(root):
    for lesson in lesson_ids():
        path = root / "exercises" / f"{lesson}.ipynb"
        if path.exists():
            assert identify_lesson(nbformat.read(path, as_version=4)) == lesson


def test_grades_csv_gives_points_and_the_gradebook_a_total_per_learner(tmp_path):
    report.write_all(tmp_path, MANIFEST, RESULTS)
    with open(tmp_path / "grades.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["points"] for r in rows] == [str(int(r["status"] == "passed")) for r in rows]
    with open(tmp_path / report.GRADEBOOK, encoding="utf-8") as fh:
        book = list(csv.DictReader(fh))
    assert [b["learner"] for b in book] == sorted({r["learner"] for r in rows})
    for b in book:
        mine = [r for r in rows if r["learner"] == b["learner"]]
        assert int(b["total"]) == max(sum(int(r["points"]) for r in mine), 0)
        assert b["out of"] == "1"
