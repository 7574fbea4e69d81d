"""Hostile math answers against the scorer: each attack's verdict and seconds alone, then one
batch of 112 normal answers with 16 attacks, as a training step would score it.

  .venv/bin/python benchmarks/scorer_attacks.py [--timeout 5] [--normal 112] [--smoke]

Run it against another revision with PYTHONPATH=<that checkout> to compare; an attack that
raises there is reported as such.
"""

from __future__ import annotations

import argparse
import time

from _common import parse_args  # first: it imports harness, which pins numerics before anything imports torch

from harness.rewards import _cache, math_rewards

NUMBER_GOLDS, SET_GOLDS = ("7", "8"), ("\\{1, 2\\}", "\\{1, 3\\}")
ATTACKS = {  # name: (answer, two golds, so that a batch holds 16 distinct pairs)
    "integer of 4,301 digits": ("1" * 4301, NUMBER_GOLDS),
    "power tower 9^9^9^9": ("9^9^9^9", NUMBER_GOLDS),
    "power tower 9^{9^{9}}": ("9^{9^{9}}", NUMBER_GOLDS),
    "set of 5,000 elements": ("\\{" + ", ".join(map(str, range(5000))) + "\\}", SET_GOLDS),
    "factorial 1000000!": ("1000000!", NUMBER_GOLDS),
    "factorial of a factorial (10!)!": ("(10!)!", NUMBER_GOLDS),
    "braces nested 16 deep": ("{" * 16 + "7" + "}" * 16, NUMBER_GOLDS),
    "parentheses nested 50 deep": ("(" * 50 + "7" + ")" * 50, NUMBER_GOLDS),
}


def normal_pairs(n: int) -> list[tuple[str, str]]:
    """Distinct answers of the kinds solutions write: fractions, roots, polynomials, intervals."""
    kinds = [
        lambda i: (f"\\frac{{{i}}}{{{i + 1}}}", f"\\frac{{{2 * i}}}{{{2 * i + 2}}}"),
        lambda i: (f"{i}\\sqrt{{2}}", f"\\sqrt{{{2 * i * i}}}"),
        lambda i: (f"x^2+{2 * i}x+{i * i}", f"(x+{i})^2"),
        lambda i: (f"[-{i}, {i}]", f"[-{i},{i + 1}]"),
    ]
    return [kinds[i % len(kinds)](i + 1) for i in range(n)]


def score(pairs: list[tuple[str, str]], timeout: float) -> tuple[str, float]:
    _cache.clear()
    start = time.perf_counter()
    try:
        verdicts = math_rewards([f"\\boxed{{{a}}}" for _, a in pairs], [g for g, _ in pairs], timeout)
        outcome = f"{sum(verdicts):.0f} of {len(pairs)} correct"
    except Exception as err:  # the old scorer raised on some attacks
        outcome = f"raised {type(err).__name__}"
    return outcome, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per check (train.reward_timeout)")
    parser.add_argument("--normal", type=int, default=112, help="normal answers in the batch")
    args = parse_args(parser, {"timeout": 0.5, "normal": 8})
    score([("1/2", f"{i}/{2 * i}") for i in range(1, 9)], args.timeout)  # start the workers outside the timings
    print(f"| attack (gold, answer) | verdict | seconds (timeout {args.timeout:g} s) |\n|---|---|---|")
    for name, (answer, golds) in ATTACKS.items():
        outcome, seconds = score([(golds[0], answer)], args.timeout)
        print(f"| {name} | {outcome} | {seconds:.2f} |")
    attacks = [(gold, answer) for answer, golds in ATTACKS.values() for gold in golds]
    normal = normal_pairs(args.normal)
    for name, pairs in ((f"{args.normal} normal answers", normal), (f"{args.normal} normal + {len(attacks)} attacks", normal + attacks)):
        outcome, seconds = score(pairs, args.timeout)
        print(f"| {name} | {outcome} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
