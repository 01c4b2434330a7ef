"""The instructor guide's generated sections are up to date and come from the lesson modules."""

from __future__ import annotations

from course_utils import guide
from course_utils.curriculum import all_lessons


def test_the_instructor_guide_is_up_to_date():
    assert not guide.update_guide(write=False), (
        "instructor/README.md is out of date: run `python -m course_utils guide` "
        "(and `guide --measure` if lessons were added or their notebooks changed)"
    )


def test_regenerating_keeps_hand_written_prose(tmp_path):
    path = tmp_path / "README.md"
    names = ["objectives", "schedule", "misconceptions", "setup-problems"]
    blocks = "".join(
        f"prose before {n}\n<!-- BEGIN GENERATED: {n} -->\nstale\n<!-- END GENERATED: {n} -->\n"
        for n in names
    )
    path.write_text(blocks + "closing prose\n")
    assert guide.update_guide(path=path)
    text = path.read_text()
    assert "stale" not in text
    assert all(f"prose before {n}" in text for n in names) and text.endswith("closing prose\n")
    assert not guide.update_guide(path=path)  # idempotent


def test_every_lesson_has_objectives_and_a_slot_in_the_guide():
    text = guide.GUIDE.read_text(encoding="utf-8")
    for info in all_lessons():
        assert f"### {info.number} · {info.title}" in text
        assert all(objective in text for objective in info.objectives)
        assert f"{info.number} · {info.title} (lecture {info.minutes}" in text


def test_slots_add_measured_run_time_to_the_lesson_minutes():
    info = all_lessons()[0]
    timings = {"lessons": {info.lesson: {"lecture_s": 125.0, "solution_s": 50.0}}}
    slot = guide.lesson_slots(timings)[0]
    assert slot["run"] == 3  # 175 s rounded up to minutes
    assert slot["slot"] % 5 == 0 and slot["slot"] >= info.minutes + info.exercise_minutes + 3
    unmeasured = guide.lesson_slots({"lessons": {}})[0]
    assert unmeasured["run"] is None


def test_a_long_course_fills_the_half_day_and_leaves_the_rest_for_self_study():
    slots = [
        {"slot": 40, "label": f"{i:02d} · L", "lecture": 25, "exercise": 10, "run": 1}
        for i in range(9)
    ]
    rows, left_out, homework = guide._plan(slots, 210, [(105, 15, "Break")])
    assert left_out and not homework and sum(n for _, n, _ in rows) <= 210
    rows, left_out, homework = guide._plan(
        slots, 480, [(90, 15, "Break"), (210, 60, "Lunch"), (360, 15, "Break")]
    )
    assert not left_out and sum(n for _, n, _ in rows) == 480
    assert any(what == "Lunch" for _, _, what in rows)


def test_a_compact_full_day_teaches_every_lesson_and_turns_late_exercises_into_homework():
    slots = [
        {"slot": 60, "label": f"{i:02d} · L", "lecture": 25, "exercise": 30, "run": 1}
        for i in range(9)
    ]
    breaks = [(90, 15, "Break"), (210, 60, "Lunch"), (360, 15, "Break")]
    assert guide._plan(slots, 480, breaks)[1], "without compact, lessons would be left out"
    rows, left_out, homework = guide._plan(slots, 480, breaks, compact=True)
    assert not left_out and homework
    assert homework == slots[-len(homework) :]  # the first lessons keep their exercises
    taught = [what for _, _, what in rows if what.startswith(tuple(s["label"] for s in slots))]
    assert len(taught) == 9 and sum(n for _, n, _ in rows) <= 480
    assert sum("exercises as homework" in what for what in taught) == len(homework)


def test_the_setup_problems_say_what_jupyter_really_does_when_its_port_is_taken():
    text = guide.sections()["setup-problems"]
    assert "Errno 98" not in text
    assert "`The port 8888 is already in use, trying another port.`" in text
    assert "moves to the next free port by itself" in text
