"""What GRPO's trainer takes from the backend it runs on: who generates the rollouts, and its KL reference.

Both depend on facts the config alone does not know (whether Unsloth built a vLLM
engine; whether a priming adapter exists), so the pipeline settles them after
loading the policy and before building the trainer.
"""

from __future__ import annotations

import importlib.util

from recipes.config import RunConfig
from recipes.errors import RecipeError
from recipes.model import has_vllm_engine


def match_generation_backend(cfg: RunConfig, policy) -> None:
    """Make ``use_vllm`` say what will really generate the rollouts.

    Unsloth's GRPOTrainer generates with the model's own vLLM engine when there
    is one (and forces ``use_vllm`` on then: unsloth ``models/rl.py``); without
    one, ``use_vllm: true`` would make TRL start a second vLLM engine beside
    the training model. So on the Unsloth backend it follows the engine. The
    transformers backend needs vllm installed for colocated generation.

    Unsloth's config spells "no top-k" the vLLM way, ``top_k = -1``, whenever
    ``use_vllm`` is on (unsloth ``models/rl.py``, generated config ``__init__``);
    transformers' ``generate`` refuses it ("top_k has to be a strictly positive
    integer"), so a run that falls back to it gets TRL's 0 (off) instead.
    """
    g = cfg.grpo
    if policy.backend == "unsloth":
        if g.use_vllm and g.vllm_mode == "colocate" and not has_vllm_engine(policy.model):
            print("use_vllm: no vLLM engine in this Unsloth model; GRPO generates with transformers (slower)")
            g.use_vllm = False
            g.top_k = max(g.top_k or 0, 0)
    elif g.use_vllm and g.vllm_mode == "colocate" and importlib.util.find_spec("vllm") is None:
        raise RecipeError("use_vllm: vLLM is not installed here; set use_vllm false for the transformers backend")


def note_kl_reference(cfg: RunConfig, policy) -> None:
    """Say so when GRPO's KL term (beta > 0) will not anchor to the primed policy.

    TRL copies a PEFT model's adapter into a frozen "ref" adapter when the trainer is built
    (trl ``trainer/grpo_trainer.py``), so after priming the reference is the primed policy
    (and a resumed run reloads that "ref" from its checkpoint: transformers' ``Trainer`` loads
    every adapter subfolder). Unsloth skips that copy on purpose (unsloth ``models/rl.py``:
    "use base model as reference"), so there the KL pulls toward the unprimed base.
    """
    if cfg.grpo.beta != 0 and cfg.recipe.sft_prime is not None and policy.backend == "unsloth":
        print("beta > 0 after SFT priming: Unsloth's GRPOTrainer takes the KL reference from the base model "
              "(adapter disabled), not from the primed adapter")
