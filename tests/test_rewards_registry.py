"""The registry: names, TRL-facing behaviour, config errors, and no torch on import."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.formats import FORMATS
from rewards import REGISTRY, build_rewards, validate_weights

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "format_exact",
    "format_approx",
    "answer",
    "number",
    "math_verify",
    "format_soft",
    "integer",
    "xml_count",
    "length",
    "repetition",
    "working",
}


def test_registry_has_the_spec_rewards():
    assert set(REGISTRY) >= REQUIRED


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_reward_is_named_documented_and_picklable(name):
    [reward] = build_rewards([name], FORMATS["unsloth"])
    assert reward.__name__ == name
    assert "Range" in reward.__doc__
    clone = pickle.loads(pickle.dumps(reward))
    completion = FORMATS["unsloth"].render("r", "4")
    columns = {"answer": ["4"], "question": ["2 + 2 = ?"]}
    assert clone([completion], **columns) == reward([completion], **columns)


def test_rewards_take_trl_keyword_arguments():
    # GRPOTrainer calls reward(prompts=, completions=, completion_ids=, **columns, trainer_state=, ...).
    fmt = FORMATS["unsloth"]
    completions = [[{"role": "assistant", "content": fmt.render("r", "72")}]] * 2
    kwargs = dict(
        prompts=[[{"role": "user", "content": "q"}]] * 2,
        completion_ids=[[1], [2]],
        answer=["72", "73"],
        question=["q", "q"],
        trainer_state=None,
        log_extra=print,
        log_metric=print,
    )
    assert build_rewards(["answer"], fmt)[0](completions=completions, **kwargs) == [5.0, 2.0]


def test_build_rewards_accepts_a_format_name_and_params():
    funcs = build_rewards(["format_exact", "answer"], "xml", params={"format_exact": {"score": 0.5}})
    assert [f.__name__ for f in funcs] == ["format_exact", "answer"]
    assert funcs[0]([FORMATS["xml"].render("r", "1")]) == [0.5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ["answer", "nope"]}, r"^reward_funcs: unknown reward 'nope'; known: format_exact, "),
        ({"names": "answer"}, "^reward_funcs: expected a list"),
        ({"names": []}, "^reward_funcs: name at least one"),
        ({"names": ["answer", "answer"]}, "^reward_funcs: answer named more than once"),
        ({"weights": [1.0]}, r"^reward_weights: 1 weights for 2 reward_funcs"),
        ({"weights": [1.0, float("nan")]}, "^reward_weights: weight of number"),
        ({"params": {"answr": {"correct": 1.0}}}, "^reward_params: answr not in reward_funcs"),
        (
            {"params": {"answer": {"right": 1.0}}},
            "^reward_params: answer has no parameter 'right'; it takes correct",
        ),
        ({"params": {"answer": 2.0}}, "^reward_params: answer needs a mapping"),
    ],
)
def test_build_rewards_errors_name_the_config_key(kwargs, message):
    args = {"names": ["answer", "number"], "fmt": FORMATS["r1"], **kwargs}
    with pytest.raises(ValueError, match=message):
        build_rewards(**args)


def test_factory_validation_errors_are_reward_params_errors():
    with pytest.raises(ValueError, match="^reward_params: repetition: needs n >= 1"):
        build_rewards(["repetition"], "r1", params={"repetition": {"max_penalty": 0.5}})


def test_unknown_format_is_a_format_error():
    with pytest.raises(ValueError, match="^format: unknown format"):
        build_rewards(["answer"], "json")


def test_validate_weights():
    assert validate_weights(["a", "b"], None) == [1.0, 1.0]
    assert validate_weights(["a", "b"], [2, -0.5]) == [2.0, -0.5]
    with pytest.raises(ValueError, match="^reward_weights:"):
        validate_weights(["a"], "1")


def test_importing_rewards_loads_no_torch():
    code = (
        "import sys; from rewards import build_rewards, REGISTRY; "
        "build_rewards(['format_exact', 'answer', 'number'], 'unsloth'); "
        "heavy = sorted(m for m in ('torch', 'transformers', 'trl', 'sympy') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_rewards_never_eval_model_output():
    # (torch stays out: test_importing_rewards_loads_no_torch checks sys.modules, which a grep cannot.)
    for path in (ROOT / "rewards").glob("*.py"):
        source = path.read_text()
        for banned in ("eval(", "exec("):
            assert banned not in source, f"{path.name}: {banned}"


def test_fallbacks_are_counted_through_trls_log_metric_hook():
    # GRPOTrainer passes log_metric to every reward function; a scorer that fails on odd output is counted.
    from rewards.base import reward

    @reward(needs_answer=False)
    def picky(text, gold, fmt, *, score=1.0):
        if "boom" in text:
            raise ValueError("odd output")
        return score

    logged = []
    scores = picky(FORMATS["r1"])(["fine", "boom", "boom", "ok"], log_metric=lambda k, v: logged.append((k, v)))
    assert scores == [1.0, 0.0, 0.0, 1.0]
    assert logged == [("rewards/picky/fallback_frac", 0.5)]
    assert picky(FORMATS["r1"])(["fine"]) == [1.0]  # without the hook: nothing else changes


def test_a_factory_shows_its_scores_and_defaults_and_refuses_others():
    import inspect

    from rewards import REGISTRY

    signature = inspect.signature(REGISTRY["answer"])
    assert list(signature.parameters)[0] == "fmt"
    assert signature.parameters["correct"].default == 5.0 and signature.parameters["none"].default == -2.0
    with pytest.raises(TypeError, match="unexpected keyword argument 'corect'"):
        REGISTRY["answer"](FORMATS["r1"], corect=1.0)
