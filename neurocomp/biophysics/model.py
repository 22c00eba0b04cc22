"""A neuron model: morphology, channel densities by region, synapse groups — and stage switches.

A :class:`NeuronModel` is pure data (frozen dataclasses with validated fields); named,
cited instances live in ``models/neurons/``. :class:`Stages` says which stages of the
pipeline are on, so an analysis can ablate one (passive dendrites, NMDA off, deterministic
release, current-based synapses, no spike initiation in the axon initial segment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from neurocomp.biophysics.channels import ChannelDensities
from neurocomp.biophysics.mechanisms import Channel, Membrane
from neurocomp.biophysics.morphology_tree import Morphology
from neurocomp.biophysics.receptors import RECEPTORS, ReceptorKinetics
from neurocomp.biophysics.release import ReleaseParameters
from neurocomp.biophysics.units import convert_quantity_fields
from neurocomp.checks import (
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_real,
)

__all__ = ["AXONAL_REGIONS", "NeuronModel", "Stages", "SynapseGroup"]

#: Regions that belong to the output side (everything else is dendrite or soma).
AXONAL_REGIONS = ("ais", "axon", "node", "internode")


@dataclass(frozen=True, kw_only=True)
class SynapseGroup:
    """Synapses of one type placed on one or more regions.

    Parameters
    ----------
    name : str
        Identifier (lower case).
    regions : tuple of str
        Regions the synapses are placed on (with probability proportional to membrane area).
    n_synapses : int
        Number of synapses (≥ 1).
    n_sources : int
        Presynaptic axons driving them; synapse k belongs to axon ``k % n_sources``.
    receptors : mapping of str to float
        Receptor name → weight per released vesicle: peak conductance in nS, or peak current
        in pA when the pipeline runs current-based synapses.
    release : ReleaseParameters
        Short-term plasticity and quantal parameters.
    distance_um : tuple of float
        Only compartments whose path distance from the soma lies in [min, max] µm.
    compartments : tuple of int, optional
        Explicit compartment indices (override ``regions``/``distance_um``), one per synapse.
    source : str
        Where the numbers come from.
    """

    name: str
    regions: tuple[str, ...] = ("dendrite",)
    n_synapses: int = 1
    n_sources: int = 1
    receptors: Mapping[str, float] = field(default_factory=lambda: {"ampa": 0.5})
    release: ReleaseParameters = field(default_factory=ReleaseParameters)
    distance_um: tuple[float, float] = (0.0, float("inf"))
    compartments: tuple[int, ...] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"synapse group name must be a lower-case identifier; "
                             f"got {self.name!r}")
        check_int("n_synapses", self.n_synapses, low=1)
        check_int("n_sources", self.n_sources, low=1, high=self.n_synapses)
        if not self.receptors:
            raise ValueError(f"synapse group {self.name!r}: receptors must name at least one "
                             f"receptor with its weight")
        for rec, w in self.receptors.items():
            check_real(f"receptors[{rec!r}]", w, low=0.0)
        lo, hi = self.distance_um
        check_real("distance_um[0]", lo, low=0.0, unit="µm")
        if not hi > lo:
            raise ValueError(f"distance_um must be (min, max) with max > min; "
                             f"got {self.distance_um}")
        if self.compartments is not None and len(self.compartments) != self.n_synapses:
            raise ValueError(f"synapse group {self.name!r}: compartments must list one index "
                             f"per synapse ({self.n_synapses}); got {len(self.compartments)}")


@dataclass(frozen=True, kw_only=True)
class Stages:
    """Which stages of the pipeline are on.

    Parameters
    ----------
    release : {"stochastic", "deterministic"}
        Binomial vesicle release, or its expectation.
    dendrites : {"active", "passive"}
        Keep or remove voltage-gated channels in dendritic regions.
    nmda : bool
        Include NMDA receptors (False drops them from every synapse group).
    synapses : {"conductance", "current"}
        Conductance-based receptors, or current-based ones (linear; weights read as pA).
    spike_initiation : bool
        Keep the axon initial segment's Na⁺ channels.
    """

    release: Literal["stochastic", "deterministic"] = "stochastic"
    dendrites: Literal["active", "passive"] = "active"
    nmda: bool = True
    synapses: Literal["conductance", "current"] = "conductance"
    spike_initiation: bool = True

    def __post_init__(self) -> None:
        check_choice("release", self.release, ("stochastic", "deterministic"))
        check_choice("dendrites", self.dendrites, ("active", "passive"))
        check_choice("synapses", self.synapses, ("conductance", "current"))
        check_bool("nmda", self.nmda)
        check_bool("spike_initiation", self.spike_initiation)


@dataclass(frozen=True, kw_only=True)
class NeuronModel:
    """A complete neuron description.

    Parameters
    ----------
    name : str
        Model name (``l5_pyramidal`` …).
    morphology : Morphology
        The tree; its root must be a soma for the pipeline.
    densities : mapping of str to ChannelDensities or Membrane
        The membrane of every region of the morphology: HH densities
        (:class:`ChannelDensities`, squid kinetics relative to ``E_rest_mV``) or a
        :class:`~neurocomp.biophysics.mechanisms.Membrane` of channel units.
    Ri_ohm_cm : float
        Axial resistivity, Ω·cm (set explicitly: Brian2's default differs from NEURON's).
    E_rest_mV : float
        Resting potential (HH kinetics are written relative to it), mV.
    temperature_C : float
        Temperature of the channel kinetics (each channel's Q10 applies), °C.
    synapse_groups : tuple of SynapseGroup
        The synapses.
    receptors : mapping of str to ReceptorKinetics
        Receptor kinetics by name (defaults: AMPA, NMDA, GABA_A).
    spike_threshold_mV : float
        Voltage whose upward crossing counts as a spike at a detection site, mV.
    placement_seed : int
        Seed of synapse placement (part of the model, so every run sees the same neuron).
    calcium_reversal_mV : float
        Fixed Ca²⁺ reversal potential of calcium channels, mV (Nernst at the resting
        concentrations; see the model's source); used when ``calcium_outside_mM`` is None.
    calcium_outside_mM : float or None
        If set, E_Ca follows each compartment's ``cai``: the Nernst potential
        (RT/2F)·ln(cao/cai) at ``temperature_C`` with this outside concentration, mM,
        recomputed at the start of every step from the step's starting ``cai`` (as NEURON
        does for an ion whose concentration a mechanism writes). None: the fixed
        ``calcium_reversal_mV``.
    v_init_mV : float or None
        Initial membrane potential (default ``E_rest_mV``); gates start at steady state.
    sources : tuple of str
        Citations of the model's numbers.
    """

    name: str
    morphology: Morphology
    densities: Mapping[str, ChannelDensities | Membrane]
    Ri_ohm_cm: float
    E_rest_mV: float = -65.0
    temperature_C: float = 6.3
    synapse_groups: tuple[SynapseGroup, ...] = ()
    receptors: Mapping[str, ReceptorKinetics] = field(default_factory=lambda: dict(RECEPTORS))
    spike_threshold_mV: float = -20.0
    placement_seed: int = 0
    calcium_reversal_mV: float = 132.0
    v_init_mV: float | None = None
    sources: tuple[str, ...] = ()
    # repr=False: a field added after data sets were keyed by the repr; model_fingerprint
    # adds such fields when they differ from their default, so old keys still match
    calcium_outside_mM: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_instance("morphology", self.morphology, Morphology)
        if not isinstance(self.densities, Mapping):
            raise TypeError(f"densities must be a mapping from region name to "
                            f"ChannelDensities or Membrane; got {type(self.densities).__name__}")
        check_real("Ri_ohm_cm", self.Ri_ohm_cm, low=0, high=1e5, low_inclusive=False,
                   unit="Ω·cm")
        check_real("E_rest_mV", self.E_rest_mV, low=-120, high=0, unit="mV")
        check_real("temperature_C", self.temperature_C, low=-10, high=50, unit="°C")
        for region, d in self.densities.items():
            if not isinstance(d, ChannelDensities | Membrane):
                raise TypeError(f"densities[{region!r}] must be a ChannelDensities or a "
                                f"Membrane; got {type(d).__name__}")
        check_real("calcium_reversal_mV", self.calcium_reversal_mV, low=0, high=300,
                   unit="mV")
        if self.calcium_outside_mM is not None:
            check_real("calcium_outside_mM", self.calcium_outside_mM, low=0, high=1000,
                       low_inclusive=False, unit="mM")
        if self.v_init_mV is not None:
            check_real("v_init_mV", self.v_init_mV, low=-150, high=50, unit="mV")
        missing = [r for r in self.morphology.regions if r not in self.densities]
        if missing:
            raise ValueError(f"model {self.name!r}: densities are missing for regions "
                             f"{missing}; regions of the morphology: "
                             f"{list(self.morphology.regions)}")
        names = [g.name for g in self.synapse_groups]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.name!r}: synapse group names must be unique; "
                             f"got {names}")
        n_comp = self.morphology.n_compartments
        for g in self.synapse_groups:
            unknown = [r for r in g.receptors if r not in self.receptors]
            if unknown:
                raise ValueError(f"synapse group {g.name!r}: unknown receptors {unknown}; "
                                 f"known: {sorted(self.receptors)}")
            if g.compartments is not None:
                bad = [c for c in g.compartments if not 0 <= c < n_comp]
                if bad:
                    raise ValueError(f"synapse group {g.name!r}: compartment {bad[0]} does "
                                     f"not exist (the morphology has compartments 0 to "
                                     f"{n_comp - 1})")
            else:
                missing = [r for r in g.regions if r not in self.morphology.regions]
                if missing:
                    raise ValueError(f"synapse group {g.name!r}: region(s) {missing} are not "
                                     f"in the morphology (regions: "
                                     f"{list(self.morphology.regions)})")

    # -- derived structure -------------------------------------------------------------
    @property
    def dendritic_regions(self) -> tuple[str, ...]:
        """Regions that are neither soma nor axonal."""
        return tuple(r for r in self.morphology.regions
                     if r != "soma" and r not in AXONAL_REGIONS)

    @property
    def terminal_index(self) -> int:
        """Compartment of the axon terminal: the last compartment of the last axonal section."""
        axonal = [s for s in self.morphology.sections if s.region in AXONAL_REGIONS]
        if not axonal:
            raise ValueError(f"model {self.name!r} has no axon (regions "
                             f"{list(self.morphology.regions)})")
        return int(self.morphology.indices(section=axonal[-1].name)[-1])

    def membranes(self) -> dict[str, Membrane]:
        """Every region's membrane as channel units (HH densities converted)."""
        return {r: d if isinstance(d, Membrane) else d.as_membrane(E_rest_mV=self.E_rest_mV)
                for r, d in self.densities.items()}

    def channels(self) -> dict[str, Channel]:
        """The distinct channel units of the model, by name (a name used for two different
        channels is an error)."""
        out: dict[str, Channel] = {}
        for region, mem in self.membranes().items():
            for cd in mem.channels:
                known = out.setdefault(cd.channel.name, cd.channel)
                if known != cd.channel:
                    raise ValueError(f"model {self.name!r}: two different channels are named "
                                     f"{cd.channel.name!r} (region {region!r})")
        return out

    @property
    def calcium_nernst(self) -> bool:
        """Whether E_Ca follows cai: an outside concentration is set and the model has Ca²⁺
        channels (without them there is no E_Ca to follow)."""
        return (self.calcium_outside_mM is not None
                and any(c.ion == "ca" for c in self.channels().values()))

    @property
    def has_calcium(self) -> bool:
        """Whether any region has a calcium pool or a Ca²⁺-dependent channel."""
        mems = self.membranes().values()
        return (any(m.calcium is not None for m in mems)
                or any(c.uses_calcium or c.ion == "ca" for c in self.channels().values()))

    def synapse_compartments(self) -> dict[str, np.ndarray]:
        """Compartment index of every synapse, per group (seeded by ``placement_seed``)."""
        table = self.morphology.compartment_table()
        rng = np.random.default_rng(self.placement_seed)
        out = {}
        for g in self.synapse_groups:
            if g.compartments is not None:
                out[g.name] = np.asarray(g.compartments, dtype=np.int64)
                continue
            lo, hi = g.distance_um
            mask = (np.isin(table["region"], g.regions) & (table["distance_um"] >= lo)
                    & (table["distance_um"] <= hi))
            if not mask.any():
                raise ValueError(f"synapse group {g.name!r}: no compartment of regions "
                                 f"{list(g.regions)} lies between {lo:g} and {hi:g} µm")
            area = table["area_um2"] * mask
            out[g.name] = np.sort(rng.choice(table["index"], size=g.n_synapses,
                                             p=area / area.sum()))
        return out

    def with_stages(self, stages: Stages) -> NeuronModel:
        """The model as the stages leave it (passive dendrites, no NMDA, no AIS Na⁺ …)."""
        densities = dict(self.densities)
        if stages.dendrites == "passive":
            for r in self.dendritic_regions:
                densities[r] = densities[r].passive()
        if not stages.spike_initiation and "ais" in densities:
            d = densities["ais"]
            densities["ais"] = (replace(d, gNa_mS_cm2=0.0) if isinstance(d, ChannelDensities)
                                else d.without_ion("na"))
        groups = self.synapse_groups
        if not stages.nmda:
            groups = tuple(replace(g, receptors={k: v for k, v in g.receptors.items()
                                                 if k != "nmda"})
                           for g in groups if any(k != "nmda" for k in g.receptors))
        return replace(self, densities=densities, synapse_groups=groups)
