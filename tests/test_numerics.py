"""Pinned CPU numerics (harness/numerics.py): in effect in every test process, checked, recorded."""

import json
import os
import subprocess
import sys

import pytest
import torch

from harness import numerics
from harness.io import provenance
from harness.jobs import job

PINNED = os.environ.get(numerics.MODE_VARIABLE, "pinned") == "pinned"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in numerics.PINNED_ENVIRONMENT}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env})


@pytest.mark.skipif(not PINNED, reason="the suite runs with HARNESS_NUMERICS=native")
def test_tests_run_the_pinned_kernels():
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"
    assert numerics.vector_math() == "numpy"
    assert torch.get_num_threads() == 1
    numerics.check()


def test_importing_harness_pins_a_fresh_process():
    out = run_python("import harness, torch, json, sys; from harness import numerics; numerics.configure(4); "
                     "import harness.jobs, harness.stages; loaded = 'transformers.modeling_utils' in sys.modules; "
                     "import harness.modeling; from harness import gqa_decode; "
                     "print(json.dumps(numerics.state() | {'models_loaded_early': loaded, 'attention': gqa_decode.installed()}))")
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout)
    # a job without a model does not load transformers' models; once harness.modeling loads them,
    # they decode with harness.gqa_decode's attention (the other order: every test of this process)
    assert not state["models_loaded_early"] and state["attention"]
    assert state["mode"] == "pinned" and state["aten_capability"] == "AVX2" and state["torch_threads"] == 1
    assert state["matmul"] == "openblas-Haswell" and state["environment"]["OPENBLAS_NUM_THREADS"] == "1"
    assert state["vector_math"] == "numpy"


def test_a_process_that_skips_configure_is_refused():
    out = run_python("import harness, torch; from harness import numerics; torch.set_num_threads(1); numerics.check()")
    assert out.returncode != 0 and "matrix products run torch (mkl), not openblas-Haswell" in out.stderr


def test_torch_loaded_first_is_refused_with_the_cause_named():
    out = run_python("import torch; import harness; from harness import numerics; numerics.check()")
    assert out.returncode != 0
    assert "pinned numerics are not in effect" in out.stderr and "torch was imported before harness" in out.stderr


def test_native_mode_leaves_the_environment_alone():
    out = run_python("import harness, json; from harness import numerics; print(json.dumps(numerics.state()))",
                     HARNESS_NUMERICS="native")
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout)
    assert state["mode"] == "native" and state["environment"]["ATEN_CPU_CAPABILITY"] is None


def test_an_unknown_mode_names_the_allowed_ones():
    out = run_python("import harness", HARNESS_NUMERICS="fast")
    assert out.returncode != 0 and "HARNESS_NUMERICS='fast'; allowed: pinned, native" in out.stderr


@pytest.mark.skipif(not PINNED, reason="the suite runs with HARNESS_NUMERICS=native")
def test_a_job_gets_one_thread_whatever_it_asks_and_flushes_denormals():
    with job(threads=2, log_path=None):
        assert torch.get_num_threads() == numerics.JOB_THREADS == 1
        assert torch.tensor([1e-39]).item() == 0.0 and numerics.state()["denormals_flushed"]


def test_every_result_records_its_numerics():
    record = provenance({"name": "x"}, 0)["numerics"]
    assert record["mode"] == numerics.mode()
    assert record["aten_capability"] == torch.backends.cpu.get_cpu_capability()
    assert record["torch_threads"] == torch.get_num_threads()
    assert record["cpu"]["model"] and "libc" in record
