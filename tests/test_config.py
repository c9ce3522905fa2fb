"""Recipe configs: YAML + --key value overrides, typed; bad input is one line and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from recipes.config import load_config, resolved_config
from recipes.config_values import parse_overrides
from recipes.errors import RecipeError, run_cli
from recipes.grpo import main as grpo_main
from tests.conftest import FIXTURES, REPO

CONFIGS = sorted((REPO / "recipes" / "configs").glob("grpo_*.yaml"))
DEMO = REPO / "recipes" / "configs" / "grpo_smollm2_demo.yaml"
HEADLINE = REPO / "recipes" / "configs" / "grpo_qwen3_4b_openr1.yaml"


@pytest.fixture
def gsm8k_file(tmp_path):
    rows = [
        {"question": "Ann has 1,200 stamps and buys 400 more. How many now?",
         "answer": "1200 + 400 = <<1200+400=1600>>1600\n#### 1,600"},
        {"question": "It is 3 degrees and drops 5. What is the temperature?", "answer": "3 - 5 = -2\n#### -2"},
        {"question": "Tom has 4 bags of 6 apples. How many apples?", "answer": "4 * 6 = 24\n#### 24"},
        {"question": "A box holds 10 pens; 3 are taken. How many are left?", "answer": "10 - 3 = 7\n#### 7"},
    ]
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(argv, capsys):
    code = run_cli(grpo_main, [str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_resolves(path):
    cfg = load_config(path)
    assert cfg.grpo.num_generations >= 2
    assert cfg.grpo.generation_batch_size % cfg.grpo.num_generations == 0
    assert cfg.grpo.output_dir.endswith(path.stem)


def test_overrides_are_typed_and_win_over_yaml():
    cfg = load_config(DEMO, ["--max_steps", "3", "--learning_rate=2e-4", "--reward_funcs", "answer,number",
                             "--reward_params", "null", "--evaluate", "false", "--dataset_kwargs", "{max_operand: 9}"])
    assert cfg.grpo.max_steps == 3
    assert cfg.grpo.learning_rate == pytest.approx(2e-4)
    assert cfg.recipe.reward_funcs == ["answer", "number"]
    assert cfg.recipe.evaluate is False
    assert cfg.recipe.dataset_kwargs == {"max_operand": 9}


def test_headline_config_is_the_notebook_recipe_with_lora_settings_from_lora_without_regret():
    cfg = load_config(HEADLINE)
    r, g = cfg.recipe, cfg.grpo
    assert (r.model_name, r.backend, r.load_in_4bit, r.format) == ("unsloth/Qwen3-4B-Base", "unsloth", True, "unsloth")
    assert (r.lora_rank, r.lora_alpha) == (1, 32)  # TRL's "LoRA Without Regret" GRPO runs (cited in the YAML)
    assert r.reward_funcs == ["format_exact", "format_approx", "answer", "number"]
    assert (g.num_generations, g.learning_rate, g.optim.value, g.warmup_steps) == (4, 1e-5, "adamw_8bit", 0.1)
    assert (g.loss_type, g.mask_truncated_completions, g.gradient_accumulation_steps) == ("dapo", True, 1)
    assert (g.temperature, g.min_p, g.use_vllm) == (1.0, 0.1, True)
    assert "wandb" in g.report_to


def test_parse_overrides_forms():
    assert parse_overrides(["--a", "1", "--b=x", "--flag", "--c-d", "2"]) == {
        "a": "1", "b": "x", "flag": "true", "c_d": "2"}
    with pytest.raises(RecipeError, match="arguments"):
        parse_overrides(["oops"])


def test_resolved_config_never_records_secrets(monkeypatch):
    cfg = load_config(DEMO, ["--hub_token", "hf_secret"])
    text = json.dumps(resolved_config(cfg))
    assert "hf_secret" not in text
    assert resolved_config(cfg)["format"] == cfg.recipe.format


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_yaml_keeps_every_recipe_field_and_every_key_set(path):
    # A re-evaluation (recipes.evaluate --adapter) reads these back: eval_max_new_tokens must survive.
    import dataclasses

    from recipes.config import RecipeArguments
    from recipes.config_values import read_yaml

    cfg = load_config(path)
    saved = yaml.safe_load(yaml.safe_dump(resolved_config(cfg), sort_keys=False))
    for f in dataclasses.fields(RecipeArguments):
        assert saved[f.name] == getattr(cfg.recipe, f.name), f.name
    for key, value in read_yaml(path).items():
        assert key in saved, key
        if key in {f.name for f in dataclasses.fields(RecipeArguments)}:
            assert saved[key] == value, key


BAD_INPUT = [
    (["missing.yaml"], "config: missing.yaml not found"),
    (["{bad_yaml}"], "not valid YAML"),
    ([DEMO, "--lerning_rate", "1e-4"], "lerning_rate: unknown key"),
    ([DEMO, "--reward_funcs", "answer,nope"], "reward_funcs"),
    ([DEMO, "--format", "json"], "format: unknown 'json'"),
    ([DEMO, "--max_steps", "abc"], "max_steps: expected int"),
    ([DEMO, "--max_steps", "-5"], "max_steps"),
    ([DEMO, "--num_generations", "1"], "num_generations"),
    ([DEMO, "--num_generations", "3", "--per_device_train_batch_size", "8"], "num_generations"),
    ([DEMO, "--dataset", "gsm8k", "--dataset_kwargs", "null", "--data_file", "/nonexistent/x.jsonl"], "data_file"),
    ([DEMO, "--dataset", "nope"], "dataset"),
    ([DEMO, "--reward_weights", "1.0"], "reward_weights"),
    ([DEMO, "--balance_by", "colour"], "balance_by"),
    ([DEMO, "--system_prompt", " "], "system_prompt: expected text"),
]


@pytest.mark.parametrize(("argv", "expected"), BAD_INPUT, ids=lambda v: str(v)[:40])
def test_bad_input_is_one_line_and_exit_2(argv, expected, capsys, tmp_path):
    if argv == ["{bad_yaml}"]:
        bad = tmp_path / "bad.yaml"
        bad.write_text("max_steps: [1, 2\nformat: r1\n")
        argv = [bad]
    code, out, err = run([*argv, "--dry-run"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "Traceback" not in err


def test_empty_and_goldless_data_files_are_rejected(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    goldless = tmp_path / "goldless.jsonl"
    goldless.write_text(json.dumps({"question": "2 + 2?", "answer": "four, no marker"}) + "\n")
    for path in (empty, goldless):
        code, _, err = run([DEMO, "--dataset", "gsm8k", "--dataset_kwargs", "null", "--data_file", path,
                            "--dry-run"], capsys)
        assert code == 2
        assert err.count("\n") == 1 and "data_file" in err


def test_headline_dry_run_works_on_cpu(capsys):
    code, out, err = run([HEADLINE, "--dry-run", "--data_file", FIXTURES / "dapo_sample.jsonl"], capsys)
    assert code == 0, err
    assert "unsloth/Qwen3-4B-Base" in out and "format_exact x1" in out
    assert "no model loaded" in out
    assert "unsloth" not in sys.modules and "vllm" not in sys.modules
    if "CUDA GPU" in out:  # this machine: says why not, and what a GPU would get
        assert "on a GPU: bf16 on GPUs of compute capability >= 8.0, fp16 below" in out


@pytest.mark.parametrize(("name", "data", "batch"), [
    ("grpo_qwen3_4b_openr1", "dapo_sample.jsonl", "4 completions per device step x gradient_accumulation_steps 1; "
                                                  "generation batch 4 (1 prompts x 4) every 1 step(s)"),
    ("grpo_qwen3_4b_gsm8k", "gsm8k_sample.jsonl", "4 completions per device step x gradient_accumulation_steps 1; "
                                                  "generation batch 4 (1 prompts x 4) every 1 step(s)"),
    ("grpo_qwen25_0_5b_gsm8k_boxed", "gsm8k_sample.jsonl", "8 completions per device step x "
                                                           "gradient_accumulation_steps 1; generation batch 8"),
    ("grpo_qwen25_1_5b_xml", "gsm8k_sample.jsonl", "16 completions per device step x gradient_accumulation_steps "
                                                   "4; generation batch 64 (4 prompts x 16) every 4 step(s)"),
])
def test_gpu_dry_runs_print_the_batch_arithmetic_a_gpu_gets(name, data, batch, capsys):
    config = REPO / "recipes/configs" / f"{name}.yaml"
    # A local eval file makes the dry run build the evaluation set too (the openr1 recipe's gsm8k
    # evaluation was once handed the training set's `source: dapo` knob and could not be built).
    code, out, err = run([config, "--dry-run", "--data_file", FIXTURES / data, "--sft_prime", "null",
                          "--eval_data_file", FIXTURES / "gsm8k_sample.jsonl"], capsys)
    assert code == 0, err
    [line] = [x for x in out.splitlines() if x.startswith("batch ")]
    assert batch in line and line.endswith("top_k -1 (vLLM's off) with vLLM")


def test_cli_exit_code_through_python_m():
    proc = subprocess.run([sys.executable, "-m", "recipes.grpo", str(DEMO), "--num_generations", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: num_generations")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_reports_grade_with_the_answer_check_the_recipe_trains_on(path):
    """An answer the recipe's rewards call right is right in its report, for every shipped config."""
    from data_prep.formats import get_format
    from recipes.run_inputs import reward_functions
    from rewards import GRADERS, grader_for

    cfg = load_config(path)
    fmt = get_format(cfg.recipe.format)
    grade = GRADERS[grader_for(cfg.recipe.reward_funcs)]
    answer_rewards = [f for f in reward_functions(cfg, fmt) if f.__name__ in {"answer", "correctness", "math_verify"}]
    assert answer_rewards, "every shipped recipe rewards correct answers"
    cases = [("0.5", r"\frac12"), ("1,600", "1600"), ("1601", "1600"), (r"\frac{2}{4}", "0.5"), ("7", "7")]
    for guess, gold in cases:
        completion = fmt.render("work", guess)
        top = [f([fmt.render("w", gold)], answer=[gold])[0] for f in answer_rewards]  # the gold itself scores top
        earned = [f([completion], answer=[gold])[0] for f in answer_rewards]
        rewarded_correct = any(e == t for e, t in zip(earned, top, strict=True))
        assert rewarded_correct == grade(fmt.extract(completion), gold), (path.stem, guess, gold)


def test_system_prompt_replaces_the_formats_in_training_priming_and_evaluation():
    from data_prep.formats import FORMATS
    from recipes.priming import priming_dataset, sft_settings
    from recipes.run_inputs import eval_dataset, run_format, train_dataset

    def system_prompts(cfg):
        train = train_dataset(cfg)
        primed = priming_dataset(cfg, run_format(cfg), sft_settings({"rows": 4}), train)
        return {rows[0]["content"] for data in (train, eval_dataset(cfg), primed) for rows in data["prompt"]}

    assert system_prompts(load_config(DEMO, ["--system_prompt", "null"])) == {FORMATS["r1"].system_prompt}
    cfg = load_config(DEMO, ["--system_prompt", "Reason in <think></think>, answer in <answer></answer>."])
    assert system_prompts(cfg) == {"Reason in <think></think>, answer in <answer></answer>."}
    assert run_format(cfg).extract("<think>1</think>\n<answer>2</answer>") == "2"  # markers unchanged
    assert resolved_config(cfg)["system_prompt"] == cfg.recipe.system_prompt  # config.yaml keeps it


def test_grpo_never_trains_on_the_rows_priming_taught():
    """Priming from the training data takes its first rows; GRPO gets every other row, and only those."""
    from recipes.priming import grpo_prompts, priming_dataset, sft_settings
    from recipes.run_inputs import run_format, train_dataset

    cfg = load_config(DEMO, ["--dataset_limit", "40", "--sft_prime", "{rows: 16}"])
    train = train_dataset(cfg)
    primed = {rows[-1]["content"] for rows in priming_dataset(cfg, run_format(cfg), sft_settings({"rows": 16}), train)["prompt"]}
    grpo = grpo_prompts(cfg, train)
    questions = {rows[-1]["content"] for rows in grpo["prompt"]}
    assert len(primed) == 16 and len(grpo) == 24
    assert not primed & questions and primed | questions == {rows[-1]["content"] for rows in train["prompt"]}
    other = load_config(DEMO, ["--dataset_limit", "40", "--sft_prime", "{rows: 16, dataset: gsm8k}"])
    assert len(grpo_prompts(other, train)) == 40  # priming from another dataset takes nothing from GRPO
    with pytest.raises(RecipeError, match="sft_prime.rows"):
        grpo_prompts(load_config(DEMO, ["--dataset_limit", "16", "--sft_prime", "{rows: 16}"]), train_dataset(
            load_config(DEMO, ["--dataset_limit", "16"])))
