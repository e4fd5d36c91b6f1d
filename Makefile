# TradeBot: `make demo` runs the main job, `make test` runs every test (and starts what they need).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

DEPLOY := .deploy

.PHONY: install demo paper backtest test test-fast portal dev bench soak lint format services \
	clean package deploy-paper deploy-live rollback

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

# The portal first (Chromium, npm ci, API client freshness, type check, unit tests, build): its
# browser journey in tests/portal serves that build.
test: $(STAMP) services portal
	$(BIN)/python -m pytest -n 2 -q

portal: $(STAMP)
	bash frontend/scripts/test.sh

# The whole stack for a person to click through (see infra/dev.sh); prints the URLs.
dev: $(STAMP) services
	bash infra/dev.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# Not part of `make test` (a 20 s version is): SOAK_SECONDS (120), SOAK_SERVICES (shared).
soak: $(STAMP) services
	$(BIN)/python -m tools.soak

lint: $(STAMP)
	$(BIN)/ruff check backend tests benchmarks tools
	$(BIN)/ruff format --check backend tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format backend tests benchmarks tools
	$(BIN)/ruff check --fix backend tests benchmarks tools

# The built wheel in a venv of its own: what a server runs, not the source tree.
package: $(STAMP)
	rm -rf dist
	$(BIN)/python -m pip wheel -q --no-deps -w dist .
	test -x $(DEPLOY)/bin/python || $(PYTHON) -m venv $(DEPLOY)
	$(DEPLOY)/bin/python -m pip install -q --upgrade pip
	$(DEPLOY)/bin/python -m pip install -q --force-reinstall dist/tradebot-*.whl

# Releases (tools/release.py, state in .deploy/): deploy-paper builds the wheel once, records it
# with its sha256, installs it in .deploy/paper and runs its paper canary, then paper-trades
# with it; deploy-live installs exactly a canaried wheel in .deploy/live (RELEASE=<id>, default
# the newest) and trades real money with it; rollback goes back to the one promoted before.
RELEASE_TOOL := $(BIN)/python -m tools.release --state $(DEPLOY)

deploy-paper: $(STAMP)
	$(RELEASE_TOOL) deploy-paper
	PAPER_MODE=true $(DEPLOY)/paper/bin/tradebot run

# Real money: refused unless PROMOTE_CONFIRM=I_ACKNOWLEDGE_RISK and PAPER_MODE is not true.
deploy-live: $(STAMP)
	$(RELEASE_TOOL) promote $(if $(RELEASE),--release $(RELEASE))
	PAPER_MODE=false $(DEPLOY)/live/bin/tradebot run

rollback: $(STAMP)
	$(RELEASE_TOOL) rollback
	PAPER_MODE=false $(DEPLOY)/live/bin/tradebot run

clean:
	rm -rf $(OUT) var dist $(DEPLOY) .pytest_cache .mypy_cache .ruff_cache
