# Two commands for a fresh machine with Python 3.11: `make lab` and `make test`.
# Both create .venv if missing and install the pinned environment only when pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
PYTEST_ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup lab test test-browser lint format execute exercises bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The course needs Python 3.11, but $(PYTHON) is Python %d.%d. Install Python 3.11 or run: make PYTHON=/path/to/python3.11 ..." % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m course_utils install-kernel
	@touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/python -m course_utils lab $(LAB_ARGS)

# Lint, drift check, unit tests, then every notebook: lectures compared with nbval, solutions and
# exercises executed. --dist loadscope keeps one notebook's cells on one worker.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m course_utils build-exercises --check
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope tests notebooks \
		--nbval --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 300 $(PYTEST_ARGS)

# The learner's path in a real browser: JupyterLab in headless Chromium runs a lecture and an
# exercise (tests/browser/). Debian's Chromium and Playwright for Python, pointed at it; no browser
# is downloaded (`playwright install` is not used). Screenshots land in test-artifacts/browser/.
CHROMIUM ?= /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
BROWSER_LESSON ?= 01_padding
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# The check results' icons (✅ ❌ 💡) in the screenshots need an emoji font.
$(EMOJI_FONT):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji \
		|| ($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-color-emoji)

# Playwright is pinned in pyproject.toml's `browser` extra.
$(VENV)/.playwright: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[browser]'
	@touch $@

test-browser: setup $(CHROMIUM) $(EMOJI_FONT) $(VENV)/.playwright
	CHROMIUM=$(CHROMIUM) BROWSER_LESSON=$(BROWSER_LESSON) $(BIN)/python -m pytest -p no:cacheprovider \
		-v tests/browser/e2e_learner_path.py

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

bench: setup
	$(BIN)/python -m course_utils.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
