"""Bring your own reward: ``module:function`` or ``file.py:function`` in reward_funcs, named and guarded like ours."""

from __future__ import annotations

import asyncio
import json
import math
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from recipes.config import load_config
from recipes.errors import RecipeError, run_cli
from recipes.reward_guard import AsyncGuardedReward, GuardedReward, RewardFailure, guard, score_now
from rewards import build_rewards, grader_for
from tests.test_grpo_run import _in_process, grpo, write_config

USER_FILE = '''
"""A user's rewards, in a folder of their own (not the repo)."""
import asyncio

THRESHOLD = 0.5
CALLS = []


def _text(c):
    return c[0]["content"] if isinstance(c, list) else c


def brevity(completions, **kwargs):
    return [1.0 / (1 + len(_text(c))) for c in completions]


async def async_brevity(completions, **kwargs):
    await asyncio.sleep(0)
    return [-len(_text(c)) / 100 for c in completions]


def weighted(completions, weight=1.0, **kwargs):
    return [weight] * len(completions)


class Scaled:
    """A factory: its __init__ takes the score, its instances score."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, completions, **kwargs):
        return [self.scale] * len(completions)


def boom(completions, **kwargs):
    return [1.0 if "never" in _text(c) else 1 / 0 for c in completions]


async def flaky_nan(completions, **kwargs):
    CALLS.append(len(completions))
    return [float("nan") if len(CALLS) == 2 and i == 3 else 0.0 for i in range(len(completions))]


async def hangs(completions, **kwargs):
    await asyncio.sleep(30)


def per_text(text):
    return 1.0


def no_kwargs(completions, answer):
    return [0.0] * len(completions)


def length(completions, **kwargs):
    return [0.0] * len(completions)
'''


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """tmp_path/elsewhere/my_rewards.py (and broken.py, which fails to import)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "my_rewards.py").write_text(textwrap.dedent(USER_FILE))
    (folder / "broken.py").write_text("import math\nVALUE = 1 / 0\n")
    return folder


def entry(folder: Path, name: str) -> str:
    return f"{folder / 'my_rewards.py'}:{name}"


def tiny_config(tmp_path: Path, model: Path | str = "unused-in-a-dry-run", **keys) -> Path:
    return write_config(tmp_path, Path(model), **{"reward_params": None, **keys})


# ---------------------------------------------------------------- finding and building


def test_a_file_path_is_read_from_the_config_folder_first_then_the_current_dir(tmp_path, elsewhere, monkeypatch):
    config = tiny_config(tmp_path, reward_funcs=["length", "elsewhere/my_rewards.py:brevity"],
                         reward_params={"length": {"target": 0}})
    monkeypatch.chdir(elsewhere)  # not the config's folder: the path still resolves next to the config
    cfg = load_config(config)
    funcs = build_rewards(cfg.recipe.reward_funcs, "r1", params=cfg.recipe.reward_params, base_dir=tmp_path)
    assert [f.__name__ for f in funcs] == ["length", "brevity"]
    assert funcs[1](completions=["", "abc"]) == [1.0, 0.25]
    # Not next to the config: the current directory.
    assert build_rewards(["my_rewards.py:brevity"], "r1", base_dir=tmp_path)[0].__name__ == "brevity"


def test_trls_own_rewards_by_import_path():
    [think] = build_rewards(["trl.rewards:think_format_reward"], "r1")
    assert think.__name__ == "think_format_reward"
    assert think(completions=[[{"role": "assistant", "content": "<think>\nhm\n</think>\n4"}], [{"role": "assistant",
                                                                                                  "content": "4"}]]) == [1.0, 0.0]


@pytest.mark.parametrize(("name", "params", "logged", "scores"), [
    # Factories: they cannot take completions= (no such parameter, no **kwargs), so they are called once.
    ("trl.rewards:get_soft_overlong_punishment", {"max_completion_len": 4, "soft_punish_cache": 2},
     "soft_overlong_punishment_reward", [0.0, -1.0]),
    ("get_soft_overlong_punishment", {"max_completion_len": 4, "soft_punish_cache": 2},  # keyed by function name
     "soft_overlong_punishment_reward", [0.0, -1.0]),
    ("trl.rewards:get_repetition_penalty_reward", None, "repetition_penalty_reward", [0.0, 0.0]),  # all defaults
    ("Scaled", {"scale": 2.0}, "Scaled", [2.0, 2.0]),  # a class: __init__ takes the scores
    # A reward function (it takes completions): its reward_params are bound as keyword arguments.
    ("weighted", {"weight": 0.5}, "weighted", [0.5, 0.5]),
    ("brevity", None, "brevity", [1 / 3, 1 / 5]),
])
def test_factories_are_told_apart_by_their_signature(elsewhere, name, params, logged, scores):
    full = name if name.startswith("trl.") else entry(elsewhere, name)
    listed = "trl.rewards:get_soft_overlong_punishment" if name == "get_soft_overlong_punishment" else full
    [fn] = build_rewards([listed], "r1", params={name: params} if params else None)
    assert fn.__name__ == logged
    assert fn(completions=["ab", "abcd"], completion_ids=[[1, 2], [1, 2, 3, 4]]) == pytest.approx(scores)


def test_grader_for_reads_path_entries():
    assert grader_for(["answer", "trl.rewards:think_format_reward", "my.py:math_verify"]) == "exact"
    assert grader_for(["my.py:brevity", "math_verify"]) == "math_verify"


# ---------------------------------------------------------------- one line at config time

CONFIG_ERRORS = [
    ("no_such_pkg.rewards:f", None, r"^reward_funcs: 'no_such_pkg.rewards:f': no module named 'no_such_pkg'$"),
    ("missing.py:f", None, r"^reward_funcs: 'missing.py:f': no file missing.py \(looked in .*\)$"),
    ("{d}/broken.py:f", None, r"^reward_funcs: '.*broken.py:f': loading .*broken.py failed: ZeroDivisionError"),
    ("{e}:nope", None, r"^reward_funcs: '.*my_rewards.py:nope': .*my_rewards.py has no 'nope'; it defines "
                       r"Scaled, async_brevity, boom, "),
    ("{e}:THRESHOLD", None, r"^reward_funcs: '.*:THRESHOLD' is a float, not a function$"),
    ("{e}:per_text", None, r"^reward_funcs: '.*:per_text' cannot be called as f\(completions=..., \*\*columns\), "
                           r"and as a factory of a reward \(it takes text\) it needs reward_params: missing a "
                           r"required argument: 'text'$"),
    ("{e}:no_kwargs", None, r"^reward_funcs: '.*:no_kwargs' has no \*\*kwargs, but TRL also passes prompts, "
                            r"completion_ids, trainer_state, log_extra, log_metric: add \*\*kwargs$"),
    ("{e}:weighted", {"wieght": 2}, r"^reward_params: '.*:weighted' has no parameter 'wieght'$"),
    ("trl.rewards:get_soft_overlong_punishment", {"max_completion_len": 8},
     r"^reward_params: 'trl.rewards:get_soft_overlong_punishment' \(a factory: it takes no completions\): "
     r"missing a required argument: 'soft_punish_cache'$"),
    ("{e}:length", None, r"^reward_funcs: length and .*my_rewards.py:length are both named 'length' \(TRL logs "
                         r"rewards/length/mean for each\); rename one function$"),
    ("not a module:f", None, r"^reward_funcs: 'not a module:f': 'not a module' is neither a module path"),
]


@pytest.mark.parametrize(("bad", "params", "message"), CONFIG_ERRORS, ids=[c[0][:30] for c in CONFIG_ERRORS])
def test_a_bad_user_reward_is_one_line_from_load_config(tmp_path, elsewhere, bad, params, message):
    bad = bad.format(d=elsewhere, e=elsewhere / "my_rewards.py")
    config = tiny_config(tmp_path, reward_funcs=["length", bad], reward_params={bad: params} if params else None)
    with pytest.raises(RecipeError, match=message) as err:
        load_config(config)
    assert "\n" not in str(err.value)


def test_two_rewards_with_one_name_are_refused_not_averaged_into_one_curve(tmp_path, elsewhere):
    (tmp_path / "other.py").write_text("def brevity(completions, **kwargs):\n    return [0.0] * len(completions)\n")
    config = tiny_config(tmp_path, reward_funcs=["other.py:brevity", "elsewhere/my_rewards.py:brevity"])
    with pytest.raises(RecipeError, match=r"^reward_funcs: other.py:brevity and elsewhere/my_rewards.py:brevity "
                                          r"are both named 'brevity'"):
        load_config(config)
    # A factory's reward is named once it is made: the build (the dry run's) refuses it then.
    (tmp_path / "third.py").write_text("def repetition_penalty_reward(completions, **kwargs):\n    return []\n")
    both = ["trl.rewards:get_repetition_penalty_reward", "third.py:repetition_penalty_reward"]
    with pytest.raises(ValueError, match=r"^reward_funcs: trl.rewards:get_repetition_penalty_reward and "
                                         r"third.py:repetition_penalty_reward are both named"):
        build_rewards(both, "r1", base_dir=tmp_path)


@pytest.mark.parametrize(("params", "message"), [
    ({"brevity": {}}, r"^reward_params: brevity could be a.py:brevity or b.py:brevity; key it by the full entry$"),
    ({"a.py:brevity": {}, "b.py:brevity": {"x": 1}, "weighted": {}}, r"^reward_params: weighted not in reward_funcs"),
    ({"a.py:weighted": {}, "weighted": {}}, r"^reward_params: a.py:weighted given twice"),
])
def test_reward_params_keys_name_one_entry(params, message):
    names = ["a.py:brevity", "b.py:brevity", *(["a.py:weighted"] if "a.py:weighted" in params else [])]
    with pytest.raises(ValueError, match=message):
        build_rewards(names, "r1", params=params)


def test_the_dry_run_stops_with_exit_2_before_any_data_or_model(tmp_path, elsewhere, capsys):
    from recipes.grpo import main

    # gsm8k from the Hub (no data_file): the reward is refused before any download is tried.
    config = tiny_config(tmp_path, dataset="gsm8k", reward_funcs=["answer", "elsewhere/my_rewards.py:nope"])
    assert run_cli(main, [str(config), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: reward_funcs: 'elsewhere/my_rewards.py:nope': ") and err.count("\n") == 1
    # A required column is known once the data is built: still the dry run, still before the model.
    config = tiny_config(tmp_path, reward_funcs=["answer", "trl.rewards:accuracy_reward"])
    assert run_cli(main, [str(config), "--dry-run"]) == 2
    assert capsys.readouterr().err == ("error: reward_funcs: 'trl.rewards:accuracy_reward' needs the column "
                                       "'solution'; the training data has answer, question, reasoning, id, "
                                       "phrasing, operation, steps\n")
    config = tiny_config(tmp_path, reward_funcs=["answer", "elsewhere/my_rewards.py:async_brevity"])
    assert run_cli(main, [str(config), "--dry-run"]) == 0
    assert "rewards    answer x1, async_brevity x1" in capsys.readouterr().out


# ---------------------------------------------------------------- guarded like the built-ins


def _guarded(folder: Path, name: str, timeout_s: float = 120.0):
    [fn] = guard(build_rewards([entry(folder, name)], "r1"), timeout_s)
    return fn


def test_async_rewards_stay_async_for_trl(elsewhere):
    from trl.trainer.utils import get_callable_name, is_async_callable

    fn = _guarded(elsewhere, "async_brevity")
    assert isinstance(fn, AsyncGuardedReward) and is_async_callable(fn) and get_callable_name(fn) == "async_brevity"
    assert asyncio.run(fn(completions=["ab", ""])) == [-0.02, 0.0]
    assert score_now(fn, completions=["ab"]) == [-0.02]  # the pre-flight's call, outside TRL's loop
    sync = _guarded(elsewhere, "brevity")
    assert type(sync) is GuardedReward and not is_async_callable(sync) and get_callable_name(sync) == "brevity"


def test_a_raising_user_reward_is_named_with_its_row(elsewhere):
    with pytest.raises(RewardFailure, match=r"^reward boom: row 1: ZeroDivisionError: division by zero$"):
        _guarded(elsewhere, "boom")(completions=["never", "x", "y"])


def test_an_async_user_reward_that_scores_nan_or_hangs_is_named(elsewhere):
    nan = _guarded(elsewhere, "flaky_nan")
    assert asyncio.run(nan(completions=list("abcd"))) == [0.0] * 4
    with pytest.raises(RewardFailure, match=r"^reward flaky_nan: row 3: returned nan$"):
        asyncio.run(nan(completions=list("abcd")))
    start = time.monotonic()
    with pytest.raises(RewardFailure, match=r"^reward hangs: its batch: took over 0.2 s \(hung\?\)$"):
        asyncio.run(_guarded(elsewhere, "hangs", timeout_s=0.2)(completions=["a"]))
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(("scores", "message"), [
    ([1.0], r"returned 1 scores for 2 completions"),
    (0.5, r"returned a float, expected a list of scores"),
    ([1.0, "high"], r"row 1: returned 'high', not a number"),
])
def test_a_malformed_result_is_named_too(scores, message):
    def odd(completions, **kwargs):
        return scores

    with pytest.raises(RewardFailure, match=rf"^reward odd: .*{message}$"):
        GuardedReward(odd)(completions=["a", "b"])


# ---------------------------------------------------------------- real GRPO on the tiny model

BY_PATH = ["length", "elsewhere/my_rewards.py:brevity", "elsewhere/my_rewards.py:async_brevity",
           "trl.rewards:think_format_reward", "trl.rewards:get_soft_overlong_punishment"]
LOGGED = ["length", "brevity", "async_brevity", "think_format_reward", "soft_overlong_punishment_reward"]


@pytest.mark.slow
def test_user_rewards_train_and_show_up_in_the_log_and_the_report(tmp_path, elsewhere, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=1, save_steps=1, reward_funcs=BY_PATH, reward_params={
        "length": {"target": 0, "scale": 400, "unit": "chars"},
        "get_soft_overlong_punishment": {"max_completion_len": 12, "soft_punish_cache": 4}},
        evaluate=True, eval_limit=2, eval_max_new_tokens=4, eval_batch_size=2)
    proc = grpo(config)  # run from the repo: the file is found next to the config, outside it
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rewards    " + ", ".join(f"{n} x1" for n in LOGGED) in proc.stdout
    run = tmp_path / "run"
    [row] = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"rewards/' in line]
    assert all(math.isfinite(row[f"rewards/{name}/mean"]) for name in LOGGED), row
    assert row["rewards/async_brevity/mean"] < 0 < row["rewards/brevity/mean"]
    comparison = json.loads((run / "report" / "comparison.json").read_text())
    assert comparison["train_log"]["reward_keys"] == LOGGED
    assert yaml.safe_load((run / "config.yaml").read_text())["reward_funcs"] == BY_PATH


@pytest.mark.slow
def test_a_raising_user_reward_stops_the_run_with_one_line(tmp_path, elsewhere, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=1, reward_funcs=["elsewhere/my_rewards.py:boom"])
    proc = grpo(config)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    [line] = [part for part in proc.stderr.splitlines() if "error: " in part]  # (after the trainer's open tqdm bar)
    assert line.partition("error: ")[2].startswith(
        "reward boom: row 0: ZeroDivisionError: division by zero; stopped before training on it")


@pytest.mark.slow
def test_an_async_user_reward_scoring_nan_stops_after_the_last_good_step(tmp_path, elsewhere, tiny_model_dir):
    from recipes import grpo as recipe
    from recipes.pipeline import run_pipeline

    cfg, fmt, dataset, rewards = _in_process(tmp_path, tiny_model_dir, max_steps=3, save_steps=10, reward_params=None,
                                             reward_funcs=["elsewhere/my_rewards.py:flaky_nan"])
    assert [f.__name__ for f in rewards] == ["flaky_nan"]
    with pytest.raises(RecipeError, match=r"^reward flaky_nan: row 3: returned nan; stopped before training on it, "
                                          r".*checkpoint-1 holds the last good step") as err:
        run_pipeline(cfg, fmt, dataset, rewards, resume=False, make_trainer=recipe.make_grpo_trainer)
    assert "\n" not in str(err.value)
    assert (tmp_path / "run" / "checkpoint-1" / "trainer_state.json").is_file()
