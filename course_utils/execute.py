"""Run notebooks in a fresh kernel, keep them clean in git, and read check results from outputs."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .lab import KERNEL_NAME

# The text view of a Result (see checking.Result.__repr__).
_RESULT_LINE = re.compile(
    r"^(?:✅ Passed|❌ Not yet|⏳ Not attempted) \[(?P<lesson>[^/\]]+) / (?P<exercise>[^\]]+)\]"
)
_STATUS = {"✅": "passed", "❌": "failed", "⏳": "not attempted"}


@dataclass(frozen=True)
class Run:
    """One executed notebook: the notebook with outputs, seconds taken, and the error if any."""

    notebook: nbformat.NotebookNode
    seconds: float
    error: str | None


def run_notebook(
    path: Path,
    *,
    timeout: int = 600,
    kernel_name: str = KERNEL_NAME,
    cwd: Path | None = None,
    allow_errors: bool = False,
) -> Run:
    """Execute `path` top to bottom in a fresh kernel (working directory: its folder)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    sockets = tempfile.mkdtemp(prefix="course-kernel-")
    # Unix sockets, not TCP ports: kernels started in parallel cannot race for the same port
    # (a lost race kills the kernel at start and leaves the client waiting forever).
    km = AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=f"{sockets}/k")
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd or Path(path).parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = f"a cell raised {exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        error = f"a cell ran longer than {timeout} seconds"
    except DeadKernelError:
        error = "the kernel died"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return Run(nb, time.perf_counter() - start, error)


def check_results(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """`(lesson, exercise, status)` for every check result a notebook displays, in order."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "") if "data" in output else ""
            match = _RESULT_LINE.match(text)
            if match:
                found.append((match["lesson"], match["exercise"], _STATUS[text[0]]))
    return found


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """`ename: evalue` of every error output in the notebook."""
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def clean_for_git(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep outputs, drop what changes run to run: execution timings and extra metadata (a
    cell keeps its tags, and whether its code starts collapsed)."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        old = cell.get("metadata", {})
        cell.metadata = {key: old[key] for key in ("tags", "jupyter", "cellView") if old.get(key)}
    return nb
