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


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Each row scaled to unit L2 length (a zero row stays zero)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-30)


class Moments:
    """Running mean and mean square (the empirical diagonal Fisher) of per-example gradients, in float64."""

    def __init__(self, dim: int):
        self.count = 0
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.squares = torch.zeros(dim, dtype=torch.float64)

    def add(self, grads: torch.Tensor) -> None:
        grads = grads.double()
        self.count += len(grads)
        self.total += grads.sum(0)
        self.squares += grads.pow(2).sum(0)

    @property
    def mean(self) -> torch.Tensor:
        return self.total / max(1, self.count)

    @property
    def fisher(self) -> torch.Tensor:
        return diagonal_fisher(self.squares, self.count)


class SeedDirection:
    """s = mean over seed examples q of u(q), where u(q) = g(q) − μ (μ = the pool-mean gradient when centring, else
    0), scaled to unit length when normalising (LESS: the mean of the cosines is the cosine with this mean)."""

    def __init__(self, dim: int, centre: torch.Tensor | None = None, normalise: bool = False):
        self.centre = centre.double() if centre is not None else None
        self.normalise = normalise
        self.count = 0
        self.total = torch.zeros(dim, dtype=torch.float64)

    def add(self, grads: torch.Tensor) -> None:
        u = _transform(grads, self.centre, self.normalise)
        self.count += len(u)
        self.total += u.sum(0)

    @property
    def value(self) -> torch.Tensor:
        return self.total / max(1, self.count)


def _transform(grads: torch.Tensor, centre: torch.Tensor | None, normalise: bool) -> torch.Tensor:
    u = grads.double()
    if centre is not None:
        u = u - centre
    return unit_rows(u) if normalise else u


class InfluenceScore:
    """score(z) = −u(z)ᵀ (F + λI)⁻¹ s, with u and s as in SeedDirection (same centre, same normalisation).

    Without centring and normalising this is `influence` (the G-DIG score). Centring removes the direction that
    all pool gradients share (after fine-tuning on the pool it is ≈ 0 anyway); normalising makes the score a
    cosine, so that large gradients (high-loss, noisy or short pairs) no longer dominate it. Negative = beneficial.
    """

    def __init__(self, seed_direction: torch.Tensor, fisher: torch.Tensor | None, damping: float,
                 centre: torch.Tensor | None = None, normalise: bool = False):
        self.v = precondition(seed_direction.double(), fisher, damping).double()
        self.centre = centre.double() if centre is not None else None
        self.normalise = normalise

    def transform(self, grads: torch.Tensor) -> torch.Tensor:
        """u(z): the gradients as the score sees them (centred and/or unit length), float64."""
        return _transform(grads, self.centre, self.normalise)

    def scores(self, transformed: torch.Tensor) -> torch.Tensor:
        return -(transformed @ self.v)

    def __call__(self, grads: torch.Tensor) -> torch.Tensor:
        return self.scores(self.transform(grads))
