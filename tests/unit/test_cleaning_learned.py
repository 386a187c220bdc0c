"""The learned rule: the 2^K − 1 linear constraints decide exactly as the rectifier network does."""

from __future__ import annotations

import numpy as np
import pytest

from cleaning import learned
from cleaning.config import config_from_dict
from cleaning.engine import Engine
from cleaning.features import FEATURE_NAMES, pair_features
from cleaning.rules import PairBatch
from tests.unit.cleaning_helpers import real_pairs


def random_net(rng: np.random.Generator, k: int, d: int) -> learned.RectifierNet:
    return learned.RectifierNet(rng.normal(size=(k, d)), rng.normal(size=k))


@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
def test_constraints_equal_network_on_random_inputs(k):
    rng = np.random.default_rng(k)
    d = len(FEATURE_NAMES)
    for _ in range(20):
        net = random_net(rng, k, d)
        constraints = learned.to_constraints(net)
        assert len(constraints.subsets) == 2 ** k - 1
        x = rng.normal(scale=2.0, size=(2000, d))
        np.testing.assert_array_equal(net.decide(x), constraints.satisfied(x))


def test_constraints_equal_network_on_real_features_and_shipped_file():
    rows = real_pairs()
    by_lang: dict[str, list] = {}
    for lang, en, xx, _ in rows:
        by_lang.setdefault(lang, []).append((en, xx))
    feats = []
    for lang, pairs in by_lang.items():
        src = [p[0] for p in pairs]
        tgt = [p[1] for p in pairs]
        feats.append(pair_features(PairBatch.of(src, tgt, "en", lang)))
        # and misaligned versions of the same pairs
        feats.append(pair_features(PairBatch.of(src, tgt[1:] + tgt[:1], "en", lang)))
    x = np.concatenate(feats)
    net = learned.load_network(learned.default_path())
    shipped = learned.load(learned.default_path())
    np.testing.assert_array_equal(net.decide(x), learned.to_constraints(net).satisfied(x))
    # the file's rounded constraints agree with the network on real data
    np.testing.assert_array_equal(net.decide(x), shipped.satisfied(x))
    # the clean German pairs pass with the default slack (0.3), as the engine applies the rule
    assert (shipped.violation(x[: len(by_lang["de"])]) <= 0.3).all()


def test_train_save_load_and_apply_as_rule(tmp_path):
    pairs = [(en, xx) for _, en, xx, _ in real_pairs("de")] * 8
    x, y = learned.training_data(pairs, "en", "de", seed=1)
    assert set(np.unique(y)) == {0.0, 1.0} and x.shape[1] == len(FEATURE_NAMES)
    net = learned.train(x, y, hidden=3, epochs=30, seed=1)
    path = tmp_path / "rule.json"
    learned.save(path, net, {"test": True})
    constraints = learned.load(path)
    assert len(constraints.subsets) == 7
    np.testing.assert_array_equal(learned.to_constraints(net).satisfied(x), net.decide(x))
    text = path.read_text()
    assert '"abs_log_char_ratio"' in text and '"bound"' in text  # readable: named coefficients
    engine = Engine(config_from_dict({"rules": {"learned": {"path": str(path)}}}), "en", "de")
    result = engine.run([p[0] for p in pairs[:6]], [p[1] for p in pairs[:6]])
    assert set(result.reasons) <= {"", "learned"}


def test_cli_clean_learn(tmp_path):
    from volctrans.cli.main import main

    data = tmp_path / "train.tsv"
    data.write_text("".join(f"{en}\t{xx}\n" for _, en, xx, _ in real_pairs("de") * 5), encoding="utf-8")
    out = tmp_path / "c.json"
    assert main(["clean-learn", "--data", f"en-de:{data}", "-o", str(out), "--hidden", "2", "--epochs", "20"]) == 0
    assert len(learned.load(out).subsets) == 3
