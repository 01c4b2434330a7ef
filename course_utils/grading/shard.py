"""Split one class across machines, and put the pieces back together.

`--shard I/N` (I from 0 to N-1, as Slurm array task ids and Kubernetes completion indexes
count) grades the submissions whose content hash is I modulo N. The split depends only on the
notebooks' bytes, so every machine computes the same split from the same inputs without talking
to the others, and identical notebooks land in the same shard. `merge` unions the shards'
result stores and manifests into one output folder and writes the reports from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .collect import Entry
from .store import Store

MANIFEST = "submissions.json"


class ShardError(Exception):
    pass


def parse_shard(spec: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise ShardError(f"--shard wants I/N, like 0/4, not {spec!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ShardError(f"--shard {spec}: I must be between 0 and N-1 (N = {count})")
    return index, count


def select(entries: list[Entry], index: int, count: int) -> list[Entry]:
    return [e for e in entries if int(e.key, 16) % count == index]


def write_manifest(out: Path, entries: list[Entry]) -> None:
    rows = sorted((e.as_dict() for e in entries), key=lambda r: r["submission"])
    (Path(out) / MANIFEST).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def read_manifest(folder: Path) -> list[dict]:
    path = Path(folder) / MANIFEST
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ShardError(f"{folder} is not a grading output folder (no {MANIFEST})") from None
    except ValueError:
        raise ShardError(f"{path} is not valid JSON") from None
    return rows


def merge(out: Path, shard_dirs: list[Path]) -> tuple[list[dict], int]:
    """Copy every shard's results into `out/results`; returns the merged manifest and how many
    of its submissions have no result (a shard that did not finish)."""
    out = Path(out)
    for folder in shard_dirs:
        if Path(folder).resolve() == out.resolve():
            raise ShardError(f"the merged output folder cannot be one of the shards ({folder})")
    store = Store(out)
    rows: dict[str, dict] = {}
    missing = 0
    for folder in shard_dirs:
        shard = Store(folder)
        for row in read_manifest(folder):
            if row["submission"] in rows:
                continue
            rows[row["submission"]] = row
            if shard.get(row["key"], any_fingerprint=True) is not None:
                store.copy_from(shard, row["key"])
    for row in rows.values():
        if store.get(row["key"], any_fingerprint=True) is None:
            missing += 1
    return sorted(rows.values(), key=lambda r: r["submission"]), missing
