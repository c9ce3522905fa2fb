"""recipes.cpu_kv_cache: prompts prefilled once and a cache grown in place give generate's own tokens and bits."""

from __future__ import annotations

import pytest
import torch
from transformers.cache_utils import DynamicLayer

from recipes import cpu_kv_cache, cpu_sampling
from tests.test_cpu_generation import _prompts, policy  # noqa: F401 - policy is a fixture
from tests.test_cpu_sampling import chi_square_p

GREEDY = cpu_sampling.generate_kwargs(0.0)


def _greedy(model, tok, **kwargs):
    with torch.inference_mode():
        return model.generate(pad_token_id=tok.pad_token_id, output_scores=True, return_dict_in_generate=True,
                              **GREEDY, **kwargs)


def test_a_growing_cache_gives_the_dynamic_caches_bits_with_room_or_without(policy):  # noqa: F811
    """Every step's scores identical (torch.equal) to generate's own DynamicCache; where the room runs out
    the layer goes on with torch.cat, still identical."""
    model, tok = policy.model, policy.tokenizer
    batch = _prompts(tok)
    theirs = _greedy(model, tok, **batch, max_new_tokens=10)
    for room, stays_in_buffer in ((10, True), (3, False)):
        cache = cpu_kv_cache.growing_cache(model, room)
        ours = _greedy(model, tok, **batch, max_new_tokens=10, past_key_values=cache)
        assert torch.equal(ours.sequences, theirs.sequences)
        assert all(torch.equal(a, b) for a, b in zip(ours.scores, theirs.scores, strict=True))
        assert all(isinstance(layer, cpu_kv_cache.GrowingLayer) for layer in cache.layers)
        assert all(layer._in_buffer() == stays_in_buffer for layer in cache.layers)


def test_a_growing_layer_selects_crops_and_reorders_rows_as_a_dynamic_layer_does():
    torch.manual_seed(0)
    ours, theirs = cpu_kv_cache.GrowingLayer(room=6), DynamicLayer()

    def both(op, *args):
        a, b = getattr(ours, op)(*args), getattr(theirs, op)(*args)
        assert torch.equal(ours.keys, theirs.keys) and torch.equal(ours.values, theirs.values)
        assert ours.get_seq_length() == theirs.get_seq_length()
        return a, b

    both("update", torch.randn(3, 2, 4, 8), torch.randn(3, 2, 4, 8))
    both("batch_select_indices", torch.tensor([0, 0, 2, 1, 2]))
    for _ in range(3):
        both("update", torch.randn(5, 2, 1, 8), torch.randn(5, 2, 1, 8))
    assert ours._in_buffer()
    both("crop", -2)
    both("update", torch.randn(5, 2, 2, 8), torch.randn(5, 2, 2, 8))
    assert ours._in_buffer() and ours.key_buffer.shape[-2] == 4 + 6
    both("reorder_cache", torch.tensor([4, 3, 2, 1, 0]))  # tensors of its own now: grows by cat from here
    both("update", torch.randn(5, 2, 3, 8), torch.randn(5, 2, 3, 8))
    assert not ours._in_buffer() and ours.key_buffer is None  # the dead buffer let go


def test_a_growing_layer_refuses_to_broadcast_a_single_row_over_its_batch():
    ours, theirs = cpu_kv_cache.GrowingLayer(room=4), DynamicLayer()
    for layer in (ours, theirs):
        layer.update(torch.randn(3, 2, 4, 8), torch.randn(3, 2, 4, 8))
    with pytest.raises(RuntimeError):
        theirs.update(torch.randn(1, 2, 1, 8), torch.randn(1, 2, 1, 8))
    with pytest.raises(RuntimeError):  # as DynamicLayer's cat does, not written into every row
        ours.update(torch.randn(1, 2, 1, 8), torch.randn(1, 2, 1, 8))


def test_generate_with_the_sampler_draws_the_models_next_token_distribution(policy):  # noqa: F811
    """Through transformers' generate: the first sampled token of one prompt, drawn 4,000 times."""
    model, tok = policy.model, policy.tokenizer
    batch = tok(["What is 2 + 3?"], return_tensors="pt")
    with torch.inference_mode():
        probs = torch.softmax(model(**batch).logits[0, -1].double() / 0.6, dim=-1)
        torch.manual_seed(0)
        out = cpu_kv_cache.generate(model, **batch, repeats=4000, max_new_tokens=1, pad_token_id=tok.pad_token_id,
                                    **cpu_sampling.generate_kwargs(0.6))
    counts = torch.bincount(out[:, -1], minlength=probs.numel()).double()
    top = probs.argsort(descending=True)[:20]  # pool the long tail into one bin so every expected count is large
    pooled_counts = torch.cat([counts[top], (counts.sum() - counts[top].sum()).reshape(1)])
    pooled_probs = torch.cat([probs[top], (1 - probs[top].sum()).reshape(1)])
    assert chi_square_p(pooled_counts, pooled_probs) > 1e-3


def test_prefilling_each_prompt_once_gives_generates_own_greedy_tokens(policy):  # noqa: F811
    """Left-padded prompts, each asked for 3 times: the shared prefill continues exactly as generate's own."""
    model, tok = policy.model, policy.tokenizer
    batch = _prompts(tok)
    ids, mask = batch["input_ids"].repeat_interleave(3, 0), batch["attention_mask"].repeat_interleave(3, 0)
    greedy = {"max_new_tokens": 10, "pad_token_id": tok.pad_token_id, **GREEDY}
    with torch.inference_mode():
        theirs = model.generate(input_ids=ids, attention_mask=mask, **greedy)
        ours = cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], repeats=3, **greedy)
    assert torch.equal(ours, theirs)


def test_distinct_prompts_give_generates_own_bits(policy):  # noqa: F811
    """Nothing to share (evaluation's greedy batches): generate prefills itself, into a growing cache."""
    model, tok = policy.model, policy.tokenizer
    batch = _prompts(tok)
    theirs = _greedy(model, tok, **batch, max_new_tokens=10)
    with torch.inference_mode():
        ours = cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], max_new_tokens=10,
                                     pad_token_id=tok.pad_token_id, output_scores=True, return_dict_in_generate=True,
                                     **GREEDY)
    assert torch.equal(ours.sequences, theirs.sequences)
    assert all(torch.equal(a, b) for a, b in zip(ours.scores, theirs.scores, strict=True))


def test_prompts_that_differ_only_in_their_mask_are_prefilled_apart(policy):  # noqa: F811
    """Deduplicated on ids and mask together: a prompt that starts with the pad id is not its padded twin."""
    model, tok = policy.model, policy.tokenizer
    row = [tok.pad_token_id, *tok("What is 2 + 3?")["input_ids"]]
    ids = torch.tensor([row, row, row])
    mask = torch.tensor([[0] + [1] * (len(row) - 1), [1] * len(row), [0] + [1] * (len(row) - 1)])
    greedy = {"max_new_tokens": 8, "pad_token_id": tok.pad_token_id, **GREEDY}
    with torch.inference_mode():
        theirs = model.generate(input_ids=ids, attention_mask=mask, **greedy)
        ours = cpu_kv_cache.generate(model, ids, mask, **greedy)
    assert torch.equal(ours, theirs)


def test_the_cache_is_left_to_generate_where_it_builds_its_own(policy):  # noqa: F811
    from transformers import DynamicCache, GenerationConfig

    ids = torch.tensor([[5, 6, 7], [5, 6, 7]])
    can = cpu_kv_cache._can_bring_cache
    assert can(policy.model, ids, {})
    assert not can(policy.model, ids, {"cache_implementation": "static"})
    assert not can(policy.model, ids, {"generation_config": GenerationConfig(cache_implementation="static")})
    assert not can(policy.model, ids, {"pixel_values": torch.zeros(2, 3)})
    assert not can(policy.model, ids, {"past_key_values": DynamicCache()})


def test_the_room_is_what_generate_may_add(policy):  # noqa: F811
    from transformers import GenerationConfig

    room = cpu_kv_cache._room
    model = policy.model
    model.generation_config.max_new_tokens = None
    assert room(model, {"max_new_tokens": 7, "generation_config": GenerationConfig(max_new_tokens=9)}, 5) == 7
    assert room(model, {"generation_config": GenerationConfig(max_new_tokens=9)}, 5) == 9
    assert room(model, {"max_length": 30}, 5) == 25  # a total length: less the prompt
    assert room(model, {"max_length": 30}, 40) is None
    assert room(model, {"max_new_tokens": 10**9}, 5) == model.config.max_position_embeddings - 5
    model.generation_config.max_new_tokens = 5
    assert room(model, {}, 5) == 5


def test_generate_keeps_its_own_cache_without_use_cache_or_with_beams(policy):  # noqa: F811
    """use_cache off (a checkpoint's config can say so) feeds generate the whole sequence at every step, which
    a cache handed in would pile up; beams reorder rows. Both go to generate as they are, and agree with it."""
    model, tok = policy.model, policy.tokenizer
    batch = _prompts(tok)
    ids, mask = batch["input_ids"].repeat_interleave(2, 0), batch["attention_mask"].repeat_interleave(2, 0)
    for extra in ({"use_cache": False}, {"num_beams": 2}):
        assert not cpu_kv_cache._can_bring_cache(model, ids, extra)
        greedy = {"max_new_tokens": 6, "pad_token_id": tok.pad_token_id, **GREEDY, **extra}
        with torch.inference_mode():
            theirs = model.generate(input_ids=ids, attention_mask=mask, **greedy)
            ours = cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], repeats=2, **greedy)
        assert torch.equal(ours, theirs)
    model.generation_config.use_cache = False
    assert not cpu_kv_cache._can_bring_cache(model, ids, {})


def test_several_sequences_per_prompt_from_generate_itself_give_its_own_tokens(policy):  # noqa: F811
    """num_return_sequences expands the prompts inside generate: the cache goes in empty. generate's own
    sampling from one seed, so the same draws where the cache gives the same scores."""
    model, tok = policy.model, policy.tokenizer
    batch = _prompts(tok)
    sampled = {"max_new_tokens": 6, "pad_token_id": tok.pad_token_id, "num_return_sequences": 3,
               "do_sample": True, "temperature": 0.6}
    with torch.inference_mode():
        torch.manual_seed(0)
        theirs = model.generate(**batch, **sampled)
        torch.manual_seed(0)
        ours = cpu_kv_cache.generate(model, batch["input_ids"], batch["attention_mask"], repeats=1, **sampled)
    assert torch.equal(ours, theirs)
