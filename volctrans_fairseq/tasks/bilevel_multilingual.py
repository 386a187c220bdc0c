"""`volctrans_multilingual`: translation_multi_simple_epoch + first-order bilevel source weighting (ScaleBiO).

Training data arrive as fairseq data categories, one per source ("main" is the first corpus, then each extra
source), so every batch is collated as an ordered dict {"source:src-tgt": sub-batch} and per-source losses are
exact. Each update (see volctrans.weighting.bilevel for the math):

  1. every `interval` updates, the lower-level copy u takes an Adam step on L2(u, λ) = Σ_g p_g ℓ_g(u);
  2. the model w takes the trainer's step on L2(w, λ) + L1(w)/α, L1 the loss on a batch of the trusted dev set
     (the trainer's Adam is invariant to the overall scale, so this is the ScaleBiO objective L1 + α·L2 rescaled);
  3. every `interval` updates, λ ← λ − lr_λ · α Jᵀ(ℓ(w) − ℓ(u)).

Modes: `loss` (default) weights the per-source losses by p and samples every key uniformly, so a weight takes effect
at once and the λ-gradient is exact; `sampling` leaves the loss unweighted and re-sets the sampling ratios to p at
each (virtual) epoch, which spends no compute on down-weighted data but reacts only epoch by epoch.
LISA (--lisa-layers k): every --lisa-interval updates only k randomly chosen transformer layers (plus embeddings and
output layers) of w and u are trainable, bounding gradient and optimizer memory.

λ, α's schedule position and the group names live in the task state, which fairseq saves in every checkpoint; on
resume they are read back from the restore checkpoint. u is re-initialised from w on resume (it is not saved: it
would double checkpoint size).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random

import torch

from fairseq.tasks import register_task
from fairseq.tasks.translation_multi_simple_epoch import TranslationMultiSimpleEpochTask

from volctrans.weighting.bilevel import alpha_at, lambda_gradient, log_due

logger = logging.getLogger(__name__)

STATE_KEY = "volctrans_bilevel"


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _all_reduce_gradients(model) -> None:
    """Multi-GPU: u is a plain module (not DDP-wrapped), so its gradients are averaged here to keep ranks equal."""
    if not _distributed():
        return
    world = torch.distributed.get_world_size()
    for parameter in model.parameters():
        if parameter.grad is not None:
            torch.distributed.all_reduce(parameter.grad)
            parameter.grad /= world


def _all_reduce_losses(loss_w, loss_u, present):
    """Multi-GPU: average per-group losses over the ranks that saw the group, so every rank takes the same λ step."""
    if not _distributed():
        return loss_w, loss_u, present
    device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    mask = present.to(torch.float64)
    packed = torch.stack([loss_w * mask, loss_u * mask, mask]).to(device)
    torch.distributed.all_reduce(packed)
    packed = packed.cpu()
    counts = packed[2].clamp(min=1.0)
    return packed[0] / counts, packed[1] / counts, packed[2] > 0


def _detached(means) -> torch.Tensor:
    return torch.tensor([float(m.detach()) if m is not None else 0.0 for m in means], dtype=torch.float64)


@register_task("volctrans_multilingual")
class VolctransMultilingualTask(TranslationMultiSimpleEpochTask):
    @staticmethod
    def add_args(parser):
        TranslationMultiSimpleEpochTask.add_args(parser)
        group = parser.add_argument_group("volctrans bilevel weighting")
        group.add_argument("--main-source-name", default="main", help="name of the 'main' data category")
        group.add_argument("--bilevel", action="store_true", help="learn source weights by bilevel optimization")
        group.add_argument("--bilevel-mode", choices=("loss", "sampling"), default="loss")
        group.add_argument("--bilevel-group", choices=("source", "source_pair"), default="source")
        group.add_argument("--bilevel-alpha", type=float, default=10.0)
        group.add_argument("--bilevel-alpha-max", type=float, default=100.0)
        group.add_argument("--bilevel-alpha-growth", type=float, default=1.0)
        group.add_argument("--bilevel-alpha-growth-every", type=int, default=0)
        group.add_argument("--bilevel-lambda-lr", type=float, default=0.05)
        group.add_argument("--bilevel-inner-lr-scale", type=float, default=1.0,
                           help="u's Adam step size = this × w's current (scheduled) learning rate")
        group.add_argument("--bilevel-interval", type=int, default=1, help="u and λ updated every N updates")
        group.add_argument("--bilevel-dev-max-tokens", type=int, default=1024)
        group.add_argument("--bilevel-log", default=None, help="JSONL of weights (default: SAVE_DIR/weights.jsonl)")
        group.add_argument("--bilevel-log-interval", type=int, default=50)
        group.add_argument("--lisa-layers", type=int, default=0, help="train only k random layers (0: all)")
        group.add_argument("--lisa-interval", type=int, default=50)

    def __init__(self, args, langs, dicts, training):
        super().__init__(args, langs, dicts, training)
        self.use_bilevel = bool(getattr(args, "bilevel", False))
        self._ready = False
        self._lisa_chosen: list[str] | None = None

    # ---- data -------------------------------------------------------------------------------------------------
    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        super().load_dataset(split, epoch=epoch, combine=combine, **kwargs)
        if self.use_bilevel and split == getattr(self.args, "train_subset", "train"):
            dataset = self.datasets[split]
            # Per-key sub-batches give exact per-source losses (fairseq compares against the string).
            dataset.collate_format = "ordered_dict"
            dataset.shared_collater = False
            self._train_keys = list(dataset.keys)

    def group_of(self, key: str) -> str:
        category, pair = key.split(":", 1)
        source = self.args.main_source_name if category == "main" else category
        return source if self.args.bilevel_group == "source" else f"{source}:{pair}"

    def begin_epoch(self, epoch, model):
        super().begin_epoch(epoch, model)
        if self.use_bilevel and self.args.bilevel_mode == "sampling" and self._ready:
            dataset = self.datasets.get(getattr(self.args, "train_subset", "train"))
            if dataset is not None and hasattr(dataset, "setup_sampling"):
                ratios = self.key_ratios(dataset.keys)
                dataset.setup_sampling(ratios, self.args.virtual_data_size)
                logger.info("bilevel: sampling ratios for epoch %d: %s", epoch, dict(zip(dataset.keys, ratios.round(4).tolist())))

    def key_ratios(self, keys):
        import numpy as np

        p = torch.softmax(self.lam, dim=0).tolist()
        counts = {}
        for key in keys:
            counts[self.group_of(key)] = counts.get(self.group_of(key), 0) + 1
        ratios = np.array([p[self.group_index[self.group_of(k)]] / counts[self.group_of(k)] for k in keys])
        return ratios / ratios.sum()

    # ---- bilevel state ----------------------------------------------------------------------------------------
    def _setup_bilevel(self, model):
        keys = getattr(self, "_train_keys", None)
        if not keys:
            raise RuntimeError("bilevel weighting needs the training set loaded before the first step")
        self.groups = sorted({self.group_of(k) for k in keys})
        self.group_index = {g: i for i, g in enumerate(self.groups)}
        self.lam = torch.zeros(len(self.groups), dtype=torch.float64)
        self._restore_state()
        self.u_model = copy.deepcopy(model)
        # u follows w's learning-rate schedule (set every step), so the two copies move at the same pace and
        # ℓ(w) − ℓ(u) reflects the dev-set pull rather than a difference in optimisation speed.
        self.u_optimizer = torch.optim.Adam([p for p in self.u_model.parameters()], lr=1e-4, betas=(0.9, 0.98), eps=1e-8)
        self._dev_batches = self._dev_batch_iterator()
        self._log_path = self.args.bilevel_log or os.path.join(self.args.save_dir, "weights.jsonl")
        os.makedirs(os.path.dirname(os.path.abspath(self._log_path)), exist_ok=True)
        self._ready = True
        logger.info("bilevel: groups %s, start weights %s", self.groups, self.weights())

    def _restore_state(self):
        if getattr(self.args, "reset_optimizer", False):
            return
        restore = getattr(self.args, "restore_file", "checkpoint_last.pt") or "checkpoint_last.pt"
        path = restore if os.path.isabs(restore) else os.path.join(self.args.save_dir, restore)
        if not os.path.isfile(path):
            return
        state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        saved = (state.get("task_state") or {}).get(STATE_KEY)
        if not saved:
            return
        if saved["groups"] != self.groups:
            raise RuntimeError(f"bilevel: checkpoint groups {saved['groups']} differ from {self.groups}")
        self.lam = torch.tensor(saved["lambda"], dtype=torch.float64)
        logger.info("bilevel: resumed weights %s from %s (update %s)", self.weights(), path, saved.get("update"))

    def weights(self) -> dict[str, float]:
        return {g: round(float(p), 6) for g, p in zip(self.groups, torch.softmax(self.lam, dim=0))}

    def _save_state(self, update: int):
        self.state.merge_state_dict({STATE_KEY: {"groups": self.groups, "lambda": self.lam.tolist(), "update": update}})

    def _dev_batch_iterator(self):
        """Endless shuffled batches of the trusted dev set (the 'valid' split of the main source)."""
        dataset = self.datasets[self.args.valid_subset.split(",")[0]]
        indices = dataset.ordered_indices()
        batches = dataset.batch_by_size(indices, max_tokens=self.args.bilevel_dev_max_tokens,
                                        required_batch_size_multiple=1)
        batches = [b for b in batches if len(b) > 0]
        rng = random.Random(self.args.seed)
        while True:
            rng.shuffle(batches)
            for batch in batches:
                yield dataset.collater([dataset[i] for i in batch])

    def _to_device(self, sample, model):
        device = next(model.parameters()).device
        from fairseq import utils

        return utils.move_to_cuda(sample, device=device) if device.type == "cuda" else sample

    # ---- LISA -------------------------------------------------------------------------------------------------
    def _apply_lisa(self, model, update_num):
        k = self.args.lisa_layers
        if k <= 0 or (self._lisa_chosen is not None and update_num % self.args.lisa_interval):
            return
        layers = [f"encoder.layers.{i}." for i in range(len(model.encoder.layers))]
        layers += [f"decoder.layers.{i}." for i in range(len(model.decoder.layers))]
        rng = random.Random(self.args.seed * 100003 + update_num)
        self._lisa_chosen = rng.sample(layers, min(k, len(layers)))
        for network in (model, self.u_model):
            for name, parameter in network.named_parameters():
                in_layer = any(name.startswith(prefix) for prefix in layers)
                parameter.requires_grad_(not in_layer or any(name.startswith(c) for c in self._lisa_chosen))
                if not parameter.requires_grad:
                    parameter.grad = None
        for group in self.u_optimizer.param_groups:  # drop Adam moments of frozen parameters to free memory
            for parameter in group["params"]:
                if not parameter.requires_grad:
                    self.u_optimizer.state.pop(parameter, None)

    # ---- training step ----------------------------------------------------------------------------------------
    def _group_losses(self, model, criterion, sample):
        """Per-group token-mean losses (with grad), their token counts, and summed logging outputs."""
        sums = [None] * len(self.groups)
        tokens = [0.0] * len(self.groups)
        logging_output: dict = {}
        for key, sub_batch in sample.items():
            loss, sample_size, log = criterion(model, sub_batch)
            g = self.group_index[self.group_of(key)]
            sums[g] = loss if sums[g] is None else sums[g] + loss
            tokens[g] += float(sample_size)
            for name, value in log.items():
                if isinstance(value, (int, float)) or torch.is_tensor(value):
                    logging_output[name] = logging_output.get(name, 0) + value
        present = torch.tensor([s is not None for s in sums])
        means = [s / max(t, 1.0) if s is not None else None for s, t in zip(sums, tokens)]
        return means, present, tokens, logging_output

    def _weighted(self, means, present, tokens):
        """L2: Σ_g p_g ℓ_g over groups present in the batch (loss mode), or the token mean (sampling mode)."""
        if self.args.bilevel_mode == "sampling":
            total_tokens = sum(t for t, ok in zip(tokens, present) if ok)
            return sum(m * t for m, t, ok in zip(means, tokens, present) if ok) / max(total_tokens, 1.0)
        p = torch.softmax(self.lam, dim=0).to(torch.float32)
        norm = float(p[present].sum())
        return sum(p[g] * means[g] for g in range(len(means)) if present[g]) / norm

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        if not self.use_bilevel:
            return super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)
        if not self._ready:
            self._setup_bilevel(model)
        model.train()
        model.set_num_updates(update_num)
        self._apply_lisa(model, update_num)
        alpha = alpha_at(update_num, self.args.bilevel_alpha, self.args.bilevel_alpha_max,
                         self.args.bilevel_alpha_growth, self.args.bilevel_alpha_growth_every)
        outer = not ignore_grad and update_num % self.args.bilevel_interval == 0

        loss_u = None
        if outer:  # (1) lower level: u ← Adam step on ∇_u L2(u, λ)
            self.u_model.train()
            for group in self.u_optimizer.param_groups:
                group["lr"] = optimizer.get_lr() * self.args.bilevel_inner_lr_scale
            self.u_optimizer.zero_grad(set_to_none=True)
            means_u, present_u, tokens_u, _ = self._group_losses(self.u_model, criterion, sample)
            self._weighted(means_u, present_u, tokens_u).backward()
            _all_reduce_gradients(self.u_model)
            self.u_optimizer.step()
            loss_u = _detached(means_u)

        # (2) upper level: the trainer steps w on L2(w, λ) + L1(w)/α
        means_w, present, tokens, logging_output = self._group_losses(model, criterion, sample)
        l2 = self._weighted(means_w, present, tokens)
        dev_sample = self._to_device(next(self._dev_batches), model)
        dev_loss, dev_size, _ = criterion(model, dev_sample)
        l1 = dev_loss / max(float(dev_size), 1.0)
        objective = l2 + l1 / alpha
        sample_size = sum(tokens)
        total = objective * sample_size  # the trainer divides gradients by sample_size
        if ignore_grad:
            total = total * 0
        optimizer.backward(total)

        if outer:  # (3) λ ← λ − lr_λ · α Jᵀ(ℓ(w) − ℓ(u))
            loss_w = _detached(means_w)
            both = present & present_u
            loss_w, loss_u, both = _all_reduce_losses(loss_w, loss_u, both)
            gradient = lambda_gradient(self.lam, loss_w, loss_u, alpha, both)
            self.lam = self.lam - self.args.bilevel_lambda_lr * gradient
            self._save_state(update_num + 1)
            if log_due(update_num, self.args.bilevel_log_interval, self.args.bilevel_interval):
                self._log(update_num + 1, alpha, loss_w, loss_u, float(l1), present)
        logging_output["sample_size"] = sample_size
        return total.detach(), sample_size, logging_output

    def _log(self, update, alpha, loss_w, loss_u, dev_loss, present):
        record = {
            "update": update,
            "alpha": alpha,
            "weights": self.weights(),
            "lambda": {g: round(float(v), 6) for g, v in zip(self.groups, self.lam)},
            "loss_w": {g: round(float(v), 4) for g, v, ok in zip(self.groups, loss_w, present) if ok},
            "loss_u": {g: round(float(v), 4) for g, v, ok in zip(self.groups, loss_u, present) if ok},
            "dev_loss": round(dev_loss, 4),
        }
        with open(self._log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        logger.info("bilevel weights @%d: %s", update, record["weights"])
