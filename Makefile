# The two commands of the README. Both set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install clean routing-report

## make run: install, migrate, seed the demo district, start the API (http://127.0.0.1:8000) and worker
run: $(STAMP)
	$(BIN)/python -m app.launcher

## make test: install, then run every test against real PostgreSQL and Redis
test: $(STAMP)
	$(BIN)/python -m pytest

## make routing-report: measure the routing suggester on the labelled calls (docs/routing-accuracy.md)
routing-report: $(STAMP)
	$(BIN)/python -m bench.routing.accuracy

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache
