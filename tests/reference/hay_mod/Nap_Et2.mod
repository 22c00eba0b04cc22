: Persistent Na+ current Nap_Et2 (m3h) of Hay et al. (2011) PLoS Comput Biol 7:e1002107,
: ModelDB 139653 mod/Nap_Et2.mod. Written for neurocomp's NEURON cross-check from the
: published formulas; qt = 2.3^((34-21)/10). tau_m uses NaTa_t's alpha_m and beta_m.

NEURON {
    SUFFIX Nap_Et2
    USEION na READ ena WRITE ina
    RANGE gNap_Et2bar, gNap_Et2
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gNap_Et2bar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    gNap_Et2 (S/cm2)
    mInf
    mTau (ms)
    hInf
    hTau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gNap_Et2 = gNap_Et2bar*m*m*m*h
    ina = gNap_Et2*(v - ena)
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
    mInf = 1/(1 + exp(-(v + 52.6)/4.6))
    mAlpha = 0.182*vtrap(-(v + 38), 6)
    mBeta = 0.124*vtrap(v + 38, 6)
    mTau = 6*(1/(mAlpha + mBeta))/qt
    hInf = 1/(1 + exp((v + 48.8)/10))
    : alpha_h = -2.88e-6 (v+17)/(1 - exp((v+17)/4.63));
    : beta_h = 6.94e-6 (v+64.4)/(1 - exp(-(v+64.4)/2.63))
    hAlpha = 2.88e-6*vtrap(v + 17, 4.63)
    hBeta = 6.94e-6*vtrap(-(v + 64.4), 2.63)
    hTau = (1/(hAlpha + hBeta))/qt
}

FUNCTION vtrap(x, k) {
    if (fabs(x/k) < 1e-6) {
        vtrap = k*(1 - x/(2*k))
    } else {
        vtrap = x/(exp(x/k) - 1)
    }
}
