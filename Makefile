# The two commands: `make up` (all-in-one cloud) and `make test` (the whole suite).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STRATUS := $(VENV)/bin/stratus
STAMP := $(VENV)/.stratus-installed

.PHONY: up down status test test-unit test-functional test-clients test-e2e lint deps tempest clean

up: deps
	$(STRATUS) up

down: deps
	$(STRATUS) down

status: deps
	$(STRATUS) status

test: deps
	scripts/run-tests.sh

lint: deps
	scripts/run-tests.sh lint

tempest: deps
	scripts/tempest.sh $(SERVICES)

deps: $(STAMP)

$(STAMP): pyproject.toml scripts/install-debs.sh
	scripts/install-debs.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .tempest-venv test-output
