"""The demo's base -> primed -> tuned pass@k curves: did GRPO sharpen or expand? (README, bench/NOTES.md)

    python bench/demo_pass_at_k.py runs/grpo_smollm2_demo --samples 8 --temperature 0.6

Re-evaluates a finished run's three stages with sampling, on the run's own test
problems and settings (``recipes.evaluate --run`` / ``--adapter``): the base model,
the SFT-primed adapter (``sft_adapter/``) and the tuned adapter. Then
``recipes.compare`` writes a report with the pass@k chart, the table and the
sharpen/expand sentence into ``RUN_DIR/pass_at_k/report``. Prints each stage's
wall time and the machine's load, since sampling N completions costs about N
greedy evaluations on a CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recipes.compare import main as compare_main  # noqa: E402
from recipes.errors import run_cli  # noqa: E402
from recipes.evaluate import main as evaluate_main  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a finished run folder of the demo (config.yaml, sft_adapter/, adapter/)")
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--top-p", type=float, default=1.0)
    args = p.parse_args(argv)
    run, out = Path(args.run), Path(args.run) / "pass_at_k"
    stages = {"base": ["--run", str(run)], "primed": ["--adapter", str(run / "sft_adapter")],
              "tuned": ["--adapter", str(run / "adapter")]}
    decoding = ["--samples", str(args.samples), "--temperature", str(args.temperature), "--top-p", str(args.top_p)]
    for label, source in stages.items():
        started = time.perf_counter()
        code = run_cli(evaluate_main, [*source, *decoding, "--label", label, "--out", str(out / label)])
        if code:
            return code
        print(f"{label}: {time.perf_counter() - started:.0f} s (load average {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} cores)", flush=True)
    return run_cli(compare_main, [*(str(out / s) for s in stages), "--out", str(out / "report")])


if __name__ == "__main__":
    sys.exit(main())
