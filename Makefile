# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is
# installed here: the project's virtualenv (.venv) and Synapse's own (.venv-synapse).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYNAPSE_VENV := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed
DEV_SET ?= ../shared/eval/dev.yaml ../shared/eval/dev2.yaml
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test unit integration eval lint bench check clean

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

demo: $(STAMP)
	$(BIN)/tchap-bot chat

check: $(STAMP)
	$(BIN)/tchap-bot check knowledge

lint: $(STAMP)
	$(BIN)/ruff check bot tests
	$(BIN)/ruff format --check bot tests
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) $(SYNAPSE_STAMP)
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/pytest -q tests/integration

# Each development set on its own must reach 95 %.
eval: $(STAMP)
	@set -e; for set in $(DEV_SET); do echo "== $$set"; \
	  $(BIN)/tchap-bot eval $$set --min-accuracy 0.95; done

test: $(STAMP) $(SYNAPSE_STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/tchap-bot check knowledge
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/pytest -q
	$(MAKE) --no-print-directory eval

bench: $(STAMP) $(SYNAPSE_STAMP)
	$(BIN)/python -m tests.bench.core_bench
	SYNAPSE_PYTHON=$(abspath $(SYNAPSE_VENV))/bin/python $(BIN)/python -m tests.bench.e2e_bench

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .pytest_cache .mypy_cache .ruff_cache
