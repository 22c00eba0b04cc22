: Submembrane Ca2+ shell CaDynamics_E2 of Hay et al. (2011) PLoS Comput Biol 7:e1002107,
: ModelDB 139653 mod/CaDynamics_E2.mod. Written for neurocomp's NEURON cross-check from the
: published formula: dcai/dt = -1e4 ica gamma/(2 F depth) - (cai - minCai)/decay
: (ica in mA/cm2, depth in um, cai in mM).

NEURON {
    SUFFIX CaDynamics_E2
    USEION ca READ ica WRITE cai
    RANGE decay, gamma, minCai, depth
}

UNITS {
    (mV) = (millivolt)
    (mA) = (milliamp)
    FARADAY = (faraday) (coulombs)
    (molar) = (1/liter)
    (mM) = (millimolar)
    (um) = (micron)
}

PARAMETER {
    gamma = 0.05
    decay = 80 (ms)
    depth = 0.1 (um)
    minCai = 1e-4 (mM)
}

ASSIGNED {
    ica (mA/cm2)
}

STATE {
    cai (mM)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
}

DERIVATIVE states {
    cai' = -(10000)*(ica*gamma/(2*FARADAY*depth)) - (cai - minCai)/decay
}
