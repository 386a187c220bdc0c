"""The `volctrans select` configuration and the summary of a run."""

from __future__ import annotations

from dataclasses import dataclass, field

SCORES_HEADER = ["line", "influence", "beneficial", "cluster", "selected"]


@dataclass
class FinetuneConfig:
    """G-DIG's step 1: fine-tune the model on the candidate pool before scoring (in process; see docs/selection.md).

    The recipe is the checkpoint's own (its cfg): label-smoothed cross-entropy, dropout, Adam β/ε/weight decay,
    gradient clipping and max_tokens batches; a fresh Adam state and an inverse-sqrt schedule with warm-up.
    """

    updates: int = 0  # 0: score with the checkpoint as given; N: fine-tune N updates on all usable pool rows first
    lr: float | None = None  # peak lr; default: the lr the checkpoint's own schedule had reached at its last update
    warmup_updates: int | None = None  # default: updates // 10 (at least 1)
    max_tokens: int | None = None  # tokens per batch; default: the checkpoint's
    save: str | None = None  # also write the fine-tuned weights here (a checkpoint `volctrans select` can load)

    def problems(self) -> list[str]:
        """Checked by SelectConfig.validate, so that they are reported together with the other keys' problems."""
        problems = []
        if self.updates < 0:
            problems.append("finetune.updates: must be ≥ 0")
        if self.lr is not None and not self.lr > 0:
            problems.append("finetune.lr: must be > 0")
        if self.warmup_updates is not None and self.warmup_updates < 1:
            problems.append("finetune.warmup_updates: must be ≥ 1")
        if self.max_tokens is not None and self.max_tokens < 1:
            problems.append("finetune.max_tokens: must be ≥ 1")
        return problems


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
    # Scoring variant; the defaults are the best measured one (docs/selection.md). The plain G-DIG score of earlier
    # versions is fisher_from: seed, centre: false, normalise: false.
    fisher_from: str = "pool"  # pool (a random sample of the pool, as G-DIG does) | seed (the seed set's gradients)
    pool_sample: int = 1000  # pool rows (random, random_seed) for the pool Fisher and the pool-mean gradient
    centre: bool = True  # subtract the pool-mean gradient from every pool and seed gradient before scoring
    normalise: bool = True  # LESS-style: unit-length gradients (pool and each seed example), i.e. a cosine score
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
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
        if self.fisher_from not in ("seed", "pool"):
            problems.append("fisher_from: must be seed or pool")
        if self.damping < 0:
            problems.append("damping: must be ≥ 0")
        for name in ("projection_dim", "clusters", "batch_size", "chunk_size", "max_pieces", "threads", "pool_sample"):
            if getattr(self, name) < 1:
                problems.append(f"{name}: must be ≥ 1")
        if not self.params:
            problems.append("params: list at least one module name pattern, e.g. decoder.layers.*.fc2")
        problems.extend(self.finetune.problems())
        if self.pool == "-":
            problems.append("pool: must be a file (it is read twice), not stdin")
        return problems


# ---------------------------------------------------------------------------------------------------------------


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
    pool_sample: int = 0  # pool rows whose gradients gave the pool Fisher / pool mean (0: not used)
    finetune_updates: int = 0
    finetune_loss: list[float] = field(default_factory=list)  # mean training loss of the first and last 10 updates
    finetune_seconds: float = 0.0
    seconds: float = 0.0  # everything: loading, fine-tuning, statistics, scoring, clustering, writing
    problems: list[str] = field(default_factory=list)  # "file:line: reason" of skipped rows (first 20)

    @property
    def pairs_per_s(self) -> float:
        """Pool rows per second of the selection itself (fine-tuning excluded; it is reported on its own)."""
        seconds = self.seconds - self.finetune_seconds
        return self.rows / seconds if seconds > 0 else 0.0

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["pairs_per_s"] = round(self.pairs_per_s, 1)
        out["seconds"] = round(self.seconds, 1)
        out["finetune_seconds"] = round(self.finetune_seconds, 1)
        out["finetune_loss"] = [round(x, 4) for x in self.finetune_loss]
        return out
