"""Peak memory of response log-probs with and without chunking over the sequence, forward and
backward, on a Qwen-size vocabulary (151,936) with a small hidden size (the head's logits, not
the decoder, are what grows with length x vocabulary). Each case runs in a fresh process with
the numerics of a pipeline job; peak resident memory is read from getrusage.

  .venv/bin/python benchmarks/memory.py [--smoke]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import parse_args

CASE = """
import resource, sys, time
from harness import numerics
from harness.logprobs import head_logprobs
import torch
numerics.configure(int(sys.argv[4]))
torch.manual_seed(0)
length, chunk, vocab = int(sys.argv[1]), None if sys.argv[2] == "none" else int(sys.argv[2]), int(sys.argv[3])
head = torch.nn.Linear(64, vocab, bias=False)
hidden = torch.randn(1, length, 64, requires_grad=True)
tokens, temps = torch.randint(0, vocab, (1, length)), torch.ones(1, length)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
logp, _ = head_logprobs(head, hidden, tokens, temps, chunk)
logp.sum().backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 2048, 4096], help="response tokens")
    parser.add_argument("--chunks", nargs="+", default=["none", "512", "128"], help="chunk lengths, or none")
    parser.add_argument("--vocab", type=int, default=151_936)
    args = parse_args(parser, {"lengths": [256], "chunks": ["none", "128"], "vocab": 1_000})
    print(f"| response tokens | chunk | peak extra memory (MiB), vocabulary {args.vocab:,} | forward + backward (s) |")
    print("|---|---|---|---|")
    for length in args.lengths:
        for chunk in args.chunks:
            case = [CASE, str(length), chunk, str(args.vocab), str(args.threads)]
            out = subprocess.run([sys.executable, "-c", *case], capture_output=True, text=True, check=True)
            mib, seconds = map(float, out.stdout.split())
            print(f"| {length} | {chunk} | {mib:,.0f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
