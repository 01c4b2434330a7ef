"""Graded results kept in the output folder, keyed by the submission's content hash.

`OUT/results/<sha256>.json` holds the result of grading a notebook whose bytes hash to
`<sha256>`, written atomically as soon as it is graded. A second run over the same output
folder skips every submission whose hash is already there, so an interrupted run resumes
without regrading or losing anything; identical notebooks are graded once. Each result also
records a fingerprint of the course's installed files that decide a grade (store.py's
`_installed_files`): after a change to the checks, old results no longer match and are graded
again, and a resume first verifies that the files on disk still hash to the fingerprint. Only
the grader's process writes here: the sandbox never sees the output folder.
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


def _installed_files() -> list[Path]:
    """The files that decide a grade, as installed: every source of the package (the checks,
    the lessons, the answers, the sandbox; not `_NOT_GRADING`) and every `.pth` file of the
    environment (each can run code at every interpreter start)."""
    import site
    import sysconfig

    files = [
        p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix() not in _NOT_GRADING
    ]
    site_dirs = {sysconfig.get_paths()["purelib"], *getattr(site, "getsitepackages", list)()}
    for folder in sorted(site_dirs):
        files += sorted(Path(folder).glob("*.pth"))
    return sorted(set(files))


@lru_cache(maxsize=1)
def installed_fingerprint() -> str:
    """A hash of `_installed_files()` (names and bytes), computed once per grading run, before
    any submission runs; `verify_installation` compares the disk with it."""
    return _hash_files()


def _hash_files() -> str:
    digest = hashlib.sha256()
    for path in _installed_files():
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:16]


class InstallationChanged(RuntimeError):
    """The course's installed files changed while grading (a submission edited them?)."""


def verify_installation() -> None:
    """Raise InstallationChanged when the installed files no longer hash to the fingerprint
    this run started with: results graded after the change could be forged."""
    if _hash_files() != installed_fingerprint():
        raise InstallationChanged(
            "the course's installed files changed during grading (a submission may have edited "
            "the checks or added a .pth file): reinstall the course and grade again"
        )


def fingerprint() -> str:
    """The fingerprint results are stored under; a resume reuses a result only under the
    same one, and only after the files on disk are verified to still match it."""
    return installed_fingerprint()


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
        if not any_fingerprint:
            verify_installation()
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
