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
