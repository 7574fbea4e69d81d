"""What the sandbox's limits hold under each isolation (tests/test_sandbox.py asserts them for the
strictest): memory held at once by four children of 100 MB under a 256 MB budget, processes a
fork loop creates with max_processes = 16 (it stops at 1,000), and HumanEval judging throughput.

  .venv/bin/python benchmarks/sandbox.py [--smoke]
"""

from __future__ import annotations

import argparse
import importlib.util
import re

from _common import REPO, parse_args  # first: it imports harness, which pins CPU numerics before eval imports torch
from eval import HUMANEVAL, sandbox_rate

from harness import codejudge
from harness.sandbox import ISOLATIONS, Limits, run_program

TESTS = REPO / "tests" / "test_sandbox.py"


def probes():
    """The probe programs of the tests, one copy for both."""
    spec = importlib.util.spec_from_file_location("test_sandbox", TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judged", type=int, default=HUMANEVAL, help="HumanEval canonical solutions judged per isolation")
    args = parse_args(parser, {"judged": 4})
    programs = probes()
    print("| isolation | children of 100 MB held at once (256 MB budget) | processes created (max_processes 16) "
          f"| HumanEval judged/s ({args.judged} canonical, 2 workers, cold) |")
    print("|---|---|---|---|")
    for isolation in ISOLATIONS:
        children = run_program(programs.CHILDREN, Limits(timeout_s=8, memory_mb=256), isolation)
        forks = run_program(programs.FORK_COUNT, Limits(timeout_s=5, max_processes=16), isolation)
        codejudge._recorded.clear()  # every isolation records the tests' calls itself
        rate = sandbox_rate(isolation, args.judged)
        held = re.search(r"alive (\d)", children.detail).group(1)
        created = re.search(r"created (\d+)", forks.detail).group(1)
        print(f"| {isolation} | {held} of 4 | {created} | {rate['executions/s']:.1f} ({rate['passed']} passed) |")


if __name__ == "__main__":
    main()
