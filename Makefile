# Two commands for a fresh machine with Python 3.11, 3.12 or 3.13: `make lab` and `make test`.
# Both create .venv if missing and install the tested environment (constraints.txt) only when
# pyproject.toml or constraints.txt changed, or the course folder moved.

# The tested default (3.11) first, then the other supported versions.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3 python; do \
	command -v $$p 2>/dev/null && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt
LAB_ARGS ?=
PYTEST_ARGS ?=
# pytest workers: one more than the cores, because a worker spends part of its time waiting
# (kernels starting, subprocesses, time limits running out); on 2 cores 3 workers took 5 min 19 s
# and 4 took 5 min 35 s. `make bench` times a warm `make test`.
JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))

.PHONY: setup sandbox-tool lab test test-notebooks test-browser test-install test-pythons lint format execute exercises \
	setup-cells lock bench clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "make found no Python on PATH: install Python 3.11 (3.12 and 3.13 work too), or name one with make PYTHON=/path/to/python3.11 $(or $(MAKECMDGOALS),setup)" >&2; exit 1; fi
	@if ! command -v "$(PYTHON)" >/dev/null 2>&1; then \
		echo "make cannot run $(PYTHON): install Python 3.11 (3.12 and 3.13 work too), or name one with make PYTHON=/path/to/python3.11 $(or $(MAKECMDGOALS),setup)" >&2; exit 1; fi
	@"$(PYTHON)" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else "The course needs Python 3.11, 3.12 or 3.13, but $(PYTHON) is Python %d.%d. Install one of them or run: make PYTHON=/path/to/python3.11 ..." % sys.version_info[:2])'
	@echo "Creating $(VENV) with $(PYTHON)"
	"$(PYTHON)" -m venv $(VENV)

# The editable install and the kernel record this folder's absolute path: a moved or copied
# course folder installs again (quick: the packages are already there).
ifneq ($(shell cat $(STAMP) 2>/dev/null),$(CURDIR))
.PHONY: $(STAMP)
endif

# pip prints what it collects and installs as it goes (the first time: about 2.5 GB, mostly
# TensorFlow). The build backend is hatchling, whose editable install is a plain .pth file
# without setuptools' "!!" notice (which reads like an error and is not one).
$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	@echo "Installing the course environment into $(VENV) (first time: about 2.5 GB, 2-4 minutes)."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -c $(CONSTRAINTS) -e '.[lab,test]'
	$(BIN)/python -m course_utils install-kernel
	@echo "$(CURDIR)" > $(STAMP)

# The grader's sandbox (course_utils/grading/sandbox.py) is bubblewrap: installed here where apt
# can do it without a password; elsewhere the grader falls back to a process group (each result
# says which isolation graded it), so this never fails.
APT_SUDO := $(shell [ "$$(id -u 2>/dev/null)" = 0 ] || echo sudo -n)
APT_INSTALL := env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

sandbox-tool:
	@command -v bwrap >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 \
		|| $(APT_SUDO) $(APT_INSTALL) bubblewrap >/dev/null 2>&1 \
		|| ($(APT_SUDO) apt-get update >/dev/null 2>&1 && $(APT_SUDO) $(APT_INSTALL) bubblewrap >/dev/null 2>&1) \
		|| true
	@command -v bwrap >/dev/null 2>&1 \
		|| echo "bubblewrap is not installed: the grader will isolate submissions by process group only"

setup: $(STAMP) sandbox-tool

lab: setup
	$(BIN)/python -m course_utils lab $(LAB_ARGS)

# The solution and exercise notebooks run top to bottom in fresh kernels (every check passes;
# every check says "not attempted"). `make test-pythons` runs them on Python 3.11, 3.12 and 3.13
# in CI, so `make test` leaves them out; `make test-notebooks` runs them here.
NOTEBOOK_RUNS := tests/test_solutions_run.py tests/test_exercises_run.py

# Lint, drift check, unit tests (every exercise's answers replayed in process), then every
# lecture compared with nbval. --dist loadscope keeps one notebook's cells on one worker
# (tests/conftest.py groups them, and a lesson's exercise tests) and hands every other test out
# on its own. `compileall` writes the bytecode every worker, kernel and grading process reads
# for course_utils: where PYTHONDONTWRITEBYTECODE is set (as on this machine) Python never does.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(BIN)/python -m compileall -q course_utils
	$(BIN)/python -m course_utils build-exercises --check
	@$(BIN)/python -c "from course_utils.grading import sandbox; print('the grader isolates submissions with:', sandbox.isolation())"
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope tests notebooks \
		$(addprefix --ignore=,$(NOTEBOOK_RUNS)) \
		--nbval --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 300 $(PYTEST_ARGS)

test-notebooks: setup
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope $(NOTEBOOK_RUNS) $(PYTEST_ARGS)

# The learner's path in a real browser: JupyterLab in headless Chromium runs a lecture and an
# exercise (tests/browser/). Debian's Chromium and Playwright for Python, pointed at it; no browser
# is downloaded (`playwright install` is not used). Screenshots land in test-artifacts/browser/.
CHROMIUM ?= /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
BROWSER_LESSON ?= 01_padding
SUDO := $(shell [ "$$(id -u 2>/dev/null)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# The check results' icons (✅ ❌ 💡) in the screenshots need an emoji font.
$(EMOJI_FONT):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji \
		|| ($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji)

# Playwright's version is pinned in constraints.txt (pyproject.toml's `browser` extra).
$(VENV)/.playwright: $(STAMP) pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[lab,test,browser]'
	@touch $@

test-browser: setup $(CHROMIUM) $(EMOJI_FONT) $(VENV)/.playwright
	CHROMIUM=$(CHROMIUM) BROWSER_LESSON=$(BROWSER_LESSON) $(BIN)/python -m pytest -p no:cacheprovider \
		-v tests/browser/e2e_learner_path.py

# The course as a learner installs it, outside the clone (tests/install/): a wheel in a fresh
# venv used from another folder (lecture 00, every solution's checks, `lab`), and every
# notebook's set-up cell in a fresh venv without the course (it installs it from a local path
# standing in for the repository URL; a moved course folder still imports).
test-install: setup
	$(BIN)/python -m pytest -p no:cacheprovider -v tests/install/wheel_and_setup_cell.py

# Python 3.11, 3.12 and 3.13 (tests/install/pythons.py): a venv each in .venvs/, installed from
# constraints.txt, runs lecture 00, every solution and every exercise notebook. Interpreters:
# python3.X on PATH, else ~/.pyenv/versions/3.X.*/bin/python. A missing one is skipped with a
# reason, except under CI=true, where it fails.
test-pythons: setup
	$(BIN)/python -m pytest -p no:cacheprovider -v -rs tests/install/pythons.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/python -m course_utils build-exercises

# Re-execute lecture notebooks in place so committed outputs are the real ones.
execute: setup
	$(BIN)/python -m course_utils execute

exercises: setup
	$(BIN)/python -m course_utils build-exercises

# Insert or refresh every notebook's generated first cells (launch links, set-up cell), then
# regenerate exercises/. Run it after merging notebooks from other branches.
setup-cells: setup
	$(BIN)/python -m course_utils setup-cells

# Re-pin constraints.txt to the newest versions pyproject.toml's ranges allow, except the ones
# held-back.txt holds and says why (then review the diff and run make test and make test-pythons
# before committing it).
lock: | $(BIN)/python
	rm -rf .venv-lock
	"$(PYTHON)" -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --progress-bar on -c held-back.txt '.[lab,test,browser]'
	{ grep '^#' $(CONSTRAINTS); .venv-lock/bin/python -m pip freeze --exclude masking-course; } \
		> $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .venv-lock

bench: setup
	$(BIN)/python -m course_utils.bench

clean:
	rm -rf $(VENV) .venvs .pytest_cache .ruff_cache *.egg-info
