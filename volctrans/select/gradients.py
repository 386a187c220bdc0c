"""Per-example gradients w.r.t. the weights and biases of selected Linear modules, in batches."""

from __future__ import annotations

import fnmatch
from typing import Iterator, Sequence

import torch
from torch import nn

from volctrans.errors import VolctransError
from volctrans.select.config import SelectConfig
from volctrans.select.model import LoadedModel, collate, encode_pair, per_example_loss


def select_modules(model: nn.Module, patterns: Sequence[str]) -> list[tuple[str, nn.Linear]]:
    """Linear modules whose names match any fnmatch pattern, in model order; an unmatched pattern is an error."""
    linear = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    chosen = [(name, module) for name, module in linear if any(fnmatch.fnmatchcase(name, p) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(name, p) for name, _ in linear)]
    if unmatched:
        names = ", ".join(name for name, _ in linear[:8])
        raise VolctransError(f"params: no Linear module matches {', '.join(unmatched)} (e.g. {names}, ...)")
    return chosen


def gradient_size(modules: Sequence[tuple[str, nn.Linear]]) -> int:
    return sum(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0) for _, m in modules)


def _time_first(name: str) -> bool:
    # fairseq transformer layers work on T×B×C tensors; everything outside `*.layers.*` (e.g. output_projection)
    # sees B×T×C.
    return ".layers." in f".{name}."


def per_example_grads_loop(model: nn.Module, modules: Sequence[tuple[str, nn.Linear]],
                           examples: Sequence[tuple[torch.Tensor, torch.Tensor]], pad: int, eos: int) -> torch.Tensor:
    """(B, D) gradients, one forward/backward per example (the reference implementation)."""
    params = [p for _, m in modules for p in ((m.weight, m.bias) if m.bias is not None else (m.weight,))]
    rows = []
    for example in examples:
        loss = per_example_loss(model, collate([example], pad, eos), pad).sum()
        grads = torch.autograd.grad(loss, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def per_example_grads_hooks(model: nn.Module, modules: Sequence[tuple[str, nn.Linear]],
                            examples: Sequence[tuple[torch.Tensor, torch.Tensor]], pad: int, eos: int) -> torch.Tensor:
    """(B, D) gradients from ONE batched backward of Σ_b loss_b.

    For a Linear layer y = W a + b, the gradient of loss_b is Σ_t δ_bt a_btᵀ (and Σ_t δ_bt), where δ_bt = ∂loss/∂y_bt
    of the summed loss: examples do not interact (padding is masked, pads get δ = 0), so it splits per example.
    """
    batch = collate(examples, pad, eos)
    inputs: dict[str, torch.Tensor] = {}
    output_grads: dict[str, torch.Tensor] = {}
    handles = []

    def forward_hook(name):
        def hook(module, args, output):
            inputs[name] = args[0].detach()
            output.register_hook(lambda grad: output_grads.__setitem__(name, grad.detach()))
        return hook

    for name, module in modules:
        handles.append(module.register_forward_hook(forward_hook(name)))
    try:
        # Gradients are only needed w.r.t. module outputs; parameters still require grad so the graph is built.
        loss = per_example_loss(model, batch, pad).sum()
        loss.backward(inputs=[m.weight for _, m in modules])
    finally:
        for handle in handles:
            handle.remove()
        for _, module in modules:
            module.weight.grad = None
    parts = []
    for name, module in modules:
        if name not in output_grads:
            raise VolctransError(f"params: {name} is not called as a module (its weight is used by a fused "
                                 "kernel); use per_example: loop")
        activation, delta = inputs[name], output_grads[name]
        if activation.dim() == 2:  # (B, C): one position per example
            activation, delta = activation.unsqueeze(1), delta.unsqueeze(1)
        elif _time_first(name):
            activation, delta = activation.transpose(0, 1), delta.transpose(0, 1)
        parts.append(torch.einsum("bto,bti->boi", delta, activation).reshape(len(examples), -1))
        if module.bias is not None:
            parts.append(delta.sum(1))
    return torch.cat(parts, dim=1)


PER_EXAMPLE = {"hooks": per_example_grads_hooks, "loop": per_example_grads_loop}


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class GradientScorer:
    """Per-example gradients of one loaded model in batches."""

    def __init__(self, loaded: LoadedModel, config: SelectConfig):
        self.loaded = loaded
        self.config = config
        self.modules = select_modules(loaded.model, config.params)
        self.dim = gradient_size(self.modules)
        self.pad = loaded.dictionary.pad()
        self.eos = loaded.dictionary.eos()
        self.compute = PER_EXAMPLE[config.per_example]
        if config.per_example == "hooks":
            uses: dict[int, int] = {}
            for _, parameter in loaded.model.named_parameters(remove_duplicate=False):
                uses[id(parameter)] = uses.get(id(parameter), 0) + 1
            tied = [name for name, module in self.modules if uses.get(id(module.weight), 0) > 1]
            if tied:
                raise VolctransError(f"params: {', '.join(tied)} share their weight with another module (tied "
                                     "embeddings); hooks would miss the other use: use per_example: loop")

    def encode(self, source: str, target: str):
        c = self.config
        return encode_pair(self.loaded, source, target, c.src_lang, c.tgt_lang, c.max_pieces)

    def grads(self, examples: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> Iterator[torch.Tensor]:
        for batch in _batches(examples, self.config.batch_size):
            yield self.compute(self.loaded.model, self.modules, batch, self.pad, self.eos)
