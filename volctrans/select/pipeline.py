"""The streaming pipeline: seed statistics, pass 1 over the pool (scores, projections on disk), clustering and
resampling, pass 2 writing the selected rows."""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from volctrans.errors import VolctransError
from volctrans.io import MalformedRow, atomic_write, display_name, iter_tsv_rows, read_tsv
from volctrans.select.config import SCORES_HEADER, Selection, SelectConfig
from volctrans.select.diversity import RandomProjection, _normalise, budget_count, cluster, resample
from volctrans.select.gradients import GradientScorer
from volctrans.select.finetune import finetune
from volctrans.select.influence import InfluenceScore, Moments, SeedDirection
from volctrans.select.model import LoadedModel, encode_pair, load_model

logger = logging.getLogger(__name__)


def _progress(total: int | None, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="pair", disable=not enabled, mininterval=1.0)


def encode_rows(scorer: GradientScorer, rows) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Encoded pairs of `rows`, leaving out those with a side empty after SentencePiece."""
    return [pair for row in rows if (pair := scorer.encode(row.source, row.target)) is not None]


def gradient_pass(scorer: GradientScorer, examples, sinks, desc: str, progress: bool) -> None:
    """Feed the per-example gradients of `examples` (in batches) to every sink's add()."""
    with _progress(len(examples), desc, progress) as bar:
        for grads in scorer.grads(examples):
            for sink in sinks:
                sink.add(grads)
            bar.update(len(grads))


def read_seed(scorer: GradientScorer, path: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The seed set, read strictly (a bad row is an error naming file and line)."""
    examples = encode_rows(scorer, read_tsv(path))
    if not examples:
        raise VolctransError(f"{path}: no usable seed pairs")
    return examples


def seed_statistics(scorer: GradientScorer, path: str, progress: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Mean seed gradient, empirical diagonal Fisher and the number of seed examples (strict input)."""
    moments = Moments(scorer.dim)
    gradient_pass(scorer, read_seed(scorer, path), [moments], "seed gradients", progress)
    return moments.mean, moments.fisher, moments.count


def sample_pool(path: str, size: int, seed: int) -> list:
    """A uniform random sample of `size` well-formed pool rows (reservoir sampling; all rows if fewer), in pool
    order. Malformed rows are left out here; pass 1 reports them."""
    generator = random.Random(seed)
    sample: list = []
    seen = 0
    for row in iter_tsv_rows(path, strict=False):
        if isinstance(row, MalformedRow):
            continue
        seen += 1
        if len(sample) < size:
            sample.append(row)
        else:
            slot = generator.randrange(seen)
            if slot < size:
                sample[slot] = row
    return sorted(sample, key=lambda row: row.line)


def score_function(scorer: GradientScorer, config: SelectConfig, summary: Selection) -> InfluenceScore:
    """Gradient statistics for the configured score: the pool sample (pool Fisher, pool mean) when needed, then the
    seed set (seed direction, seed Fisher)."""
    pool_moments = None
    if config.centre or (config.fisher_from == "pool" and config.fisher == "diagonal"):
        examples = encode_rows(scorer, sample_pool(config.pool, config.pool_sample, config.random_seed))
        if not examples:
            raise VolctransError(f"{config.pool}: no usable pool rows")
        pool_moments = Moments(scorer.dim)
        gradient_pass(scorer, examples, [pool_moments], "pool sample gradients", config.progress)
        summary.pool_sample = pool_moments.count
    centre = pool_moments.mean if config.centre else None
    seed_moments = Moments(scorer.dim)
    direction = SeedDirection(scorer.dim, centre, config.normalise)
    gradient_pass(scorer, read_seed(scorer, config.seed_file), [seed_moments, direction], "seed gradients",
                  config.progress)
    summary.seed_examples = seed_moments.count
    fisher = None
    if config.fisher == "diagonal":
        fisher = pool_moments.fisher if config.fisher_from == "pool" else seed_moments.fisher
    return InfluenceScore(direction.value, fisher, config.damping, centre, config.normalise)


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
    summary = Selection()
    if loaded is None:
        loaded = load_model(config.checkpoint, config.data)
    elif config.finetune.updates:
        loaded = copy.deepcopy(loaded)  # fine-tuning changes the weights: leave the caller's model alone
    if config.finetune.updates:
        # G-DIG's step 1: the model is trained on the candidate pool (all usable rows) before it scores it.
        rows = (row for row in iter_tsv_rows(config.pool, strict=False) if not isinstance(row, MalformedRow))
        examples = [pair for row in rows if (pair := encode_pair(loaded, row.source, row.target, config.src_lang,
                                                                  config.tgt_lang, config.max_pieces)) is not None]
        result = finetune(loaded, examples, config.finetune, config.random_seed, config.progress)
        summary.finetune_updates, summary.finetune_seconds = result.updates, result.seconds
        head, tail = result.losses[:10], result.losses[-10:]
        summary.finetune_loss = [sum(head) / len(head), sum(tail) / len(tail)]
        logger.info("fine-tuned %d updates in %.0fs: loss %.3f → %.3f", result.updates, result.seconds,
                    *summary.finetune_loss)
    scorer = GradientScorer(loaded, config)
    summary.gradient_dim = scorer.dim
    score = score_function(scorer, config, summary)
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
                    # the score's view of g(z) (centred / unit length) is also what the clusters are made from
                    transformed = score.transform(grads)
                    scores.extend(score.scores(transformed).tolist())
                    projected_file.write(projection(transformed).numpy().astype(np.float32).tobytes())
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
