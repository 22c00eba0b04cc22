r"""Ground truth of recurrent layers (LSTM, GRU, tanh RNN), unrolled step by step and counted.

Method and convention: :mod:`~neurocomp.accounting.truth.loops`; the choices for
recurrent cells: :mod:`~neurocomp.accounting.truth.layers`. One function call
is one layer in one direction over a ``(T, B, I)`` sequence — what one
``aten.mkldnn_rnn_layer`` call computes on the CPU. Per step, sample and hidden unit:

* LSTM forward: :math:`4(I + H)` MACs; 4 gate adds, 3 sigmoids (``exp``, add, division),
  2 ``tanh``, :math:`c' = f c + i g` (3), :math:`h' = o \tanh c'` (1) — 19 element
  operations, 5 of them transcendental and 3 divisions.
* LSTM backward (gates and ``tanh c`` kept from the forward): :math:`8(I + H)` MACs (input,
  recurrent-state and the two weight gradients); :math:`dh` summed with the output gradient
  (1), :math:`dc` (5), four gate products and the carried :math:`dc` (4), three sigmoid and
  one tanh derivatives (3 each), the bias gradient (4 adds: one sum over steps and samples,
  shared by ``b_ih`` and ``b_hh``) — 27 adds and multiplies.
* GRU forward (PyTorch's gates, :math:`n = \tanh(W_{in}x + b_{in} + r(W_{hn}h + b_{hn}))`,
  :math:`h' = n + z(h - n)`): :math:`3(I + H)` MACs and 14 element operations.
* tanh RNN forward: :math:`I + H` MACs, an add and a ``tanh``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocomp.accounting.truth.loops import Computed, Tally

__all__ = ["RecurrentWeights", "gru_layer_forward", "lstm_layer_backward", "lstm_layer_forward",
           "rnn_tanh_layer_forward"]


@dataclass(frozen=True, eq=False)
class RecurrentWeights:
    """One layer's weights in PyTorch's layout (gates stacked along the first axis).

    Parameters
    ----------
    w_ih : numpy.ndarray
        ``(G·H, I)``, G = 4 (LSTM), 3 (GRU) or 1 (RNN).
    w_hh : numpy.ndarray
        ``(G·H, H)``.
    b_ih, b_hh : numpy.ndarray or None
        ``(G·H,)`` each, or both ``None`` (``bias=False``).
    """

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray | None = None
    b_hh: np.ndarray | None = None

    def __post_init__(self) -> None:
        rows, hidden = np.shape(self.w_hh)
        if np.shape(self.w_ih)[0] != rows or rows % hidden:
            raise ValueError(f"w_ih {np.shape(self.w_ih)} and w_hh {np.shape(self.w_hh)} do "
                             f"not stack G gates of H = {hidden} rows")
        if (self.b_ih is None) != (self.b_hh is None):
            raise ValueError("b_ih and b_hh must both be given or both be None")

    @property
    def hidden(self) -> int:
        """Hidden size H."""
        return int(np.shape(self.w_hh)[1])

    @classmethod
    def of(cls, module: object, layer: int = 0) -> RecurrentWeights:
        """Layer ``layer`` (forward direction) of a ``torch.nn`` LSTM, GRU or RNN."""
        def get(name: str) -> np.ndarray | None:
            value = getattr(module, f"{name}_l{layer}", None)
            return None if value is None else value.detach().double().numpy()
        return cls(get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"))


def _gates(t: Tally, w: RecurrentWeights, x_t: np.ndarray, h: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The two accumulators :math:`b_{ih} + W_{ih}x` and :math:`b_{hh} + W_{hh}h`."""
    from_x = t.mac(0.0 if w.b_ih is None else w.b_ih, x_t[:, None, :], w.w_ih[None], axis=2)
    from_h = t.mac(0.0 if w.b_hh is None else w.b_hh, h[:, None, :], w.w_hh[None], axis=2)
    return from_x, from_h


def _lstm_steps(t: Tally, x: np.ndarray, w: RecurrentWeights, h: np.ndarray, c: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[np.ndarray, ...]]]:
    n = w.hidden
    outputs, saved = [], []
    for x_t in x:
        a, b = _gates(t, w, x_t, h)
        pre = t.add(a, b)
        i, f, o = (t.sigmoid(pre[:, k * n:(k + 1) * n]) for k in (0, 1, 3))
        g = t.tanh(pre[:, 2 * n:3 * n])
        c_prev, h_prev = c, h
        c = t.add(t.mul(f, c), t.mul(i, g))
        tanh_c = t.tanh(c)
        h = t.mul(o, tanh_c)
        outputs.append(h)
        saved.append((i, f, g, o, c_prev, h_prev, tanh_c))
    return np.stack(outputs), h, c, saved


def lstm_layer_forward(x: np.ndarray, w: RecurrentWeights, h0: np.ndarray, c0: np.ndarray
                       ) -> Computed:
    """One LSTM layer over ``x`` ``(T, B, I)``: ``(output (T, B, H), h_T, c_T)``."""
    t = Tally()
    out, h, c, _ = _lstm_steps(t, np.asarray(x, dtype=float), w, np.asarray(h0, dtype=float),
                               np.asarray(c0, dtype=float))
    return Computed((out, h, c), t.counts)


def _sigmoid_grad(t: Tally, grad: np.ndarray, y: np.ndarray) -> np.ndarray:
    return t.mul(t.mul(grad, y), t.sub(1.0, y))


def lstm_layer_backward(x: np.ndarray, w: RecurrentWeights, h0: np.ndarray, c0: np.ndarray,
                        grad_out: np.ndarray, grad_h: np.ndarray, grad_c: np.ndarray
                        ) -> Computed:
    """Backpropagation through time of one LSTM layer (the forward is re-run uncounted: its
    values stand for the kernel's saved workspace).

    Returns ``(dx, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0)``.
    """
    x = np.asarray(x, dtype=float)
    _, _, _, saved = _lstm_steps(Tally(), x, w, np.asarray(h0, dtype=float),
                                 np.asarray(c0, dtype=float))
    t = Tally()
    dh_next, dc = np.asarray(grad_h, dtype=float), np.asarray(grad_c, dtype=float)
    grad_wih, grad_whh = np.zeros(np.shape(w.w_ih)), np.zeros(np.shape(w.w_hh))
    grad_x, grad_gates = np.zeros(x.shape), []
    for step in reversed(range(x.shape[0])):
        i, f, g, o, c_prev, h_prev, tanh_c = saved[step]
        dh = t.add(grad_out[step], dh_next)
        d_o = t.mul(dh, tanh_c)
        dc = t.add(dc, t.mul(t.mul(dh, o), t.sub(1.0, t.mul(tanh_c, tanh_c))))
        d_i, d_g, d_f = t.mul(dc, g), t.mul(dc, i), t.mul(dc, c_prev)
        dc = t.mul(dc, f)
        gates = np.concatenate([_sigmoid_grad(t, d_i, i), _sigmoid_grad(t, d_f, f),
                                t.mul(d_g, t.sub(1.0, t.mul(g, g))),
                                _sigmoid_grad(t, d_o, o)], axis=1)
        grad_x[step] = t.mac(0.0, gates[:, :, None], w.w_ih[None], axis=1)
        dh_next = t.mac(0.0, gates[:, :, None], w.w_hh[None], axis=1)
        grad_wih = t.mac(grad_wih, gates[:, :, None], x[step][:, None, :], axis=0)
        grad_whh = t.mac(grad_whh, gates[:, :, None], h_prev[:, None, :], axis=0)
        grad_gates.append(gates)
    grad_b = t.sum(np.stack(grad_gates), axis=(0, 1)) if w.b_ih is not None else None
    return Computed((grad_x, grad_wih, grad_whh, grad_b, grad_b, dh_next, dc), t.counts)


def gru_layer_forward(x: np.ndarray, w: RecurrentWeights, h0: np.ndarray) -> Computed:
    """One GRU layer over ``x`` ``(T, B, I)``: ``(output (T, B, H), h_T)``."""
    t = Tally()
    n, h = w.hidden, np.asarray(h0, dtype=float)
    outputs = []
    for x_t in np.asarray(x, dtype=float):
        a, b = _gates(t, w, x_t, h)
        r = t.sigmoid(t.add(a[:, :n], b[:, :n]))
        z = t.sigmoid(t.add(a[:, n:2 * n], b[:, n:2 * n]))
        cand = t.tanh(t.add(a[:, 2 * n:], t.mul(r, b[:, 2 * n:])))
        h = t.add(cand, t.mul(z, t.sub(h, cand)))
        outputs.append(h)
    return Computed((np.stack(outputs), h), t.counts)


def rnn_tanh_layer_forward(x: np.ndarray, w: RecurrentWeights, h0: np.ndarray) -> Computed:
    """One tanh RNN layer over ``x`` ``(T, B, I)``: ``(output (T, B, H), h_T)``."""
    t = Tally()
    h = np.asarray(h0, dtype=float)
    outputs = []
    for x_t in np.asarray(x, dtype=float):
        a, b = _gates(t, w, x_t, h)
        h = t.tanh(t.add(a, b))
        outputs.append(h)
    return Computed((np.stack(outputs), h), t.counts)
