"""The learned rule's model (the rule itself: cleaning/rules/learned.py): a rectifier network turned exactly into linear constraints (Pan, Mehta & Srikumar, ACL 2020).

The network is t(x) = sign(1 − Σ_k ReLU(a_k·x + b_k)), +1 = clean. Because Σ_k ReLU(z_k) = max over subsets S
of Σ_{k∈S} z_k, t(x) = +1 exactly when every one of the 2^K − 1 inequalities

    (Σ_{k∈S} a_k)·x ≤ 1 − Σ_{k∈S} b_k        (S a non-empty subset of the K hidden units)

holds. The constraints file lists them with feature names, so a reader can see what the rule checks, and the
engine applies them as one matrix product per batch.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from cleaning.features import FEATURE_NAMES, pair_features
from cleaning.formats import read_versioned_json, write_json
from cleaning.views import PairBatch
from volctrans.errors import InputError
from volctrans.io import TsvRow, iter_tsv_rows
from volctrans.languages import check_pair

FORMAT = "volctrans-learned-constraints/1"
DEFAULT_FILE = "learned_default.json"
NEGATIVE_TYPES = ("misaligned", "glued", "truncated")


@dataclass
class RectifierNet:
    """Hidden-layer weights in raw feature units: a (K, d), b (K,)."""

    a: np.ndarray
    b: np.ndarray

    def margin(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - np.maximum(x @ self.a.T + self.b, 0.0).sum(axis=1)

    def decide(self, x: np.ndarray) -> np.ndarray:
        """True = clean (t(x) = +1; the boundary counts as clean, as the constraints' ≤ does)."""
        return self.margin(x) >= 0.0


@dataclass
class Constraints:
    """C x ≤ d, one row per non-empty subset of hidden units."""

    subsets: list[tuple[int, ...]]
    coefficients: np.ndarray  # (2^K − 1, d)
    bounds: np.ndarray  # (2^K − 1,)
    features: tuple[str, ...] = FEATURE_NAMES

    def violation(self, x: np.ndarray) -> np.ndarray:
        """max_j (C_j·x − d_j) per row: ≤ 0 means every constraint holds."""
        return (x @ self.coefficients.T - self.bounds).max(axis=1)

    def satisfied(self, x: np.ndarray) -> np.ndarray:
        return self.violation(x) <= 0.0


def to_constraints(net: RectifierNet) -> Constraints:
    k = len(net.b)
    subsets = [s for size in range(1, k + 1) for s in itertools.combinations(range(k), size)]
    coefficients = np.stack([net.a[list(s)].sum(axis=0) for s in subsets])
    bounds = np.array([1.0 - net.b[list(s)].sum() for s in subsets])
    return Constraints(subsets, coefficients, bounds)


def train(x: np.ndarray, y: np.ndarray, hidden: int = 4, epochs: int = 400, seed: int = 1,
          negative_weight: float = 1.0, lr: float = 0.03) -> RectifierNet:
    """Fit the rectifier net with a logistic loss on the margin; y = 1 clean, 0 noisy.

    Features are standardized for training and the scaling is folded back into a and b, so the network and
    its constraints read in raw feature units.
    """
    import torch

    torch.manual_seed(seed)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt = torch.tensor((x - mean) / std, dtype=torch.float64)
    sign = torch.tensor(np.where(y > 0, 1.0, -1.0), dtype=torch.float64)
    weight = torch.tensor(np.where(y > 0, 1.0, negative_weight), dtype=torch.float64)
    layer = torch.nn.Linear(x.shape[1], hidden).double()
    optimizer = torch.optim.Adam(layer.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        margin = 1.0 - torch.relu(layer(xt)).sum(dim=1)
        loss = (weight * torch.nn.functional.softplus(-sign * margin * 4.0)).mean()
        loss.backward()
        optimizer.step()
    a = layer.weight.detach().numpy() / std
    b = layer.bias.detach().numpy() - (layer.weight.detach().numpy() * (mean / std)).sum(axis=1)
    return RectifierNet(a, b)


def save(path: str | Path, net: RectifierNet, info: dict) -> None:
    constraints = to_constraints(net)
    doc = {
        "format": FORMAT,
        "comment": "keep a pair only if every constraint holds: sum(coefficients[f] * feature[f]) <= bound",
        "features": list(FEATURE_NAMES),
        "network": {"a": net.a.tolist(), "b": net.b.tolist()},
        "training": info,
        "constraints": [
            {"hidden_units": list(s), "bound": round(float(d), 6),
             "coefficients": {name: round(float(c), 6) for name, c in zip(FEATURE_NAMES, row)}}
            for s, row, d in zip(constraints.subsets, constraints.coefficients, constraints.bounds)
        ],
    }
    write_json(path, doc, readable=True)


def load(path: str | Path) -> Constraints:
    """Read the constraints (not the network: the file's constraints are what the rule applies)."""
    doc = read_versioned_json(path, FORMAT, "learned constraints")
    if tuple(doc["features"]) != FEATURE_NAMES:
        raise InputError(str(path), None, f"features {doc['features']} differ from this version's {list(FEATURE_NAMES)}")
    rows = doc["constraints"]
    return Constraints([tuple(r["hidden_units"]) for r in rows],
                       np.array([[r["coefficients"][f] for f in FEATURE_NAMES] for r in rows]),
                       np.array([r["bound"] for r in rows]))


def load_network(path: str | Path) -> RectifierNet:
    doc = read_versioned_json(path, FORMAT, "learned constraints")
    return RectifierNet(np.array(doc["network"]["a"]), np.array(doc["network"]["b"]))


def default_path() -> Path:
    return Path(str(resources.files("cleaning").joinpath(DEFAULT_FILE)))


def training_data(pairs: Sequence[tuple[str, str]], src_lang: str, tgt_lang: str, seed: int,
                  negatives_per_positive: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Features of clean pairs (label 1) and of misaligned/glued/truncated corruptions of them (label 0)."""
    from cleaning.corrupt import Corruptor
    from cleaning.normalize import NormalizeParams, Normalizer
    from cleaning.text import is_unspaced

    rng = random.Random(seed)
    corrupt = Corruptor(pairs, rng, unspaced=is_unspaced(tgt_lang))
    noisy = []
    for i in range(int(len(pairs) * negatives_per_positive)):
        j = rng.randrange(len(pairs))
        made = corrupt(NEGATIVE_TYPES[i % len(NEGATIVE_TYPES)], j, pairs[j])
        if made is not None:
            noisy.append(made)
    # Features are computed on normalized text, as the engine sees it.
    normalize_src, normalize_tgt = Normalizer(NormalizeParams(), src_lang), Normalizer(NormalizeParams(), tgt_lang)
    feats = []
    for group in (pairs, noisy):
        src = normalize_src([p[0] for p in group])
        tgt = normalize_tgt([p[1] for p in group])
        feats.append(pair_features(PairBatch.of(src, tgt, src_lang, tgt_lang)))
    return np.concatenate(feats), np.concatenate([np.ones(len(pairs)), np.zeros(len(noisy))])


MIN_PAIRS = 20  # clean pairs per language pair below which no corruptions (and no training set) can be made


@dataclass
class LearnConfig:
    """`volctrans clean-learn`: which clean pairs to learn from, where the constraints go, the network's size."""

    data: list[str]  # clean pairs as SRC-TGT:PATH (TSV), one entry per language pair
    output: str  # constraints file (JSON)
    hidden: int = 4  # hidden ReLU units K (2^K − 1 constraints)
    max_pairs: int = 5000  # clean pairs sampled per language pair
    epochs: int = 400
    negative_weight: float = 1.0  # loss weight of corrupted pairs (< 1 keeps more clean pairs)
    seed: int = 1

    def sources(self) -> list[tuple[str, str, str]]:
        """(src, tgt, path) of each `data` entry; None for an entry that is not SRC-TGT:PATH."""
        out = []
        for item in self.data:
            langs, _, path = item.partition(":")
            src, _, tgt = langs.partition("-")
            out.append((src, tgt, path) if src and tgt and path else None)
        return out

    def validate(self) -> list[str]:
        problems = [f"data: expected SRC-TGT:PATH, e.g. en-de:train.tsv, got {item!r}"
                    for item, source in zip(self.data, self.sources()) if source is None]
        if not self.data:
            problems.append("data: give at least one SRC-TGT:PATH")
        if not 1 <= self.hidden <= 10:
            problems.append("hidden: must be between 1 and 10 (2^K − 1 constraints)")
        return problems


def learn(config: LearnConfig) -> dict:
    """Train the rectifier net on the clean pairs of `config.data` and their corruptions, write its constraints.

    Returns the training record saved in the file, plus the number of constraints and how often the constraints
    and the network agree on the training features (1.0: the conversion is exact).
    """
    xs, ys = [], []
    sources = config.sources()
    for src, tgt, _ in sources:  # every language is checked before any file is read
        check_pair(f"{src}-{tgt}")
    for src, tgt, path in sources:
        pairs = [(row.source, row.target) for row in iter_tsv_rows(path, strict=False) if isinstance(row, TsvRow)]
        if len(pairs) < MIN_PAIRS:  # corruptions (misaligned, glued) are made from other pairs of the same file
            raise InputError(path, None, f"{len(pairs)} well-formed pairs; clean-learn needs at least {MIN_PAIRS}")
        random.Random(config.seed).shuffle(pairs)
        x, y = training_data(pairs[: config.max_pairs], src, tgt, config.seed)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    net = train(x, y, hidden=config.hidden, epochs=config.epochs, seed=config.seed,
                negative_weight=config.negative_weight)
    constraints = to_constraints(net)
    decided = net.decide(x)
    info = {"data": list(config.data), "pairs": int(len(y)), "hidden": config.hidden, "epochs": config.epochs,
            "seed": config.seed, "negative_weight": config.negative_weight, "negatives": list(NEGATIVE_TYPES),
            "train_clean_kept": round(float(decided[y > 0].mean()), 4),
            "train_noisy_rejected": round(float((~decided)[y == 0].mean()), 4)}
    save(config.output, net, info)
    return {**info, "constraints": len(constraints.subsets),
            "network_constraint_agreement": float((decided == constraints.satisfied(x)).mean())}
