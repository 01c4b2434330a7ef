"""The environment self-check of notebook 00: versions, backend and devices against the pins."""

from __future__ import annotations

import html
import importlib.metadata as metadata
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DISTRIBUTION = "masking-course"
# Packages the self-check reports, by distribution name.
CHECKED = ("tensorflow", "keras", "tf_keras", "numpy", "matplotlib", "jupyterlab", "nbval")
PYTHON = "3.11"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions() -> dict[str, str]:
    """`{distribution: version}` from the course's `==` pins (installed metadata, else pyproject)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)\s*", req)
        if match:
            pins[_canonical(match.group(1))] = match.group(2)
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class EnvironmentReport:
    """What is installed, next to what the course pins, with plain-words warnings."""

    rows: list[tuple[str, str, str]]  # what, found, expected
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings

    def __repr__(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [f"{what:<{width}}  {found:<24} {expected}" for what, found, expected in self.rows]
        if self.warnings:
            lines += ["", *(f"WARNING: {w}" for w in self.warnings)]
        else:
            lines += ["", "Everything matches the course's pinned environment."]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
            for a, b, c in self.rows
        )
        notes = "".join(f"<li>⚠️ {html.escape(w)}</li>" for w in self.warnings) or (
            "<li>✅ Everything matches the course's pinned environment.</li>"
        )
        return (
            '<table class="course-env"><thead><tr><th></th><th>found</th><th>course pin</th>'
            f"</tr></thead><tbody>{body}</tbody></table><ul>{notes}</ul>"
        )


def check_environment() -> EnvironmentReport:
    """Compare Python and the key packages with the course pins; report backend and devices."""
    pins = pinned_versions()
    rows: list[tuple[str, str, str]] = []
    warnings: list[str] = []

    python = platform.python_version()
    rows.append(("Python", python, PYTHON + ".x"))
    if not python.startswith(PYTHON + "."):
        warnings.append(
            f"this kernel runs Python {python}, but the course is tested on Python {PYTHON}; "
            "run `make lab` from the course folder so the course's own environment is used"
        )
    for name in CHECKED:
        found = _installed(name)
        expected = pins.get(_canonical(name), "")
        rows.append((name, found or "not installed", expected))
        if found is None:
            warnings.append(f"{name} is not installed in this kernel's environment; run `make lab`")
        elif expected and found != expected:
            warnings.append(
                f"{name} {found} is installed, but the course is tested with {expected}; "
                "outputs and error messages in the notebooks may differ"
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
    return EnvironmentReport(rows, warnings)


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
