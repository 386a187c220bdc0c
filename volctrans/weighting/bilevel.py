"""First-order bilevel data reweighting (ScaleBiO penalty method), as pure tensor functions.

Weights over groups (sources, or sources × pairs) are p = softmax(λ). With the penalty formulation

    min_{w, λ}  L1(w) + α · ( L2(w, λ) − min_u L2(u, λ) ),     L2(θ, λ) = Σ_i p_i ℓ_i(θ)

(L1: loss on a trusted dev set; ℓ_i: mean training loss of group i), the gradient with respect to λ is

    ∂/∂λ = α · Jᵀ (ℓ(w) − ℓ(u)),     J = ∂p/∂λ = diag(p) − p pᵀ   (symmetric)

so a group whose loss the dev-guided model w keeps higher than the training-only model u can reach (it pulls away
from what the dev set wants) loses weight. Only groups present in the current batch contribute.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class BilevelConfig:
    mode: str = "loss"  # loss: weights scale per-source losses (default, exact λ-gradient) | sampling: drive sampling
    group: str = "source"  # source | source_pair: one weight per source, or per source × language pair
    alpha: float = 10.0  # penalty weight α; w minimises L2 + L1/α
    alpha_max: float = 100.0
    alpha_growth: float = 1.0  # α ×= growth every alpha_growth_every updates (1.0: constant)
    alpha_growth_every: int = 0
    lambda_lr: float = 0.05  # step size for λ (weights are softmax(λ))
    lambda_optimizer: str = "sgd"  # sgd: λ -= lambda_lr · gradient (the step grows with α) | adam: Adam, step ≈ lambda_lr
    inner_lr_scale: float = 1.0  # u's Adam step size = this × w's scheduled learning rate × interval
    interval: int = 1  # update u and λ every N updates: N > 1 is faster, but u then lags w and biases λ (docs/training.md)
    # mode sampling: examples drawn per epoch; each epoch's draw follows the weights learned so far (0: fairseq's
    # default size, about one pass over the data at the start's temperature ratios)
    sampling_epoch_size: int = 0
    dev_max_tokens: int = 1024  # tokens per trusted-dev batch for L1
    log_interval: int = 50
    lisa_layers: int = 0  # > 0: only this many random transformer layers trainable at a time (no gradients for the rest)
    lisa_interval: int = 50

    def validate(self) -> list[str]:
        problems = []
        if self.mode not in ("loss", "sampling"):
            problems.append("mode: must be loss or sampling")
        if self.lambda_optimizer not in ("sgd", "adam"):
            problems.append("lambda_optimizer: must be sgd or adam")
        if self.sampling_epoch_size < 0:
            problems.append("sampling_epoch_size: must be ≥ 0")
        if self.sampling_epoch_size and self.mode != "sampling":
            problems.append("sampling_epoch_size: only used with mode: sampling")
        if self.group not in ("source", "source_pair"):
            problems.append("group: must be source or source_pair")
        if self.alpha <= 0 or self.alpha_max < self.alpha:
            problems.append("alpha: must be > 0 and ≤ alpha_max")
        if self.interval < 1 or self.dev_max_tokens < 1 or self.log_interval < 1 or self.lisa_interval < 1:
            problems.append("interval, dev_max_tokens, log_interval, lisa_interval: must be ≥ 1")
        if self.lisa_layers < 0:
            problems.append("lisa_layers: must be ≥ 0")
        return problems


def softmax_jacobian(p: torch.Tensor) -> torch.Tensor:
    """J[i, j] = ∂p_i/∂λ_j = p_i (δ_ij − p_j) for p = softmax(λ)."""
    return torch.diag(p) - torch.outer(p, p)


def lambda_gradient(lam: torch.Tensor, loss_w: torch.Tensor, loss_u: torch.Tensor, alpha: float,
                    present: torch.Tensor | None = None) -> torch.Tensor:
    """α · Jᵀ (ℓ(w) − ℓ(u)); groups absent from the batch (present[i] False) contribute no loss difference."""
    p = torch.softmax(lam, dim=0)
    difference = loss_w - loss_u
    if present is not None:
        difference = torch.where(present, difference, torch.zeros_like(difference))
    return alpha * softmax_jacobian(p).T @ difference


def penalty(lam: torch.Tensor, loss_w: torch.Tensor, loss_u: torch.Tensor, alpha: float) -> torch.Tensor:
    """The λ-dependent part of the penalty objective, α (L2(w, λ) − L2(u, λ)); its autograd gradient is the reference."""
    p = torch.softmax(lam, dim=0)
    return alpha * (p @ loss_w - p @ loss_u)


def alpha_at(update: int, alpha: float, alpha_max: float, growth: float, growth_every: int) -> float:
    """α grows geometrically (×growth every growth_every updates) up to alpha_max: the penalty tightens over time."""
    if growth_every <= 0 or growth == 1.0:
        return alpha
    return min(alpha_max, alpha * growth ** (update // growth_every))


def inner_lr(w_lr: float, inner_lr_scale: float, interval: int) -> float:
    """u's Adam step size: inner_lr_scale × w's scheduled rate × interval. u steps once per `interval` updates of w;
    an Adam step moves each weight by ~lr whatever the gradient's size, so the factor keeps u as far along as w."""
    return w_lr * inner_lr_scale * interval


def log_due(update_num: int, log_interval: int, interval: int) -> bool:
    """Whether the outer (λ) step at 0-based `update_num` is logged: the first update and the first outer step of
    every `log_interval` window. Outer steps fall on multiples of `interval`, so with interval > 1 an exact
    multiple of log_interval may never be one (interval 2, log_interval 20 logged nothing after update 1)."""
    return update_num == 0 or (update_num + 1) % log_interval < interval
