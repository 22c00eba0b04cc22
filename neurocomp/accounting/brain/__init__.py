"""The published brain estimates as pure formulas, with their parameter classes.

Dettmers (2015) (``dettmers``); Kurzweil, Carlsmith (2020), AI Impacts (TEPS) and Sandberg &
Bostrom (2008) (``synaptic``); Moravec (1998) (``moravec``); a per-neuron cost scaled by
cited neuron counts (``per_neuron``). The cited parameter sets are in ``neurocomp_models``.
"""

from neurocomp.accounting.brain.dettmers import (
    DettmersParameters,
    dettmers_2015_flop_per_s,
    dettmers_decomposition,
    time_steps_from_latency,
)
from neurocomp.accounting.brain.moravec import MoravecParameters
from neurocomp.accounting.brain.per_neuron import BottomUpParameters, NeuronPopulation, bottom_up
from neurocomp.accounting.brain.synaptic import (
    AIImpactsTepsParameters,
    CarlsmithMechanisticParameters,
    KurzweilParameters,
    KurzweilRegionalParameters,
    SandbergBostromParameters,
)

__all__ = [
    "AIImpactsTepsParameters",
    "BottomUpParameters",
    "CarlsmithMechanisticParameters",
    "DettmersParameters",
    "KurzweilParameters",
    "KurzweilRegionalParameters",
    "MoravecParameters",
    "NeuronPopulation",
    "SandbergBostromParameters",
    "bottom_up",
    "dettmers_2015_flop_per_s",
    "dettmers_decomposition",
    "time_steps_from_latency",
]
