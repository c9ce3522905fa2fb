"""SFT: supervised fine-tuning of a LoRA adapter on worked solutions in a reasoning format.

    python -m recipes.sft recipes/configs/sft_smollm2_arithmetic.yaml [--key value ...] [--dry-run]

The GRPO recipe's format priming, run on its own (the same code: `recipes.priming`
and the same stages of `recipes.pipeline`): load the policy with LoRA, evaluate the
base, train with TRL's ``SFTTrainer`` on prompt/completion pairs whose completion is
the row's worked solution rendered in the recipe's format (completion-only loss: the
prompt's tokens carry no loss), evaluate, and write the same run directory a GRPO run
writes (config.yaml, metrics.jsonl, adapter/ with its model card, eval/{base,primed},
report/, summary.json). The SFT settings are the config's ``sft_prime`` block
(rows, num_train_epochs, learning_rate, per_device_train_batch_size, ...; see
`recipes.priming`); the dataset needs worked solutions (a ``reasoning`` column:
arithmetic, GSM8K, OpenR1-Math), or ``sft_prime.chat_dataset`` names a chat dataset
(a ``messages`` column; `data_prep.chat`) trained on its assistant replies.
Export the result with ``python -m recipes.export``.
"""

from __future__ import annotations

import sys

from recipes.config import load_config, recipe_parser
from recipes.errors import RecipeError, run_cli
from recipes.run_inputs import reward_functions, run_format, train_dataset


def main(argv: list[str] | None = None) -> int:
    parser = recipe_parser("python -m recipes.sft", __doc__)
    parser.add_argument("--new-run", action="store_true",
                        help="move an existing run folder aside (to NAME.1, ...) and start over")
    args, overrides = parser.parse_known_args(argv)
    cfg = load_config(args.config, overrides)
    if cfg.recipe.sft_prime is None:
        raise RecipeError("sft_prime: the SFT recipe trains with the sft_prime settings; set at least "
                          "sft_prime: {rows: 300}")
    fmt = run_format(cfg)
    dataset, rewards = train_dataset(cfg), reward_functions(cfg, fmt)
    from recipes.priming import priming_dataset, sft_settings

    settings = sft_settings(cfg.recipe.sft_prime)
    if settings["chat_dataset"] is not None:
        priming_dataset(cfg, fmt, settings, dataset)  # a bad chat file fails now, before the model loads
    print(f"run        {cfg.grpo.run_name} -> {cfg.grpo.output_dir}")
    print(f"model      {cfg.recipe.model_name} (backend {cfg.backend}, LoRA r={cfg.recipe.lora_rank})")
    source = settings["chat_dataset"] or settings["dataset"] or cfg.recipe.dataset
    print(f"sft        {settings['rows']} rows of {source}, format {fmt.name}, "
          f"{settings['num_train_epochs']:g} epoch(s), lr {settings['learning_rate']:g}")
    if args.dry_run:
        print("dry run: config and data OK; no model loaded")
        return 0
    from recipes.pipeline import run_pipeline  # loads torch and the model: only past the config checks

    return run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=None, until="sft",
                        new_run=args.new_run)


if __name__ == "__main__":
    sys.exit(run_cli(main))
