"""The course's Jupyter kernel and the JupyterLab command that `make lab` (and its test) start."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from . import paths

# The course folder this copy of the package ships: the clone, or the read-only copy inside a
# wheel (course_utils/course/). `lab` serves a clone in place and a wheel's copy from a folder
# of the learner's own (see `serve_folder`).
ROOT = paths.source_checkout() or paths.bundled_course() or Path(__file__).resolve().parent.parent
KERNEL_NAME = "masking-course"
KERNEL_TITLE = "Python 3 (masking course)"
# Set in the kernel's environment, so a notebook's first cell can tell it runs on this kernel.
KERNEL_ENV = "COURSE_KERNEL"
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
        "display_name": KERNEL_TITLE,
        "language": "python",
        "env": {
            "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            KERNEL_ENV: KERNEL_NAME,
        },
        "metadata": {"debugger": True},
    }


def install_kernel(prefix: str | None = None, *, user: bool = False) -> Path:
    """Register the kernel inside this environment only (`sys.prefix`), never globally; with
    `user`, in the user's Jupyter data folder instead (Binder, where the notebook server runs
    from another environment than the kernel)."""
    if user:
        from jupyter_core.paths import jupyter_data_dir

        folder = Path(jupyter_data_dir()) / "kernels" / KERNEL_NAME
    else:
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


class LabProblem(Exception):
    """`lab` cannot start; the message is one sentence for the person at the terminal."""


def serve_folder(working_copy: Path | None = None) -> tuple[Path, bool]:
    """The folder `lab` serves, and whether it was just created.

    A clone is served in place. A wheel's notebooks are read-only inside site-packages, so they
    are copied once into `working_copy` (default `./masking-course`); an existing copy is served
    as it is, so the learner's edits and progress are never overwritten.
    """
    checkout = paths.source_checkout()
    if checkout is not None and working_copy is None:
        return checkout, False
    target = Path(working_copy or Path.cwd() / paths.WORKING_COPY).resolve()
    if paths.is_course_folder(target):
        return target, False
    if target.exists() and any(target.iterdir()):
        raise LabProblem(
            f"{target} exists but holds no course notebooks; choose another folder with "
            "`python -m course_utils lab --folder PATH`"
        )
    source = paths.course_source()
    target.mkdir(parents=True, exist_ok=True)
    for name in paths.COURSE_FOLDERS:
        shutil.copytree(source / name, target / name, dirs_exist_ok=True)
    return target, True


def jupyterlab_missing() -> str | None:
    """A sentence if JupyterLab is not installed in this environment (None if it is)."""
    if importlib.util.find_spec("jupyterlab") is not None:
        return None
    return (
        f"JupyterLab is not installed in this environment ({sys.prefix}); install it with "
        "`python -m pip install 'jupyterlab>=4.2,<5'` (or install the course with its `lab` "
        "extra), then run this command again"
    )
