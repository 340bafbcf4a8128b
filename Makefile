# perpcore's two commands: `make demo` (the main job on embedded defaults) and `make test` (the whole
# suite: contracts, release build, debug build, benchmark budgets). Both set everything up from
# scratch on a fresh machine: a virtualenv with the pinned toolchain, then perpcore built from these
# sources; the contracts' toolchain (forge, solcjs, OpenZeppelin) comes from npm's lockfile.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
DEBUG_SITE := build/debug-site
export OPENBLAS_NUM_THREADS := 1

.PHONY: demo test install debug-build test-contracts test-release test-debug bench-check bench clean

demo: install
	$(BIN)/perpcore demo

test: test-contracts test-release test-debug bench-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEPS_STAMP): requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $@

# the release build, installed the way a user installs it (the wheel's contents, not the tree)
install: $(DEPS_STAMP)
	$(BIN)/python -m pip install --quiet --no-build-isolation --no-deps .

# the debug build (bounds/overflow checks, integrity check after every book operation) beside it
debug-build: $(DEPS_STAMP)
	rm -rf $(DEBUG_SITE)
	PERPCORE_DEBUG=1 $(BIN)/python -m pip install --quiet --no-build-isolation --no-deps \
		--target $(DEBUG_SITE) .

# forge first: its closing line is not a test summary CI parses, pytest's is
test-contracts:
	contracts/test.sh

test-release: install
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q benchmarks --benchmark-disable-gc --benchmark-columns=min,median,max,rounds

test-debug: debug-build
	PERPCORE_EXPECT_DEBUG=1 PYTHONPATH=$(DEBUG_SITE) $(BIN)/python -m pytest -q -m "not slow" tests

bench-check: install
	$(BIN)/perpcore bench --check benchmarks/budgets.toml --json build/bench-report.json

bench: install
	$(BIN)/perpcore bench

clean:
	rm -rf build $(VENV) src/perpcore.egg-info .pytest_cache .hypothesis .benchmarks
	rm -rf contracts/node_modules contracts/out contracts/cache
	find src -name '*.so' -delete
