"""The diversity step: random projection of gradients, k-means, resampling across clusters (pure)."""

from __future__ import annotations

import math

import numpy as np
import torch

from volctrans.errors import VolctransError


class RandomProjection:
    """x ↦ x R / √k with R a seeded D×k Gaussian matrix generated in row blocks (same R for the same seed)."""

    def __init__(self, dim: int, k: int, seed: int, block: int = 65536):
        generator = torch.Generator().manual_seed(seed)
        blocks = [torch.randn(min(block, dim - start), k, generator=generator) for start in range(0, dim, block)]
        self.matrix = torch.cat(blocks) / math.sqrt(k)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() @ self.matrix


def cluster(features: np.ndarray, clusters: int, seed: int) -> tuple[np.ndarray, object]:
    """k-means (MiniBatchKMeans) on L2-normalised rows; returns labels and the fitted model."""
    from sklearn.cluster import MiniBatchKMeans

    normalised = _normalise(features)
    k = max(1, min(clusters, len(normalised)))
    kmeans = MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=1024, n_init=3)
    labels = kmeans.fit_predict(normalised)
    return labels.astype(np.int64), kmeans


def _normalise(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


def resample(scores: np.ndarray, labels: np.ndarray, budget: int, method: str = "round_robin") -> np.ndarray:
    """Indices (into scores/labels) of at most `budget` candidates spread over clusters, most beneficial first.

    round_robin: take the best remaining example of each cluster in turn (cluster id order) until the budget is
    filled or all clusters are exhausted: clusters contribute equally, small clusters are kept whole.
    proportional: each cluster gets a share of the budget proportional to its size (largest remainder).
    Within a cluster, lower (more negative) influence comes first; ties by index, so the result is deterministic.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    ids = sorted(set(labels.tolist()))
    members = {c: sorted(np.flatnonzero(labels == c).tolist(), key=lambda i: (scores[i], i)) for c in ids}
    budget = min(budget, len(scores))
    chosen: list[int] = []
    if method == "round_robin":
        depth = 0
        while len(chosen) < budget:
            took = False
            for c in ids:
                if depth < len(members[c]):
                    chosen.append(members[c][depth])
                    took = True
                    if len(chosen) == budget:
                        break
            if not took:
                break
            depth += 1
    elif method == "proportional":
        total = len(scores)
        exact = {c: budget * len(members[c]) / total for c in ids}
        quota = {c: int(exact[c]) for c in ids}
        for c in sorted(ids, key=lambda c: (-(exact[c] - quota[c]), c))[: budget - sum(quota.values())]:
            quota[c] += 1
        for c in ids:
            chosen.extend(members[c][: quota[c]])
    else:
        raise VolctransError(f"unknown resample method {method!r}")
    return np.array(sorted(chosen), dtype=np.int64)


def budget_count(budget: float, rows: int) -> int:
    return min(rows, int(budget) if budget >= 1 else int(round(budget * rows)))


# ---------------------------------------------------------------------------------------------------------------
