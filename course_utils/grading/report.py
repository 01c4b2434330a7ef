"""What the instructor and the learners read: grades.csv, summary.md, a chart, HTML feedback.

Everything is computed from the manifest (which submissions) and the result store (their
results), so a single run, a resumed run and a merge of shards write the same files.

Statuses: `passed`, `failed`, `not attempted` (the course's checks), and `error` (the grader
could not grade that check: the file is not a notebook, the lesson is unknown, the kernel died
every time, the check was stopped by its time limit, ...). Every row of a submission carries the
same `notes` (cells that raised, cells stopped by a time limit, possible tampering).
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter, defaultdict
from pathlib import Path

from ..registry import exercises

COLUMNS = [
    "learner",
    "submission",
    "lesson",
    "check",
    "status",
    "points",
    "message",
    "notes",
    "isolation",
]
GRADEBOOK = "gradebook.csv"
STATUSES = ["passed", "failed", "not attempted", "error"]
CHART = "pass_rates.png"


def _checks_of(lesson: str | None) -> list[str]:
    if not lesson:
        return []
    try:
        return [ex.name for ex in exercises(lesson)]
    except Exception:
        return []


def build_rows(manifest: list[dict], results: dict[str, dict | None]) -> list[dict]:
    """One row per submission and check, sorted by learner, submission, then check order."""
    rows = []
    for entry in sorted(manifest, key=lambda e: (e["learner"], e["submission"])):
        result = results.get(entry["key"])
        base = {
            "learner": entry["learner"],
            "submission": entry["submission"],
            "isolation": (result or {}).get("isolation", ""),
        }
        if result is None:
            rows.append(
                {
                    **base,
                    "lesson": "",
                    "check": "",
                    "status": "error",
                    "message": "not graded: its grading run (or shard) did not finish; run it again",
                    "notes": "",
                }
            )
            continue
        lesson = result.get("lesson") or ""
        notes = " | ".join(result.get("notes") or [])
        if result.get("error"):
            names = _checks_of(lesson) or [""]
            for name in names:
                rows.append(
                    {
                        **base,
                        "lesson": lesson,
                        "check": name,
                        "status": "error",
                        "message": result["error"],
                        "notes": notes,
                    }
                )
            continue
        for check in result.get("checks", []):
            rows.append(
                {
                    **base,
                    "lesson": lesson,
                    "check": check["check"],
                    "status": check["status"],
                    "message": check["message"],
                    "notes": notes,
                }
            )
    return rows


def spreadsheet_safe(value) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, a tab or a
    carriage return (a formula, e.g. `=HYPERLINK(...)` from a file name) gets a leading `'`."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {
                k: spreadsheet_safe(_points(row) if k == "points" else row.get(k, ""))
                for k in COLUMNS
            }
            for row in rows
        )


def _points(row: dict) -> int:
    """One point per passed check."""
    return int(row.get("status") == "passed")


def gradebook(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """One row per learner for an LMS (Canvas, Moodle): a column per lesson/check with the best
    points over that learner's submissions, then the total and the maximum."""
    checks = sorted({f"{r['lesson']}/{r['check']}" for r in rows if r.get("lesson") and r["check"]})
    best: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        mine, key = best[r["learner"]], f"{r['lesson']}/{r['check']}"
        if key in checks:
            mine[key] = max(mine.get(key, 0), _points(r))
    table = []
    for learner in sorted(best):
        points = {c: best[learner].get(c, 0) for c in checks}
        total = sum(points.values())
        table.append({"learner": learner, **points, "total": total, "out of": len(checks)})
    return ["learner", *checks, "total", "out of"], table


def write_gradebook(path: Path, rows: list[dict]) -> None:
    """`gradebook.csv`: a CSV both Canvas and Moodle import (map `learner` to the LMS's user
    column, then pick `total` or the per-check columns as grade items)."""
    columns, table = gradebook(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in table)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(manifest: list[dict], rows: list[dict], top: int = 10) -> str:
    learners = sorted({r["learner"] for r in rows})
    broken = sorted({(r["submission"], r["learner"]) for r in rows if r["status"] == "error"})
    lines = [
        "# Grades",
        "",
        f"{len(manifest)} submission(s) from {len(learners)} learner(s); "
        f"{len(broken)} with a problem the grader reports as `error` (listed at the end).",
        "",
        "## Learners",
        "",
        "| learner | submissions | passed | failed | not attempted | error | score |",
        "|---|---|---|---|---|---|---|",
    ]
    per_learner: dict[str, Counter] = defaultdict(Counter)
    subs: dict[str, set] = defaultdict(set)
    for r in rows:
        per_learner[r["learner"]][r["status"]] += 1
        subs[r["learner"]].add(r["submission"])
    for learner in learners:
        c = per_learner[learner]
        total = sum(c.values())
        lines.append(
            f"| {_cell(learner)} | {len(subs[learner])} | "
            + " | ".join(str(c[s]) for s in STATUSES)
            + f" | {c['passed']}/{total} |"
        )
    lines += [
        "",
        "## Checks",
        "",
        f"Pass rate per check over every submission of its lesson (chart: `{CHART}`).",
        "",
        "| lesson | check | passed | failed | not attempted | error | pass rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for (lesson, check), c in check_counts(rows).items():
        total = sum(c.values())
        lines.append(
            f"| {lesson} | {check} | "
            + " | ".join(str(c[s]) for s in STATUSES)
            + f" | {c['passed'] / total:.0%} |"
        )
    lines += [
        "",
        "## Most common misconceptions",
        "",
        "The failure messages the checks gave most often (each names a misconception).",
        "",
        "| submissions | lesson / check | the check said |",
        "|---|---|---|",
    ]
    messages = Counter(
        (r["lesson"], r["check"], r["message"]) for r in rows if r["status"] == "failed"
    )
    for (lesson, check, message), count in sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[
        :top
    ]:
        lines.append(f"| {count} | {lesson} / {check} | {_cell(message)} |")
    if not messages:
        lines.append("| 0 | - | no check failed |")
    lines += ["", "## Submissions that need a look", ""]
    seen = set()
    for r in rows:
        key = r["submission"]
        if key in seen or not (r["status"] == "error" or r["notes"]):
            continue
        seen.add(key)
        errors = sorted(
            {x["message"] for x in rows if x["submission"] == key and x["status"] == "error"}
        )
        what = "; ".join(errors + ([r["notes"]] if r["notes"] else []))
        lines.append(f"- `{_cell(key)}` ({_cell(r['learner'])}): {_cell(what)}")
    if not seen:
        lines.append("None: every submission ran cleanly.")
    return "\n".join(lines) + "\n"


def check_counts(rows: list[dict]) -> dict[tuple[str, str], Counter]:
    counts: dict[tuple[str, str], Counter] = {}
    for r in rows:
        if r["check"]:
            counts.setdefault((r["lesson"], r["check"]), Counter())[r["status"]] += 1
    return dict(sorted(counts.items()))


def write_chart(path: Path, rows: list[dict]) -> None:
    """A horizontal bar per check: the share of submissions that passed it."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    counts = check_counts(rows)
    labels = [f"{lesson[:2]} {check}" for lesson, check in counts] or ["(no checks)"]
    rates = [100 * c["passed"] / sum(c.values()) for c in counts.values()] or [0]
    totals = [sum(c.values()) for c in counts.values()] or [0]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * len(labels)))
    bars = ax.barh(labels[::-1], rates[::-1], color="#1e7e34")
    for bar, rate, total in zip(bars, rates[::-1], totals[::-1], strict=True):
        ax.text(
            min(rate, 80) + 1,
            bar.get_y() + bar.get_height() / 2,
            f"{rate:.0f}% of {total}",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions that pass the check (%)")
    ax.set_title("Pass rate per check")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- feedback

_STYLE = {
    "passed": ("✅", "Passed", "#e6f4ea", "#1e7e34"),
    "failed": ("❌", "Not yet", "#fdecea", "#b71c1c"),
    "not attempted": ("⏳", "Not attempted", "#fff8e1", "#8a6d00"),
    "error": ("⚠️", "Could not be graded", "#eeeeee", "#555555"),
}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "submission"


def feedback_paths(manifest: list[dict]) -> dict[str, str]:
    """`submission -> feedback/<learner>/<notebook>.html`, unique, stable across runs."""
    paths: dict[str, str] = {}
    used: set[str] = set()
    for entry in sorted(manifest, key=lambda e: e["submission"]):
        stem = _safe(Path(entry["submission"]).stem)
        rel = f"feedback/{_safe(entry['learner'])}/{stem}.html"
        if rel in used:
            rel = f"feedback/{_safe(entry['learner'])}/{stem}-{entry['key'][:8]}.html"
        used.add(rel)
        paths[entry["submission"]] = rel
    return paths


def _exercise_info(lesson: str) -> dict:
    try:
        return {ex.name: ex for ex in exercises(lesson)}
    except Exception:
        return {}


def feedback_html(entry: dict, rows: list[dict]) -> str:
    lesson = rows[0]["lesson"] if rows else ""
    info = _exercise_info(lesson) if lesson else {}
    passed = sum(r["status"] == "passed" for r in rows)
    title = f"Feedback for {entry['learner']}: {lesson or Path(entry['submission']).name}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}.check{padding:8px 12px;margin:8px 0;border-radius:4px}"
        "code{background:#f4f4f4;padding:0 3px}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Notebook: <code>{html.escape(Path(entry['submission']).name)}</code>. "
        f"{passed} of {len(rows)} check(s) passed. These results come from running your "
        "notebook from top to bottom in a fresh kernel, then running the course's checks.</p>",
    ]
    for r in rows:
        icon, word, bg, fg = _STYLE.get(r["status"], _STYLE["error"])
        ex = info.get(r["check"])
        name = (ex.title if ex is not None and ex.title else r["check"]) or "your notebook"
        body = html.escape(r["message"])
        if r["status"] == "error":
            body = "your notebook could not be graded: " + body
        hint = ""
        if r["status"] in ("failed", "not attempted") and ex is not None and ex.hints:
            hint = f"<br><em>Hint:</em> {html.escape(ex.hints[0])}"
        parts.append(
            f'<div class="check" style="background:{bg};border-left:4px solid {fg}">'
            f'<strong style="color:{fg}">{icon} {word}</strong> {html.escape(name)}'
            f"<br>{body}{hint}</div>"
        )
    notes = rows[0]["notes"] if rows else ""
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes.split(" | "))
        parts.append(f"<h2>What happened when your notebook ran</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_all(out: Path, manifest: list[dict], results: dict[str, dict | None]) -> list[dict]:
    """Write grades.csv, gradebook.csv, summary.md, the chart and the feedback pages; returns
    the rows."""
    out = Path(out)
    rows = build_rows(manifest, results)
    write_csv(out / "grades.csv", rows)
    write_gradebook(out / GRADEBOOK, rows)
    (out / "summary.md").write_text(summary_markdown(manifest, rows), encoding="utf-8")
    write_chart(out / CHART, rows)
    by_submission: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_submission[r["submission"]].append(r)
    paths = feedback_paths(manifest)
    for entry in manifest:
        target = out / paths[entry["submission"]]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            feedback_html(entry, by_submission[entry["submission"]]), encoding="utf-8"
        )
    return rows
