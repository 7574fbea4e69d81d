"""Multi-process GRPO training on torch.distributed: DDP or FSDP2, one process per GPU (or per
CPU core group, over gloo).

Launch with torchrun or `accelerate launch` (both set RANK / WORLD_SIZE / MASTER_ADDR), or set
`train.processes: N` and let the train stage start N processes itself through torch's elastic
launcher. How a step is split:
- rollouts: the step's prompts are split into contiguous, whole groups, one share per rank; every
  row samples from its own seed (harness.sampling.torch_sampler), so the rows a rank generates
  are exactly the rows one process would have generated;
- rewards and advantages: per rank (a group never spans ranks);
- policy update: each rank's loss is its share of the global loss (the weights are normalised
  by global token and row counts), scaled by the world size because DDP and FSDP average
  gradients across ranks;
- temperature update and metrics: every rank gathers the whole scored batch and runs the same
  deterministic update, so controllers stay identical without broadcasting their state.
Checkpoints hold full (unsharded) weights and optimizer state keyed by parameter name, so a run
saved by N processes resumes in any number of processes, one included.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)

ParallelKind = Literal["ddp", "fsdp"]
DeviceType = Literal["cpu", "cuda"]
T = TypeVar("T")


def resolve_device(requested: str, where: str) -> DeviceType:
    """The device type a config's `device` (auto | cpu | cuda) means in this process: auto is a
    GPU where torch sees one, else the CPU. Asking for cuda without a GPU is an error naming
    the field, not a silent run on the CPU."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested not in ("cpu", "cuda"):
        raise ValueError(f"{where}: {requested!r} is not a device; allowed: auto, cpu, cuda")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{where}: cuda, but torch {torch.__version__} sees no GPU in this process; allowed: auto, cpu, cuda")
    return requested  # type: ignore[return-value]


@dataclass(frozen=True)
class Parallel:
    """This process's place in the run: rank of world, and how the policy is wrapped."""

    rank: int = 0
    world: int = 1
    kind: ParallelKind = "ddp"
    device_type: DeviceType = "cpu"
    grouped: bool = False  # launched into a process group (torchrun, even with one process): the policy is wrapped

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        """Where this rank's policy lives: its GPU (set by `init`) or the CPU."""
        return torch.device("cuda", torch.cuda.current_device()) if self.device_type == "cuda" else torch.device("cpu")

    def share(self, n: int, what: str) -> slice:
        """This rank's contiguous share of n items (n must divide evenly)."""
        if n % self.world:
            raise ValueError(f"{what} = {n} must be divisible by the number of processes ({self.world})")
        size = n // self.world
        return slice(self.rank * size, (self.rank + 1) * size)

    def sum(self, value: Tensor | float) -> Tensor:
        """Sum over ranks (a float tensor, on the communication device)."""
        return self._reduce(value, dist.ReduceOp.SUM)

    def max(self, value: Tensor | float) -> Tensor:
        return self._reduce(value, dist.ReduceOp.MAX)

    def _reduce(self, value: Tensor | float, op: dist.ReduceOp) -> Tensor:
        out = torch.as_tensor(value, dtype=torch.float64, device="cpu").clone()
        if self.world == 1:
            return out
        out = out.to(self.device)
        dist.all_reduce(out, op=op)
        return out.cpu()

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's `obj`, in rank order, on every rank."""
        if self.world == 1:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


SINGLE = Parallel()


def init(kind: ParallelKind, device: str = "auto") -> Parallel:
    """Join the process group the launcher described in the environment, if any, on `device`
    (train.device: auto | cpu | cuda): NCCL and one GPU per local rank on cuda, gloo on the CPU."""
    device_type = resolve_device(device, "train.device")
    if device_type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if "WORLD_SIZE" not in os.environ:  # not launched: one process, the policy unwrapped
        return Parallel(kind=kind, device_type=device_type)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return Parallel(dist.get_rank(), dist.get_world_size(), kind, device_type, grouped=True)


def wrap(module: nn.Module, model: nn.Module, par: Parallel) -> nn.Module:
    """`module` (which owns `model`) for training on `par`: as is outside a process group, else
    DDP, or FSDP2 with each of the model's transformer blocks (`_no_split_modules`) a shard unit
    (also with one process under torchrun, e.g. to check FSDP on one GPU)."""
    if not par.grouped:
        return module
    if par.kind == "ddp":
        devices = [par.device.index] if par.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=devices)
    from torch.distributed.fsdp import fully_shard, register_fsdp_forward_method

    blocks = set(getattr(model, "_no_split_modules", None) or [])
    for sub in model.modules():
        if type(sub).__name__ in blocks:
            fully_shard(sub)
    fully_shard(module)
    register_fsdp_forward_method(module, "call")
    return module


def with_full_parameters(policy: nn.Module, par: Parallel, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) where it may use the policy's parameters outside the training forward
    (the torch sampler reads the model's submodules directly).

    Under FSDP every shard unit is gathered once, up front, and kept whole until fn returns: the
    ranks decode different numbers of steps (their rows finish at different times), so no
    collective may run per step. It runs inside the root's registered forward method
    (`ResponseLogprobs.call`), which FSDP needs to have seen before any block's forward."""
    if not par.grouped or par.kind == "ddp":
        return fn(*args, **kwargs)
    from torch.distributed.fsdp import FSDPModule

    blocks = [m for m in policy.modules() if isinstance(m, FSDPModule) and m is not policy]

    def gathered() -> T:
        for block in blocks:
            block.set_reshard_after_forward(False, recurse=False)
            block.unshard()
        try:
            return fn(*args, **kwargs)
        finally:
            for block in blocks:
                block.reshard()
                block.set_reshard_after_forward(True, recurse=False)

    return policy.call(gathered)


STATE_OPTIONS = StateDictOptions(full_state_dict=True, cpu_offload=True)


def tied_keys(model: nn.Module) -> set[str]:
    """Weights a transformers model ties to another (the output embedding, usually)."""
    return set(getattr(model, "all_tied_weights_keys", None) or {})


def full_state(
    module: nn.Module, optimizer: torch.optim.Optimizer, model: nn.Module
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The weights of `model` (owned by `module` as `module.model`) keyed as in `model`, without
    tied copies, and the optimizer state keyed by parameter name; unsharded. A collective: every
    rank calls it, and with FSDP only rank 0 receives the values."""
    weights, optim_state = get_state_dict(module, optimizer, options=STATE_OPTIONS)
    tied = tied_keys(model)
    weights = {k.removeprefix("model."): v for k, v in weights.items()}
    return {k: v for k, v in weights.items() if k not in tied}, optim_state


def model_weights(module: nn.Module, model: nn.Module, par: Parallel) -> dict[str, Tensor]:
    """The full weights of `model` on every rank (for an inference engine each rank holds):
    gathered from the shards under FSDP (a collective), the local replica otherwise."""
    if not par.grouped or par.kind == "ddp":
        return model.state_dict()
    weights = get_model_state_dict(module, options=StateDictOptions(full_state_dict=True))
    return {k.removeprefix("model."): v for k, v in weights.items()}


def load_full_state(
    module: nn.Module, optimizer: torch.optim.Optimizer, weights: dict[str, Tensor], optim_state: dict[str, Any]
) -> None:
    """The inverse of `full_state`, on any number of processes (each reads the full state).
    A saved model directory omits tied weights (the output embedding); nothing else may be missing."""
    result = set_state_dict(module, optimizer, model_state_dict=weights, optim_state_dict=optim_state,
                            options=StateDictOptions(full_state_dict=True, strict=False))
    model = module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module
    missing = set(result.missing_keys) - {f"model.{k}" for k in tied_keys(model.model)}
    if missing or result.unexpected_keys:
        raise ValueError(f"checkpoint does not match the model: missing {sorted(missing)}, unexpected {result.unexpected_keys}")


def release_cached_memory() -> None:
    """Hand the blocks torch's allocator keeps cached on a GPU back to the device (nothing on the
    CPU): after training, so that an engine started next (vLLM) sees the memory as free."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def launch(fn: Callable[..., Any], args: tuple, processes: int) -> None:
    """Run fn(*args) in `processes` local processes with torch's elastic launcher (what torchrun
    runs), unless already inside a launched process group."""
    if processes == 1 or "WORLD_SIZE" in os.environ:
        fn(*args)
        return
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=processes, rdzv_backend="c10d", rdzv_endpoint="localhost:0",
        run_id=f"harness-{os.getpid()}", max_restarts=0, monitor_interval=1,
    )
    elastic_launch(config, fn)(*args)
