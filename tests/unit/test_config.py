from dataclasses import dataclass

import pytest

from volctrans.config import from_dict, load_yaml
from volctrans.errors import ConfigError
from volctrans.train import TrainConfig


@dataclass
class _Example:
    name: str
    size: int = 3
    ratio: float = 0.5
    langs: list[str] | None = None


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as info:
        from_dict(_Example, {"size": "big", "ratoi": 1, "langs": ["de", 3]}, source="x.yaml")
    problems = info.value.problems
    assert any("unknown key 'ratoi'" in p for p in problems)
    assert any(p.startswith("size: expected an integer") for p in problems)
    assert any(p.startswith("langs[1]") for p in problems)
    assert any("missing required key 'name'" in p for p in problems)
    assert str(info.value).startswith("x.yaml: invalid configuration:")


def test_ints_are_accepted_for_floats():
    example = from_dict(_Example, {"name": "a", "ratio": 1})
    assert example.ratio == 1.0 and isinstance(example.ratio, float)


def test_validate_hook_problems_are_collected():
    with pytest.raises(ConfigError) as info:
        from_dict(TrainConfig, {"data": "d", "save_dir": "s", "weighting": "magic", "embed_dim": 100,
                                "attention_heads": 8, "max_update": 0})
    text = str(info.value)
    assert "weighting" in text and "embed_dim" in text and "max_update" in text


def test_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_yaml(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(path)


def test_yaml_flags_and_overrides_meet_in_one_config(tmp_path):
    from volctrans.config import build_config

    path = tmp_path / "train.yaml"
    path.write_text("data: prep\nsave_dir: ckpt\nmax_update: 100\nlr: 0.001\nbilevel: {alpha: 5.0, lambda_lr: 0.2}\n")
    config = build_config(TrainConfig, path, {"max_update": 300, "seed": None},
                          ["lr=0.002", "bilevel.alpha=10", "langs=[de, fr]"])
    assert (config.max_update, config.lr, config.langs) == (300, 0.002, ["de", "fr"])  # flags < --set
    assert (config.bilevel.alpha, config.bilevel.lambda_lr) == (10.0, 0.2)  # a nested key keeps its siblings
    assert config.seed == TrainConfig.__dataclass_fields__["seed"].default  # a flag not given (None) changes nothing


def test_bad_overrides_are_reported_together():
    from volctrans.config import parse_overrides

    with pytest.raises(ConfigError) as info:
        parse_overrides(["max_update", "lr=0.1", "=3", "x=[unclosed"])
    assert len(info.value.problems) == 3 and str(info.value).startswith("--set: invalid configuration")
