"""The biophysical neuron: a Brian2 pipeline of its stages, and the cable theory it is
validated against.

Modules: ``morphology`` (trees, SWC), ``channels`` (HH), ``receptors``, ``release``
(Tsodyks–Markram), ``inputs`` (spike trains), ``model`` (NeuronModel, Stages), ``pipeline``
(NeuronPipeline), ``recording`` (Recording), ``backend`` (numpy / cython / cpp_standalone),
``cable`` (analytic cable theory).
"""

from neurocomp.biophysics.cable import CableParameters
from neurocomp.biophysics.channels import ChannelDensities
from neurocomp.biophysics.inputs import SpikeTrains
from neurocomp.biophysics.model import NeuronModel, Stages, SynapseGroup
from neurocomp.biophysics.morphology import Morphology, MorphologyError, Section
from neurocomp.biophysics.pipeline import NeuronPipeline, RecordSite
from neurocomp.biophysics.receptors import ReceptorKinetics
from neurocomp.biophysics.recording import Recording
from neurocomp.biophysics.release import ReleaseParameters

__all__ = [
    "CableParameters",
    "ChannelDensities",
    "Morphology",
    "MorphologyError",
    "NeuronModel",
    "NeuronPipeline",
    "ReceptorKinetics",
    "RecordSite",
    "Recording",
    "ReleaseParameters",
    "Section",
    "SpikeTrains",
    "Stages",
    "SynapseGroup",
]

