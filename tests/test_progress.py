"""Offline progress: recorded per check, summarised per lesson, robust to a broken file."""

from __future__ import annotations

from course_utils import exercises, progress
from course_utils.checking import Result, Status
from course_utils.progress import progress_path, record


def test_location_follows_the_environment_variable(progress_file):
    assert progress_path() == progress_file


def test_progress_counts_the_latest_outcome_of_each_exercise(progress_file):
    ex = exercises("00").count_real_tokens
    ex.check(ex.wrong_answers[0].answer)
    report = progress()
    assert ("00_start_here", 0, 1, 0) in report.rows
    ex.check(ex.reference)
    assert ("00_start_here", 1, 0, 0) in progress().rows


def test_unchecked_exercises_count_as_not_attempted(progress_file):
    assert ("00_start_here", 0, 0, 1) in progress().rows


def test_corrupt_lines_are_skipped_and_reported(progress_file):
    progress_file.write_text('{"lesson": "00_start_here"\nnot json\n\x00\x01\n')
    ex = exercises("00").count_real_tokens
    assert ex.check(ex.reference).passed
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
    assert ex.check(ex.reference).passed
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
