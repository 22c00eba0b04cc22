"""The biophysical neuron (Brian2 pipeline) and the cable theory it is validated against."""

from neurocomp.biophysics.cable import CableParameters

__all__ = ["CableParameters"]
