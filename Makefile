# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv, install the locked dependencies (uv.lock) and run.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

# llama-cpp-python builds from source: build it portable. A native build picks CPU features (AMX) that
# crash on some of our machines; this set runs everywhere we deploy.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
# The built llama-cpp-python wheel is cached by uv (~/.cache/uv), so later installs take seconds.

.PHONY: install system-deps demo test lint typecheck unit bench clean help

help:
	@echo "make demo   install into .venv and show the embedded default (emulated AWS account, catalogue, models)"
	@echo "make test   install into .venv and run the whole suite (lint, types, tests)"

# The process sandbox isolates generated code with bubblewrap (Linux namespaces); the benchmark report's test
# renders report.html in headless Chromium. Install them from the distribution when we can (root + apt);
# otherwise the sandbox falls back to unshare and the browser test is skipped, and we say so.
system-deps:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (apt)"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: not installed:$$missing (bubblewrap: the strongest sandbox isolation; chromium: the HTML report test)"; \
	  fi; \
	fi

$(STAMP): pyproject.toml uv.lock | system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	@echo "installing locked dependencies into $(VENV) (first run builds llama-cpp-python: ~4 min on 2 cores)"
	$(BIN)/uv sync --frozen --all-extras --python $(BIN)/python
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m cloudinspect.demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers: CI has 2 cores and the suite is mostly waiting on subprocesses (moto, sandboxes, llama.cpp);
# serial it took 16 min there (2,146 tests), with 2 workers about 12. PYTEST_WORKERS=0 runs it serially.
PYTEST_WORKERS ?= 2

unit: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/emulator_startup.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
