: Hyperpolarisation-activated cation current Ih (m) of Hay et al. (2011) PLoS Comput Biol
: 7:e1002107, ModelDB 139653 mod/Ih.mod (ehcn -45 mV). Written for neurocomp's NEURON
: cross-check from the published formulas; no temperature factor.

NEURON {
    SUFFIX Ih
    NONSPECIFIC_CURRENT ihcn
    RANGE gIhbar, gIh, ehcn
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gIhbar = 0.00001 (S/cm2)
    ehcn = -45.0 (mV)
}

ASSIGNED {
    v (mV)
    ihcn (mA/cm2)
    gIh (S/cm2)
    mInf
    mTau (ms)
}

STATE { m }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gIh = gIhbar*m
    ihcn = gIh*(v - ehcn)
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
    LOCAL mAlpha, mBeta
    : alpha = 6.43e-3 (v+154.9)/(exp((v+154.9)/11.9) - 1); beta = 0.193 exp(v/33.1)
    mAlpha = 6.43e-3*vtrap(v + 154.9, 11.9)
    mBeta = 0.193*exp(v/33.1)
    mInf = mAlpha/(mAlpha + mBeta)
    mTau = 1/(mAlpha + mBeta)
}

FUNCTION vtrap(x, k) {
    if (fabs(x/k) < 1e-6) {
        vtrap = k*(1 - x/(2*k))
    } else {
        vtrap = x/(exp(x/k) - 1)
    }
}
