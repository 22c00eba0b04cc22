"""The simulator side of NeuronIO-mini: a neuron model driven by channel inputs, in Brian2
or in the PyTorch engine.

:class:`BrianSimulator` turns a :class:`~neurocomp.biophysics.model.NeuronModel` whose
synapse groups put one synapse on each listed compartment (``compartments`` given, one
source per synapse — Beniaguev et al.'s layout) into the ``simulate(inputs, seed)`` callable
that :func:`~neurocomp.mapping.neuronio.generate_dataset` runs on its workers: the input
channels are the excitatory group's sources, then the inhibitory group's; each 1 in bin
``k`` is a presynaptic spike at ``k·bin_ms``. It returns the somatic voltage (mean over each
bin, mV), the output spikes (threshold crossings at the axon terminal, per bin), and the
voltage at dendritic sites (mean per bin, mV) where plateaus are counted.
:class:`TorchSimulator` returns the same from :mod:`neurocomp.engine`, many sequences per
engine pass (``simulate_batch``).

:func:`channel_table` gives the matching :class:`~neurocomp.mapping.neuronio_inputs.ChannelTable`
and :func:`model_fingerprint` the model part of the data set's key: a hash of the model's
full description (morphology, membranes, channels, receptors, synapses) and the stages.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, fields

import numpy as np

from neurocomp.biophysics import NeuronModel, SpikeTrains, Stages
from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.mapping.neuronio_inputs import ChannelTable

__all__ = ["BrianSimulator", "ChannelSimulator", "TorchSimulator", "channel_table",
           "dendritic_sites", "model_fingerprint"]


def _groups(model: NeuronModel, names: tuple[str, str]) -> list:
    groups = {g.name: g for g in model.synapse_groups}
    out = []
    for name in names:
        if name not in groups:
            raise ValueError(f"model {model.name!r} has no synapse group {name!r} (groups: "
                             f"{sorted(groups)}); NeuronIO-mini needs an excitatory and an "
                             f"inhibitory group")
        g = groups[name]
        if g.compartments is None or g.n_sources != g.n_synapses:
            raise ValueError(f"synapse group {name!r} must list its compartments with one "
                             f"source per synapse (n_sources = n_synapses) to be driven by "
                             f"input channels")
        out.append(g)
    return out


def channel_table(model: NeuronModel, *, groups: tuple[str, str] = ("exc", "inh"),
                  subtree_of_region: dict[str, str] | None = None) -> ChannelTable:
    """Input channels of ``model``: one per synapse of the excitatory group, then one per
    synapse of the inhibitory group; subtree = the compartment's region (or its mapping)."""
    table = model.morphology.compartment_table()
    kinds, subtree, length, comp, dist = [], [], [], [], []
    for kind, g in zip(("exc", "inh"), _groups(model, groups), strict=True):
        for c in g.compartments:
            region = str(table["region"][c])
            kinds.append(kind)
            subtree.append((subtree_of_region or {}).get(region, region))
            length.append(float(table["length_um"][c]))
            comp.append(int(c))
            dist.append(float(table["distance_um"][c]))
    return ChannelTable(kind=tuple(kinds), subtree=tuple(subtree), length_um=tuple(length),
                        compartment=tuple(comp), distance_um=tuple(dist))


def dendritic_sites(model: NeuronModel, *, per_region: int = 6) -> tuple[int, ...]:
    """Compartments where plateaus are watched: the middle compartment of the last
    ``per_region`` terminal sections of each dendritic region (thin terminal branches are
    where NMDA plateaus arise; Major et al. 2008, J Neurophysiol 99:2584)."""
    check_int("per_region", per_region, low=1)
    morph = model.morphology
    parents = {s.parent for s in morph.sections}
    sites = []
    for region in model.dendritic_regions:
        terminals = [s for s in morph.sections if s.region == region and s.name not in parents]
        for s in terminals[-per_region:]:
            idx = morph.indices(section=s.name)
            sites.append(int(idx[len(idx) // 2]))
    return tuple(sites)


def model_fingerprint(model: NeuronModel, stages: Stages) -> str:
    """SHA-256 of the model's and the stages' full descriptions (frozen dataclasses, whose
    ``repr`` lists every field, nested ones included; fields left out of the repr are added
    when they differ from their default)."""
    if not isinstance(model, NeuronModel):
        raise TypeError(f"model must be a NeuronModel; got {type(model).__name__}")
    # fields kept out of the repr (added after data sets were keyed by it) count when they
    # differ from their default, so the keys of earlier data sets still match
    extra = [f"{f.name}={getattr(model, f.name)!r}" for f in fields(model)
             if not f.repr and getattr(model, f.name) != f.default]
    return hashlib.sha256("\n".join([repr(model), repr(stages), *extra]).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class ChannelSimulator:
    """What both simulators share: the model driven by input channels, its bins and sites.

    Parameters
    ----------
    model : NeuronModel
        The neuron (its ``exc`` and ``inh`` groups are driven by the channels).
    stages : Stages
        Pipeline stages (release, NMDA …).
    bin_ms : float
        Input and output bin, ms.
    dt_us : float
        Integration step, µs.
    record_dt_ms : float
        Sampling step of the voltages before averaging per bin, ms (divides ``bin_ms``).
    dend_sites : tuple of int
        Dendritic compartments whose voltage is returned as ``dend_mV``.
    """

    model: NeuronModel
    stages: Stages
    bin_ms: float = 1.0
    dt_us: float = 25.0
    record_dt_ms: float = 0.1
    dend_sites: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_real("bin_ms", self.bin_ms, low=0, low_inclusive=False, unit="ms")
        check_real("dt_us", self.dt_us, low=0, low_inclusive=False, high=1000, unit="µs")
        check_real("record_dt_ms", self.record_dt_ms, low=self.dt_us / 1000, high=self.bin_ms,
                   unit="ms")
        per_bin = self.bin_ms / self.record_dt_ms
        if abs(per_bin - round(per_bin)) > 1e-9:
            raise ValueError(f"record_dt_ms ({self.record_dt_ms:g}) must divide bin_ms "
                             f"({self.bin_ms:g})")
        _groups(self.model.with_stages(self.stages), ("exc", "inh"))
        n = self.model.morphology.n_compartments
        bad = [s for s in self.dend_sites if not 0 <= int(s) < n]
        if bad:
            raise ValueError(f"dend_sites: compartment {bad[0]} does not exist (0 to {n - 1})")

    @property
    def n_channels(self) -> int:
        """Input channels expected: synapses of ``exc`` plus those of ``inh``."""
        return sum(g.n_synapses for g in _groups(self.model, ("exc", "inh")))

    def trains(self, inputs: np.ndarray) -> dict[str, SpikeTrains]:
        """The per-group spike trains of a channel array (uint8, channels × bins)."""
        x = np.asarray(inputs)
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            raise ValueError(f"inputs must have shape ({self.n_channels}, n_bins); got "
                             f"{x.shape}")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError("inputs must hold 0 or 1 per bin and channel (at most one spike "
                             "per bin, as generated)")
        duration = x.shape[1] * self.bin_ms
        out, start = {}, 0
        for g in _groups(self.model, ("exc", "inh")):
            block = x[start:start + g.n_synapses]
            start += g.n_synapses
            src, bins = np.nonzero(block)
            order = np.lexsort((src, bins))
            out[g.name] = SpikeTrains(indices=src[order].astype(np.int64),
                                      times_ms=bins[order] * self.bin_ms,
                                      n_sources=g.n_synapses, duration_ms=duration)
        return out


@dataclass(frozen=True, kw_only=True)
class BrianSimulator(ChannelSimulator):
    """``simulate(inputs, seed)`` for :func:`~neurocomp.mapping.neuronio.generate_dataset`,
    on Brian2: the fields of :class:`ChannelSimulator` and

    Parameters
    ----------
    backend : str
        Brian2 target (``cpp_standalone`` for data sets: ~3.5 s per biological second for the
        mammalian L5 cell, after one build that later runs reuse).
    """

    backend: str = "cpp_standalone"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("backend", self.backend, ("numpy", "cython", "cpp_standalone"))

    def __call__(self, inputs: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        from brian2 import ms, us

        from neurocomp.biophysics import NeuronPipeline

        seed = check_int("seed", seed, low=0)
        trains = self.trains(inputs)
        n_bins = np.asarray(inputs).shape[1]
        pipe = NeuronPipeline(self.model, stages=self.stages)
        rec = pipe.run(trains, duration=n_bins * self.bin_ms * ms, dt=self.dt_us * us,
                       backend=self.backend, seed=seed % (2**31), record=_sites(self),
                       record_dt=self.record_dt_ms * ms)
        return _binned(self, np.asarray(rec.traces["v"]), np.asarray(rec.spikes_ms["output"]),
                       n_bins, run_s=float(rec.timing.get("run_s", np.nan)))


def _sites(sim: ChannelSimulator) -> list:
    """Recorded compartments: the soma, then the dendritic sites."""
    from neurocomp.biophysics import RecordSite

    return [RecordSite(label="soma", index=0)] + [
        RecordSite(label=f"dend{k}", index=int(c)) for k, c in enumerate(sim.dend_sites)]


def _binned(sim: ChannelSimulator, v: np.ndarray, out_ms: np.ndarray,
            n_bins: int, **timing: float) -> dict[str, np.ndarray]:
    """A simulator's result from the recorded voltages (sites × samples, mV) and the output
    spike times (ms): voltages averaged per bin, a 1 in each bin holding a spike, and the
    ``timing`` diagnostics (Brian2's binary ``run_s``, or the engine's ``engine_s``: its
    pass's wall time divided by the sequences in it).

    A spike is at a whole step; one whose step starts a bin (1 in ``bin_ms / dt`` of them)
    lands in that bin or the one before by the last digit of the simulator's clock (Brian2
    and the engine differ there by ~1e-13 ms), so the two simulators' spike bins can differ
    by one for such spikes while their spike times are equal."""
    per_bin = round(sim.bin_ms / sim.record_dt_ms)
    v = v[:, : n_bins * per_bin]
    v = v.reshape(v.shape[0], n_bins, per_bin).mean(axis=2)
    spikes = np.zeros(n_bins, dtype=np.uint8)
    spikes[np.minimum((out_ms / sim.bin_ms).astype(int), n_bins - 1)] = 1
    result = {"soma_mV": v[0], "spikes": spikes,
              "output_spikes": np.array(float(out_ms.size))}
    result |= {name: np.array(float(value)) for name, value in timing.items()}
    if sim.dend_sites:
        result["dend_mV"] = v[1:]
    return result


@dataclass(frozen=True, kw_only=True)
class TorchSimulator(ChannelSimulator):
    """The same ``simulate(inputs, seed)`` on the PyTorch engine, many sequences per pass.

    The fields of :class:`ChannelSimulator` and the engine's run settings.
    :func:`~neurocomp.mapping.neuronio.generate_dataset` sees ``simulate_batch`` and runs
    ``batch_size`` sequences per engine pass in its own process. In float64 the
    engine equals Brian2 on the same model, input and step to round-off
    (``benchmarks/results/neuronio_backends.json`` compares it sequence by sequence with
    stored Brian2 data); float32 is about twice as fast, but a threshold crossing can move
    by a step, and the voltage after it then differs by millivolts.

    Parameters
    ----------
    batch_size : int
        Sequences simulated together (≥ 1).
    dtype : {"float64", "float32"}
        The engine's precision.
    threads : int
        CPU threads of the engine (1 is fastest on a loaded machine; run one process per
        core instead).
    compile : bool
        Compile the engine's step with ``torch.compile`` (tens of seconds once per process).
    block : int
        Steps per compiled call (a power of two; :func:`~neurocomp.engine.simulate`). Larger
        blocks run faster once compiled but compile longer (once per machine: inductor
        keeps compiled graphs on disk); ``benchmarks/results/neuronio_backends.json`` has the
        quick set's wall time at blocks 1 and 2, cold and warm.
    device : str
        Torch device (``"cpu"``, ``"cuda"``).
    """

    batch_size: int = 16
    dtype: str = "float64"
    threads: int = 1
    compile: bool = True
    block: int = 2
    device: str = "cpu"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("batch_size", self.batch_size, low=1)
        check_int("threads", self.threads, low=1)
        check_int("block", self.block, low=1)
        check_choice("dtype", self.dtype, ("float64", "float32"))
        if self.stages.release == "stochastic" and self.batch_size > 1:
            raise ValueError("stochastic release draws from one generator per engine pass, "
                             "so a sequence's release would depend on its batch: use "
                             "batch_size=1 (or BrianSimulator) with stages.release = "
                             "'stochastic'")

    def __call__(self, inputs: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        return self.simulate_batch([inputs], [seed])[0]

    def simulate_batch(self, inputs: list[np.ndarray],
                       seeds: list[int]) -> list[dict[str, np.ndarray]]:
        """Simulate several channel arrays (each channels × bins, one length) together."""
        import torch

        from neurocomp.engine import simulate

        if len(inputs) != len(seeds) or not inputs:
            raise ValueError(f"simulate_batch needs one seed per input and at least one "
                             f"input; got {len(inputs)} inputs and {len(seeds)} seeds")
        seeds = [check_int(f"seeds[{k}]", s, low=0) for k, s in enumerate(seeds)]
        lengths = {np.asarray(x).shape[-1] for x in inputs}
        if len(lengths) != 1:
            raise ValueError(f"inputs of one batch must have one length; got {sorted(lengths)} "
                             f"bins")
        n_bins = lengths.pop()
        trains = [self.trains(x) for x in inputs]
        groups = {name: [t[name] for t in trains] for name in trains[0]}
        t0 = time.perf_counter()
        recs = simulate(self.model, groups, duration_ms=n_bins * self.bin_ms,
                        dt_ms=self.dt_us / 1000.0, stages=self.stages, batch=len(inputs),
                        record=_sites(self), record_dt_ms=self.record_dt_ms,
                        seed=seeds[0] % (2**31), dtype=getattr(torch, self.dtype),
                        device=self.device, threads=self.threads, compile=self.compile,
                        block=self.block)
        recs = recs if isinstance(recs, list) else [recs]
        share = (time.perf_counter() - t0) / len(inputs)
        return [_binned(self, np.asarray(r.traces["v"]), np.asarray(r.spikes_ms["output"]),
                        n_bins, engine_s=share) for r in recs]
