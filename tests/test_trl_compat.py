"""The CPU stand-in for TRL's Triton log-prob kernel computes the same numbers as plain logits."""

from __future__ import annotations

import torch

from recipes.trl_compat import TorchChunkedLogProb


def test_matches_log_softmax_of_the_lm_head_and_has_gradients():
    torch.manual_seed(0)
    hidden = torch.randn(5, 8, requires_grad=True)
    weight = torch.randn(11, 8)
    targets = torch.tensor([0, 3, 10, 7, 7])
    logp, entropy, _, mean_logits, top1 = TorchChunkedLogProb.apply(hidden, weight, None, targets, 0.7, 4096)

    logits = (hidden @ weight.t()) / 0.7
    expected = torch.log_softmax(logits, -1)
    assert torch.allclose(logp, expected.gather(-1, targets[:, None]).squeeze(-1), atol=1e-5)
    assert torch.allclose(entropy, -(expected.exp() * expected).sum(-1), atol=1e-5)
    assert torch.allclose(mean_logits, logits.mean(-1), atol=1e-5)
    assert torch.equal(top1, logits.argmax(-1) == targets)
    logp.sum().backward()
    assert hidden.grad is not None and hidden.grad.abs().sum() > 0


def test_optional_outputs_can_be_skipped():
    out = TorchChunkedLogProb.apply(torch.randn(2, 4), torch.randn(6, 4), None, torch.tensor([1, 2]), 1.0, 64,
                                    outputs=())
    assert out[0].shape == (2,) and all(x is None for x in out[1:])
