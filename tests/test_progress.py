"""Offline progress: recorded per check of an exercise, summarised per lesson by each exercise's
best outcome, kept beside the learner's notebooks (never in site-packages), robust to a broken
file."""

from __future__ import annotations

from pathlib import Path

import pytest

import course_utils
from course_utils import exercises, paths, progress
from course_utils.checking import Result, Status
from course_utils.progress import progress_path, record, set_notebook_kind


@pytest.fixture(autouse=True)
def _no_declared_notebook():
    set_notebook_kind(None)
    yield
    set_notebook_kind(None)


def test_location_follows_the_environment_variable(progress_file):
    assert progress_path() == progress_file


def test_without_the_variable_progress_sits_in_the_course_folder_of_the_notebook(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("COURSE_PROGRESS_FILE", raising=False)
    course = tmp_path / "my-course"
    for name in paths.COURSE_FOLDERS:
        (course / name).mkdir(parents=True)
    monkeypatch.chdir(course / "exercises")  # a kernel runs in its notebook's folder
    assert progress_path() == course / ".course_progress.jsonl"


def test_outside_any_course_folder_progress_goes_to_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS_FILE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(paths, "source_checkout", lambda: None)  # as from an installed wheel
    monkeypatch.chdir(tmp_path)
    assert progress_path() == tmp_path / "data" / "masking-course" / "progress.jsonl"
    site_packages = Path(course_utils.__file__).resolve().parent.parent
    assert site_packages not in progress_path().parents


def test_a_pass_counts_even_if_a_later_run_fails_or_is_untouched(progress_file):
    ex = exercises("00").count_real_tokens
    ex.check(ex.wrong_answers[0].answer)
    assert ("00_start_here", 0, 1, 0) in progress().rows
    ex.check(ex.reference_answer)
    assert ("00_start_here", 1, 0, 0) in progress().rows
    ex.check(...)  # the untouched exercise notebook, run again
    ex.check(ex.wrong_answers[1].answer)  # a later experiment
    report = progress()
    assert ("00_start_here", 1, 0, 0) in report.rows
    assert report.changed == [("00_start_here", "count_real_tokens", "passed", "failed")]
    assert "00_start_here / count_real_tokens: best passed, latest failed" in repr(report)
    assert "best passed, latest failed" in report._repr_html_()


@pytest.mark.parametrize("kind", ["lecture", "solution"])
def test_checks_in_lectures_and_solutions_are_not_recorded(progress_file, kind):
    set_notebook_kind(kind)
    ex = exercises("00").count_real_tokens
    assert ex.check(ex.reference_answer).passed
    assert not progress_file.exists()
    assert ("00_start_here", 0, 0, 1) in progress().rows


def test_checks_in_exercises_are_recorded(progress_file):
    set_notebook_kind("exercise")
    ex = exercises("00").count_real_tokens
    ex.check(ex.reference_answer)
    assert ("00_start_here", 1, 0, 0) in progress().rows


def test_unchecked_exercises_count_as_not_attempted(progress_file):
    assert ("00_start_here", 0, 0, 1) in progress().rows


def test_corrupt_lines_are_skipped_and_reported(progress_file):
    progress_file.write_text('{"lesson": "00_start_here"\nnot json\n\x00\x01\n')
    ex = exercises("00").count_real_tokens
    assert ex.check(ex.reference_answer).passed
    report = progress()
    assert ("00_start_here", 1, 0, 0) in report.rows
    assert report.skipped_lines == 3
    assert "3 unreadable line(s)" in repr(report)


def test_an_unwritable_location_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(blocker / "inside-a-file.jsonl"))
    assert record(Result("00_start_here", "x", Status.PASSED, "ok")) is False
    ex = exercises("00").count_real_tokens
    assert ex.check(ex.reference_answer).passed
    assert progress().rows  # reading a missing file is fine too


def test_progress_has_text_and_html_views(progress_file):
    report = progress()
    assert repr(report).splitlines()[0].split() == [
        "lesson",
        "passed",
        "failed",
        "not",
        "attempted",
    ]
    assert "<table" in report._repr_html_()
