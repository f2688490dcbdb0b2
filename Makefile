# Thriving Pathways: every set-up step lives here, so a fresh machine needs only `make run`
# (the app on the demo data, no server) or `make test` (everything, then the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-lowest check setup setup-app system-deps neo4j-jars bench stress benchmark clean

## make run: install the app and open it on the embedded demo data (no database server).
run: setup-app
	$(BIN)/pathways demo
	$(BIN)/pathways serve --host $(HOST) --port $(PORT)

## make test: install everything (Python, Chromium, chromedriver, Java, Maven, Neo4j jars),
## run the static checks, then the whole suite against a real Neo4j and a real headless browser.
test: setup
	$(MAKE) --no-print-directory check
	$(BIN)/pytest tests pathways loaders queries --junitxml=build/junit.xml

## make check: the static checks alone: the layers of docs/architecture.md (import-linter
## contracts), ruff and mypy, all configured in pyproject.toml.
check: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy --follow-imports=silent benchmarks

## make test-lowest: the same checks and tests on the lowest versions pyproject.toml claims
## (constraints/lowest.txt), in a separate venv (.venv-lowest); run once after raising or
## adding a lower bound.  TESTS=... narrows what runs (e.g. TESTS='tests -m "not browser"').
LOWEST := .venv-lowest
TESTS ?= tests pathways loaders queries
test-lowest: system-deps neo4j-jars node_modules/.installed
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install --quiet --upgrade pip
	$(LOWEST)/bin/pip install --quiet -c constraints/lowest.txt -e '.[test]'
	mkdir -p build && $(LOWEST)/bin/pip list --format=freeze > build/lowest-installed.txt
	$(LOWEST)/bin/lint-imports
	$(LOWEST)/bin/pytest $(TESTS) -p no:cacheprovider

setup: setup-app $(VENV)/.installed-test system-deps neo4j-jars node_modules/.installed

setup-app: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages for the browser tests and the local Neo4j; installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# axe-core for the browser tests' accessibility checks, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --silent
	touch $@

# Neo4j Community 5.26 jars from Maven Central into the user cache (once).
neo4j-jars: setup-app
	$(BIN)/python -c "from pathways.neo4j_runtime import ensure_jars; print('Neo4j jars in', ensure_jars())"

SIZES ?= 1k,10k,100k
## make bench: the scale benchmark; writes benchmarks/RESULTS.md (SIZES=1k,10k,100k,1m)
bench: setup
	cd benchmarks && ../$(BIN)/python scale.py --sizes $(SIZES)
	$(BIN)/python benchmarks/app_pages.py --sizes 10k,100k --neo4j --results
	$(BIN)/python benchmarks/stress.py --users 50 --seconds 60

## make stress: 50 simulated app users on both stores while loads run (errors, mixed answers, p50/p95)
stress: setup
	$(BIN)/python benchmarks/stress.py --users 50 --seconds 60

benchmark: setup
	$(BIN)/python benchmarks/load_and_paths.py
	$(BIN)/python benchmarks/gaps_report.py

clean:
	rm -rf $(VENV) $(LOWEST) build .pytest_cache *.egg-info node_modules
