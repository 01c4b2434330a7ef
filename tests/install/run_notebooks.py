"""Run notebooks in a fresh kernel with the Python running this script, and print one JSON line
per notebook: its errors (name, value, how many traceback lines), its check results, its
stream outputs and seconds taken. Needs only nbclient, so it runs in a venv without the course.

usage: python run_notebooks.py KERNEL_NAME NOTEBOOK...   (each runs in its own folder)
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

RESULT = re.compile(r"^(✅ Passed|❌ Not yet|⏳ Not attempted) \[([^/\]]+) / ([^\]]+)\]")


def run(kernel: str, path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=600,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    errors, results, streams = [], [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                errors.append([out.ename, out.evalue, out.traceback])
            elif out.output_type == "stream":
                streams.append(out.text)
            else:
                match = RESULT.match(out.get("data", {}).get("text/plain", ""))
                if match:
                    results.append([match[2], match[3], match[1]])
    return {
        "notebook": str(path),
        "seconds": round(time.perf_counter() - start, 1),
        "errors": errors,
        "results": results,
        "streams": streams,
    }


if __name__ == "__main__":
    kernel_name, *notebooks = sys.argv[1:]
    for notebook in notebooks:
        print(json.dumps(run(kernel_name, Path(notebook).resolve())), flush=True)
