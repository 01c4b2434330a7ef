"""Run a command on a submission in a sandbox, and end everything it started.

Two isolations, chosen once per grading run by `isolation()`:

- "bubblewrap" (Debian `bubblewrap`, when installed and its self-test passes): new user, PID,
  network, IPC and UTS namespaces (no network); the system, the Python installation and the
  course's package read-only; `course_utils/answers` hidden under an empty tmpfs; nothing else
  of the disk visible (no `solutions/`, no other submissions, no output folder); a private
  `/tmp` of limited size; `IN` read-only at /grading/in and `OUT` writable at /grading/out;
  --die-with-parent and its own PID namespace, so every process the submission starts ends
  when the sandbox's main process does or when the grader kills it.
- "process-group" (fallback): the command runs as a plain process in its own session with a
  scrubbed environment; at the end its group, its descendants and any process carrying the
  run's marker in its environment are killed. It hides nothing on disk: each result says which
  isolation graded it.

Both: rlimits through `prlimit` (file size caps stderr and every file written; CPU time;
no core dumps), stdout to /dev/null and stderr to a file (never a pipe a leftover can hold),
a hard wall-clock limit, and a resident-memory backstop measured from outside.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUBBLEWRAP, PROCESS_GROUP = "bubblewrap", "process-group"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
HIDDEN = ("answers",)  # folders of the package the sandbox must not see
INSIDE_IN, INSIDE_OUT = "/grading/in", "/grading/out"
FILE_LIMIT = 64 * 2**20  # bytes: stderr and any one file the sandbox writes
TMP_LIMIT = 512 * 2**20  # bytes of the sandbox's private /tmp
MARKER = "COURSE_SANDBOX_RUN"


@dataclass(frozen=True)
class Finished:
    """How a sandboxed command ended."""

    returncode: int | None  # None: killed by the grader
    killed_for: str | None  # "time" | "memory" | "disk" | None
    seconds: float


def _python_roots() -> list[str]:
    """The folders the interpreter needs: the venv, the installation it was made from."""
    roots = {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parent.parent)}
    return sorted(r for r in roots if r and r != "/")


def _env(marker: str, *, inside: bool) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's own (tokens, paths, --out) leaks in."""
    tmp = "/tmp" if inside else os.environ.get("TMPDIR", "/tmp")
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": f"{tmp}/home",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PACKAGE_DIR.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{tmp}/mpl",
        "KERAS_HOME": f"{tmp}/keras",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/jupyter",
        MARKER: marker,
    }


def bwrap_args(in_dir: Path, out_dir: Path, marker: str) -> list[str]:
    """The bubblewrap command line (without the command) for one submission."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
    args += ["--uid", "65534", "--gid", "65534", "--clearenv"]
    for key, value in _env(marker, inside=True).items():
        args += ["--setenv", key, value]
    # The private /tmp first: a course or a venv that lives under /tmp (a CI checkout) is bound
    # on top of it below, instead of being hidden by it.
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_LIMIT), "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/" + link)
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.exists():
            args += ["--ro-bind", str(target), f"/{link}"]
    for name in ("ld.so.cache", "localtime", "passwd", "group", "nsswitch.conf", "hosts"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for root in _python_roots():
        args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(PACKAGE_DIR), str(PACKAGE_DIR)]
    for name in HIDDEN:
        if (PACKAGE_DIR / name).exists():
            args += ["--tmpfs", str(PACKAGE_DIR / name)]
    args += ["--ro-bind", str(in_dir), INSIDE_IN, "--bind", str(out_dir), INSIDE_OUT]
    args += ["--chdir", "/tmp"]
    return args


def _limits(cpu_seconds: float) -> list[str]:
    if not shutil.which("prlimit"):
        return []
    return [
        "prlimit",
        f"--fsize={FILE_LIMIT}",
        f"--cpu={int(cpu_seconds) + 1}",
        "--core=0",
        "--",
    ]


_SELF_TEST = (
    "import os\n"
    "import course_utils.registry\n"
    f"assert not os.listdir({str(PACKAGE_DIR / 'answers')!r})\n"
    f"assert not os.path.exists({str(PACKAGE_DIR.parent / 'solutions')!r})\n"
    f"open({INSIDE_OUT!r} + '/ok', 'w').write(str(os.getpid()))\n"
)


@lru_cache(maxsize=1)
def isolation() -> str:
    """ "bubblewrap" when bwrap is installed and passes a self-test here, else "process-group".
    `COURSE_GRADE_ISOLATION=process-group` forces the fallback."""
    if os.environ.get("COURSE_GRADE_ISOLATION") == PROCESS_GROUP or not shutil.which("bwrap"):
        return PROCESS_GROUP
    import tempfile

    with tempfile.TemporaryDirectory(prefix="course-sandbox-test-") as tmp:
        in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        in_dir.mkdir()
        out_dir.mkdir()
        cmd = [*bwrap_args(in_dir, out_dir, "self-test"), sys.executable, "-c", _SELF_TEST]
        try:
            done = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return PROCESS_GROUP
        ok = done.returncode == 0 and (out_dir / "ok").read_text() == "2"
        return BUBBLEWRAP if ok else PROCESS_GROUP


def _kill(proc: subprocess.Popen, marker: str) -> None:
    """Kill the sandbox: its process group, its descendants, and (fallback) any process that
    carries this run's marker, e.g. one that left the group with setsid."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass
    _kill_marked(marker)


def _kill_marked(marker: str) -> None:
    import psutil

    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get(MARKER) == marker:
                p.kill()
        except psutil.Error:
            pass


def _out_too_big(out_dir: Path, limit: int = FILE_LIMIT, entries: int = 1000) -> bool:
    """Whether the writable exchange folder (the one folder of the grader's disk the sandbox
    can write to) holds more than `limit` bytes or `entries` files and folders."""
    total, seen = 0, 0
    for root, dirs, files in os.walk(out_dir):
        seen += len(dirs) + len(files)
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
        if total > limit or seen > entries:
            return True
    return False


def _rss_mb(proc: subprocess.Popen) -> float:
    import psutil

    try:
        root = psutil.Process(proc.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.Error:
        return 0.0


def run(
    command: list[str],
    *,
    in_dir: Path,
    out_dir: Path,
    stderr: Path,
    how: str,
    wall_seconds: float,
    memory_mb: float,
    started: Callable[[subprocess.Popen], None] | None = None,
) -> Finished:
    """Run `command` (its paths already those of the sandbox: `inside_paths(how, ...)`) in the
    sandbox `how`; kill everything it started when it ends or overruns."""
    marker = secrets.token_hex(8)
    if how == BUBBLEWRAP:
        full = [*_limits(wall_seconds), *bwrap_args(in_dir, out_dir, marker), *command]
        env = None
        cwd = None
    else:
        env = _env(marker, inside=False)
        tmp = Path(out_dir).parent / "tmp"
        tmp.mkdir(exist_ok=True)
        env.update(HOME=str(tmp), MPLCONFIGDIR=str(tmp), JUPYTER_RUNTIME_DIR=str(tmp))
        env.update(KERAS_HOME=str(tmp), TMPDIR=str(tmp))
        full = [*_limits(wall_seconds), *command]
        cwd = str(tmp)
    begun = time.monotonic()
    killed_for = None
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    if started is not None:
        started(proc)
    try:
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - begun > wall_seconds:
                killed_for = "time"
            elif _rss_mb(proc) > memory_mb:
                killed_for = "memory"
            elif _out_too_big(out_dir):
                killed_for = "disk"
            if killed_for:
                _kill(proc, marker)
                proc.wait()
                break
    finally:
        if proc.poll() is None:  # interrupted (Ctrl-C): leave nothing behind
            _kill(proc, marker)
            proc.wait()
    if how != BUBBLEWRAP:
        _kill(proc, marker)  # leftovers that outlived the main process
    return Finished(None if killed_for else proc.returncode, killed_for, time.monotonic() - begun)


def inside_paths(how: str, in_dir: Path, out_dir: Path) -> tuple[str, str]:
    """Where `in_dir` and `out_dir` are seen from inside the sandbox."""
    return (INSIDE_IN, INSIDE_OUT) if how == BUBBLEWRAP else (str(in_dir), str(out_dir))


def stderr_tail(path: Path, limit: int = 4096) -> str:
    """The last lines of a sandbox's stderr file, read from its end (never all of it)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            data = fh.read(limit)
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").strip().splitlines()[-3:]
    return " / ".join(line[:200] for line in lines)
