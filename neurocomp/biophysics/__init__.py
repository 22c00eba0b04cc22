"""The biophysical neuron: a Brian2 pipeline of its stages, and the cable theory it is
validated against.

Modules: ``morphology`` (tree builders, SWC import; ``morphology_tree`` the Section and
Morphology types, ``morphology_swc`` SWC parsing and checks), ``mechanisms`` (channels,
calcium pools and membranes as small named units, rendered for Brian2;
``mechanisms_expressions`` their expression language, ``mechanisms_profiles`` densities
along the dendrite), ``channels`` (HH squid units), ``clamp`` (current clamps), ``plateaus``
(dendritic plateau detection), ``receptors``, ``release`` (Tsodyks–Markram), ``inputs``
(spike trains), ``model`` (NeuronModel, Stages), ``pipeline`` (NeuronPipeline;
``pipeline_checks``, ``pipeline_neuron``, ``pipeline_synapses`` and ``pipeline_monitors``
the checks, neuron, synapses and recording of a run; ``pipeline_build`` the BuiltPipeline a
user extends with their own Brian2 objects), ``recording`` (Recording), ``backend`` (numpy /
cython / cpp_standalone; Brian2 imported without process-wide side effects), ``engines``
(other simulators behind ``run(backend=NAME)``, found by entry point: ``"torch"`` is
:mod:`neurocomp.engine`), ``progress``
(status lines during code generation and compilation), ``units`` (a float in the unit a
parameter's name ends with, or a Brian2 quantity), ``cable`` (analytic cable theory),
``validation`` (Brian2 set-ups checked against theory).

This face is the pillar's contract: code outside ``neurocomp/biophysics/`` imports from here
only (``tests/test_architecture.py``). ``inputs`` (spike-train builders) and ``morphology``
(tree builders; its ``cable`` would shadow the ``cable`` module here) are public as modules.
"""

from neurocomp.biophysics import inputs, morphology
from neurocomp.biophysics.backend import import_brian2
from neurocomp.biophysics.cable import (
    CableParameters,
    electrotonic_distance,
    finite_cable_input_resistance_mohm,
    finite_cable_steady_state_mV,
)
from neurocomp.biophysics.channels import ChannelDensities
from neurocomp.biophysics.clamp import CurrentClamp
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.mechanisms import (
    CalciumPool,
    Channel,
    ChannelDensity,
    Gate,
    Membrane,
    brian2_equations,
    calcium_rt_2f_mV,
)
from neurocomp.biophysics.mechanisms_profiles import ExponentialProfile, WindowProfile
from neurocomp.biophysics.model import AXONAL_REGIONS, NeuronModel, Stages, SynapseGroup
from neurocomp.biophysics.morphology import (
    ball_and_stick,
    symmetric_tree,
    tapered_section,
    with_axon,
)
from neurocomp.biophysics.morphology_tree import Morphology, MorphologyError, Section
from neurocomp.biophysics.pipeline import NeuronPipeline, RecordSite
from neurocomp.biophysics.pipeline_build import BuiltPipeline
from neurocomp.biophysics.pipeline_neuron import compartment_values
from neurocomp.biophysics.plateaus import PlateauEvents, detect_plateaus, plateau_rate_hz
from neurocomp.biophysics.receptors import AMPA, RECEPTORS, ReceptorKinetics, receptor_equations
from neurocomp.biophysics.recording import Recording, adaptation_index, detect_spikes
from neurocomp.biophysics.release import ReleaseParameters, release_code
from neurocomp.biophysics.units import UnitMismatchError
from neurocomp.biophysics.validation import hh_axon_velocity, passive_steady_state

__all__ = [
    "AMPA",
    "AXONAL_REGIONS",
    "RECEPTORS",
    "BuiltPipeline",
    "CableParameters",
    "CalciumPool",
    "Channel",
    "ChannelDensities",
    "ChannelDensity",
    "CurrentClamp",
    "ExponentialProfile",
    "Gate",
    "Membrane",
    "Morphology",
    "MorphologyError",
    "NeuronModel",
    "NeuronPipeline",
    "PlateauEvents",
    "ReceptorKinetics",
    "RecordSite",
    "Recording",
    "ReleaseParameters",
    "Section",
    "SpikeTrains",
    "Stages",
    "SynapseGroup",
    "UnitMismatchError",
    "WindowProfile",
    "adaptation_index",
    "ball_and_stick",
    "brian2_equations",
    "calcium_rt_2f_mV",
    "compartment_values",
    "detect_plateaus",
    "detect_spikes",
    "electrotonic_distance",
    "finite_cable_input_resistance_mohm",
    "finite_cable_steady_state_mV",
    "hh_axon_velocity",
    "import_brian2",
    "inputs",
    "morphology",
    "passive_steady_state",
    "plateau_rate_hz",
    "receptor_equations",
    "release_code",
    "symmetric_tree",
    "tapered_section",
    "with_axon",
]
