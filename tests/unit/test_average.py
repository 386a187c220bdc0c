import pytest
import torch

from volctrans.average import average_checkpoints, last_checkpoints
from volctrans.errors import VolctransError


def _checkpoint(path, value, updates):
    torch.save({"model": {"w": torch.full((2, 2), float(value)), "step": torch.tensor(updates)},
                "args": None, "last_optimizer_state": {"x": 1}, "optimizer_history": [{"num_updates": updates}]}, path)


def test_average_of_the_newest_interval_checkpoints(tmp_path):
    for updates, value in ((100, 1.0), (200, 2.0), (300, 4.0)):
        _checkpoint(tmp_path / f"checkpoint_1_{updates}.pt", value, updates)
    _checkpoint(tmp_path / "checkpoint_last.pt", 9.0, 300)
    newest = last_checkpoints(tmp_path, 2)
    assert [p.name for p in newest] == ["checkpoint_1_300.pt", "checkpoint_1_200.pt"]
    out = average_checkpoints(newest, tmp_path / "avg.pt")
    state = torch.load(out, weights_only=False)
    assert torch.equal(state["model"]["w"], torch.full((2, 2), 3.0))
    assert state["optimizer_history"][-1]["num_updates"] == 300 and "last_optimizer_state" not in state
    with pytest.raises(VolctransError, match="3 interval checkpoints, 5 needed"):
        last_checkpoints(tmp_path, 5)
