"""Graded results kept in the output folder, keyed by the submission's content hash.

`OUT/results/<sha256>.json` holds the result of grading a notebook whose bytes hash to
`<sha256>`, written atomically as soon as it is graded. A second run over the same output
folder skips every submission whose hash is already there, so an interrupted run resumes
without regrading or losing anything; identical notebooks are graded once. Each result also
records a fingerprint of the course_utils sources that decide a grade: after a change to the
checks, old results no longer match and are graded again.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Sources that cannot change a grade (reports, commands, tools for authors).
_NOT_GRADING = {
    "__main__.py",
    "bench.py",
    "execute.py",
    "exercise_builder.py",
    "guide.py",
    "lab.py",
    "grading/batch.py",
    "grading/cli.py",
    "grading/report.py",
    "grading/shard.py",
    "grading/store.py",
}


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of the course_utils sources that decide a grade: the checks, the lessons and
    the helpers they use, and the runner (everything but `_NOT_GRADING`)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() in _NOT_GRADING:
            continue
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Store:
    """One JSON file per graded submission content."""

    def __init__(self, out: Path):
        self.dir = Path(out) / "results"

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: str, *, any_fingerprint: bool = False) -> dict | None:
        try:
            record = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or "result" not in record:
            return None
        if not any_fingerprint and record.get("fingerprint") != fingerprint():
            return None
        return record["result"]

    def put(self, key: str, result: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        record = {"key": key, "fingerprint": fingerprint(), "result": result}
        tmp = self.path(key).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path(key))

    def copy_from(self, other: Store, key: str) -> bool:
        """Copy one record from another store as it is (used by merge)."""
        try:
            text = other.path(key).read_text(encoding="utf-8")
            json.loads(text)
        except (OSError, ValueError):
            return False
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path(key).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path(key))
        return True
