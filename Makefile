# Talk Together. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
PYTHON ?= $(shell command -v python3.11 || command -v python3)
LOCK := requirements/dev.lock
INSTALLED := $(VENV)/.installed-$(shell sha256sum $(LOCK) | cut -c1-16)
SHARED ?= ../shared
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)
RASA := $(PY) -m rasa
RESULTS := var/results
SERVERS ?= 2
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

.PHONY: help install lock build train run cluster shell test lint types unit validate story-test e2e content-report chromium nginx postgres redis eval bench bench-cluster soak audit clean

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv from the lock file (fast when nothing changed)

$(INSTALLED): $(LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --python $(PY) $(LOCK)
	@rm -f $(VENV)/.installed-* && touch $@

lock: ## Recompile the lock files from requirements/*.in (needs network)
	$(PY) -m uv pip compile --quiet --python-version 3.11 --override requirements/overrides.txt requirements/base.in -o requirements/base.lock
	$(PY) -m uv pip compile --quiet --python-version 3.11 --override requirements/overrides.txt requirements/dev.in -o $(LOCK)

build: install ## Build the spaCy pipeline and the domain from content/
	$(PY) -m bot build

train: install ## Train a model unless one exists for the current data, content and config
	$(PY) -m bot train

run: install ## Run the assistant (REST and socket.io on port 5005); Ctrl-C stops it
	$(PY) -m bot run

cluster: train nginx postgres redis ## SERVERS=2 Rasa servers behind nginx on port 5005, on PostgreSQL and Redis; Ctrl-C stops it
	$(PY) -m bot cluster --servers $(SERVERS)

shell: install ## Chat with the assistant in the terminal
	$(PY) -m bot shell

test: lint types unit validate train story-test e2e content-report ## Run every check and test (what CI runs)

lint: install ## ruff and yamllint
	$(PY) -m ruff check bot actions tests bench
	$(PY) -m ruff format --check bot actions tests bench
	$(PY) -m yamllint --strict .

types: install ## mypy on bot/ and actions/
	$(PY) -m mypy bot actions

unit: build nginx postgres redis ## pytest for bot/ and actions/ (no servers)
	$(PY) -m pytest -m "not e2e"

validate: build ## rasa data validate, warnings are failures
	$(RASA) data validate --fail-on-warnings --domain var/domain --data data --config config.yml

story-test: train ## Test stories in tests/test_stories, any wrong prediction fails
	$(RASA) test core --stories tests/test_stories --model "$$($(PY) -m bot model)" \
		--fail-on-prediction-errors --out $(RESULTS)/stories

e2e: train chromium nginx postgres redis ## Start the real servers on free ports; talk to them over REST and in Chromium
	$(PY) -m pytest -m e2e

chromium: ## Install Debian's Chromium for the browser tests (apt, needs root)
	@command -v chromium >/dev/null || { $(APT_INSTALL) chromium >/dev/null; }

# Debian puts nginx in /usr/sbin, which a normal user's PATH may not have.
nginx: ## Install Debian's nginx for the cluster and its tests (apt, needs root)
	@PATH="$$PATH:/usr/sbin" command -v nginx >/dev/null || { $(APT_INSTALL) nginx >/dev/null; }

postgres: ## Install Debian's PostgreSQL and start it, unless one answers on 127.0.0.1:5432 (apt, needs root)
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
		command -v pg_ctlcluster >/dev/null || { $(APT_INSTALL) postgresql >/dev/null; }; \
		service postgresql start; }

redis: ## Install Debian's Redis and start it, unless one answers on 127.0.0.1:6379 (apt, needs root)
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { \
		command -v redis-server >/dev/null || { $(APT_INSTALL) redis-server >/dev/null; }; \
		service redis-server start; }

content-report: build ## One HTML page of every message for a safeguarding lead (var/results/content-report.html)
	$(PY) -m bot content report

eval: train ## Cases from ../shared/eval against a running assistant
	$(PY) -m bot eval --shared $(SHARED)

bench: train ## Benchmark against a stock `rasa init` bot, then the soak test (not tests)
	$(PY) bench/bench.py
	$(PY) bench/soak.py

bench-cluster: train nginx postgres redis ## 100 conversations x 10 turns through nginx to 1, then 2 Rasa servers, 1,000 schools registered (not a test)
	$(PY) bench/bench_cluster.py

soak: train ## 100 conversations x 20 turns at once on SQLite and PostgreSQL: no errors, nothing lost
	$(PY) bench/soak.py

audit: ## pip-audit over requirements/base.lock, in its own venv (needs PyPI's JSON API; see SECURITY.md)
	@test -x .venv-audit/bin/pip-audit || { $(PYTHON) -m venv .venv-audit && .venv-audit/bin/pip install -q pip-audit; }
	.venv-audit/bin/pip-audit --no-deps --disable-pip --progress-spinner off -r requirements/base.lock

clean: ## Remove built files, models and results (keeps .venv and the database)
	rm -rf models $(RESULTS) var/spacy var/domain var/run .rasa .pytest_cache .mypy_cache .ruff_cache
