"""Sampling from ``generate``'s scores without ``torch.multinomial``: the same distribution, one draw per sequence.

``generate(do_sample=True)`` applies its warpers (temperature, top-k, top-p, min-p), takes
the softmax and calls ``torch.multinomial``, which on CPU draws an exponential variate for
every entry of the 49k vocabulary at every step: 28 ms of a 183 ms decode step on the CPU
demo (bench/NOTES.md). `InverseCdfSampler` applies transformers' own warpers in the same
order, then draws with one uniform number per sequence against the cumulative
probabilities, and hands ``generate`` a score that is finite only at the drawn token, so
``generate`` runs greedy and its argmax picks it. `recipes.cpu_generation` uses it.
"""

from __future__ import annotations

import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)


def sampling_warpers(temperature: float, top_k: int | None = None, top_p: float | None = None,
                     min_p: float | None = None) -> LogitsProcessorList:
    """transformers' own warpers, in the order ``generate`` applies them when sampling
    (``GenerationMixin._get_logits_processor``, transformers 5.17)."""
    warpers = LogitsProcessorList()
    if temperature is not None and temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(temperature))
    if top_k:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p is not None and top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    if min_p is not None:
        warpers.append(MinPLogitsWarper(min_p))
    return warpers


class InverseCdfSampler(LogitsProcessor):
    """Draw each sequence's next token from softmax(warped scores); return scores finite only there.

    Same distribution as ``generate``'s ``do_sample=True`` (``torch.multinomial`` on the softmax),
    one ``torch.rand`` number per sequence instead of an exponential per vocabulary entry, from
    torch's seeded generator. Run ``generate`` greedy (``do_sample=False``) with this last in
    its ``logits_processor`` list. Written here because transformers offers no other sampler.
    """

    def __init__(self, temperature: float, top_k: int | None = None, top_p: float | None = None,
                 min_p: float | None = None):
        self.warpers = sampling_warpers(temperature, top_k, top_p, min_p)

    def draw(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.LongTensor:
        probs = torch.softmax(self.warpers(input_ids, scores), dim=-1, dtype=torch.float64)
        cdf = probs.cumsum(dim=-1)  # float64: its rounding stays far below what any test of the draws could see
        u = torch.rand(cdf.shape[0], 1, dtype=torch.float64, device=cdf.device) * cdf[:, -1:]
        tokens = torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.shape[-1] - 1)
        ruled_out = probs.gather(1, tokens) == 0  # u * total rounded up to the total: a token the warpers removed
        if ruled_out.any():
            tokens = torch.where(ruled_out, probs.argmax(dim=-1, keepdim=True), tokens)
        return tokens

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        tokens = self.draw(input_ids, scores)
        return torch.full_like(scores, float("-inf")).scatter_(1, tokens, 0.0)


# Warpers ``generate`` applies when a generation config sets them, and this sampler does not.
_OTHER_WARPERS = {"typical_p": lambda v: v is not None and v < 1.0, "top_h": lambda v: v is not None,
                  "epsilon_cutoff": lambda v: v is not None and 0 < v < 1, "eta_cutoff": lambda v: v is not None and 0 < v < 1,
                  "watermarking_config": lambda v: v is not None}


def sampler_for(configs: list, temperature: float, top_k: int | None, top_p: float | None,
                min_p: float | None) -> InverseCdfSampler | None:
    """The sampler equal to ``generate(do_sample=True)`` with these settings over ``configs`` (generation
    configs, the call's first, then the model's): an unset min_p comes from them, as ``generate`` fills
    unset values (``_prepare_generation_config``). None where one of them asks for a warper it lacks."""
    configs = [c for c in configs if c is not None]
    if any(bad(getattr(c, name, None)) for c in configs for name, bad in _OTHER_WARPERS.items()):
        return None
    if min_p is None:
        min_p = next((c.min_p for c in configs if getattr(c, "min_p", None) is not None), None)
    return InverseCdfSampler(temperature, top_k, top_p, min_p)


def generate_kwargs(temperature: float, top_p: float = 1.0, top_k: int | None = None,
                    min_p: float | None = None, model_config=None) -> dict:
    """``model.generate`` keyword arguments for one way of decoding: greedy, or sampled by `InverseCdfSampler`
    (or by ``generate``'s own sampling where the model's generation config asks for a warper it lacks)."""
    greedy = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None, "min_p": None}
    if temperature <= 0:
        return greedy
    sampler = sampler_for([model_config], temperature, top_k, top_p, min_p)
    if sampler is None:
        return {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": top_k, "min_p": min_p}
    return {**greedy, "logits_processor": LogitsProcessorList([sampler])}
