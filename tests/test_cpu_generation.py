"""recipes.cpu_generation: the faster CPU path is exact where it claims to be, and samples the same distribution."""

from __future__ import annotations

import pytest
import torch

from recipes import cpu_generation, cpu_kv_cache, cpu_sampling
from recipes.model import PolicySpec, load_policy


class _Heads:
    num_key_value_groups = 3
    is_causal = True


@pytest.mark.parametrize("q_len", [1, 7])
def test_sharing_kv_heads_returns_transformers_sdpa_bits(q_len):
    """Decode (1 query) and prefill (7) with a left-padding mask, 9 query heads on 3 K/V heads."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    torch.manual_seed(0)
    batch, kv_len = 4, 12
    query = torch.randn(batch, 9, q_len, 16)
    key, value = torch.randn(batch, 3, kv_len, 16), torch.randn(batch, 3, kv_len, 16)
    causal = torch.ones(q_len, kv_len, dtype=torch.bool).tril(kv_len - q_len)
    mask = causal.expand(batch, 1, q_len, kv_len).clone()
    mask[1, :, :, :3] = False  # a left-padded row
    for attention_mask in (mask, None):
        with torch.inference_mode():
            ours, _ = cpu_generation._sdpa_sharing_kv_heads(_Heads(), query, key, value, attention_mask, scaling=0.25)
            theirs, _ = sdpa_attention_forward(_Heads(), query, key, value, attention_mask, scaling=0.25)
        assert torch.equal(ours, theirs)


@pytest.fixture()
def policy(tiny_model_dir):
    policy = load_policy(PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                                    lora_rank=4, lora_alpha=8, gradient_checkpointing=False))
    torch.manual_seed(1)
    with torch.no_grad():  # a trained-looking adapter: PEFT starts B at zero, which would make merging a no-op
        for name, param in policy.model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    return policy


def _prompts(tokenizer, n=3):
    tokenizer.padding_side = "left"
    return tokenizer(["What is 2 + 3?", "Seven times eight is", "hi"][:n], return_tensors="pt", padding=True)


def test_lora_merged_gives_the_unmerged_outputs_and_restores_every_weight_bit_for_bit(policy):
    from peft.tuners.lora import LoraLayer

    model = policy.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = _prompts(policy.tokenizer)
    with torch.inference_mode():
        plain = model(**batch).logits
        with cpu_generation.lora_merged(model):
            assert all(layer.disable_adapters for layer in model.modules() if isinstance(layer, LoraLayer))
            merged = model(**batch).logits
        again = model(**batch).logits
        with model.disable_adapter():
            assert not torch.allclose(plain, model(**batch).logits, atol=1e-3)  # the adapter matters here
    torch.testing.assert_close(merged, plain, rtol=1e-5, atol=1e-5)
    assert torch.equal(again, plain)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not any(layer.disable_adapters for layer in model.modules() if isinstance(layer, LoraLayer))


def test_lora_merged_leaves_a_switched_off_adapter_alone(policy):
    model = policy.model
    storage = [p.data_ptr() for p in model.parameters()]
    with model.disable_adapter(), cpu_generation.lora_merged(model):
        assert [p.data_ptr() for p in model.parameters()] == storage


def test_fast_greedy_evaluation_gives_the_same_answers_as_the_plain_path(policy):
    from recipes.generation import generate

    prompts = [[{"role": "user", "content": q}] for q in ("What is 2 + 3?", "Name a colour.", "12 * 4 =")]
    fast = generate(policy, prompts, max_new_tokens=12, batch_size=3)
    policy.fast_cpu_generation = False
    plain = generate(policy, prompts, max_new_tokens=12, batch_size=3)
    assert fast == plain


def test_grpo_rollouts_take_the_fast_path_and_leave_the_weights_as_they_were(tmp_path, tiny_model_dir):
    """TRL's own GRPOTrainer, built as the recipe builds it: its transformers rollouts go through the
    sampler and the merged LoRA, and training afterwards sees the original weights."""
    from peft.tuners.lora import LoraLayer

    from recipes import grpo
    from recipes.config import load_config
    from recipes.run_inputs import policy_spec, reward_functions, run_format, train_dataset
    from tests.test_grpo_run import write_config

    cfg = load_config(write_config(tmp_path, tiny_model_dir), [])
    policy = load_policy(policy_spec(cfg))
    trainer = grpo.make_grpo_trainer(cfg, policy, train_dataset(cfg), reward_functions(cfg, run_format(cfg)), [])
    assert trainer.generation_config.do_sample is False  # the sampling moved to the sampler
    seen = []
    original_draw = cpu_sampling.InverseCdfSampler.draw

    def spy(self, input_ids, scores):
        seen.append(all(layer.disable_adapters for layer in policy.model.modules() if isinstance(layer, LoraLayer)))
        return original_draw(self, input_ids, scores)

    before = {k: v.clone() for k, v in policy.model.state_dict().items()}
    prompt = policy.tokenizer("What is 2 + 3?")["input_ids"]
    cpu_sampling.InverseCdfSampler.draw = spy
    try:
        completions, _ = trainer._generate_single_turn([prompt] * 4, None, {}, 4)
    finally:
        cpu_sampling.InverseCdfSampler.draw = original_draw
    assert len(completions) == 4 and seen and all(seen)  # every token drawn by the sampler, LoRA merged
    assert "generate" not in vars(policy.model)
    after = policy.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(layer.disable_adapters for layer in policy.model.modules() if isinstance(layer, LoraLayer))
    assert all(p.requires_grad for n, p in policy.model.named_parameters() if "lora_" in n)  # still trainable


def test_fast_cpu_generation_false_leaves_trls_rollouts_as_trl_made_them(tmp_path, tiny_model_dir):
    from recipes import grpo
    from recipes.config import load_config
    from recipes.run_inputs import policy_spec, reward_functions, run_format, train_dataset
    from tests.test_grpo_run import write_config

    cfg = load_config(write_config(tmp_path, tiny_model_dir, fast_cpu_generation=False), [])
    policy = load_policy(policy_spec(cfg))
    trainer = grpo.make_grpo_trainer(cfg, policy, train_dataset(cfg), reward_functions(cfg, run_format(cfg)), [])
    assert trainer.generation_config.do_sample is True and trainer.generation_config.temperature == 1.0
    assert "_generate_single_turn" not in vars(trainer)
    assert policy.fast_cpu_generation is False


def test_merging_steps_aside_where_it_would_change_what_the_model_computes(tiny_model_dir):
    """Training-mode LoRA dropout (a merged weight cannot drop the LoRA branch out), and an adapter whose
    parameters are frozen stays frozen (PEFT's re-enable would mark it trainable)."""
    policy = load_policy(PolicySpec(model_name=str(tiny_model_dir), backend="transformers", load_in_4bit=False,
                                    lora_rank=4, lora_alpha=8, lora_dropout=0.5, gradient_checkpointing=False))
    model = policy.model
    storage = [p.data_ptr() for p in model.parameters()]
    model.train()
    with cpu_generation.lora_merged(model):
        assert [p.data_ptr() for p in model.parameters()] == storage
    assert not cpu_kv_cache._can_bring_cache(model, torch.tensor([[5, 6, 7], [5, 6, 7]]), {})
    model.eval()  # dropout off: merging is exact again
    for param in model.parameters():
        param.requires_grad_(False)
    with cpu_generation.lora_merged(model):
        assert [p.data_ptr() for p in model.parameters()] != storage
    assert [p.data_ptr() for p in model.parameters()] == storage
    assert not any(p.requires_grad for p in model.parameters())
