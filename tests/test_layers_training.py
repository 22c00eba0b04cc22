"""neurocomp.layers.training.fit: seeds, resumable checkpoints, early stopping, progress, DDP.

The distributed tests start two real processes (gloo on CPU; NCCL would be chosen on CUDA)
through the same environment variables torchrun sets, and check that data parallelism ends
with identical weights and buffers on both ranks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from neurocomp.layers import (
    TCN,
    DettmersNeuron,
    DettmersNeuronConfig,
    FitConfig,
    TCNConfig,
    fit,
    launch_local,
    tcn_loss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def regression_data(n: int = 48, seed: int = 0, flip: bool = False) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 5, 4, generator=g)
    y = x[:, :2].sum(1, keepdim=True).expand(n, 3, 4) * (-1.0 if flip else 1.0)
    return TensorDataset(x, y.contiguous())


def tiny_neuron(seed: int = 0) -> DettmersNeuron:
    """A small DettmersNeuron: its Poisson firing stage draws from the global generator."""
    torch.manual_seed(seed)
    return DettmersNeuron(DettmersNeuronConfig(n_synapses=5, n_dendrites=2,
                                               dendritic_kernel=(2, 2, 3), n_outputs=3,
                                               somatic_nonlinearity="linear"))


def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(out, y)


def params(model: nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in model.state_dict().values()]


BASE = FitConfig(epochs=4, batch_size=8, learning_rate=0.02, progress=False, seed=7)


def test_fit_learns_and_same_seed_gives_same_numbers():
    a, b = tiny_neuron(), tiny_neuron()
    ra = fit(a, mse, regression_data(), config=BASE)
    rb = fit(b, mse, regression_data(), config=BASE)
    assert all(torch.equal(p, q) for p, q in zip(params(a), params(b), strict=True))  # bitwise
    assert [r.train_loss for r in ra.history] == [r.train_loss for r in rb.history]
    assert ra.history[-1].train_loss < ra.history[0].train_loss  # it learns something
    assert ra.device == "cpu" and ra.world_size == 1 and ra.monitored == "train_loss"
    c = tiny_neuron()
    fit(c, mse, regression_data(), config=replace(BASE, seed=8))
    assert not all(torch.equal(p, q) for p, q in zip(params(a), params(c), strict=True))


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    whole = tiny_neuron()
    r_whole = fit(whole, mse, regression_data(), config=replace(
        BASE, checkpoint_dir=tmp_path / "a", restore_best=False))
    part = tiny_neuron()
    fit(part, mse, regression_data(), config=replace(
        BASE, epochs=2, checkpoint_dir=tmp_path / "b", restore_best=False))
    resumed = tiny_neuron(seed=99)  # its own weights are replaced by the checkpoint's
    r_res = fit(resumed, mse, regression_data(), config=replace(
        BASE, checkpoint_dir=tmp_path / "b", restore_best=False))
    assert r_res.resumed_from_epoch == 2
    # Poisson firing and data order are reseeded per epoch: identical numbers, bit for bit
    assert all(torch.equal(p, q) for p, q in zip(params(whole), params(resumed), strict=True))
    assert [r.train_loss for r in r_res.history] == [r.train_loss for r in r_whole.history]
    state = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    assert state["epoch"] == 4 and len(state["history"]) == 4
    with pytest.raises(ValueError, match=r"cannot resume .*last.pt: it was written with "
                                         r"seed=7, this run has seed=8"):
        fit(tiny_neuron(), mse, regression_data(),
            config=replace(BASE, seed=8, checkpoint_dir=tmp_path / "b"))


def test_early_stopping_restores_the_best_weights(tmp_path):
    # validation targets are the negated training targets: the better the fit, the worse the
    # validation loss, so the first epoch is best and training stops `patience` epochs later
    model = tiny_neuron()
    cfg = replace(BASE, epochs=20, patience=2, checkpoint_dir=tmp_path)
    res = fit(model, mse, regression_data(), config=cfg, val_data=regression_data(flip=True))
    assert res.stopped_early and res.monitored == "val_loss"
    assert len(res.history) == res.best_epoch + 1 + 2
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())
    again = fit(tiny_neuron(), mse, regression_data(), config=cfg,
                val_data=regression_data(flip=True))
    assert len(again.history) == len(res.history)  # resuming a stopped run adds no epoch
    assert list(res.to_frame().columns) == ["epoch", "train_loss", "val_loss", "seconds",
                                            "improved"]


def test_progress_bar_and_config_errors(capsys):
    fit(tiny_neuron(), mse, regression_data(16), config=replace(BASE, epochs=1, progress=True))
    assert "epoch 1/1" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"patience must be an integer in \[1, inf\]; got 0"):
        FitConfig(patience=0)
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'adamw', 'nadam', "
                                         "'sgd'; got 'lbfgs'"):
        FitConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="train_data must hold at least one example"):
        fit(tiny_neuron(), mse, TensorDataset(torch.zeros(0, 5, 4)), config=BASE)


class SpikeData(Dataset):
    """Random inputs with (spike, voltage) targets for a TCN (picklable for spawned ranks)."""

    def __init__(self, n: int = 32) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, 12, generator=g)
        self.spikes = (torch.rand(n, 12, generator=g) < 0.1).float()
        self.volt = self.x.sum(1)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        return self.x[i], (self.spikes[i], self.volt[i])


def tcn_objective(out, target) -> torch.Tensor:
    return tcn_loss(out, target[0], target[1], voltage_weight=0.1)


def ddp_worker(out_dir: str) -> None:
    """One rank: build the same TCN (batch norm, so buffers matter too), fit, save."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = TCN(TCNConfig(in_channels=3, depth=2, width=4, kernel_sizes=3, dilations=(1, 2)))
    result = fit(model, tcn_objective, SpikeData(), val_data=SpikeData(8),
                 config=FitConfig(epochs=2, batch_size=4, learning_rate=0.01, progress=False,
                                  seed=3, max_steps_per_epoch=3))
    rank = int(os.environ["RANK"])  # set by torchrun / launch_local
    torch.save(model.state_dict(), Path(out_dir) / f"rank{rank}.pt")
    (Path(out_dir) / f"rank{rank}.json").write_text(json.dumps(
        {"world_size": result.world_size, "loss": [r.train_loss for r in result.history],
         "val": [r.val_loss for r in result.history]}))


def assert_ranks_agree(out_dir: Path) -> None:
    s0 = torch.load(out_dir / "rank0.pt", weights_only=True)
    s1 = torch.load(out_dir / "rank1.pt", weights_only=True)
    # DDP averages gradients and every rank applies the same step: identical bit for bit,
    # buffers (batch-norm statistics) included
    assert s0.keys() == s1.keys() and all(torch.equal(s0[k], s1[k]) for k in s0)
    torch.manual_seed(0)
    init = TCN(TCNConfig(in_channels=3, depth=2, width=4, kernel_sizes=3, dilations=(1, 2)))
    assert not torch.equal(init.state_dict()["body.0.weight"], s0["body.0.weight"])  # trained
    logs = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert logs[0] == logs[1] and logs[0]["world_size"] == 2  # all-reduced losses agree


@pytest.mark.distributed
def test_ddp_two_processes_end_with_identical_weights(tmp_path):
    launch_local(ddp_worker, world_size=2, args=(str(tmp_path),))
    assert_ranks_agree(tmp_path)


@pytest.mark.slow
@pytest.mark.distributed
def test_the_same_script_runs_under_torchrun(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_layers_training import ddp_worker
        ddp_worker(sys.argv[1])
    """))
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node", "2", str(script), str(tmp_path)], check=True,
                   timeout=300, capture_output=True)
    assert_ranks_agree(tmp_path)


@pytest.mark.gpu
def test_fit_uses_cuda_when_present():
    model = tiny_neuron()
    res = fit(model, mse, regression_data(), config=replace(BASE, epochs=1))
    assert res.device.startswith("cuda") and next(model.parameters()).device.type == "cuda"
