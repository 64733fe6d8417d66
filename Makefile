# Coffee Order: `make run` brings the whole stack up locally, `make test` checks everything.
SHELL := /bin/bash
PY := .venv/bin/python
PROFILE ?= dev
BASE_URL ?= http://127.0.0.1:8080
export BASE_URL

.DEFAULT_GOAL := help
.PHONY: help setup run up down status test bench unit

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install Debian packages (as root) and the .venv
	@scripts/setup.sh

# `make run` is the one a person watches: it brings the local trace backend (Zipkin) too; TRACING=0 leaves it out.
# `make up` and the test stacks keep the product's default, tracing off, unless TRACING=1 is given.
run: export TRACING ?= 1
run: setup ## the whole local stack in the foreground (Ctrl-C stops it), with the trace UI (TRACING=0: without)
	@$(PY) -m scripts.stack run --profile $(PROFILE)

up: setup ## the same stack in the background
	@$(PY) -m scripts.stack up --profile $(PROFILE)

down: ## stop what `make up` started (safe to repeat)
	@if [ -x $(PY) ]; then $(PY) -m scripts.stack down --profile $(PROFILE); else echo "nothing to stop"; fi

status: ## what the background stack runs, and where
	@$(PY) -m scripts.stack status --profile $(PROFILE)

test: ## everything: sets up, starts its own throwaway stack, runs every suite
	@scripts/test.sh

bench: ## the pipeline's cost per order against the machine's ceilings, written to bench/results.md
	@scripts/setup.sh --bench
	@$(PY) -m scripts.bench

unit: setup ## only the unit tests (no services needed)
	@$(PY) -m pytest tests/unit -q

-include mk/*.mk
