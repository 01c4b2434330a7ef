"""The reference answers, the differently written right answers and the misconceptions' functions
of every lesson's exercises, one module per lesson (`lNN_slug.py`).

Kept apart from the exercise declarations in `course_utils.lessons` so that "go to definition" on
a learner's exercise does not land on its answer, and so that the grader's sandbox, which runs
probes but never judges, can be given the course without this package.
"""
