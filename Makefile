# Each target sets up its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: test lint demo soak bench loader clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Lint, type-check and run the whole test suite (browser tests included).
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Run the two-origin demo: the page on http://localhost:5000, the API on http://127.0.0.1:5001.
## Other ports: make demo ARGS="--page-port 8000 --api-port 8001"
demo: $(STAMP)
	$(BIN)/python -m demo_site $(ARGS)

## Load the package with wrk against gunicorn for 30 s (not part of `make test`).
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak $(ARGS)

## Measure the cost of JSONP against plain JSON, Express and flask-jsonpify.
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

## Regenerate flask_jsonp/static/jsonp.mjs and jsonp.d.mts from jsonp.js and jsonp.d.ts.
loader: $(STAMP)
	$(BIN)/python -m tests.loader_source

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
