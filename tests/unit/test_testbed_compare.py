"""benchmarks/testbed/compare.py: arms compared at their final update, or at one update with --at."""

import json
import subprocess
import sys
from pathlib import Path

COMPARE = Path(__file__).resolve().parents[2] / "benchmarks" / "testbed" / "compare.py"


def _seed(arm: Path, seed: int, max_update: int, chrf_by_checkpoint: dict[str, float]) -> None:
    run = arm / f"seed{seed}"
    run.mkdir(parents=True)
    (run / "train_summary.json").write_text(json.dumps({"max_update": max_update, "wall_seconds": 1.5 * max_update,
                                                        "resumed": False}))
    rows = [f"{checkpoint}\ttest\ten-es\t20.0\t{chrf}" for checkpoint, chrf in chrf_by_checkpoint.items()]
    (run / "scores.tsv").write_text("\n".join(rows) + "\n")


def _compare(*arguments) -> list[str]:
    result = subprocess.run([sys.executable, str(COMPARE), *map(str, arguments)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]   # after the header


def test_an_arm_trained_longer_is_read_at_the_interval_checkpoint_of_the_other_arms_last_update(tmp_path):
    long, short = tmp_path / "nobt", tmp_path / "bt"
    for seed, (at_750, final) in enumerate([(40.0, 50.0), (42.0, 52.0)], start=1):
        _seed(long, seed, 1500, {"checkpoint_5_750": at_750, "checkpoint_9_1500": final, "checkpoint_last": final})
    _seed(short, 1, 750, {"checkpoint_last": 30.0})
    _seed(short, 2, 750, {"checkpoint_last": 31.0})
    final_rows = _compare(long, short)
    assert final_rows[0].split(" | ")[2].startswith("51.0") and final_rows[1].split(" | ")[2] == "30.5 ± 0.7 (30.0–31.0)"
    rows = _compare("--at", 750, long, short)
    assert rows[0].split(" | ")[2].startswith("41.0 ± 1.4 (40.0–42.0)")
    assert rows[1].split(" | ")[4:6] == ["-10.5", "yes"]   # −10.5 exceeds both arms' seed ranges (2.0, 1.0)


def test_signal_gap_averages_w_minus_u_per_source_over_windows_and_skips_sources_absent_from_u():
    sys.path.insert(0, str(COMPARE.parent))
    from signal_gap import window_gaps

    records = [{"update": 10, "weights": {}, "loss_w": {"gettext": 5.0, "noisy": 6.0}, "loss_u": {"gettext": 5.5}},
               {"update": 20, "weights": {}, "loss_w": {"gettext": 4.0}, "loss_u": {"gettext": 4.1}},
               {"update": 30, "weights": {}, "loss_w": {"noisy": 3.0}, "loss_u": {"noisy": 3.2}}]
    windows = window_gaps(records, 30, windows=3)
    assert [(first, last) for first, last, _ in windows] == [(1, 10), (11, 20), (21, 30)]
    assert windows[0][2] == {"gettext": -0.5}
    assert abs(windows[1][2]["gettext"] + 0.1) < 1e-9 and abs(windows[2][2]["noisy"] + 0.2) < 1e-9
