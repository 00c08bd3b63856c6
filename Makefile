# orient: `make demo` scores the examples with the shipped model; `make test` runs the tests.
# Both set up everything they need (a virtual environment in .venv, pinned by constraints.txt).
# `make bench` measures speed and memory into reports/benchmark.md (about 15 minutes; run it in the background).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip
MODEL  := models/orientation.joblib
PASSAGES := corpus/passages.jsonl
RAW    := corpus/raw/000_8dea640b3316b8d8.txt
# Everything a trained model is made from: the one list that `orient train` reads too.
MODEL_INPUTS := $(shell sed -E '/^(\#|$$)/d; s/^(data|code) +//' pipeline/training/model_inputs.txt)
CORPUS_CODE := pipeline/training/corpus.py pipeline/text.py

.DEFAULT_GOAL := help
.PHONY: help install bytecode demo test test-quick corpus train evaluate lint clean wheel-check bench golden

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

# Extras: fast = rjieba, verified to give jieba's tokens (tests/test_speed_segmenters.py), so the shipped
# experience is fast; dask = so the Dask tests run in `make test`.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[test,dev,fast,dask,web]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv with pinned versions and install orient into it

# orient is installed editable, so pip compiled none of its modules; where PYTHONDONTWRITEBYTECODE is set
# (common in containers), Python would then compile them from source in every process it starts.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q pipeline

demo: bytecode  ## Score examples/ with the shipped model
	$(BIN)/orient score examples/ --format table

test: bytecode  ## Run the test suite
	$(BIN)/python -m pytest -q

test-quick: bytecode  ## Run the tests not marked slow, browser or dask (under 30 s)
	$(BIN)/python -m pytest -q -m "not slow and not browser and not dask"

$(PASSAGES): $(RAW) corpus/decisions.tsv $(CORPUS_CODE) | $(STAMP)
	$(BIN)/orient corpus

corpus: $(PASSAGES)  ## Rebuild corpus/passages.jsonl from the raw page and decisions.tsv

# The same arithmetic on any x86-64 machine: one OpenBLAS kernel, one thread, glibc's maths without FMA
# (reports/reproducibility.md). With the stored numbers rounded, `make corpus train` then rebuilds models/ byte for byte.
SAME_ARITHMETIC := OPENBLAS_CORETYPE=Nehalem OPENBLAS_NUM_THREADS=1 GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4

$(MODEL): $(MODEL_INPUTS) pipeline/training/model_inputs.txt | $(STAMP)
	$(SAME_ARITHMETIC) $(BIN)/orient train --model $(MODEL) --force

train: $(MODEL)  ## Retrain models/orientation.joblib (only when the corpus or the model code changed)

# What the shipped model says of examples/ and the evaluation sets, fixed so that a change to the code that
# scores is seen to change no output (tests/test_golden.py). Rebuild only when an output is meant to change.
GOLDEN_INPUTS := examples/ $(wildcard corpus/eval/*.jsonl)
golden: bytecode  ## Rewrite tests/golden/ from the shipped model (only when scoring output is meant to change)
	$(BIN)/orient score $(GOLDEN_INPUTS) --jobs 1 --format jsonl -o tests/golden/score.jsonl
	$(BIN)/orient score examples/ corpus/eval/hard.jsonl corpus/eval/realistic.jsonl --jobs 1 --explain --format jsonl -o tests/golden/explain.jsonl
	$(BIN)/orient score examples/ --jobs 1 --format csv --no-bom -o tests/golden/examples.csv

evaluate: $(STAMP)  ## Write reports/evaluation.md: figures per evaluation set and the lever study
	$(BIN)/python -m research.evaluation --output reports/evaluation.md

lint: $(STAMP)  ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check pipeline tests bench research
	$(BIN)/ruff format --check pipeline tests bench research
	$(BIN)/mypy pipeline

bench: bytecode  ## Measure speed and memory (segmenters, batch, cold start, cores, 1 GB, Dask) into reports/benchmark.md
	$(BIN)/python bench/benchmark.py --output reports/benchmark.md

wheel-check: $(STAMP)  ## Build the wheel, install it in a fresh venv outside the checkout, score one text there
	rm -rf dist && $(PIP) wheel --quiet --no-deps -w dist .
	rm -rf /tmp/orient-wheel-check && $(PYTHON) -m venv /tmp/orient-wheel-check
	/tmp/orient-wheel-check/bin/python -m pip install --quiet -c constraints.txt dist/orient_zh-*.whl
	/tmp/orient-wheel-check/bin/python -c "import importlib.resources as r, sys; sys.exit(not r.files('pipeline').joinpath('py.typed').is_file())"
	cd /tmp && /tmp/orient-wheel-check/bin/orient score --text '负责市场调研，洞察目标客户需求，制定品牌定位。' --format json

clean:  ## Remove the virtual environment, caches and build output (never the committed model)
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
