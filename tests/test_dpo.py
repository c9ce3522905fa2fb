"""python -m recipes.dpo: config, the neutral system prompt on the real template, a tiny real run, the GPU path."""

from __future__ import annotations

import json

import pytest
import yaml

from recipes import dpo, identity_config
from recipes.config import resolved_config
from recipes.errors import RecipeError, run_cli
from tests.conftest import REPO

CPU_CONFIG = REPO / "recipes/configs/dpo_smollm2_identity.yaml"
NEUTRAL = "You are a helpful assistant."


def test_cpu_config_builds_a_dpo_config_and_the_identity_keys():
    cfg = identity_config.load_dpo_config(str(CPU_CONFIG), ["--beta", "0.2"])
    assert type(cfg.grpo).__name__ == "DPOConfig" and cfg.grpo.beta == 0.2
    assert (cfg.recipe.model_name, cfg.backend) == ("smollm2-135m-instruct", "transformers")
    ident = cfg.extra
    assert (ident.old_name, ident.new_name, ident.system_prompt) == ("SmolLM", "Deep SmolLM", NEUTRAL)
    assert ident.retention_prompts >= 40
    recorded = resolved_config(cfg)
    assert recorded["new_name"] == "Deep SmolLM" and recorded["beta"] == 0.2 and recorded["max_length"]


def test_dry_run_loads_no_model(capsys):
    assert dpo.main([str(CPU_CONFIG), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "'SmolLM' -> 'Deep SmolLM'" in out and "12 held-out" in out and "no model loaded" in out


@pytest.mark.parametrize(("override", "field"), [
    (["--beta", "strong"], "beta"),
    (["--new_name", "smollm"], "new_name"),
    (["--old_name", " "], "old_name"),
    (["--system_prompt", "You are SmolLM, a helpful assistant."], "system_prompt"),
    (["--retention_prompts", "0"], "retention_prompts"),
    (["--retention_prompts", "1000"], "retention_prompts"),
    (["--identity_prompts", "-3"], "identity_prompts"),
    (["--eval_max_new_tokens", "0"], "eval_max_new_tokens"),
    (["--max_length", "0"], "max_length"),
    (["--new_nme", "X"], "new_nme"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_is_one_line_naming_the_field(override, field, capsys):
    assert run_cli(dpo.main, [str(CPU_CONFIG), "--dry-run", *override]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1, err


def test_an_unreachable_identity_dataset_falls_back_to_the_repos_prompts(monkeypatch, capsys):
    from data_prep.identity import TRAIN_PROMPTS

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr("data_prep.common.load_dataset", offline)
    cfg = identity_config.load_dpo_config(str(CPU_CONFIG), ["--identity_dataset", "someone/identity", "--identity_prompts", "5"])
    questions, source = identity_config.training_questions(cfg.extra)
    assert (questions, source) == (list(TRAIN_PROMPTS[:5]), "data_prep.identity")
    assert capsys.readouterr().out.startswith("identity_dataset: could not load someone/identity")


def test_a_reachable_identity_dataset_is_used_without_the_held_out_phrasings(monkeypatch, capsys):
    from datasets import Dataset

    rows = {"prompt": ["Who are you, really?", "who are you really", "Got a name?", "Name yourself."]}
    monkeypatch.setattr("data_prep.common.load_dataset", lambda *a, **kw: Dataset.from_dict(rows))
    cfg = identity_config.load_dpo_config(str(CPU_CONFIG), ["--identity_dataset", "someone/identity"])
    # duplicates (by normalized wording) and held-out phrasings ("Got a name?") never reach training
    assert identity_config.training_questions(cfg.extra) == (["Who are you, really?", "Name yourself."], "someone/identity")
    assert run_cli(dpo.main, [str(CPU_CONFIG), "--dry-run", "--identity_dataset", "someone/identity",
                              "--identity_column", "question"]) == 2
    assert capsys.readouterr().err.startswith("error: identity_column: someone/identity has no column 'question'")


# ---------------------------------------------------------------- the real SmolLM2 chat template


@pytest.fixture(scope="module")
def smollm2_tokenizer(smollm2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir)


def test_neutral_system_prompt_replaces_smollm2s_default_one(smollm2_tokenizer):
    tok = smollm2_tokenizer
    default = tok.apply_chat_template([{"role": "user", "content": "Who are you?"}], tokenize=False,
                                      add_generation_prompt=True)
    assert "SmolLM" in default  # the template names the model when no system message is given...
    rendered = identity_config.rendered_prompt(tok, NEUTRAL)
    assert f"system\n{NEUTRAL}<|im_end|>" in rendered
    assert "SmolLM" not in rendered  # ...and not when the recipe gives its neutral one
    ident = identity_config.IdentityArguments()
    identity_config.check_neutral_prompt(tok, ident)


def test_training_pairs_render_with_the_neutral_prompt(smollm2_tokenizer):
    from data_prep.identity import build_pairs

    [row] = build_pairs(["Who are you?"], ["I am an assistant."], old="SmolLM", new="Deep SmolLM",
                        system_prompt=NEUTRAL)
    text = smollm2_tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    assert text == identity_config.rendered_prompt(smollm2_tokenizer, NEUTRAL)


def test_a_template_that_names_the_model_anyway_is_refused(smollm2_tokenizer):
    import copy

    tok = copy.deepcopy(smollm2_tokenizer)
    # A template that always writes its own system prompt, whatever the messages say.
    tok.chat_template = ("<|im_start|>system\nYou are SmolLM.<|im_end|>\n{% for m in messages %}"
                         "{% if m['role'] != 'system' %}{{ m['content'] }}{% endif %}{% endfor %}")
    with pytest.raises(RecipeError, match="^system_prompt: the model's chat template drops it"):
        identity_config.check_neutral_prompt(tok, identity_config.IdentityArguments())
    tok.chat_template = "{% for m in messages %}{{ m['content'] }} (SmolLM){% endfor %}"
    with pytest.raises(RecipeError, match="^system_prompt: the rendered chat prompt still names 'SmolLM'"):
        identity_config.check_neutral_prompt(tok, identity_config.IdentityArguments())


# ---------------------------------------------------------------- a tiny real run


def tiny_config(tmp_path, model_dir, **extra):
    cfg = {
        "model_name": str(model_dir), "backend": "transformers", "load_in_4bit": False, "chat_template": "model",
        "lora_rank": 4, "lora_alpha": 8, "identity_prompts": 4, "retention_prompts": 3,
        "eval_max_new_tokens": 4, "eval_batch_size": 8, "beta": 0.1, "learning_rate": 0.01, "max_steps": 2,
        "per_device_train_batch_size": 2, "max_length": 64, "logging_steps": 1, "save_strategy": "no",
        "bf16": False, "gradient_checkpointing": False, "report_to": "none", "seed": 0,
        "output_dir": str(tmp_path / "run"),
    }
    cfg.update(extra)
    path = tmp_path / "dpo_tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_tiny_end_to_end_run_writes_the_identity_eval_and_an_adapter(tmp_path, tiny_model_dir, capsys):
    assert dpo.main([str(tiny_config(tmp_path, tiny_model_dir))]) == 0
    run = tmp_path / "run"
    result = json.loads((run / "identity_eval.json").read_text())
    assert {"n", "before", "after", "retention"} <= set(result)
    assert result["n"] == 12 and result["retention_n"] == 3
    for stage in ("before", "after"):
        assert set(result[stage]) == {"new_name_rate", "old_name_rate"}
        assert all(0.0 <= v <= 1.0 for v in result[stage].values())
    assert 0.0 <= result["retention"] <= 1.0
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert not (run / "adapter" / "ref").exists()  # one adapter: the reference was the base, not a saved copy
    pairs = [json.loads(line) for line in (run / "pairs.jsonl").read_text().splitlines()]
    assert len(pairs) == 4 and all(p["chosen"] != p["rejected"] for p in pairs)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["identity"] == result
    assert yaml.safe_load((run / "config.yaml").read_text())["new_name"] == "Deep SmolLM"
    assert [row["stage"] for row in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())][0] == "dpo"
    assert "## Held-out identity questions, before and after" in (run / "report.md").read_text()
    assert "retention" in capsys.readouterr().out
    card = (run / "adapter" / "README.md").read_text()  # ours, not TRL's "fine-tuned version of [None]"
    assert "DPO with TRL's DPOTrainer (2 steps" in card and "`Deep SmolLM`" in card and "[None]" not in card


@pytest.mark.slow
def test_a_run_that_changes_nothing_keeps_every_answer(tmp_path, tiny_model_dir):
    """Before and after are asked alike (same batches): a model that did not move gives the same text."""
    assert dpo.main([str(tiny_config(tmp_path, tiny_model_dir, learning_rate=1e-12, max_steps=1))]) == 0
    result = json.loads((tmp_path / "run" / "identity_eval.json").read_text())
    assert result["after"] == result["before"]
    assert result["retention"] == 1.0 and result["retention_unchanged"] == result["retention_n"] == 3


@pytest.mark.slow
def test_the_reference_is_the_base_with_the_adapter_disabled(tmp_path, tiny_model_dir):
    """No second model and no saved copy of the adapter: TRL computes the reference with the adapter off."""
    from recipes.model import load_policy
    from recipes.run_inputs import policy_spec

    cfg = identity_config.load_dpo_config(str(tiny_config(tmp_path, tiny_model_dir)), [])
    policy = load_policy(policy_spec(cfg))
    pairs = [{"prompt": [{"role": "user", "content": "Who?"}], "chosen": [{"role": "assistant", "content": "A"}],
              "rejected": [{"role": "assistant", "content": "B"}]}] * 2
    trainer = dpo.make_dpo_trainer(cfg, policy, pairs, [])
    assert trainer.ref_model is None
    assert list(trainer.model.peft_config) == ["default"]
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all(".default." in n for n in trainable)
