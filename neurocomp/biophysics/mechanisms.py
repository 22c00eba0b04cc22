r"""Ion channels and calcium pools as small named units, rendered for any engine.

A channel is data: its gates, each with a steady state :math:`x_\infty(V)` and a time
constant :math:`\tau_x(V)` written as expressions in the membrane potential ``v`` (mV) and,
for calcium-activated channels, the internal calcium concentration ``cai`` (mM); a reversal
potential; and a temperature factor. Its current density (inward positive, the sign Brian2
uses for ``Im``) is

.. math::

    I = \bar g \prod_x x^{p_x}\,(E - V),\qquad
    \frac{dx}{dt} = \frac{x_\infty(V) - x}{\tau_x(V)/\phi},\qquad
    \phi = Q_{10}^{(T - T_\text{ref})/10}.

The expressions use only ``exp``, ``exprel`` (:math:`(e^x - 1)/x`, finite at 0), ``log``,
``sqrt``, ``clip``, ``int`` (of a comparison: 1 where true, for piecewise rates), arithmetic
and powers (the expression language of :mod:`neurocomp.biophysics.mechanisms_expressions`),
so one description evaluates with NumPy (:meth:`Gate.steady_state`,
:func:`~neurocomp.biophysics.mechanisms_expressions.evaluate`), becomes Brian2 equations
(:func:`brian2_equations`), and can be evaluated by any other engine that supplies those
functions. To add a channel, write a :class:`Channel` — no equation string is edited
anywhere else. Named, cited channel sets (Hodgkin–Huxley squid, Hay et al. 2011) are in
:mod:`neurocomp.biophysics.channels` and ``neurocomp_models.channels``. A :class:`ChannelDensity`
places a channel on a region's membrane with a constant density or one that varies with path
distance (:mod:`neurocomp.biophysics.mechanisms_profiles`).

A :class:`CalciumPool` integrates the current of the channels whose ion is ``"ca"`` into a
submembrane concentration (the ``CaDynamics_E2`` scheme of Hay et al. 2011):

.. math::

    \frac{d[\mathrm{Ca}]_i}{dt} = -\frac{\gamma\, i_\mathrm{Ca}}{2 F d}
        - \frac{[\mathrm{Ca}]_i - [\mathrm{Ca}]_\text{rest}}{\tau_\text{decay}},

with :math:`i_\mathrm{Ca}` the outward calcium current density, :math:`\gamma` the fraction of
free calcium and :math:`d` the depth of the shell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocomp.biophysics.mechanisms_expressions import _IDENT, _check_expression, evaluate
from neurocomp.biophysics.mechanisms_profiles import ExponentialProfile, Profile, WindowProfile
from neurocomp.biophysics.units import accepts_quantities, convert_quantity_fields
from neurocomp.checks import check_choice, check_int, check_real

__all__ = [
    "IONS",
    "CalciumPool",
    "Channel",
    "ChannelDensity",
    "Gate",
    "Membrane",
    "brian2_equations",
]

#: Ions a channel may carry; ``"ca"`` currents feed a :class:`CalciumPool`.
IONS = ("na", "k", "ca", "nonspecific")
FARADAY_C_PER_MOL = 96485.33212  # CODATA 2018 exact value
GAS_CONSTANT_J_PER_MOL_K = 8.314462618  # CODATA 2018 exact value


@dataclass(frozen=True, kw_only=True)
class Gate:
    """One gating variable: steady state and time constant as functions of V (and Ca²⁺).

    Parameters
    ----------
    name : str
        Identifier (``m``, ``h``, ``z`` …).
    power : int
        Exponent of the gate in the conductance (1–6).
    inf : str
        Steady state :math:`x_\\infty`, dimensionless, as an expression in ``v`` (mV) and
        ``cai`` (mM).
    tau_ms : str
        Time constant at the channel's reference temperature, ms (> 0 for every V).
    alpha, beta : str, optional
        Opening and closing rates (1/ms) when the gate was written that way
        (:meth:`from_rates`); engines may integrate ``α(1 − x) − βx`` directly.
    """

    name: str
    power: int
    inf: str
    tau_ms: str
    alpha: str | None = None
    beta: str | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"gate name must be an identifier; got {self.name!r}")
        check_int(f"gate {self.name!r} power", self.power, low=1, high=6)
        _check_expression(f"gate {self.name!r} inf", self.inf)
        _check_expression(f"gate {self.name!r} tau_ms", self.tau_ms)
        if (self.alpha is None) != (self.beta is None):
            raise ValueError(f"gate {self.name!r}: give both alpha and beta, or neither")
        for rate in ("alpha", "beta"):
            if getattr(self, rate) is not None:
                _check_expression(f"gate {self.name!r} {rate}", getattr(self, rate))

    @classmethod
    def from_rates(cls, *, name: str, power: int, alpha: str, beta: str,
                   tau_scale: float = 1.0) -> Gate:
        """A gate from opening and closing rates α(V), β(V) in 1/ms:
        x∞ = α/(α+β), τ = ``tau_scale``/(α+β)."""
        a, b = f"({alpha})", f"({beta})"
        scale = check_real("tau_scale", tau_scale, low=0, low_inclusive=False)
        rates = {"alpha": alpha, "beta": beta} if scale == 1.0 else {}
        return cls(name=name, power=power, inf=f"{a}/({a} + {b})",
                   tau_ms=f"{scale!r}/({a} + {b})", **rates)

    @property
    def uses_calcium(self) -> bool:
        """Whether the gate depends on ``cai``."""
        return "cai" in _IDENT.findall(self.inf + " " + self.tau_ms)

    @accepts_quantities
    def steady_state(self, v_mV: Any, cai_mM: Any = 1e-4) -> np.ndarray:
        """x∞ at ``v_mV`` (and ``cai_mM``)."""
        return np.asarray(evaluate(self.inf, v_mV=v_mV, cai_mM=cai_mM), dtype=np.float64)

    @accepts_quantities
    def time_constant_ms(self, v_mV: Any, cai_mM: Any = 1e-4, *, rate_factor: float = 1.0
                         ) -> np.ndarray:
        """τ at ``v_mV`` divided by the temperature factor, ms."""
        tau = np.asarray(evaluate(self.tau_ms, v_mV=v_mV, cai_mM=cai_mM), dtype=np.float64)
        return np.broadcast_to(tau, np.shape(v_mV)) / rate_factor


@dataclass(frozen=True, kw_only=True)
class Channel:
    """A voltage- (and possibly Ca²⁺-) gated ion channel.

    Parameters
    ----------
    name : str
        Identifier used in equations and parameter names (``NaTa_t``, ``Ih`` …).
    ion : {"na", "k", "ca", "nonspecific"}
        The ion carried (``ca`` currents load a :class:`CalciumPool`).
    reversal_mV : float
        Reversal potential, mV (a fixed value; calcium's is fixed too, see
        :class:`CalciumPool`).
    gates : tuple of Gate
        The gating variables (at least one).
    q10 : float
        Temperature coefficient of the gate rates (1 = temperature-independent).
    reference_temperature_C : float
        Temperature at which the time constants are written, °C.
    source : str
        Where the kinetics come from.

    Examples
    --------
    A user adds a channel by writing one: here Hay et al. (2011)'s M-current (``Im.mod``),
    one gate from its rates, Q10 2.3 from 21 °C. Placed on a membrane with
    :class:`ChannelDensity`, the Brian2 equations (:func:`brian2_equations`), the simulation
    cost and the steady states all follow from this definition.

    >>> im = Channel(name="Im_example", ion="k", reversal_mV=-85.0, q10=2.3,
    ...              reference_temperature_C=21.0, source="Hay et al. (2011) Im.mod",
    ...              gates=(Gate.from_rates(name="m", power=1,
    ...                                     alpha="3.3e-3*exp(0.1*(v + 35))",
    ...                                     beta="3.3e-3*exp(-0.1*(v + 35))"),))
    >>> round(float(im.gates[0].steady_state(-35.0)), 3)  # α = β at −35 mV
    0.5
    >>> round(im.rate_factor(34.0), 3)  # Hay's qt = 2.3^((34 − 21)/10)
    2.953
    """

    name: str
    ion: str
    reversal_mV: float
    gates: tuple[Gate, ...]
    q10: float = 1.0
    reference_temperature_C: float = 20.0
    source: str = ""

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        if not self.name.isidentifier():
            raise ValueError(f"channel name must be an identifier; got {self.name!r}")
        check_choice(f"channel {self.name!r} ion", self.ion, IONS)
        check_real(f"channel {self.name!r} reversal_mV", self.reversal_mV, low=-200,
                   high=200, unit="mV")
        object.__setattr__(self, "gates", tuple(self.gates))
        if not self.gates or not all(isinstance(g, Gate) for g in self.gates):
            raise ValueError(f"channel {self.name!r}: gates must be a non-empty tuple of Gate")
        names = [g.name for g in self.gates]
        if len(set(names)) != len(names):
            raise ValueError(f"channel {self.name!r}: gate names must be unique; got {names}")
        check_real(f"channel {self.name!r} q10", self.q10, low=0, high=10,
                   low_inclusive=False)
        check_real(f"channel {self.name!r} reference_temperature_C",
                   self.reference_temperature_C, low=-10, high=50, unit="°C")

    def rate_factor(self, temperature_C: float) -> float:
        """φ = Q10^((T − T_ref)/10): how much faster the gates are at ``temperature_C``."""
        t = check_real("temperature_C", temperature_C, low=-10, high=50, unit="°C")
        return self.q10 ** ((t - self.reference_temperature_C) / 10.0)

    def state_name(self, gate: Gate) -> str:
        """Name of a gate's state variable in equations: ``<gate>_<channel>``."""
        return f"{gate.name}_{self.name}"

    @property
    def uses_calcium(self) -> bool:
        """Whether any gate depends on ``cai``."""
        return any(g.uses_calcium for g in self.gates)

    def open_fraction(self, states: Mapping[str, Any]) -> Any:
        """Π xᵖ for gate values keyed by gate name."""
        out = 1.0
        for g in self.gates:
            out = out * states[g.name] ** g.power
        return out

    @accepts_quantities
    def steady_state_current(self, v_mV: Any, *, gbar_S_cm2: float, cai_mM: Any = 1e-4
                             ) -> np.ndarray:
        """Inward current density with every gate at steady state, mA/cm²."""
        states = {g.name: g.steady_state(v_mV, cai_mM) for g in self.gates}
        v = np.asarray(v_mV, dtype=np.float64)
        return gbar_S_cm2 * self.open_fraction(states) * (self.reversal_mV - v)

    @accepts_quantities
    def steady_state_conductance(self, v_mV: Any, *, gbar_S_cm2: float,
                                 cai_mM: Any = 1e-4) -> np.ndarray:
        """Conductance density with every gate at steady state, S/cm²."""
        states = {g.name: g.steady_state(v_mV, cai_mM) for g in self.gates}
        return np.asarray(gbar_S_cm2 * self.open_fraction(states), dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class ChannelDensity:
    """A channel and its maximal conductance density in a region (S/cm², or a profile)."""

    channel: Channel
    gbar: Profile

    def __post_init__(self) -> None:
        if not isinstance(self.channel, Channel):
            raise TypeError(f"channel must be a Channel; got {type(self.channel).__name__}")
        if not isinstance(self.gbar, ExponentialProfile | WindowProfile):
            check_real(f"gbar of {self.channel.name}", self.gbar, low=0, high=100,
                       unit="S/cm²")

    @accepts_quantities
    def at(self, distance_um: np.ndarray) -> np.ndarray:
        """Density at each compartment's path distance, S/cm²."""
        d = np.asarray(distance_um, dtype=np.float64)
        if isinstance(self.gbar, ExponentialProfile | WindowProfile):
            return self.gbar.at(d)
        return np.full(d.shape, float(self.gbar))


@dataclass(frozen=True, kw_only=True)
class CalciumPool:
    """Submembrane Ca²⁺ shell (Hay et al. 2011, ``CaDynamics_E2``).

    Parameters
    ----------
    gamma : float
        Fraction of the Ca²⁺ influx that stays free, (0, 1].
    decay_ms : float
        Removal time constant, ms (> 0).
    depth_um : float
        Depth of the shell, µm (> 0).
    rest_mM : float
        Resting concentration, mM (> 0).
    """

    gamma: float
    decay_ms: float
    depth_um: float = 0.1
    rest_mM: float = 1e-4

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_real("gamma", self.gamma, low=0, high=1, low_inclusive=False)
        check_real("decay_ms", self.decay_ms, low=0, low_inclusive=False, unit="ms")
        check_real("depth_um", self.depth_um, low=0, low_inclusive=False, unit="µm")
        check_real("rest_mM", self.rest_mM, low=0, low_inclusive=False, unit="mM")


@dataclass(frozen=True, kw_only=True)
class Membrane:
    """The membrane of one region: capacitance, leak, channels and a calcium pool.

    Parameters
    ----------
    Cm_uF_cm2 : float
        Specific capacitance, µF/cm² (> 0).
    g_leak_S_cm2 : float
        Leak conductance density, S/cm² (> 0).
    E_leak_mV : float
        Leak reversal potential, mV.
    channels : tuple of ChannelDensity
        Voltage-gated channels and their densities.
    calcium : CalciumPool or None
        Ca²⁺ dynamics (needed by Ca²⁺-activated channels; without it ``cai`` stays at rest).
    """

    g_leak_S_cm2: float
    E_leak_mV: float
    Cm_uF_cm2: float = 1.0
    channels: tuple[ChannelDensity, ...] = ()
    calcium: CalciumPool | None = None

    def __post_init__(self) -> None:
        convert_quantity_fields(self)
        check_real("Cm_uF_cm2", self.Cm_uF_cm2, low=0, high=100, low_inclusive=False,
                   unit="µF/cm²")
        check_real("g_leak_S_cm2", self.g_leak_S_cm2, low=0, high=10, low_inclusive=False,
                   unit="S/cm²")
        check_real("E_leak_mV", self.E_leak_mV, low=-200, high=200, unit="mV")
        object.__setattr__(self, "channels", tuple(self.channels))
        for c in self.channels:
            if not isinstance(c, ChannelDensity):
                raise TypeError(f"channels must hold ChannelDensity items; got "
                                f"{type(c).__name__}")
        names = [c.channel.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError(f"a channel is listed twice in one membrane: {names}")
        if self.calcium is not None and not isinstance(self.calcium, CalciumPool):
            raise TypeError(f"calcium must be a CalciumPool or None; got "
                            f"{type(self.calcium).__name__}")

    @property
    def active(self) -> bool:
        """Whether the region has any voltage-gated channel with a non-zero density."""
        return any(not (isinstance(c.gbar, float | int) and c.gbar == 0) for c in self.channels)

    def passive(self) -> Membrane:
        """The same membrane with every gated channel removed (leak and Cm kept)."""
        return Membrane(g_leak_S_cm2=self.g_leak_S_cm2, E_leak_mV=self.E_leak_mV,
                        Cm_uF_cm2=self.Cm_uF_cm2)

    def without_ion(self, ion: str) -> Membrane:
        """The same membrane without the channels carrying ``ion``."""
        check_choice("ion", ion, IONS)
        return Membrane(g_leak_S_cm2=self.g_leak_S_cm2, E_leak_mV=self.E_leak_mV,
                        Cm_uF_cm2=self.Cm_uF_cm2, calcium=self.calcium,
                        channels=tuple(c for c in self.channels if c.channel.ion != ion))


def calcium_rt_2f_mV(temperature_C: float) -> float:
    """RT/(2F) at ``temperature_C``, mV: the Ca²⁺ Nernst potential is this × ln(cao/cai)."""
    check_real("temperature_C", temperature_C, low=-273.15, low_inclusive=False, unit="°C")
    return 1e3 * GAS_CONSTANT_J_PER_MOL_K * (temperature_C + 273.15) / (2 * FARADAY_C_PER_MOL)


def _brian_expr(expr: str) -> str:
    """A gate expression with ``v`` in mV made dimensionless for Brian2."""
    return re.sub(r"\bv\b", "(v/mV)", expr)


@accepts_quantities
def brian2_equations(channels: Sequence[Channel], *, temperature_C: float,
                     calcium_reversal_mV: float | None = None, calcium: bool = False,
                     calcium_nernst: bool = False) -> str:
    """Brian2 SpatialNeuron equations for a leak and ``channels``.

    Defines ``Im`` (amp/meter**2), the per-compartment parameters ``gL``, ``E_L`` and
    ``gbar_<channel>`` (siemens/meter**2), one state ``<gate>_<channel>`` per gate, and,
    with ``calcium``, the state ``cai`` (mM, dimensionless) with per-compartment
    ``ca_gamma``, ``ca_decay`` (second), ``ca_depth_um`` and ``ca_rest``. Calcium channels use
    ``calcium_reversal_mV`` (a fixed E_Ca), or with ``calcium_nernst`` the per-compartment
    parameter ``eca`` (volt), which the caller sets from ``cai`` at the start of every step
    (a parameter, not an expression of ``cai``: exponential Euler needs ``cai``'s equation
    linear in ``cai``, which ln(cao/cai) inside it would break).
    """
    chans = list(channels)
    names = [c.name for c in chans]
    if len(set(names)) != len(names):
        raise ValueError(f"channel names must be unique; got {names}")
    lines: list[str] = []
    currents: list[str] = []
    ca_channels = [c for c in chans if c.ion == "ca"]
    if ca_channels and calcium_reversal_mV is None and not calcium_nernst:
        raise ValueError("calcium channels need calcium_reversal_mV or calcium_nernst")
    e_ca = "eca" if calcium_nernst else f"{calcium_reversal_mV!r}*mV"
    for c in chans:
        phi = c.rate_factor(temperature_C)
        gates = "*".join(f"{c.state_name(g)}**{g.power}" if g.power > 1 else c.state_name(g)
                         for g in c.gates)
        rev = e_ca if c.ion == "ca" else f"{c.reversal_mV!r}*mV"
        currents.append(f"gbar_{c.name}*{gates}*({rev} - v)")
        lines.append(f"gbar_{c.name} : siemens/meter**2")
        for g in c.gates:
            s = c.state_name(g)
            if g.alpha is not None and g.beta is not None:
                lines += [f"d{s}/dt = alpha_{s}*(1 - {s}) - beta_{s}*{s} : 1",
                          f"alpha_{s} = {phi!r}*({_brian_expr(g.alpha)})/ms : Hz",
                          f"beta_{s} = {phi!r}*({_brian_expr(g.beta)})/ms : Hz"]
                continue
            lines += [f"d{s}/dt = ({s}_inf - {s})/{s}_tau : 1",
                          f"{s}_inf = {_brian_expr(g.inf)} : 1",
                          f"{s}_tau = ({_brian_expr(g.tau_ms)})*ms/{phi!r} : second"]
    uses_ca = any(c.uses_calcium for c in chans)
    if calcium or uses_ca:
        if ca_channels:
            i_ca = " + ".join(f"gbar_{c.name}*" + "*".join(
                f"{c.state_name(g)}**{g.power}" for g in c.gates)
                + f"*(v - {e_ca})" for c in ca_channels)
        else:
            i_ca = "0*amp/meter**2"
        k = 1000.0 / (2.0 * FARADAY_C_PER_MOL)  # ica in A/m², depth in µm → mM/ms
        lines += [f"ica = {i_ca} : amp/meter**2",
                      f"dcai/dt = (-{k!r}*ca_gamma*(ica/(amp/meter**2))/ca_depth_um)/ms"
                      f" - (cai - ca_rest)/ca_decay : 1",
                      "ca_gamma : 1", "ca_decay : second", "ca_depth_um : 1", "ca_rest : 1"]
    if ca_channels and calcium_nernst:
        lines.append("eca : volt")
    im = " + ".join(["gL*(E_L - v)", *currents])
    return "\n".join([f"Im = {im} : amp/meter**2", "gL : siemens/meter**2", "E_L : volt",
                      *lines])
