"""The DPO identity recipe's own settings (`IdentityArguments`), its config loader, and the prompt checks.

`load_dpo_config` is `recipes.config.load_config` with TRL's ``DPOConfig`` as the TRL
config and `IdentityArguments` as ``cfg.extra``: the same YAML + ``--key value``
rules, and bad input is one line naming the field (exit code 2).

Identity must come from the weights, not from the prompt: the system prompt may
name neither name, and `check_neutral_prompt` renders a question through the
model's own chat template to check that the template adds no name either
(SmolLM2's inserts "You are a helpful AI assistant named SmolLM" when a
conversation has no system message; Qwen2.5's "You are Qwen, created by Alibaba Cloud").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data_prep.facts import FACTS
from data_prep.identity import TRAIN_PROMPTS, HubUnreachable, chat_prompt, hub_prompts, mentions
from recipes.config import RunConfig, load_config
from recipes.errors import RecipeError


@dataclass
class IdentityArguments:
    """The DPO identity recipe's own keys; the rest are RecipeArguments' and TRL's ``DPOConfig``'s."""

    old_name: str = field(default="SmolLM", metadata={"help": "The name the model gives itself now."})
    new_name: str = field(default="Deep SmolLM", metadata={"help": "The name it should give after training."})
    system_prompt: str = field(default="You are a helpful assistant.", metadata={
        "help": "Explicit neutral system prompt for training and evaluation (naming neither name)."})
    identity_dataset: str | None = field(default=None, metadata={
        "help": "Hub dataset of identity prompts (used when reachable); default: data_prep.identity's."})
    identity_column: str = field(default="prompt", metadata={"help": "identity_dataset's prompt column."})
    identity_prompts: int | None = field(default=None, metadata={"help": "Train on at most this many prompts."})
    retention_prompts: int = field(default=len(FACTS), metadata={
        "help": "Factual questions (data_prep.facts) whose answers must survive training (retention)."})

    def __post_init__(self):
        for name in ("old_name", "new_name", "system_prompt"):
            if not getattr(self, name).strip():
                raise RecipeError(f"{name}: expected a non-empty string")
        if self.old_name.strip().lower() == self.new_name.strip().lower():
            raise RecipeError(f"new_name: expected a name other than old_name ({self.old_name!r})")
        for name in ("identity_prompts", "retention_prompts"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise RecipeError(f"{name}: expected a positive integer, got {value}")
        if self.retention_prompts > len(FACTS):
            raise RecipeError(f"retention_prompts: at most {len(FACTS)} (the questions of data_prep/facts.py), "
                              f"got {self.retention_prompts}")
        for name in (self.old_name, self.new_name):
            if mentions(self.system_prompt, name):
                raise RecipeError(f"system_prompt: names {name!r}; the name must come from the weights, "
                                  "so the system prompt must be neutral")


def load_dpo_config(path: str, overrides: list[str]) -> RunConfig:
    cfg = load_config(path, overrides, trl_class="DPOConfig", extra=IdentityArguments)
    for name in ("eval_max_new_tokens", "eval_batch_size"):
        if getattr(cfg.recipe, name) < 1:
            raise RecipeError(f"{name}: expected a positive integer, got {getattr(cfg.recipe, name)}")
    if cfg.grpo.max_length is not None and cfg.grpo.max_length < 1:
        raise RecipeError(f"max_length: expected a positive number of tokens, got {cfg.grpo.max_length}")
    return cfg


def training_questions(ident: IdentityArguments) -> tuple[list[str], str]:
    """(questions, where from): a reachable Hub dataset's prompts, else the repo's own."""
    questions, source = list(TRAIN_PROMPTS), "data_prep.identity"
    if ident.identity_dataset:
        try:
            questions, source = hub_prompts(ident.identity_dataset, ident.identity_column), ident.identity_dataset
        except HubUnreachable as err:
            print(f"{err}; using the repo's own prompts (data_prep.identity)")
    return questions[: ident.identity_prompts], source


def rendered_prompt(tokenizer, system_prompt: str, question: str = "Who are you?") -> str:
    """The text the model sees for a question: the chat template applied to system prompt + question."""
    return tokenizer.apply_chat_template(chat_prompt(question, system_prompt), tokenize=False,
                                         add_generation_prompt=True)


def check_neutral_prompt(tokenizer, ident: IdentityArguments) -> None:
    """The rendered prompt holds the neutral system prompt and names neither name (the template adds none)."""
    text = rendered_prompt(tokenizer, ident.system_prompt)
    if ident.system_prompt not in text:
        raise RecipeError("system_prompt: the model's chat template drops it; choose a model whose template "
                          "keeps a system message")
    for name in (ident.old_name, ident.new_name):
        if mentions(text, name):
            raise RecipeError(f"system_prompt: the rendered chat prompt still names {name!r} (the chat template "
                              "adds it); the name must come from the weights")
