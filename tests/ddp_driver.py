"""``python -m recipes.grpo`` for tests/test_distributed.py, with two test-only changes (not a test module).

1. Generation is deterministic and rank-blind: each completion is a function of its prompt's tokens and
   its index in the *global* batch (rank x local batch + row), never of the process that samples it or
   of a random stream. So a run on 2 processes sees exactly the completions a run on 1 process sees,
   and any difference in rewards, advantages or loss is the distributed arithmetic's.
2. Each rank writes its exit code to ``$DDP_EXIT_DIR/rank-N`` (the launcher reports only its own).

    accelerate launch --config_file recipes/accelerate/cpu_ddp.yaml tests/ddp_driver.py CONFIG [--key value]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import transformers  # noqa: E402


def rank_blind_generate(self, input_ids=None, attention_mask=None, generation_config=None, **kwargs):
    config = generation_config or self.generation_config
    eos = config.eos_token_id if isinstance(config.eos_token_id, int) else config.eos_token_id[0]
    pad = config.pad_token_id if config.pad_token_id is not None else eos
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    rows, width = input_ids.shape[0], kwargs.get("max_new_tokens") or config.max_new_tokens
    new = torch.full((rows, width), pad, dtype=input_ids.dtype)
    for i in range(rows):
        g = rank * rows + i  # the completion's index in the global batch
        prompt = int(input_ids[i][attention_mask[i].bool()].sum())
        length = 2 + (prompt + 5 * g) % (width - 2)
        new[i, :length] = torch.tensor([100 + (prompt * 31 + g * 17 + t * 13) % 900 for t in range(length)])
        new[i, length] = eos
    time.sleep(float(os.environ.get("DDP_GENERATE_SECONDS", "0")))  # room for a signal to land mid-run
    return torch.cat([input_ids, new.to(input_ids.device)], dim=1)


if __name__ == "__main__":  # only as the launched script: importing this module changes nothing
    transformers.GenerationMixin.generate = rank_blind_generate
    from recipes.errors import run_cli
    from recipes.grpo import main

    code = run_cli(main, sys.argv[1:])
    if os.environ.get("DDP_EXIT_DIR"):
        Path(os.environ["DDP_EXIT_DIR"], f"rank-{os.environ.get('RANK', '0')}").write_text(str(code))
    sys.exit(code)
