"""Known set-up problems, as data: the instructor guide's table is generated from this list
(`python -m course_utils guide`), so a symptom, its cause and its fix are written once and a
test can hold them to what the tools really print."""

from __future__ import annotations

from dataclasses import dataclass

from .lab import KERNEL_TITLE


@dataclass(frozen=True)
class Problem:
    symptom: str  # what the person sees, quoted as the tool prints it where it prints one
    cause: str
    fix: str


PROBLEMS = [
    Problem(
        "`make found no Python on PATH`",
        "no Python is installed, or it is not on PATH",
        "install Python 3.11 (python.org, pyenv, or `conda create -n py311 python=3.11`); or name "
        "one: `make lab PYTHON=/path/to/python3.11`",
    ),
    Problem(
        "`The course needs Python 3.11, 3.12 or 3.13, but ... is Python 3.10`",
        "TensorFlow 2.21 and the course are tested on Python 3.11-3.13 only",
        "install Python 3.11 and run `make lab PYTHON=/path/to/python3.11`",
    ),
    Problem(
        "`make: command not found` (Windows)",
        "no make on Windows",
        "use WSL2 (Ubuntu), or conda: `conda env create -f environment.yml`, "
        "`conda activate masking-course`, `python -m course_utils install-kernel`, "
        "`python -m course_utils lab`",
    ),
    Problem(
        "pip times out or cannot find `tensorflow`",
        "no network, a proxy, or a platform without TensorFlow 2.21 wheels",
        "run `make setup` before the day on a good network; behind a proxy set "
        "`PIP_INDEX_URL`/`HTTPS_PROXY`; check the platform has TensorFlow 2.21 wheels",
    ),
    Problem(
        "`Running as root is not recommended` / JupyterLab refuses to start",
        "containers and CI machines run as root",
        "nothing to do: `make lab` adds `--allow-root` itself when run as root",
    ),
    Problem(
        "`The port 8888 is already in use, trying another port.` in the terminal",
        "another Jupyter already serves on 8888; Jupyter moves to the next free port by itself",
        "nothing to do: open the URL the terminal prints (e.g. port 8889); to choose the port: "
        '`make lab LAB_ARGS="--port 8899"`',
    ),
    Problem(
        "`No such kernel named masking-course` (grader, or JupyterLab asks for a kernel)",
        "the course's kernel is not registered in the environment Jupyter runs from",
        "`python -m course_utils install-kernel` in the course's environment (`make setup` does "
        "it; Binder and conda users: see the README)",
    ),
    Problem(
        "the first cell says `This kernel (...) cannot load the course`",
        "the notebook runs on a kernel of another Python environment",
        f"Kernel › Change Kernel… › “{KERNEL_TITLE}”; on Colab the cell installs the course itself",
    ),
    Problem(
        "the first cell says `Note: this notebook runs on another kernel than ...`",
        "JupyterLab's default “Python 3” kernel was picked; it works, but TensorFlow's start-up "
        "log lands in the notebook",
        f"Kernel › Change Kernel… › “{KERNEL_TITLE}”",
    ),
    Problem(
        "`cudart_stub`, `oneDNN custom operations`, `cuInit` lines in the terminal",
        "TensorFlow's C++ start-up log on a machine without a GPU",
        "harmless; the course kernel keeps them out of the notebooks",
    ),
    Problem(
        "the kernel dies when a notebook trains",
        "not enough memory (each TensorFlow kernel holds about 0.6 GB)",
        "close other notebooks' kernels; on a shared server give each learner at least 1 GB",
    ),
    Problem(
        "a check says `` `x` is not defined yet `` or “not attempted” although the learner wrote "
        "code",
        "the check ran before the cell that defines the answer, or the function was renamed",
        "run the definition cell, then the check; keep the name from the exercise",
    ),
    Problem(
        "`progress()` shows old results",
        "progress is kept in `.course_progress.jsonl` in the course folder (installed from a "
        "wheel: in the `masking-course` folder `lab` made, else the user data folder); a pass "
        "counts until the file is deleted",
        "delete that file to start over, or set `COURSE_PROGRESS_FILE`",
    ),
    Problem(
        "on Colab the first cell says `this session loaded numpy ... before the course was "
        "installed`",
        "Colab had loaded older packages before the cell installed the course",
        "Runtime › Restart session, then run the notebook again from the top",
    ),
]


def table_markdown() -> str:
    """The guide's table of known set-up problems."""
    lines = ["| symptom | cause | fix |", "|---|---|---|"]
    for p in PROBLEMS:
        lines.append(f"| {p.symptom} | {p.cause} | {p.fix} |".replace("\n", " "))
    return "\n".join(lines) + "\n"
