"""The bilevel task inside fairseq's own Trainer, in one CPU process, on the tiny sample plus a noisy copy.

fairseq's mixed-precision paths run on CPU when the optimizer wrapper does not flatten gradients: `--fp16
--fp16-no-flatten-grads` (FP16Optimizer with dynamic loss scaling) and `--bf16` (FP16Optimizer without scaling;
fairseq's parser makes --bf16 imply --tpu, which volctrans_fairseq.train undoes). The model is halved by the
Trainer exactly as in a GPU run. Multi-process behaviour is checked with fairseq's own DDP wrapper in a one-process
gloo world (every collective a rank enters is recorded), and for real by tests/integration/test_bilevel.py.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from tests.conftest import DATA
from volctrans.cli.main import main

pytestmark = pytest.mark.slow  # each test builds a fairseq Trainer and trains a few updates (5-20 s)

from fairseq import tasks  # noqa: E402
from fairseq.data import iterators  # noqa: E402
from fairseq.dataclass.utils import convert_namespace_to_omegaconf  # noqa: E402
from fairseq.trainer import Trainer  # noqa: E402

import volctrans_fairseq  # noqa: E402,F401  (registers the task)
from volctrans.config import from_dict  # noqa: E402
from volctrans.artifacts import load_prepared  # noqa: E402
from volctrans.train import TrainConfig, fairseq_arguments  # noqa: E402
from volctrans_fairseq.train import parse_args  # noqa: E402

TINY = {"encoder_layers": 2, "decoder_layers": 1, "embed_dim": 32, "ffn_dim": 64, "attention_heads": 2,
        "max_tokens": 400, "lr": 0.003, "warmup_updates": 2, "max_positions": 128, "dropout": 0.0,
        "validate_interval_updates": 1000, "save_interval_updates": 1000}
LAYERS = ("encoder.layers.0.", "encoder.layers.1.", "decoder.layers.0.")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    work = tmp_path_factory.mktemp("bilevel-task")
    assert main(["data", "noisy", "--from", str(DATA / "tiny"), "--out", str(work / "noisy"), "--rate", "0.5"]) == 0
    assert main(["prepare", "--corpora", str(DATA / "tiny"), str(work / "noisy"), "--out", str(work / "prepared"),
                 "--vocab-size", "1000"]) == 0
    return work / "prepared"


class Run:
    """A fairseq Trainer on the volctrans task, fed the way fairseq_cli.train feeds it."""

    def __init__(self, prepared, save_dir, precision="fp32", bilevel=None, extra=(), epoch=1, **overrides):
        config = from_dict(TrainConfig, {"data": str(prepared), "save_dir": str(save_dir), "weighting": "bilevel",
                                         "device": "cpu", **TINY, **overrides,
                                         "bilevel": {"log_interval": 1, **(bilevel or {})}})
        save_dir.mkdir(parents=True, exist_ok=True)  # fairseq writes crash.pt there when a step raises
        argv = fairseq_arguments(config, load_prepared(str(prepared))) + list(extra)
        argv += {"fp32": [], "fp16": ["--fp16"], "bf16": ["--bf16"]}[precision]
        self.cfg = convert_namespace_to_omegaconf(parse_args(argv))  # what `volctrans train` runs, --bf16 included
        self.task = tasks.setup_task(self.cfg.task)
        self.task.load_dataset(self.cfg.dataset.valid_subset, combine=False, epoch=1)
        model = self.task.build_model(self.cfg.model)
        criterion = self.task.build_criterion(self.cfg.criterion)
        self.trainer = Trainer(self.cfg, self.task, model, criterion)
        self.update_freq = config.update_freq
        self.start_epoch(epoch)

    def start_epoch(self, epoch):
        """fairseq_cli.train's order: the epoch's batches are fixed (next_epoch_itr), then begin_epoch."""
        load = self.cfg.dataset.train_subset not in self.task.datasets or self.task.has_sharded_data("train")
        epoch_itr = self.trainer.get_train_iterator(epoch=epoch, load_dataset=load)
        self.batches = list(epoch_itr.next_epoch_itr(shuffle=True))
        self.trainer.begin_epoch(epoch)
        self.groups = iterators.GroupedIterator(self.batches, self.update_freq)

    def updates(self, n):
        for samples in itertools.islice(self.groups, n):
            self.trainer.train_step(samples)

    def named_w(self):
        return dict(self.trainer.get_model().named_parameters())


def _layer(name):
    return next((prefix for prefix in LAYERS if name.startswith(prefix)), None)


def _group_shares(task, batches):
    counts = {}
    for batch in batches:
        for key, sub_batch in batch.items():
            counts[task.group_of(key)] = counts.get(task.group_of(key), 0) + sub_batch["nsentences"]
    total = sum(counts.values())
    return {group: count / total for group, count in counts.items()}


# ---- 1. mixed precision: u keeps fp32 master weights ----------------------------------------------------------------
def test_fp16_lower_level_copy_has_fp32_master_weights_and_lambda_stays_finite(prepared, tmp_path):
    run = Run(prepared, tmp_path / "ckpt", precision="fp16", extra=["--fp16-no-flatten-grads"],
              bilevel={"lambda_lr": 1.0}, update_freq=2)
    run.updates(3)
    assert next(run.trainer.get_model().parameters()).dtype == torch.float16  # w was halved by the Trainer
    assert {p.dtype for p in run.task.lower.model.parameters()} == {torch.float32}
    assert all(torch.isfinite(p).all() for p in run.task.lower.model.parameters())
    assert torch.isfinite(run.task.lam).all()
    embed = run.task.lower.model.encoder.embed_tokens.weight
    assert int(run.task.lower.optimizer.state[embed]["step"]) == 3  # loss scaling kept u's steps finite
    weights = run.task.weights()
    assert abs(sum(weights.values()) - 1) < 1e-6 and weights != {"libreoffice": 0.5, "noisy": 0.5}


def test_bf16_lower_level_copy_moves_at_small_learning_rates(prepared, tmp_path):
    run = Run(prepared, tmp_path / "ckpt", precision="bf16", lr=1e-4)
    run.updates(1)  # sets u up (a copy of w) and takes u's first step
    before = [p.detach().clone() for p in run.task.lower.model.parameters()]
    run.updates(2)
    after = list(run.task.lower.model.parameters())
    assert {p.dtype for p in after} == {torch.float32}
    moved = sum(int((a != b).sum()) for a, b in zip(after, before)) / sum(b.numel() for b in before)
    # Adam moves every element with a gradient by ≈ lr (5e-5 here); bf16 weights (8-bit mantissa) would not move.
    assert moved > 0.9


# ---- 2. LISA under mixed precision ---------------------------------------------------------------------------------
def _fp32_masters(trainer):
    names = {id(p): n for n, p in trainer.get_model().named_parameters()}
    return {names[id(p16)]: p32.detach().clone()
            for p16, p32 in zip(trainer.optimizer.fp16_params, trainer.optimizer.fp32_params)}


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_lisa_frozen_layers_do_not_move_under_mixed_precision(prepared, tmp_path, precision):
    run = Run(prepared, tmp_path / "ckpt", precision=precision, extra=["--fp16-no-flatten-grads"],
              bilevel={"lisa_layers": 1, "lisa_interval": 2}, seed=3)
    run.updates(2)  # window 1: updates 0-1
    first_window = list(run.task._lisa_chosen)
    w_before = {n: p.detach().clone() for n, p in run.named_w().items()}
    masters_before = _fp32_masters(run.trainer)
    run.updates(2)  # window 2: updates 2-3
    second_window = list(run.task._lisa_chosen)
    assert first_window != second_window  # a layer trained in window 1 is frozen in window 2 (Adam has momentum)
    masters_after = _fp32_masters(run.trainer)
    for name, parameter in run.named_w().items():
        layer = _layer(name)
        if layer is None or layer in second_window:
            continue
        assert torch.equal(parameter, w_before[name]), name
        assert torch.equal(masters_after[name], masters_before[name]), f"fp32 master of frozen {name} drifted"
    trained = [n for n in run.named_w() if _layer(n) in second_window]
    assert any(not torch.equal(run.named_w()[n], w_before[n]) for n in trained)


def test_lisa_refuses_flat_fp16_gradients(prepared, tmp_path, monkeypatch):
    # The flat FP16Optimizer asks CUDA for its device; on CPU the same code runs with device index None.
    monkeypatch.setattr(torch.cuda, "current_device", lambda: None)
    run = Run(prepared, tmp_path / "ckpt", precision="fp16", bilevel={"lisa_layers": 1, "lisa_interval": 2}, seed=3)
    with pytest.raises(RuntimeError, match="--fp16-no-flatten-grads"):
        run.updates(1)


# ---- 3. + 5. under fairseq's DDP wrapper --------------------------------------------------------------------------
@pytest.fixture
def one_process_world(tmp_path, monkeypatch):
    """A real gloo process group of one rank, and the Trainer wrapping the model as in a multi-process run."""
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0,
                                         world_size=1)
    monkeypatch.setattr(Trainer, "use_distributed_wrapper", property(lambda self: True))
    yield
    torch.distributed.destroy_process_group()
    from fairseq.distributed import utils as distributed_utils

    if hasattr(distributed_utils.get_global_group, "_global_group"):  # fairseq caches the group it made
        del distributed_utils.get_global_group._global_group


def test_lisa_freezes_layers_of_a_ddp_wrapped_model(prepared, tmp_path, one_process_world):
    run = Run(prepared, tmp_path / "ckpt", bilevel={"lisa_layers": 1, "lisa_interval": 2},
              extra=["--ddp-backend", "legacy_ddp"])
    assert next(iter(dict(run.trainer.model.named_parameters()))).startswith("module.")
    run.updates(1)
    trainable = {_layer(n) for n, p in run.trainer.get_model().named_parameters() if p.requires_grad}
    assert trainable - {None} == set(run.task._lisa_chosen) and len(run.task._lisa_chosen) == 1
    trainable_u = {_layer(n) for n, p in run.task.lower.model.named_parameters() if p.requires_grad}
    assert trainable_u - {None} == set(run.task._lisa_chosen)


def _record_collectives(monkeypatch):
    calls = []
    for name in ("all_reduce", "broadcast", "all_gather", "all_gather_object", "broadcast_object_list", "barrier"):
        real = getattr(torch.distributed, name)

        def recorder(*args, _real=real, _name=name, **kwargs):
            tensor = args[0] if args and torch.is_tensor(args[0]) else None
            calls.append((_name, tuple(tensor.shape) if tensor is not None else None))
            return _real(*args, **kwargs)

        monkeypatch.setattr(torch.distributed, name, recorder)
    return calls


def test_a_rank_on_a_dummy_batch_enters_the_same_collectives(prepared, tmp_path, one_process_world, monkeypatch):
    """At an epoch's end short ranks get a dummy batch (ignore_grad): they must enter every collective the others
    enter, in the same order, or the others hang in all_reduce. The dummy is the first batch of the last iterator
    the Trainer built: after a validation (every checkpoint save runs one), a validation batch."""
    sequences = []
    for dummy in (False, True):
        run = Run(prepared, tmp_path / f"ckpt{dummy}", bilevel={"lisa_layers": 1}, extra=["--ddp-backend", "legacy_ddp"],
                  update_freq=2)
        run.updates(1)  # first update: u is set up from w on every rank
        run.trainer.get_valid_iterator(run.cfg.dataset.valid_subset)
        calls = _record_collectives(monkeypatch)
        samples = next(run.groups)
        run.trainer.train_step([samples[0], None] if dummy else samples)  # None: the Trainer's dummy batch
        sequences.append(calls)
        monkeypatch.undo()
        monkeypatch.setattr(Trainer, "use_distributed_wrapper", property(lambda self: True))
    real, dummy = sequences
    assert real and real == dummy


# ---- 4. gradient accumulation --------------------------------------------------------------------------------------
def test_update_freq_steps_u_and_lambda_once_per_update_on_all_micro_batches(prepared, tmp_path):
    import json

    run = Run(prepared, tmp_path / "ckpt", update_freq=2, bilevel={"lambda_lr": 1.0})
    run.updates(1)
    samples = next(run.groups)
    # Per-group token-mean losses of w over both micro-batches, before the update (dropout 0: deterministic).
    sums, tokens = {}, {}
    model, criterion = run.trainer.get_model(), run.trainer.get_criterion()
    with torch.no_grad():
        for sample in samples:
            for key, sub_batch in sample.items():
                loss, size, _ = criterion(model, sub_batch)
                group = run.task.group_of(key)
                sums[group] = sums.get(group, 0.0) + float(loss)
                tokens[group] = tokens.get(group, 0.0) + float(size)
    run.trainer.train_step(samples)
    run.updates(1)
    records = [json.loads(line) for line in (tmp_path / "ckpt/weights.jsonl").read_text().splitlines()]
    assert [r["update"] for r in records] == [1, 2, 3]  # one λ step per update, not one per micro-batch
    for group in sums:
        assert records[1]["loss_w"][group] == pytest.approx(sums[group] / tokens[group], abs=2e-4)
    embed = run.task.lower.model.encoder.embed_tokens.weight
    assert int(run.task.lower.optimizer.state[embed]["step"]) == 3  # u: one Adam step per update



def test_with_an_interval_u_steps_once_per_interval_at_interval_times_the_rate(prepared, tmp_path):
    """With interval k, w takes k steps per u step: u's one step is k × as large, or u lags w on every source and
    ℓ(w) − ℓ(u) rewards the source whose loss falls fastest (what the demo's weights did before)."""
    run = Run(prepared, tmp_path / "ckpt", bilevel={"interval": 3, "inner_lr_scale": 0.5})
    run.updates(3)
    w_lr = run.trainer.get_lr()  # w's scheduled rate for update 3 (0-based), the next one with a u step
    run.updates(1)
    embed = run.task.lower.model.encoder.embed_tokens.weight
    assert int(run.task.lower.optimizer.state[embed]["step"]) == 2  # u stepped at updates 0 and 3
    assert run.task.lower.optimizer.param_groups[0]["lr"] == pytest.approx(3 * 0.5 * w_lr, rel=1e-6)



def test_without_the_dev_term_u_and_w_follow_one_trajectory(prepared, tmp_path):
    """λ's signal is ℓ(w) − ℓ(u): with L1's weight ~0 (α huge) and λ frozen, w and u minimise the same loss from the
    same start, so anything that separates them (u unclipped while fairseq clips w, another optimizer) is bias.
    Small clip_norm: every update is clipped."""
    run = Run(prepared, tmp_path / "ckpt", clip_norm=0.05, weight_decay=0.01,
              bilevel={"alpha": 1e9, "alpha_max": 1e9, "lambda_lr": 0.0})
    start = {name: p.detach().clone() for name, p in run.named_w().items()}
    run.updates(6)
    u = dict(run.task.lower.model.named_parameters())
    moved = max(float((p - start[name]).abs().max()) for name, p in run.named_w().items())
    apart = max(float((p - u[name]).abs().max()) for name, p in run.named_w().items())
    assert moved > 1e-3
    assert apart < 0.005 * moved, (apart, moved)  # 5e-4 measured; 0.10 with torch Adam, 0.23 also unclipped


# ---- 6. sampling mode ------------------------------------------------------------------------------------------------
def test_sampling_mode_draws_each_epoch_with_the_current_weights(prepared, tmp_path):
    run = Run(prepared, tmp_path / "ckpt", bilevel={"mode": "sampling", "lambda_lr": 0.0, "sampling_epoch_size": 1500})
    run.updates(1)
    run.task.lam = torch.tensor([1.5, -1.5], dtype=torch.float64)  # libreoffice 0.95, noisy 0.05
    for epoch in (2, 3):
        run.start_epoch(epoch)
        shares = _group_shares(run.task, run.batches)
        assert shares["noisy"] == pytest.approx(run.task.weights()["noisy"], abs=0.02), epoch


# ---- 7. resume from a --restore-file that is not in save_dir ------------------------------------------------------
def test_lambda_is_restored_from_a_restore_file_relative_to_the_working_directory(prepared, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    torch.save({"task_state": {"volctrans_bilevel": {"groups": ["libreoffice", "noisy"], "lambda": [1.0, -1.0],
                                                     "update": 10}}}, tmp_path / "elsewhere/start.pt")
    run = Run(prepared, tmp_path / "ckpt", bilevel={"lambda_lr": 0.0}, extra=["--restore-file", "elsewhere/start.pt"])
    run.updates(1)
    p = torch.softmax(torch.tensor([1.0, -1.0], dtype=torch.float64), dim=0)
    assert run.task.weights() == pytest.approx({"libreoffice": float(p[0]), "noisy": float(p[1])}, abs=1e-6)


def test_restore_checkpoint_path_follows_fairseq_rule(tmp_path):
    from argparse import Namespace

    from volctrans_fairseq.tasks.bilevel_multilingual import restore_checkpoint_path

    def args(**kw):
        return Namespace(**{"save_dir": str(tmp_path), "restore_file": "checkpoint_last.pt", "reset_dataloader": False,
                            "checkpoint_suffix": "", "continue_once": None, **kw})

    assert restore_checkpoint_path(args()) is None  # first launch (also of a fine-tuning: fairseq resets then)
    (tmp_path / "checkpoint_last.pt").write_bytes(b"")
    assert restore_checkpoint_path(args()) == str(tmp_path / "checkpoint_last.pt")
    assert restore_checkpoint_path(args(reset_dataloader=True)) is None
    assert restore_checkpoint_path(args(restore_file="runs/a/checkpoint_8.pt")) == "runs/a/checkpoint_8.pt"  # as given
    assert restore_checkpoint_path(args(restore_file="x.pt", checkpoint_suffix="-s1")) == "x-s1.pt"


def test_adam_on_lambda_steps_by_its_learning_rate_and_resumes_its_moments(prepared, tmp_path):
    bilevel = {"lambda_optimizer": "adam", "lambda_lr": 0.01, "alpha": 100.0, "alpha_max": 100.0}
    run = Run(prepared, tmp_path / "first", bilevel=bilevel)
    # Update 0: u is w's copy, so ℓ(w) − ℓ(u) = 0 on the same batch; while both move at the warm-up's first
    # learning rate (1e-7) the difference stays below the float32 resolution of the loss sums.
    steps = 0
    while run.task.lam.tolist() == [0.0, 0.0] and steps < 5:
        run.updates(1)
        steps += 1
    # Adam's first step on a gradient g after n − 1 zero ones: lr · (0.1 g / (1 − 0.9ⁿ)) / sqrt(0.001 g² / (1 − 0.999ⁿ)),
    # the same for any |g| ≫ eps, whatever α scales the gradient by (SGD's step would grow with α).
    expected = 0.01 * (0.1 / (1 - 0.9**steps)) / (0.001 / (1 - 0.999**steps)) ** 0.5
    # rel 1e-3: u follows w's trajectory exactly but for the dev term, so g is small enough here for Adam's ε to show.
    assert 1 < steps < 5 and run.task.lam.abs().tolist() == pytest.approx([expected, expected], rel=1e-3)
    torch.save({"task_state": run.task.state_dict()}, tmp_path / "saved.pt")
    resumed = Run(prepared, tmp_path / "second", bilevel=bilevel, extra=["--restore-file", str(tmp_path / "saved.pt")])
    assert torch.equal(resumed.task.lam, run.task.lam)
    assert int(resumed.task._lambda_optimizer.state_dict()["state"][0]["step"]) == steps


# ---- one pass over the merged sub-batches ---------------------------------------------------------------------------
def test_merged_pass_gives_the_losses_and_gradients_of_one_pass_per_sub_batch(prepared, tmp_path, monkeypatch):
    from volctrans_fairseq.tasks import bilevel_multilingual

    run = Run(prepared, tmp_path / "ckpt")
    model, criterion = run.trainer.get_model(), run.trainer.get_criterion()
    model.eval()  # no dropout: both passes see the same network
    # Batches are length-sorted, so their sub-batches share a width: take one sub-batch of each source from two
    # batches of different widths, so the merge has to pad.
    subs = [(key, sub) for b in run.batches for key, sub in b.items()]
    first_key, first = next((key, sub) for key, sub in subs if run.task.group_of(key) == "libreoffice")
    second_key, second = next((key, sub) for key, sub in subs if run.task.group_of(key) == "noisy"
                              and sub["net_input"]["src_tokens"].size(1) != first["net_input"]["src_tokens"].size(1)
                              and sub["target"].size(1) != first["target"].size(1))
    batch = {first_key: first, second_key: second}
    widths = {sub["net_input"]["src_tokens"].size(1) for sub in batch.values()}
    assert len({run.task.group_of(key) for key in batch}) == 2 and len(widths) > 1  # padding is exercised

    def losses_and_gradient():
        model.zero_grad()
        means, present, tokens, sums, log = run.task._group_losses(model, criterion, batch)
        run.task._weighted(means, present, tokens).backward()
        gradient = model.encoder.embed_tokens.weight.grad.clone()
        return torch.stack([m.detach() for m in means]), tokens, sums, float(log["loss"]), log["ntokens"], gradient

    merged = losses_and_gradient()
    monkeypatch.setattr(bilevel_multilingual, "supports_merged", lambda criterion: False)
    per_sub_batch = losses_and_gradient()
    torch.testing.assert_close(merged[0], per_sub_batch[0], rtol=1e-5, atol=1e-5)
    assert torch.equal(merged[1], per_sub_batch[1])
    torch.testing.assert_close(merged[2], per_sub_batch[2], rtol=1e-5, atol=1e-4)
    assert merged[3] == pytest.approx(per_sub_batch[3], rel=1e-5) and merged[4] == per_sub_batch[4]
    torch.testing.assert_close(merged[5], per_sub_batch[5], rtol=1e-4, atol=1e-6)


def test_merge_pads_sources_left_and_targets_right():
    from volctrans_fairseq.tasks.bilevel_multilingual import merge_sub_batches

    def sub(ids, src, tgt):
        src, tgt = torch.tensor(src), torch.tensor(tgt)
        return {"id": torch.tensor(ids), "nsentences": len(ids), "ntokens": int(tgt.ne(1).sum()),
                "net_input": {"src_tokens": src, "src_lengths": src.ne(1).sum(1), "prev_output_tokens": tgt},
                "target": tgt}

    sample = {"main:en-es": sub([0], [[5, 6, 2]], [[7, 2]]), "noisy:en-ru": sub([3, 4], [[1, 8, 2], [9, 9, 2]],
                                                                                [[8, 8, 8, 2], [8, 2, 1, 1]])}
    batch, owners = merge_sub_batches(sample, pad=1, left_pad_source=True, left_pad_target=False)
    assert batch["net_input"]["src_tokens"].tolist() == [[5, 6, 2], [1, 8, 2], [9, 9, 2]]
    assert batch["target"].tolist() == [[7, 2, 1, 1], [8, 8, 8, 2], [8, 2, 1, 1]]
    assert owners.tolist() == [0, 1, 1] and batch["ntokens"] == 8 and batch["nsentences"] == 3
    sample["main:en-es"]["src_lang_id"] = torch.tensor([0])  # a field it does not know: the caller's slow path
    assert merge_sub_batches(sample, pad=1, left_pad_source=True, left_pad_target=False) is None
