"""G-DIG selection: per-example gradients, the influence formula and its sign, resampling, the CLI end to end.

The model is a tiny fairseq transformer built in-process (no fairseq-train) from a SentencePiece model trained on
tests/data/tiny and a few Adam steps, saved in the checkpoint layout `volctrans train` writes.
"""

import argparse
import gzip
import json

import numpy as np
import pytest
import torch

from volctrans.cli.main import main
from volctrans.config import from_dict
from volctrans.errors import ConfigError, VolctransError
from volctrans.select import (
    GradientScorer, SelectConfig, budget_count, collate, influence, load_model, per_example_grads_hooks,
    per_example_grads_loop, per_example_loss, precondition, resample, select_modules,
)


def _rows(data_dir, split="train"):
    with gzip.open(data_dir / f"tiny/en-de/{split}.tsv.gz", "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """prepared folder + checkpoint of a tiny en→de model, and the pairs it was trained on."""
    import sentencepiece as spm
    from fairseq.models.transformer import TransformerModel, base_architecture

    from tests.conftest import DATA
    from volctrans.prepare import write_fairseq_dictionary

    work = tmp_path_factory.mktemp("select")
    prepared = work / "prepared"
    (prepared / "bin").mkdir(parents=True)
    rows = _rows(DATA)
    spm.SentencePieceTrainer.train(sentence_iterator=iter([r[0] for r in rows] + [r[1] for r in rows]),
                                   model_prefix=str(prepared / "spm"), vocab_size=300, minloglevel=2,
                                   hard_vocab_limit=False)
    write_fairseq_dictionary(prepared / "spm.vocab", prepared / "dict.txt")
    (prepared / "bin/langs.txt").write_text("de\nen\n")
    args = argparse.Namespace(encoder_layers=1, decoder_layers=2, encoder_embed_dim=32, decoder_embed_dim=32,
                              encoder_ffn_embed_dim=64, decoder_ffn_embed_dim=64, encoder_attention_heads=2,
                              decoder_attention_heads=2, share_all_embeddings=True, dropout=0.0,
                              encoder_normalize_before=True, decoder_normalize_before=True,
                              max_source_positions=64, max_target_positions=64, arch="transformer")
    base_architecture(args)
    from fairseq.data import Dictionary

    dictionary = Dictionary.load(str(prepared / "dict.txt"))
    for lang in ("de", "en"):
        dictionary.add_symbol(f"__{lang}__")

    class _Task:
        source_dictionary = target_dictionary = dictionary

    torch.manual_seed(0)
    model = TransformerModel.build_model(args, _Task())
    checkpoint = work / "checkpoint.pt"
    torch.save({"cfg": {"model": args, "task": argparse.Namespace(data=str(prepared / "bin"))},
                "model": model.state_dict()}, checkpoint)
    # A few Adam steps so gradients are those of a model that has learnt something.
    loaded = load_model(checkpoint)
    config = SelectConfig("", "", "", "en", "de", 0.3, "")
    scorer = GradientScorer(loaded, config)
    examples = [scorer.encode(s, t) for s, t, *_ in rows[:160]]
    optimizer = torch.optim.Adam(loaded.model.parameters(), lr=3e-3)
    loaded.model.train()
    for step in range(30):
        batch = collate(examples[(step * 16) % 160:(step * 16) % 160 + 16], scorer.pad, scorer.eos)
        optimizer.zero_grad()
        per_example_loss(loaded.model, batch, scorer.pad).mean().backward()
        optimizer.step()
    torch.save({"cfg": {"model": args, "task": argparse.Namespace(data=str(prepared / "bin"))},
                "model": loaded.model.state_dict()}, checkpoint)
    return {"work": work, "prepared": prepared, "checkpoint": checkpoint, "rows": rows}


@pytest.fixture(scope="module")
def loaded(tiny):
    return load_model(tiny["checkpoint"])


def _scorer(loaded, **overrides):
    return GradientScorer(loaded, SelectConfig("", "", "", "en", "de", 0.3, "", **overrides))


def test_per_example_gradients_equal_batch_of_one_autograd(tiny, loaded):
    scorer = _scorer(loaded, params=["decoder.layers.*.fc2", "encoder.layers.0.fc1"])
    examples = [scorer.encode(s, t) for s, t, *_ in tiny["rows"][:6]]  # different lengths: padding on both sides
    hooks = per_example_grads_hooks(loaded.model, scorer.modules, examples, scorer.pad, scorer.eos)
    loop = per_example_grads_loop(loaded.model, scorer.modules, examples, scorer.pad, scorer.eos)
    params = [p for _, m in scorer.modules for p in (m.weight, m.bias)]
    for index, example in enumerate(examples):
        loaded.model.zero_grad()
        per_example_loss(loaded.model, collate([example], scorer.pad, scorer.eos), scorer.pad).sum().backward()
        reference = torch.cat([p.grad.reshape(-1) for p in params])
        assert torch.allclose(loop[index], reference, atol=1e-6)
        assert torch.allclose(hooks[index], reference, atol=1e-5, rtol=1e-4)
    loaded.model.zero_grad()
    assert hooks.shape == (6, scorer.dim) and float(hooks.abs().max()) > 0


def test_hooks_refuse_tied_weights(loaded):
    with pytest.raises(VolctransError, match="tied"):
        _scorer(loaded, params=["decoder.output_projection"], per_example="hooks")
    with pytest.raises(VolctransError, match="no Linear module matches decoder.nothing"):
        select_modules(loaded.model, ["decoder.nothing"])


def test_influence_matches_explicit_damped_fisher_solve():
    generator = torch.Generator().manual_seed(3)
    seed_grads = torch.randn(5, 7, generator=generator)
    pool_grads = torch.randn(4, 7, generator=generator)
    fisher = seed_grads.pow(2).mean(0)
    damping = 0.1
    v = precondition(seed_grads.mean(0), fisher, damping)
    lam = damping * fisher.mean()
    explicit = torch.stack([-(g @ torch.linalg.solve(torch.diag(fisher) + lam * torch.eye(7), seed_grads.mean(0)))
                            for g in pool_grads])
    # the form: −mean over seed examples of g(z)ᵀ(F + λI)⁻¹g(q)
    per_seed = torch.stack([torch.stack([-(g @ torch.linalg.solve(torch.diag(fisher) + lam * torch.eye(7), q))
                                         for q in seed_grads]).mean() for g in pool_grads])
    assert torch.allclose(influence(pool_grads, v).float(), explicit, atol=1e-5)
    assert torch.allclose(explicit, per_seed, atol=1e-5)
    assert torch.allclose(precondition(seed_grads.mean(0), None, damping), seed_grads.mean(0))


def test_a_step_on_a_beneficial_example_lowers_the_seed_loss(tiny, loaded):
    """The sign convention: influence < 0 (beneficial) ⇒ a preconditioned SGD step on z lowers the seed loss."""
    import copy
    import dataclasses

    # float64 so that a step small enough for the first-order prediction to hold is not lost in rounding
    loaded = dataclasses.replace(loaded, model=copy.deepcopy(loaded.model).double())
    scorer = _scorer(loaded)
    seed = [scorer.encode(s, t) for s, t, *_ in _rows_dev(tiny)]
    grads = per_example_grads_loop(loaded.model, scorer.modules, seed, scorer.pad, scorer.eos)
    fisher = grads.pow(2).mean(0)
    v = precondition(grads.mean(0), fisher, 0.1)
    lam = 0.1 * fisher.mean()
    # pool: clean pairs and misaligned ones (target of another pair)
    rows = tiny["rows"][200:230]
    pool = [scorer.encode(s, t) for s, t, *_ in rows] + [scorer.encode(rows[i][0], rows[-1 - i][1]) for i in range(10)]
    pool_grads = per_example_grads_loop(loaded.model, scorer.modules, pool, scorer.pad, scorer.eos)
    scores = influence(pool_grads, v)
    params = [p for _, m in scorer.modules for p in (m.weight, m.bias)]
    batch = collate(seed, scorer.pad, scorer.eos)

    def seed_loss():
        with torch.no_grad():
            return float(per_example_loss(loaded.model, batch, scorer.pad).mean())

    before = seed_loss()
    for index in (int(scores.argmin()), int(scores.argmax())):
        eta = 1e-5 / abs(float(scores[index]))  # a small step: predicted |Δ seed loss| = 1e-5
        step = eta * pool_grads[index] / (fisher + lam)  # θ' = θ − η (F + λI)⁻¹ g(z)
        saved = [p.detach().clone() for p in params]
        with torch.no_grad():
            offset = 0
            for p in params:
                p -= step[offset:offset + p.numel()].view_as(p)
                offset += p.numel()
        change = seed_loss() - before
        with torch.no_grad():
            for p, original in zip(params, saved):
                p.copy_(original)
        # first-order prediction: Δ seed loss ≈ η · influence
        assert change == pytest.approx(eta * float(scores[index]), rel=0.1)
        assert (change < 0) == (float(scores[index]) < 0)
    assert float(scores.min()) < 0 < float(scores.max())


def _rows_dev(tiny):
    from tests.conftest import DATA

    return _rows(DATA, "dev")


def test_resample_round_robin_and_proportional():
    scores = np.array([-5.0, -1.0, -4.0, -3.0, -2.0, -0.5, -6.0])
    labels = np.array([0, 0, 1, 1, 1, 1, 2])
    chosen = resample(scores, labels, 4, "round_robin")
    # one per cluster (best first: 0, 2, 6), then the second best of clusters 0 and 1 → budget reached after 4
    assert chosen.tolist() == [0, 1, 2, 6]
    assert resample(scores, labels, 100, "round_robin").tolist() == list(range(7))
    proportional = resample(scores, labels, 4, "proportional")
    assert len(proportional) == 4 and set(proportional.tolist()) >= {2, 3}  # cluster 1 (4 of 7) gets 2
    assert budget_count(0.3, 10) == 3 and budget_count(5, 3) == 3 and budget_count(2.0, 10) == 2


def test_config_reports_all_problems_at_once():
    with pytest.raises(ConfigError) as error:
        from_dict(SelectConfig, {"checkpoint": "c", "pool": "p", "seed_file": "s", "src_lang": "en",
                                 "tgt_lang": "de", "budget": 2.5, "output": "o", "fisher": "kfac",
                                 "clusters": 0})
    text = str(error.value)
    for expected in ("budget: a count must be a whole number", "fisher: must be diagonal", "clusters: must be ≥ 1"):
        assert expected in text
    with pytest.raises(ConfigError, match="unknown key 'bogus'.*expected a number, got 'x'"):
        from_dict(SelectConfig, {"checkpoint": "c", "pool": "p", "seed_file": "s", "src_lang": "en",
                                 "tgt_lang": "de", "budget": "x", "output": "o", "bogus": 1})


def _pool(tiny, path):
    """tiny train pairs with a provenance column, some misaligned, plus malformed rows."""
    rows = tiny["rows"][:120]
    with open(path, "wb") as handle:
        for index, (source, target, *_) in enumerate(rows):
            if index % 4 == 3:
                target = rows[(index * 7) % len(rows)][1]
            handle.write(f"{source}\t{target}\tprov:{index}\textra col\n".encode())
            if index == 10:
                handle.write(b"no tab here\n")
            if index == 20:
                handle.write(b"bad \xff utf8\tx\n")
    return path


def _select_args(tiny, tmp_path, pool, out, scores, *extra):
    return ["select", "--checkpoint", str(tiny["checkpoint"]), "--pool", str(pool), "--seed",
            str(tiny["work"] / "seed.tsv"), "-s", "en", "-t", "de", "--budget", "0.3", "-o", str(out),
            "--scores", str(scores), "--clusters", "4", "--no-progress", *extra]


def test_cli_selects_budget_in_pool_order_with_extra_columns(tiny, tmp_path, capsys, caplog):
    from tests.conftest import DATA

    (tiny["work"] / "seed.tsv").write_text("".join(f"{s}\t{t}\n" for s, t, *_ in _rows(DATA, "dev")))
    pool = _pool(tiny, tmp_path / "pool.tsv")
    out, scores = tmp_path / "selected.tsv", tmp_path / "scores.tsv"
    assert main(_select_args(tiny, tmp_path, pool, out, scores)) == 0
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert summary["rows"] == 120 and summary["malformed"] == 2 and summary["budget"] == 36
    assert f"{pool}:12: missing column" in caplog.text and f"{pool}:23: invalid UTF-8" in caplog.text
    pool_lines = pool.read_bytes().decode("utf-8", "replace").splitlines()
    selected = out.read_text(encoding="utf-8").splitlines()
    assert len(selected) == summary["selected"] == min(36, summary["beneficial"])
    positions = [pool_lines.index(line) for line in selected]
    assert positions == sorted(positions)  # pool order, rows unchanged (extra columns included)
    assert all(line.endswith("\textra col") for line in selected)
    table = [line.split("\t") for line in scores.read_text().splitlines()]
    assert table[0] == ["line", "influence", "beneficial", "cluster", "selected"] and len(table) == 121
    for line, score, beneficial, cluster, chosen in table[1:]:
        assert (float(score) < 0) == (beneficial == "1")
        assert chosen == "0" or beneficial == "1"
        assert 0 <= int(cluster) < 4
    assert sum(row[4] == "1" for row in table[1:]) == len(selected)
    # reproducible: same seed, same bytes
    again, again_scores = tmp_path / "again.tsv", tmp_path / "again-scores.tsv"
    assert main(_select_args(tiny, tmp_path, pool, again, again_scores)) == 0
    assert again.read_bytes() == out.read_bytes() and again_scores.read_bytes() == scores.read_bytes()
    assert summary["pool_sample"] == 120  # default: pool Fisher and centring from a pool sample (here all of it)
    # the plain G-DIG score of earlier versions: seed Fisher, raw gradients, no pool pass
    capsys.readouterr()
    assert main(_select_args(tiny, tmp_path, pool, again, again_scores, "--fisher-from", "seed", "--no-centre",
                             "--no-normalise")) == 0
    plain = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert plain["pool_sample"] == 0 and plain["rows"] == 120 and plain["selected"] == min(36, plain["beneficial"])
    assert again_scores.read_bytes() != scores.read_bytes()


def test_cli_bad_seed_file_is_located_and_leaves_no_output(tiny, tmp_path, capsys):
    (tiny["work"] / "seed.tsv").write_text("a\tb\nonly one column\n")
    pool = _pool(tiny, tmp_path / "pool.tsv")
    out, scores = tmp_path / "out" / "selected.tsv", tmp_path / "out" / "scores.tsv"
    assert main(_select_args(tiny, tmp_path, pool, out, scores)) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{tiny['work'] / 'seed.tsv'}:2: missing column" in error
    assert not out.exists() and not scores.exists()
    assert main(_select_args(tiny, tmp_path, tmp_path / "missing.tsv", out, scores)) == 1
    assert "missing.tsv: pool not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []



# ---------------------------------------------------------------------------------------------------------------
# Scoring variants (fisher_from, centre, normalise) and G-DIG's step 1 (fine-tune on the pool)


def test_centred_normalised_score_is_the_mean_preconditioned_cosine():
    from volctrans.select import InfluenceScore, SeedDirection

    generator = torch.Generator().manual_seed(5)
    pool, seed = torch.randn(6, 9, generator=generator), torch.randn(4, 9, generator=generator)
    mu = torch.randn(9, generator=generator)
    fisher = seed.pow(2).mean(0)
    lam = 0.1 * fisher.mean()
    for centre in (None, mu):
        offset = centre if centre is not None else torch.zeros(9)
        direction = SeedDirection(9, centre, normalise=True)
        direction.add(seed[:3])
        direction.add(seed[3:])  # accumulates over batches
        unit = lambda x: x / x.norm(dim=-1, keepdim=True)  # noqa: E731
        # LESS with the identity: −mean over seed examples of cos(g(z) − μ, g(q) − μ)
        plain = InfluenceScore(direction.value, None, 0.1, centre, normalise=True)(pool)
        cosines = torch.nn.functional.cosine_similarity((pool - offset)[:, None], (seed - offset)[None], dim=-1)
        assert torch.allclose(plain.float(), -cosines.mean(1), atol=1e-6)
        # with the damped diagonal Fisher: −mean_q u(z)ᵀ (F + λI)⁻¹ u(q)
        scored = InfluenceScore(direction.value, fisher, 0.1, centre, normalise=True)(pool)
        solve = torch.linalg.solve(torch.diag(fisher) + lam * torch.eye(9), unit(seed - offset).T)  # (9, 4)
        assert torch.allclose(scored.float(), -(unit(pool - offset) @ solve).mean(1), atol=1e-5)


def test_normalised_score_ignores_gradient_length_and_centring_zeroes_the_mean_score():
    from volctrans.select import InfluenceScore, Moments, SeedDirection

    generator = torch.Generator().manual_seed(6)
    pool, seed = torch.randn(8, 5, generator=generator) + 2.0, torch.randn(3, 5, generator=generator) + 2.0
    direction = SeedDirection(5)
    direction.add(seed)
    raw = InfluenceScore(direction.value, None, 0.1)
    cosine = InfluenceScore(direction.value, None, 0.1, normalise=True)
    scaled = pool * torch.tensor([[1.0], [10.0], [0.1], [3.0], [1.0], [1.0], [7.0], [1.0]])
    assert torch.allclose(cosine(scaled), cosine(pool))
    assert not torch.allclose(raw(scaled), raw(pool))
    # the shared +2 offset makes every raw score negative (everything "beneficial"); centring by the pool mean
    # removes it: scored over the rows that gave μ, the scores sum to zero
    assert bool((raw(pool) < 0).all())
    moments = Moments(5)
    moments.add(pool)
    centred_direction = SeedDirection(5, moments.mean)
    centred_direction.add(seed)
    centred = InfluenceScore(centred_direction.value, moments.fisher, 0.1, centre=moments.mean)(pool)
    assert abs(float(centred.sum())) < 1e-9 and float(centred.min()) < 0 < float(centred.max())


def test_pool_sample_is_a_seeded_sample_of_well_formed_rows_in_pool_order(tmp_path):
    from volctrans.select import sample_pool

    pool = tmp_path / "pool.tsv"
    pool.write_bytes(b"".join(f"s{i}\tt{i}\n".encode() for i in range(50)) + b"broken row\n" + b"s50\tt50\n")
    sample = sample_pool(str(pool), 10, seed=3)
    lines = [row.line for row in sample]
    assert len(sample) == 10 and lines == sorted(lines) and 51 not in lines
    assert [row.line for row in sample_pool(str(pool), 10, seed=3)] == lines
    assert [row.line for row in sample_pool(str(pool), 10, seed=4)] != lines
    assert [row.source for row in sample_pool(str(pool), 100, seed=3)] == [f"s{i}" for i in range(51)]


def test_finetune_recipe_comes_from_the_checkpoint_cfg():
    from volctrans.select import FinetuneConfig, LoadedModel
    from volctrans.select.finetune import checkpoint_lr, recipe

    cfg = {"lr_scheduler": {"_name": "inverse_sqrt", "warmup_updates": 400, "lr": [0.002]},
           "optimization": {"clip_norm": 1.0, "lr": [0.002]},
           "optimizer": {"adam_betas": "(0.9, 0.98)", "adam_eps": 1e-08, "weight_decay": 0.01},
           "criterion": {"label_smoothing": 0.1}, "dataset": {"max_tokens": 4096}}
    assert checkpoint_lr(cfg, 1600) == pytest.approx(0.001)  # 0.002 · √(400/1600)
    assert checkpoint_lr(cfg, 200) == pytest.approx(0.001)  # half-way through the warm-up
    assert checkpoint_lr({}, 100) is None
    loaded = LoadedModel(None, None, None, 64, 64, cfg=cfg, num_updates=1600)
    settings = recipe(loaded, FinetuneConfig(updates=50))
    assert (settings.lr, settings.warmup_updates, settings.max_tokens) == (pytest.approx(0.001), 5, 4096)
    assert (settings.label_smoothing, settings.betas, settings.clip_norm, settings.weight_decay) == (0.1, (0.9, 0.98),
                                                                                                     1.0, 0.01)
    settings = recipe(loaded, FinetuneConfig(updates=50, lr=3e-4, warmup_updates=2, max_tokens=1000))
    assert (settings.lr, settings.warmup_updates, settings.max_tokens) == (3e-4, 2, 1000)
    with pytest.raises(VolctransError, match="finetune.lr"):
        recipe(LoadedModel(None, None, None, 64, 64), FinetuneConfig(updates=5))


def test_finetune_on_the_pool_lowers_its_loss_is_reproducible_and_saves_a_loadable_checkpoint(tiny, loaded, tmp_path):
    import copy

    from volctrans.select import FinetuneConfig, finetune

    scorer = _scorer(loaded)
    rows = tiny["rows"][240:300]
    pool = [scorer.encode(s, t) for s, t, *_ in rows] + [scorer.encode(rows[i][0], rows[-1 - i][1]) for i in range(20)]

    def pool_loss(model):
        with torch.no_grad():
            return float(per_example_loss(model, collate(pool, scorer.pad, scorer.eos), scorer.pad).mean())

    first, second = copy.deepcopy(loaded), copy.deepcopy(loaded)
    saved = tmp_path / "ft.pt"
    result = finetune(first, pool, FinetuneConfig(updates=6, lr=3e-3, max_tokens=300, save=str(saved)), seed=2)
    assert result.updates == 6 and len(result.losses) == 6
    assert pool_loss(first.model) < pool_loss(loaded.model) - 0.05
    assert not first.model.training  # back in eval mode for the gradients
    finetune(second, pool, FinetuneConfig(updates=6, lr=3e-3, max_tokens=300), seed=2)
    for (name, a), b in zip(first.model.state_dict().items(), second.model.state_dict().values()):
        assert torch.equal(a, b), name
    reloaded = load_model(saved, tiny["prepared"])
    assert reloaded.num_updates == 6
    for a, b in zip(reloaded.model.state_dict().values(), first.model.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(VolctransError, match="finetune.max_tokens"):
        finetune(copy.deepcopy(loaded), pool, FinetuneConfig(updates=1, lr=1e-3, max_tokens=5), seed=2)


def test_cli_gdig_as_the_paper_pool_finetune_pool_fisher_centred_cosine(tiny, tmp_path, capsys):
    from tests.conftest import DATA

    (tiny["work"] / "seed.tsv").write_text("".join(f"{s}\t{t}\n" for s, t, *_ in _rows(DATA, "dev")))
    pool = _pool(tiny, tmp_path / "pool.tsv")
    out, scores, saved = tmp_path / "selected.tsv", tmp_path / "scores.tsv", tmp_path / "ft.pt"
    assert main(_select_args(tiny, tmp_path, pool, out, scores, "--fisher-from", "pool", "--pool-sample", "50",
                             "--centre", "--normalise", "--finetune-updates", "4", "--finetune-lr", "0.003",
                             "--finetune-save", str(saved))) == 0
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert summary["pool_sample"] == 50 and summary["finetune_updates"] == 4 and len(summary["finetune_loss"]) == 2
    assert summary["rows"] == 120 and 0 < summary["selected"] <= 36
    table = [line.split("\t") for line in scores.read_text().splitlines()[1:]]
    influence_values = [float(row[1]) for row in table]
    # centred: a good share of the pool on each side of zero (uncentred, nearly every row is "beneficial")
    beneficial = sum(value < 0 for value in influence_values)
    assert 20 < beneficial < 100
    base, tuned = torch.load(tiny["checkpoint"], weights_only=False), torch.load(saved, weights_only=False)
    assert any(not torch.equal(base["model"][k], tuned["model"][k]) for k in base["model"])


def test_config_reports_new_option_problems_at_once(tmp_path, capsys):
    config = tmp_path / "select.yaml"
    config.write_text("checkpoint: c\npool: p\nseed_file: s\nsrc_lang: en\ntgt_lang: de\nbudget: 0.3\noutput: o\n"
                      "fisher_from: dev\npool_sample: 0\nfinetune:\n  updates: -1\n  lr: 0\n")
    assert main(["select", "--config", str(config), "--check"]) == 1
    error = capsys.readouterr().err
    for expected in ("fisher_from: must be seed or pool", "pool_sample: must be ≥ 1", "finetune.updates: must be ≥ 0",
                     "finetune.lr: must be > 0"):
        assert expected in error, expected
    config.write_text(config.read_text() + "  bogus: 1\n")
    assert main(["select", "--config", str(config), "--check"]) == 1
    assert "finetune: unknown key 'bogus'" in capsys.readouterr().err
    # flags fill the nested section
    config.write_text("checkpoint: c\npool: p\nseed_file: s\nsrc_lang: en\ntgt_lang: de\nbudget: 0.3\noutput: o\n"
                      "finetune:\n  lr: 0.001\n")
    from volctrans.cli.select import add_arguments, select_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parsed = select_config(parser.parse_args(["--config", str(config), "--finetune-updates", "7", "--no-normalise"]))
    assert (parsed.finetune.updates, parsed.finetune.lr, parsed.centre, parsed.normalise) == (7, 0.001, True, False)
    assert (parsed.fisher_from, parsed.pool_sample) == ("pool", 1000)  # the defaults: the best measured variant
