"""What running several seeds of a method in one process, their weights batched, would gain in a
decoding step (run: `python benchmarks/batched_seeds.py [--smoke]`; pinned numerics).

A decoding step of a Llama-shaped model (the tiny setting's shape from configs/tiny.yaml: RMSNorm,
rotary embeddings, grouped-query attention over a KV cache, SwiGLU) written with batched products:
the weights of S seeds stacked, so each projection is one batched product over all seeds and each
elementwise operation one call over all seeds' rows. It times S = 1 and S = `--seeds` at several
row counts per seed and prints how much faster one batched step is than S separate ones. A
prototype for the estimate only: the harness decodes with transformers' modules, and batching
would change which rows each kernel sees (so the bits), and a seed would stop being its own
Snakemake target.
"""

from __future__ import annotations

import argparse
import statistics
import time

# first: _common imports harness, which pins the numerics before torch loads
from _common import experiment, parse_args

# isort: split

import torch
import torch.nn.functional as F
from torch import Tensor


class BatchedDecoder:
    """Random weights of `seeds` models of one shape, stacked on a leading seed dimension."""

    def __init__(self, seeds: int, d: int, heads: int, kv_heads: int, intermediate: int, layers: int, vocab: int):
        self.heads, self.kv_heads, self.dim = heads, kv_heads, d // heads
        g = torch.Generator().manual_seed(0)

        def weight(*shape: int) -> Tensor:
            return torch.randn(seeds, *shape, generator=g) * 0.05

        self.layers = [{"q": weight(d, heads * self.dim), "k": weight(d, kv_heads * self.dim),
                        "v": weight(d, kv_heads * self.dim), "o": weight(heads * self.dim, d),
                        "gate": weight(d, intermediate), "up": weight(d, intermediate), "down": weight(intermediate, d),
                        "norm1": torch.ones(seeds, 1, d), "norm2": torch.ones(seeds, 1, d)} for _ in range(layers)]
        self.lm_head = weight(d, vocab)

    @staticmethod
    def rms_norm(x: Tensor, weight: Tensor) -> Tensor:
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def rotate(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        half = self.dim // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), -1) * sin

    def step(self, x: Tensor, caches: list[tuple[Tensor, Tensor]], t: int, cos: Tensor, sin: Tensor) -> Tensor:
        """One token per row: x (S, n, d), each layer's cache (S * n, Hkv, T, D) written at t;
        returns logits (S, n, V)."""
        seeds, n, _ = x.shape
        group = self.heads // self.kv_heads
        for layer, (keys, values) in zip(self.layers, caches, strict=True):
            h = self.rms_norm(x, layer["norm1"])
            q = self.rotate(torch.bmm(h, layer["q"]).view(seeds * n, self.heads, self.dim), cos, sin)
            keys[:, :, t] = self.rotate(torch.bmm(h, layer["k"]).view(seeds * n, self.kv_heads, self.dim), cos, sin)
            values[:, :, t] = torch.bmm(h, layer["v"]).view(seeds * n, self.kv_heads, self.dim)
            scores = torch.matmul(q.view(seeds * n, self.kv_heads, group, self.dim),
                                  keys[:, :, : t + 1].transpose(-1, -2)) * self.dim**-0.5
            attended = torch.matmul(torch.softmax(scores, -1), values[:, :, : t + 1]).reshape(seeds, n, -1)
            x = x + torch.bmm(attended, layer["o"])
            h = self.rms_norm(x, layer["norm2"])
            x = x + torch.bmm(F.silu(torch.bmm(h, layer["gate"])) * torch.bmm(h, layer["up"]), layer["down"])
        return torch.bmm(x, self.lm_head)


def step_ms(decoder: BatchedDecoder, seeds: int, rows: int, d: int, cached: int, repeats: int, calls: int) -> float:
    """Median milliseconds of one decoding step with `cached` positions already in the cache."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(seeds, rows, d, generator=g)
    caches = [(torch.randn(seeds * rows, decoder.kv_heads, cached + 1, decoder.dim, generator=g),
               torch.randn(seeds * rows, decoder.kv_heads, cached + 1, decoder.dim, generator=g)) for _ in decoder.layers]
    cos, sin = (torch.randn(seeds * rows, 1, decoder.dim, generator=g) for _ in range(2))
    times = []
    with torch.no_grad():
        decoder.step(x, caches, cached, cos, sin)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                decoder.step(x, caches, cached, cos, sin)
            times.append((time.perf_counter() - start) / calls)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="models batched in one step (default 3, the grid's seeds)")
    parser.add_argument("--rows", type=int, nargs="+", default=[8, 40, 128], help="rows per seed")
    parser.add_argument("--cached", type=int, default=40, help="positions already in the KV cache")
    parser.add_argument("--vocab", type=int, default=22, help="vocabulary (the tiny tokenizer's 22)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200, help="steps per timed repeat")
    args = parse_args(parser, {"rows": [2], "cached": 4, "repeats": 2, "calls": 3})
    a = experiment(args.smoke).models["tiny-llama"].tiny
    shape = (a.hidden_size, a.num_heads, a.num_kv_heads, a.intermediate_size, a.num_layers, args.vocab)
    one, batched = BatchedDecoder(1, *shape), BatchedDecoder(args.seeds, *shape)
    print(f"\n### One decoding step of {args.seeds} seeds batched against {args.seeds} separate steps "
          f"(tiny-llama's shape, {args.cached} cached positions, {torch.get_num_threads()} thread, "
          f"median of {args.repeats} x {args.calls} steps)\n")
    print(f"| rows per seed | one seed, ms | {args.seeds} seeds batched, ms | {args.seeds} separate steps, ms "
          "| speed-up | one seed's model GFLOP/s |")
    print("|---|---|---|---|---|---|")
    d, heads, kv_heads, intermediate, layers, vocab = shape
    dim = d // heads
    weights = layers * (d * (heads + 2 * kv_heads) * dim + heads * dim * d + 3 * d * intermediate) + d * vocab
    for rows in args.rows:
        single = step_ms(one, 1, rows, d, args.cached, args.repeats, args.calls)
        together = step_ms(batched, args.seeds, rows, d, args.cached, args.repeats, args.calls)
        gflops = 2 * weights * rows / (single / 1e3) / 1e9
        print(f"| {rows} | {single:.2f} | {together:.2f} | {args.seeds * single:.2f} | "
              f"{args.seeds * single / together:.2f}x | {gflops:.1f} |")
    print("\nModel FLOPs: 2 per weight and row (products only; attention and elementwise work not counted).")


if __name__ == "__main__":
    main()
