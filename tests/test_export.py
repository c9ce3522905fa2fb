"""Export: a merged model that loads with plain transformers and answers as the adapter did; model card; Hub upload."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recipes.errors import run_cli
from recipes.export import hub_upload
from recipes.export import main as export_main


def write_run(run: Path, model: str, model_dir: Path, **config) -> Path:
    """A finished run as recipes.grpo leaves it: config.yaml + adapter/ (LoRA B random, so merging matters)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                      task_type="CAUSAL_LM")
    get_peft_model(base, lora).save_pretrained(run / "adapter")
    cfg = {"model_name": model, "backend": "transformers", "load_in_4bit": False, "chat_template": "model",
           "format": "r1", "lora_rank": 4, "lora_alpha": 8, "lora_target_modules": ["q_proj", "v_proj"],
           "run_name": "tiny", "config_file": "recipes/configs/grpo_smollm2_demo.yaml", "dataset": "arithmetic",
           "reward_funcs": ["correctness"], "num_generations": 8, "max_steps": 2, **config}
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    return run


def greedy(model, tokenizer, prompts: list[str]) -> list[list[int]]:
    import torch

    out = []
    with torch.inference_mode():
        for text in prompts:
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                                return_tensors="pt", return_dict=True)
            gen = model.generate(**ids, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
            out.append(gen[0, ids["input_ids"].shape[1]:].tolist())
    return out


@pytest.mark.slow
def test_merged_model_loads_with_plain_transformers_and_answers_like_the_adapter(tmp_path, smollm2_dir, capsys):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = write_run(tmp_path / "run", "smollm2-135m-instruct", smollm2_dir)
    out = tmp_path / "merged"
    assert run_cli(export_main, [str(run), "--merged", "16bit", "--out", str(out)]) == 0, capsys.readouterr().err

    prompts = ["Tom has 3 apples and buys 4 more. How many now?", "Who are you?", "12 - 5 = ?"]
    tokenizer = AutoTokenizer.from_pretrained(out)
    merged = AutoModelForCausalLM.from_pretrained(out)
    assert not hasattr(merged, "peft_config")  # a plain model: no adapter left to apply
    adapter = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(smollm2_dir), run / "adapter")
    base = AutoModelForCausalLM.from_pretrained(smollm2_dir)
    assert greedy(merged, tokenizer, prompts) == greedy(adapter, tokenizer, prompts)
    assert greedy(merged, tokenizer, prompts) != greedy(base, tokenizer, prompts)  # the update is really in there
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(smollm2_dir).chat_template

    card = (out / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card and "[None]" not in card
    assert "grpo_smollm2_demo.yaml" in card and "`arithmetic`" in card
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in (run / "adapter" / "README.md").read_text()


def test_gguf_without_unsloth_and_bad_runs_are_one_line(tmp_path, tiny_model_dir, capsys):
    run = write_run(tmp_path / "run", str(tiny_model_dir), tiny_model_dir)
    capsys.readouterr()  # model-loading progress bars
    assert run_cli(export_main, [str(run), "--out", str(tmp_path / "o"), "--gguf", "q4_k_m"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: gguf:") and "unsloth" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # refused before any work
    assert run_cli(export_main, [str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "is not a finished run" in capsys.readouterr().err
    assert run_cli(export_main, [str(run), "--out", str(tmp_path / "o"), "--push-to-hub", "no-slash"]) == 2
    assert "push-to-hub: expected USER/NAME" in capsys.readouterr().err


def test_hub_upload_creates_the_repo_then_uploads_the_folder(tmp_path):
    calls = []

    class Api:  # huggingface_hub.HfApi's two methods, as recipes.export calls them
        def create_repo(self, **kw):
            calls.append(("create_repo", kw))
            return f"https://huggingface.co/{kw['repo_id']}"

        def upload_folder(self, **kw):
            calls.append(("upload_folder", kw))

    url = hub_upload(Api(), "me/demo", tmp_path, private=True)
    assert url == "https://huggingface.co/me/demo"
    assert calls[0] == ("create_repo", {"repo_id": "me/demo", "private": True, "exist_ok": True, "repo_type": "model"})
    assert calls[1][0] == "upload_folder"
    assert calls[1][1]["folder_path"] == str(tmp_path) and calls[1][1]["repo_id"] == "me/demo"
    import inspect

    from huggingface_hub import HfApi

    for method, kwargs in calls:  # the arguments fit the installed huggingface_hub's own signatures
        inspect.signature(getattr(HfApi, method)).bind(HfApi(), **kwargs)


@pytest.mark.parametrize(("summary", "config", "says"), [
    ({"steps": 10, "stages": {}}, {"sft_prime": {"rows": 64}, "num_generations": 4, "reward_funcs": ["correctness"]},
     "SFT format priming, then GRPO with TRL\n(10 steps, 4 completions per prompt, rewards correctness)"),
    ({"recipe": "sft", "steps": 32, "stages": {}}, {"sft_prime": {"rows": 256}, "dataset": "arithmetic"},
     "SFT with TRL's SFTTrainer (32 steps) on worked solutions from `arithmetic`"),
    ({"recipe": "sft", "steps": 3, "stages": {}}, {"sft_prime": {"chat_dataset": "chat.jsonl"}},
     "SFT with TRL's SFTTrainer (3 steps) on the assistant\nreplies of a chat dataset."),
    ({"recipe": "dpo", "steps": 24, "identity": {"n": 12, "before": {"new_name_rate": 0.0},
                                                 "after": {"new_name_rate": 11 / 12}, "retention": 0.6875,
                                                 "retention_n": 48}},
     {"beta": 0.1, "old_name": "SmolLM", "new_name": "Deep SmolLM"},
     "naming `Deep SmolLM` 0% before,\n92% after; of 48 other questions,\n69% answered as before"),
])
def test_the_model_card_names_the_recipe_that_made_the_run(summary, config, says):
    from recipes.model_card import model_card

    card = model_card({"model_name": "smollm2-135m-instruct", "run_name": "r", **config}, summary, merged=False)
    assert says in card
    assert ("GRPO with TRL" in card) == (summary.get("recipe", "grpo") == "grpo")
