"""Grade a class's submitted exercise notebooks with the course's own checks.

`python -m course_utils grade SUBMISSIONS... -o grades` (or `course-grade`): see
instructor/README.md. One module per concern: collect (find submissions, name learners),
identify (read a notebook, find its lesson), sandbox (bubblewrap or a process group around one
submission), exchange (the data that crosses the sandbox's wall: cases in, observations out),
runner (inside the sandbox: execute one submission and probe its answers), batch (judge each
report in the grader's process; many in parallel, resumable), store (results by content hash,
the grader's alone), shard (split and merge), report (csv, gradebook, summary, chart, feedback),
guide (the instructor guide's generated sections), cli (the commands).
"""
