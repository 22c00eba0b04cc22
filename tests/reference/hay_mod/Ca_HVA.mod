: High-voltage-activated Ca2+ current Ca_HVA (m2h) of Hay et al. (2011) PLoS Comput Biol
: 7:e1002107, ModelDB 139653 mod/Ca_HVA.mod. Written for neurocomp's NEURON cross-check from
: the published formulas; no temperature factor. eca is read from the ca ion (the
: cross-check fixes it, see benchmarks/neuron_crosscheck_hay.py).

NEURON {
    SUFFIX Ca_HVA
    USEION ca READ eca WRITE ica
    RANGE gCa_HVAbar, gCa_HVA
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gCa_HVAbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
    gCa_HVA (S/cm2)
    mInf
    mTau (ms)
    hInf
    hTau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gCa_HVA = gCa_HVAbar*m*m*h
    ica = gCa_HVA*(v - eca)
}

DERIVATIVE states {
    rates()
    m' = (mInf - m)/mTau
    h' = (hInf - h)/hTau
}

INITIAL {
    rates()
    m = mInf
    h = hInf
}

PROCEDURE rates() {
    LOCAL mAlpha, mBeta, hAlpha, hBeta
    : alpha_m = 0.055 (-27-v)/(exp((-27-v)/3.8) - 1); beta_m = 0.94 exp((-75-v)/17)
    mAlpha = 0.055*vtrap(-27 - v, 3.8)
    mBeta = 0.94*exp((-75 - v)/17)
    mInf = mAlpha/(mAlpha + mBeta)
    mTau = 1/(mAlpha + mBeta)
    hAlpha = 0.000457*exp((-13 - v)/50)
    hBeta = 0.0065/(exp((-v - 15)/28) + 1)
    hInf = hAlpha/(hAlpha + hBeta)
    hTau = 1/(hAlpha + hBeta)
}

FUNCTION vtrap(x, k) {
    if (fabs(x/k) < 1e-6) {
        vtrap = k*(1 - x/(2*k))
    } else {
        vtrap = x/(exp(x/k) - 1)
    }
}
