"""Sequences as surrogate training data: checks, the clipped voltage target, windows.

A window is cut only *inside* one sequence (one continuous simulation), never across two;
the voltage target is clipped at :data:`~neurocomp.mapping.surrogate.VOLTAGE_CEILING_MV`
(−55 mV, Beniaguev et al. 2021).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from neurocomp.checks import check_int
from neurocomp.mapping.surrogate import VOLTAGE_CEILING_MV, NeuronIO, check_sequence

__all__ = ["SequenceWindows"]


def _check_sequences(name: str, seqs: Sequence[NeuronIO]) -> list[NeuronIO]:
    """Non-empty list of NeuronIO with the same channels, finite inputs and 0/1 spikes."""
    seqs = list(seqs)
    if not seqs:
        raise ValueError(f"{name} must hold at least one sequence; got none")
    channels = None
    for i, s in enumerate(seqs):
        check_sequence(f"{name}[{i}]", s)
        if channels is None:
            channels = s.inputs.shape[0]
        elif s.inputs.shape[0] != channels:
            raise ValueError(f"{name}[{i}] has {s.inputs.shape[0]} input channels; "
                             f"{name}[0] has {channels}")
    return seqs


def _clipped(seq: NeuronIO) -> np.ndarray:
    """The somatic voltage target of ``seq``, float64, clipped at :data:`VOLTAGE_CEILING_MV`."""
    return np.minimum(np.asarray(seq.soma_mV, dtype=np.float64), VOLTAGE_CEILING_MV)


class SequenceWindows(Dataset):
    """Windows of ``window`` bins cut inside each sequence, every ``stride`` bins.

    Item ``i`` is ``(x, (spikes, voltage))``: ``x`` (channels, window) in the inputs' own
    dtype (uint8 spike counts take a quarter of float32;
    :func:`~neurocomp.mapping.surrogate_fit.train_surrogate` converts each batch), spikes and
    the voltage target clipped at −55 mV, float32 (window,). ``index[i]`` is
    ``(sequence, start)``; a window never crosses from one sequence into the next.

    Parameters
    ----------
    sequences : sequence of NeuronIO
    window : int
        Bins per window; at most the length of the shortest sequence.
    stride : int or None
        Bins between window starts within a sequence (default: ``window``, no overlap).
    """

    def __init__(self, sequences: Sequence[NeuronIO], *, window: int,
                 stride: int | None = None) -> None:
        seqs = _check_sequences("sequences", sequences)
        self.window = check_int("window", window, low=1)
        self.stride = check_int("stride", self.window if stride is None else stride, low=1)
        lengths = [s.inputs.shape[1] for s in seqs]
        shortest = int(np.argmin(lengths))
        if self.window > lengths[shortest]:
            raise ValueError(f"window={self.window} bins is longer than the shortest sequence "
                             f"(sequences[{shortest}], {lengths[shortest]} bins)")
        self._x = [torch.as_tensor(np.ascontiguousarray(s.inputs)) for s in seqs]
        self._s = [torch.as_tensor(np.asarray(s.spikes, dtype=np.float32)) for s in seqs]
        self._v = [torch.as_tensor(_clipped(s).astype(np.float32)) for s in seqs]
        self.index: list[tuple[int, int]] = [
            (k, a) for k, n in enumerate(lengths) for a in range(0, n - self.window + 1,
                                                                 self.stride)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        k, a = self.index[i]
        b = a + self.window
        # the input window keeps its stored dtype (uint8 events: 4× less to copy and stack);
        # the training loop converts whole batches
        return self._x[k][:, a:b], (self._s[k][a:b], self._v[k][a:b])
