"""`python -m course_utils grade | merge | guide` (and the `course-grade` console script).

Exit status of `grade` and `merge`: 0 when every submission was graded (whatever its grades),
1 when some could not be graded by the grader (they are listed, and a rerun retries them),
2 when nothing could be graded at all (no submissions, output folder not writable, bad
arguments), 130 when interrupted (what was graded is kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .runner import Limits

DEFAULT_OUT = "grades"


def _cores() -> int:
    """The cores this process may use (a container's or Slurm's share, not the whole host)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    d = Limits()
    parser.add_argument("inputs", nargs="+", help="folders and/or notebook files of submissions")
    parser.add_argument("-o", "--out", default=DEFAULT_OUT, help="output folder (default: grades)")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=_cores(),
        help="submissions graded at once (default: the machine's cores)",
    )
    parser.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="grade only shard I of N (I = 0..N-1), e.g. $SLURM_ARRAY_TASK_ID/4",
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=d.cell_timeout,
        help=f"seconds one learner cell may run (default {d.cell_timeout:g})",
    )
    parser.add_argument(
        "--notebook-timeout",
        type=float,
        default=d.notebook_timeout,
        help=f"seconds all learner cells may run (default {d.notebook_timeout:g})",
    )
    parser.add_argument(
        "--grade-timeout",
        type=float,
        default=d.grade_timeout,
        help=f"seconds the checks may run (default {d.grade_timeout:g})",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=d.memory_mb,
        help=f"resident memory of one kernel, in MB (default {d.memory_mb})",
    )
    parser.add_argument("--kernel", default="masking-course", help="Jupyter kernel to run in")
    parser.add_argument(
        "--regrade", action="store_true", help="grade again even what the output folder already has"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")


def _writable(out: Path) -> str | None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"cannot write to the output folder {out}: {exc.strerror or exc}"
    return None


def _finish(out: Path, manifest: list[dict], not_graded: list[str], stream) -> int:
    from .report import write_all
    from .store import Store

    store = Store(out)
    results = {row["key"]: store.get(row["key"], any_fingerprint=True) for row in manifest}
    rows = write_all(out, manifest, results)
    errors = sum(r["status"] == "error" for r in rows)
    print(
        f"wrote {out}/grades.csv ({len(rows)} rows, {errors} error), summary.md, "
        f"pass_rates.png, feedback/ ({len(manifest)} page(s))",
        file=stream,
    )
    missing = [row["submission"] for row in manifest if results[row["key"]] is None]
    if not_graded or missing:
        print(f"{len(set(missing))} submission(s) could not be graded:", file=stream)
        for line in not_graded or missing:
            print(f"  {line}", file=stream)
        print("run the same command again to retry them", file=stream)
        return 1
    return 0


def run_grade(args: argparse.Namespace) -> int:
    from .batch import grade_all
    from .collect import NoSubmissions, collect
    from .shard import ShardError, parse_shard, select, write_manifest
    from .store import InstallationChanged

    stream = sys.stderr
    out = Path(args.out)
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ShardError as exc:
        print(f"error: {exc}", file=stream)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=stream)
        return 2
    problem = _writable(out)
    if problem:
        print(f"error: {problem}", file=stream)
        return 2
    try:
        entries = collect(args.inputs, skip=[out])
    except NoSubmissions as exc:
        print(f"error: {exc}", file=stream)
        return 2
    if shard:
        entries = select(entries, *shard)
        print(f"shard {shard[0]}/{shard[1]}: {len(entries)} submission(s)", file=stream)
    limits = Limits(
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        grade_timeout=args.grade_timeout,
        memory_mb=args.memory_mb,
    )
    write_manifest(out, entries)
    try:
        outcome = grade_all(
            entries,
            out,
            limits=limits,
            jobs=args.jobs,
            kernel=args.kernel,
            regrade=args.regrade,
            stream=None if args.quiet else stream,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: what was graded is saved in the output folder; run the same "
            "command again to grade the rest",
            file=stream,
        )
        return 130
    except InstallationChanged as exc:
        print(f"error: {exc}", file=stream)
        return 1
    print(
        f"graded {outcome.graded}, already graded {outcome.reused}, "
        f"{outcome.problems} with a problem, {len(outcome.not_graded)} not graded",
        file=stream,
    )
    manifest = [e.as_dict() for e in entries]
    return _finish(out, manifest, outcome.not_graded, stream)


def run_merge(args: argparse.Namespace) -> int:
    from .shard import ShardError, merge, write_manifest

    out = Path(args.out)
    problem = _writable(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        manifest, _missing = merge(out, [Path(p) for p in args.shards])
    except ShardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .collect import Entry

    write_manifest(
        out,
        [Entry(r["submission"], Path(r["submission"]), r["learner"], r["key"]) for r in manifest],
    )
    print(
        f"merged {len(args.shards)} shard folder(s): {len(manifest)} submission(s)", file=sys.stderr
    )
    return _finish(out, manifest, [], sys.stderr)


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="the merged output folder")
    parser.add_argument("shards", nargs="+", help="output folders of `grade --shard I/N`")


def main(argv: list[str] | None = None) -> int:
    """The `course-grade` console script: the same as `python -m course_utils grade`."""
    parser = argparse.ArgumentParser(
        prog="course-grade", description="Grade submitted exercise notebooks of the course."
    )
    add_grade_arguments(parser)
    return run_grade(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
