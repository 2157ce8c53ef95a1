# The two commands of the README: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the real `asreview` package (issue 11 round-trip tests) in its own venv: its pandas pin differs from ours
ASREVIEW_STAMP := .venv-asreview/.installed

.PHONY: demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,embeddings,scale]'
	touch $(STAMP)

$(ASREVIEW_STAMP):
	$(PYTHON) -m venv .venv-asreview
	.venv-asreview/bin/pip install --quiet 'asreview>=3.0,<4'
	touch $(ASREVIEW_STAMP)

demo: $(STAMP)
	$(BIN)/python examples/run_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(ASREVIEW_STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) .venv-asreview .pytest_cache .mypy_cache .ruff_cache
