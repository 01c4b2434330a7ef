"""Inside the sandbox: execute one submission in a fresh kernel and probe its answers.

Run as `python -m course_utils.grading.runner IN OUT` by sandbox.py (bubblewrap, or the
process-group fallback), one process per submission. `IN` (read-only) holds `job.json`, the
submission's folder as the grader copied it, and the cases the grader drew from its secret seed
(exchange.py); the report goes to `OUT/report.json`. Everything here, the runner included, is
on the learner's side of the wall: the report is data that the grader checks and judges, so a
notebook that tampers with this process can spoil its own observations but never pass a check.

What happens to a submission:
1. its folder is copied to the sandbox's private /tmp (again for each attempt); the kernel
   runs there, with its progress file there too;
2. its code cells run in order in a fresh `masking-course` kernel. A cell that raises is noted
   and the next cells still run (the learner's later answers still count). A cell that runs
   past `cell_timeout`, or past what is left of `notebook_timeout`, is interrupted; once the
   notebook's budget is spent the remaining cells are skipped. Shell escapes (`!cmd`, `%pip`)
   are not run. Output is counted, never kept (only error names are kept);
3. a watchdog reads the kernel's resident memory (with its children) with psutil and kills the
   kernel above `memory_mb`. RLIMIT_AS is not used: a TensorFlow kernel reserves about 2-2.5 GB
   of virtual memory for 0.6 GB resident, so an address-space limit either breaks TensorFlow
   or limits nothing;
4. if the kernel dies in a learner cell (os._exit, a crash, the memory limit, an uninterruptible
   loop), a fresh kernel reruns the notebook without that cell, at most `max_attempts` times;
5. a reset cell removes IPython hooks and trace functions, then one observe cell per exercise
   runs its probe on the grader's cases (`grade_timeout` each). An exercise whose probe does
   not finish (a retry loop that swallows the interrupt) is reported as unfinished and the
   notebook is rerun for the remaining exercises: the loop costs that exercise only.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MIME = "application/x-course-grade+json"
_COPY_LIMIT = 50 * 2**20  # bytes of sibling files copied next to a submission


@dataclass(frozen=True)
class Limits:
    """Per-submission limits (seconds, megabytes)."""

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    grade_timeout: float = 120.0
    call_timeout: float = 20.0  # one call of a learner's function in a check (the course default)
    memory_mb: int = 4096
    kernel_start_timeout: float = 120.0
    max_attempts: int = 3

    def hard_timeout(self) -> float:
        """After this, the batch kills the runner process whatever it is doing."""
        per = self.kernel_start_timeout + self.notebook_timeout + self.grade_timeout + 60
        return per * self.max_attempts + 60


@dataclass
class CellRun:
    status: str  # ok | error | timeout | dead
    ename: str = ""
    evalue: str = ""
    output_bytes: int = 0
    payloads: list = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class CodeCell:
    """One code cell of a submission: its 1-based position among all cells, and its source."""

    number: int
    source: str

    @property
    def label(self) -> str:
        first = next((ln.strip() for ln in self.source.splitlines() if ln.strip()), "")
        first = first if len(first) <= 50 else first[:47] + "..."
        return f"cell {self.number} (`{first}`)" if first else f"cell {self.number}"


# Shell escapes and magics that reach outside the kernel; the grader does not run them.
# (`%%capture` only silences output, so it runs: dropping it dropped an honest import cell.)
_SHELL_LINE = re.compile(r"^(?P<indent>\s*)(?:!|%(?:pip|conda|mamba|system|sx|sc)\b)")
_SHELL_CELL = re.compile(r"^\s*%%(?:bash|sh|script|system|sx|writefile|file)\b")


def strip_shell(source: str) -> tuple[str, bool]:
    """The cell without shell escapes and `%pip`-style magics (which could change the grader's
    environment), and whether anything was removed. Removed lines become `pass`."""
    if _SHELL_CELL.match(source):
        return "pass  # cell magic removed by the grader", True
    out, removed = [], False
    for line in source.splitlines():
        match = _SHELL_LINE.match(line)
        if match:
            out.append(f"{match.group('indent')}pass  # removed by the grader")
            removed = True
        else:
            out.append(line)
    return "\n".join(out), removed


class KernelStartError(Exception):
    """The kernel could not be started: a problem of the grading machine, not the submission."""


# --------------------------------------------------------------------------- the kernel


class Kernel:
    """A course kernel with a resident-memory watchdog and time-limited cell execution."""

    def __init__(self, name: str, cwd: Path, env: dict, limits: Limits, sockets: Path):
        from jupyter_client.manager import KernelManager

        self.limits = limits
        self.killed_for: str | None = None
        self.peak_mb = 0.0
        # Unix sockets, not TCP: parallel kernels cannot race for the same free ports.
        self.km = KernelManager(kernel_name=name, transport="ipc", ip=str(sockets))
        try:
            self.km.start_kernel(cwd=str(cwd), env=env)
            self.kc = self.km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=limits.kernel_start_timeout)
        except Exception as exc:
            self.shutdown()
            raise KernelStartError(f"{type(exc).__name__}: {exc}") from None
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def _watchdog(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self.pid)
        except Exception:
            return
        limit = self.limits.memory_mb * 2**20
        while not self._stop.wait(0.1):
            try:
                procs = [proc, *proc.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
            except Exception:
                return  # the kernel is gone
            self.peak_mb = max(self.peak_mb, rss / 2**20)
            if rss > limit:
                self.killed_for = "memory"
                for p in reversed(procs):
                    try:
                        p.kill()
                    except Exception:
                        pass
                return

    def alive(self) -> bool:
        try:
            return bool(self.km.is_alive())
        except Exception:
            return False

    def run(self, code: str, timeout: float, *, store_history: bool = True) -> CellRun:
        """Execute one cell; interrupt it after `timeout` s, kill the kernel if that fails."""
        start = time.monotonic()
        result = CellRun("ok")
        msg_id = self.kc.execute(
            code, store_history=store_history, allow_stdin=False, stop_on_error=False
        )
        deadline = start + max(timeout, 0.1)
        interrupted = False
        while True:
            if self.killed_for:
                result.status = "dead"
                break
            now = time.monotonic()
            if now >= deadline:
                if interrupted:  # the interrupt did not stop it: kill the kernel
                    self.killed_for = "timeout"
                    self.kill()
                    result.status = "dead"
                    break
                interrupted = True
                result.status = "timeout"
                try:
                    self.km.interrupt_kernel()
                except Exception:
                    pass
                deadline = now + 10.0
                continue
            try:
                msg = self.kc.get_iopub_msg(timeout=min(0.25, deadline - now))
            except queue.Empty:
                if not self.alive():
                    result.status = "dead"
                    break
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind == "stream":
                result.output_bytes += len(content.get("text", ""))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                data = content.get("data", {})
                result.output_bytes += sum(len(str(v)) for v in data.values())
                if MIME in data and len(result.payloads) < 1000:
                    result.payloads.append(data[MIME])
            elif kind == "error":
                if result.status == "ok":
                    result.status = "error"
                result.ename = str(content.get("ename", ""))[:100]
                result.evalue = (
                    str(content.get("evalue", "")).strip().splitlines()[0][:200]
                    if str(content.get("evalue", "")).strip()
                    else ""
                )
        self._drain_shell()
        result.seconds = time.monotonic() - start
        return result

    def _drain_shell(self) -> None:
        try:
            while True:
                self.kc.get_shell_msg(timeout=0.01)
        except Exception:
            pass

    def kill(self) -> None:
        import psutil

        pid = self.pid
        if pid is None:
            return
        try:
            proc = psutil.Process(pid)
            for p in [*proc.children(recursive=True), proc]:
                p.kill()
        except Exception:
            pass

    def shutdown(self) -> None:
        """Stop the kernel and any process the learner's code started from it."""
        import psutil

        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
        try:
            children = psutil.Process(self.pid).children(recursive=True) if self.pid else []
        except psutil.Error:
            children = []
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            self.kill()
        for child in children:
            try:
                child.kill()
            except psutil.Error:
                pass


# --------------------------------------------------------------------------- grader cells

_RESET_CELL = """\
def __course_reset():
    import sys, threading
    ip = get_ipython()
    for callbacks in ip.events.callbacks.values():
        callbacks.clear()
    for name in ("input_transformers_post", "ast_transformers"):
        getattr(ip, name, []).clear()
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
__course_reset()
del __course_reset
"""

# Runs one exercise's probe on the cases the grader sent. What it emits is only data for the
# grader's judge (which lives in another process): a notebook that patches anything here can
# change what is observed, never what is expected.
_OBSERVE_CELL = """\
def __course_observe(nonce, lesson, name, in_dir, call_timeout):
    import importlib, json
    ip = get_ipython()
    publish = ip.display_pub.publish

    def emit(**payload):
        publish(data={{"text/plain": "observed", {mime!r}: dict(payload, check=name, nonce=nonce)}}, metadata={{}})

    try:
        registry = importlib.import_module("course_utils.registry")
        probing = importlib.import_module("course_utils.probing")
        checking = importlib.import_module("course_utils.checking")
        exchange = importlib.import_module("course_utils.grading.exchange")
        ex = getattr(registry.exercises(lesson), name)
    except BaseException as exc:
        emit(fatal=f"the course's probes could not be imported ({{type(exc).__name__}}: {{exc}})")
        return
    probing.DEFAULT_CALL_TIMEOUT = call_timeout
    ns = ip.user_ns
    if ex.answer_name not in ns:
        emit(missing=True)
        return
    try:
        emit(observations=json.dumps(ex.observe(ns[ex.answer_name], exchange.read_cases(in_dir, name))))
    except BaseException as exc:
        emit(error=type(exc).__name__)
__course_observe({nonce!r}, {lesson!r}, {name!r}, {in_dir!r}, {call_timeout!r})
del __course_observe
"""


def observe_cell(nonce: str, lesson: str, name: str, in_dir: str, call_timeout: float) -> str:
    return _OBSERVE_CELL.format(
        mime=MIME, nonce=nonce, lesson=lesson, name=name, in_dir=in_dir, call_timeout=call_timeout
    )


# --------------------------------------------------------------------------- one submission


def copy_folder(notebook: Path, into: Path) -> bool:
    """Copy the submission and the files beside it (not other notebooks, hidden files, or more
    than `_COPY_LIMIT` bytes in all). Returns False if sibling files were left out for size.
    Run by the grader: the sandbox sees only this copy."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, into / notebook.name)
    budget = _COPY_LIMIT
    complete = True
    for item in sorted(notebook.parent.iterdir()):
        if item.name.startswith(".") or item.suffix == ".ipynb" or item.is_symlink():
            continue
        if item.name == "course_utils":
            continue  # never let a submission's folder shadow the installed checks
        try:
            if item.is_file():
                size = item.stat().st_size
                if size > budget:
                    complete = False
                    continue
                shutil.copy2(item, into / item.name)
                budget -= size
            elif item.is_dir():
                size = sum(f.stat().st_size for f in item.rglob("*") if f.is_file())
                if size > budget or any(p.suffix == ".ipynb" for p in item.rglob("*.ipynb")):
                    complete = complete and size <= budget
                    continue
                # links stay links: followed here, they could copy in what the sandbox hides
                shutil.copytree(item, into / item.name, symlinks=True)
                budget -= size
        except OSError:
            complete = False
    return complete


def _describe_stop(
    cell_label: str, run: CellRun, kernel: Kernel, limits: Limits, timeout: float
) -> str:
    if kernel.killed_for == "memory":
        return (
            f"{cell_label} used more than {limits.memory_mb} MB of memory; the kernel was stopped"
        )
    if kernel.killed_for == "timeout":
        return (
            f"{cell_label} ran longer than {timeout:g} s and did not stop when interrupted; "
            "the kernel was stopped"
        )
    return f"{cell_label} made the kernel die (os._exit, a crash, or running out of memory)"


def _start_kernel(job: dict, run_dir: Path, workdir: Path, limits: Limits, attempt: int):
    env = dict(os.environ)
    env.update(
        COURSE_PROGRESS_FILE=str(run_dir / ".course_progress.jsonl"),
        MPLBACKEND="Agg",
        PYTHONDONTWRITEBYTECODE="1",
    )
    error = None
    for start_try in range(3):  # a kernel that does not start is the machine's problem
        try:
            sockets = workdir / f"k{attempt}-{start_try}"
            return Kernel(job.get("kernel", "masking-course"), run_dir, env, limits, sockets), None
        except KernelStartError as exc:
            error = exc
            if "NoSuchKernel" in str(exc):
                break
    return None, error


def grade(job: dict, in_dir: Path) -> dict:
    """Run one submission (copied into `in_dir/submission`) and probe each exercise on the
    cases in `in_dir`; returns the report (see `_report`) and never raises."""
    limits = Limits(**job.get("limits", {}))
    started = time.monotonic()
    lesson = job["lesson"]
    names = list(job["exercises"])
    answer_names = job["answer_names"]
    notes: list[str] = list(job.get("notes", []))
    cells = [CodeCell(number, source) for number, source in job["cells"]]
    sources = {}
    for cell in cells:
        source, removed = strip_shell(cell.source)
        sources[cell.number] = source
        if removed:
            notes.append(
                f"{cell.label}: shell commands (`!...`, `%pip`) were not run by the grader"
            )

    skip: set[int] = set()
    seen: dict[str, dict] = {}  # exercise -> what its observe cell emitted
    unfinished: dict[str, str] = {}  # exercise -> why it has no observations
    raised: dict[int, str] = {}
    unrun: set[int] = set()
    deaths = 0
    workdir = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        for attempt in range(1, limits.max_attempts + len(names) + 1):
            pending = [n for n in names if n not in seen and n not in unfinished]
            if not pending:
                break
            run_dir = workdir / f"run{attempt}"
            shutil.copytree(in_dir / "submission", run_dir, symlinks=True)
            kernel, start_error = _start_kernel(job, run_dir, workdir, limits, attempt)
            if kernel is None:
                return _report(
                    started, error=f"the grading kernel did not start ({start_error})", infra=True
                )
            died_at = None
            attempt_notes: list[str] = []
            raised, unrun = {}, set()
            try:
                budget_end = time.monotonic() + limits.notebook_timeout
                for i, cell in enumerate(cells):
                    if cell.number in skip:
                        continue
                    left = budget_end - time.monotonic()
                    if left <= 0:
                        rest = [c.number for c in cells[i:] if c.number not in skip]
                        unrun.update(rest)
                        attempt_notes.append(
                            f"the notebook used up its {limits.notebook_timeout:g} s; cells "
                            f"{', '.join(map(str, rest))} were not run"
                        )
                        break
                    timeout = min(limits.cell_timeout, left)
                    run = kernel.run(sources[cell.number], timeout)
                    if run.output_bytes > 1_000_000:
                        attempt_notes.append(
                            f"{cell.label} printed {run.output_bytes / 1e6:.1f} MB of output "
                            "(the grader keeps none of it)"
                        )
                    if run.status == "dead":
                        died_at = cell
                        notes.append(_describe_stop(cell.label, run, kernel, limits, timeout))
                        break
                    if run.status == "timeout":
                        limit = (
                            "its cell time limit"
                            if timeout >= limits.cell_timeout
                            else "the notebook's time budget"
                        )
                        attempt_notes.append(
                            f"{cell.label} was stopped after {timeout:.0f} s ({limit}); "
                            "is there a loop that never ends?"
                        )
                    elif run.status == "error":
                        raised[cell.number] = run.ename
                        detail = f": {run.evalue}" if run.evalue else ""
                        attempt_notes.append(f"{cell.label} raised {run.ename}{detail}")
                if died_at is None:
                    notes.extend(n for n in attempt_notes if n not in notes)
                    kernel.run(_RESET_CELL, 30, store_history=False)
                    for name in pending:
                        nonce = secrets.token_hex(16)
                        code = observe_cell(
                            nonce,
                            lesson,
                            name,
                            str(in_dir),
                            min(limits.call_timeout, limits.grade_timeout),
                        )
                        run = kernel.run(code, limits.grade_timeout, store_history=False)
                        got = [
                            p
                            for p in run.payloads
                            if isinstance(p, dict) and p.get("nonce") == nonce
                        ]
                        if run.status in ("dead", "timeout") or not got:
                            unfinished[name] = (
                                f"probing `{answer_names.get(name, name)}` did not finish within "
                                f"{limits.grade_timeout:g} s (a loop that never ends, or one that "
                                "catches the interrupt?)"
                                if run.status in ("dead", "timeout")
                                else "the probe did not report (the notebook silenced it)"
                            )
                            if run.status == "dead" or not kernel.alive():
                                break  # the next attempt reruns the notebook for the rest
                            continue
                        seen[name] = got[-1]
                    continue
            finally:
                kernel.shutdown()
            deaths += 1
            skip.add(died_at.number)
            if deaths < limits.max_attempts:
                notes.append(f"the notebook was run again without cell {died_at.number}")
            else:
                return _report(
                    started,
                    error=(
                        f"the kernel died {deaths} times; the last time in {died_at.label}, so "
                        "nothing could be graded"
                    ),
                    notes=notes,
                )
    except Exception as exc:  # a bug or machine problem in the grader itself
        return _report(
            started, error=f"the grader failed ({type(exc).__name__}: {exc})", infra=True
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    fatal = [p["fatal"] for p in seen.values() if "fatal" in p]
    if fatal:
        return _report(started, error=str(fatal[0]), notes=notes)
    observations, checks = {}, []
    for name in names:
        answer = answer_names.get(name, name)
        got = seen.get(name)
        if got is None:
            checks.append(_row(name, "error", unfinished.get(name, "the probe did not report")))
        elif got.get("missing"):
            checks.append(
                _row(name, "not attempted", _missing_message(answer, cells, raised, skip, unrun))
            )
        elif "observations" in got:
            observations[name] = str(got["observations"])
        elif "error" in got:
            checks.append(_row(name, "error", f"the probe was interrupted ({got['error']})"))
        else:
            checks.append(_row(name, str(got.get("status")), str(got.get("message", ""))))
    return _report(started, checks=checks, notes=notes, observations=observations)


def _missing_message(
    answer: str, cells, raised: dict[int, str], skipped: set[int], unrun: set[int]
) -> str:
    defines = re.compile(
        rf"^\s*(?:def\s+{re.escape(answer)}\b|{re.escape(answer)}\s*(?::[^=]*)?=(?!=)|class\s+{re.escape(answer)}\b)",
        re.M,
    )
    for cell in cells:
        if defines.search(cell.source):
            if cell.number in raised:
                return (
                    f"`{answer}` does not exist because {cell.label}, which defines it, raised "
                    f"{raised[cell.number]}"
                )
            if cell.number in unrun:
                return (
                    f"`{answer}` does not exist because {cell.label}, which defines it, was not "
                    "run: the notebook had used up its time budget"
                )
            if cell.number in skipped:
                return f"`{answer}` does not exist because {cell.label}, which defines it, stopped the kernel"
    return (
        f"`{answer}` is not defined anywhere in the notebook: its exercise cell was deleted or the "
        "name was changed"
    )


def _row(check: str, status: str, message: str) -> dict:
    return {"check": check, "status": status, "message": message}


def _report(started, *, checks=None, notes=None, observations=None, error=None, infra=False):
    """What the sandbox hands back (untrusted data: the grader checks every field): rows for
    exercises that could not be probed, each data exercise's observations as a JSON string,
    notes about the cells, or an error."""
    return {
        "checks": checks or [],
        "observations": observations or {},
        "notes": notes or [],
        "error": error,
        "infrastructure": infra,
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """`runner IN OUT`: read IN/job.json, write OUT/report.json (inside the sandbox)."""
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full stderr file: writes fail, no death
    argv = sys.argv[1:] if argv is None else argv
    in_dir, out_dir = Path(argv[0]), Path(argv[1])
    job = json.loads((in_dir / "job.json").read_text(encoding="utf-8"))
    report = grade(job, in_dir)
    tmp = out_dir / "report.tmp"
    tmp.write_text(json.dumps(report), encoding="utf-8")
    os.replace(tmp, out_dir / "report.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
