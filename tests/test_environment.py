"""What the course needs (ranges in pyproject.toml) is kept apart from the one tested environment
(constraints.txt), which `make`, environment.yml and binder/ all install; the self-check reports
both."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import yaml
from packaging.requirements import Requirement

from course_utils import check_environment, environment


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project(root):
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _lock(root) -> dict[str, str]:
    pins = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[_canonical(name)] = version.strip()
    return pins


def _requirements(root, *, extras=True) -> list[Requirement]:
    project = _project(root)
    found = [Requirement(r) for r in project["dependencies"]]
    if extras:
        for group in project["optional-dependencies"].values():
            found += [Requirement(r) for r in group]
    return found


def test_pyproject_states_ranges_not_pins(root):
    pinned = [str(r) for r in _requirements(root) if any(s.operator == "==" for s in r.specifier)]
    assert not pinned, f"exact pins belong in constraints.txt, not pyproject.toml: {pinned}"


def test_runtime_dependencies_leave_out_the_test_tools_and_jupyterlab(root):
    runtime = {_canonical(r.name) for r in _requirements(root, extras=False)}
    assert not runtime & {"pytest", "pytest-xdist", "nbval", "ruff", "playwright", "jupyterlab"}
    assert {"pytest", "nbval", "ruff"} <= {
        _canonical(Requirement(r).name) for r in _project(root)["optional-dependencies"]["test"]
    }


def test_the_lock_pins_every_requirement_inside_its_range(root):
    lock = _lock(root)
    for req in _requirements(root):
        name = _canonical(req.name)
        assert name in lock, f"constraints.txt does not pin {req.name}"
        assert req.specifier.contains(lock[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={lock[name]}, outside pyproject.toml's {req}"
        )


def test_this_environment_is_the_locked_one(root):
    lock = _lock(root)
    differ = []
    for dist in metadata.distributions():
        name = _canonical(dist.metadata["Name"])
        if name in lock and dist.version != lock[name]:
            differ.append(f"{name} {dist.version} (locked {lock[name]})")
    assert not differ, f"installed versions differ from constraints.txt: {differ}"


def test_the_stack_the_course_teaches_is_what_is_locked(root):
    lock = _lock(root)
    assert lock["tensorflow"].startswith("2.21.")
    assert lock["keras"].startswith("3.15.")
    assert lock["tf-keras"].startswith("2.21.")


def test_pythons_3_11_to_3_13_are_allowed(root):
    spec = Requirement(f"x{_project(root)['requires-python']}").specifier
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if spec.contains(f"{v}.0")] == [
        "3.11",
        "3.12",
        "3.13",
    ]
    assert environment.PYTHONS == ("3.11", "3.12", "3.13")


def test_environment_yml_installs_the_locked_course_on_the_default_python(root):
    conda = yaml.safe_load((root / "environment.yml").read_text())["dependencies"]
    assert "python=3.11" in conda
    pip_section = next(item["pip"] for item in conda if isinstance(item, dict))
    assert pip_section == ["-c constraints.txt", "-e .[lab]"]


def test_binder_builds_the_same_environment(root):
    assert (root / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = (root / "binder" / "postBuild").read_text()
    assert "pip install -c constraints.txt -e '.[lab]'" in post_build
    assert "python -m course_utils install-kernel --user" in post_build


def test_make_installs_from_the_lock(root):
    makefile = (root / "Makefile").read_text()
    assert "pip install --progress-bar on -c $(CONSTRAINTS) -e '.[lab,test]'" in makefile
    assert "CONSTRAINTS := constraints.txt" in makefile


def test_self_check_passes_in_the_course_environment():
    report = check_environment()
    assert report.ok, report.warnings
    assert not report.notes, report.notes
    names = [row[0] for row in report.rows]
    assert {"Python", "tensorflow", "keras", "tf_keras", "Keras backend", "Devices"} <= set(names)


def test_self_check_accepts_python_3_12_and_3_13(monkeypatch):
    for version in ("3.12.1", "3.13.0"):
        monkeypatch.setattr(environment.platform, "python_version", lambda v=version: v)
        assert check_environment().ok
    monkeypatch.setattr(environment.platform, "python_version", lambda: "3.14.0")
    assert "this kernel runs Python 3.14.0" in " ".join(check_environment().warnings)


def test_a_version_inside_the_range_is_a_note_not_a_warning(monkeypatch):
    real = environment._installed
    monkeypatch.setattr(
        environment, "_installed", lambda name: "99.0.0" if name == "numpy" else real(name)
    )
    report = check_environment()
    assert report.ok
    assert any(
        n.startswith("numpy 99.0.0 is installed; the course was tested with") for n in report.notes
    )
    assert "Note: numpy 99.0.0" in repr(report)


def test_a_version_outside_the_range_is_a_warning_in_plain_words(monkeypatch):
    real = environment._installed
    monkeypatch.setattr(
        environment, "_installed", lambda name: "2.0.0" if name == "keras" else real(name)
    )
    report = check_environment()
    assert not report.ok
    assert any(
        w.startswith("keras 2.0.0 is installed, but the course needs keras")
        for w in report.warnings
    )
    assert "WARNING: keras 2.0.0" in repr(report)


def test_a_missing_package_is_a_warning_but_jupyterlab_is_optional(monkeypatch):
    real = environment._installed
    monkeypatch.setattr(
        environment,
        "_installed",
        lambda name: None if name in ("matplotlib", "jupyterlab") else real(name),
    )
    warnings = " ".join(check_environment().warnings)
    assert "matplotlib is not installed" in warnings
    assert "jupyterlab" not in warnings


def test_a_bare_copy_of_the_package_still_reports_instead_of_crashing(monkeypatch, tmp_path):
    def no_metadata(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(environment.metadata, "requires", no_metadata)
    monkeypatch.setattr(environment, "__file__", str(tmp_path / "course_utils" / "environment.py"))
    assert environment.required_ranges() == {}
    assert check_environment().rows


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


def test_the_lock_keeps_every_hold_and_each_hold_says_why(root):
    """held-back.txt holds packages below their newest release (`make lock` resolves with it);
    constraints.txt must pin each at the held version, and each hold comes after its reason."""
    lock = _lock(root)
    lines = (root / "held-back.txt").read_text().splitlines()
    held = [(i, line) for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    assert held
    for i, line in held:
        name, _, version = line.partition("==")
        assert lock.get(_canonical(name)) == version.strip(), (
            f"constraints.txt drops the hold {line}"
        )
        assert lines[i - 1].startswith("#") and name.split("[")[0] in "".join(
            lines[max(0, i - 3) : i]
        ), f"say why {line} is held, in the comment above it"
    assert "-c held-back.txt" in (root / "Makefile").read_text()
