"""NeuronIO-mini for the reduced mammalian L5 cell: the two conditions and their data sets.

The protocol of Beniaguev, Segev & London (2021, Neuron 109:2727): one excitatory and one
inhibitory input channel per dendritic compartment, Beniaguev-style doubly stochastic rates
(:class:`~neurocomp.mapping.InputStatistics`), deterministic non-depressing release, a 2 s
burn-in simulated and discarded before every sequence, and two conditions:

* ``nmda`` — AMPA 0.4 nS + NMDA 0.4 nS per input spike (their synapse);
* ``ampa`` — the NMDA conductance removed (weight 0, the same equations), excitation raised
  so that the output rate is in the same range, as their AMPA-only data set raises its
  input rates (docs/references.md#anchors-surrogates-engines-a-2).

The excitatory rate scales were tuned here by hand for the cell with its cell1-like apical
tree (data code version 2), on 10 s sequences after the 2 s burn-in: with NMDA, scale 0.45 →
0 spikes and 0.6 → 9 (one sequence, seed 0), 0.7 → 1 (seed 1), 0.8 → 35, 22, 32 and 41
(four sequences, seed 5); without NMDA, 2.0 → 1 (seed 1) and 2.5 → 35, 18, 40 and 38 (seed
5). Output rates vary several-fold between sequences (each draws its own hold interval and
smoothing); what a data set actually fires is measured and stored in its manifest, and the
``surrogate-depth`` analysis checks the 1–5 Hz band before fitting anything.

Under this drive the thin basal branches almost never make an NMDA plateau (the paper run's regime
table, ``benchmarks/results/surrogate_depth_paper.json``): in this cell a basal terminal
needs tens of synchronous 0.4 nS synapses on 60 µm (the ``l5-cell`` analysis's threshold
scan), and Beniaguev's density delivers a few per NMDA decay time. A second named drive
(:data:`DRIVES`), ``dense-basal``, keeps everything of the protocol but the excitatory
density per subtree: four times Beniaguev's basal range, under half his apical one, each
condition's rate scale chosen between measured neighbours for a 1–5 Hz output
(``benchmarks/results/neuronio_drive_probe.json``, which also counts the plateaus each drive
gives). Its data sets have their own keys; the analyses use it only when asked (``--drive
dense-basal``).
"""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from neurocomp_models.neurons.l5_pyramidal import l5_pyramidal

from neurocomp.biophysics import NeuronModel, Stages
from neurocomp.mapping import (
    BrianSimulator,
    ChannelTable,
    GenerationSpec,
    InputStatistics,
    NeuronIODataset,
    TorchSimulator,
    channel_table,
    dataset_key,
    dendritic_sites,
    generate_dataset,
    load_dataset,
    model_fingerprint,
)

__all__ = [
    "CONDITIONS",
    "DATA_CODE_VERSION",
    "DEFAULT_DRIVE",
    "DENSE_BASAL_CONDITIONS",
    "DRIVES",
    "NeuronIOCondition",
    "drive_conditions",
    "neuronio_dataset",
]

#: Version of the simulating code (BrianSimulator, its sites and sampling): part of the key.
DATA_CODE_VERSION = "l5-neuronio-sim/2 (dt 25 us, soma mean per 1 ms bin of 0.1 ms samples, "\
                    "4 terminal dendritic sites per region, spikes at the axon terminal, "\
                    "NMDA Mg block held over each step)"
#: Terminal dendritic sections watched for plateaus, per dendritic region.
SITES_PER_REGION = 4


@dataclass(frozen=True, kw_only=True)
class NeuronIOCondition:
    """One condition of NeuronIO-mini: the cell's NMDA weight and the input statistics."""

    name: str
    label: str
    nmda_weight_nS: float
    stats: InputStatistics
    source: str = ""

    def model(self) -> NeuronModel:
        """The L5 cell of this condition (built once per weight: the model is immutable)."""
        return _l5(self.nmda_weight_nS)

    @property
    def stages(self) -> Stages:
        """Deterministic release (Beniaguev et al.'s synapses), every other stage on."""
        return Stages(release="deterministic")

    def channels(self) -> ChannelTable:
        """The input channels (one exc and one inh per dendritic compartment)."""
        return channel_table(self.model())

    def sites(self) -> tuple[int, ...]:
        """Compartments whose voltage the data record (plateaus are counted there)."""
        return dendritic_sites(self.model(), per_region=SITES_PER_REGION)

    def site_regions(self) -> tuple[str, ...]:
        """Dendritic region of each recorded site."""
        table = self.model().morphology.compartment_table()
        return tuple(str(table["region"][c]) for c in self.sites())

    def simulator(self, backend: str = "brian2", *, batch_size: int = 16, threads: int = 1,
                  dtype: str = "float64") -> BrianSimulator | TorchSimulator:
        """The ``simulate(inputs, seed)`` callable: Brian2 (``cpp_standalone``, one sequence
        per Dask worker) or the PyTorch engine (``"torch"``: ``dtype``, ``batch_size``
        sequences per pass on ``threads`` threads, in the calling process; the data sets
        are float64, which equals Brian2 to round-off)."""
        if backend not in ("brian2", "torch"):
            raise ValueError(f"backend must be 'brian2' or 'torch'; got {backend!r}")
        if backend == "torch":
            return TorchSimulator(model=self.model(), stages=self.stages,
                                  dend_sites=self.sites(), batch_size=batch_size,
                                  threads=threads, dtype=dtype)
        return BrianSimulator(model=self.model(), stages=self.stages, dend_sites=self.sites())

    def key(self, spec: GenerationSpec) -> str:
        """The data set's key for ``spec``."""
        return dataset_key(model_fingerprint=model_fingerprint(self.model(), self.stages),
                           stats=self.stats, channels=self.channels(), spec=spec,
                           code_version=DATA_CODE_VERSION)


@functools.cache
def _l5(nmda_weight_nS: float) -> NeuronModel:
    return l5_pyramidal(nmda_weight_nS=nmda_weight_nS)


_TUNED = "rate scale tuned here for a 1-5 Hz output (module docstring)"
CONDITIONS = {
    "nmda": NeuronIOCondition(name="nmda", label="AMPA + NMDA", nmda_weight_nS=0.4,
                              stats=InputStatistics(rate_scale_exc=0.8),
                              source="Beniaguev et al. (2021) NMDA data set; " + _TUNED),
    "ampa": NeuronIOCondition(name="ampa", label="AMPA only", nmda_weight_nS=0.0,
                              stats=InputStatistics(rate_scale_exc=2.5),
                              source="Beniaguev et al. (2021) AMPA-only data set; " + _TUNED),
}

#: Excitatory density ranges of the dense-basal drive per subtree, Hz/µm before the rate
#: scale: four times Beniaguev's basal range (0-1.6 Hz/µm) and under half his apical one
#: (0-1.1 Hz/µm; docs/references.md#anchors-surrogates-engines-a-1).
DENSE_BASAL_EXC_HZ_PER_UM = {"basal": (0.0, 6.4), "apical": (0.0, 0.5)}
_DENSE = ("dense-basal drive (modelling choice, DRIVES): Beniaguev's basal density gives this "
          "cell almost no basal plateaus (benchmarks/results/neuronio_drive_probe.json); ")
#: The same two conditions under a drive that puts the basal tree in its NMDA regime: only
#: the excitatory density per subtree and the rate scale differ from :data:`CONDITIONS`.
DENSE_BASAL_CONDITIONS = {
    name: replace(CONDITIONS[name], source=_DENSE + _TUNED, stats=replace(
        CONDITIONS[name].stats, rate_scale_exc=scale,
        subtree_exc_hz_per_um=DENSE_BASAL_EXC_HZ_PER_UM))
    for name, scale in {"nmda": 0.75, "ampa": 2.45}.items()
}

#: Named input drives, each the two conditions of one NeuronIO-mini pair. ``beniaguev`` is
#: Beniaguev et al.'s protocol (the default of every analysis and data set); ``dense-basal``
#: raises the basal excitatory density until thin basal branches make NMDA plateaus (in
#: this cell they need tens of synchronous 0.4 nS synapses: the ``l5-cell`` analysis)
#: and lowers the apical one so that the output stays in the 1-5 Hz band.
DRIVES = {"beniaguev": CONDITIONS, "dense-basal": DENSE_BASAL_CONDITIONS}
#: The drive of every analysis and data set unless one is named.
DEFAULT_DRIVE = "beniaguev"


def drive_conditions(drive: str) -> dict[str, NeuronIOCondition]:
    """The conditions of the named drive (:data:`DRIVES`)."""
    if drive not in DRIVES:
        raise ValueError(f"drive must be one of {', '.join(map(repr, DRIVES))}; got {drive!r}")
    return DRIVES[drive]


def neuronio_dataset(condition: NeuronIOCondition, spec: GenerationSpec, *, root: str | Path,
                     shipped: str | Path | None = None, n_workers: int = 2,
                     progress: bool = True, backend: str = "brian2",
                     batch_size: int = 16) -> NeuronIODataset:
    """Generate (or resume) and load a condition's data set under ``root``.

    ``backend`` simulates the missing sequences with Brian2 (``n_workers`` Dask workers) or
    with the PyTorch engine (``"torch"``, ``batch_size`` per pass, in this process); both
    write the same files under the same key (the engine equals Brian2 to round-off in
    float64), and each sequence file names the function that computed it (``__task__``).

    Sequence files of the same key found under ``shipped`` (a read-only copy, e.g. shipped
    with the repository) are copied in first; the sweep reuses every file that reads back
    intact with the right key, and simulates the rest.
    """
    key = condition.key(spec)
    target = Path(root) / key
    if shipped is not None and (Path(shipped) / key).is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for f in (Path(shipped) / key).glob("*.npz"):
            if not (target / f.name).exists():
                shutil.copyfile(f, target / f.name)
    directory = generate_dataset(
        root, simulate=condition.simulator(backend, batch_size=batch_size),
        model_fingerprint=model_fingerprint(condition.model(), condition.stages),
        stats=condition.stats, channels=condition.channels(), spec=spec,
        code_version=DATA_CODE_VERSION, n_workers=n_workers, progress=progress)
    return load_dataset(directory, expected_key=key)
