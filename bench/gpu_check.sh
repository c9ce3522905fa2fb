#!/usr/bin/env bash
# One call on a lent GPU machine (issue 20, item 4): install what it lacks, run `make test-gpu`'s
# tests and a 5-step headline run on the tiny random Qwen3, print what bench/GPU.md records.
#
#   here (network):  bash bench/gpu_check.sh fetch      # .whl/ (35 MB) and .whl-bnb/ (43 MB), gitignored
#   device tool, two calls to the same warm machine (a carry is at most 64 MiB):
#     run(command="ls .whl-bnb", carry=[".whl-bnb"])
#     run(command="bash bench/gpu_check.sh run", carry=[".whl"], timeout_s=580)
# msgspec and sentencepiece are fetched for CPython 3.11 (this repo's Python); a device with
# another Python needs them fetched with --python-version.
#
# The device machine has torch + CUDA, transformers, accelerate and peft, no internet. vllm (~330 MB)
# cannot travel in a carry (64 MiB per call), so everything here runs without a vLLM engine: the
# vLLM variant of tests/test_gpu_smoke.py skips, and the headline run passes --use_vllm false.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(unsloth==2026.10.7 unsloth_zoo==2026.10.7 trl==1.15.0 datasets==4.8.5 msgspec==0.23.0 tyro==1.0.17
        sentencepiece==0.2.3 einops==0.8.2 cut_cross_entropy==25.1.1 math-verify==0.9.0
        latex2sympy2_extended==1.11.0)

if [ "${1:-}" = fetch ]; then
  python3 -m pip download --no-deps -d .whl "${WHEELS[@]}"
  python3 -m pip download --no-deps -d .whl-bnb bitsandbytes==0.50.2
  du -sh .whl .whl-bnb
  exit 0
fi

SITE=/tmp/site
python3 -m pip install -q --no-deps --target "$SITE" .whl/*.whl .whl-bnb/*.whl
export PYTHONPATH="$SITE:$PWD" OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/device.csv"
python3 -c "import torch, transformers, trl, peft, unsloth; print('torch', torch.__version__, 'cuda', torch.version.cuda,
'transformers', transformers.__version__, 'trl', trl.__version__, 'peft', peft.__version__, 'unsloth', unsloth.__version__)" \
  | tee "$OUT/versions.txt"

# 1. make test-gpu's tests (16-bit and 4-bit; the vLLM variant skips without vllm)
timeout 300 python3 -m pytest -q -m gpu tests/test_gpu_smoke.py -s 2>&1 | tee "$OUT/test_gpu.txt" | tail -40

# 2. the headline recipe for 5 steps on the tiny Qwen3: its config, Unsloth 4-bit, LoRA, no priming/eval
python3 -c "from pathlib import Path; from tests.tiny_qwen3 import write_tiny_qwen3; write_tiny_qwen3(Path('/tmp/tq3'))"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/memory_mib.txt" &
SMI=$!
timeout 240 python3 -m recipes.grpo recipes/configs/grpo_qwen3_4b_openr1.yaml --model_name /tmp/tq3 \
  --data_file tests/fixtures/dapo_sample.jsonl --sft_prime null --preflight false --evaluate false \
  --max_steps 5 --save_steps 5 --max_seq_length 512 --max_completion_length 64 --use_vllm false \
  --report_to none --output_dir "$OUT/headline5" 2>&1 | tail -30 || echo "headline run failed: see above"
kill "$SMI" || true
python3 - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
rows = [json.loads(x) for x in (out / "headline5/metrics.jsonl").read_text().splitlines() if x.strip()]
steps = [r for r in rows if r.get("stage") == "grpo" and "step_time" in r]
used = [int(x) for x in (out / "memory_mib.txt").read_text().split() if x.strip().isdigit()]
print("headline 5 steps: step_time s", [round(r["step_time"], 2) for r in steps],
      "| peak memory used (nvidia-smi) MiB", max(used) if used else "n/a")
PY
