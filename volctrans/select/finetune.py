"""G-DIG's step 1: fine-tune the model on the candidate pool before scoring it.

G-DIG (and its reference implementation) scores with a model that has been trained on the candidate pool, and
estimates the Hessian from pool gradients. This is a short in-process fine-tune of the already loaded model with
the checkpoint's own recipe, read from its cfg: fairseq's label-smoothed cross-entropy (its epsilon), the model's
dropout (train mode), Adam with its β, ε and weight decay, its clip norm and max_tokens, batches made by fairseq's
`batch_by_size` (token budget, similar lengths together), a fresh Adam state and an inverse-sqrt schedule with a
linear warm-up, as `init_from` fine-tuning in `volctrans train` has. Why in process, not `volctrans prepare
--vocab-from` + `volctrans train --init_from`: it works for every checkpoint `select` can score (no saved train
config, no corpus folder; `prepare --vocab-from` would refuse a one-pair pool for a multilingual model because the
language tokens would not line up), it costs no second start-up of fairseq nor a re-encoding of the pool, and the
fine-tuned weights go straight to scoring. `finetune.save` keeps them for reuse.
"""

from __future__ import annotations

import ast
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from volctrans.errors import VolctransError
from volctrans.io import atomic_write
from volctrans.select.config import FinetuneConfig
from volctrans.select.model import LoadedModel, collate

logger = logging.getLogger(__name__)


@dataclass
class Recipe:
    """The training settings a fine-tune uses (from the checkpoint's cfg, overridden by FinetuneConfig)."""

    lr: float
    warmup_updates: int
    max_tokens: int
    label_smoothing: float = 0.0
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    weight_decay: float = 0.0
    clip_norm: float = 0.0


@dataclass
class FinetuneResult:
    updates: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # per update: label-smoothed loss per target token (nats)


def _section(cfg: dict, name: str) -> dict:
    section = cfg.get(name) or {}
    return dict(section) if isinstance(section, dict) else dict(vars(section))


def checkpoint_lr(cfg: dict, num_updates: int) -> float | None:
    """The learning rate the checkpoint's own schedule had reached at its last update (None if it does not say)."""
    scheduler = _section(cfg, "lr_scheduler")
    lr = scheduler.get("lr") or _section(cfg, "optimization").get("lr")
    if not lr:
        return None
    peak = float(lr[0] if isinstance(lr, (list, tuple)) else lr)
    warmup = int(scheduler.get("warmup_updates") or 0)
    if scheduler.get("_name") == "inverse_sqrt" and num_updates > 0 and warmup > 0:
        return peak * min(num_updates / warmup, math.sqrt(warmup / num_updates))
    return peak


def recipe(loaded: LoadedModel, config: FinetuneConfig) -> Recipe:
    cfg = loaded.cfg
    lr = config.lr if config.lr is not None else checkpoint_lr(cfg, loaded.num_updates)
    if lr is None:
        raise VolctransError("finetune.lr: the checkpoint records no learning rate; set finetune.lr")
    optimizer = _section(cfg, "optimizer")
    betas = optimizer.get("adam_betas", (0.9, 0.98))
    if isinstance(betas, str):
        betas = ast.literal_eval(betas)
    return Recipe(
        lr=float(lr),
        warmup_updates=config.warmup_updates or max(1, config.updates // 10),
        max_tokens=int(config.max_tokens or _section(cfg, "dataset").get("max_tokens") or 4096),
        label_smoothing=float(_section(cfg, "criterion").get("label_smoothing", 0.0) or 0.0),
        betas=(float(betas[0]), float(betas[1])),
        eps=float(optimizer.get("adam_eps", 1e-8)),
        weight_decay=float(optimizer.get("weight_decay", 0.0) or 0.0),
        clip_norm=float(_section(cfg, "optimization").get("clip_norm", 0.0) or 0.0),
    )


def inverse_sqrt_lr(step: int, peak: float, warmup: int) -> float:
    """fairseq's inverse_sqrt: linear warm-up to `peak` over `warmup` updates, then peak·√(warmup/step)."""
    return peak * min(step / warmup, math.sqrt(warmup / step))


def finetune(loaded: LoadedModel, examples: Sequence[tuple[torch.Tensor, torch.Tensor]], config: FinetuneConfig,
             seed: int, progress: bool = False) -> FinetuneResult:
    """Fine-tune loaded.model in place for config.updates updates on `examples` (epochs of shuffled batches)."""
    from fairseq.criterions.label_smoothed_cross_entropy import label_smoothed_nll_loss
    from fairseq.data import data_utils
    from tqdm import tqdm

    result = FinetuneResult()
    if config.updates == 0:
        return result
    if not examples:
        raise VolctransError("finetune: no usable pool rows to fine-tune on")
    settings = recipe(loaded, config)
    model = loaded.model
    pad, eos = loaded.dictionary.pad(), loaded.dictionary.eos()
    sizes = np.array([max(len(src), len(tgt)) for src, tgt in examples], dtype=np.int64)
    too_long = int((sizes > settings.max_tokens).sum())
    if too_long:
        raise VolctransError(f"finetune.max_tokens: {settings.max_tokens} is less than the longest pair "
                             f"({int(sizes.max())} pieces)")
    order = np.argsort(sizes, kind="stable")
    batches = data_utils.batch_by_size(order, num_tokens_fn=lambda i: int(sizes[i]), max_tokens=settings.max_tokens)
    generator = np.random.default_rng(seed)
    torch.manual_seed(seed)  # dropout masks
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=settings.lr, betas=settings.betas, eps=settings.eps,
                                 weight_decay=settings.weight_decay)
    logger.info("fine-tuning on %d pool pairs for %d updates (%d batches an epoch): %s", len(examples),
                config.updates, len(batches), settings)
    start = time.perf_counter()
    model.train()
    try:
        with tqdm(total=config.updates, desc="fine-tune on pool", unit="update", disable=not progress,
                  mininterval=1.0) as bar:
            while result.updates < config.updates:
                for index in generator.permutation(len(batches)):
                    batch = collate([examples[i] for i in batches[index]], pad, eos)
                    step = result.updates + 1
                    for group in optimizer.param_groups:
                        group["lr"] = inverse_sqrt_lr(step, settings.lr, settings.warmup_updates)
                    output = model(batch["src_tokens"], batch["src_lengths"], batch["prev_output_tokens"])
                    lprobs = model.get_normalized_probs(output, log_probs=True)
                    target = batch["target"]
                    loss, _ = label_smoothed_nll_loss(lprobs.view(-1, lprobs.size(-1)), target.view(-1),
                                                      settings.label_smoothing, ignore_index=pad, reduce=True)
                    loss = loss / target.ne(pad).sum()  # fairseq: gradient of the sum over tokens / tokens
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if settings.clip_norm > 0:
                        torch.nn.utils.clip_grad_norm_(params, settings.clip_norm)
                    optimizer.step()
                    result.updates = step
                    result.losses.append(loss.item())
                    bar.update(1)
                    if result.updates == config.updates:
                        break
    finally:
        optimizer.zero_grad(set_to_none=True)
        model.eval()
    result.seconds = time.perf_counter() - start
    if config.save:
        save_checkpoint(loaded, config.save, result.updates)
    return result


def save_checkpoint(loaded: LoadedModel, path: str | Path, updates: int) -> None:
    """The fine-tuned weights with the original cfg, loadable by `load_model` (not a resumable training state)."""
    with atomic_write(path, binary=True) as handle:
        torch.save({"cfg": loaded.cfg, "model": loaded.model.state_dict(),
                    "optimizer_history": [{"num_updates": loaded.num_updates + updates}]}, handle)
