# Two commands for a fresh Debian machine with Python 3.11:
#   make run    the archive on its embedded default (SQLite + a folder under ./var)
#   make test   the whole test suite, installing what it needs first
#
# System packages come from apt (as root, or through sudo when available); Python
# packages go into ./.venv. Nothing is downloaded that is already installed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
HOST   ?= 127.0.0.1
PORT   ?= 8000

RUN_DEBS  := libmagic1 python3-venv
# OCR of scans (Thai + English): optional for `make run` (the archive says on /readyz
# when they are missing), needed by the tests and bench/ocr.py.
OCR_DEBS  := ocrmypdf tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng
TEST_DEBS := $(RUN_DEBS) postgresql chromium fonts-thai-tlwg $(OCR_DEBS)

.PHONY: run test lint bench-ingest bench-pdfa bench-search bench-ocr bench-load system-run system-test clean

run: system-run $(BIN)/.installed
	$(BIN)/archive serve --host $(HOST) --port $(PORT)

test: system-test $(BIN)/.installed-test lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --durations=30

lint: $(BIN)/.installed-test
	$(BIN)/ruff check archive api workers cli tests bench
	$(BIN)/lint-imports
	$(BIN)/vulture
	$(BIN)/mypy

system-run:
	@./scripts/apt-ensure $(RUN_DEBS)

system-test:
	@./scripts/apt-ensure $(TEST_DEBS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(BIN)/.installed-test: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@ $(BIN)/.installed

bench-ingest: $(BIN)/.installed-test
	$(BIN)/python bench/ingest.py

bench-pdfa: $(BIN)/.installed-test
	$(BIN)/python bench/pdfa_corpus.py
	$(BIN)/python bench/pdfa_cli.py

bench-search: $(BIN)/.installed-test
	$(BIN)/python bench/search.py

bench-ocr: system-test $(BIN)/.installed-test
	$(BIN)/python bench/ocr.py

bench-load: $(BIN)/.installed-test
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
