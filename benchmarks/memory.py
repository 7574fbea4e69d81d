"""Peak memory of response log-probs with and without chunking over the sequence, forward and
backward, on a Qwen-size vocabulary (151,936) with a small hidden size (the head's logits, not
the decoder, are what grows with length x vocabulary). Each case runs in a fresh process with
one torch thread; peak resident memory is read from getrusage.

  .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import subprocess
import sys

CASE = """
import resource, sys, time, torch
from harness.logprobs import head_logprobs
torch.set_num_threads(1)
torch.manual_seed(0)
length, chunk = int(sys.argv[1]), None if sys.argv[2] == "none" else int(sys.argv[2])
head = torch.nn.Linear(64, 151_936, bias=False)
hidden = torch.randn(1, length, 64, requires_grad=True)
tokens, temps = torch.randint(0, 151_936, (1, length)), torch.ones(1, length)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
logp, _ = head_logprobs(head, hidden, tokens, temps, chunk)
logp.sum().backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, time.perf_counter() - start)
"""


def main() -> None:
    print("| response tokens | chunk | peak extra memory (MiB) | forward + backward (s) |")
    print("|---|---|---|---|")
    for length in (1024, 2048, 4096):
        for chunk in ("none", "512", "128"):
            out = subprocess.run([sys.executable, "-c", CASE, str(length), chunk], capture_output=True, text=True, check=True)
            mib, seconds = map(float, out.stdout.split())
            print(f"| {length} | {chunk} | {mib:,.0f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
