"""`volctrans_multilingual`: translation_multi_simple_epoch + first-order bilevel source weighting (ScaleBiO).

Training data arrive as fairseq data categories, one per source ("main" is the first corpus, then each extra
source), so every batch is collated as an ordered dict {"source:src-tgt": sub-batch} and per-source losses are
exact. Each update (see volctrans.weighting.bilevel for the math):

  1. on outer updates (every `interval`), the lower-level copy u accumulates the gradient of
     L2(u, λ) = Σ_g p_g ℓ_g(u) over the update's micro-batches and takes one Adam step;
  2. the model w takes the trainer's step on L2(w, λ) + L1(w)/α, L1 the loss on a batch of the trusted dev set
     (the trainer's Adam is invariant to the overall scale, so this is the ScaleBiO objective L1 + α·L2 rescaled);
  3. on outer updates, λ takes one step on α Jᵀ(ℓ(w) − ℓ(u)), ℓ the per-group token-mean losses of the whole update
     (all micro-batches, all ranks), measured before either model moved.

fairseq calls train_step once per micro-batch (the same update number for all of them) and optimizer_step once per
update, after the gradients of w were all-reduced. So micro-batches only accumulate (u's gradients, per-group loss
sums), and every collective of the bilevel step runs in optimizer_step, which every rank enters — also a rank that
only had dummy batches at an epoch's end (their losses count zero tokens).

Precision: w is whatever fairseq makes it (fp32, or fp16/bf16 under its FP16Optimizer with fp32 master weights).
u is always an fp32 module trained by torch Adam; with an fp16/bf16 w its forward runs under torch.autocast in
w's dtype, and fp16 adds a torch GradScaler — the standard mixed-precision recipe, so u neither overflows (fp16) nor
stalls below the dtype's resolution (bf16).

Modes: `loss` (default) weights the per-source losses by p and samples every key uniformly, so a weight takes effect
at once; `sampling` leaves the loss unweighted and draws each epoch's examples with ratios p (split within a source
by fairseq's temperature ratios), fixed when the epoch's batches are built.

LISA (--lisa-layers k): every --lisa-interval updates only k randomly chosen transformer layers (plus embeddings
and output layers) of w and u are trainable. Frozen layers get no gradient (no backward compute, no gradient
memory), and neither w's optimizer (fp32 masters included) nor u's touches them; u's Adam moments of frozen layers
are dropped. Needs unflattened fp16 gradients (--fp16-no-flatten-grads): the flat FP16Optimizer would pack the
gradients of the trainable layers at the wrong offsets (fairseq #4661, #4702), so that combination is refused.

λ, the λ optimizer's state and the ratios of the current sampling epoch live in the task state, which fairseq
saves in every checkpoint; they are read back from the checkpoint fairseq resumes from (by its own rule for
--restore-file) on rank 0 and broadcast to all ranks. u is re-initialised from w on resume (saving it would double
the checkpoint size).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from fairseq.criterions.label_smoothed_cross_entropy import (LabelSmoothedCrossEntropyCriterion,
                                                             label_smoothed_nll_loss)
from fairseq.distributed import LegacyDistributedDataParallel
from fairseq.optim.adam import Adam as FairseqAdamAlgorithm
from fairseq.distributed import utils as distributed_utils
from fairseq.tasks import register_task
from fairseq.utils import eval_bool
from fairseq.tasks.translation_multi_simple_epoch import TranslationMultiSimpleEpochTask

from volctrans.artifacts import WEIGHT_LOG
from volctrans.weighting.bilevel import alpha_at, inner_lr, lambda_gradient, log_due

logger = logging.getLogger(__name__)

STATE_KEY = "volctrans_bilevel"
LAYER_PREFIXES = ("encoder.layers.", "decoder.layers.")
# u's gradients are averaged over ranks through fairseq's bucketed all-reduce; 2**23 fp32 values = 32 MiB buffer.
U_ALL_REDUCE_BUFFER = 2**23
# The fields of a fairseq translation batch that merge_sub_batches knows how to concatenate.
MERGE_FIELDS = {"id", "nsentences", "ntokens", "net_input", "target"}
MERGE_INPUTS = {"src_tokens", "src_lengths", "prev_output_tokens"}


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _rank() -> int:
    return distributed_utils.get_data_parallel_rank() if _distributed() else 0


def _world() -> int:
    return distributed_utils.get_data_parallel_world_size() if _distributed() else 1


def unwrap(model):
    """The FairseqModel inside fairseq's DDP wrappers (ModuleProxyWrapper(DistributedDataParallel(model)) or
    LegacyDistributedDataParallel): their parameter names carry `module.` prefixes, the model's own do not."""
    while isinstance(getattr(model, "module", None), torch.nn.Module):
        model = model.module
    return model


def layer_of(name: str) -> str | None:
    """'encoder.layers.3.' for a parameter of encoder layer 3; None for embeddings, final norms, output layers."""
    for prefix in LAYER_PREFIXES:
        if name.startswith(prefix):
            return prefix + name[len(prefix):].split(".", 1)[0] + "."
    return None


def restore_checkpoint_path(args) -> str | None:
    """The checkpoint whose training position fairseq resumes (fairseq.checkpoint_utils.load_checkpoint's rule), or
    None when it starts afresh or resets the data position (--reset-dataloader, the first launch of a fine-tuning).
    A non-default --restore-file is read as given, i.e. relative to the working directory, not to --save-dir."""
    if getattr(args, "reset_dataloader", False):
        return None
    suffix = getattr(args, "checkpoint_suffix", "") or ""
    if args.restore_file == "checkpoint_last.pt":
        path = os.path.join(args.save_dir, f"checkpoint_last{suffix}.pt")
        if os.path.exists(path):
            return path
        return getattr(args, "continue_once", None)  # --finetune-from-model resets the data position: None
    return args.restore_file.replace(".pt", suffix + ".pt")


@dataclass
class UpdateSums:
    """One rank's sums over the micro-batches of the current update (float64, all ranks' are summed)."""

    loss_w: torch.Tensor  # per group: summed loss of w (what the criterion returns: a sum over target tokens)
    loss_u: torch.Tensor  # per group: summed loss of u (outer updates only)
    tokens: torch.Tensor  # per group: target tokens
    u_sample_size: float = 0.0  # tokens u's gradient was accumulated over
    dev_loss: float = 0.0
    dev_tokens: float = 0.0

    @classmethod
    def zeros(cls, groups: int) -> UpdateSums:
        return cls(*(torch.zeros(groups, dtype=torch.float64) for _ in range(3)))

    def pack(self) -> torch.Tensor:
        extra = torch.tensor([self.u_sample_size, self.dev_loss, self.dev_tokens], dtype=torch.float64)
        return torch.cat([self.loss_w, self.loss_u, self.tokens, extra])

    @classmethod
    def unpack(cls, packed: torch.Tensor, groups: int) -> UpdateSums:
        g = groups
        return cls(packed[:g], packed[g:2 * g], packed[2 * g:3 * g], *(float(v) for v in packed[3 * g:]))


class LowerLevel:
    """u: an fp32 copy of w, trained by torch Adam. With an fp16/bf16 w, u's forward runs under autocast in that
    dtype (fp32 master weights, half-precision compute); fp16 adds dynamic loss scaling (torch GradScaler).

    u is optimised exactly as fairseq optimises w (its Adam, β (0.9, 0.98), ε 1e-8, decoupled weight decay, gradient
    norm clipped to w's clip_norm): λ's signal is ℓ(w) − ℓ(u), so any other difference between the two trajectories
    leaks into it. Without the clipping, u lagged w on every source from the first updates (w's clipped gradients
    keep Adam's second moment small), and λ then rewarded the sources whose loss fell fastest (docs/training.md)."""

    def __init__(self, w_model: torch.nn.Module, init_scale: float = 128.0, clip_norm: float = 0.0,
                 weight_decay: float = 0.0):
        self.model = copy.deepcopy(w_model).float()
        self.device = next(w_model.parameters()).device
        w_dtype = next(w_model.parameters()).dtype
        self.compute_dtype = w_dtype if w_dtype in (torch.float16, torch.bfloat16) else None
        self.clip_norm = clip_norm
        # fairseq's own Adam (what `--optimizer adam` runs on CPU and on a GPU without apex): ε is added before
        # the bias correction there, unlike torch's Adam, which moves rarely-seen embedding rows differently.
        self.optimizer = FairseqAdamAlgorithm(list(self.model.parameters()), lr=1e-4, betas=(0.9, 0.98), eps=1e-8,
                                              weight_decay=weight_decay)
        # The losses are sums over a batch's tokens (as fairseq's): start from fairseq's loss scale, not torch's 2¹⁶.
        self.scaler = torch.amp.GradScaler(self.device.type, init_scale=init_scale) if w_dtype == torch.float16 else None
        self.ddp = None
        if _distributed():
            self.ddp = LegacyDistributedDataParallel(self.model, distributed_utils.get_data_parallel_group(),
                                                     buffer_size=U_ALL_REDUCE_BUFFER)

    def autocast(self):
        if self.compute_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.compute_dtype)

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self, lr: float, sample_size: float) -> None:
        """Average the accumulated gradients over ranks (every rank calls this), normalise them by the update's
        total token count like fairseq does for w, and take one Adam step."""
        if self.ddp is not None:
            self.ddp.all_reduce_grads()  # gradient mean over ranks; zeros from ranks that saw no batch
        if sample_size > 0:
            factor = _world() / sample_size
            for parameter in self.model.parameters():
                if parameter.grad is not None:
                    parameter.grad.mul_(factor)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)  # clip the true gradient; step() then skips an inf/NaN one
            if self.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
            if self.scaler is not None:
                self.scaler.step(self.optimizer)  # skipped when a gradient is inf/NaN; the scale then shrinks
                self.scaler.update()
            else:
                self.optimizer.step()
        self.zero_grad()


def supports_merged(criterion) -> bool:
    """Per-sentence losses are read from label-smoothed cross-entropy's own pieces (its ε, padding, targets)."""
    return isinstance(criterion, LabelSmoothedCrossEntropyCriterion) and criterion.ignore_prefix_size == 0


def merge_sub_batches(sample: dict, pad: int, left_pad_source: bool, left_pad_target: bool):
    """The sub-batches of an ordered-dict sample ({key: fairseq translation batch}) as one batch, and the index of
    the sub-batch each sentence came from; None when a sub-batch holds fields this merge does not know (the
    caller then runs one pass per sub-batch). Token tensors are padded to the widest on fairseq's side for them:
    sources on the left when left_pad_source, targets and decoder inputs on the right unless left_pad_target."""
    batches = list(sample.values())
    if not batches or any(set(b) - MERGE_FIELDS or set(b.get("net_input", {})) - MERGE_INPUTS for b in batches):
        return None

    def stack(tensors, left):
        width = max(t.size(1) for t in tensors)
        padded = []
        for t in tensors:
            filler = t.new_full((t.size(0), width - t.size(1)), pad)
            padded.append(torch.cat([filler, t] if left else [t, filler], dim=1))
        return torch.cat(padded, dim=0)

    inputs = [b["net_input"] for b in batches]
    merged = {
        "id": torch.cat([b["id"] for b in batches]),
        "nsentences": sum(b["nsentences"] for b in batches),
        "ntokens": sum(b["ntokens"] for b in batches),
        "net_input": {"src_tokens": stack([i["src_tokens"] for i in inputs], left_pad_source),
                      "src_lengths": torch.cat([i["src_lengths"] for i in inputs])},
        "target": stack([b["target"] for b in batches], left_pad_target),
    }
    if all("prev_output_tokens" in i for i in inputs):
        merged["net_input"]["prev_output_tokens"] = stack([i["prev_output_tokens"] for i in inputs], left_pad_target)
    elif any("prev_output_tokens" in i for i in inputs):
        return None
    owners = torch.cat([torch.full((b["target"].size(0),), n, dtype=torch.long) for n, b in enumerate(batches)])
    return merged, owners


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
        group.add_argument("--bilevel-lambda-optimizer", choices=("sgd", "adam"), default="sgd",
                           help="sgd: λ -= lr·gradient (the step grows with α); adam: torch Adam on λ")
        group.add_argument("--bilevel-inner-lr-scale", type=float, default=1.0,
                           help="u's Adam step size = this × w's current (scheduled) learning rate × --bilevel-interval")
        group.add_argument("--bilevel-interval", type=int, default=1, help="u and λ updated every N updates")
        group.add_argument("--bilevel-dev-max-tokens", type=int, default=1024)
        group.add_argument("--bilevel-log", default=None,
                           help="JSONL of weights, written by rank 0 (default: SAVE_DIR/weights.jsonl); "
                                "'{rank}' in the path makes every rank write its own")
        group.add_argument("--bilevel-log-interval", type=int, default=50)
        group.add_argument("--lisa-layers", type=int, default=0, help="train only k random layers (0: all)")
        group.add_argument("--lisa-interval", type=int, default=50)

    def __init__(self, args, langs, dicts, training):
        super().__init__(args, langs, dicts, training)
        self.use_bilevel = bool(getattr(args, "bilevel", False))
        self.groups: list[str] = []
        self._lam: torch.Tensor | None = None
        self._lambda_optimizer = None
        self.lower: LowerLevel | None = None
        self._sums: UpdateSums | None = None
        self._probe = None
        self._lisa_window: int | None = None
        self._lisa_chosen: list[str] | None = None
        self._base_ratios: dict[str, float] = {}
        self._sampling: dict | None = None  # {"epoch": E, "ratios": {key: ratio}} of the epoch drawn last

    # ---- data -------------------------------------------------------------------------------------------------
    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        super().load_dataset(split, epoch=epoch, combine=combine, **kwargs)
        if not self.use_bilevel or split != getattr(self.args, "train_subset", "train"):
            return
        dataset = self.datasets[split]
        self._train_keys = list(dataset.keys)
        self._ensure_lambda()  # every rank loads the training set at the same point: λ is restored (broadcast) here
        if self.args.bilevel_mode == "sampling":
            if not self._base_ratios:
                self._fix_sampling_size(dataset)
                ratios = dataset.sample_ratios / dataset.sample_ratios.sum()
                self._base_ratios = dict(zip(dataset.keys, ratios.tolist()))
            # Rebuild the set so this epoch's draw already follows the learned weights (fairseq draws in the
            # constructor). A resumed epoch gets the ratios it was first drawn with, so its batches are the same.
            self.args.sampling_weights = self._ratios_for_epoch(epoch)
            del self.datasets[split]  # (fairseq's reload path for an unsharded split raises UnboundLocalError)
            super().load_dataset(split, epoch=epoch, combine=combine, **kwargs)
            dataset = self.datasets[split]
        # Per-key sub-batches give exact per-source losses (fairseq compares against the string).
        dataset.collate_format = "ordered_dict"
        dataset.shared_collater = False

    def _fix_sampling_size(self, dataset):
        """Sampling mode draws a fresh weighted sample of the same size every epoch; fairseq would otherwise derive
        the size from the ratios, and with --virtual-epoch-size smaller than --virtual-data-size it would reuse one
        draw for several epochs, so new ratios would act only from the next pass."""
        epoch_size, data_size = self.args.virtual_epoch_size, self.args.virtual_data_size
        if epoch_size is not None and data_size is not None and epoch_size != data_size:
            raise ValueError(f"bilevel sampling mode draws every epoch anew: --virtual-epoch-size ({epoch_size}) "
                             f"must equal --virtual-data-size ({data_size}) or be left out")
        self.args.virtual_data_size = data_size or epoch_size or int(dataset.virtual_size)

    def create_batch_sampler_func(self, *args, **kwargs):
        construct = super().create_batch_sampler_func(*args, **kwargs)
        if not (self.use_bilevel and self.args.bilevel_mode == "sampling"):
            return construct

        def construct_with_learned_ratios(dataset, epoch):
            # fairseq builds an epoch's batches in get_train_iterator, after the previous epoch's last update and
            # before set_epoch draws the epoch's examples: the draw follows the weights as they are now.
            if epoch is not None and dataset is self.datasets.get(getattr(self.args, "train_subset", "train")):
                ratios = self._ratios_for_epoch(epoch)
                dataset.setup_sampling(np.array([ratios[key] for key in dataset.keys]), dataset.virtual_size)
            return construct(dataset, epoch)

        return construct_with_learned_ratios

    def _ratios_for_epoch(self, epoch: int) -> dict[str, float]:
        if self._sampling is None or self._sampling["epoch"] != epoch:
            self._sampling = {"epoch": epoch, "ratios": self.key_ratios(self._train_keys)}
            self._save_state()
            logger.info("bilevel: sampling ratios for epoch %d: %s", epoch,
                        {key: round(value, 4) for key, value in self._sampling["ratios"].items()})
        return self._sampling["ratios"]

    def group_of(self, key: str) -> str:
        category, pair = key.split(":", 1)
        source = self.args.main_source_name if category == "main" else category
        return source if self.args.bilevel_group == "source" else f"{source}:{pair}"

    def key_ratios(self, keys) -> dict[str, float]:
        """Sampling ratio of each key: its group's weight, split over the group's keys in proportion to fairseq's
        own (temperature) ratios."""
        p = torch.softmax(self._lam, dim=0).tolist()
        base = {key: self._base_ratios.get(key, 1.0) for key in keys}
        group_base: dict[str, float] = {}
        for key in keys:
            group_base[self.group_of(key)] = group_base.get(self.group_of(key), 0.0) + base[key]
        return {key: p[self.group_index[self.group_of(key)]] * base[key] / group_base[self.group_of(key)]
                for key in keys}

    # ---- bilevel state ----------------------------------------------------------------------------------------
    @property
    def lam(self) -> torch.Tensor:
        return self._lam

    @lam.setter
    def lam(self, value) -> None:
        with torch.no_grad():
            self._lam.copy_(torch.as_tensor(value, dtype=torch.float64))

    def _ensure_lambda(self) -> None:
        if self._lam is not None:
            return
        keys = getattr(self, "_train_keys", None)
        if not keys:
            raise RuntimeError("bilevel weighting needs the training set loaded before the first step")
        self.groups = sorted({self.group_of(k) for k in keys})
        self.group_index = {g: i for i, g in enumerate(self.groups)}
        self._lam = torch.zeros(len(self.groups), dtype=torch.float64)
        if self.args.bilevel_lambda_optimizer == "adam":
            self._lambda_optimizer = torch.optim.Adam([self._lam], lr=self.args.bilevel_lambda_lr)
        else:
            self._lambda_optimizer = torch.optim.SGD([self._lam], lr=self.args.bilevel_lambda_lr)
        self._save_state(self._restore_state())
        self._log_path = self._resolve_log_path()
        if self._log_path:
            os.makedirs(os.path.dirname(os.path.abspath(self._log_path)), exist_ok=True)
        logger.info("bilevel: groups %s, start weights %s", self.groups, self.weights())

    def _resolve_log_path(self) -> str | None:
        path = self.args.bilevel_log or os.path.join(self.args.save_dir, WEIGHT_LOG)
        if "{rank}" in path:
            return path.replace("{rank}", str(_rank()))
        return path if _rank() == 0 else None

    def _restore_state(self) -> int:
        """λ (and the λ optimizer's state, the current sampling epoch's ratios) from the checkpoint fairseq resumes;
        returns the update it was saved at (0 when starting afresh)."""
        saved = None
        if _rank() == 0:
            path = restore_checkpoint_path(self.args)
            if path and os.path.isfile(path):
                state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
                saved = (state.get("task_state") or {}).get(STATE_KEY)
                if saved:
                    saved = {**saved, "path": path}
        if _distributed():  # only rank 0 may see the checkpoint (fairseq saves on rank 0 alone)
            saved = distributed_utils.broadcast_object(saved, src_rank=0,
                                                       group=distributed_utils.get_data_parallel_group())
        if not saved:
            return 0
        if saved["groups"] != self.groups:
            raise RuntimeError(f"bilevel: checkpoint groups {saved['groups']} differ from {self.groups}")
        self.lam = saved["lambda"]
        optimizer_state = saved.get("lambda_optimizer_state")
        if (optimizer_state and saved.get("lambda_optimizer") == self.args.bilevel_lambda_optimizer
                and not getattr(self.args, "reset_optimizer", False)):
            self._lambda_optimizer.load_state_dict(optimizer_state)
        self._sampling = saved.get("sampling")
        logger.info("bilevel: resumed weights %s from %s (update %s)", self.weights(), saved["path"], saved.get("update"))
        return int(saved.get("update") or 0)

    def weights(self) -> dict[str, float]:
        return {g: round(float(p), 6) for g, p in zip(self.groups, torch.softmax(self._lam, dim=0))}

    def _save_state(self, update: int | None = None) -> None:
        """Into the task state that fairseq writes into every checkpoint (`update`: the last outer step's)."""
        previous = self.state.state_dict.get(STATE_KEY) or {}
        self.state.merge_state_dict({STATE_KEY: {
            "groups": self.groups, "lambda": self._lam.tolist(),
            "update": update if update is not None else previous.get("update", 0),
            "lambda_optimizer": self.args.bilevel_lambda_optimizer,
            "lambda_optimizer_state": copy.deepcopy(self._lambda_optimizer.state_dict()),
            "sampling": copy.deepcopy(self._sampling),
        }})

    def _setup_lower(self, model, optimizer) -> None:
        if self.args.lisa_layers > 0 and getattr(optimizer, "has_flat_params", False):
            raise RuntimeError("bilevel: LISA cannot run with flat fp16 gradients (fairseq packs only trainable "
                               "parameters into the flat buffer, at the wrong offsets): add --fp16-no-flatten-grads")
        self.lower = LowerLevel(model, init_scale=float(getattr(self.args, "fp16_init_scale", 128) or 128),
                                clip_norm=float(getattr(self.args, "clip_norm", 0.0) or 0.0),
                                weight_decay=float(getattr(self.args, "weight_decay", 0.0) or 0.0))
        probe = next(n for n, p in model.named_parameters() if layer_of(n) is None and p.requires_grad)
        self._probe = dict(model.named_parameters())[probe]
        self._probe_u = dict(self.lower.model.named_parameters())[probe]
        self._dev_batches = self._dev_batch_iterator()

    def _dev_batch_iterator(self):
        """Endless shuffled batches of the trusted dev set (the 'valid' split of the main source); every rank draws
        its own sequence."""
        dataset = self.datasets[self.args.valid_subset.split(",")[0]]
        indices = dataset.ordered_indices()
        batches = dataset.batch_by_size(indices, max_tokens=self.args.bilevel_dev_max_tokens,
                                        required_batch_size_multiple=1)
        batches = [b for b in batches if len(b) > 0]
        rng = random.Random(self.args.seed * 1009 + _rank())
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
        """Draw the trainable layers for the window of `lisa_interval` updates that update_num falls in (the same
        draw on every rank, and again after a resume)."""
        k = self.args.lisa_layers
        window = update_num // self.args.lisa_interval
        if k <= 0 or window == self._lisa_window:
            return
        self._lisa_window = window
        layers = sorted({layer for layer in map(layer_of, dict(model.named_parameters())) if layer},
                        key=lambda prefix: (prefix.split(".")[0], int(prefix.split(".")[2])))
        rng = random.Random(self.args.seed * 100003 + window)
        self._lisa_chosen = rng.sample(layers, min(k, len(layers)))
        for network in (model, self.lower.model):
            for name, parameter in network.named_parameters():
                layer = layer_of(name)
                parameter.requires_grad_(layer is None or layer in self._lisa_chosen)
                if not parameter.requires_grad:
                    parameter.grad = None
        for parameter in self.lower.model.parameters():  # u's Adam moments of frozen layers are dropped
            if not parameter.requires_grad:
                self.lower.optimizer.state.pop(parameter, None)

    def _keep_frozen_layers_still(self, optimizer, model) -> None:
        """A zero gradient still moves a parameter under Adam (its moments); fairseq's optimizers skip parameters
        whose gradient is None. FP16Optimizer keeps separate fp32 masters, whose gradients it zero-fills."""
        if self.args.lisa_layers <= 0:
            return
        frozen = {id(p) for p in model.parameters() if not p.requires_grad}
        fp32_params = getattr(optimizer, "fp32_params", None)
        if isinstance(fp32_params, list):
            for p16, p32 in zip(optimizer.fp16_params, fp32_params):
                if id(p16) in frozen:
                    p32.grad = None
        for parameter in model.parameters():
            if id(parameter) in frozen:
                parameter.grad = None

    # ---- training step ----------------------------------------------------------------------------------------
    def _group_losses(self, model, criterion, sample):
        """Per-group token-mean losses (with grad), detached loss sums and token counts, summed logging outputs.

        One forward and backward over the sub-batches merged into one batch, the loss summed per sentence and then
        per group: the same losses as one pass per sub-batch (tests/unit/test_bilevel_merge.py), but a GPU is then
        busy with one large batch instead of 2 × sources × directions small ones. Measured on one H100: 24
        sub-batches per update ran at 0.11 updates/s, against 2.9 for the same model and batch size without
        bilevel (docs/benchmarks.md, "GPU run (issue 18)"). Criteria other than label-smoothed cross-entropy, and
        sub-batches of a shape this merge does not know, take the pass per sub-batch."""
        merged = merge_sub_batches(sample, self.source_dictionary.pad(), eval_bool(self.args.left_pad_source),
                                   eval_bool(self.args.left_pad_target)) if supports_merged(criterion) else None
        if merged is not None:
            batch, owners = merged
            key_groups = torch.tensor([self.group_index[self.group_of(key)] for key in sample], dtype=torch.long)
            return self._merged_group_losses(model, criterion, batch, key_groups[owners])
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
        detached = torch.tensor([float(s.detach()) if s is not None else 0.0 for s in sums], dtype=torch.float64)
        return means, present, torch.tensor(tokens, dtype=torch.float64), detached, logging_output

    def _merged_group_losses(self, model, criterion, batch, sentence_groups):
        net_output = model(**batch["net_input"])
        lprobs, target = criterion.get_lprobs_and_target(model, net_output, batch)
        loss, nll_loss = label_smoothed_nll_loss(lprobs, target, criterion.eps, ignore_index=criterion.padding_idx,
                                                 reduce=False)
        sentences = batch["target"].size(0)
        per_sentence = loss.view(sentences, -1).sum(dim=1)
        if criterion.sentence_avg:  # fairseq's sample size: sentences, not tokens
            sizes = torch.ones(sentences, dtype=torch.float64)
        else:
            sizes = target.ne(criterion.padding_idx).view(sentences, -1).sum(dim=1).to("cpu", torch.float64)
        groups = len(self.groups)
        sentence_groups = sentence_groups.to(per_sentence.device)
        sums = per_sentence.new_zeros(groups).index_add(0, sentence_groups, per_sentence)
        tokens = torch.zeros(groups, dtype=torch.float64).index_add(0, sentence_groups.cpu(), sizes)
        counts = torch.bincount(sentence_groups.cpu(), minlength=groups)
        present = counts > 0
        means = [sums[g] / max(float(tokens[g]), 1.0) if present[g] else None for g in range(groups)]
        detached = sums.detach().to("cpu", torch.float64) * present
        logging_output = {"loss": loss.detach().sum(), "nll_loss": nll_loss.detach().sum(),
                          "ntokens": batch["ntokens"], "nsentences": sentences, "sample_size": float(tokens.sum())}
        return means, present, tokens, detached, logging_output

    def _weighted(self, means, present, tokens):
        """L2: Σ_g p_g ℓ_g over the groups present in the micro-batch, renormalised (loss mode), or the token mean
        (sampling mode)."""
        if self.args.bilevel_mode == "sampling":
            total_tokens = float(tokens[present].sum())
            return sum(m * float(t) for m, t, ok in zip(means, tokens, present) if ok) / max(total_tokens, 1.0)
        p = torch.softmax(self._lam, dim=0).to(torch.float32)
        norm = float(p[present].sum())
        return sum(float(p[g]) * means[g] for g in range(len(means)) if present[g]) / norm

    def _update_starts(self) -> bool:
        """The trainer zeroes w's gradients (to None) at the start of every update, also one retried after an fp16
        overflow, and the first micro-batch's backward fills them: a trainable parameter outside the LISA layers
        without a gradient marks the first micro-batch of an update."""
        return self._sums is None or self._probe.grad is None

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        if not self.use_bilevel:
            return super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)
        if "net_input" in sample:  # not the ordered dict of sub-batches collated for training
            if not ignore_grad:
                raise RuntimeError("bilevel: training batches must be collated per source (collate_format ordered_dict)")
            # A rank without data at an epoch's end gets the Trainer's dummy batch, which is the first batch of the
            # last iterator it built: after a validation, a validation batch. Its loss is zeroed; run it as main's.
            sample = {self._train_keys[0]: sample}
        inner = unwrap(model)
        self._ensure_lambda()
        if self.lower is None:
            self._setup_lower(inner, optimizer)
        if self._update_starts():
            self._sums = UpdateSums.zeros(len(self.groups))
            self.lower.zero_grad()
        model.train()
        model.set_num_updates(update_num)
        self._apply_lisa(inner, update_num)
        alpha = alpha_at(update_num, self.args.bilevel_alpha, self.args.bilevel_alpha_max,
                         self.args.bilevel_alpha_growth, self.args.bilevel_alpha_growth_every)
        outer = update_num % self.args.bilevel_interval == 0

        if outer and not ignore_grad:  # (1) lower level: accumulate ∇_u L2(u, λ) over the update's micro-batches
            self.lower.model.train()
            with self.lower.autocast():
                means_u, present_u, tokens_u, sums_u, _ = self._group_losses(self.lower.model, criterion, sample)
                objective_u = self._weighted(means_u, present_u, tokens_u) * float(tokens_u.sum())
            self.lower.backward(objective_u)
            self._sums.loss_u += sums_u
            self._sums.u_sample_size += float(tokens_u.sum())

        # (2) upper level: the trainer steps w on L2(w, λ) + L1(w)/α
        means_w, present, tokens, sums_w, logging_output = self._group_losses(model, criterion, sample)
        l2 = self._weighted(means_w, present, tokens)
        dev_sample = self._to_device(next(self._dev_batches), model)
        dev_loss, dev_size, _ = criterion(model, dev_sample)
        l1 = dev_loss / max(float(dev_size), 1.0)
        objective = l2 + l1 / alpha
        sample_size = float(tokens.sum())
        total = objective * sample_size  # the trainer divides gradients by the update's total sample_size
        if ignore_grad:
            total = total * 0
        optimizer.backward(total)
        if not ignore_grad:
            self._sums.loss_w += sums_w
            self._sums.tokens += tokens
            self._sums.dev_loss += float(dev_loss.detach())
            self._sums.dev_tokens += float(dev_size)
        logging_output["sample_size"] = sample_size
        return total.detach(), sample_size, logging_output

    def optimizer_step(self, optimizer, model, update_num):
        """Once per update on every rank, after w's gradients were all-reduced: u's and λ's steps, then w's."""
        if self.use_bilevel and self.lower is not None:
            inner = unwrap(model)
            self._keep_frozen_layers_still(optimizer, inner)
            if update_num % self.args.bilevel_interval == 0:
                self._outer_step(optimizer, update_num, inner)
            self._sums = None
        super().optimizer_step(optimizer, model, update_num)

    def _outer_step(self, optimizer, update_num, model) -> None:
        sums = self._sums or UpdateSums.zeros(len(self.groups))
        packed = sums.pack()
        if _distributed():
            device = next(model.parameters()).device
            packed = packed.to(device)
            torch.distributed.all_reduce(packed, group=distributed_utils.get_data_parallel_group())
            packed = packed.cpu()
        total = UpdateSums.unpack(packed, len(self.groups))

        # (1) u: one Adam step on the gradient accumulated over all micro-batches and ranks. With interval k, w
        # takes k steps per u step; a u that took 1/k of w's steps lags w on every source, and ℓ(w) − ℓ(u) then
        # measures how fast each source's loss is falling, not what the dev term does to it (the demo's bilevel
        # weights chased the newest source that way). An Adam step moves ~lr whatever the gradient's size, so one
        # step at k × lr keeps u's displacement level with w's.
        self.lower.step(inner_lr(optimizer.get_lr(), self.args.bilevel_inner_lr_scale, self.args.bilevel_interval),
                        total.u_sample_size)

        # (3) λ: one step on α Jᵀ(ℓ(w) − ℓ(u)), ℓ the update's per-group token means
        alpha = alpha_at(update_num, self.args.bilevel_alpha, self.args.bilevel_alpha_max,
                         self.args.bilevel_alpha_growth, self.args.bilevel_alpha_growth_every)
        counts = total.tokens.clamp(min=1.0)
        loss_w, loss_u = total.loss_w / counts, total.loss_u / counts
        present = (total.tokens > 0) & torch.isfinite(loss_w) & torch.isfinite(loss_u)
        if bool(present.any()):
            gradient = lambda_gradient(self._lam, torch.nan_to_num(loss_w), torch.nan_to_num(loss_u), alpha, present)
            self._lam.grad = gradient
            self._lambda_optimizer.step()
            self._lam.grad = None
        self._save_state(update_num + 1)
        if log_due(update_num, self.args.bilevel_log_interval, self.args.bilevel_interval):
            self._check_ranks_agree(model, update_num)
            dev_loss = total.dev_loss / max(total.dev_tokens, 1.0)
            self._log(update_num + 1, alpha, loss_w, loss_u, dev_loss, present)

    def _check_ranks_agree(self, model, update_num) -> None:
        """Every rank must hold the same λ (they take the same steps on all-reduced losses); a difference would
        silently train each replica on other weights, so it stops the run (like fairseq's gradient-norm check)."""
        if not _distributed():
            return
        both = torch.cat([self._lam, -self._lam]).to(next(model.parameters()).device)
        torch.distributed.all_reduce(both, op=torch.distributed.ReduceOp.MAX,
                                     group=distributed_utils.get_data_parallel_group())
        both = both.cpu()
        g = len(self.groups)
        if not (torch.equal(both[:g], self._lam) and torch.equal(-both[g:], self._lam)):
            raise RuntimeError(f"bilevel: λ differs across ranks at update {update_num + 1} "
                               f"(max {both[:g].tolist()}, min {(-both[g:]).tolist()})")

    def _log(self, update, alpha, loss_w, loss_u, dev_loss, present):
        if not self._log_path:
            return
        record = {
            "update": update,
            "alpha": alpha,
            "weights": self.weights(),
            "lambda": {g: round(float(v), 6) for g, v in zip(self.groups, self._lam)},
            "loss_w": {g: round(float(v), 4) for g, v, ok in zip(self.groups, loss_w, present) if ok},
            "loss_u": {g: round(float(v), 4) for g, v, ok in zip(self.groups, loss_u, present) if ok},
            "dev_loss": round(dev_loss, 4),
            "u_steps": int(self.lower.optimizer.state.get(self._probe_u, {}).get("step", 0)),  # Adam steps u took
        }
        if self._lisa_chosen:
            record["lisa"] = sorted(self._lisa_chosen)  # the layers trainable at this update
        with open(self._log_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        logger.info("bilevel weights @%d: %s", update, record["weights"])
