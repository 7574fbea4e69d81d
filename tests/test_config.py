"""Config validation: clear errors naming the field and the allowed values."""

from pathlib import Path

import pytest
import yaml

from harness.cli import apply_overrides
from harness.config import ConfigError, ExperimentConfig, load_config, resolve_includes
from harness.config_file import read_config_file
from harness.explain import explain, source_of, uncited

TINY = yaml.safe_load(Path("configs/tiny.yaml").read_text())


def with_changes(**changes):
    raw = yaml.safe_load(Path("configs/tiny.yaml").read_text())
    return apply_overrides(raw, [f"{k.replace('__', '.')}={v}" for k, v in changes.items()])


def test_shipped_configs_validate():
    for path in Path("configs").glob("*.yaml"):
        cfg = load_config(path)
        assert cfg.seeds and cfg.methods


@pytest.mark.parametrize("path", sorted(Path("configs/robustness").glob("*.yaml")), ids=lambda p: p.stem)
def test_a_robustness_run_differs_from_its_recipe_only_where_it_says(path):
    """Five pre-training seeds of the recipe's model, one method (T = 1.0), the recipe's data,
    training and evaluation: a method the recipe adds later must be removed here too."""
    recipe = load_config(Path(yaml.safe_load(path.read_text())["include"]))
    cfg = load_config(path)
    assert list(cfg.methods) == ["grpo-t1.0"] and len(cfg.models) == 5
    assert [(m.pretrain.seed, m.tiny.init_seed) for m in cfg.models.values()] == [(s, s) for s in range(1, 6)]
    (model,) = recipe.models.values()
    shape, steps = model.tiny.model_dump(exclude={"init_seed"}), model.pretrain.model_dump(exclude={"seed"})
    assert all(m.tiny.model_dump(exclude={"init_seed"}) == shape for m in cfg.models.values())
    assert all(m.pretrain.model_dump(exclude={"seed"}) == steps for m in cfg.models.values())
    assert (cfg.data, cfg.train, cfg.eval) == (recipe.data, recipe.train, recipe.eval)


def test_the_grpo_seed_run_is_the_arithmetic_robustness_run_with_three_grpo_seeds():
    """Its base models are the robustness run's (same recipe and seeds): only GRPO's seeds differ."""
    robustness, cfg = load_config("configs/robustness/arith.yaml"), load_config("configs/robustness-arith-grpo-seeds.yaml")
    assert (robustness.seeds, cfg.seeds) == ([0], [0, 1, 2])
    assert cfg.model_dump(exclude={"name", "seeds"}) == robustness.model_dump(exclude={"name", "seeds"})


def test_the_long_pre_training_run_differs_from_the_grpo_seed_run_only_in_pre_training_steps():
    shorter, cfg = load_config("configs/robustness-arith-grpo-seeds.yaml"), load_config("configs/robustness-arith-long.yaml")
    assert [m.pretrain.steps for m in shorter.models.values()] == [4000] * 5
    assert [m.pretrain.steps for m in cfg.models.values()] == [6000] * 5
    longer = cfg.model_dump(exclude={"name"})
    for model in longer["models"].values():
        model["pretrain"]["steps"] = 4000
    assert longer == shorter.model_dump(exclude={"name"})


def test_the_long_grpo_run_differs_from_the_grpo_seed_run_only_in_grpo_steps():
    shorter, cfg = load_config("configs/robustness-arith-grpo-seeds.yaml"), load_config("configs/robustness-arith-grpo-long.yaml")
    assert (shorter.train.steps, cfg.train.steps) == (30, 90)
    longer = cfg.model_dump(exclude={"name"})
    longer["train"]["steps"] = 30
    assert longer == shorter.model_dump(exclude={"name"})


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


# ---------------------------------------------------------------- configs that once passed silently


@pytest.mark.parametrize(("changes", "field"), [
    ({"eval__temperature": 0}, "eval.temperature"),  # Avg@8 of 0.00 written as a normal result
    ({"eval__temperature": -1.0}, "eval.temperature"),
    ({"methods__grpo-t1.0__train": "{loss_temperature: 0}"}, "methods.grpo-t1.0.train.loss_temperature"),
    ({"methods__tampo": "{controller: tampo, candidates: [0.0, 1.0]}"}, "methods.tampo.candidates.0"),
    ({"methods__spike": "{controller: spike, base: 1.0, increment: -0.2, every: 5}"}, "methods.spike (spike)"),
])
def test_temperatures_must_be_positive_throughout(changes, field):
    with pytest.raises(ConfigError) as err:
        load_config(with_changes(**changes))
    assert field in str(err.value) and ("> 0" in str(err.value) or "greater than 0" in str(err.value))


def test_a_spike_schedule_that_stays_positive_is_accepted():
    # 30 steps, -0.1 every 10: 1.0, 0.9, 0.8 > 0
    assert load_config(with_changes(methods__spike="{controller: spike, base: 1.0, increment: -0.1, every: 10}"))


@pytest.mark.parametrize(("section", "key", "field"), [
    (None, "../escape", "name"),  # results/../escape: outside results/
    (None, "a/b", "name"),
    (None, "..", "name"),
    ("methods", "x/../../y", "methods.x/../../y"),
    ("models", "../m", "models.../m"),
    ("tables", "../t", "tables.../t"),
])
def test_names_must_be_safe_path_components(section, key, field):
    raw = with_changes()
    if section is None:
        raw["name"] = key
    else:
        raw[section][key] = {"methods": {"controller": "fixed", "temperature": 1.0}, "models": {"tiny": {}}, "tables": ["base"]}[section]
    with pytest.raises(ConfigError) as err:
        load_config(raw)
    message = str(err.value)
    assert f"{field}: " in message and "allowed: letters, digits, '.', '_' and '-'" in message


@pytest.mark.parametrize(("changes", "field"), [
    ({"data__arith__levels": "[]"}, "data.arith.levels"),
    ({"data__countdown__levels": "[]"}, "data.countdown.levels"),
    ({"eval__ks": "[]"}, "eval.ks"),
    ({"eval__benchmarks": "[]"}, "eval.benchmarks"),
])
def test_empty_lists_that_drop_results_are_errors(changes, field):
    with pytest.raises(ConfigError, match=rf"{field}: List should have at least 1 item"):
        load_config(with_changes(**changes))


def test_duplicate_keys_are_errors_naming_the_line(tmp_path):
    text = Path("configs/smoke.yaml").read_text().replace(
        "  grpo-linear:", "  grpo-t1.0: {controller: fixed, temperature: 0.6}\n  grpo-linear:"
    )
    (tmp_path / "dup.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"dup.yaml, line 12: duplicate key 'grpo-t1.0' \(first at line 11\)"):
        load_config(tmp_path / "dup.yaml")


def test_duplicate_keys_in_an_included_config_are_errors(tmp_path, monkeypatch):
    import harness.config

    (tmp_path / "base.yaml").write_text("name: a\nseeds: [0]\nseeds: [1]\n")
    (tmp_path / "top.yaml").write_text("include: base.yaml\n")
    monkeypatch.setattr(harness.config, "REPO_ROOT", tmp_path)
    with pytest.raises(ConfigError, match=r"base.yaml, line 3: duplicate key 'seeds'"):
        load_config(tmp_path / "top.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("- a\n- b\n", "the top level is a list"),
    ("name: [unclosed\n", "not valid YAML at line 2"),
    ("name: x\n\tseeds: [0]\n", "not valid YAML"),
])
def test_unusable_files_give_one_line_from_the_command_line(tmp_path, text, message):
    from harness.cli import main

    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--config", str(tmp_path / "c.yaml"), "--model", "m", "--method", "x", "--seed", "0"])
    line = str(exit_.value.code)
    assert line.startswith(f"harness: {tmp_path / 'c.yaml'}: ") and message in line and "\n" not in line


@pytest.mark.parametrize(("args", "suggestion"), [
    (["--set", "train.stpes=3"], "train.stpes: unknown key (did you mean 'steps'?); allowed: steps, prompts_per_step"),
    (["--set", "methods.grpo-t1.0.temperatur=0.9"], "(did you mean 'temperature'?)"),
    (["--set", "methods.grpo-t1.0.controller=fixd"], "unknown temperature controller 'fixd' (did you mean 'fixed'?)"),
    (["--method", "grpo-t12"], "--method 'grpo-t12' is not in the config (did you mean 'grpo-t1.2' or 'grpo-t1.0'?)"),
    (["--model", "tiny-lama"], "(did you mean 'tiny-llama'?)"),
])
def test_unknown_names_suggest_the_closest(args, suggestion):
    from harness.cli import main

    argv = ["train", "--config", "configs/tiny.yaml", "--model", "tiny-llama", "--method", "grpo-t1.0", "--seed", "0"]
    for flag, value in zip(args[::2], args[1::2]):
        argv = argv[: argv.index(flag)] + [flag, value] + argv[argv.index(flag) + 2 :] if flag in argv else argv + [flag, value]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert suggestion in str(exit_.value.code)


def test_help_lists_the_config_models_methods_and_seeds(capsys):
    from harness.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--config", "configs/smoke.yaml", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--model MODEL one of: tiny-llama" in text
    assert "one of: base (base model), grpo-t1.0 (GRPO T = 1.0), grpo-linear (GRPO T: 0.9 -> 1.5)" in text
    assert "the config's: 0, 1" in text


def test_a_misspelt_cell_stops_before_snakemake_with_one_line():
    from harness.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["cell", "--config", "configs/smoke.yaml", "--model", "tiny-llama", "--method", "grpo-lnear",
              "--seed", "0", "--benchmark", "arith"])
    assert str(exit_.value.code) == ("harness: --method 'grpo-lnear' is not in the config (did you mean "
                                     "'grpo-linear'?); allowed: base, grpo-t1.0, grpo-linear")


def test_overrides_reach_keys_that_contain_dots():
    raw = apply_overrides(with_changes(), ["methods.grpo-t1.0.temperature=0.9"])
    assert raw["methods"]["grpo-t1.0"] == {"controller": "fixed", "temperature": 0.9, "label": "GRPO T = 1.0"}
    assert "grpo-t1" not in raw["methods"]


def test_table_arguments_are_checked_against_the_command_tables(tmp_path, monkeypatch):
    from harness.cli import main

    config = str(Path("configs/tiny-tampo.yaml").resolve())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"diff: table1 needs \d+ cells not evaluated yet"):
        main(["diff", "--config", config, "--table", "table1"])  # a paper table: accepted
    with pytest.raises(SystemExit, match=r"--table 'table9' is not in the config .*; allowed: table1, table2, table3, table4"):
        main(["diff", "--config", config, "--table", "table9"])
    with pytest.raises(SystemExit, match=r"--table 'mian' is not in the config \(did you mean 'main'\?\)"):
        main(["tables", "--config", config, "--table", "mian"])


@pytest.mark.parametrize(("text", "message"), [
    ("include: configs/smoke.yaml\nseeds: [0]\nseeds: [1]\n", "line 3: duplicate key 'seeds' (first at line 2)"),
    ("include: configs/smoke.yaml\nname: ../up\n", "name: '../up' is not allowed in a path"),
    ("", "Config file must be given as JSON or YAML with keys at top level"),  # Snakemake's own loader
])
def test_snakemake_stops_on_a_bad_config_file_with_the_message_alone(tmp_path, text, message):
    import subprocess
    import sys

    (tmp_path / "c.yaml").write_text(text)
    repo = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-n", "--cores", "1",
           "--directory", str(tmp_path), "--configfile", str(tmp_path / "c.yaml")]
    out = subprocess.run(cmd, capture_output=True, text=True)
    printed = out.stdout + out.stderr
    assert out.returncode != 0 and message in printed
    assert "Traceback" not in printed and 'File "' not in printed


@pytest.mark.parametrize("path", sorted(Path("configs/papers").glob("*.yaml")), ids=lambda p: p.name)
def test_every_paper_config_value_cites_its_source(path):
    assert uncited(resolve_includes(read_config_file(path))) == []


def test_sources_cover_keys_below_them_and_explain_marks_defaults():
    raw = {"name": "x", "seeds": [0], "models": {"m.1": {"checkpoint": "org/m"}}, "train": {"lr": 1e-6, "steps": 5},
           "methods": {"t0.9": {"controller": "fixed", "temperature": 0.9}},
           "sources": {"seeds": "P Tab. 1", "models.m.1": "P Sec. 4", "methods": "P Tab. 1", "train.lr": "P Sec. 4.1"}}
    assert uncited(raw) == ["train.steps"]  # a dotted model name is covered by its entry
    assert source_of("methods.t0.9.temperature", raw["sources"]) == "P Tab. 1"
    lines = dict(line.split("    # ") for line in explain(raw, ExperimentConfig.model_validate(raw)).splitlines())
    assert lines["train.lr = 1e-06"] == "P Sec. 4.1"
    assert lines["train.steps = 5"] == "(set, no source)"
    assert lines["train.kl_coef = 0.0"] == "(harness default)"
    assert lines['name = "x"'] == "(set)"
    assert lines['methods.t0.9.temperature = 0.9'] == "P Tab. 1"
    assert "sources" not in ExperimentConfig.model_validate(raw).model_dump()  # never part of a run's key
