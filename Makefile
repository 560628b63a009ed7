# Two commands matter (see README): `make run` (install, sample event, API server) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# make run PORT=8080 HOST=0.0.0.0 SERVE_ARGS='--workers 4 --encoder hashing'
PORT ?= 8000
HOST ?= 127.0.0.1
SERVE_ARGS ?=

.PHONY: install run demo test lint bench bench-engine bench-service bench-tables bench-golfers bench-meetings bench-complement clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the CPU build of 2.13.0 on disk; otherwise pip resolves a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/matchmaker serve --demo --host $(HOST) --port $(PORT) $(SERVE_ARGS)

demo: $(STAMP)
	$(BIN)/matchmaker demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: bench-engine bench-tables bench-service

bench-engine: $(STAMP)
	$(BIN)/python -m scripts.bench_engine

bench-tables: $(STAMP)
	$(BIN)/python -m scripts.bench_tables

bench-service: $(STAMP)
	$(BIN)/python -m scripts.bench_service

bench-golfers: $(STAMP)
	$(BIN)/python -m scripts.bench_golfers

bench-meetings: $(STAMP)
	$(BIN)/python -m scripts.bench_meetings

bench-complement: $(STAMP)
	$(BIN)/python -m scripts.bench_complement

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
