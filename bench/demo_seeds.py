"""How much does the demo's GRPO gain vary? The GRPO stage for N seeds from one primed adapter.

    .venv/bin/python bench/demo_seeds.py runs/grpo_smollm2_demo --seeds 0 1 2 [--out runs/demo_seeds]
        [--config recipes/configs/grpo_smollm2_demo.yaml] [-- --key value ...]

RUN_DIR is a finished `make demo` run (any run of the config with ``eval/base``,
``eval/primed`` and ``sft_adapter``). For each seed this runs the real pipeline,
``python -m recipes.grpo CONFIG --seed SEED``, in ``OUT/seed-SEED``, with the run's base
and primed evaluations and its priming adapter copied in, so the pipeline skips those
stages and trains GRPO from the very same primed weights. The seed then changes only
GRPO: the order of the training prompts and every sampled completion.

The data stays fixed. The recipe derives its problems from the seed too, so the
config's own GRPO prompts (its training problems less the rows priming trained on,
`recipes.priming.grpo_prompts`) and test problems, built with its seed, are first saved to
``OUT/data/{train,test}.jsonl`` and every seed reads them through ``--data_file`` and
``--eval_data_file``; ids are file positions, so each tuned evaluation pairs with the
run's primed one example by example. (Seed S therefore does not replay the demo's own
GRPO run even for S = the config's seed: the saved prompts are read in a seed-shuffled
order, where the demo reads the generated order. And as the config primes from its
training data, each seed's run holds out the first priming-rows of that shuffled file
too: a smaller pool, never a primed problem.)

Prints, per seed, the primed -> tuned gain (McNemar fixed/broken and p, from each
seed's report), whether any category regressed significantly, then the mean gain,
its standard deviation and range. Writes ``OUT/demo_seeds.json``. A seed whose dir
already has a ``summary.json`` is not run again (delete the dir to redo it), but only when
its ``source.json`` says it was trained from the same primed adapter, config, overrides and data;
a seed dir from another run is an error, never a silently reused result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep.arithmetic import CATEGORY_COLUMNS  # noqa: E402
from recipes.config import load_config  # noqa: E402
from recipes.errors import RecipeError  # noqa: E402
from recipes.grpo import eval_dataset, train_dataset  # noqa: E402
from recipes.io_utils import atomic_write_text, read_json, read_jsonl  # noqa: E402
from recipes.priming import grpo_prompts  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "recipes" / "configs" / "grpo_smollm2_demo.yaml"
REUSED = ("eval/base", "eval/primed", "sft_adapter")  # what makes the pipeline skip to GRPO
SAVED = ("question", "answer", "reasoning", *CATEGORY_COLUMNS)


def save_rows(dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(dataset.to_list(), key=lambda r: r["id"])  # file position = id
    atomic_write_text(path, "".join(json.dumps({k: r[k] for k in SAVED if k in r}) + "\n" for r in rows))


def check_source(run_dir: Path, test_rows) -> None:
    """The run's primed evaluation must be on exactly the saved test problems (same ids and gold)."""
    for part in REUSED:
        if not (run_dir / part).exists():
            raise RecipeError(f"{run_dir}: missing {part} (expected a finished run of the demo config)")
    primed = {r["id"]: str(r["gold"]) for r in read_jsonl(run_dir / "eval" / "primed" / "predictions.jsonl")}
    saved = {r["id"]: str(r["answer"]) for r in test_rows}
    if primed != saved:
        raise RecipeError(f"{run_dir}: eval/primed is not on the config's test problems "
                          "(another config, seed or eval_limit?); pass the --config that run used")


def source_stamp(config: Path, overrides: list[str], run_dir: Path, data: Path) -> dict:
    """What a seed's result depends on besides its seed: contents, so a moved run dir still matches."""
    def digest(paths) -> str:
        h = hashlib.sha256()
        for path in paths:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        return h.hexdigest()

    adapter = sorted(p for p in (run_dir / "sft_adapter").rglob("*") if p.is_file())
    return {"sft_adapter": digest(adapter), "primed": digest([run_dir / "eval" / "primed" / "predictions.jsonl"]),
            "config": digest([config]), "overrides": overrides,
            "data": digest([data / "train.jsonl", data / "test.jsonl"])}


def run_seed(config: Path, overrides: list[str], run_dir: Path, out: Path, seed: int, data: Path,
             processes: int = 1) -> Path:
    seed_dir = out / f"seed-{seed}"
    stamp = {**source_stamp(config, overrides, run_dir, data), **({"processes": processes} if processes > 1 else {})}
    if seed_dir.exists():
        found = read_json(seed_dir / "source.json") if (seed_dir / "source.json").is_file() else None
        if found != stamp:
            raise RecipeError(f"{seed_dir}: trained from another run, config or overrides than {run_dir}; "
                              "pass another --out (or delete that dir)")
        if (seed_dir / "summary.json").is_file():
            print(f"seed {seed}: {seed_dir} is finished; reusing it", flush=True)
            return seed_dir
    seed_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(seed_dir / "source.json", json.dumps(stamp, indent=1) + "\n")
    for part in REUSED:
        if not (seed_dir / part).exists():
            shutil.copytree(run_dir / part, seed_dir / part)
    # --processes N: under accelerate launch on N CPU processes (DDP over gloo; make demo-ddp's launch).
    launch = [str(Path(sys.executable).parent / "accelerate"), "launch", "--config_file",
              str(REPO / "recipes/accelerate/cpu_ddp.yaml"), "--num_processes", str(processes)] if processes > 1 else [
        sys.executable]
    cmd = [*launch, "-m", "recipes.grpo", str(config), *overrides, "--output_dir", str(seed_dir),
           "--run_name", f"seed-{seed}", "--seed", str(seed), "--data_file", str(data / "train.jsonl"),
           "--eval_data_file", str(data / "test.jsonl")]
    print(f"seed {seed}: {' '.join(cmd[1:])}", flush=True)
    started = time.time()
    with open(seed_dir / "log.txt", "w") as log:
        code = subprocess.call(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    if code:
        raise RecipeError(f"seed {seed}: the run exited {code}; see {seed_dir / 'log.txt'}")
    print(f"seed {seed}: done in {time.time() - started:.0f} s", flush=True)
    return seed_dir


def seed_result(seed: int, seed_dir: Path) -> dict:
    comparison = read_json(seed_dir / "report" / "comparison.json")
    [t] = [t for t in comparison["transitions"] if (t["before"], t["after"]) == ("primed", "tuned")]
    later = [r for r in comparison["regressions"] if r["after"] == "tuned"]
    return {"seed": seed, "primed": t["before_accuracy"], "tuned": t["after_accuracy"], "gain": t["delta"],
            "fixed": t["fixed"], "broken": t["broken"], "p": t["p"], "n": t["n"],
            "regressions": [f"{r['column'] or 'all'}={r['value']}" for r in later], "dir": str(seed_dir)}


def summarize(results: list[dict]) -> dict:
    gains = [r["gain"] for r in results]
    return {"seeds": len(results), "mean_gain": statistics.fmean(gains),
            "sd_gain": statistics.stdev(gains) if len(gains) > 1 else 0.0,
            "min_gain": min(gains), "max_gain": max(gains),
            "significant": sum(r["p"] < 0.05 and r["gain"] > 0 for r in results),
            "without_regression": sum(not r["regressions"] for r in results)}


def print_table(results: list[dict], totals: dict) -> None:
    print(f"{'seed':>4}  {'primed':>7}  {'tuned':>7}  {'gain':>9}  {'fixed/broken':>12}  {'McNemar p':>10}  regressions")
    for r in results:
        print(f"{r['seed']:>4}  {r['primed']:>7.1%}  {r['tuned']:>7.1%}  {r['gain'] * 100:>+5.1f} pts  "
              f"{r['fixed']:>5}/{r['broken']:<6}  {r['p']:>10.3g}  {', '.join(r['regressions']) or 'none'}")
    print(f"gain over {totals['seeds']} seeds: mean {totals['mean_gain'] * 100:+.1f} pts, "
          f"sd {totals['sd_gain'] * 100:.1f}, range {totals['min_gain'] * 100:+.1f} .. {totals['max_gain'] * 100:+.1f}; "
          f"significant (p < 0.05) in {totals['significant']} of {totals['seeds']}; "
          f"no significant regression in {totals['without_regression']} of {totals['seeds']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/demo_seeds.py", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", help="a finished demo run (has eval/base, eval/primed, sft_adapter)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--config", default=str(DEMO))
    p.add_argument("--out", default="runs/demo_seeds")
    p.add_argument("--processes", type=int, default=1, help="train each seed under accelerate launch on N CPU "
                   "processes (pass the per-device batch that keeps the global batch: -- --per_device_train_batch_size)")
    args, overrides = p.parse_known_args(argv)
    overrides = [o for o in overrides if o != "--"]
    try:
        cfg = load_config(args.config, overrides)
        run_dir, out = Path(args.run_dir), Path(args.out)
        test = eval_dataset(cfg)
        check_source(run_dir, test.to_list())
        data = out / "data"
        save_rows(grpo_prompts(cfg, train_dataset(cfg)), data / "train.jsonl")  # never the priming rows
        save_rows(test, data / "test.jsonl")
        results = [seed_result(s, run_seed(Path(args.config), overrides, run_dir, out, s, data, args.processes))
                   for s in args.seeds]
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    totals = summarize(results)
    print_table(results, totals)
    (out / "demo_seeds.json").write_text(json.dumps({"results": results, **totals}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
