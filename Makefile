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
# SEEDS=3 builds the lecture from a sweep over seeds 0..2 (claims judged over seeds)
SEEDS ?=
WORKERS ?= 2
# torch threads per process (1 is fastest for these small models on a 2-core machine)
THREADS ?= 1
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test lecture test test-all bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e .
	touch $@

# the tests also need pytest, Playwright (driving the system's Chromium) and Ray
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[test,ray]"
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP)

lecture: install
ifeq ($(strip $(SEEDS)),)
	$(BIN)/genlab run all --profile $(PROFILE) --device $(DEVICE) --out $(RUNS) \
		--threads $(THREADS) --workers $(WORKERS); \
	status=$$?; $(BIN)/genlab report --runs $(RUNS) --out report && exit $$status
else
	$(BIN)/genlab sweep all --seeds 0-$$(($(SEEDS) - 1)) --profile $(PROFILE) \
		--device $(DEVICE) --out $(RUNS) --workers $(WORKERS) --threads $(THREADS); \
	status=$$?; $(BIN)/genlab report --runs $(RUNS) --out report && exit $$status
endif

test: install-test
	$(BIN)/python -m pytest

test-all: install-test
	$(BIN)/python -m pytest -m ""

# BackPACK and curvlinops declare torchvision, which would replace the CPU torch with a
# CUDA build: they are installed without their dependencies (they import without it).
bench: install-test
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python -m pip install -q --no-deps backpack-for-pytorch==1.7.1 \
		curvlinops-for-pytorch unfoldNd einconv
	$(BIN)/python -m pip install -q einops opt-einsum linear_operator tqdm
	for b in benchmarks/[!_]*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) report .pytest_cache test-artifacts
