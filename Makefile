# Thin wrappers over `python -m tutorial` (the same commands work without make).
PYTHON ?= python3
PORT ?= 8000
TUTORIAL = $(PYTHON) -m tutorial

.DEFAULT_GOAL := help
.PHONY: help setup test check start branches notebooks lab lint clean lock bench test-postgres test-redis test-matrix test-browser test-protections screenshots

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z%_-]+:.*## / {gsub("%", "N", $$1); printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## create .venv with the pinned requirements (done for you by every target)
	@$(TUTORIAL) setup

step-%: ## serve step N on 127.0.0.1:8000 (PORT=8001; ASGI=1 uvicorn; TRACE=1 prints signals; TOOLBAR=1)
	@$(TUTORIAL) serve $* --port $(PORT) $(if $(ASGI),--asgi) $(if $(TRACE),--trace) $(if $(TOOLBAR),--toolbar)

test: ## run every step's tests, one pytest process each, plus tests/
	@$(TUTORIAL) test

test-step-%: ## run step N's tests only, e.g. make test-step-3
	@$(TUTORIAL) test $*

reset-%: ## delete step N's db.sqlite3, e.g. make reset-2
	@$(TUTORIAL) reset $*

check: ## test your own project against a step: make check STEP=3 PROJECT=../my_shop [POSTGRES=1] [WATCH=1] [QUICK=1]
	@$(TUTORIAL) check $(STEP) $(PROJECT) $(if $(POSTGRES),--postgres) $(if $(WATCH),--watch) $(if $(QUICK),--quick)

start: ## copy step N-1's project to build step N yourself: make start STEP=3 PROJECT=../try3
	@$(TUTORIAL) start $(STEP) $(PROJECT)

branches: ## one git branch per step, step-01 to the last, in DEST: make branches DEST=../my_shop-steps
	@$(TUTORIAL) branches $(DEST)

diff-%: ## what changed from step N-1 to step N, code first (make diff-3; ALL=1 adds the README)
	@$(TUTORIAL) diff $* $(if $(ALL),--all) $(if $(STAT),--stat)

test-postgres: ## run every step's tests on a throwaway PostgreSQL server
	@$(TUTORIAL) test-postgres

test-redis: ## run the task tests (steps 06 on) with RQ workers on a throwaway Redis server
	@$(TUTORIAL) test-redis

test-matrix: ## run the steps, notebooks and inspector on Django 5.2 and on Django 6.1
	@$(TUTORIAL) test-matrix

test-browser: ## click through the pages in headless Chromium (steps 3 on, and the toolbar panel)
	@$(TUTORIAL) test-browser

test-protections: ## take each protection a README teaches out of a copy of its step: check must fail
	@$(TUTORIAL) test-protections

screenshots: ## take the README's screenshots again, in headless Chromium (docs/images)
	@$(TUTORIAL) test-browser --screenshots

bench: ## measure what signals cost; prints a table and writes bench/results/latest.md
	@$(TUTORIAL) bench

receivers-%: ## list step N's signals and receivers (make receivers-3)
	@$(TUTORIAL) receivers $*

tour-%: ## run step N's scenario and print every signal sent (make tour-3)
	@$(TUTORIAL) tour $*

notebooks: ## re-execute every notebook and save its outputs
	@$(TUTORIAL) notebooks

lab: ## open JupyterLab on notebooks/ with the course's kernel
	@$(TUTORIAL) lab

lint: ## ruff check and ruff format --check
	@$(TUTORIAL) lint

lock: ## regenerate requirements/*.txt from requirements/*.in
	@$(TUTORIAL) lock

clean: ## delete .venv, .venv-django61 and caches (never a database)
	@$(TUTORIAL) clean
