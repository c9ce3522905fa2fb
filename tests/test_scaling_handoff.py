"""README's hand-off example: this repo's rewards as verl's custom reward function, called as verl calls it."""

from __future__ import annotations

import re

from tests.conftest import REPO


def verl_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("as verl's `custom_reward_function`"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_example_scores_as_verl_calls_it():
    code = verl_example()
    assert len(code.strip().splitlines()) <= 20
    scope = {"__file__": str(REPO / "verl_reward.py"), "__name__": "verl_reward"}
    exec(compile(code, "verl_reward.py", "exec"), scope)  # noqa: S102  (our own README's code, not model output)
    score = scope["compute_score"]
    # verl/workers/reward_manager/naive.py: compute_score(data_source=, solution_str=, ground_truth=, extra_info=)
    right = score(data_source="gsm8k", solution_str="<think>1250 + 350 = 1600</think>\n<answer>1600</answer>",
                  ground_truth="1600", extra_info={"index": 0})
    wrong = score(data_source="gsm8k", solution_str="<think>1250 + 350 = 1500</think>\n<answer>1500</answer>",
                  ground_truth="1600", extra_info=None)
    garbage = score(data_source="gsm8k", solution_str="\x00 <answer", ground_truth="1600")
    assert right["score"] > wrong["score"] > garbage["score"] == 0.0
    assert set(right) == {"score", "correctness", "format_exact"}
