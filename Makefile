# Two commands set everything up on a fresh machine: `make up` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.dev-installed

.PHONY: up test lint bench sysdeps clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "cloudlet needs Python 3.11+ (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

sysdeps:
	@sh scripts/sysdeps.sh

up: $(STAMP) sysdeps
	$(BIN)/cloudlet up $(ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check cloudlet tests bench
	$(BIN)/lint-imports

test: $(DEVSTAMP) sysdeps lint
	@# pytest exits 5 when it collected no test; that is not a failing suite.
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo 'no tests were collected'; exit 0; fi; exit $$rc

bench: $(DEVSTAMP) sysdeps
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
