import subprocess
import sys

import pytest

from volctrans.cli.main import COMMANDS, main


def test_help_lists_every_subcommand(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_subcommand_has_help(command):
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "usage: volctrans" in result.stdout


def test_errors_are_one_line_with_nonzero_exit(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: d\nsave_dir: s\nembed_dim: 100\nattention_heads: 8\nwieghting: uniform\n")
    result = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(bad), "--dry-run"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0]
    assert "unknown key 'wieghting'" in lines[0]


def test_data_sample_cli(tmp_path, data_dir):
    assert main(["data", "sample", "--from", str(data_dir / "tiny"), "--out", str(tmp_path / "s"), "--train", "10",
                 "--dev", "5", "--test", "5", "--mono", "7", "--langs", "de"]) == 0
    assert (tmp_path / "s/mono/de.txt.gz").is_file() and (tmp_path / "s/en-de/train.tsv.gz").is_file()
    assert not (tmp_path / "s/en-zh").exists()


def _parse(command: str, argv: list[str]):
    from volctrans.cli.main import build_parser

    return build_parser(command).parse_args([command, *argv])


def test_flag_defaults_come_from_the_config_dataclasses(tmp_path):
    from serving.batch import BatchConfig
    from serving.translator import DecodingOptions
    from volctrans.backtranslate import BacktranslateConfig
    from volctrans.cli.common import config_from_args, decoding_options, given

    args = _parse("translate", ["-m", "model", "-s", "en", "-t", "de,fr"])
    assert decoding_options(args) == DecodingOptions()
    assert BatchConfig(**given(BatchConfig, args)) == BatchConfig("en", ["de", "fr"])
    args = _parse("translate", ["-m", "m", "-s", "en", "-t", "de", "--beam", "1", "--batch-tokens", "99", "--ct2-scoring",
                                "--quiet"])
    assert decoding_options(args) == DecodingOptions(beam_size=1, max_batch_tokens=99, fairseq_scoring=False)
    assert BatchConfig(**given(BatchConfig, args)).progress is False

    # serve: the server's micro-batch budget and CTranslate2's batch budget are two settings of the same name
    from serving.server import ServerConfig

    args = _parse("serve", ["-m", "m", "--max-batch-tokens", "512", "--batch-tokens", "64"])
    assert ServerConfig(**given(ServerConfig, args)).max_batch_tokens == 512
    assert decoding_options(args).max_batch_tokens == 64

    # backtranslate: YAML < flags < --set, and the dataclass fills the rest
    (tmp_path / "bt.yaml").write_text("model: m\nlang: de\ninput: mono.de\nout: bt\nbeam_size: 2\nseed: 7\n")
    args = _parse("backtranslate", ["--config", str(tmp_path / "bt.yaml"), "--seed", "8", "--set", "shard_size=5"])
    assert config_from_args(BacktranslateConfig, args) == BacktranslateConfig(
        model="m", lang="de", input="mono.de", out="bt", beam_size=2, seed=8, shard_size=5)


def test_train_set_accepts_nested_keys_and_rejects_malformed_ones(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("data: d\nsave_dir: s\n")
    ok = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config), "--check",
                         "--set", "weighting=bilevel", "--set", "bilevel.lisa_layers=1"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "volctrans.cli.main", "train", "--config", str(config), "--check",
                          "--set", "max_update"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        "volctrans train: error: --set: invalid configuration: expected KEY=VALUE, got 'max_update'"]


def test_data_recount_updates_the_manifest_after_an_in_place_rewrite(tmp_path, data_dir):
    import gzip

    from volctrans.data.corpus import Manifest

    corpus = tmp_path / "s"
    assert main(["data", "sample", "--from", str(data_dir / "tiny"), "--out", str(corpus), "--train", "10",
                 "--dev", "5", "--test", "5", "--mono", "7", "--langs", "de"]) == 0
    train = Manifest.load(corpus).path(corpus, "en-de", "train")
    with gzip.open(train, "rt", encoding="utf-8") as handle:
        kept = handle.readlines()[:4]
    with gzip.open(train, "wt", encoding="utf-8") as handle:
        handle.writelines(kept)
    assert main(["data", "recount", str(corpus)]) == 0
    assert Manifest.load(corpus).pairs == {"en-de": {"train": 4, "dev": 5, "test": 5}}


def test_data_recount_manifest_from_describes_a_cleaned_copy_of_a_corpus(tmp_path, data_dir):
    """A stage that rewrote part of a corpus elsewhere (the demo's cleaning: plain .tsv, one pair, no mono) gets the
    original's name and licence with its own pairs, file names and counts."""
    from volctrans.data.corpus import Manifest

    sample = tmp_path / "sample"
    assert main(["data", "sample", "--from", str(data_dir / "tiny"), "--out", str(sample), "--train", "10",
                 "--dev", "5", "--test", "5", "--mono", "7"]) == 0
    original = Manifest.load(sample)
    assert len(original.pairs) > 1 and original.mono
    cleaned = tmp_path / "cleaned"
    (cleaned / "en-de").mkdir(parents=True)
    (cleaned / "en-de" / "train.tsv").write_text("Hello.\tHallo.\tp\nThanks.\tDanke.\tp\n", encoding="utf-8")
    (cleaned / "en-de" / "dev.tsv").write_text("Yes.\tJa.\tp\n", encoding="utf-8")
    assert main(["data", "recount", str(cleaned), "--manifest-from", str(sample)]) == 0
    described = Manifest.load(cleaned)
    assert (described.name, described.licence) == (original.name, original.licence)
    assert described.files == {"en-de": {"train": "en-de/train.tsv", "dev": "en-de/dev.tsv"}}
    assert described.pairs == {"en-de": {"train": 2, "dev": 1}}
    assert described.mono == {} and described.details["derived_from"] == str(sample)
    (tmp_path / "empty").mkdir()
    assert main(["data", "recount", str(tmp_path / "empty"), "--manifest-from", str(sample)]) != 0
    assert not (tmp_path / "empty" / "manifest.json").exists()
