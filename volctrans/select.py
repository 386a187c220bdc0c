"""G-DIG data selection (Pan et al., 2024) for our fairseq models: influence on a seed set + gradient clustering.

For each pool example z, the gradient g(z) of its loss w.r.t. a chosen subset of parameters (default: the decoder
FFN output layers) is compared with the mean gradient of a small high-quality seed set:

    influence(z) = −g(z)ᵀ (F + λI)⁻¹ ḡ_seed,        ḡ_seed = mean over seed examples q of g(q)

A preconditioned SGD step on z, θ' = θ − η (F + λI)⁻¹ g(z), changes the seed loss by ≈ −η ḡ_seedᵀ(F + λI)⁻¹g(z)
= η · influence(z). So a NEGATIVE influence means the example lowers the seed loss: it is *beneficial*.

F is the damped empirical diagonal Fisher (mean of squared per-example gradients on the seed set); λ is `damping`
times the mean of F's diagonal. With a diagonal F the seed gradient is preconditioned once, v = (F + λI)⁻¹ ḡ_seed,
and each score is the exact dot product −g(z)·v in the full parameter subset. A seeded random projection of g(z)
(Gaussian, generated in row blocks) feeds only the diversity step: k-means on the L2-normalised projected
gradients of the beneficial examples, then round-robin over clusters, most beneficial first, until the budget.

The pool is streamed in chunks: pass 1 scores and projects (projections go to a disk-backed array), pass 2 writes
the selected rows in pool order with every column unchanged. See docs/selection.md.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from volctrans.artifacts import DICTIONARY, LANG_DICT, SPM_MODEL, checkpoint_args, lang_token, load_checkpoint
from volctrans.errors import VolctransError
from volctrans.io import MalformedRow, atomic_write, display_name, iter_tsv_rows, read_tsv

logger = logging.getLogger(__name__)

SCORES_HEADER = ["line", "influence", "beneficial", "cluster", "selected"]


@dataclass
class SelectConfig:
    checkpoint: str
    pool: str
    seed_file: str  # the high-quality seed set: source<TAB>target (e.g. a dev split; never the test split)
    src_lang: str
    tgt_lang: str
    budget: float  # ≥ 1: number of rows; in (0, 1): fraction of the pool's usable rows
    output: str
    scores: str | None = None  # per-row TSV: line, influence, beneficial, cluster, selected
    data: str | None = None  # `volctrans prepare` folder (spm.model, dict.txt, bin/langs.txt); default: from checkpoint
    params: list[str] = field(default_factory=lambda: ["decoder.layers.*.fc2"])  # Linear modules (fnmatch on names)
    fisher: str = "diagonal"  # diagonal (damped empirical Fisher) | identity (plain gradient dot product)
    damping: float = 0.1  # λ = damping × mean(diag F)
    projection_dim: int = 128
    clusters: int = 32
    resample: str = "round_robin"  # round_robin (equal share per cluster) | proportional (share ∝ cluster size)
    per_example: str = "loop"  # loop (batch of one; faster here, see docs) | hooks (one batched backward)
    batch_size: int = 32
    chunk_size: int = 2048  # pool rows read, scored and projected at a time
    max_pieces: int = 250  # longer sides are truncated (the model's positions are also respected)
    random_seed: int = 1
    threads: int = 1
    progress: bool = True

    def validate(self) -> list[str]:
        problems = []
        if not self.budget > 0:
            problems.append("budget: must be a count ≥ 1 or a fraction in (0, 1)")
        elif self.budget >= 1 and self.budget != int(self.budget):
            problems.append("budget: a count must be a whole number (or give a fraction in (0, 1))")
        if self.fisher not in ("diagonal", "identity"):
            problems.append("fisher: must be diagonal or identity (K-FAC is not implemented; see docs/selection.md)")
        if self.resample not in ("round_robin", "proportional"):
            problems.append("resample: must be round_robin or proportional")
        if self.per_example not in ("hooks", "loop"):
            problems.append("per_example: must be hooks or loop")
        if self.damping < 0:
            problems.append("damping: must be ≥ 0")
        for name in ("projection_dim", "clusters", "batch_size", "chunk_size", "max_pieces", "threads"):
            if getattr(self, name) < 1:
                problems.append(f"{name}: must be ≥ 1")
        if not self.params:
            problems.append("params: list at least one module name pattern, e.g. decoder.layers.*.fc2")
        if self.pool == "-":
            problems.append("pool: must be a file (it is read twice), not stdin")
        return problems


# ---------------------------------------------------------------------------------------------------------------
# The model: a fairseq checkpoint with its prepared folder (dictionary, SentencePiece, language tokens)


@dataclass
class LoadedModel:
    model: nn.Module
    dictionary: object  # fairseq Dictionary with the language tokens appended
    processor: object  # sentencepiece.SentencePieceProcessor
    max_source_positions: int
    max_target_positions: int

    def lang_token(self, lang: str) -> int:
        index = self.dictionary.index(lang_token(lang))
        if index == self.dictionary.unk():
            raise VolctransError(f"unknown language '{lang}': the model has no {lang_token(lang)} token")
        return index


def load_model(checkpoint: str | Path, data: str | Path | None = None) -> LoadedModel:
    """Rebuild the fairseq transformer of `checkpoint` without its task (no training data is opened).

    The dictionary is the prepared dict.txt plus one `__lang__` token per line of bin/langs.txt, in that order,
    exactly as fairseq's multilingual task augments it; a size mismatch with the checkpoint is an error.
    """
    import sentencepiece as spm
    from fairseq.data import Dictionary
    from fairseq.models.transformer import TransformerModel

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise VolctransError(f"checkpoint not found: {checkpoint}")
    state = load_checkpoint(checkpoint)
    model_args = checkpoint_args(state)
    if model_args is None or "model" not in state:
        raise VolctransError(f"{checkpoint}: not a fairseq checkpoint (no cfg/model)")
    if data is None:
        task_data = str(getattr(checkpoint_args(state, "task"), "data", "") or "")
        data = Path(task_data.split(":")[0]).parent if task_data else None
    if data is None or not (Path(data) / DICTIONARY).is_file():
        raise VolctransError(f"prepared data folder with {DICTIONARY} not found: {data} (pass --data)")
    data = Path(data)
    for name in (SPM_MODEL, f"bin/{LANG_DICT}"):
        if not (data / name).is_file():
            raise VolctransError(f"{data / name}: not found (is {data} a `volctrans prepare` folder?)")
    dictionary = Dictionary.load(str(data / DICTIONARY))
    for lang in (data / "bin" / LANG_DICT).read_text(encoding="utf-8").split():
        dictionary.add_symbol(lang_token(lang))
    expected = state["model"]["encoder.embed_tokens.weight"].shape[0]
    if len(dictionary) != expected:
        raise VolctransError(f"{data}: dictionary has {len(dictionary)} entries but the checkpoint expects {expected} "
                             "(wrong --data for this checkpoint?)")

    class _Task:  # all TransformerModel.build_model needs from a task
        source_dictionary = target_dictionary = dictionary

    model = TransformerModel.build_model(model_args, _Task())
    model.load_state_dict(state["model"], strict=True)
    model.eval()  # no dropout: gradients are those of the deterministic loss
    processor = spm.SentencePieceProcessor(model_file=str(data / SPM_MODEL))
    return LoadedModel(model, dictionary, processor, int(model_args.max_source_positions),
                       int(model_args.max_target_positions))


def encode_pair(loaded: LoadedModel, source: str, target: str, src_lang: str, tgt_lang: str,
                max_pieces: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Token ids as fairseq's multilingual task trains on them: [__src__] x </s> and [__tgt__] y </s>.

    None when a side is empty after SentencePiece.
    """
    source_pieces = loaded.processor.encode(source, out_type=str)
    target_pieces = loaded.processor.encode(target, out_type=str)
    if not source_pieces or not target_pieces:
        return None
    source_pieces = source_pieces[: min(max_pieces, loaded.max_source_positions - 2)]
    target_pieces = target_pieces[: min(max_pieces, loaded.max_target_positions - 2)]
    d = loaded.dictionary
    src = torch.tensor([loaded.lang_token(src_lang)] + [d.index(p) for p in source_pieces] + [d.eos()])
    tgt = torch.tensor([loaded.lang_token(tgt_lang)] + [d.index(p) for p in target_pieces] + [d.eos()])
    return src, tgt


def collate(examples: Sequence[tuple[torch.Tensor, torch.Tensor]], pad: int, eos: int) -> dict[str, torch.Tensor]:
    """A fairseq batch: left-padded source, right-padded target, decoder input = target shifted right with </s>."""
    from fairseq.data import data_utils

    sources = [src for src, _ in examples]
    targets = [tgt for _, tgt in examples]
    return {
        "src_tokens": data_utils.collate_tokens(sources, pad, eos, left_pad=True),
        "src_lengths": torch.tensor([len(src) for src in sources]),
        "prev_output_tokens": data_utils.collate_tokens(targets, pad, eos, left_pad=False, move_eos_to_beginning=True),
        "target": data_utils.collate_tokens(targets, pad, eos, left_pad=False),
    }


def per_example_loss(model: nn.Module, batch: dict[str, torch.Tensor], pad: int) -> torch.Tensor:
    """(B,) token-averaged negative log-likelihood of each example (no label smoothing)."""
    output = model(batch["src_tokens"], batch["src_lengths"], batch["prev_output_tokens"])
    log_probs = model.get_normalized_probs(output, log_probs=True)
    target = batch["target"]
    nll = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    mask = target.ne(pad)
    return (nll * mask).sum(1) / mask.sum(1)


# ---------------------------------------------------------------------------------------------------------------
# Per-example gradients w.r.t. the weights and biases of selected Linear modules


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


# ---------------------------------------------------------------------------------------------------------------
# Fisher, influence, projection, clustering, resampling (pure)


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
# The streaming pipeline


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _progress(total: int | None, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="pair", disable=not enabled, mininterval=1.0)


@dataclass
class Selection:
    """What a run did, for the CLI's summary line and for tests."""

    rows: int = 0  # usable pool rows
    malformed: int = 0  # unparsable rows (missing column, bad UTF-8), reported and skipped
    empty: int = 0  # a side empty after SentencePiece, skipped
    beneficial: int = 0
    budget: int = 0
    selected: int = 0
    clusters: int = 0
    gradient_dim: int = 0
    seed_examples: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # "file:line: reason" of skipped rows (first 20)

    @property
    def pairs_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["pairs_per_s"] = round(self.pairs_per_s, 1)
        out["seconds"] = round(self.seconds, 1)
        return out


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


def seed_statistics(scorer: GradientScorer, path: str, progress: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Mean seed gradient, empirical diagonal Fisher and the number of seed examples (strict input)."""
    examples = []
    for row in read_tsv(path):
        encoded = scorer.encode(row.source, row.target)
        if encoded is not None:
            examples.append(encoded)
    if not examples:
        raise VolctransError(f"{path}: no usable seed pairs")
    total = torch.zeros(scorer.dim, dtype=torch.float64)
    squares = torch.zeros(scorer.dim, dtype=torch.float64)
    with _progress(len(examples), "seed gradients", progress) as bar:
        for grads in scorer.grads(examples):
            total += grads.double().sum(0)
            squares += grads.double().pow(2).sum(0)
            bar.update(len(grads))
    count = len(examples)
    return total / count, diagonal_fisher(squares, count), count


def _pool_chunks(path: str, chunk_size: int, summary: Selection) -> Iterator[list]:
    chunk = []
    for row in iter_tsv_rows(path, strict=False):
        if isinstance(row, MalformedRow):
            summary.malformed += 1
            problem = f"{display_name(path)}:{row.line}: {row.reason}"
            if len(summary.problems) < 20:
                summary.problems.append(problem)
            logger.warning("skipped %s", problem)
            continue
        chunk.append(row)
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def select(config: SelectConfig, loaded: LoadedModel | None = None) -> Selection:
    """Score, cluster and resample the pool; write config.output (and config.scores) atomically."""
    start = time.perf_counter()
    torch.manual_seed(config.random_seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _select(config, loaded, start)
    finally:
        torch.set_num_threads(previous_threads)


def _select(config: SelectConfig, loaded: LoadedModel | None, start: float) -> Selection:
    if not Path(config.pool).is_file():
        raise VolctransError(f"{config.pool}: pool not found")
    loaded = loaded or load_model(config.checkpoint, config.data)
    scorer = GradientScorer(loaded, config)
    summary = Selection(gradient_dim=scorer.dim)
    seed_gradient, fisher, summary.seed_examples = seed_statistics(scorer, config.seed_file, config.progress)
    v = precondition(seed_gradient, fisher if config.fisher == "diagonal" else None, config.damping)
    projection = RandomProjection(scorer.dim, config.projection_dim, config.random_seed)
    logger.info("%d seed pairs; gradient dim %d over %d modules; projecting to %d", summary.seed_examples,
                scorer.dim, len(scorer.modules), config.projection_dim)

    lines: list[int] = []
    scores: list[float] = []
    output_dir = Path(config.output).parent
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".select-", dir=output_dir) as work:
        projected_path = Path(work) / "projected.f32"
        # pass 1: influence and projected gradient of every usable row
        with open(projected_path, "wb") as projected_file, _progress(None, "pool gradients", config.progress) as bar:
            for chunk in _pool_chunks(config.pool, config.chunk_size, summary):
                encoded, chunk_lines = [], []
                for row in chunk:
                    pair = scorer.encode(row.source, row.target)
                    if pair is None:
                        summary.empty += 1
                        continue
                    encoded.append(pair)
                    chunk_lines.append(row.line)
                for grads in scorer.grads(encoded):
                    scores.extend(influence(grads, v).tolist())
                    projected_file.write(projection(grads).numpy().astype(np.float32).tobytes())
                    bar.update(len(grads))
                lines.extend(chunk_lines)
        summary.rows = len(lines)
        if summary.rows == 0:
            raise VolctransError(f"{config.pool}: no usable pool rows")
        score_array = np.array(scores)
        projected = np.memmap(projected_path, dtype=np.float32, mode="r", shape=(summary.rows, config.projection_dim))
        beneficial = score_array < 0
        summary.beneficial = int(beneficial.sum())
        summary.budget = budget_count(config.budget, summary.rows)
        labels = np.full(summary.rows, -1, dtype=np.int64)
        chosen = np.array([], dtype=np.int64)
        if summary.beneficial:
            candidates = np.flatnonzero(beneficial)
            candidate_labels, kmeans = cluster(np.asarray(projected[candidates]), config.clusters, config.random_seed)
            summary.clusters = int(kmeans.n_clusters)
            # Every row gets its nearest cluster (for inspection); only beneficial rows are candidates.
            for begin in range(0, summary.rows, 65536):
                labels[begin:begin + 65536] = kmeans.predict(_normalise(np.asarray(projected[begin:begin + 65536])))
            labels[candidates] = candidate_labels
            chosen = candidates[resample(score_array[candidates], candidate_labels, summary.budget, config.resample)]
        del projected
    summary.selected = len(chosen)
    if summary.selected < summary.budget:
        logger.warning("only %d beneficial rows for a budget of %d: selected them all", summary.beneficial,
                       summary.budget)
    selected_lines = set(np.asarray(lines)[chosen].tolist())
    _write_outputs(config, lines, score_array, beneficial, labels, selected_lines)
    summary.seconds = time.perf_counter() - start
    return summary


def _write_outputs(config: SelectConfig, lines: list[int], scores: np.ndarray, beneficial: np.ndarray,
                   labels: np.ndarray, selected_lines: set[int]) -> None:
    """Pass 2: selected rows in pool order, columns unchanged; the scores TSV. Both appear, or neither."""
    with contextlib.ExitStack() as stack:
        scores_handle = stack.enter_context(atomic_write(config.scores)) if config.scores else None
        out = stack.enter_context(atomic_write(config.output))
        for row in iter_tsv_rows(config.pool, strict=False):
            if not isinstance(row, MalformedRow) and row.line in selected_lines:
                out.write("\t".join(row.fields()) + "\n")
        if scores_handle is not None:
            scores_handle.write("\t".join(SCORES_HEADER) + "\n")
            for index, line in enumerate(lines):
                scores_handle.write(f"{line}\t{scores[index]:.6g}\t{int(beneficial[index])}\t{labels[index]}\t"
                                    f"{int(line in selected_lines)}\n")

