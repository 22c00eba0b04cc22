"""Named neuron models, each with cited parameters (see each module's docstring).

Each function returns a :class:`neurocomp.biophysics.NeuronModel`.
"""

from neurocomp_models.neurons.ball_and_stick import ball_and_stick_model
from neurocomp_models.neurons.granule import granule_cell
from neurocomp_models.neurons.l5_pyramidal import l5_pyramidal
from neurocomp_models.neurons.l5_pyramidal_squid import l5_pyramidal_squid
from neurocomp_models.neurons.purkinje import purkinje_cell

__all__ = ["ball_and_stick_model", "granule_cell", "l5_pyramidal", "l5_pyramidal_squid",
           "purkinje_cell"]
