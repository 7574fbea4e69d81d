"""Config validation: clear errors naming the field and the allowed values."""

from pathlib import Path

import pytest
import yaml

from harness.cli import apply_overrides
from harness.config import ConfigError, ExperimentConfig, load_config

TINY = yaml.safe_load(Path("configs/tiny.yaml").read_text())


def with_changes(**changes):
    raw = yaml.safe_load(Path("configs/tiny.yaml").read_text())
    return apply_overrides(raw, [f"{k.replace('__', '.')}={v}" for k, v in changes.items()])


def test_shipped_configs_validate():
    for path in Path("configs").glob("*.yaml"):
        cfg = load_config(path)
        assert cfg.seeds and cfg.methods


def test_loss_aggregation_error_lists_allowed_values():
    with pytest.raises(ConfigError) as err:
        load_config(with_changes(train__loss_aggregation="mean"))
    message = str(err.value)
    assert "train.loss_aggregation" in message and "token_mean" in message and "seq_mean_token_mean" in message


@pytest.mark.parametrize("section", ["train", "eval"])
def test_sandbox_isolation_error_lists_allowed_values(section):
    assert load_config(with_changes(**{f"{section}__sandbox": "none"})).model_dump()[section]["sandbox"] == "none"
    with pytest.raises(ConfigError) as err:
        load_config(with_changes(**{f"{section}__sandbox": "docker"}))
    message = str(err.value)
    assert f"{section}.sandbox" in message and "'bubblewrap-cgroup', 'bubblewrap' or 'none'" in message


def test_unknown_key_is_an_error():
    with pytest.raises(ConfigError, match="train.stpes"):
        load_config(with_changes(train__stpes=10))


def test_method_errors_name_the_method():
    with pytest.raises(ConfigError, match=r"methods\.bad\.controller"):
        load_config(with_changes(methods__bad="{controller: nope}"))


def test_eval_ks_must_fit_the_samples():
    with pytest.raises(ConfigError, match=r"eval.ks \[16\]"):
        load_config(with_changes(eval__ks="[1, 16]"))


def test_table_rows_must_be_methods():
    with pytest.raises(ConfigError, match=r"tables.main: \[.grpo-t9.\] are not methods"):
        load_config(with_changes(tables__main="[base, grpo-t9]"))


def test_overrides_parse_yaml_values():
    raw = apply_overrides({"train": {"steps": 5}}, ["train.steps=7", "eval.temperature=method"])
    assert raw == {"train": {"steps": 7}, "eval": {"temperature": "method"}}


def test_hidden_state_methods_cannot_sample_on_vllm():
    base = {"name": "x", "seeds": [0], "models": {"m": {"tiny": {}}}}
    with pytest.raises(ValueError, match=r"methods.head: introllm reads hidden states.*set methods.head.train.sampler: torch"):
        ExperimentConfig.model_validate({**base, "train": {"sampler": "vllm"}, "methods": {"head": {"controller": "introllm"}}})
    with pytest.raises(ValueError, match="eval.sampler: vllm cannot sample methods.head's own temperatures"):
        ExperimentConfig.model_validate({**base, "eval": {"sampler": "vllm", "temperature": "method"},
                                         "methods": {"head": {"controller": "introllm"}}})
    ok = {**base, "train": {"sampler": "vllm"}, "eval": {"sampler": "vllm"},
          "methods": {"head": {"controller": "introllm", "train": {"sampler": "torch"}}, "ead": {"controller": "ead"}}}
    assert ExperimentConfig.model_validate(ok).train_config("ead").sampler == "vllm"
