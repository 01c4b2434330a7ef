"""Shared test set-up: progress goes to a temporary file, never the learner's own."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Set at import so kernels that nbval and nbclient start inherit it too.
_PROGRESS_DIR = tempfile.mkdtemp(prefix="course-test-progress-")
os.environ["COURSE_PROGRESS_FILE"] = str(Path(_PROGRESS_DIR) / "progress.jsonl")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    """A fresh, empty progress file for one test."""
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


@pytest.fixture
def root() -> Path:
    return ROOT
