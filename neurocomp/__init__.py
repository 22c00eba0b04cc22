"""neurocomp: a biophysical neuron and a convolutional net side by side.

What each computes, how one maps onto the other, and what each costs in FLOPs on one GPU, on
many, and at the scale of a brain. Subpackages:

``neurocomp.mapping``
    Convolution theory; dendrites as convolutions.
``neurocomp.results``, ``neurocomp.plotting``
    The :class:`Result` every analysis returns, and the one paper style.
``neurocomp.analysis``
    The registry through which the ``neurocomp`` command finds analyses.

FLOP convention everywhere: one multiply-add counts as 2 FLOPs.
"""

from importlib.metadata import PackageNotFoundError, version

from neurocomp.analysis import Analysis
from neurocomp.provenance import FLOP_CONVENTION
from neurocomp.results import Result

try:
    __version__ = version("neurocomp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["FLOP_CONVENTION", "Analysis", "Result", "__version__"]
