"""Every GRPO variant in README's table trains one real step on the tiny model, and the run says which is in force."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from recipes.variants import VARIANTS, in_force, unsloth_differences
from tests.test_grpo_run import lora_b_norm

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_each_variant_trains_one_step(tmp_path, tiny_model_dir, variant):
    from recipes import grpo
    from recipes.pipeline import run_pipeline
    from tests.test_grpo_run import _in_process

    cfg, fmt, dataset, rewards = _in_process(tmp_path, tiny_model_dir, max_steps=1, save_steps=10, **variant.keys)
    for key, value in variant.keys.items():
        assert getattr(cfg.grpo, key) == value, key
    assert run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=grpo.make_grpo_trainer) == 0
    run = tmp_path / "run"
    [step] = [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert math.isfinite(step["loss"]) and step["step"] == 1
    if variant.keys.get("mask_truncated_completions") and step["completions/clipped_ratio"] == 1.0:
        assert lora_b_norm(run / "adapter") == 0  # every completion hit the cap: masked, nothing to learn
    else:
        assert lora_b_norm(run / "adapter") > 0  # the update reached the weights
    assert yaml.safe_load((run / "config.yaml").read_text())["grpo_variant"] == in_force(cfg.grpo)


def test_dry_run_names_the_variant_and_where_unsloth_trains_it_otherwise(capsys):
    from recipes.errors import run_cli
    from recipes.grpo import main
    from tests.conftest import FIXTURES, REPO

    base = [str(REPO / "recipes/configs/grpo_qwen3_4b_openr1.yaml"), "--dry-run", "--data_file",
            str(FIXTURES / "dapo_sample.jsonl"), "--eval_data_file", str(FIXTURES / "gsm8k_sample.jsonl")]
    assert run_cli(main, [*base, "--importance_sampling_level", "sequence"]) == 0
    out = capsys.readouterr().out
    assert "variant    loss dapo, sequence-level ratios clipped to [0.8, 1.2], scale_rewards group, truncated " \
           "completions masked" in out
    assert "unsloth    " not in out
    assert "note       sequence-level ratios with loss dapo weight each completion by its length" in out
    assert run_cli(main, [*base, "--loss_type", "dr_grpo"]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("unsloth    ")]
    assert "dr_grpo turns scale_rewards group into none" in line
    assert run_cli(main, [*base, "--loss_type", "dr_grpo", "--scale_rewards", "none"]) == 0
    assert "unsloth    " not in capsys.readouterr().out


def test_the_tables_variants_are_combinations_trl_does_not_warn_about():
    import trl

    from recipes.variants import caveats

    assert {v.name: caveats(trl.GRPOConfig(output_dir="x", use_cpu=True, **v.keys)) for v in VARIANTS} == {
        v.name: [] for v in VARIANTS}


def test_only_dr_grpo_with_group_scaling_is_named_as_an_unsloth_difference():
    import trl

    def config(**keys):
        return trl.GRPOConfig(output_dir="x", use_cpu=True, **keys)

    assert [v.name for v in VARIANTS if unsloth_differences(config(**v.keys))] == []
    assert len(unsloth_differences(config(loss_type="dr_grpo"))) == 1


def test_a_hub_dataset_by_column_mapping_trains_and_its_categories_reach_the_report(tmp_path, tiny_model_dir):
    """`dataset: hub` on an offline copy: one GRPO step, then the report's tables by its `category` and `level`."""
    from recipes import grpo
    from recipes.pipeline import run_pipeline
    from tests.conftest import FIXTURES
    from tests.test_grpo_run import _in_process

    cfg, fmt, dataset, rewards = _in_process(
        tmp_path, tiny_model_dir, max_steps=1, save_steps=10, dataset="hub", dataset_limit=None,
        data_file=str(FIXTURES / "hub_qa.jsonl"), evaluate=True, eval_limit=8, eval_max_new_tokens=4,
        dataset_kwargs={"question": "problem", "answer": "solution", "answer_format": "auto"})
    assert {"category", "level"} <= set(dataset.column_names) and "tags" not in dataset.column_names
    assert run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=grpo.make_grpo_trainer) == 0
    comparison = json.loads((tmp_path / "run" / "report" / "comparison.json").read_text())
    assert {c["column"] for c in comparison["categories"]} >= {"category", "level"}
    assert "Accuracy by category" in (tmp_path / "run" / "report" / "report.md").read_text()
