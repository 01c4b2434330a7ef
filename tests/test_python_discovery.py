"""How the Python-version matrix (make test-pythons) finds its interpreters, and that a missing
one skips locally but fails under CI, so the matrix cannot silently shrink."""

from __future__ import annotations

import sys

import pytest
from install.common import find_python, require_python


def test_this_interpreter_is_found_by_its_version():
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = find_python(version)
    assert found is not None
    assert find_python("2.1") is None


def test_a_missing_python_is_skipped_with_its_reason(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=r"Python 2\.1 not found \(looked for python2\.1"
    ):
        require_python("2.1")


def test_under_ci_a_missing_python_fails(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must test every supported Python"):
        require_python("2.1")
