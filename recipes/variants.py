"""GRPO's variants as TRL 1.15 offers them: what each changes, the paper, and where Unsloth trains them otherwise.

A variant is a few ``GRPOConfig`` keys; the recipe passes them to TRL unchanged.
`in_force` words the ones a config trains with (the dry run's ``variant`` line and
``config.yaml``); `VARIANTS` is README's table; `unsloth_differences` names where
Unsloth's generated ``UnslothGRPOConfig.__init__`` (unsloth 2026.10.7
``models/rl.py``, the block after "Check for loss_type = dr_grpo and scale_rewards")
trains a YAML differently from TRL's class, even after `recipes.trl_defaults` passes
TRL's defaults back: with ``loss_type: dr_grpo`` it turns group scaling of rewards
off ("The Dr GRPO paper recommends setting `scale_rewards` to False! Will
override"), and no value the YAML can give keeps it on except ``null``.
tests/unsloth_real/test_variants.py builds every variant with the real generated
class and checks that this is the only difference. The loss itself is Unsloth's
``grpo_compute_loss`` (unsloth_zoo ``rl_replacements.py``): it implements all eight
TRL loss types, sequence-level importance sampling, top-entropy masking and masked
truncation, including TRL's floor for a fully masked batch, so those keys need no line.

>>> import trl
>>> in_force(trl.GRPOConfig(output_dir="x", use_cpu=True, loss_type="dr_grpo", scale_rewards="none"))
'loss dr_grpo, token-level ratios clipped to [0.8, 1.2], scale_rewards none, truncated completions in the loss'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNSLOTH = "unsloth 2026.10.7"


@dataclass(frozen=True)
class Variant:
    """One row of README's table: the keys, what they change, the paper, when to pick it."""

    name: str
    keys: dict[str, Any]
    changes: str
    paper: str
    pick: str


VARIANTS = (
    Variant("grpo", {"loss_type": "grpo"}, "each completion's token losses averaged over its own length",
            "DeepSeekMath (arXiv 2402.03300)", "reproducing older runs; it favours short right and long wrong answers"),
    Variant("dr_grpo", {"loss_type": "dr_grpo", "scale_rewards": "none"},
            "token losses summed and divided by max_completion_length; rewards not divided by the group's std",
            "Dr. GRPO (arXiv 2503.20783)", "no length bias and no difficulty bias; Unsloth's choice for dr_grpo"),
    Variant("dapo", {"loss_type": "dapo"}, "token losses averaged over every token of the accumulated batch",
            "DAPO (arXiv 2503.14476)", "TRL's default: no length bias, the same weight per token"),
    Variant("bnpo", {"loss_type": "bnpo"}, "as dapo, but over the local batch only",
            "TRL (bnpo)", "dapo's normalisation without cross-device counting"),
    Variant("clip-higher", {"epsilon_high": 0.28}, "the ratio's upper clip 1.28 instead of 1.2",
            "DAPO (arXiv 2503.14476)", "entropy collapses: lets rare right tokens grow faster"),
    Variant("gspo", {"loss_type": "grpo", "importance_sampling_level": "sequence"},
            "one importance ratio per completion (mean log-ratio) instead of one per token",
            "GSPO (arXiv 2507.18071)", "several updates per batch (num_iterations > 1) or MoE models; stabler"),
    Variant("cispo", {"loss_type": "cispo", "epsilon_high": 5.0},
            "clips the importance weight itself (at epsilon_high), never drops a token's gradient",
            "MiniMax-M1 (arXiv 2506.13585)", "off-policy updates; set epsilon_high 4-8 (TRL caps at epsilon_high)"),
    Variant("sapo", {"loss_type": "sapo"}, "a smooth temperature gate instead of the hard clip",
            "SAPO (arXiv 2511.20347)", "off-policy updates where hard clipping discards signal"),
    Variant("luspo", {"loss_type": "luspo", "importance_sampling_level": "sequence"},
            "GSPO with each sequence's loss scaled by its length", "LUSPO (arXiv 2602.05261)",
            "GSPO without its bias toward short completions"),
    Variant("vespo", {"loss_type": "vespo"},
            "a smooth Gamma weighting of sequence-level importance weights (computed inside; token level stays)", "VESPO (arXiv 2602.10693)",
            "strongly off-policy data"),
    Variant("masked truncation", {"mask_truncated_completions": True},
            "completions cut off at max_completion_length leave the loss", "DAPO (arXiv 2503.14476)",
            "many completions hit the length cap (the headline's 1536 tokens)"),
    Variant("top-entropy tokens", {"top_entropy_quantile": 0.2},
            "the policy loss only on the 20% highest-entropy tokens", "80/20 rule (arXiv 2506.01939)",
            "long reasoning where few forking tokens matter"),
    Variant("batch scaling", {"scale_rewards": "batch"}, "rewards divided by the batch's std, not each group's",
            "PPO Lite (arXiv 2508.08221)", "groups often all right or all wrong"),
)


def in_force(grpo) -> str:
    """The variant a built GRPOConfig trains with, in one line."""
    high = grpo.epsilon_high if grpo.epsilon_high is not None else grpo.epsilon
    level = grpo.importance_sampling_level
    parts = [f"loss {grpo.loss_type}"]
    if grpo.loss_type == "cispo":
        parts.append(f"{level}-level importance weights capped at {high:g}")
    elif grpo.loss_type in ("sapo", "vespo"):
        parts.append(f"{level}-level ratios, soft-gated")
    else:
        parts.append(f"{level}-level ratios clipped to [{1 - grpo.epsilon:g}, {1 + high:g}]"
                     + (f" (two-sided, delta {grpo.delta:g})" if grpo.delta is not None else ""))
    parts.append(f"scale_rewards {grpo.scale_rewards}")
    parts.append("truncated completions masked" if grpo.mask_truncated_completions
                 else "truncated completions in the loss")
    if grpo.top_entropy_quantile < 1.0:
        parts.append(f"policy loss on the top {grpo.top_entropy_quantile:.0%} entropy tokens")
    if grpo.beta:
        parts.append(f"KL beta {grpo.beta:g}")
    return ", ".join(parts)


def caveats(grpo) -> list[str]:
    """TRL 1.15's own warnings about a combination (grpo_trainer.py ``__init__``), said before the model loads."""
    said = []
    level, loss = grpo.importance_sampling_level, grpo.loss_type
    if loss == "luspo" and level != "sequence":
        said.append("luspo is a sequence-level loss: set importance_sampling_level: sequence, as its paper does")
    if loss == "vespo" and level != "token":
        said.append("vespo computes sequence-level weights itself: leave importance_sampling_level at token")
    if level == "sequence" and loss in ("bnpo", "dr_grpo", "dapo", "cispo"):
        said.append(f"sequence-level ratios with loss {loss} weight each completion by its length; "
                    "GSPO's paper uses loss_type: grpo")
    return said


def unsloth_differences(grpo) -> list[str]:
    """One line per setting Unsloth's GRPOConfig trains otherwise than TRL's class does with the same YAML."""
    if grpo.loss_type == "dr_grpo" and grpo.scale_rewards == "group":
        return [f"under {UNSLOTH}, loss_type dr_grpo turns scale_rewards group into none (the Dr. GRPO "
                "paper's advice; TRL keeps group): set scale_rewards: none to train the same on CPU and GPU"]
    return []
