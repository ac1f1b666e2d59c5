# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is
# installed here: the project's virtualenv (.venv) and Synapse's own (.venv-synapse).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed
JS_AGENT := tests/integration/js_agent
JS_AGENT_STAMP := $(JS_AGENT)/node_modules/.installed
NODE_NEEDED := the js test agent (Element-family client) needs Node.js >= 20
DEV_SET ?= ../shared/eval/dev.yaml ../shared/eval/dev2.yaml
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo demo-matrix test unit integration js-agent eval lint bench check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

# Synapse lives in its own virtualenv: its pinned dependencies never meet the bot's.
$(SYNAPSE_STAMP): tests/integration/synapse-requirements.txt
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install $(PIP_FLAGS) -r tests/integration/synapse-requirements.txt
	touch $@

# The Element-family test agent (matrix-js-sdk 37.5.0, Rust crypto) runs on Node >= 20;
# `npm ci` installs exactly its lockfile (and empties node_modules first, stamp included).
$(JS_AGENT_STAMP): $(JS_AGENT)/package.json $(JS_AGENT)/package-lock.json
	@command -v node >/dev/null || { echo "$(NODE_NEEDED), and no node is on PATH" >&2; exit 1; }
	@node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("$(NODE_NEEDED), found " + process.version); process.exit(1) }'
	@command -v npm >/dev/null || { echo "$(NODE_NEEDED) with npm, and no npm is on PATH" >&2; exit 1; }
	cd $(JS_AGENT) && npm ci --no-audit --no-fund
	touch $@

js-agent: $(JS_AGENT_STAMP)

demo: $(STAMP)
	$(BIN)/tchap-bot chat

# The real bot on a throwaway Synapse (127.0.0.1, SQLite) with a console agent in an
# encrypted direct chat; it prints a login for Element. Ctrl-C or Ctrl-D stops it all.
demo-matrix: $(STAMP) $(SYNAPSE_STAMP)
	@SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/python -m tests.demo_matrix

check: $(STAMP)
	$(BIN)/tchap-bot check knowledge

lint: $(STAMP)
	$(BIN)/ruff check bot tests setup.py
	$(BIN)/ruff format --check bot tests setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) $(SYNAPSE_STAMP) $(JS_AGENT_STAMP)
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/pytest -q tests/integration

# Each development set on its own must reach 95 %; the development conversations 90 % of
# whole conversations (each turn answered with the context of the turns before it).
eval: $(STAMP)
	@set -e; for set in $(DEV_SET); do echo "== $$set"; \
	  $(BIN)/tchap-bot eval $$set --min-accuracy 0.95; done; \
	echo "== ../shared/eval/dialogues-dev.yaml"; \
	$(BIN)/tchap-bot eval ../shared/eval/dialogues-dev.yaml --min-accuracy 0.9

# What an operator installs: the wheel with its core compiled by mypyc (setup.py), built from
# a copy of the files git would commit, installed into a fresh virtualenv outside the
# checkout, then asked, checked and versioned from there, and its replies to every
# evaluation set compared with the sources' (70-100 s, the C compiler about 55 s of it).
# `make wheel` leaves the wheel that passed in dist/.
.PHONY: wheel wheel-check
wheel: $(STAMP)
	PYTHON=$(BIN)/python WHEEL_DIST=$(abspath dist) bash tests/packaging/wheel_check.sh

wheel-check: $(STAMP)
	PYTHON=$(BIN)/python bash tests/packaging/wheel_check.sh

test: $(STAMP) $(SYNAPSE_STAMP) $(JS_AGENT_STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/tchap-bot check knowledge
	$(MAKE) --no-print-directory wheel-check
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/pytest -q
	$(MAKE) --no-print-directory eval

# The core as installed (the compiled wheel, in .venv-compiled, rebuilt when a tracked file
# changes), then as the sources run it; then end to end, the bot run from the sources.
COMPILED_VENV := .venv-compiled
$(COMPILED_VENV)/.installed: $(STAMP) $(shell git ls-files bot knowledge setup.py pyproject.toml)
	PYTHON=$(BIN)/python WHEEL_VENV=$(abspath $(COMPILED_VENV)) bash tests/packaging/wheel_check.sh
	mkdir -p $(COMPILED_VENV)/path && ln -sfn $(abspath tests) $(COMPILED_VENV)/path/tests
	touch $@

bench: $(STAMP) $(SYNAPSE_STAMP) $(COMPILED_VENV)/.installed
	cd $(COMPILED_VENV)/path && PYTHONPATH=. ../bin/python -m tests.bench.core_bench
	$(BIN)/python -m tests.bench.core_bench
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/python -m tests.bench.e2e_bench

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) $(COMPILED_VENV) $(JS_AGENT)/node_modules .pytest_cache .mypy_cache .ruff_cache
