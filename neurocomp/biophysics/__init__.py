"""The biophysical neuron: a Brian2 pipeline of its stages, and the cable theory it is
validated against.

Modules: ``morphology`` (trees, SWC), ``mechanisms`` (channels, calcium pools and
membranes as small named units, rendered for Brian2), ``channels`` (HH squid units),
``clamp`` (current clamps), ``plateaus`` (dendritic plateau detection), ``receptors``,
``release``
(Tsodyks–Markram), ``inputs`` (spike trains), ``model`` (NeuronModel, Stages), ``pipeline``
(NeuronPipeline), ``recording`` (Recording), ``backend`` (numpy / cython / cpp_standalone),
``cable`` (analytic cable theory).
"""

from neurocomp.biophysics.cable import CableParameters
from neurocomp.biophysics.channels import ChannelDensities
from neurocomp.biophysics.clamp import CurrentClamp
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.mechanisms import (
    CalciumPool,
    Channel,
    ChannelDensity,
    ExponentialProfile,
    Gate,
    Membrane,
    WindowProfile,
)
from neurocomp.biophysics.model import NeuronModel, Stages, SynapseGroup
from neurocomp.biophysics.morphology import Morphology, MorphologyError, Section
from neurocomp.biophysics.pipeline import NeuronPipeline, RecordSite
from neurocomp.biophysics.plateaus import PlateauEvents, detect_plateaus, plateau_rate_hz
from neurocomp.biophysics.receptors import RECEPTORS, ReceptorKinetics
from neurocomp.biophysics.recording import Recording
from neurocomp.biophysics.release import ReleaseParameters

__all__ = [
    "RECEPTORS",
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
    "WindowProfile",
    "detect_plateaus",
    "plateau_rate_hz",
]

