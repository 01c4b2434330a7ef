"""Where the course's files are, whether it runs from a clone or from an installed wheel.

- The *course folder* holds `notebooks/`, `exercises/` and `solutions/`. In a clone it is the
  clone itself; an installed wheel carries a read-only copy inside the package
  (`course_utils/course/`, see pyproject.toml), which `python -m course_utils lab` copies into a
  folder of the learner's own before serving it.
- A learner's progress lives beside the notebooks they work in, or else in their user data
  folder; never inside site-packages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
COURSE_FOLDERS = ("notebooks", "exercises", "solutions")
LOCK_FILE = "constraints.txt"
APP_NAME = "masking-course"
# The folder `python -m course_utils lab` copies the notebooks into, inside the current folder,
# when the course is installed from a wheel.
WORKING_COPY = "masking-course"


def is_course_folder(path: Path) -> bool:
    """True if `path` holds the three notebook folders."""
    return all((Path(path) / name).is_dir() for name in COURSE_FOLDERS)


def source_checkout() -> Path | None:
    """The clone this package is imported from, if it is one (an editable install or a plain
    import from the folder), else None."""
    root = PACKAGE.parent
    return root if is_course_folder(root) and (root / "pyproject.toml").is_file() else None


def bundled_course() -> Path | None:
    """The read-only course folder inside an installed wheel, if this is one."""
    folder = PACKAGE / "course"
    return folder if is_course_folder(folder) else None


def course_source() -> Path:
    """The notebooks this copy of the package ships with: the clone, or the wheel's copy."""
    found = source_checkout() or bundled_course()
    if found is None:
        raise FileNotFoundError(
            f"the course notebooks are neither next to {PACKAGE} nor inside it; "
            "reinstall the course"
        )
    return found


def lock_file() -> Path | None:
    """constraints.txt, the exact tested versions, wherever this copy keeps it."""
    for folder in (source_checkout(), bundled_course()):
        if folder is not None and (folder / LOCK_FILE).is_file():
            return folder / LOCK_FILE
    return None


def enclosing_course_folder(start: Path | None = None) -> Path | None:
    """The course folder that contains `start` (default: the working directory, which for a
    notebook's kernel is the notebook's folder), looking at most two levels up."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *list(here.parents)[:2]):
        if is_course_folder(folder):
            return folder
    return None


def user_data_dir() -> Path:
    """The per-user data folder of this course on this platform."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME
