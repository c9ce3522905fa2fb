"""recipes.cpu_sampling: the inverse-CDF draw samples the distribution ``generate(do_sample=True)`` samples."""

from __future__ import annotations

import pytest
import torch

from recipes import cpu_sampling


def chi_square_p(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """Pearson's goodness-of-fit p-value (scipy is not a dependency: torch's regularized gamma instead)."""
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    stat = ((counts[keep] - expected) ** 2 / expected).sum()
    dof = torch.tensor(float(keep.sum() - 1), dtype=torch.float64)
    return float(torch.special.gammaincc(dof / 2, stat / 2))


@pytest.mark.parametrize("warp", [{"temperature": 0.6}, {"temperature": 1.0, "top_k": 5},
                                  {"temperature": 0.8, "top_p": 0.7}, {"temperature": 0.7, "min_p": 0.1}])
def test_inverse_cdf_sampler_draws_the_distribution_generate_samples_from(warp):
    torch.manual_seed(0)
    vocab, draws = 40, 40_000
    scores = torch.randn(1, vocab) * 2
    sampler = cpu_sampling.InverseCdfSampler(**warp)
    warped = cpu_sampling.sampling_warpers(**warp)(None, scores.clone())
    probs = torch.softmax(warped, dim=-1, dtype=torch.float64)[0]  # what do_sample=True hands torch.multinomial
    tokens = sampler.draw(None, scores.expand(draws, vocab).clone())[:, 0]
    counts = torch.bincount(tokens, minlength=vocab).double()
    assert counts[probs == 0].sum() == 0  # never a token the warpers ruled out
    assert chi_square_p(counts, probs) > 1e-3
    reference = torch.bincount(torch.multinomial(probs.float().expand(draws, vocab), 1)[:, 0], minlength=vocab)
    assert chi_square_p(reference.double(), probs) > 1e-3  # the test's own yardstick passes torch's sampler too


def test_inverse_cdf_sampler_finds_a_wrong_distribution():
    """The test above can fail: the same draws checked against a neighbouring distribution."""
    torch.manual_seed(0)
    scores = torch.randn(1, 40) * 2
    tokens = cpu_sampling.InverseCdfSampler(0.6).draw(None, scores.expand(40_000, 40).clone())[:, 0]
    counts = torch.bincount(tokens, minlength=40).double()
    assert chi_square_p(counts, torch.softmax(scores[0] / 0.7, dim=-1, dtype=torch.float64)) < 1e-6


def test_the_sampler_takes_unset_settings_from_the_generation_config_and_steps_aside_for_other_warpers():
    from transformers import GenerationConfig

    sampler = cpu_sampling.sampler_for([None, GenerationConfig(min_p=0.05)], 0.6, 0, 1.0, None)
    assert [type(w).__name__ for w in sampler.warpers] == ["TemperatureLogitsWarper", "MinPLogitsWarper"]
    assert cpu_sampling.sampler_for([GenerationConfig(typical_p=0.9)], 0.6, 0, 1.0, None) is None
    kwargs = cpu_sampling.generate_kwargs(0.6, model_config=GenerationConfig(typical_p=0.9))
    assert kwargs["do_sample"] is True and "logits_processor" not in kwargs  # generate's own sampling instead
