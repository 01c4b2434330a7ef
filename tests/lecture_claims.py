"""Shared checks for lectures that quote installed source and end with a verdict table.

A lesson module lists the installed functions its lecture quotes in `QUOTED_SOURCE` (dotted name
-> a line the lecture asserts), so an upgrade that removes or rewrites one fails a fast unit test,
before any notebook runs. A lecture's last cell is the verdict table on its thread's advice.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from course_utils.masks import source_excerpt

VERDICT_COLUMNS = [
    "advice (thread)",
    "Keras 2 (`tf_keras` 2.21)",
    "Keras 3.15",
    "verdict",
    "shown in",
]
VERDICTS = ("holds", "changed", "broken")
_STRING_EXCERPT = re.compile(r"source_excerpt\(\s*\"([^\"]+)\"")


def quoted_source_problems(quoted: dict[str, str]) -> list[str]:
    """Each dotted name must still resolve in the installed packages and contain its line."""
    problems = []
    for dotted, line in quoted.items():
        try:
            text = source_excerpt(dotted).text
        except (AttributeError, ImportError) as exc:
            problems.append(f"{dotted}: gone ({type(exc).__name__})")
            continue
        if line not in text:
            problems.append(f"{dotted}: no longer contains {line!r}")
    return problems


def string_excerpts(path: Path) -> set[str]:
    """Dotted names a lecture passes to `source_excerpt` as string literals."""
    nb = nbformat.read(path, as_version=4)
    return {
        name
        for cell in nb.cells
        if cell.cell_type == "code"
        for name in _STRING_EXCERPT.findall(cell.source)
    }


def verdict_rows(path: Path) -> list[dict[str, str]]:
    """The rows of the verdict table in the lecture's last cell, as `{column: text}`; asserts
    the columns, the verdict words and that every cited cell id is a code cell of the lecture."""
    nb = nbformat.read(path, as_version=4)
    code_ids = {cell.id for cell in nb.cells if cell.cell_type == "code"}
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "Verdicts" in last.source.splitlines()[0], (
        f"{path.name}: the last cell must be the verdict table"
    )
    lines = [line for line in last.source.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == VERDICT_COLUMNS, header
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == len(VERDICT_COLUMNS), line
        row = dict(zip(VERDICT_COLUMNS, cells, strict=True))
        assert row["verdict"].startswith(VERDICTS), row["verdict"]
        cited = re.findall(r"`(c\d+)`", row["shown in"])
        assert cited, f"{path.name}: row without a cell: {row['advice (thread)']}"
        assert set(cited) <= code_ids, f"{path.name}: cites cells {set(cited) - code_ids}"
        rows.append(row)
    assert rows, f"{path.name}: empty verdict table"
    return rows
