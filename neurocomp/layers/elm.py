r"""The Expressive Leaky Memory (ELM) neuron and the Branch-ELM, as surrogates of a neuron.

Spieler, Rahaman, Martius, Schölkopf & Levina (2024), "The expressive leaky memory neuron: an
efficient and expressive phenomenological neuron model can solve long-horizon tasks", ICLR
2024 (arXiv 2306.16922; code github.com/AaronSpieler/elmneuron, version 1 of the update).
With :math:`\kappa_s = e^{-\Delta t/\tau_s}` and :math:`\kappa_m = e^{-\Delta t/\tau_m}`:

.. math::

    s_t &= \kappa_s s_{t-1} + w_s \odot x_t \\
    b_t &= R\, s_t \quad (\text{Branch-ELM: sum of the traces of each branch; ELM: } b_t = s_t) \\
    \Delta m_t &= 1.7159 \tanh\bigl(\tfrac23\, \mathrm{MLP}([b_t, \kappa_m \odot m_{t-1}])\bigr) \\
    m_t &= \kappa_m \odot m_{t-1} + \lambda (1 - \kappa_m) \odot \Delta m_t \\
    y_t &= W_y m_t + b_y

The spike logit is :math:`y_{t,0}`; the somatic voltage is ``voltage_scale_mV`` · :math:`y_{t,1}`
in mV (the paper's target is in units of 10 mV). The input :math:`x_t` is signed (+1 for an
excitatory, −1 for an inhibitory event); give ``exc_mask`` to sign 0/1 spike counts.

:func:`elm_step` is the update above, one step at a time (the reference). :func:`elm_forward`
computes the same numbers faster: everything linear in the input is taken out of the time
loop — the synaptic input to the MLP's first layer is :math:`W_b R\,(w_s \odot \cdot)` applied
to the input, and, because the trace filter is linear and time-invariant, it commutes with
that projection, so only the ``2·d_m`` projected channels are filtered, for all steps at
once (:func:`exponential_filter`). Only the ``d_m``-dimensional memory recurrence loops over
time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from neurocomp.checks import check_choice, check_int, check_real
from neurocomp.layers._checks import bytes_per_value, check_allocation, check_rank, check_size
from neurocomp.layers.tcn import TCNOutput

__all__ = ["ELM", "ELMConfig", "ELMParams", "ELMState", "elm_forward", "elm_step",
           "exponential_filter"]

#: LeCun's scaled tanh, 1.7159·tanh(2x/3), used by the ELM for the memory update (B.1).
_TANH_GAIN = 1.7159
_TANH_SLOPE = 2.0 / 3.0
_ACTIVATIONS = ("relu", "silu")


@dataclass(frozen=True, kw_only=True)
class ELMConfig:
    """Sizes, time constants and routing of an :class:`ELM`.

    Defaults are the NeuronIO settings of Spieler et al. (2024): Table S1 and the code
    (``src/expressive_leaky_memory_neuron.py``, ``neuronio_train_script.py``).

    Parameters
    ----------
    in_channels : int
        Input channels (synapses).
    memory_units : int
        :math:`d_m`, memory units (20 in the paper's main Branch-ELM).
    mlp_hidden : int or None
        Hidden units of the one-hidden-layer MLP; ``None`` means :math:`2 d_m` (Table S1).
    mlp_activation : {"relu", "silu"}
        ReLU in Table S1; their best released model uses SiLU.
    tau_s_ms : float
        Synaptic trace time constant, ms (5 ms, Table S1).
    tau_m_min_ms, tau_m_max_ms : float
        Range of the memory time constants, ms, log-spaced over the units (1–150 ms in the
        code and the figure text; Table S1 says 1–100).
    lambda_ : float
        Memory update gain :math:`\\lambda` (5 in the code, more stable for Branch-ELM, Fig. S2).
    learn_memory_tau : bool
        Learn :math:`\\tau_m` (False in every released NeuronIO configuration). Learned as
        :math:`\\log \\tau_m` (unbounded), not the paper's sigmoid between the bounds.
    synapse_weight_init : float
        Initial :math:`w_s` (0.5, Table S1); :math:`w_s = \\mathrm{ReLU}(p)` keeps it ≥ 0.
    dt_ms : float
        Time step, ms (the 1 ms bins of the data).
    branch_of_channel : tuple of int or None
        Branch-ELM routing: the branch id (0 … n_branches − 1) of every input channel, −1
        for a channel not used. Traces are summed per branch. ``None``: vanilla ELM (the MLP
        reads every trace). The paper routes each input to several branches (4,500 synapses
        for 1,278 inputs, B.2); here each channel feeds at most one branch.
    exc_mask : tuple of bool or None
        Per channel, True for excitatory. Inhibitory channels are multiplied by −1 (the
        paper's signed input). ``None``: the input is used as given.
    spike_bias_init : float
        Initial bias of the spike logit (−2 as the TCN head of Beniaguev et al. 2021).
    voltage_scale_mV : float
        mV per unit of the voltage readout (10 mV: the paper's ×0.1 target scaling, B.3).
    voltage_bias_init_mV : float
        Initial voltage output, mV (−67.7 mV, Beniaguev et al.'s target offset, A.4).
    filter_chunk : int
        Steps per block of the all-at-once trace filter (speed only; results are the same).
    """

    in_channels: int
    memory_units: int = 20
    mlp_hidden: int | None = None
    mlp_activation: str = "relu"
    tau_s_ms: float = 5.0
    tau_m_min_ms: float = 1.0
    tau_m_max_ms: float = 150.0
    lambda_: float = 5.0
    learn_memory_tau: bool = False
    synapse_weight_init: float = 0.5
    dt_ms: float = 1.0
    branch_of_channel: tuple[int, ...] | None = None
    exc_mask: tuple[bool, ...] | None = None
    spike_bias_init: float = -2.0
    voltage_scale_mV: float = 10.0
    voltage_bias_init_mV: float = -67.7
    filter_chunk: int = 32

    def __post_init__(self) -> None:
        n = check_int("in_channels", self.in_channels, low=1)
        check_int("memory_units", self.memory_units, low=1)
        if self.mlp_hidden is not None:
            check_int("mlp_hidden", self.mlp_hidden, low=1)
        check_choice("mlp_activation", self.mlp_activation, _ACTIVATIONS)
        check_real("tau_s_ms", self.tau_s_ms, low=0.0, low_inclusive=False, unit="ms")
        lo = check_real("tau_m_min_ms", self.tau_m_min_ms, low=0.0, low_inclusive=False,
                        unit="ms")
        check_real("tau_m_max_ms", self.tau_m_max_ms, low=lo, unit="ms")
        check_real("lambda_", self.lambda_, low=0.0, low_inclusive=False)
        if not isinstance(self.learn_memory_tau, bool):
            raise TypeError(f"learn_memory_tau must be a bool; got {self.learn_memory_tau!r}")
        check_real("synapse_weight_init", self.synapse_weight_init, low=0.0)
        check_real("dt_ms", self.dt_ms, low=0.0, low_inclusive=False, unit="ms")
        if self.branch_of_channel is not None:
            ids = tuple(self.branch_of_channel)
            if len(ids) != n:
                raise ValueError(f"branch_of_channel must give one branch id per input channel "
                                 f"({n}); got {len(ids)}")
            for i, b in enumerate(ids):
                check_int(f"branch_of_channel[{i}]", b, low=-1)
            if max(ids) < 0:
                raise ValueError("branch_of_channel routes no channel to a branch (all −1)")
            missing = sorted(set(range(max(ids) + 1)) - set(ids))
            if missing:
                raise ValueError(f"branch_of_channel must use every branch id from 0 to "
                                 f"{max(ids)}; ids {missing[:8]} have no channel")
            object.__setattr__(self, "branch_of_channel", tuple(int(b) for b in ids))
        if self.exc_mask is not None:
            mask = tuple(self.exc_mask)
            if len(mask) != n:
                raise ValueError(f"exc_mask must give one bool per input channel ({n}); got "
                                 f"{len(mask)}")
            for i, e in enumerate(mask):
                if not isinstance(e, bool):
                    raise TypeError(f"exc_mask[{i}] must be a bool; got {e!r}")
            object.__setattr__(self, "exc_mask", mask)
        check_real("spike_bias_init", self.spike_bias_init)
        check_real("voltage_scale_mV", self.voltage_scale_mV, low=0.0, low_inclusive=False,
                   unit="mV")
        check_real("voltage_bias_init_mV", self.voltage_bias_init_mV, unit="mV")
        check_int("filter_chunk", self.filter_chunk, low=1)

    def construction_bytes(self, dtype: torch.dtype | None = None) -> int:
        """Bytes the :class:`ELM` constructor allocates, Python lists of the per-channel
        masks (about 48 B an entry) included."""
        c, d_m, h, d_in = self.in_channels, self.memory_units, self.hidden, self.mlp_inputs
        values = 2 * c + 3 * d_m + 2 * h * (d_in + d_m) + h + h * d_m + d_m + 2 * (d_m + 1)
        routing = 0 if self.branch_of_channel is None else 2 * c * (8 + 48)
        return values * bytes_per_value(dtype) + 48 * c + routing

    @property
    def hidden(self) -> int:
        """Hidden units of the MLP."""
        return 2 * self.memory_units if self.mlp_hidden is None else self.mlp_hidden

    @property
    def n_branches(self) -> int | None:
        """Branches of a Branch-ELM (``None`` for the vanilla ELM)."""
        return None if self.branch_of_channel is None else max(self.branch_of_channel) + 1

    @property
    def mlp_inputs(self) -> int:
        """:math:`d_{tree}` (branches) or ``in_channels`` (vanilla)."""
        return self.in_channels if self.n_branches is None else self.n_branches


class ELMParams(NamedTuple):
    """Everything the update needs, as tensors (the state-free part of the model).

    ``w_syn`` (C,) is :math:`w_s` (≥ 0) times the channel's sign from ``exc_mask``;
    ``routed`` (U,) lists the channels that feed a branch and ``branch`` (U,) their branch
    ids (both ``None`` for the vanilla ELM); the MLP's first layer is split into ``w_in``
    (H, D) on the branch (or trace) input and ``w_mem`` (H, d_m) on the memory.
    """

    w_syn: torch.Tensor
    routed: torch.Tensor | None
    branch: torch.Tensor | None
    kappa_s: torch.Tensor  #: scalar, e^{-dt/τ_s}
    kappa_m: torch.Tensor  #: (d_m,), e^{-dt/τ_m}
    w_in: torch.Tensor
    w_mem: torch.Tensor
    b_hidden: torch.Tensor
    w_out: torch.Tensor  #: (d_m, H)
    b_out: torch.Tensor
    w_y: torch.Tensor  #: (2, d_m)
    b_y: torch.Tensor  #: (2,)
    lambda_: float
    activation: str
    voltage_scale_mV: float


class ELMState(NamedTuple):
    """Synaptic traces ``s`` (batch, C) and memory ``m`` (batch, d_m)."""

    s: torch.Tensor
    m: torch.Tensor


def _act(h: torch.Tensor, name: str) -> torch.Tensor:
    return torch.relu(h) if name == "relu" else nn.functional.silu(h)


def _branch_sum(s: torch.Tensor, p: ELMParams) -> torch.Tensor:
    """Sum ``s`` (batch, C, …) over the channels of each branch (dim 1)."""
    if p.branch is None:
        return s
    out = s.new_zeros((s.shape[0], p.w_in.shape[1], *s.shape[2:]))
    return out.index_add(1, p.branch, s.index_select(1, p.routed))


def _memory_update(m: torch.Tensor, drive: torch.Tensor, p: ELMParams) -> torch.Tensor:
    """:math:`m_t` from :math:`m_{t-1}` and the MLP's input drive (batch, H), bias included."""
    km = p.kappa_m * m
    hidden = _act(drive + km @ p.w_mem.T, p.activation)
    delta = _TANH_GAIN * torch.tanh(_TANH_SLOPE * (hidden @ p.w_out.T + p.b_out))
    return km + p.lambda_ * (1.0 - p.kappa_m) * delta


def elm_step(state: ELMState, x_t: torch.Tensor, p: ELMParams
             ) -> tuple[torch.Tensor, ELMState]:
    """One step of the ELM exactly as written in the module docstring.

    Parameters
    ----------
    state : ELMState
        Traces and memory after step :math:`t-1` (zeros at the start).
    x_t : torch.Tensor
        Input at step :math:`t`, (batch, C).
    p : ELMParams

    Returns
    -------
    y_t : torch.Tensor
        (batch, 2): spike logit and voltage in mV.
    state : ELMState
    """
    s = p.kappa_s * state.s + p.w_syn * x_t
    b = _branch_sum(s, p)
    km = p.kappa_m * state.m
    w_first = torch.cat([p.w_in, p.w_mem], dim=1)  # the MLP as in the paper: one input layer
    hidden = _act(torch.cat([b, km], dim=1) @ w_first.T + p.b_hidden, p.activation)
    delta = _TANH_GAIN * torch.tanh(_TANH_SLOPE * (hidden @ p.w_out.T + p.b_out))
    m = km + p.lambda_ * (1.0 - p.kappa_m) * delta
    y = m @ p.w_y.T + p.b_y
    scale = torch.tensor([1.0, p.voltage_scale_mV], dtype=y.dtype, device=y.device)
    return y * scale, ELMState(s=s, m=m)


def exponential_filter(u: torch.Tensor, kappa: torch.Tensor, *, chunk: int = 32
                       ) -> torch.Tensor:
    r"""Causal filter :math:`s_t = \kappa s_{t-1} + u_t` (:math:`s_{-1} = 0`) along the last axis.

    Computed in blocks of ``chunk`` steps: inside a block a lower-triangular matrix of powers
    :math:`\kappa^{i-j}` (all ≤ 1, no overflow) does the sum for every step at once; the
    value at each block's end is carried into the next with :math:`\kappa^{i+1}`. Exact up to
    round-off for any :math:`0 \le \kappa \le 1`; costs about ``2·chunk`` FLOPs per element.

    Parameters
    ----------
    u : torch.Tensor
        (..., time).
    kappa : torch.Tensor
        Scalar decay per step.
    chunk : int
        Block length, steps.
    """
    check_int("chunk", chunk, low=1)
    n = u.shape[-1]
    if n == 0:
        return u.clone()
    L = min(chunk, n)
    pad = (-n) % L
    v = nn.functional.pad(u, (0, pad)).unflatten(-1, (-1, L))  # (..., blocks, L)
    i = torch.arange(L, device=u.device, dtype=u.dtype)
    lag = i[:, None] - i[None, :]
    kap = kappa.to(u.dtype)
    powers = torch.where(lag >= 0, kap ** lag.clamp(min=0), torch.zeros((), dtype=u.dtype,
                                                                        device=u.device))
    within = v @ powers.T  # (..., blocks, L)
    carry_gain = kap ** (i + 1)  # κ^{i+1}: how step i of a block sees the previous block's end
    blocks = []
    prev = None
    for k in range(within.shape[-2]):
        block = within[..., k, :]
        if prev is not None:
            block = block + prev[..., None] * carry_gain
        blocks.append(block)
        prev = block[..., -1]
    return torch.cat(blocks, dim=-1)[..., :n]


def elm_forward(x: torch.Tensor, p: ELMParams, *, chunk: int = 32
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the ELM over ``x`` (batch, C, time) from zero state.

    Returns ``(spike_logits, voltage_mV)``, each (batch, time). Same numbers as looping
    :func:`elm_step` (see the module docstring for how the linear part is hoisted).
    """
    batch, _, n = x.shape
    if n == 0:
        return x.new_zeros((batch, 0)), x.new_zeros((batch, 0))
    xw = x * p.w_syn[:, None]
    projected = torch.einsum("hd,bdt->bht", p.w_in, _branch_sum(xw, p))  # (B, H, T)
    drive = exponential_filter(projected, p.kappa_s, chunk=chunk) + p.b_hidden[:, None]
    drive = drive.permute(2, 0, 1)  # (T, B, H): contiguous per step
    m = x.new_zeros((batch, p.w_mem.shape[1]))
    memory = []
    for t in range(n):
        m = _memory_update(m, drive[t], p)
        memory.append(m)
    y = torch.einsum("tbm,om->bot", torch.stack(memory), p.w_y) + p.b_y[:, None]
    return y[:, 0], p.voltage_scale_mV * y[:, 1]


class ELM(nn.Module):
    """ELM or Branch-ELM neuron with the :class:`~neurocomp.layers.tcn.TCN` interface.

    Input (batch, in_channels, time); output :class:`TCNOutput` with ``spike_logits`` and
    ``soma_voltage`` (mV), each (batch, time), and ``dendritic=None``. Always starts from zero
    state, so a sequence is best run whole (it has no finite receptive field).

    Trainable parameters, with :math:`D` = branches (Branch-ELM) or ``in_channels`` (ELM),
    :math:`H` = MLP hidden units: ``in_channels`` synaptic weights, :math:`(D + d_m) H + H`
    (first MLP layer), :math:`H d_m + d_m` (second), :math:`2 (d_m + 1)` (readout), and
    :math:`d_m` more with ``learn_memory_tau``.
    """

    def __init__(self, config: ELMConfig, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None, max_bytes: float | None = None) -> None:
        super().__init__()
        if not isinstance(config, ELMConfig):
            raise TypeError(f"config must be an ELMConfig; got {type(config).__name__}")
        check_allocation("ELM(config)", config.construction_bytes(dtype), max_bytes=max_bytes,
                         what="parameters and buffers",
                         sizes=f"config.in_channels={config.in_channels}, memory_units="
                               f"{config.memory_units}, hidden={config.hidden}")
        self.config = config
        f = {"device": device, "dtype": dtype}
        c, d_m, h, d_in = config.in_channels, config.memory_units, config.hidden, config.mlp_inputs
        self.synapse_weight = nn.Parameter(torch.full((c,), config.synapse_weight_init, **f))
        mask = (True,) * c if config.exc_mask is None else config.exc_mask
        self.register_buffer("sign", torch.tensor([1.0 if e else -1.0 for e in mask], **f))
        routed = branch = None
        if config.branch_of_channel is not None:
            pairs = [(j, b) for j, b in enumerate(config.branch_of_channel) if b >= 0]
            routed = torch.tensor([j for j, _ in pairs], dtype=torch.long, device=device)
            branch = torch.tensor([b for _, b in pairs], dtype=torch.long, device=device)
        self.register_buffer("routed", routed)
        self.register_buffer("branch", branch)
        tau_m = torch.logspace(math.log10(config.tau_m_min_ms), math.log10(config.tau_m_max_ms),
                               d_m, **f)
        if config.learn_memory_tau:
            self.log_tau_m = nn.Parameter(tau_m.log())
        else:
            self.register_buffer("log_tau_m", tau_m.log())
        first = nn.Linear(d_in + d_m, h, **f)  # PyTorch default init, as in the paper
        self.w_in = nn.Parameter(first.weight.detach()[:, :d_in].clone())
        self.w_mem = nn.Parameter(first.weight.detach()[:, d_in:].clone())
        self.b_hidden = nn.Parameter(first.bias.detach().clone())
        self.mlp_out = nn.Linear(h, d_m, **f)
        self.readout = nn.Linear(d_m, 2, **f)
        with torch.no_grad():
            self.readout.bias[0] = config.spike_bias_init
            self.readout.bias[1] = config.voltage_bias_init_mV / config.voltage_scale_mV

    def params(self) -> ELMParams:
        """The current parameters as an :class:`ELMParams` (differentiable)."""
        cfg = self.config
        w = self.synapse_weight
        dt = torch.as_tensor(cfg.dt_ms, dtype=w.dtype, device=w.device)
        return ELMParams(
            w_syn=torch.relu(w) * self.sign, routed=self.routed, branch=self.branch,
            kappa_s=torch.exp(-dt / cfg.tau_s_ms), kappa_m=torch.exp(-dt / self.log_tau_m.exp()),
            w_in=self.w_in, w_mem=self.w_mem, b_hidden=self.b_hidden,
            w_out=self.mlp_out.weight, b_out=self.mlp_out.bias,
            w_y=self.readout.weight, b_y=self.readout.bias, lambda_=cfg.lambda_,
            activation=cfg.mlp_activation, voltage_scale_mV=cfg.voltage_scale_mV)

    def forward(self, x: torch.Tensor) -> TCNOutput:
        check_rank("x", x, 3, "(batch, channel, time)")
        check_size("x", x, 1, self.config.in_channels, "channels (config.in_channels)")
        spike, volt = elm_forward(x.to(self.w_in.dtype), self.params(),
                                  chunk=self.config.filter_chunk)
        return TCNOutput(spike_logits=spike, soma_voltage=volt, dendritic=None)
