"""The course's Jupyter kernel and the JupyterLab command that `make lab` (and its test) start."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "masking-course"
START_PAGE = "notebooks/00_start_here.ipynb"


def kernel_spec() -> dict:
    """A kernel on this environment's Python.

    `capture_fd_output=False` keeps TensorFlow's C++ start-up log lines (written straight to file
    descriptor 2 at import) out of notebook outputs; they go to the server's terminal instead.
    Python-level warnings and errors still reach the notebook through `sys.stderr`.
    """
    return {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.capture_fd_output=False",
        ],
        "display_name": "Python 3 (masking course)",
        "language": "python",
        "env": {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"},
        "metadata": {"debugger": True},
    }


def install_kernel(prefix: str | None = None) -> Path:
    """Register the kernel inside this environment only (`sys.prefix`), never globally."""
    folder = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kernel.json"
    text = json.dumps(kernel_spec(), indent=1) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def lab_command(extra: list[str] | None = None, *, root: Path = ROOT) -> list[str]:
    """The JupyterLab server command, rooted at the course (or a copy of it), opening the start
    page. Jupyter refuses a second `--ServerApp.root_dir`, so another root is a parameter.

    As root (containers, CI machines) Jupyter refuses to start without `--allow-root`.
    """
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{START_PAGE}",
        *as_root,
        *(extra or []),
    ]
