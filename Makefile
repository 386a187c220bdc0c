# Two commands do all set-up on a fresh machine:
#   make demo   creates .venv, installs everything, runs the whole pipeline on the embedded sample
#   make test   creates .venv if needed, installs, runs pytest
# GPU users: install your CUDA build of torch into .venv first, then `make install TORCH_SPEC=` (see README).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch that lies on local disk here; an unpinned torch would pull GBs of CUDA wheels.
TORCH_SPEC ?= torch==2.13.0
# PyPI's fairseq 0.12.2 does not import on Python 3.11; ve-fairseq ships a cp311 wheel of the same code.
# --no-deps: it declares torchaudio (speech only); its real dependencies are in requirements.txt.
FAIRSEQ_SPEC ?= ve-fairseq==0.12.3
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test test-fast clean-demo

$(STAMP): requirements.txt requirements-dev.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(strip $(TORCH_SPEC)),$(BIN)/pip install -q $(TORCH_SPEC))
	$(BIN)/pip install -q --no-deps $(FAIRSEQ_SPEC)
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(STAMP)

demo: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash recipes/demo/run.sh

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

clean-demo:
	rm -rf runs/demo
