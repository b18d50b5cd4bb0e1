# The two commands a newcomer needs: `make up` and `make test`. Everything else is what they call.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
NODE_MODULES := localaws/node/node_modules/.package-lock.json
MAP_MODULES := streaming/map/node_modules/.package-lock.json
MAP_SITE := streaming/map/site/index.html
MAP_SOURCES := $(shell find streaming/map/src streaming/map/static -type f) streaming/map/build.mjs
LINT_VENV := infra/lint/.venv
CHROMIUM := /usr/bin/chromium

.PHONY: up test install lint bench clean help postgresql

help:
	@echo "make up      install what is missing, then run the whole platform locally (Ctrl-C stops it)"
	@echo "make test    install what is missing, then run the full test suite"
	@echo "make lint    ruff over the code"
	@echo "make bench   run the benchmarks under bench/"

up: install
	$(VENV)/bin/wildrydes local up

test: install $(CHROMIUM) postgresql
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install: $(VENV)/.synced $(NODE_MODULES) $(MAP_MODULES) $(MAP_SITE) $(LINT_VENV)/.synced

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required (found $$($(PYTHON) --version 2>&1)); set PYTHON=python3.x"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	@echo "installing the Python environment into $(VENV) (uv sync --frozen; about a minute on a fresh machine)"
	@$(UV) sync --quiet --frozen --extra local --python $(PYTHON)
	@touch $@

$(LINT_VENV)/.synced: $(UV) infra/lint/pyproject.toml infra/lint/uv.lock
	@echo "installing the template linters into $(LINT_VENV)"
	@$(UV) sync --quiet --frozen --project infra/lint --python $(PYTHON)
	@touch $@

$(NODE_MODULES): localaws/node/package.json localaws/node/package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20+ is required and was not found on PATH"; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' || \
		{ echo "Node.js 20+ is required (found $$(node --version))"; exit 1; }
	@echo "installing the local endpoint's Node packages (kinesalite, dynalite)"
	@npm ci --prefix localaws/node --no-audit --no-fund --loglevel=error

# The live map's browser tests drive Debian's Chromium headless.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM) (Debian: apt-get install chromium)"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The Dagster-on-PostgreSQL rehearsal (`local up --dagster-storage postgres`) runs Debian's PostgreSQL server.
postgresql:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null || { echo "the tests need a PostgreSQL server (Debian: apt-get install postgresql)"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# The live map's packages (esbuild, Leaflet, the AWS SDK) and its bundle, built from src/ and static/.
$(MAP_MODULES): streaming/map/package.json streaming/map/package-lock.json $(NODE_MODULES)
	@echo "installing the live map's Node packages"
	@npm ci --prefix streaming/map --no-audit --no-fund --loglevel=error

$(MAP_SITE): $(MAP_MODULES) $(MAP_SOURCES)
	@echo "building the live map into streaming/map/site/"
	@cd streaming/map && node build.mjs > /dev/null

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) $(LINT_VENV) localaws/node/node_modules streaming/map/node_modules
