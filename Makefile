# converge-graph — `make run` starts Neo4j + the API, `make test` runs the whole suite.
# Neo4j runs locally from Maven Central jars (scripts/neo4j_local.py); no Docker needed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NEO4J  := $(PYTHON) scripts/neo4j_local.py

# `make run` instance: authentication on, the usual ports.
RUN_HOME      ?= .neo4j/run
BOLT_PORT     ?= 7687
HTTP_PORT     ?= 7474
NEO4J_HEAP    ?= 4g
NEO4J_PAGECACHE ?= 4g

# `make test` instance: throwaway, no auth, its own ports so it never collides with `make run`.
TEST_HOME      ?= .neo4j/test
TEST_BOLT_PORT ?= 17687
TEST_HTTP_PORT ?= 17474
TEST_HEAP      ?= 1g
TEST_PAGECACHE ?= 512m
PYTEST_ARGS    ?=

RUN_ENV = NEO4J_URI=bolt://127.0.0.1:$(BOLT_PORT) NEO4J_USER=neo4j \
	NEO4J_PASSWORD="$$($(NEO4J) password --home $(RUN_HOME))" \
	CVG_LOCAL_NEO4J_HOME="$(abspath $(RUN_HOME))"

.PHONY: help venv neo4j-fetch neo4j run stop test lint bench soak compose-validator

help:
	@echo "make run    - venv + local Neo4j (auth on) + schema + demo API on http://127.0.0.1:8000"
	@echo "make test   - venv + throwaway Neo4j on $(TEST_BOLT_PORT)/$(TEST_HTTP_PORT) + pytest"
	@echo "make stop   - stop the Neo4j started by make run"
	@echo "make neo4j  - fetch and start the make-run Neo4j only"
	@echo "make lint   - ruff check"
	@echo "make bench  - benchmarks against the make-run Neo4j (wipes it: BENCH_WIPE=1)"
	@echo "make soak   - SOAK_MINUTES (10) at SOAK_RATE (100) events/s on a throwaway Neo4j"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

neo4j-fetch:
	@$(NEO4J) fetch

neo4j: neo4j-fetch
	@$(NEO4J) start --home $(RUN_HOME) --bolt-port $(BOLT_PORT) --http-port $(HTTP_PORT) \
		--heap $(NEO4J_HEAP) --pagecache $(NEO4J_PAGECACHE) >/dev/null

run: venv neo4j
	@export $(RUN_ENV); \
	$(BIN)/converge-graph schema apply && \
	$(BIN)/converge-graph bootstrap && \
	echo && \
	echo "Neo4j Browser  http://localhost:$(HTTP_PORT)/browser/" && \
	echo "Bolt           $$NEO4J_URI" && \
	echo "Neo4j login    user neo4j, password $$NEO4J_PASSWORD" && \
	echo "API docs       http://127.0.0.1:8000/docs" && \
	echo "CLI            source .venv/bin/activate, then converge-graph --help (in another" && \
	echo "               terminal; it finds this Neo4j and its password by itself)" && \
	echo "(Ctrl-C stops the API; 'make stop' stops Neo4j)" && \
	echo && \
	CVG_DEMO=true exec $(BIN)/converge-graph serve

stop:
	@$(NEO4J) stop --home $(RUN_HOME)

# The trap stops the test server whatever pytest does; the recipe exits with pytest's status.
test: venv neo4j-fetch compose-validator e2e-tools
	@trap '$(NEO4J) stop --home $(TEST_HOME)' EXIT; \
	$(NEO4J) start --home $(TEST_HOME) --fresh --no-auth \
		--bolt-port $(TEST_BOLT_PORT) --http-port $(TEST_HTTP_PORT) \
		--heap $(TEST_HEAP) --pagecache $(TEST_PAGECACHE) >/dev/null || exit $$?; \
	NEO4J_URI=bolt://127.0.0.1:$(TEST_BOLT_PORT) NEO4J_USER=neo4j NEO4J_PASSWORD= \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# tests/integration/test_compose.py validates docker-compose.yml without a Docker engine:
# `docker compose config` where that plugin exists, else Debian's docker-compose.
compose-validator:
	@docker compose version >/dev/null 2>&1 || docker-compose version >/dev/null 2>&1 || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing docker-compose (compose file validator)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq docker-compose; } >/dev/null 2>&1 || \
		echo "could not install docker-compose; test_compose will fail"; \
	fi; }

# tests/e2e drives Debian's chromium through Neo4j Browser with the playwright-core pinned in
# tests/e2e/node/package-lock.json; nothing downloads a browser of its own.
E2E_NODE := tests/e2e/node
.PHONY: e2e-tools
e2e-tools: $(E2E_NODE)/node_modules/.package-lock.json
	@test -x /usr/bin/chromium || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium (Neo4j Browser test)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium; } >/dev/null 2>&1 || \
		echo "could not install chromium; tests/e2e will fail"; \
	else echo "tests/e2e needs /usr/bin/chromium: apt-get install chromium"; fi; }

$(E2E_NODE)/node_modules/.package-lock.json: $(E2E_NODE)/package.json $(E2E_NODE)/package-lock.json
	@command -v npm >/dev/null || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing nodejs and npm (Neo4j Browser test)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq nodejs npm; } >/dev/null 2>&1; fi; }
	@PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix $(E2E_NODE) --no-audit --no-fund \
		--loglevel=error >/dev/null || echo "could not install playwright-core; tests/e2e will fail"

lint: venv
	$(BIN)/ruff check .

# Wipes the make-run database: confirm with `make bench BENCH_WIPE=1` (or BENCH_ARGS=--yes).
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--big" for lookups at 1M events.
BENCH_ARGS ?=
bench:
	$(MAKE) venv neo4j
	$(BIN)/pip install -q -e '.[test,bench]'
	@export $(RUN_ENV); BENCH_WIPE=$(BENCH_WIPE) $(BIN)/python benchmarks/run.py \
		--neo4j-data-dir $(RUN_HOME)/data $(BENCH_ARGS)

# `make soak`: a steady rate against the API for SOAK_MINUTES on a throwaway Neo4j of its own
# (the make-run data stays untouched); fails if the API's memory grows without bound.
SOAK_HOME      ?= .neo4j/soak
SOAK_BOLT_PORT ?= 37687
SOAK_HTTP_PORT ?= 37474
SOAK_MINUTES   ?= 10
SOAK_RATE      ?= 100

soak: venv neo4j-fetch
	@trap '$(NEO4J) stop --home $(SOAK_HOME)' EXIT; \
	$(NEO4J) start --home $(SOAK_HOME) --fresh --no-auth \
		--bolt-port $(SOAK_BOLT_PORT) --http-port $(SOAK_HTTP_PORT) \
		--heap 2g --pagecache 1g >/dev/null || exit $$?; \
	NEO4J_URI=bolt://127.0.0.1:$(SOAK_BOLT_PORT) NEO4J_USER=neo4j NEO4J_PASSWORD= \
		$(BIN)/python benchmarks/soak.py --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE)
