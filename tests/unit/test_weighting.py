import json

import pytest
import torch

from volctrans.config import from_dict
from volctrans.errors import ConfigError, VolctransError
from volctrans.train import TrainConfig
from volctrans.weighting import SCHEMES, get_scheme
from volctrans.weighting.bilevel import alpha_at, lambda_gradient, log_due, penalty, softmax_jacobian
from volctrans.weighting.schemes import expand_fixed_weights


def test_softmax_jacobian_matches_autograd():
    lam = torch.tensor([0.3, -1.2, 0.7, 0.0], dtype=torch.float64)
    expected = torch.autograd.functional.jacobian(lambda x: torch.softmax(x, dim=0), lam)
    assert torch.allclose(softmax_jacobian(torch.softmax(lam, dim=0)), expected, atol=1e-12)


def test_lambda_gradient_matches_autograd_of_penalty():
    """The closed-form α Jᵀ(ℓ(w) − ℓ(u)) equals the autograd gradient of α(L2(w, λ) − L2(u, λ)) w.r.t. λ."""
    torch.manual_seed(0)
    for _ in range(5):
        lam = torch.randn(3, dtype=torch.float64, requires_grad=True)
        loss_w = torch.rand(3, dtype=torch.float64) * 5
        loss_u = torch.rand(3, dtype=torch.float64) * 5
        penalty(lam, loss_w, loss_u, alpha=7.0).backward()
        assert torch.allclose(lambda_gradient(lam.detach(), loss_w, loss_u, 7.0), lam.grad, atol=1e-12)


def test_lambda_gradient_on_a_tiny_bilevel_problem():
    """Real losses of two tiny models: u fits sources by least squares, w is pulled to the dev target too."""
    torch.manual_seed(1)
    sources = [torch.randn(16, 2, dtype=torch.float64) for _ in range(3)]
    targets = [x @ torch.tensor([1.0, -2.0], dtype=torch.float64) for x in sources]
    targets[2] = torch.randn(16, dtype=torch.float64) * 3  # a noisy source: targets unrelated to inputs
    w = torch.tensor([0.9, -1.8], dtype=torch.float64)
    u = torch.tensor([0.2, -0.5], dtype=torch.float64)
    losses = lambda theta: torch.stack([((x @ theta - y) ** 2).mean() for x, y in zip(sources, targets)])
    lam = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    alpha = 3.0
    objective = alpha * (torch.softmax(lam, 0) @ losses(w) - torch.softmax(lam, 0) @ losses(u))
    objective.backward()
    closed_form = lambda_gradient(lam.detach(), losses(w), losses(u), alpha)
    assert torch.allclose(closed_form, lam.grad, atol=1e-12)
    # A gradient step lowers the weight of the source that w (pulled to the clean task) fits worse than u.
    p_after = torch.softmax(lam.detach() - 0.1 * closed_form, 0)
    worst = int(torch.argmax(losses(w) - losses(u)))
    assert p_after[worst] < 1 / 3


def test_absent_groups_contribute_nothing():
    lam = torch.zeros(3, dtype=torch.float64)
    loss_w = torch.tensor([1.0, 2.0, 100.0], dtype=torch.float64)
    loss_u = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    present = torch.tensor([True, True, False])
    gradient = lambda_gradient(lam, loss_w, loss_u, 1.0, present)
    assert torch.allclose(gradient, lambda_gradient(lam, loss_w, torch.tensor([1.0, 1.0, 100.0], dtype=torch.float64), 1.0))
    assert torch.isclose(gradient.sum(), torch.tensor(0.0, dtype=torch.float64))  # softmax is shift-invariant


def test_alpha_schedule():
    assert alpha_at(0, 10, 100, 2.0, 100) == 10
    assert alpha_at(250, 10, 100, 2.0, 100) == 40
    assert alpha_at(10_000, 10, 100, 2.0, 100) == 100
    assert alpha_at(10_000, 10, 100, 1.0, 0) == 10


def test_registry_and_fixed_weights(tmp_path):
    assert {"uniform", "temperature", "fixed", "bilevel"} <= set(SCHEMES)
    with pytest.raises(VolctransError, match="unknown weighting"):
        get_scheme("magic")
    keys = ["main:en-de", "main:de-en", "noisy:en-de"]
    expanded = expand_fixed_weights({"libreoffice": 1.0, "noisy:en-de": 0.1}, ["libreoffice:en-de", "libreoffice:de-en", "noisy:en-de"])
    assert expanded == {"libreoffice:en-de": 1.0, "libreoffice:de-en": 1.0, "noisy:en-de": 0.1}
    with pytest.raises(VolctransError, match="no weight for noisy:en-de"):
        expand_fixed_weights({"libreoffice": 1.0}, ["libreoffice:en-de", "noisy:en-de"])
    weights = tmp_path / "weights.yaml"
    weights.write_text("libreoffice: 0.7\nnoisy: 0.3\n")
    config = from_dict(TrainConfig, {"data": "d", "save_dir": "s", "weighting": "fixed", "weights_file": str(weights)})
    args = get_scheme("fixed").fairseq_args(config, keys, "libreoffice")
    assert json.loads(args[args.index("--sampling-weights") + 1]) == {"main:en-de": 0.7, "main:de-en": 0.7, "noisy:en-de": 0.3}


def test_bilevel_config_problems_are_nested_and_collected():
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "weighting": "bilevel", "max_update": "many",
                                "bilevel": {"alpah": 3, "interval": "often"}})
    problems = info.value.problems
    assert "bilevel: unknown key 'alpah'" in " ".join(problems)
    assert any(p.startswith("bilevel.interval: expected an integer") for p in problems)
    assert any(p.startswith("max_update: expected an integer") for p in problems)
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "bilevel": {"mode": "both", "interval": 0}})
    assert any(p.startswith("bilevel.mode") for p in info.value.problems)
    assert any(p.startswith("bilevel.interval") for p in info.value.problems)


def test_distributed_dry_run_uses_torchrun(tmp_path):
    import shlex
    import subprocess
    import sys

    from tests.conftest import DATA  # noqa: F401  (the tiny corpus is not needed for a dry run)

    prepared = tmp_path / "prepared"
    (prepared / "bin").mkdir(parents=True)
    (prepared / "prepared.json").write_text(json.dumps({"pairs": {"en-de": {"train": 1}}, "langs": ["de", "en"],
                                                        "main_source": "lo", "sources": {"lo": {"dir": "bin", "pairs": {"en-de": {"train": 1}}}}}))
    config = tmp_path / "train.yaml"
    config.write_text(f"data: {prepared}\nsave_dir: {tmp_path / 'ckpt'}\ndevice: cuda\nprecision: fp16\n"
                      "distributed: {nproc_per_node: 8, nnodes: 2, node_rank: 1, master_addr: 10.0.0.1}\n")
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config), "--dry-run"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    command = shlex.split(result.stdout.strip())
    assert command[1:4] == ["-m", "torch.distributed.run", "--nproc_per_node=8"]
    assert "--node_rank=1" in command and "--master_addr=10.0.0.1" in command
    assert command[command.index("--distributed-world-size") + 1] == "16"
    assert "--fp16" in command and "--cpu" not in command
    assert command[command.index("--module") + 1] == "volctrans_fairseq.train"  # fairseq-train, --bf16 fixed


def _prepared(tmp_path):
    prepared = tmp_path / "prepared"
    (prepared / "bin").mkdir(parents=True, exist_ok=True)
    pairs = {"en-de": {"train": 1}}
    (prepared / "prepared.json").write_text(json.dumps({
        "pairs": pairs, "langs": ["de", "en"], "main_source": "lo",
        "sources": {"lo": {"dir": "bin", "pairs": pairs}, "noisy": {"dir": "bin-noisy", "pairs": pairs}}}))
    return prepared


def _dry_run(tmp_path, config: dict) -> list[str]:
    from volctrans.train import train

    values = {"data": str(_prepared(tmp_path)), "save_dir": str(tmp_path / "ckpt"), **config}
    return train(from_dict(TrainConfig, values), dry_run=True)


def test_precision_key_replaces_fp16_and_needs_a_gpu():
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "fp16": True})
    assert info.value.problems == ["fp16: no longer a key, use precision: fp16 (or fp32, bf16)"]
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "device": "cpu", "precision": "bf16",
                                "extra_args": ["--fp16", "--amp"]})
    assert info.value.problems == ["precision: bf16 needs a GPU (device: cuda or auto); use fp32 on CPU",
                                   "extra_args: --fp16 is set by 'precision' in this config",
                                   "extra_args: --amp is set by 'precision' in this config"]
    with pytest.raises(ConfigError, match="precision: must be fp32, fp16 or bf16"):
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "precision": "half"})


@pytest.mark.parametrize("precision, lisa, expected, absent", [
    ("fp16", 2, ["--fp16", "--fp16-no-flatten-grads"], ["--bf16"]),
    ("fp16", 0, ["--fp16"], ["--fp16-no-flatten-grads", "--bf16"]),
    ("bf16", 2, ["--bf16"], ["--fp16", "--fp16-no-flatten-grads"]),
    ("fp32", 2, ["--find-unused-parameters"], ["--fp16", "--bf16", "--fp16-no-flatten-grads"]),
])
def test_precision_flags_and_lisa_with_unflattened_fp16_gradients(tmp_path, precision, lisa, expected, absent):
    command = _dry_run(tmp_path, {"device": "cuda", "precision": precision, "weighting": "bilevel",
                                  "bilevel": {"lisa_layers": lisa}})
    assert all(flag in command for flag in expected) and not any(flag in command for flag in absent)
    assert command[1:3] == ["-m", "volctrans_fairseq.train"]


def test_multi_process_training_on_cpu_uses_gloo_and_legacy_ddp(tmp_path):
    command = _dry_run(tmp_path, {"device": "cpu", "distributed": {"nproc_per_node": 2}})
    assert command[1:4] == ["-m", "torch.distributed.run", "--nproc_per_node=2"]
    assert command[command.index("--distributed-backend") + 1] == "gloo"
    assert command[command.index("--ddp-backend") + 1] == "legacy_ddp"
    assert "--cpu" in command and command[command.index("--distributed-world-size") + 1] == "2"
    gpu = _dry_run(tmp_path, {"device": "cuda", "distributed": {"nproc_per_node": 2}})
    assert "--distributed-backend" not in gpu and "--ddp-backend" not in gpu  # NCCL and c10d: fairseq's defaults


def test_bilevel_lambda_optimizer_and_sampling_epoch_size(tmp_path):
    command = _dry_run(tmp_path, {"device": "cpu", "weighting": "bilevel",
                                  "bilevel": {"mode": "sampling", "sampling_epoch_size": 5000, "lambda_optimizer": "adam"}})
    assert command[command.index("--virtual-data-size") + 1] == "5000" and "--virtual-epoch-size" not in command
    assert command[command.index("--bilevel-lambda-optimizer") + 1] == "adam"
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "weighting": "bilevel",
                                "bilevel": {"mode": "sampling"}, "extra_args": ["--virtual-epoch-size=300"]})
    assert info.value.problems == ["extra_args: --virtual-epoch-size=300 is set by 'bilevel.sampling_epoch_size' "
                                   "in this config"]
    with pytest.raises(ConfigError, match="bilevel.lambda_optimizer: must be sgd or adam"):
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "bilevel": {"lambda_optimizer": "adamw"}})
    with pytest.raises(ConfigError, match="sampling_epoch_size: only used with mode: sampling"):
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "bilevel": {"sampling_epoch_size": 10}})


@pytest.mark.parametrize("interval, expected", [(1, [1, 20, 40, 60]), (2, [1, 21, 41]), (3, [1, 22, 40])])
def test_weights_are_logged_once_per_window_whatever_the_interval(interval, expected):
    # λ moves (and is logged) only on outer steps, update_num % interval == 0; record "update" is update_num + 1.
    outer = [update for update in range(60) if update % interval == 0]
    assert [update + 1 for update in outer if log_due(update, 20, interval)] == expected


def test_training_entry_point_fixes_bf16_and_cpu_torchrun(tmp_path):
    from volctrans_fairseq.train import config

    base = [str(tmp_path), "--task", "translation", "--arch", "transformer", "--cpu"]
    assert config(base + ["--bf16"], environ={}).common.tpu is False  # fairseq's parser alone sets --tpu
    assert config(base + ["--bf16", "--tpu"], environ={}).common.tpu is True
    torchrun = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500", "WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}
    dist = config(base + ["--distributed-world-size", "2"], environ=torchrun).distributed_training
    assert (dist.distributed_init_method, dist.distributed_rank, dist.distributed_world_size, dist.device_id,
            dist.distributed_no_spawn) == ("env://", 1, 2, 1, True)
    single = config(base, environ=torchrun).distributed_training  # world size 1: no process group
    assert single.distributed_init_method is None
