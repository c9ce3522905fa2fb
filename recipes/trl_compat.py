"""CPU fallback for TRL 1.15's fused LM-head log-prob kernel.

TRL 1.15's SFT and GRPO trainers compute per-token log-probs through
``trl.kernels.ChunkedLogProbFunction``, a Triton kernel; on a CPU-only torch
(no Triton) ``trl.trainer.utils._ChunkedLogProbFunction`` is ``None`` and the
first training step dies with "'NoneType' object has no attribute 'apply'".
TRL 1.16 adds its own torch fallback, but Unsloth 2026.10.7 caps trl at 1.15.0
and we run one trl on CPU and GPU. So on machines without Triton we install
this plain-autograd equivalent (same arguments, same five outputs). It
materializes the [tokens, vocab] logits, which is fine for the small models a
CPU trains. Remove it once the GPU stack allows trl >= 1.16.
"""

from __future__ import annotations

import torch


class TorchChunkedLogProb:
    """Same call as ``ChunkedLogProbFunction.apply``; differentiable through ordinary torch ops."""

    @staticmethod
    def apply(hidden, weight, bias, targets, temperature, chunk_size, softcap=None, logit_scale=1.0,
              outputs=("entropy", "log_sum_sq_probs", "mean_logits", "is_top1")):
        z = hidden @ weight.t()
        if bias is not None:
            z = z + bias
        z = z.float() * logit_scale
        if softcap is not None:
            z = softcap * torch.tanh(z / softcap)
        z = z / temperature
        logp = torch.log_softmax(z, dim=-1)
        token_logp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        entropy = -(logp.exp() * logp).sum(-1) if "entropy" in outputs else None
        log_sum_sq = torch.logsumexp(2 * logp, dim=-1) if "log_sum_sq_probs" in outputs else None
        mean_logits = z.mean(-1) if "mean_logits" in outputs else None
        is_top1 = z.argmax(-1) == targets if "is_top1" in outputs else None  # argmax: first maximum wins ties
        return token_logp, entropy, log_sum_sq, mean_logits, is_top1


def ensure_logprob_kernel() -> bool:
    """Install the torch fallback when TRL's Triton kernel could not be imported; True if installed."""
    import trl.trainer.utils as trl_utils

    if getattr(trl_utils, "_ChunkedLogProbFunction", None) is None:
        trl_utils._ChunkedLogProbFunction = TorchChunkedLogProb
        return True
    return False
