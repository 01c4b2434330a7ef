"""HTML for the learner-facing views (check results, hints, solutions, progress), readable in
JupyterLab's Light and Dark themes.

Text always takes the theme's own text colour on a background mixed from the theme's own layout
colour, so the pair keeps the contrast the theme was designed with (WCAG AA 4.5:1 is measured in
both themes by the browser test). Colour only tints the box and marks its border. Outside
JupyterLab (Colab, VS Code, nbviewer) the CSS variables are missing and the fallbacks give a
light box with dark text, again a matching pair.
"""

from __future__ import annotations

import html
import re

TEXT = "var(--jp-content-font-color1, #1f1f1f)"
SURFACE = "var(--jp-layout-color1, #ffffff)"
CODE_SURFACE = "var(--jp-layout-color2, #eeeeee)"
CODE_FONT = "var(--jp-code-font-family, monospace)"

# Each kind's accent: a JupyterLab theme colour, with its Light-theme value as the fallback.
ACCENT = {
    "passed": "var(--jp-success-color1, #388e3c)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "not-attempted": "var(--jp-warn-color1, #f57c00)",
    "hint": "var(--jp-brand-color1, #1976d2)",
    "solution": "var(--jp-border-color1, #bdbdbd)",
    "notice": "var(--jp-warn-color1, #f57c00)",
}

_BACKTICKS = re.compile(r"`([^`\n]+)`")


def inline_code(text: str) -> str:
    """Escape `text` for HTML and show each `backticked` span as code."""
    return _BACKTICKS.sub(
        lambda m: code(m.group(1), escaped=True),
        html.escape(text, quote=False),
    )


def code(text: str, *, escaped: bool = False) -> str:
    """One inline code span in the theme's code font, on a slightly raised background."""
    body = text if escaped else html.escape(text, quote=False)
    return (
        f'<code style="font-family:{CODE_FONT};background:{CODE_SURFACE};color:inherit;'
        f'padding:0 3px;border-radius:3px">{body}</code>'
    )


def box(kind: str, body: str, css_class: str) -> str:
    """A feedback box: `body` (HTML) in the theme's text colour on a lightly tinted surface."""
    accent = ACCENT[kind]
    return (
        f'<div class="{css_class}" style="color:{TEXT};'
        f"background:color-mix(in srgb, {accent} 12%, {SURFACE});"
        f'border-left:4px solid {accent};padding:6px 10px;margin:4px 0">{body}</div>'
    )


def code_block(text: str) -> str:
    """A block of code (a solution) in the theme's editor colours."""
    return (
        f'<pre style="font-family:{CODE_FONT};color:{TEXT};'
        "background:var(--jp-cell-editor-background, #f5f5f5);"
        f'padding:6px 8px;margin:4px 0 0;white-space:pre-wrap">{html.escape(text)}</pre>'
    )


def table(header: list[str], rows: list[list[str]], css_class: str) -> str:
    """A plain table in the theme's colours (cells inherit the table's text colour, or take
    JupyterLab's own table colours); cells are HTML."""
    cell = "padding:2px 10px;border-bottom:1px solid var(--jp-border-color2, #e0e0e0)"
    head = "".join(f'<th style="{cell};text-align:left">{h}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="{css_class}" style="border-collapse:collapse;color:{TEXT}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
