"""DPO identity: give a model a new name with Direct Preference Optimization (LoRA, TRL's DPOTrainer).

    python -m recipes.dpo recipes/configs/dpo_smollm2_identity.yaml [--key value ...] [--dry-run]
    make dpo-identity-demo

The classic lesson, done so that its result can be trusted:

1. Ask the model the identity questions of `data_prep.identity` (or a Hub dataset's
   prompts, ``identity_dataset``) and take its greedy answers. Every prompt has an
   explicit neutral ``system_prompt``: SmolLM2's chat template otherwise inserts one
   that names the model, and the name would come from the prompt, not the weights
   (the run checks the rendered prompt names neither name).
2. Pairs: ``rejected`` is the model's own answer, ``chosen`` the same answer with
   ``old_name`` replaced by ``new_name`` (or with "I'm <new_name>. " in front when it
   never names itself), so the pair differs only where the name is.
3. DPO raises the policy's log-likelihood ratio of chosen over rejected against a
   frozen reference: loss = -log sigmoid(beta * [(log pi(c) - log ref(c)) -
   (log pi(r) - log ref(r))]). No reward model, no sampling during training; ``beta``
   sets how far the policy may move from the reference. ``loss_type: [sigmoid, sft]``
   (the CPU demo's) adds the chosen reply's mean token NLL, as RPO does: alone, the
   sigmoid loss is cheapest to satisfy by making the model's own answers unlikely, which
   left the name out or, trained longer, collapsed every answer into the name (README).
   The policy is the LoRA model
   from `recipes.model.load_policy` (Unsloth 4-bit on a GPU, transformers + PEFT on
   CPU), passed with ``ref_model=None``: TRL 1.15's DPOTrainer then copies the fresh
   adapter as a frozen "ref" adapter (``trl/trainer/dpo_trainer.py``); we delete that
   copy, so TRL computes the reference with the adapter disabled (its ``use_adapter(model,
   None)``): the base model itself, no second copy of the weights.
4. Evaluate before and after on held-out phrasings and on plain factual questions
   (retention; `recipes.identity_eval`).

A run writes ``runs/<run_name>/``: ``config.yaml``, ``pairs.jsonl`` (what DPO trained
on), ``metrics.jsonl``, ``adapter/``, ``identity_eval.json``, ``identity_answers.jsonl``,
``report.md`` and ``summary.json``. Settings: TRL's ``DPOConfig`` keys (``beta``,
``learning_rate``, ``num_train_epochs``, ``max_length``, ...), the recipe's model and
LoRA keys, ``eval_max_new_tokens``/``eval_batch_size`` for every greedy answer, and
`recipes.identity_config.IdentityArguments` (old_name, new_name, system_prompt, ...).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from data_prep.facts import fact_questions
from data_prep.identity import HELDOUT_PROMPTS, build_pairs, chat_prompt
from recipes.config import RunConfig, recipe_parser
from recipes.errors import run_cli
from recipes.identity_config import check_neutral_prompt, load_dpo_config, training_questions


def make_dpo_trainer(cfg: RunConfig, policy, pairs: list[dict], callbacks: list):
    """TRL's DPOTrainer on the policy's LoRA model; the reference is that model with its adapter disabled."""
    from datasets import Dataset
    from trl import DPOTrainer  # looked up now: after unsloth's import, its patched class

    data = Dataset.from_list([{k: row[k] for k in ("prompt", "chosen", "rejected")} for row in pairs])
    trainer = DPOTrainer(model=policy.model, ref_model=None, args=cfg.grpo, train_dataset=data,
                         processing_class=policy.tokenizer, callbacks=callbacks)
    model = trainer.model
    if "ref" in getattr(model, "peft_config", {}):
        # TRL copied the untrained adapter as "ref"; without it TRL disables the adapter for the reference
        # pass, which gives the same numbers (a fresh LoRA adds B @ A = 0) and keeps adapter/ to one adapter.
        model.delete_adapter("ref")
    return trainer


def print_plan(cfg: RunConfig, questions: list[str], source: str) -> None:
    g, r, ident = cfg.grpo, cfg.recipe, cfg.extra
    length = f"{g.max_steps} steps" if g.max_steps > 0 else f"{g.num_train_epochs:g} epochs"
    print(f"run        {g.run_name} -> {g.output_dir}")
    print(f"model      {r.model_name} (backend {cfg.backend}, 4-bit {r.load_in_4bit}, LoRA r={r.lora_rank})")
    if cfg.backend_problem:
        print(f"device     cannot run here: {cfg.backend_problem}")
    print(f"identity   {ident.old_name!r} -> {ident.new_name!r}: {len(questions)} training prompts ({source}), "
          f"{len(HELDOUT_PROMPTS)} held-out, {ident.retention_prompts} retention prompts")
    print(f"system     {ident.system_prompt!r}; answers <= {r.eval_max_new_tokens} tokens, greedy")
    print(f"dpo        {length}, beta {g.beta:g}, lr {g.learning_rate:g}, batch {g.per_device_train_batch_size} "
          f"x gradient_accumulation_steps {g.gradient_accumulation_steps}, "
          f"max_length {g.max_length}, reference: the base (adapter disabled)")


def run(cfg: RunConfig, questions: list[str]) -> int:
    import yaml

    from recipes.callbacks import MetricsLogger
    from recipes.config import resolved_config
    from recipes.generation import generate
    from recipes.identity_eval import summary_lines, write_identity_eval
    from recipes.io_utils import atomic_write_text, write_json, write_jsonl_atomic
    from recipes.model import load_policy
    from recipes.model_card import model_card
    from recipes.run_dir import save_trained
    from recipes.run_inputs import policy_spec
    from recipes.tracking import configure_wandb
    from recipes.trl_compat import ensure_logprob_kernel

    ident, r = cfg.extra, cfg.recipe
    run_dir = Path(cfg.grpo.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved_config(cfg), sort_keys=False))
    (run_dir / "metrics.jsonl").unlink(missing_ok=True)  # a fresh run: no resume
    configure_wandb(cfg, run_dir)
    started = time.time()
    policy = load_policy(policy_spec(cfg))
    ensure_logprob_kernel()
    check_neutral_prompt(policy.tokenizer, ident)

    def answers(qs: list[str], desc: str) -> list[str]:
        prompts = [chat_prompt(q, ident.system_prompt) for q in qs]
        return [text for text, _ in generate(policy, prompts, r.eval_max_new_tokens, r.eval_batch_size, desc)]

    pairs = build_pairs(questions, answers(questions, "pairs"), old=ident.old_name, new=ident.new_name,
                        system_prompt=ident.system_prompt)
    write_jsonl_atomic(run_dir / "pairs.jsonl", [{"question": row["question"], "chosen": row["chosen"][0]["content"],
                                                  "rejected": row["rejected"][0]["content"]} for row in pairs])
    retention = fact_questions(ident.retention_prompts)
    # Asked before and after in the same batches, so an unchanged model gives the very same text.
    evaluated = list(HELDOUT_PROMPTS) + [q["question"] for q in retention]
    before = answers(evaluated, "before")
    trainer = make_dpo_trainer(cfg, policy, pairs, [MetricsLogger(run_dir / "metrics.jsonl", "dpo")])
    result = trainer.train()
    save_trained(trainer, run_dir / "adapter")
    after = answers(evaluated, "after")
    n = len(HELDOUT_PROMPTS)
    evaluation = write_identity_eval(run_dir, HELDOUT_PROMPTS, before[:n], after[:n], retention, before[n:],
                                     after[n:], old=ident.old_name, new=ident.new_name,
                                     system_prompt=ident.system_prompt)
    summary = {
        "run_name": cfg.grpo.run_name, "model": r.model_name, "backend": policy.backend, "recipe": "dpo",
        "pairs": len(pairs), "steps": trainer.state.global_step,
        "train_runtime_s": result.metrics.get("train_runtime"), "wall_time_s": round(time.time() - started, 1),
        "adapter": str(run_dir / "adapter"), "report": str(run_dir / "report.md"), "identity": evaluation,
    }
    write_json(run_dir / "summary.json", summary)
    # TRL's card says "fine-tuned version of [None]": ours names the base, the names and the measured rates.
    atomic_write_text(run_dir / "adapter" / "README.md", model_card(resolved_config(cfg), summary, merged=False))
    for line in summary_lines(evaluation):
        print(line)
    print(f"report     {run_dir / 'report.md'} ({summary['wall_time_s']:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = recipe_parser("python -m recipes.dpo", __doc__)
    args, overrides = parser.parse_known_args(argv)
    cfg = load_dpo_config(args.config, overrides)
    questions, source = training_questions(cfg.extra)
    print_plan(cfg, questions, source)
    if args.dry_run:
        print("dry run: config and prompts OK; no model loaded")
        return 0
    return run(cfg, questions)


if __name__ == "__main__":
    sys.exit(run_cli(main))
