: Transient Na+ current NaTa_t (m3h) of Hay et al. (2011) PLoS Comput Biol 7:e1002107,
: ModelDB 139653 mod/NaTa_t.mod. Written for neurocomp's NEURON cross-check from the
: published rate formulas (V in mV, rates in 1/ms); qt = 2.3^((34-21)/10) as in the original.
: The removable singularities x/(1 - exp(-x/k)) use vtrap (finite at x = 0).

NEURON {
    SUFFIX NaTa_t
    USEION na READ ena WRITE ina
    RANGE gNaTa_tbar, gNaTa_t
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNaTa_tbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    gNaTa_t (S/cm2)
    mInf
    mTau (ms)
    hInf
    hTau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gNaTa_t = gNaTa_tbar*m*m*m*h
    ina = gNaTa_t*(v - ena)
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
    LOCAL qt, mAlpha, mBeta, hAlpha, hBeta
    qt = 2.3^((34 - 21)/10)
    : alpha_m = 0.182 (v+38)/(1 - exp(-(v+38)/6)); beta_m = 0.124 (-v-38)/(1 - exp((v+38)/6))
    mAlpha = 0.182*vtrap(-(v + 38), 6)
    mBeta = 0.124*vtrap(v + 38, 6)
    mInf = mAlpha/(mAlpha + mBeta)
    mTau = (1/(mAlpha + mBeta))/qt
    : alpha_h = -0.015 (v+66)/(1 - exp((v+66)/6)); beta_h = -0.015 (-v-66)/(1 - exp(-(v+66)/6))
    hAlpha = 0.015*vtrap(v + 66, 6)
    hBeta = 0.015*vtrap(-(v + 66), 6)
    hInf = hAlpha/(hAlpha + hBeta)
    hTau = (1/(hAlpha + hBeta))/qt
}

FUNCTION vtrap(x, k) {
    : x/(exp(x/k) - 1), with its limit k(1 - x/(2k)) near x = 0
    if (fabs(x/k) < 1e-6) {
        vtrap = k*(1 - x/(2*k))
    } else {
        vtrap = x/(exp(x/k) - 1)
    }
}
