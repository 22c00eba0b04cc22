"""Channel densities and release parameters shared by the named neuron models.

All models use Hodgkin–Huxley squid kinetics at 6.3 °C (the kinetics validated against
Huxley's conduction velocity in ``cable-validation``), with region-specific densities. This is
a modelling simplification: mammalian neurons have other Na⁺/K⁺ kinetics and spikes about
twice as fast. Values marked [R] are from memory of the literature and not re-checked here.
"""

from neurocomp.biophysics import ChannelDensities, ReleaseParameters

#: Soma and unmyelinated axon: squid densities (Hodgkin & Huxley 1952, J Physiol 117:500).
SOMA = ChannelDensities(gNa_mS_cm2=120.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3)
#: Axon initial segment: 5× the somatic Na⁺ density, so spikes start here (Kole et al. 2008,
#: Nat Neurosci 11:178 infer ~50× Nav density in the AIS of L5 cells [R]; 5× suffices with
#: squid kinetics and keeps the AIS spike from being artificially sharp — a modelling choice).
AIS = ChannelDensities(gNa_mS_cm2=600.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3)
#: Node of Ranvier. Real nodes cluster Na⁺ channels (~1000–2000/µm² vs ~25/µm² internodally
#: [R]) but also carry channels with other kinetics; with uniform squid kinetics and a
#: low-leak myelin the axon is nearly isopotential with the soma yet free of its current
#: sink, so dense nodes (3× or 10× somatic, tried) fire before the AIS. The somatic density
#: conducts reliably and keeps the AIS first (AIS → soma → terminal, checked in the tests;
#: a modelling choice).
NODE = ChannelDensities(gNa_mS_cm2=120.0, gK_mS_cm2=36.0, gL_mS_cm2=0.3)
#: Myelinated internode: ~10 wraps lower C_m and g_L ~10–100× (Brill et al. 1977 [R]).
INTERNODE = ChannelDensities(gL_mS_cm2=0.003, Cm_uF_cm2=0.05)


def passive(Rm_ohm_cm2: float, Cm_uF_cm2: float = 1.0) -> ChannelDensities:
    """A passive region of specific membrane resistance ``Rm_ohm_cm2``."""
    return ChannelDensities(gL_mS_cm2=1e3 / Rm_ohm_cm2, Cm_uF_cm2=Cm_uF_cm2)


def active_dendrite(Rm_ohm_cm2: float, fraction: float) -> ChannelDensities:
    """Dendrite with ``fraction`` of the somatic Na⁺/K⁺ densities (dendritic spikes)."""
    return ChannelDensities(gNa_mS_cm2=120.0 * fraction, gK_mS_cm2=36.0 * fraction,
                            gL_mS_cm2=1e3 / Rm_ohm_cm2)


#: Depressing cortical excitatory synapse (Tsodyks & Markram 1997, PNAS 94:719: U ≈ 0.5,
#: τ_rec ≈ 800 ms [R]).
DEPRESSING = ReleaseParameters(U=0.5, tau_rec_ms=800.0, tau_facil_ms=0.0, n_sites=1,
                               source="Tsodyks & Markram (1997) PNAS 94:719 [R]")
#: Facilitating synapse, e.g. cerebellar parallel fibre → Purkinje (low U, facilitation over
#: ~50–100 ms; Dittman, Kreitzer & Regehr 2000, J Neurosci 20:1374 [R]).
FACILITATING = ReleaseParameters(U=0.15, tau_rec_ms=100.0, tau_facil_ms=60.0, n_sites=1,
                                 source="Dittman, Kreitzer & Regehr (2000) J Neurosci "
                                        "20:1374 [R]")
#: Mossy fibre → granule cell: several release sites, high release probability, depressing
#: (Saviane & Silver 2006, Nature 439:983 [R]: ~5 sites, P ≈ 0.5).
MOSSY = ReleaseParameters(U=0.5, tau_rec_ms=20.0, tau_facil_ms=0.0, n_sites=5,
                          source="Saviane & Silver (2006) Nature 439:983 [R]")
#: Inhibitory GABA_A synapse, moderately depressing (modelling choice).
INHIBITORY = ReleaseParameters(U=0.25, tau_rec_ms=500.0, n_sites=1,
                               source="modelling choice")
