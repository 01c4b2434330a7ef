"""The learner's real path, in a real browser: JupyterLab in headless Chromium runs a lecture,
then an exercise is answered, checked and hinted through the notebook UI.

Run by `make test-browser` (which installs Debian's Chromium and Playwright for Python first);
`make test` does not collect this file (its name does not match pytest's `test_*.py`).
The server is started exactly as `make lab` starts it (`course_utils.lab.lab_command`), rooted at a
temporary copy of notebooks/, exercises/ and solutions/, so the committed notebooks are never
touched (the module's last step proves it). A screenshot of every step, and of a failing step,
lands in test-artifacts/browser/ for a person to look at.

`BROWSER_LESSON=00_start_here make test-browser` runs the same path on another lesson.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from lab_server import api, free_port, running_lab, server_flags

from course_utils.lab import lab_command

ROOT = Path(__file__).resolve().parents[2]
LESSON = os.environ.get("BROWSER_LESSON", "01_padding")
SCREENSHOTS = ROOT / "test-artifacts" / "browser"
COURSE_FOLDERS = ("notebooks", "exercises", "solutions")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "course-browser-test-token"
# Generous: two shared CPU cores, and the first TensorFlow import in a kernel takes a while.
RUN_TIMEOUT_MS = 300_000
UI_TIMEOUT_MS = 60_000
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
TRACEBACK = re.compile(r"Traceback|\b\w+(Error|Exception)\b")

# Quiet, repeatable UI: no "fetch Jupyter news?" toast, no update check over the network.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


# --------------------------------------------------------------------------- the course copy


def _fingerprint() -> dict[str, str]:
    """A hash of every committed notebook, to prove the test leaves them as they were."""
    return {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in COURSE_FOLDERS
        for path in sorted((ROOT / folder).glob("*.ipynb"))
    }


def _read(folder: str, lesson: str = LESSON):
    return nbformat.read(ROOT / folder / f"{lesson}.ipynb", as_version=4)


def _exercise_plan(lesson: str = LESSON) -> dict:
    """What a learner does in the exercise notebook, read from the notebooks themselves.

    The first cell holding `# YOUR CODE HERE` is the exercise; its reference answer is the cell
    with the same id in solutions/ (the builder keeps ids), minus the solution markers; its check
    is the next code cell calling `.check(`.
    """
    cells = _read("exercises", lesson).cells
    index = next(
        i for i, c in enumerate(cells) if c.cell_type == "code" and "# YOUR CODE HERE" in c.source
    )
    solution = {c.get("id"): c for c in _read("solutions", lesson).cells}[cells[index].get("id")]
    answer = "\n".join(
        line
        for line in solution.source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )
    check = next(
        i
        for i in range(index + 1, len(cells))
        if cells[i].cell_type == "code" and ".check(" in cells[i].source
    )
    name = re.search(r"q\.(\w+)\.check\(", cells[check].source).group(1)
    return {
        "setup": [i for i in range(index) if cells[i].cell_type == "code"],
        "exercise": index,
        "check": check,
        "answer": answer,
        "name": name,
    }


def _committed_figures(lesson: str = LESSON) -> int:
    """How many images the committed lecture shows (the browser run must show them too)."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in _read("notebooks", lesson).cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


# --------------------------------------------------------------------------- server and browser


def _api(port: int, path: str, method: str = "GET"):
    return api(port, TOKEN, path, method)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Iterator[Path]:
    """A temporary copy of the course notebooks; afterwards, the committed ones are unchanged."""
    before = _fingerprint()
    copy = tmp_path_factory.mktemp("course")
    for folder in COURSE_FOLDERS:
        shutil.copytree(ROOT / folder, copy / folder)
    yield copy
    assert _fingerprint() == before, "the browser test changed a committed notebook"


@pytest.fixture(scope="module")
def server(course, tmp_path_factory) -> Iterator[int]:
    """`make lab`'s server command, headless, on a free loopback port, rooted at the copy."""
    home = tmp_path_factory.mktemp("jupyter")
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "COURSE_PROGRESS_FILE": str(home / "progress.jsonl"),
    }
    command = lab_command(server_flags(port, TOKEN), root=course)
    log_path = home / "server.log"
    try:
        with running_lab(command, port=port, token=TOKEN, env=env, log_path=log_path):
            root = {item["name"] for item in _api(port, "/api/contents")["content"]}
            assert root == set(COURSE_FOLDERS), f"server is not rooted at the copy: {root}"
            yield port
    finally:
        print(f"server log: {log_path}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, with a new empty profile; always closed."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="run `make test-browser`")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


class Steps:
    """Numbered steps: each is screenshotted; a failing one says its name and keeps its picture."""

    def __init__(self, page) -> None:
        self.page = page

    def shoot(self, label: str) -> Path:
        path = SCREENSHOTS / f"{label}.png"
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(path))
        return path

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        number = len(list(SCREENSHOTS.glob("*.png"))) + 1
        label = f"{number:02d}_{name}"
        try:
            yield
        except Exception as error:  # Playwright timeouts and assertion errors alike
            failure = f"{type(error).__name__}: {error}"
        else:
            self.shoot(label)
            return
        shot = self.shoot(f"{label}_FAILED")
        message = f"step {label!r} failed: {failure}\n(screenshot: {shot})"
        raise pytest.fail.Exception(message, pytrace=False) from None


@pytest.fixture
def page(browser, server):
    """One tab on a fresh JupyterLab workspace; its kernels are shut down afterwards."""
    tab = browser.new_page()
    tab.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield tab
    finally:
        tab.close()
        with contextlib.suppress(OSError):
            for session in _api(server, "/api/sessions"):
                _api(server, f"/api/sessions/{session['id']}", method="DELETE")


# --------------------------------------------------------------------------- the notebook UI


def _open(page, port: int, path: str, root: Path = ROOT):
    """Open a notebook the way a learner's link does (`?reset`: a fresh workspace, one tab);
    wait until every cell is drawn and the course kernel is idle. `root` holds the notebook
    file (the served copy, for notebooks the test writes itself)."""
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{path}?reset&token={TOKEN}")
    panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Notebook"))
    panel.first.wait_for(state="visible")
    assert panel.count() == 1, f"expected one open notebook, found {panel.count()}"
    panel = panel.first
    cells = nbformat.read(root / path, as_version=4).cells
    drawn = _cells(panel)
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while drawn.count() < len(cells) or drawn.nth(len(cells) - 1).locator(".cm-line").count() == 0:
        assert time.monotonic() < deadline, f"{drawn.count()} of {len(cells)} cells drawn"
        time.sleep(0.25)
    _wait_idle(page)
    # The generated set-up cell opens with its code collapsed; show all code, as a learner
    # curious about it would, so every cell's prompt (its execution count) can be read.
    _menu(page, "View", "Expand All Code")
    panel.locator(".jp-InputPlaceholder").first.wait_for(state="detached")
    return panel


def _wait_idle(page, timeout: int = RUN_TIMEOUT_MS) -> None:
    """The status bar says the course kernel is idle (not initializing, connecting or busy)."""
    status = page.locator("#jp-main-statusbar").get_by_text(
        re.compile(r"Python 3 \(masking course\) \| Idle")
    )
    status.wait_for(timeout=timeout)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=timeout)


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def _code_cells(panel):
    return panel.locator(".jp-Cell.jp-CodeCell")


def _cells(panel):
    return panel.locator(".jp-Notebook .jp-Cell")


def _prompts(panel) -> list[str]:
    return [
        text.strip() for text in _code_cells(panel).locator(".jp-InputPrompt").all_text_contents()
    ]


def _wait_executed(page, panel, cells, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Wait until each given cell shows an execution count (not `[ ]` or `[*]`), kernel idle.

    A cell that raises makes JupyterLab drop the rest of the queue (their prompts go back to
    `[ ]`): then this stops at once and says so, with the traceback, instead of timing out.
    """
    deadline = time.monotonic() + timeout / 1000
    prompts = [cell.locator(".jp-InputPrompt") for cell in cells]
    stalled = 0
    while True:
        texts = [prompt.text_content().strip() for prompt in prompts]
        if all(re.fullmatch(r"\[\d+\]:", text) for text in texts):
            break
        queued = any("*" in text for text in texts)
        stalled = 0 if queued or not _kernel_idle(page) else stalled + 1
        if stalled >= 4:  # two seconds idle with nothing queued and cells not run
            errors = _tracebacks(panel)
            unrun = [text for text in texts if not re.fullmatch(r"\[\d+\]:", text)]
            raise AssertionError(
                f"{len(unrun)} cell(s) never ran {unrun}"
                + (f"; an earlier cell raised: {errors[0]}" if errors else "")
            )
        assert time.monotonic() < deadline, f"cells never finished: {texts}"
        time.sleep(0.5)
    _wait_idle(page, timeout=max(1000, int((deadline - time.monotonic()) * 1000)))


def _kernel_idle(page) -> bool:
    return page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').count() > 0


def _tracebacks(panel) -> list[str]:
    texts = panel.locator(STDERR).all_text_contents()
    return [text[:300] for text in texts if TRACEBACK.search(text)]


def _editor_text(cell) -> str:
    lines = cell.locator(".cm-content .cm-line").all_text_contents()
    return "\n".join(line.rstrip() for line in lines).strip()


def _run_cell(page, cell) -> None:
    """Click into a cell and run it with Shift+Enter, as a learner does. A cell whose code
    starts collapsed (the generated set-up cell) is selected by clicking beside it."""
    editor = cell.locator(".jp-InputArea-editor")
    if editor.count() and editor.first.is_visible():
        editor.first.click()
    else:
        cell.click(position={"x": 8, "y": 8})
    page.keyboard.press("Shift+Enter")


# --------------------------------------------------------------------------- the learner's path


def test_lecture_runs_from_the_run_menu_without_errors_and_shows_its_figures(page, server):
    step = Steps(page)
    figures = _committed_figures()
    with step("lecture_opened"):
        panel = _open(page, server, f"notebooks/{LESSON}.ipynb")
        assert _code_cells(panel).count() > 0, "the lecture shows no code cells"
    with step("lecture_outputs_cleared"):
        _menu(page, "Edit", "Clear Outputs of All Cells")
        assert panel.locator(".jp-OutputArea-output").count() == 0, "outputs are still shown"
        assert not any(re.search(r"\d", p) for p in _prompts(panel)), "stale execution counts"
        _code_cells(panel).first.scroll_into_view_if_needed()
    with step("lecture_ran_all_cells"):
        _menu(page, "Run", "Run All Cells")
        _wait_executed(page, panel, _code_cells(panel).all())
        counts = [int(re.search(r"\d+", p).group()) for p in _prompts(panel)]
        assert counts == sorted(counts), f"cells ran out of order: {counts}"
        _code_cells(panel).first.scroll_into_view_if_needed()
    with step("lecture_no_errors"):
        errors = _tracebacks(panel)
        if errors:
            panel.locator(STDERR).first.scroll_into_view_if_needed()
        else:
            _code_cells(panel).last.scroll_into_view_if_needed()
        assert not errors, f"{len(errors)} cell(s) raised; first: {errors[0]}"
    with step("lecture_figure_shown"):
        images = panel.locator(".jp-OutputArea-output img")
        assert images.count() >= figures, (
            f"the committed lecture shows {figures} figure(s); the browser run {images.count()}"
        )
        if figures:
            images.first.scroll_into_view_if_needed()
            drawn = images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
            assert all(drawn), f"an image did not render: {drawn}"


def test_exercise_answered_in_the_browser_passes_its_check_and_gives_a_hint(page, server):
    step = Steps(page)
    plan = _exercise_plan()
    with step("exercise_opened"):
        panel = _open(page, server, f"exercises/{LESSON}.ipynb")
        cells = _cells(panel)
        exercise = cells.nth(plan["exercise"])
        assert "# YOUR CODE HERE" in _editor_text(exercise), (
            "the exercise cell is not where expected"
        )
    with step("exercise_answer_typed"):
        exercise.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(plan["answer"])
        typed = [line for line in _editor_text(exercise).splitlines() if line.strip()]
        wanted = [line.rstrip() for line in plan["answer"].splitlines() if line.strip()]
        assert typed == wanted, f"the editor holds {typed!r}, not the answer"
    with step("exercise_checked_passed"):
        needed = [*plan["setup"], plan["exercise"], plan["check"]]
        for index in needed:
            _run_cell(page, cells.nth(index))
        _wait_executed(page, panel, [cells.nth(i) for i in needed])
        errors = _tracebacks(panel)
        assert not errors, f"{len(errors)} cell(s) raised; first: {errors[0]}"
        result = cells.nth(plan["check"]).locator(".jp-OutputArea-output .course-check")
        result.wait_for()
        result.scroll_into_view_if_needed()
        classes = result.get_attribute("class")
        assert "course-check-passed" in classes.split(), (
            f"the check says {result.inner_text()!r} ({classes})"
        )
    with step("exercise_hint_shown"):
        cells.nth(plan["check"]).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")  # insert a cell below, as a learner would
        hint_cell = cells.nth(plan["check"] + 1)
        hint_cell.locator(".cm-content").click()
        page.keyboard.type(f"q.{plan['name']}.hint()")
        page.keyboard.press("Shift+Enter")
        _wait_executed(page, panel, [hint_cell])
        hint = hint_cell.locator(".jp-OutputArea-output .course-hint")
        hint.wait_for()
        assert "Hint 1" in hint.inner_text(), f"the hint says {hint.inner_text()!r}"


# --------------------------------------------------------------------------- Light and Dark

THEMES = ("JupyterLab Light", "JupyterLab Dark")
CONTRAST_AA = 4.5
CONTRAST = ROOT / "test-artifacts" / "browser" / "contrast.json"

# Every feedback view a learner meets, in one notebook run from exercises/ (as a learner would).
FEEDBACK_CELLS = [
    "from course_utils import exercises, progress\n\nq = exercises('00')",
    "q.count_real_tokens.check(lambda batch, pad_id=0: (batch == pad_id).sum(axis=1))",
    "q.count_real_tokens.check(lambda batch, pad_id=0: (batch != pad_id).sum(axis=1))",
    "q.count_real_tokens.check(...)",
    "q.count_real_tokens.hint()",
    "q.count_real_tokens.solution()",
    "progress()",
]
VIEWS = {
    "failed check": ".course-check-failed",
    "passed check": ".course-check-passed",
    "not-attempted check": ".course-check-not-attempted",
    "hint": ".course-hint",
    "solution": ".course-solution",
    "progress": ".course-progress",
}

# For each element with its own text inside `root`: its text colour and the background it is
# drawn on (the element's and its ancestors' backgrounds composited), both as RGBA 0-255 after
# the browser resolved every CSS variable and color-mix(). A 1x1 canvas normalises colours.
_COLOURS_JS = """
(root) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
    return [mix(0), mix(1), mix(2), a];
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      layers.push(rgba(getComputedStyle(node).backgroundColor));
    }
    let colour = [255, 255, 255, 1];  // the page behind everything
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const found = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const bg = background(el);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    found.push({text: el.textContent.trim().slice(0, 40), fg, bg});
  }
  return found;
}
"""


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg) -> float:
    """WCAG 2 contrast ratio of two opaque colours."""
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _set_theme(port: int, theme: str) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:themes",
        method="PUT",
        data=json.dumps({"raw": json.dumps({"theme": theme})}).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204), response.status


@pytest.mark.parametrize("theme", THEMES)
def test_feedback_is_readable_in_light_and_dark(page, server, course, theme):
    step = Steps(page)
    path = "exercises/feedback_views.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata = _read("exercises").metadata
    nb.cells = [nbformat.v4.new_code_cell(source) for source in FEEDBACK_CELLS]
    nbformat.write(nb, course / path)
    slug = theme.split()[-1].lower()
    with step(f"feedback_{slug}_theme_opened"):
        _set_theme(server, theme)
        panel = _open(page, server, path, root=course)
        page.wait_for_function(
            "(light) => document.body.dataset.jpThemeLight === String(light)",
            arg=theme.endswith("Light"),
        )
    with step(f"feedback_{slug}_theme_shown"):
        _menu(page, "Run", "Run All Cells")
        _wait_executed(page, panel, _code_cells(panel).all())
        for selector in VIEWS.values():
            panel.locator(f".jp-OutputArea-output {selector}").first.wait_for()
        panel.locator(".course-check-failed").first.scroll_into_view_if_needed()
    measured = {}
    for name, selector in VIEWS.items():
        view = panel.locator(f".jp-OutputArea-output {selector}").first
        pairs = view.evaluate(_COLOURS_JS)
        assert pairs, f"{name}: no text found"
        measured[name] = min((round(contrast(p["fg"], p["bg"]), 2), p["text"]) for p in pairs)
    hint_code = panel.locator(".jp-OutputArea-output .course-hint code")
    assert "pad_id" in hint_code.all_text_contents(), "backticks in a hint did not become code"
    report = json.loads(CONTRAST.read_text()) if CONTRAST.exists() else {}
    report[theme] = {name: ratio for name, (ratio, _) in measured.items()}
    CONTRAST.write_text(json.dumps(report, indent=1) + "\n")
    print(f"{theme}: {report[theme]}")
    low = {name: m for name, m in measured.items() if m[0] < CONTRAST_AA}
    assert not low, f"{theme}: below WCAG AA {CONTRAST_AA}:1 (ratio, text): {low}"
