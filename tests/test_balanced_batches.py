"""``balance_by``: GRPO's batches take their prompts from each category in turn (recipes.run_inputs)."""

from __future__ import annotations

from collections import Counter

import pytest
from trl.trainer.utils import RepeatSampler

from recipes.config import load_config
from recipes.run_inputs import balanced_order, train_dataset
from tests.conftest import REPO

DEMO = REPO / "recipes" / "configs" / "grpo_smollm2_demo.yaml"


def generation_batches(dataset, *, shuffle: bool, prompts: int = 8, generations: int = 4):
    """The prompts of each generation batch, drawn as TRL's GRPOTrainer draws them
    (trl trainer/grpo_trainer.py ``_get_train_sampler``: its own RepeatSampler, seeded)."""
    sampler = RepeatSampler(dataset, mini_repeat_count=generations, batch_size=prompts, repeat_count=1,
                            shuffle=shuffle, seed=0)
    order = list(sampler)[::generations]  # each prompt comes num_generations times in a row
    return [order[k : k + prompts] for k in range(0, len(order) - prompts + 1, prompts)]


def test_the_demo_batches_hold_every_operation_equally_and_every_prompt_once():
    data = train_dataset(load_config(DEMO, []))
    balanced = balanced_order(data, "operation")
    assert sorted(balanced["id"]) == sorted(data["id"])  # a new order, nothing dropped or repeated
    ops = balanced["operation"]
    first = generation_batches(balanced, shuffle=False)[:10]  # the demo's steps
    for batch in first:
        assert Counter(ops[i] for i in batch) == {"add": 2, "subtract": 2, "multiply": 2, "2-step": 2}
    # What balance_by replaces: TRL's shuffle gives batches with an operation missing or doubled up.
    shuffled = [Counter(data["operation"][i] for i in b) for b in generation_batches(data, shuffle=True)[:10]]
    assert any(max(c.values()) >= 4 or len(c) < 4 for c in shuffled)


def test_each_category_keeps_its_own_order_and_uneven_ones_run_on():
    from datasets import Dataset

    rows = Dataset.from_list([{"op": op, "n": n} for n, op in enumerate("aababcac")])
    out = balanced_order(rows, "op")
    assert out["op"] == ["a", "b", "c", "a", "b", "c", "a", "a"]
    assert out["n"] == [0, 2, 5, 1, 4, 7, 3, 6]


@pytest.mark.slow  # loads a (tiny) model and builds TRL's trainer
def test_the_grpo_trainer_gets_the_turns_with_its_shuffle_off(tmp_path, tiny_model_dir):
    from data_prep.formats import get_format
    from recipes.grpo import make_grpo_trainer
    from recipes.model import load_policy
    from recipes.run_inputs import policy_spec, reward_functions

    cfg = load_config(DEMO, ["--model_name", str(tiny_model_dir), "--balance_by", "operation",
                             "--output_dir", str(tmp_path / "run"), "--lora_rank", "4", "--use_cpu", "true"])
    data = train_dataset(cfg)
    trainer = make_grpo_trainer(cfg, load_policy(policy_spec(cfg)), data,
                                reward_functions(cfg, get_format("r1")), [])
    assert trainer.shuffle_dataset is False
    batch = generation_batches(trainer.train_dataset, shuffle=trainer.shuffle_dataset)[0]
    assert Counter(trainer.train_dataset["operation"][i] for i in batch) == {
        "add": 2, "subtract": 2, "multiply": 2, "2-step": 2}
