"""The data that crosses the sandbox's wall, and nothing else: cases in, observations out.

Cases go in as `cases.json` (structure, numbers, strings) plus `cases.npz` (arrays, read with
`allow_pickle=False`); the sandbox's report comes back as one JSON file that the grader reads at
most `REPORT_LIMIT` bytes of and checks for shape before using. No pickle in either direction:
nothing the sandbox writes can run code in the grader.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..probing import Case

REPORT_LIMIT = 8 * 2**20  # bytes of the sandbox's report the grader reads
CASES_JSON, CASES_NPZ = "cases.json", "cases.npz"


class CannotSend(Exception):
    """A case holds a value that is not plain data (so it cannot enter the sandbox)."""


# The course's own data classes a case may hold (fields of plain data), e.g. a seq2seq split.
_DATACLASSES = {"Seq2SeqData"}


def _dataclasses() -> dict[str, type]:
    from ..seq2seq import Seq2SeqData

    return {"Seq2SeqData": Seq2SeqData}


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise CannotSend("an array of Python objects")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return {"__scalar__": _encode(np.asarray(value), arrays)}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if type(value).__name__ in _DATACLASSES and dataclasses.is_dataclass(value):
        fields = {
            f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)
        }
        return {"__dataclass__": type(value).__name__, "fields": fields}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, dict) and all(
        isinstance(k, bool | int | str | np.integer) and not isinstance(k, bool) for k in value
    ):  # e.g. a class_weight dict {token id: weight}: keys keep their type as pairs
        return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    raise CannotSend(f"a {type(value).__name__}")


def _decode(value: Any, arrays) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__scalar__" in value:
        return _decode(value["__scalar__"], arrays)[()]
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__dataclass__" in value:
        kind = _dataclasses()[value["__dataclass__"]]  # only the course's own data classes
        return kind(**{k: _decode(v, arrays) for k, v in value["fields"].items()})
    if "__items__" in value:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value["__items__"]}
    return {k: _decode(v, arrays) for k, v in value["__dict__"].items()}


def write_cases(folder: Path, cases: dict[str, list[Case]]) -> None:
    """Write each exercise's cases into `folder` (raises CannotSend for non-data values)."""
    arrays: dict[str, np.ndarray] = {}
    table = {
        name: [
            {"args": _encode(tuple(c.args), arrays), "kwargs": _encode(dict(c.kwargs), arrays)}
            for c in items
        ]
        for name, items in cases.items()
    }
    (folder / CASES_JSON).write_text(json.dumps(table), encoding="utf-8")
    np.savez(folder / CASES_NPZ, **arrays)


def read_cases(folder: Path, name: str) -> list[Case]:
    """One exercise's cases, as written by `write_cases` (in the sandbox)."""
    folder = Path(folder)
    table = json.loads((folder / CASES_JSON).read_text(encoding="utf-8"))
    with np.load(folder / CASES_NPZ, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return [
        Case(_decode(c["args"], arrays), _decode(c["kwargs"], arrays)) for c in table.get(name, [])
    ]


def read_report(path: Path) -> dict | None:
    """The sandbox's report, or None when it is missing, too large, not JSON or not an object."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(REPORT_LIMIT + 1)
    except OSError:
        return None
    if len(data) > REPORT_LIMIT:
        return None
    try:
        report = json.loads(data)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


_OUTCOMES = {"value", "raised", "timeout", "not_attempted", "not_callable"}


def well_formed(observation: Any) -> bool:
    """Whether one observation has the shape a probe writes (judging.py's docstring): the judge
    is only ever given those, so a forged one cannot make it misbehave."""
    if not isinstance(observation, dict) or observation.get("outcome") not in _OUTCOMES:
        return False
    if observation["outcome"] != "value":
        return True
    shape, kind = observation.get("shape", "?"), observation.get("kind", "?")
    shape_ok = shape is None or (
        isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)
    )
    kind_ok = kind is None or isinstance(kind, str)
    extra_ok = isinstance(observation.get("extra", {}), dict)
    return shape_ok and kind_ok and extra_ok and "value" in observation


def observations_of(report: dict, name: str, count: int) -> list[dict] | None:
    """The observations the report gives for exercise `name`: `count` well-formed ones, or
    None."""
    got = (report.get("observations") or {}).get(name) if isinstance(report, dict) else None
    if not isinstance(got, list) or len(got) != count:
        return None
    return got if all(well_formed(o) for o in got) else None
