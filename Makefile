# Two commands do all set-up on a fresh machine:
#   make run    — install into .venv and run the gateway on embedded defaults (embedded Redis, SQLite)
#   make test   — install test dependencies (system packages too, when root) and run every check
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test setup setup-test lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e .

setup-test: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[test,bench]'
	@if [ -f tests/e2e/package.json ]; then cd tests/e2e && npm install --no-audit --no-fund --silent; fi

# espeak-ng and sox make test audio; chromium (with npm's playwright-core and a CJK font) runs the
# console's browser tests; redis-server backs the queue tests.
system-deps:
	@missing=""; \
	for pair in espeak-ng:espeak-ng sox:sox chromium:chromium redis-server:redis-server npm:npm fc-list:fontconfig; do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; fi; \
	fi

run: setup
	$(BIN)/linkage run

lint:
	$(BIN)/ruff check .
	@if [ -f dialplans/extensions.conf ]; then cd dialplans && ../$(BIN)/asterisklint dialplan-check extensions.conf; fi

test: setup-test lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache
