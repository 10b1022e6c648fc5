# Each target sets up its own virtual environment in .venv on first use, with the
# dependency groups of pyproject.toml (pip >= 25.1 installs those).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETUP_SUM := $(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(SETUP_SUM)
# `make demo` alone installs the package and the demo group only; the dev set-up
# includes the demo group, so it touches this stamp too.
DEMO_STAMP := $(VENV)/.installed-demo-$(SETUP_SUM)
SPHINX := $(BIN)/sphinx-build -E -W --keep-going -n
# pip >= 26 prints the build backend's warnings, and setuptools warns on every
# editable install that folders named like the package may shadow it: a banner
# about the user's working directory, not this project. Only that one is
# ignored; other warnings and every error still show.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation:UserWarning" \
	$(BIN)/python -m pip install --quiet
# The Pythons the matrix runs on: pyenv's builds where they are, else PATH.
PYENV_BINS := $(wildcard $(HOME)/.pyenv/versions/3.1[0-3].*/bin)
MATRIX_PATH := $(subst $() ,:,$(strip $(PYENV_BINS) $(PATH)))

.PHONY: test lint docs doctest matrix demo soak bench loader clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade 'pip>=25.1'
	$(PIP_INSTALL) -e '.[orjson,prometheus]' --group dev
	rm -f $(VENV)/.installed-*
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) 'pip>=25.1'
	$(PIP_INSTALL) -e . --group demo
	rm -f $(VENV)/.installed-*
	touch $(DEMO_STAMP)

## Lint, type-check, build the docs, run their examples and the whole test suite
## (browser tests included).
test: lint docs doctest
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## The documentation as HTML in docs/_build/html; warnings are errors.
docs: $(STAMP)
	$(SPHINX) -b html docs docs/_build/html

## Run the documentation's examples.
doctest: $(STAMP)
	$(SPHINX) -b doctest docs docs/_build/doctest

## The unit tests on Python 3.10-3.13 with the oldest and the newest Flask (nox).
matrix: $(STAMP)
	PATH="$(MATRIX_PATH)" $(BIN)/nox $(ARGS)

## Run the two-origin demo: the page on http://localhost:5000, the API on http://127.0.0.1:5001.
## Other ports: make demo ARGS="--page-port 8000 --api-port 8001"
demo: $(DEMO_STAMP)
	$(BIN)/python -m demo_site $(ARGS)

## Load the package with wrk against gunicorn for 30 s (`make test` runs 3 s of it).
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak $(ARGS)

## Measure the cost of JSONP against plain JSON, Express and flask-jsonpify, and
## in-process against the previous release's code (a git worktree in .bench-cache/).
## Another revision: make bench ARGS="--against d1c0416"; a smoke run: ARGS=--quick;
## only the in-process rows: ARGS="--only inprocess".
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

## Regenerate flask_jsonp/static/jsonp.mjs and jsonp.d.mts from jsonp.js and jsonp.d.ts.
loader: $(STAMP)
	$(BIN)/python -m tests.loader_source

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .nox docs/_build
