"""Fisher, preconditioning and influence (pure tensor maths)."""

from __future__ import annotations

import torch


def diagonal_fisher(sum_squares: torch.Tensor, count: int) -> torch.Tensor:
    """Empirical diagonal Fisher: the mean of squared per-example gradients."""
    return sum_squares / max(1, count)


def precondition(seed_gradient: torch.Tensor, fisher: torch.Tensor | None, damping: float) -> torch.Tensor:
    """v = (F + λI)⁻¹ ḡ with λ = damping · mean(diag F); F = None is the identity (v = ḡ)."""
    if fisher is None:
        return seed_gradient.clone()
    lam = damping * float(fisher.mean())
    denominator = fisher + lam
    if lam == 0:
        denominator = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return seed_gradient / denominator


def influence(grads: torch.Tensor, preconditioned_seed: torch.Tensor) -> torch.Tensor:
    """−g(z)ᵀ(F + λI)⁻¹ḡ_seed per row of grads: negative = the example lowers the seed loss (beneficial)."""
    return -(grads.double() @ preconditioned_seed.double())
