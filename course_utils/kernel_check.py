"""What every notebook's first cell runs once `course_utils` imports: is this kernel ready?

`ready(kind)` prints nothing in the course's own kernel. Otherwise it says, in one sentence and
without a traceback, what to do: which kernel to pick, that a package is missing, or that a
hosted session must restart after the course was installed into it. It also tells progress what
kind of notebook this is (checks in lectures and solutions are not recorded), and turns a
`NameError` for an exercise's answer (`q.x.check(x)` run before `x` is defined) into a sentence
that points at the definition cell.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import os
import sys

from .lab import KERNEL_ENV, KERNEL_NAME, KERNEL_TITLE

PYTHONS = ((3, 11), (3, 12), (3, 13))
# Modules the notebooks import, and the distribution each comes from.
REQUIRED = {
    "numpy": "numpy",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "tf_keras": "tf_keras",
    "matplotlib": "matplotlib",
}
KINDS = ("lecture", "exercise", "solution")


class SetupProblem(Exception):
    """This kernel cannot run the course; IPython shows only the sentence, never a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def hosted() -> bool:
    """True on Google Colab, where the runtime is the only kernel and the course is installed
    into it by the first cell."""
    return "google.colab" in sys.modules


def _pick_kernel() -> str:
    return (
        f"choose the kernel “{KERNEL_TITLE}” (Kernel › Change Kernel…; `make lab` in the course "
        "folder, or `python -m course_utils install-kernel`, registers it)"
    )


def problems() -> list[str]:
    """What stops this kernel from running the course, one sentence each (empty when ready)."""
    found = []
    if sys.version_info[:2] not in PYTHONS:
        found.append(
            f"this kernel runs Python {sys.version.split()[0]}, but the course needs Python "
            f"3.11, 3.12 or 3.13: {_pick_kernel()}"
        )
    missing = [
        name
        for name in REQUIRED
        if name not in sys.modules and importlib.util.find_spec(name) is None
    ]
    if missing:
        found.append(
            f"this kernel ({sys.executable}) lacks {', '.join(missing)}: {_pick_kernel()}, "
            "or install the course into it as the README says"
        )
    stale = []
    for module, dist in REQUIRED.items():
        loaded = getattr(sys.modules.get(module), "__version__", None)
        try:
            on_disk = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        if loaded and loaded != on_disk:
            stale.append(f"{module} {loaded} (now {on_disk})")
    if stale:
        found.append(
            f"this session loaded {', '.join(stale)} before the course was installed: restart "
            "it (Colab: Runtime › Restart session) and run the notebook again from the top"
        )
    return found


def wrong_kernel_notice() -> str | None:
    """A sentence when the kernel works but is not the course's own (None otherwise)."""
    if os.environ.get(KERNEL_ENV) == KERNEL_NAME or hosted():
        return None
    return (
        f"Note: this notebook runs on another kernel than “{KERNEL_TITLE}”; pick that one "
        "under Kernel › Change Kernel… so that TensorFlow's start-up log stays out of your "
        "notebook (`python -m course_utils install-kernel` registers it if it is missing)."
    )


def _answer_names() -> set[str]:
    from .registry import all_exercises

    return {ex.answer_name for ex in all_exercises()}


def _explain_undefined_answer(shell, etype, value, tb, tb_offset=None):
    """IPython handler for NameError: a sentence for an exercise's answer, else the usual."""
    name = getattr(value, "name", None)
    if name and name in _answer_names():
        sentence = (
            f"`{name}` is not defined yet: run the cell above that defines `{name}`, "
            "then run this check again."
        )
        shell._showtraceback(etype, value, [sentence])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return None


def ready(kind: str | None = None) -> None:
    """Check this kernel for the course; silent when all is well (see the module docstring)."""
    from .progress import set_notebook_kind

    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    set_notebook_kind(kind)
    found = problems()
    if found:
        raise SetupProblem(found[0][0].upper() + found[0][1:] + ".")
    notice = wrong_kernel_notice()
    if notice:
        print(notice)
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None and hasattr(shell, "set_custom_exc"):
        shell.set_custom_exc((NameError,), _explain_undefined_answer)
