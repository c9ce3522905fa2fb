"""Reward-hacking and collapse alarms on synthetic training logs: each fires on its pattern, none on a healthy run."""

from __future__ import annotations

from recipes.alarms import find_alarms


def log(**series) -> list[dict]:
    """GRPO rows as MetricsLogger writes them; each keyword is a metric and its per-step values."""
    steps = len(next(iter(series.values())))
    return [{"stage": "grpo", "step": s + 1, **{k.replace("__", "/"): v[s] for k, v in series.items()}}
            for s in range(steps)]


def kinds(metrics, stages=None) -> list[str]:
    return [a["kind"] for a in find_alarms(metrics, stages or {})]


HEALTHY = log(rewards__correctness__mean=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
              rewards__format_exact__mean=[0.1, 0.15, 0.2, 0.2, 0.2, 0.2],
              reward=[0.2, 0.35, 0.5, 0.6, 0.7, 0.8], frac_reward_zero_std=[0.5, 0.4, 0.3, 0.3, 0.2, 0.2],
              completions__mean_length=[24, 23, 24, 22, 23, 24], completions__clipped_ratio=[0, 0, 0, 0, 0, 0])
IMPROVED = {"primed": {"accuracy": 0.25}, "tuned": {"accuracy": 0.40}}


def test_a_healthy_run_trips_nothing():
    assert kinds(HEALTHY, IMPROVED) == []


def test_format_reward_up_while_correctness_down_names_both_and_the_steps():
    metrics = log(rewards__correctness__mean=[0.5, 0.5, 0.4, 0.3, 0.2, 0.1],
                  rewards__format_exact__mean=[0.1, 0.1, 0.15, 0.2, 0.2, 0.2])
    [alarm] = find_alarms(metrics, {})
    assert alarm["kind"] == "shaping_up_correctness_down"
    assert "format_exact rose 0.1 -> 0.2 (steps 1-2 vs 5-6)" in alarm["message"]
    assert "correctness 0.5 -> 0.15" in alarm["message"]


def test_reward_up_but_held_out_accuracy_flat():
    message = find_alarms(HEALTHY, {"primed": {"accuracy": 0.3}, "tuned": {"accuracy": 0.3}})[0]["message"]
    assert "mean reward rose 0.275 -> 0.75" in message and "30.0% -> 30.0%" in message


def test_length_collapse_and_length_limit():
    assert kinds(log(completions__mean_length=[40, 38, 30, 20, 12, 10])) == ["length_collapse"]
    assert kinds(log(completions__clipped_ratio=[0.1, 0.2, 0.4, 0.6, 0.8, 0.9])) == ["length_limit"]


def test_flat_groups_all_run_long_is_no_signal_but_a_few_steps_is_no_trend():
    assert kinds(log(frac_reward_zero_std=[1.0, 0.95, 0.9, 1.0])) == ["no_signal"]
    assert kinds(log(frac_reward_zero_std=[1.0, 1.0])) == []
    assert kinds([{"stage": "sft", "step": s, "frac_reward_zero_std": 1.0} for s in range(9)]) == []


def test_alarms_reach_the_report(tmp_path):
    # A run whose format term rose while correctness fell: the report says so, with the numbers.
    import json

    from recipes.compare import main as compare_main
    from tests.test_compare import write_eval_dir

    metrics = tmp_path / "metrics.jsonl"
    rows = log(rewards__correctness__mean=[0.5, 0.5, 0.4, 0.3, 0.2, 0.1],
               rewards__format_exact__mean=[0.1, 0.1, 0.15, 0.2, 0.2, 0.2])
    metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dirs = [write_eval_dir(tmp_path / "base", "base", {0, 1}), write_eval_dir(tmp_path / "tuned", "tuned", {0})]
    assert compare_main([*map(str, dirs), "--out", str(tmp_path / "out"), "--train-log", str(metrics)]) == 0
    comparison = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert [a["kind"] for a in comparison["alarms"]] == ["shaping_up_correctness_down"]
    assert "## Alarms" in (tmp_path / "out" / "report.md").read_text()
    assert "shaping_up_correctness_down" in (tmp_path / "out" / "report.html").read_text()
