"""Feedback views take JupyterLab's theme colours (with fallbacks) and show `backticks` as code."""

from __future__ import annotations

import re

from course_utils import exercises, progress
from course_utils.checking import Hint, Result, Solution, Status
from course_utils.environment import EnvironmentReport

THEMED_TEXT = "color:var(--jp-content-font-color1, #1f1f1f)"


def _views(progress_file):
    ex = exercises("00").count_real_tokens
    return {
        "passed": Result("00_start_here", "x", Status.PASSED, "use `axis=1`")._repr_html_(),
        "failed": Result("00_start_here", "x", Status.FAILED, "use `axis=1`")._repr_html_(),
        "not attempted": Result("00", "x", Status.NOT_ATTEMPTED, "use `axis=1`")._repr_html_(),
        "hint": Hint("x", 1, 2, "compare with `pad_id`")._repr_html_(),
        "solution": Solution("x", "def f():\n    return 1")._repr_html_(),
        "progress": progress()._repr_html_(),
        "environment": EnvironmentReport(
            [("numpy", "2.4.6", "2.4.6")], ["a `warning`"], ["a `note`"]
        )._repr_html_(),
        "live check": ex.evaluate(ex.wrong_answers[0].answer)._repr_html_(),
    }


def test_every_view_sets_its_text_colour_from_the_theme(progress_file):
    for name, html in _views(progress_file).items():
        assert THEMED_TEXT in html, name
        # No hard-coded colour outside a var() fallback: a fixed colour cannot follow the theme.
        outside_vars = re.sub(r"var\([^()]*\)", "", html)
        assert not re.search(r"#[0-9a-fA-F]{3,6}\b", outside_vars), name


def test_boxes_take_a_background_mixed_from_the_theme_surface(progress_file):
    views = _views(progress_file)
    for name in ("passed", "failed", "not attempted", "hint", "solution"):
        assert "background:color-mix(in srgb, var(--jp-" in views[name], name
        assert "var(--jp-layout-color1, #ffffff)" in views[name], name


def test_backticks_become_code_and_text_is_escaped():
    html = Result("00", "x", Status.FAILED, "use `a<b` & <i>this</i>")._repr_html_()
    assert re.search(r"<code[^>]*>a&lt;b</code>", html)
    assert "&amp; &lt;i&gt;this&lt;/i&gt;" in html
    assert "`" not in html
    hint = Hint("x", 1, 1, "compare with `pad_id`")._repr_html_()
    assert re.search(r"<code[^>]*>pad_id</code>", hint)
