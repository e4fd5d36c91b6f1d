# TradeBot: `make demo` runs the main job, `make test` runs every test (and starts what they need).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: install demo paper backtest test test-fast bench soak lint format services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tradebot paper --html $(OUT)/paper-report.html --fills-csv $(OUT)/paper-fills.csv --json $(OUT)/paper-result.json

backtest: $(STAMP)
	$(BIN)/tradebot backtest --html $(OUT)/backtest-report.html --json $(OUT)/backtest-result.json

services:
	bash infra/ensure-services.sh

test: $(STAMP) services
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check backend tests benchmarks
	$(BIN)/ruff format --check backend tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format backend tests benchmarks
	$(BIN)/ruff check --fix backend tests benchmarks

clean:
	rm -rf $(OUT) var .pytest_cache .mypy_cache .ruff_cache
