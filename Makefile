# Two commands on a fresh machine: `make run` (install + start the app) and `make test` (install + run the tests).
# torch is installed first from the CPU wheel (torch==2.13.0 lies on local disk); letting pip resolve torch
# through sentence-transformers would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install browser run test test-fast bench clean-index

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python app.py

# Debian's chromium + CJK fonts for tests/test_browser.py (apt, only if missing; AIDQA_SKIP_BROWSER=1 skips).
browser:
	bash scripts/install-browser.sh

# Everything (unit, integration, browser, quality): what CI runs.
test: install browser
	$(BIN)/python -m pytest

# The edit-test loop: unit tests only (no model, no index, no server; under a minute). Markers: tests/conftest.py.
test-fast: install
	AIDQA_FAST_PROPERTIES=1 $(BIN)/python -m pytest -m unit -q

bench: install
	$(BIN)/python scripts/benchmark.py

clean-index:
	find index -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
