"""The environment self-check of notebook 00: Python, package versions, backend and devices,
against the course's ranges (pyproject.toml) and its tested versions (constraints.txt)."""

from __future__ import annotations

import html
import importlib.metadata as metadata
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import paths, styles

DISTRIBUTION = "masking-course"
# Packages the self-check reports, by distribution name. JupyterLab is optional (not on Colab).
CHECKED = ("tensorflow", "keras", "tf_keras", "numpy", "matplotlib", "jupyterlab")
OPTIONAL = {"jupyterlab"}
PYTHONS = ("3.11", "3.12", "3.13")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_ranges() -> dict[str, str]:
    """`{distribution: specifier}` the course needs (installed metadata, else pyproject.toml),
    extras included: what `pip install` of the course asks for."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            project = tomllib.loads(pyproject.read_text())["project"]
        except (OSError, ValueError, KeyError):  # a bare copy of course_utils: ranges unknown
            return {}
        requirements = list(project["dependencies"])
        for extra in project.get("optional-dependencies", {}).values():
            requirements += extra
    ranges = {}
    for req in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*([^;]*?)\s*(;.*)?", req)
        if match:
            ranges.setdefault(_canonical(match.group(1)), match.group(2).replace(" ", ""))
    return ranges


def tested_versions() -> dict[str, str]:
    """`{distribution: version}` of the one tested environment (constraints.txt)."""
    lock = paths.lock_file()
    if lock is None:
        return {}
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[_canonical(match.group(1))] = match.group(2)
    return pins


def _in_range(version: str, specifier: str) -> bool:
    from packaging.specifiers import SpecifierSet

    return not specifier or SpecifierSet(specifier).contains(version, prereleases=True)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class EnvironmentReport:
    """What is installed, next to what the course needs and what it was tested with.

    `warnings` are problems (the course cannot work as taught: a missing package, a version
    outside the course's range, an untested Python, another Keras backend); `notes` are
    differences from the tested versions that stay inside the range (outputs may differ in
    their last digits). Only warnings make `ok` False.
    """

    rows: list[tuple[str, str, str]]  # what, found, tested with
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings

    def __repr__(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [f"{what:<{width}}  {found:<24} {expected}" for what, found, expected in self.rows]
        lines.append("")
        lines += [f"WARNING: {w}" for w in self.warnings]
        lines += [f"Note: {n}" for n in self.notes]
        if self.ok:
            lines.append("Everything the course needs is here.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = styles.table(
            ["", "found", "tested with"],
            [[html.escape(a), html.escape(b), html.escape(c)] for a, b, c in self.rows],
            "course-env",
        )
        items = [f"<li>⚠️ {styles.inline_code(w)}</li>" for w in self.warnings]
        items += [f"<li>ℹ️ {styles.inline_code(n)}</li>" for n in self.notes]
        if self.ok:
            items.append("<li>✅ Everything the course needs is here.</li>")
        return f'{table}<ul style="color:{styles.TEXT}">{"".join(items)}</ul>'


def check_environment() -> EnvironmentReport:
    """Compare Python and the key packages with the course's ranges and tested versions;
    report backend and devices."""
    ranges = required_ranges()
    tested = tested_versions()
    rows: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    notes: list[str] = []

    python = platform.python_version()
    rows.append(("Python", python, ", ".join(PYTHONS)))
    if ".".join(python.split(".")[:2]) not in PYTHONS:
        warnings.append(
            f"this kernel runs Python {python}, but the course is tested on Python "
            f"{', '.join(PYTHONS)}; pick the kernel the course installed (see notebook 00)"
        )
    for name in CHECKED:
        key = _canonical(name)
        found = _installed(name)
        wanted = ranges.get(key, "")
        rows.append((name, found or "not installed", tested.get(key, wanted)))
        if found is None:
            if name not in OPTIONAL:
                warnings.append(
                    f"{name} is not installed in this kernel's environment; install the course "
                    "into it (see the README) or pick the course's kernel"
                )
        elif not _in_range(found, wanted):
            warnings.append(
                f"{name} {found} is installed, but the course needs {name}{wanted}; "
                "outputs and error messages in the notebooks may differ"
            )
        elif key in tested and found != tested[key]:
            notes.append(
                f"{name} {found} is installed; the course was tested with {tested[key]}, so "
                "printed numbers may differ in their last digits"
            )

    try:
        import keras

        backend = keras.backend.backend()
    except Exception as exc:  # report, do not crash the self-check
        backend = f"unavailable ({type(exc).__name__})"
    rows.append(("Keras backend", backend, "tensorflow"))
    if backend != "tensorflow":
        warnings.append(
            f"Keras is using the {backend!r} backend; set KERAS_BACKEND=tensorflow before starting"
        )
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        devices = f"CPU + {len(gpus)} GPU" if gpus else "CPU only"
    except Exception as exc:
        devices = f"unavailable ({type(exc).__name__})"
    rows.append(("Devices", devices, "CPU is enough"))
    rows.append(("Interpreter", interpreter_text(), "the course's .venv"))
    return EnvironmentReport(rows, warnings, notes)


def interpreter_text(executable: str | None = None, course_root: Path | None = None) -> str:
    """The running Python, relative to the course folder when it lives there (so a notebook's
    committed output names no machine-specific path); elsewhere, the full path, which is then
    exactly what a learner needs to see."""
    executable = Path(executable or sys.executable)
    root = (course_root or Path(__file__).resolve().parent.parent).resolve()
    try:
        return str(Path("<course>") / executable.absolute().relative_to(root))
    except ValueError:
        return str(executable)
