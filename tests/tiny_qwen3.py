"""A tiny random Qwen3 and a tokenizer trained on the spot: a real Qwen3 architecture with no hub access.

Used by the GPU smoke test (Unsloth patches Qwen3 specifically) and checked on CPU by
tests/test_grpo_run.py, so the GPU test's model is known to load and train before a GPU sees it.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def write_tiny_qwen3(out: Path) -> Path:
    """2 layers, hidden 128, byte-level BPE (1024 tokens) trained on the repo's arithmetic problems."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    from data_prep.arithmetic import generate
    from data_prep.formats import FORMATS

    texts = [r["question"] + " " + FORMATS["r1"].render(r["reasoning"], r["answer"])
             for r in generate(split="train", n=2000, seed=0)]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1024, special_tokens=SPECIAL,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        model_max_length=1024)
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=128 * ((len(tokenizer) + 127) // 128), hidden_size=128, intermediate_size=256,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                         max_position_embeddings=1024, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    out.mkdir(parents=True, exist_ok=True)
    Qwen3ForCausalLM(config).to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
