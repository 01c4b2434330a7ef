"""Find submitted notebooks and name their learners.

Inputs are folders and/or notebook files. In a folder, every `*.ipynb` below it counts (hidden
folders, `.ipynb_checkpoints` and the grader's own output folder are skipped). A file given by
name counts whatever its extension.

The learner's name, in this order:
1. a notebook inside a sub-folder of a given folder belongs to that sub-folder's name:
   `submissions/alice/00_start_here.ipynb` -> `alice` (nbgrader's `submitted/<student>/...`
   and most LMS "download all" layouts);
2. otherwise the file name up to the first `__`: `alice__00_start_here.ipynb` -> `alice`;
3. otherwise the file name without a lesson name at its end: `alice_00_start_here.ipynb` or
   `alice-00_start_here.ipynb` -> `alice`; `bob.ipynb` -> `bob`;
4. a file named just like a lesson (`00_start_here.ipynb`) belongs to its folder's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..registry import lesson_ids
from .store import content_key


class NoSubmissions(Exception):
    """Nothing to grade, with the reason."""


@dataclass(frozen=True)
class Entry:
    """One submitted file: how to show it, where it is, whose it is, and its content hash."""

    submission: str
    path: Path
    learner: str
    key: str

    def as_dict(self) -> dict:
        return {"submission": self.submission, "learner": self.learner, "key": self.key}


def learner_from_name(path: Path) -> str:
    stem = path.stem
    if "__" in stem and stem.split("__")[0].strip():
        return stem.split("__")[0].strip()
    for lesson in sorted(lesson_ids(), key=len, reverse=True):
        if stem == lesson:
            return path.parent.name or stem
        for sep in ("_", "-", ".", " "):
            if stem.endswith(sep + lesson) and stem[: -len(lesson) - 1].strip():
                return stem[: -len(lesson) - 1].strip()
    return stem


def _walk(folder: Path, skip: set[Path]) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skip
        )
        found.extend(
            here / f for f in sorted(filenames) if f.endswith(".ipynb") and not f.startswith(".")
        )
    return found


def collect(inputs: list[str], *, skip: list[Path] = ()) -> list[Entry]:
    """Every submission under `inputs`, sorted by displayed path, each file once."""
    skip_set = {Path(p).resolve() for p in skip}
    entries: dict[Path, Entry] = {}
    missing = []
    for raw in inputs:
        base = Path(raw)
        if base.is_dir():
            for path in _walk(base, skip_set):
                rel = path.relative_to(base)
                learner = rel.parts[0] if len(rel.parts) > 1 else learner_from_name(path)
                shown = (Path(raw) / rel).as_posix()
                _add(entries, path, shown, learner)
        elif base.is_file():
            _add(entries, base, base.as_posix(), learner_from_name(base.resolve()))
        else:
            missing.append(raw)
    if missing:
        raise NoSubmissions(f"not found: {', '.join(missing)}")
    if not entries:
        raise NoSubmissions(
            f"no notebooks (*.ipynb) found in {', '.join(inputs)}; give the folder of submissions "
            "or the notebook files"
        )
    return sorted(entries.values(), key=lambda e: e.submission)


def _add(entries: dict, path: Path, shown: str, learner: str) -> None:
    real = path.resolve()
    if real in entries:
        return
    try:
        data = path.read_bytes()
    except OSError:
        data = b""  # unreadable: graded as an empty file, with a row that says so
    entries[real] = Entry(shown, real, learner, content_key(data))
