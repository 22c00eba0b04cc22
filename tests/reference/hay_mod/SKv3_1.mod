: Kv3.1 K+ current SKv3_1 (m) of Hay et al. (2011) PLoS Comput Biol 7:e1002107,
: ModelDB 139653 mod/SKv3_1.mod. Written for neurocomp's NEURON cross-check from the
: published formulas; no temperature factor.

NEURON {
    SUFFIX SKv3_1
    USEION k READ ek WRITE ik
    RANGE gSKv3_1bar, gSKv3_1
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gSKv3_1bar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gSKv3_1 (S/cm2)
    mInf
    mTau (ms)
}

STATE { m }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gSKv3_1 = gSKv3_1bar*m
    ik = gSKv3_1*(v - ek)
}

DERIVATIVE states {
    rates()
    m' = (mInf - m)/mTau
}

INITIAL {
    rates()
    m = mInf
}

PROCEDURE rates() {
    mInf = 1/(1 + exp((v - 18.7)/(-9.7)))
    mTau = 0.2*20/(1 + exp((v + 46.56)/(-44.14)))
}
