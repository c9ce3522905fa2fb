"""Rewards for GRPO on reasoning formats: pure functions, no torch, a registry by name.

Each reward is a TRL reward function ``f(completions, **columns) -> list[float]``
whose ``__name__`` is its registry name. Completions may be plain strings or
chat lists; the gold answer comes from the ``answer`` column (and the problem,
for `working`, from the ``question`` column). A reward never
raises on model output and never evaluates it: garbage scores its documented
floor or 0.0. Scores are factory parameters (``reward_params`` in a recipe).

==============  ========================================================  ===============
name            scores (defaults)                                         range
==============  ========================================================  ===============
format_exact    whole completion is the format: 3.0                       {0, 3}
format_approx   per marker once +0.5, missing/repeated -1.0               [-4, 1.5]
answer          correct 5, right number + words 3.5, within 10% 2,        [-4.5, 5]
                within 20% 1.5, wrong -2.5, non-numeric -4.5, none -2
number          first number in the answer: right 3.5, wrong -1.5,        [-2.5, 3.5]
                none -2.5
correctness     `is_correct`: 2.0                                         {0, 2}
math_verify     math-verify equivalence: 1.0                              {0, 1}
format_soft     markers in order anywhere: 0.5                            {0, 0.5}
integer         the answer is an integer: 0.5                             {0, 0.5}
xml_count       0.125 per tag once, -0.001 per trailing char              [-0.375, 0.5]
length          overlong: 0 .. -1.0 past ``target`` words                 [-1, 0]
repetition      -1.0 x fraction of repeated 3-grams                       [-1, 0]
working         true equations on the question's numbers that give the    [0, 0.2]
                answer: 0.2 x share of the question's numbers used
==============  ========================================================  ===============

A user's own reward joins the list by where it lives, ``module:function`` or
``file.py:function`` (`rewards.user_import` finds it, `rewards.user_rewards`
fits it to TRL's call).

`is_correct` is the single answer check: the evaluator uses it too, so an
example is "correct" in a report exactly when it earns `answer`'s top score.

>>> from data_prep.formats import FORMATS
>>> [reward] = build_rewards(["answer"], FORMATS["xml"])
>>> reward([[{"role": "assistant", "content": "<reasoning>\\n...\\n</reasoning>\\n<answer>\\n1,600\\n</answer>"}]],
...        answer=["1600"])
[5.0]
"""

from rewards.base import Reward
from rewards.completions import completion_text
from rewards.correctness import is_correct
from rewards.graders import GRADERS, grader_for
from rewards.numbers import parse_number
from rewards.registry import REGISTRY, build_rewards, check_rewards, validate_weights

__all__ = [
    "GRADERS",
    "REGISTRY",
    "Reward",
    "build_rewards",
    "check_rewards",
    "completion_text",
    "grader_for",
    "is_correct",
    "parse_number",
    "validate_weights",
]
