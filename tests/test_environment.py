"""One pinned environment: pyproject.toml and environment.yml agree; the self-check reports it."""

from __future__ import annotations

import re
import tomllib

import yaml

from course_utils import check_environment, environment


def _pins(requirements):
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", req.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def _pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _conda(root):
    return yaml.safe_load((root / "environment.yml").read_text())["dependencies"]


def test_pyproject_and_environment_yml_pin_the_same_versions(root):
    project = _pyproject(root)
    conda = _conda(root)
    pip_section = next(item["pip"] for item in conda if isinstance(item, dict))
    assert _pins(project["dependencies"]) == _pins(pip_section)
    unpinned = [r for r in project["dependencies"] if "==" not in r]
    assert not unpinned, f"unpinned dependencies: {unpinned}"


def test_both_files_ask_for_python_3_11(root):
    assert _pyproject(root)["requires-python"] == "==3.11.*"
    assert "python=3.11" in _conda(root)


def test_the_course_pins_the_stack_it_teaches(root):
    pins = _pins(_pyproject(root)["dependencies"])
    assert pins["tensorflow"].startswith("2.21.")
    assert pins["keras"].startswith("3.15.")
    assert pins["tf-keras"].startswith("2.21.")


def test_self_check_passes_in_the_course_environment():
    report = check_environment()
    assert report.ok, report.warnings
    names = [row[0] for row in report.rows]
    assert {"Python", "tensorflow", "keras", "tf_keras", "Keras backend", "Devices"} <= set(names)


def test_self_check_warns_in_plain_words_on_a_version_mismatch(monkeypatch):
    real = environment._installed
    monkeypatch.setattr(
        environment, "_installed", lambda name: "2.0.0" if name == "keras" else real(name)
    )
    report = check_environment()
    assert not report.ok
    assert any(
        w.startswith("keras 2.0.0 is installed, but the course is tested with 3.15")
        for w in report.warnings
    )
    assert "WARNING: keras 2.0.0" in repr(report)


def test_self_check_warns_about_a_missing_package(monkeypatch):
    real = environment._installed
    monkeypatch.setattr(
        environment, "_installed", lambda name: None if name == "nbval" else real(name)
    )
    assert "nbval is not installed" in " ".join(check_environment().warnings)


def test_interpreter_is_shown_relative_to_the_course_folder(tmp_path):
    course = tmp_path / "course"
    inside = environment.interpreter_text(str(course / ".venv/bin/python"), course)
    assert inside == "<course>/.venv/bin/python"
    outside = environment.interpreter_text("/usr/bin/python3", course)
    assert (
        outside == "/usr/bin/python3"
    )  # a foreign interpreter is shown in full: that is the point


def test_the_self_check_names_no_machine_specific_path_in_the_course_environment(root):
    rows = dict((what, found) for what, found, _ in check_environment().rows)
    assert rows["Interpreter"].startswith("<course>/"), rows["Interpreter"]
    assert str(root) not in repr(check_environment())
