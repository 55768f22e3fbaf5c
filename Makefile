# genlab: `make lecture` rebuilds the lecture, `make test` runs the tests.
# On a GPU machine: make lecture TORCH="torch==2.13.0" PROFILE=default DEVICE=cuda
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel on disk when there is one; override TORCH for another build.
TORCH ?= $(or $(firstword $(wildcard /opt/wheels/torch-2.13.0*.whl)),torch==2.13.0)
PROFILE ?= quick
DEVICE ?= cpu
RUNS ?= runs
# THREADS=1 runs torch single-threaded (much faster on a machine busy with other work)
THREADS ?=
STAMP := $(VENV)/.installed

.PHONY: install lecture test test-all bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(STAMP)

lecture: install
	$(BIN)/genlab run all --profile $(PROFILE) --device $(DEVICE) --out $(RUNS) \
		$(if $(THREADS),--threads $(THREADS)); \
	status=$$?; $(BIN)/genlab report --runs $(RUNS) --out report && exit $$status

test: install
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m ""

bench: install
	for b in benchmarks/[!_]*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) report .pytest_cache
