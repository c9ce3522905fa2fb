"""Kill a run anywhere, rerun it, and check it ends where an uninterrupted run ends (issue 21).

    .venv/bin/python bench/chaos.py [--kills 20] [--seed 0] [--max-delay S] [--config CONFIG] [--out DIR] [-- OVERRIDES]

1. A reference run: ``python -m recipes.grpo CONFIG OVERRIDES`` uninterrupted, timed (T seconds).
2. Chains: a chain starts a run into a fresh folder, SIGKILLs it after a random delay in
   (0, T) (seeded), and reruns the same command, killing again, until a run ends by itself;
   then the next chain starts, until ``--kills`` kills have landed. A kill can land in any
   stage: loading, the base evaluation, SFT priming, a GRPO step, a checkpoint save, the
   tuned evaluation, the report.
3. Each chain's finished folder against the reference: the largest absolute difference
   over every tensor of ``adapter/`` (and ``sft_adapter/``), each stage's steps in
   ``metrics.jsonl`` exactly once, every ``eval/*/summary.json`` and ``predictions.jsonl``
   and ``summary.json`` (less its timings) equal, and any file that does not parse
   (JSON, JSONL, safetensors) counted as corrupt.

Default: the CPU demo shortened to a few minutes (4 GRPO steps, a checkpoint each, 16
evaluation problems). Never part of `make test`: 20 kills take tens of minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = "recipes/configs/grpo_smollm2_demo.yaml"
SHORT = ["--max_steps", "4", "--save_steps", "1", "--eval_limit", "16", "--report_to", "none"]
TIMINGS = {"wall_time_s", "train_runtime_s", "peak_gpu_memory_gib"}


def command(config: str, overrides: list[str], out: Path) -> list[str]:
    return [sys.executable, "-m", "recipes.grpo", config, *overrides, "--output_dir", str(out),
            "--run_name", out.name]


def run_to_end(cmd: list[str]) -> float:
    started = time.time()
    done = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"chaos: the run exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return time.time() - started


def run_killed(cmd: list[str], delay: float) -> bool:
    """Start the run and SIGKILL it after ``delay`` s; True if the kill landed (the run was still going)."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True
    if proc.returncode:
        raise SystemExit(f"chaos: a rerun exited {proc.returncode}: {proc.stderr.read().strip()[-2000:]}")
    return False


def progress(run: Path) -> str:
    """How far the killed run had come: evaluations written, priming saved, checkpoints, adapter, summary."""
    done = [f"eval/{p.parent.name}" for p in sorted(run.glob("eval/*/summary.json"))]
    done += [name for name in ("sft_adapter", "adapter", "summary.json") if (run / name).exists()]
    done += sorted((p.name for p in run.glob("checkpoint-*")), key=lambda n: int(n.split("-")[1]))[-1:]
    return ", ".join(done) or "nothing saved yet"


def tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def max_abs_diff(a: Path, b: Path) -> float:
    ta, tb = tensors(a), tensors(b)
    if ta.keys() != tb.keys():
        return float("inf")
    return max((float((ta[k].float() - tb[k].float()).abs().max()) for k in ta), default=0.0)


def corrupt_files(run: Path) -> list[str]:
    """Files a reader would fail on: JSON, JSONL (a torn last line is tolerated, as read_jsonl does), safetensors."""
    from recipes.io_utils import read_jsonl

    bad = []
    for path in run.rglob("*"):
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".jsonl":
                read_jsonl(path)
            elif path.suffix == ".safetensors":
                tensors(path.parent)
        except Exception:  # noqa: BLE001  (any failure to read is what we count)
            bad.append(str(path.relative_to(run)))
    return bad


def step_problems(run: Path) -> list[str]:
    """Stages whose logged steps are not 1..N exactly once each."""
    from recipes.io_utils import read_jsonl

    steps: dict[str, list[int]] = {}
    for row in read_jsonl(run / "metrics.jsonl"):
        if "loss" in row:  # one training log per step (the final summary row has train_loss instead)
            steps.setdefault(row["stage"], []).append(row["step"])
    problems = []
    for stage, seen in steps.items():
        if sorted(seen) != list(range(seen[0], seen[0] + len(seen))) or len(set(seen)) != len(seen):
            problems.append(f"{stage}: steps {seen}")
    return problems


def same_results(run: Path, reference: Path) -> list[str]:
    """Evaluation files and summary.json (less timings) that differ from the reference's."""
    def text(path: Path, folder: Path) -> str:  # the run's own folder name is not a difference
        return path.read_text().replace(str(folder), "RUN") if path.is_file() else ""

    differ = []
    for path in sorted(reference.glob("eval/*/*")):
        mine = run / path.relative_to(reference)
        if path.suffix in (".json", ".jsonl") and text(mine, run) != text(path, reference):
            differ.append(str(path.relative_to(reference)))
    summaries = [json.loads((r / "summary.json").read_text()) for r in (run, reference)]
    for s in summaries:
        for key in TIMINGS | {"adapter", "report", "run_name"}:
            s.pop(key, None)
        (s.get("sft_prime") or {}).pop("train_runtime", None)
    if summaries[0] != summaries[1]:
        differ.append("summary.json")
    return differ


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", default=DEMO)
    p.add_argument("--out", type=Path, default=Path("runs/chaos"))
    p.add_argument("--max-delay", type=float, help="kill within this many seconds of a start (default: the "
                   "reference's time); small values aim the kills at loading, evaluation and priming")
    p.add_argument("overrides", nargs="*", help=f"after --: recipe overrides (default: {' '.join(SHORT)})")
    args = p.parse_args()
    overrides = args.overrides or SHORT
    sys.path.insert(0, str(REPO))
    shutil.rmtree(args.out, ignore_errors=True)

    reference = args.out / "reference"
    seconds = run_to_end(command(args.config, overrides, reference))
    print(f"reference  {seconds:.0f} s uninterrupted -> {reference}", flush=True)

    rng = random.Random(args.seed)
    landed, chains = 0, []
    while landed < args.kills:
        chain = args.out / f"chain-{len(chains)}"
        cmd, kills = command(args.config, overrides, chain), 0
        while landed < args.kills and run_killed(cmd, rng.uniform(0.5, args.max_delay or seconds)):
            landed += 1
            kills += 1
            print(f"kill {landed}/{args.kills} landed in {chain.name}: {progress(chain)}", flush=True)
        run_to_end(cmd)  # the rerun that finishes (a no-op when the last one already did)
        chains.append((chain, kills))

    worst, equal, lost, corrupt = 0.0, 0, 0, 0  # equal: kills whose chain ended on the reference adapter
    for chain, kills in chains:
        diffs = [max_abs_diff(chain / d, reference / d) for d in ("adapter", "sft_adapter") if (reference / d).is_dir()]
        diff = max(diffs, default=0.0)
        problems, bad, differ = step_problems(chain), corrupt_files(chain), same_results(chain, reference)
        worst, equal = max(worst, diff), equal + kills * (diff <= 1e-6 and not differ)
        lost, corrupt = lost + len(problems), corrupt + len(bad)
        print(f"{chain.name}: {kills} kills; adapter max abs diff {diff:.2e}; steps {problems or 'each once'}; "
              f"corrupt {bad or 'none'}; results {'differ: ' + ', '.join(differ) if differ else 'identical'}")
    print(f"\nkills survived: {landed} of {args.kills}, in {len(chains)} chains")
    print(f"resumes equal to the uninterrupted run (adapter max abs diff <= 1e-6, same results): {equal} of "
          f"{landed} (worst adapter diff {worst:.2e})")
    print(f"steps lost or duplicated in metrics.jsonl: {lost}; corrupt files: {corrupt}")
    return 0 if equal == landed and not lost and not corrupt else 1


if __name__ == "__main__":
    sys.exit(main())
