"""Command line: `python -m course_utils build-exercises | setup-cells | execute | install-kernel |
lab | env | grade | merge | guide | experiment`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import exercise_builder, lab


def _build(args: argparse.Namespace) -> int:
    root = Path(args.root)
    try:
        if args.check:
            drift = exercise_builder.check_all(root)
            for item in drift:
                print(f"drift: {item}", file=sys.stderr)
            if drift:
                print(
                    f"{len(drift)} exercise notebook(s) out of date; "
                    "run `python -m course_utils build-exercises`",
                    file=sys.stderr,
                )
                return 1
            print("exercises/ matches solutions/")
            return 0
        for path in exercise_builder.build_all(root):
            print(f"wrote {path}")
        return 0
    except exercise_builder.BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _lab(args: argparse.Namespace) -> int:
    problem = lab.jupyterlab_missing()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        folder, created = lab.serve_folder(Path(args.folder) if args.folder else None)
    except lab.LabProblem as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if created:
        print(f"Copied the course notebooks to {folder}; your edits and progress stay there.")
    lab.install_kernel()
    print(
        f"Starting JupyterLab on {folder} (the first start can take half a minute); "
        "press Ctrl+C here to stop it.",
        flush=True,
    )
    command = lab.lab_command(args.extra, root=folder)
    os.execv(command[0], command)
    return 0  # not reached


def _setup_cells(args: argparse.Namespace) -> int:
    from . import setup_cell

    root = Path(args.root)
    if args.check:
        found = setup_cell.stale(root)
        drift = exercise_builder.check_all(root)
        for path in found:
            print(
                f"stale: {path}: its generated first cells are missing or out of date",
                file=sys.stderr,
            )
        for item in drift:
            print(f"drift: {item}", file=sys.stderr)
        if found or drift:
            print(
                f"{len(found) + len(drift)} notebook(s) out of date; "
                "run `python -m course_utils setup-cells`",
                file=sys.stderr,
            )
            return 1
        print("every notebook starts with its generated cells")
        return 0
    for path in setup_cell.refresh(root):
        print(f"refreshed {path}")
    for path in exercise_builder.build_all(root):
        print(f"wrote {path}")
    return 0


def _env(args: argparse.Namespace) -> int:
    from .environment import check_environment

    report = check_environment()
    print(repr(report))
    return 0 if report.ok else 1


def _execute(args: argparse.Namespace) -> int:
    import nbformat

    from .execute import clean_for_git, run_notebook

    paths = [Path(p) for p in args.paths] or sorted((lab.ROOT / "notebooks").glob("*.ipynb"))
    # Checks run by lectures must not count as the instructor's own progress.
    os.environ.setdefault("COURSE_PROGRESS_FILE", os.devnull)
    failed = 0
    for path in paths:
        run = run_notebook(path, timeout=args.timeout)
        if run.error:
            failed += 1
            print(f"{path}: NOT written, {run.error}", file=sys.stderr)
            continue
        nbformat.write(clean_for_git(run.notebook), path)
        print(f"{path}: executed in {run.seconds:.1f} s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["experiment"]:  # its own parser: `python -m course_utils experiment -h`
        from . import experiment

        return experiment.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build-exercises", help="generate exercises/ from solutions/")
    build.add_argument("--check", action="store_true", help="report drift, write nothing")
    build.add_argument("--root", default=str(lab.ROOT), help="the course folder")
    build.set_defaults(func=_build)
    kernel = sub.add_parser("install-kernel", help="register the course kernel in this environment")
    kernel.add_argument(
        "--user", action="store_true", help="in your Jupyter data folder, not this environment"
    )
    kernel.set_defaults(func=lambda a: print(f"installed {lab.install_kernel(user=a.user)}") or 0)
    server = sub.add_parser("lab", help="start JupyterLab on the course")
    # Everything after `lab` that is not ours goes to JupyterLab (`make lab LAB_ARGS=...`).
    server.add_argument(
        "--folder",
        help="serve this course folder (default: the clone; from a wheel, ./masking-course, "
        "created on first use)",
    )
    server.set_defaults(extra=[])
    server.set_defaults(func=_lab)
    cells = sub.add_parser(
        "setup-cells",
        help="insert or refresh every notebook's generated first cells (launch links, set-up "
        "cell), then regenerate exercises/",
    )
    cells.add_argument("--check", action="store_true", help="report stale notebooks, write nothing")
    cells.add_argument("--root", default=str(lab.ROOT), help="the course folder")
    cells.set_defaults(func=_setup_cells)
    env = sub.add_parser("env", help="compare this environment with the course pins")
    env.set_defaults(func=_env)
    execute = sub.add_parser("execute", help="re-execute lecture notebooks in place")
    execute.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    execute.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    execute.set_defaults(func=_execute)
    from .grading import cli as grading_cli

    grade = sub.add_parser("grade", help="grade submitted exercise notebooks")
    grading_cli.add_grade_arguments(grade)
    grade.set_defaults(func=grading_cli.run_grade)
    merge = sub.add_parser("merge", help="combine the output folders of sharded grading runs")
    grading_cli.add_merge_arguments(merge)
    merge.set_defaults(func=grading_cli.run_merge)
    guide = sub.add_parser("guide", help="regenerate the data sections of instructor/README.md")
    from . import guide as guide_module

    guide_module.add_guide_arguments(guide)
    guide.set_defaults(func=guide_module.run_guide)
    sub.add_parser("experiment", help="compute the capstone's controlled experiment (see -h)")
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "lab":
        args.extra = unknown
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
