"""Learnability: sample the policy as GRPO will, score the groups, and say whether GRPO can learn.

The measurement behind ``python -m recipes.preflight`` (see there for what each
number means) and behind the pipeline's ``preflight`` and ``difficulty_filter``
stages. A group of completions that all score the same gives GRPO zero
advantage: it teaches nothing. So the numbers that matter are the share of flat
groups (``zero_std_frac``), how often a completion is correct, and why not.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from data_prep.formats import ReasoningFormat
from recipes.config import RunConfig
from recipes.distributed import from_main, is_main
from recipes.errors import RecipeError
from recipes.generation import Sampling, sample
from recipes.io_utils import read_json, write_json
from recipes.reward_guard import RewardFailure, guard, score_now
from rewards import GRADERS, grader_for

EXIT_NO_SIGNAL = 3
WEAK_ZERO_STD = 0.5  # more flat groups than this: most of each batch teaches nothing
FILTER_DEFAULTS = {"samples": 8, "min_pass": 0.0, "max_pass": 1.0, "limit": None}


def score_groups(rows: list[dict], groups: list[list[tuple[str, int]]], rewards: list, weights: list[float],
                 fmt: ReasoningFormat, grader: str, max_tokens: int) -> dict[str, Any]:
    """Score sampled groups as GRPO would and sum up what its first steps would see."""
    grade = GRADERS[grader]
    names = [f.__name__ for f in rewards]
    per_reward: dict[str, list[float]] = {n: [] for n in names}
    prompt_pass, flat, correct, formatted, clipped, total = [], 0, 0, 0, 0, 0
    guarded = guard(rewards)
    for row, group in zip(rows, groups, strict=True):
        texts = [text for text, _ in group]
        completions = [[{"role": "assistant", "content": t}] for t in texts]
        columns = {k: [v] * len(texts) for k, v in row.items() if k != "prompt"}
        scores = [_score(f, completions, [row["prompt"]] * len(texts), columns) for f in guarded]
        totals = [sum(w * (s[i] or 0.0) for w, s in zip(weights, scores, strict=True)) for i in range(len(texts))]
        for name, s in zip(names, scores, strict=True):
            per_reward[name].extend(x or 0.0 for x in s)
        flat += max(totals) - min(totals) < 1e-6
        passed = [bool(grade(fmt.extract(t), row["answer"])) for t in texts]
        prompt_pass.append(sum(passed) / len(texts))
        correct += sum(passed)
        formatted += sum(bool(fmt.exact_match(t)) for t in texts)
        clipped += sum(n >= max_tokens for _, n in group)
        total += len(texts)
    return {
        "n_prompts": len(rows), "num_generations": len(groups[0]) if groups else 0, "grader": grader,
        "pass_rate": correct / total, "format_rate": formatted / total, "clipped_rate": clipped / total,
        "zero_std_frac": flat / len(rows),
        "reward_means": {n: statistics.fmean(v) for n, v in per_reward.items()},
        "prompt_pass_rates": prompt_pass,
    }


def _score(reward, completions: list, prompts: list, columns: dict[str, list]) -> list:
    """One reward on one group, guarded as in training: a user's reward that fails is one line here too."""
    try:
        return score_now(reward, completions=completions, prompts=prompts, **columns)
    except RewardFailure as failure:
        raise RecipeError(f"{failure} (while scoring samples before training)") from None


def verdict(stats: dict[str, Any]) -> tuple[str, str]:
    """(verdict, what to do about it) from `score_groups`' numbers.

    >>> verdict({"zero_std_frac": 1.0, "pass_rate": 0.0, "format_rate": 0.0, "clipped_rate": 0.0})[0]
    'no_signal'
    >>> verdict({"zero_std_frac": 0.25, "pass_rate": 0.3, "format_rate": 0.9, "clipped_rate": 0.0})[0]
    'learnable'
    """
    flat, passed, formatted, clipped = (stats[k] for k in ("zero_std_frac", "pass_rate", "format_rate",
                                                             "clipped_rate"))
    remedies = []
    if formatted == 0:
        remedies.append("prime the format first (sft_prime: {rows: 64}) or add a looser format reward "
                        "(format_approx, format_soft)")
    if passed == 0:
        remedies.append("use easier problems (an easier split, or difficulty_filter to keep those the model "
                        "sometimes solves)")
    elif passed == 1:
        remedies.append("use harder problems: every sample is already correct (difficulty_filter)")
    if clipped > 0.5:
        remedies.append(f"raise max_completion_length: {clipped:.0%} of completions ran into it")
    remedy = "; ".join(remedies) or "none needed"
    if flat >= 1.0:
        return "no_signal", f"every group scored the same: GRPO has no advantage to learn from. Remedy: {remedy}"
    if flat > WEAK_ZERO_STD or passed in (0, 1):
        return "weak", (f"{flat:.0%} of groups scored the same and {passed:.0%} of completions were correct: "
                        f"learning will be slow or only shape the format. Remedy: {remedy}")
    also = f" Still: {remedy}" if remedies else ""
    return "learnable", (f"{1 - flat:.0%} of groups vary and {passed:.0%} of completions were correct: "
                         f"GRPO has something to learn.{also}")


def check(policy, cfg: RunConfig, fmt: ReasoningFormat, rows: list[dict], rewards: list) -> dict[str, Any]:
    """Sample ``rows`` as GRPO will, score them, and decide; returns the preflight.json content."""
    sampling = Sampling.like_grpo(cfg.grpo)
    groups = sample(policy, [r["prompt"] for r in rows], sampling, batch_size=cfg.recipe.eval_batch_size,
                    desc="preflight")
    weights = list(cfg.grpo.reward_weights or [1.0] * len(rewards))
    stats = score_groups(rows, groups, rewards, weights, fmt, grader_for(cfg.recipe.reward_funcs),
                         sampling.max_new_tokens)
    stats["verdict"], stats["advice"] = verdict(stats)
    return stats


def filter_settings(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(FILTER_DEFAULTS))
    if unknown:
        raise RecipeError(f"difficulty_filter.{unknown[0]}: unknown key; expected {', '.join(FILTER_DEFAULTS)}")
    settings = {**FILTER_DEFAULTS, **raw}
    if not 0 <= settings["min_pass"] < settings["max_pass"] <= 1 or int(settings["samples"]) < 2:
        raise RecipeError("difficulty_filter: expected samples >= 2 and 0 <= min_pass < max_pass <= 1")
    return settings


def preflight_stage(policy, cfg: RunConfig, fmt: ReasoningFormat, dataset, rewards: list,
                    run_dir: Path) -> dict[str, Any]:
    """`check` on the first ``preflight_prompts`` training prompts -> ``run_dir/preflight.json`` (kept on resume)."""
    path = run_dir / "preflight.json"
    if path.is_file():
        return read_json(path)
    rows = list(dataset.select(range(min(cfg.recipe.preflight_prompts, len(dataset)))))
    result = from_main(lambda: check(policy, cfg, fmt, rows, rewards))  # one verdict for every rank
    if is_main():
        write_json(path, result)
    print(f"preflight: {result['verdict']} ({result['n_prompts']} prompts x {result['num_generations']}): "
          f"pass {result['pass_rate']:.0%}, format {result['format_rate']:.0%}, flat groups "
          f"{result['zero_std_frac']:.0%}. {result['advice']}", flush=True)
    return result


def filter_stage(policy, cfg: RunConfig, fmt: ReasoningFormat, dataset, rewards: list, run_dir: Path):
    """The training prompts whose sampled pass rate lies strictly inside (min_pass, max_pass).

    Each prompt is sampled ``samples`` times as GRPO would; the pass rates, what
    was kept and the settings go to ``run_dir/difficulty_filter.json``, which a
    resumed run reads back instead of sampling again.
    """
    settings = filter_settings(cfg.recipe.difficulty_filter or {})
    path = run_dir / "difficulty_filter.json"
    if path.is_file():
        kept = read_json(path)["kept"]
    else:
        pool = list(range(len(dataset) if settings["limit"] is None else min(settings["limit"], len(dataset))))
        rows = list(dataset.select(pool))
        sampling = Sampling.like_grpo(cfg.grpo, n=int(settings["samples"]))

        def pass_rates() -> list[float]:
            groups = sample(policy, [r["prompt"] for r in rows], sampling, batch_size=cfg.recipe.eval_batch_size,
                            desc="difficulty filter")
            return score_groups(rows, groups, rewards, [1.0] * len(rewards), fmt,
                                grader_for(cfg.recipe.reward_funcs), sampling.max_new_tokens)["prompt_pass_rates"]

        rates = from_main(pass_rates)  # every rank trains on the same kept prompts
        kept = [i for i, rate in zip(pool, rates, strict=True) if settings["min_pass"] < rate < settings["max_pass"]]
        if is_main():
            write_json(path, {**settings, "sampled": len(pool), "kept": kept, "prompts": [
                {"index": i, "question": r.get("question"), "answer": r["answer"], "pass_rate": rate,
                 "kept": i in kept} for i, r, rate in zip(pool, rows, rates, strict=True)]})
    print(f"difficulty filter: kept {len(kept)} of {len(dataset)} training prompts "
          f"(sampled pass rate in ({settings['min_pass']:g}, {settings['max_pass']:g})) -> {path}", flush=True)
    if not kept:
        raise RecipeError(f"difficulty_filter: no training prompt has a sampled pass rate in "
                          f"({settings['min_pass']:g}, {settings['max_pass']:g}); see {path}")
    return dataset.select(kept)
