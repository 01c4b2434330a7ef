"""Grade a class's submitted exercise notebooks with the course's own checks.

`python -m course_utils grade SUBMISSIONS... -o grades` (or `course-grade`): see
instructor/README.md. One module per concern: collect (find submissions, name learners),
identify (read a notebook, find its lesson), runner (execute and check one submission),
batch (many in parallel, resumable), store (results by content hash), shard (split and merge),
report (csv, summary, chart, feedback), guide (the instructor guide's generated sections),
cli (the commands).
"""
