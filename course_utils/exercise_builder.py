"""Generate `exercises/` from `solutions/`, the single source of every exercise notebook.

Code between `### BEGIN SOLUTION` and `### END SOLUTION` is replaced by a stub that keeps the
marker's indentation: inside a function body, `raise NotImplementedError`; at the top level, each
assigned name becomes `name = ...`. Outputs are cleared and metadata trimmed to the kernelspec.
Nested, unclosed or stray markers are refused with the notebook name and cell number.
The exercise gets its own generated first cells (launch links, set-up cell of kind "exercise";
see setup_cell.py) in place of the solution's.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<kind>BEGIN|END) SOLUTION\s*$")
STUB_COMMENT = "# YOUR CODE HERE"


class BuildError(Exception):
    """A solution notebook that cannot be turned into an exercise (message names file and cell)."""


@dataclass(frozen=True)
class Drift:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _stub(indent: str, body: list[str]) -> list[str]:
    if indent:
        return [f"{indent}{STUB_COMMENT}", f"{indent}raise NotImplementedError"]
    names: list[str] = []
    try:
        tree = ast.parse("\n".join(body))
        for node in tree.body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                targets = [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id not in names:
                        names.append(sub.id)
    except SyntaxError:
        pass
    if not names:
        return [STUB_COMMENT, "..."]
    return [STUB_COMMENT, *(f"{name} = ..." for name in names)]


def strip_solution(source: str, *, where: str = "cell") -> str:
    """Replace every solution region of one cell's source by its stub."""
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    opened_at = 0
    for number, line in enumerate(source.splitlines(), start=1):
        match = _MARKER.match(line)
        if match and match.group("kind") == "BEGIN":
            if region is not None:
                raise BuildError(
                    f"{where}, line {number}: BEGIN SOLUTION inside another solution region "
                    f"(opened on line {opened_at}); regions cannot be nested"
                )
            region, indent, opened_at = [], match.group("indent"), number
        elif match:
            if region is None:
                raise BuildError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION")
            body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in region]
            out.extend(_stub(indent, body))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise BuildError(f"{where}, line {opened_at}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BuildError(f"{path}: is not a notebook (not valid JSON)") from None
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:
        raise BuildError(f"{path}: could not be read as a notebook ({exc})") from None


def build_notebook(path: Path, repo: str | None = None) -> str:
    """The exercise notebook generated from one solution notebook, as JSON text."""
    from . import setup_cell

    nb = _read(path)
    out = nbformat.v4.new_notebook()
    kernelspec = nb.metadata.get("kernelspec")
    out.metadata = {"kernelspec": kernelspec} if kernelspec else {}
    found = False
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{path}, cell {index}"
        if cell.cell_type != "code":
            if BEGIN in cell.source or END in cell.source:
                raise BuildError(f"{where}: solution markers are only allowed in code cells")
            new = (
                nbformat.v4.new_markdown_cell(cell.source)
                if cell.cell_type == "markdown"
                else nbformat.v4.new_raw_cell(cell.source)
            )
        else:
            source = strip_solution(cell.source, where=where)
            found = found or source != cell.source
            new = nbformat.v4.new_code_cell(source)
        if "id" in cell:
            new.id = cell.id
        tags = cell.get("metadata", {}).get("tags")
        if tags:
            new.metadata = {"tags": list(tags)}
        out.cells.append(new)
    if not found:
        raise BuildError(f"{path}: has no `{BEGIN}` region, so its exercise would be the solution")
    repo = repo or setup_cell.repository(Path(path).resolve().parent.parent)
    setup_cell.apply(out, setup_cell.generated_cells("exercises", Path(path).name, repo))
    return nbformat.writes(out) + "\n"


def _pairs(root: Path) -> list[tuple[Path, Path]]:
    return [
        (src, root / "exercises" / src.name)
        for src in sorted((root / "solutions").glob("*.ipynb"))
        if not src.name.startswith(".")
    ]


def build_all(root: Path) -> list[Path]:
    """Write every exercise notebook; returns the paths written."""
    built = {src: build_notebook(src) for src, _ in _pairs(root)}  # all or nothing
    (root / "exercises").mkdir(exist_ok=True)
    written = []
    for src, text in built.items():
        dst = root / "exercises" / src.name
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")
        written.append(dst)
    return written


def check_all(root: Path) -> list[Drift]:
    """Exercise notebooks that differ from what `build_all` would write, or have no source."""
    drift = []
    expected = set()
    for src, dst in _pairs(root):
        expected.add(dst.name)
        text = build_notebook(src)
        if not dst.exists():
            drift.append(Drift(dst, f"missing; generate it from {src}"))
        elif dst.read_text(encoding="utf-8") != text:
            drift.append(Drift(dst, f"differs from what {src} generates (edited by hand?)"))
    for stray in sorted((root / "exercises").glob("*.ipynb")):
        if stray.name not in expected:
            drift.append(Drift(stray, "has no source in solutions/"))
    return drift
