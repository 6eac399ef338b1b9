# The README's two quick-start commands: `make demo` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: demo test lint format bench bench-load bench-build bench-portal bench-hunan

demo: $(STAMP)  ## load the sample content into demo.sqlite3 and show the case overview
	bash scripts/ensure-system-packages.sh
	$(BIN)/volcredit demo --db sqlite:///demo.sqlite3

AXE := tests/e2e/node_modules/axe-core/axe.min.js

test: $(STAMP)  ## the whole suite: lint, format check, tests on SQLite and PostgreSQL, browser
	bash scripts/ensure-system-packages.sh --tests
	bash scripts/ensure-postgres.sh
	$(MAKE) --no-print-directory $(AXE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

SIZES ?= 10000 100000

bench: $(STAMP)  ## the scale benchmark in one run (issue 9): make bench SIZES="10000 100000"
	$(BIN)/python benchmarks/run.py --sizes $(SIZES)

bench-load: $(STAMP)  ## load benchmark: 10^6 service records, rows/s and peak memory
	$(BIN)/python benchmarks/load.py

bench-build: $(STAMP)  ## build benchmark: 10^4 and 10^5 entries, and plain mkdocs-material on 5,000
	$(BIN)/python benchmarks/build.py

bench-portal: $(STAMP)  ## portal benchmark: wrk on /me and /api/search, 10^6 volunteers, 10^7 records
	$(BIN)/python benchmarks/portal.py

bench-hunan: $(STAMP)  ## organisation commands nationally: 10^5 organisations, ~3,300 regions, 10^6 records
	$(BIN)/python benchmarks/hunan.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json  ## axe-core for the browser suite
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $(AXE)
