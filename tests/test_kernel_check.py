"""What the set-up cell's `ready()` says when a kernel cannot run the course: one sentence, never
a traceback."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from course_utils import kernel_check
from course_utils.kernel_check import SetupProblem, ready


def test_a_ready_kernel_gets_no_problem():
    assert kernel_check.problems() == []


def test_a_kernel_without_tensorflow_is_told_which_kernel_to_pick(monkeypatch):
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)  # as if never imported here
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorflow" else real(name, *a),
    )
    (problem,) = kernel_check.problems()
    assert problem.startswith(f"this kernel ({sys.executable}) lacks tensorflow: choose the kernel")
    with pytest.raises(SetupProblem) as raised:
        ready("exercise")
    (shown,) = raised.value._render_traceback_()  # what IPython shows instead of a traceback
    assert shown.startswith("This kernel (") and shown.endswith(".")


def test_another_python_is_named(monkeypatch):
    monkeypatch.setattr(kernel_check, "PYTHONS", ((3, 99),))
    (problem,) = kernel_check.problems()
    assert "but the course needs Python 3.11, 3.12 or 3.13" in problem


def test_a_session_that_loaded_an_older_numpy_before_installing_must_restart(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", types.SimpleNamespace(__version__="1.0.0"))
    (problem,) = kernel_check.problems()
    assert problem.startswith("this session loaded numpy 1.0.0 (now ")
    assert "restart it (Colab: Runtime › Restart session)" in problem


def test_unknown_notebook_kinds_are_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        ready("homework")
