"""Registry of weighting schemes: each maps the config and per-key sizes to fairseq-train arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from volctrans.errors import VolctransError


@dataclass
class WeightingScheme:
    name: str
    description: str
    # (config, fairseq dataset keys "category:src-tgt", name of the "main" category's source) -> fairseq arguments
    fairseq_args: Callable[..., list[str]]


SCHEMES: dict[str, WeightingScheme] = {}


def register_scheme(name: str, description: str):
    def decorator(function):
        SCHEMES[name] = WeightingScheme(name, description, function)
        return function

    return decorator


def get_scheme(name: str) -> WeightingScheme:
    if name not in SCHEMES:
        raise VolctransError(f"unknown weighting '{name}' (known: {', '.join(sorted(SCHEMES))})")
    return SCHEMES[name]


@register_scheme("uniform", "every source × pair sampled equally")
def _uniform(config, keys: list[str], main_source: str) -> list[str]:
    return ["--sampling-method", "uniform"]


@register_scheme("temperature", "p ∝ n^(1/T) over sources × pairs")
def _temperature(config, keys: list[str], main_source: str) -> list[str]:
    return ["--sampling-method", "temperature", "--sampling-temperature", str(config.temperature)]


def expand_fixed_weights(weights: dict[str, float], keys: list[str]) -> dict[str, float]:
    """Weights may name a source ('gettext'), a key ('gettext:en-de') or a pair ('en-de'); the most specific wins."""
    expanded = {}
    missing = []
    for key in keys:
        source, pair = key.split(":", 1)
        value = weights.get(key, weights.get(source, weights.get(pair)))
        if value is None:
            missing.append(key)
        else:
            expanded[key] = float(value)
    if missing:
        raise VolctransError("weights_file: no weight for " + ", ".join(missing))
    known = set(keys) | {k.split(":", 1)[0] for k in keys} | {k.split(":", 1)[1] for k in keys}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise VolctransError("weights_file: unknown sources/keys " + ", ".join(unknown))
    return expanded


@register_scheme("fixed", "weights read from a YAML/JSON file (per source, pair or source:pair)")
def _fixed(config, keys: list[str], main_source: str) -> list[str]:
    import yaml

    if not config.weights_file:
        raise VolctransError("weighting: fixed needs weights_file")
    weights = yaml.safe_load(Path(config.weights_file).read_text(encoding="utf-8")) or {}
    if not isinstance(weights, dict):
        raise VolctransError(f"{config.weights_file}: expected a mapping of source → weight")
    # fairseq calls the first source "main"; users name it by its corpus name.
    by_source = {key: key.replace("main:", f"{main_source}:", 1) if key.startswith("main:") else key for key in keys}
    expanded = expand_fixed_weights(weights, list(by_source.values()))
    return ["--sampling-weights", json.dumps({key: expanded[by_source[key]] for key in keys})]


@register_scheme("bilevel", "weights learned by first-order bilevel optimization against a trusted dev set")
def _bilevel(config, keys: list[str], main_source: str) -> list[str]:
    bilevel = config.bilevel
    # Loss mode samples every key uniformly so each batch carries all sources and the loss weights act exactly;
    # sampling mode draws every epoch with the learned weights per source, split over a source's pairs by the
    # temperature ratios (the task fixes the epoch size).
    if bilevel.mode == "loss":
        sampling = ["--sampling-method", "uniform"]
    else:
        sampling = ["--sampling-method", "temperature", "--sampling-temperature", str(config.temperature)]
        if bilevel.sampling_epoch_size:
            sampling += ["--virtual-data-size", str(bilevel.sampling_epoch_size)]
    lisa = []
    if bilevel.lisa_layers > 0:
        # LISA freezes layers after DDP has registered them: DDP must then tolerate parameters without gradients.
        lisa.append("--find-unused-parameters")
        if config.precision == "fp16":
            # The flat fp16 buffer would receive only the trainable layers' gradients, at the wrong offsets.
            lisa.append("--fp16-no-flatten-grads")
    return sampling + lisa + [
        "--bilevel",
        "--bilevel-mode", bilevel.mode,
        "--bilevel-group", bilevel.group,
        "--bilevel-alpha", str(bilevel.alpha),
        "--bilevel-alpha-max", str(bilevel.alpha_max),
        "--bilevel-alpha-growth", str(bilevel.alpha_growth),
        "--bilevel-alpha-growth-every", str(bilevel.alpha_growth_every),
        "--bilevel-lambda-lr", str(bilevel.lambda_lr),
        "--bilevel-lambda-optimizer", bilevel.lambda_optimizer,
        "--bilevel-inner-lr-scale", str(bilevel.inner_lr_scale),
        "--bilevel-interval", str(bilevel.interval),
        "--bilevel-dev-max-tokens", str(bilevel.dev_max_tokens),
        "--bilevel-log-interval", str(bilevel.log_interval),
        "--lisa-layers", str(bilevel.lisa_layers),
        "--lisa-interval", str(bilevel.lisa_interval),
    ]
