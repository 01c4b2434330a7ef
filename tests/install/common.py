"""Shared by the install tests (tests/install/): find interpreters, make venvs, run notebooks in
them. These tests are heavy (each venv holds TensorFlow) and run only from their make targets."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("run_notebooks.py")
CONSTRAINTS = ROOT / "constraints.txt"
ARTIFACTS = ROOT / "test-artifacts" / "install"


def find_python(version: str) -> str | None:
    """`python3.X` on PATH, else the newest `~/.pyenv/versions/3.X.*/bin/python`; None if
    neither exists or it is another version."""
    candidates = []
    on_path = subprocess.run(
        ["sh", "-c", f"command -v python{version}"], capture_output=True, text=True
    ).stdout.strip()
    if on_path:
        candidates.append(on_path)
    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")
    candidates += sorted(
        glob.glob(pattern),
        key=lambda p: [int(x) for x in p.split("/")[-3].split(".") if x.isdigit()],
        reverse=True,
    )
    for candidate in candidates:
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def require_python(version: str) -> str:
    """The interpreter for `version`; skips the test when it is missing, but fails under CI
    (CI=true), so the matrix cannot silently shrink."""
    found = find_python(version)
    if found is None:
        reason = (
            f"Python {version} not found (looked for python{version} on PATH and "
            f"~/.pyenv/versions/{version}.*/bin/python)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must test every supported Python", pytrace=False)
        pytest.skip(reason)
    return found


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_venv(python: str, venv: Path) -> Path:
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    pip(venv, "install", "--quiet", "--upgrade", "pip")
    return venv_python(venv)


def pip(venv: Path, *args: str, cwd: Path | None = None) -> float:
    """Run pip in `venv`; returns the seconds it took (fails the test with pip's output)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", *args], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode:
        pytest.fail(f"pip {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def installed(venv: Path) -> dict[str, str]:
    """`{canonical name: version}` of every distribution in `venv`."""
    done = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(done.stdout)}


def run_notebooks(
    venv: Path, notebooks: list[Path], *, env: dict | None = None, kernel: str = "masking-course"
) -> list[dict]:
    """Execute `notebooks` with `venv`'s Python and kernel; one result dict each."""
    done = subprocess.run(
        [str(venv_python(venv)), str(RUNNER), kernel, *map(str, notebooks)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=notebooks[0].parent,
    )
    if done.returncode:
        pytest.fail(f"running {[n.name for n in notebooks]} failed:\n{done.stderr[-4000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def record(name: str, data: dict) -> None:
    """Keep a measurement for the person reading the run (test-artifacts/install/NAME.json)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{name}: {json.dumps(data)}", file=sys.stderr)
