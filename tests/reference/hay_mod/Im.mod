: Muscarinic K+ current Im (m) of Hay et al. (2011) PLoS Comput Biol 7:e1002107,
: ModelDB 139653 mod/Im.mod. Written for neurocomp's NEURON cross-check from the published
: formulas; qt = 2.3^((34-21)/10).

NEURON {
    SUFFIX Im
    USEION k READ ek WRITE ik
    RANGE gImbar, gIm
}

UNITS {
    (S) = (siemens)
    (mV) = (millivolt)
    (mA) = (milliamp)
}

PARAMETER {
    gImbar = 0.00001 (S/cm2)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    gIm (S/cm2)
    mInf
    mTau (ms)
}

STATE { m }

BREAKPOINT {
    SOLVE states METHOD cnexp
    gIm = gImbar*m
    ik = gIm*(v - ek)
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
    LOCAL qt, mAlpha, mBeta
    qt = 2.3^((34 - 21)/10)
    mAlpha = 3.3e-3*exp(2.5*0.04*(v + 35))
    mBeta = 3.3e-3*exp(-2.5*0.04*(v + 35))
    mInf = mAlpha/(mAlpha + mBeta)
    mTau = (1/(mAlpha + mBeta))/qt
}
