"""The zoo of :func:`~neurocomp.accounting.truth.zoo.ground_truth_table`.

Each builder makes a small ``torch.nn`` module and its inputs (float64, except the LSTM,
whose oneDNN kernel runs in float32), computes the module's outputs and gradients with
PyTorch (seeded with random output gradients), computes the same with the ground truth, checks
they agree, and returns the case with the ground truth's count per phase. Sizes are small so
that the explicit loops take milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from neurocomp.accounting.truth import layers as L
from neurocomp.accounting.truth import loops as G
from neurocomp.accounting.truth import rnn as R
from neurocomp.accounting.truth.zoo import GroundTruthCase, PhaseCheck, agree

__all__ = ["CONVOLUTIONS", "zoo_cases"]

Builder = Callable[[torch.Generator], GroundTruthCase]

#: Convolutions of the zoo: key → (label, module factory, input shape).
CONVOLUTIONS: dict[str, tuple[str, Callable[[], nn.Module], tuple[int, ...]]] = {
    "conv1d_1x1": ("Conv1d 1×1", lambda: nn.Conv1d(3, 5, 1), (2, 3, 7)),
    "conv1d_grouped": ("Conv1d s2 d2 p3 g2", lambda: nn.Conv1d(
        4, 6, 5, stride=2, padding=3, dilation=2, groups=2), (2, 4, 23)),
    "conv2d_groups4": ("Conv2d 3×3 g4", lambda: nn.Conv2d(8, 8, 3, padding=1, groups=4),
                       (2, 8, 6, 6)),
    "conv2d_depthwise": ("Conv2d depthwise", lambda: nn.Conv2d(6, 6, 3, padding=1, groups=6),
                         (2, 6, 6, 7)),
    "conv2d_strided": ("Conv2d 3×5 s(2,1), no bias", lambda: nn.Conv2d(
        6, 8, (3, 5), stride=(2, 1), padding=(0, 2), bias=False), (2, 6, 7, 8)),
    "conv3d_grouped": ("Conv3d g2", lambda: nn.Conv3d(
        2, 4, (2, 3, 3), stride=(1, 2, 2), padding=(1, 1, 0), groups=2), (2, 2, 3, 7, 7)),
    "convT1d_grouped": ("ConvT1d s3 g2", lambda: nn.ConvTranspose1d(
        4, 6, 4, stride=3, padding=1, output_padding=2, groups=2), (2, 4, 7)),
    "convT2d_dilated": ("ConvT2d s2 d2 g2", lambda: nn.ConvTranspose2d(
        6, 4, 3, stride=2, padding=1, output_padding=1, dilation=2, groups=2), (2, 6, 3, 4)),
    "convT2d_depthwise": ("ConvT2d depthwise", lambda: nn.ConvTranspose2d(
        4, 4, 3, stride=2, groups=4), (2, 4, 4, 4)),
    "convT3d_grouped": ("ConvT3d g2, no bias", lambda: nn.ConvTranspose3d(
        4, 2, 2, stride=2, groups=2, bias=False), (2, 4, 3, 3, 3)),
}


class _Op(nn.Module):
    """A function of tensors as a module (what :func:`count` takes)."""

    def __init__(self, fn: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.fn(*args)


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().double().numpy()


def _autograd(module: nn.Module, inputs: tuple[torch.Tensor, ...], gen: torch.Generator
              ) -> tuple[Any, list[torch.Tensor], list[torch.Tensor | None]]:
    """Outputs, the random output gradients used, and gradients of (inputs, parameters)."""
    args = tuple(t.detach().requires_grad_() for t in inputs)
    out = module(*args)
    outs = [out] if isinstance(out, torch.Tensor) else [o for o in _flat(out)]
    seeds = [torch.randn(o.shape, generator=gen, dtype=o.dtype) for o in outs]
    params = list(module.parameters())
    grads = torch.autograd.grad(outs, [*args, *params], seeds, allow_unused=True)
    return out, seeds, list(grads)


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    return [t for v in value for t in _flat(v)]


def _phase(phase: str, truth: G.OpCounts, *, trainable: tuple[str, ...] = (),
           input_grad: bool = False) -> PhaseCheck:
    return PhaseCheck(phase=phase, trainable=trainable, input_grad=input_grad, truth=truth)


# -- convolutions and products ---------------------------------------------------------------

def _conv(key: str) -> Builder:
    label, factory, shape = CONVOLUTIONS[key]

    def build(gen: torch.Generator) -> GroundTruthCase:
        module = factory().double()
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        y, (gy,), grads = _autograd(module, (x,), gen)
        geo, w, b = G.ConvGeometry.of(module), _np(module.weight), _np(module.bias)
        checks = [("forward", G.conv_forward(_np(x), w, b, geo), y, (), False),
                  ("input grad", G.conv_input_grad(_np(gy), w, x.shape, geo), grads[0], (),
                   True),
                  ("weight grad", G.conv_weight_grad(_np(gy), _np(x), w.shape, geo),
                   grads[1], ("weight",), False)]
        if b is not None:
            checks.append(("bias grad", G.conv_bias_grad(_np(gy)), grads[2], ("bias",), False))
        phases = []
        for phase, truth, theirs, trainable, input_grad in checks:
            agree(f"{key} {phase}", truth.value, theirs)
            phases.append(_phase(phase, truth.counts, trainable=trainable,
                                 input_grad=input_grad))
        ops = "convolution" + (" / convolution_backward" if len(phases) > 1 else "")
        return GroundTruthCase(key=key, label=label, family="convolution", ops=ops,
                               module=module, inputs=(x,), phases=tuple(phases))
    return build


def _linear(gen: torch.Generator) -> GroundTruthCase:
    module = nn.Linear(5, 3).double()
    x = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    y, (gy,), (gx, gw, gb) = _autograd(module, (x,), gen)
    w = _np(module.weight)
    checks = [("forward", G.matmul(_np(x), w.T, _np(module.bias)), y, (), False),
              ("input grad", G.matmul(_np(gy), w), gx, (), True),
              ("weight grad", G.matmul(_np(gy).T, _np(x)), gw, ("weight",), False),
              ("bias grad", G.conv_bias_grad(_np(gy)), gb, ("bias",), False)]
    phases = []
    for phase, truth, theirs, trainable, input_grad in checks:
        agree(f"linear {phase}", truth.value, theirs)
        phases.append(_phase(phase, truth.counts, trainable=trainable, input_grad=input_grad))
    return GroundTruthCase(key="linear", label="Linear 5→3 + bias", family="matmul",
                           ops="addmm / mm / sum", module=module, inputs=(x,),
                           phases=tuple(phases))


def _product(key: str, fn: Callable[..., torch.Tensor], shapes: tuple[tuple[int, ...], ...],
             biased: bool) -> Builder:
    def build(gen: torch.Generator) -> GroundTruthCase:
        inputs = tuple(torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes)
        arrays = [_np(t) for t in inputs]
        truth = G.matmul(*arrays[1:], arrays[0]) if biased else G.matmul(*arrays)
        agree(key, truth.value, fn(*inputs))
        return GroundTruthCase(key=key, label=key, family="matmul", ops=key,
                               module=_Op(fn), inputs=inputs,
                               phases=(_phase("forward", truth.counts),))
    return build


# -- attention ---------------------------------------------------------------------------------

def _scores(q: torch.Tensor, k: torch.Tensor, causal: bool) -> torch.Tensor:
    s = torch.matmul(q, k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool).triu(1), float("-inf"))
    return s


def _unfused(causal: bool) -> Callable[..., torch.Tensor]:
    """Attention written as explicit ops: matmul, scale, causal fill, softmax, matmul."""
    return lambda q, k, v: torch.matmul(torch.softmax(_scores(q, k, causal), dim=-1), v)


def _attention(fused: bool, causal: bool) -> Builder:
    def build(gen: torch.Generator) -> GroundTruthCase:
        d_v = 4 if fused else 3  # the CPU's fused kernel needs d_v = d
        shapes = ((2, 2, 6, 4), (2, 2, 6, 4), (2, 2, 6, d_v))
        q, k, v = (torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes)
        if fused:
            fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # noqa: E731
        else:
            fn = _unfused(causal)
        module = _Op(fn)
        out, (go,), grads = _autograd(module, (q, k, v), gen)
        qa, ka, va, goa = _np(q), _np(k), _np(v), _np(go)
        forward = L.attention_forward(qa, ka, va, causal=causal, logsumexp=fused)
        if fused:
            o, lse = forward.value
            backward = L.attention_backward_flash(goa, qa, ka, va, o, lse, causal=causal)
        else:
            o = forward.value
            probs = _np(torch.softmax(_scores(q, k, causal), dim=-1))
            backward = L.attention_backward_saved(goa, qa, ka, va, probs)
        name = f"{'fused' if fused else 'unfused'} attention{', causal' if causal else ''}"
        agree(f"{name} forward", o, out)
        for i, what in enumerate(("dQ", "dK", "dV")):
            agree(f"{name} {what}", backward.value[i], grads[i])
        ops = ("_scaled_dot_product_flash_attention_for_cpu (+ backward)" if fused
               else "bmm, mul, _softmax (+ backward)")
        return GroundTruthCase(
            key=f"attention_{'fused' if fused else 'unfused'}{'_causal' if causal else ''}",
            label=name, family="attention", ops=ops, module=module, inputs=(q, k, v),
            phases=(_phase("forward", forward.counts),
                    _phase("all grads", backward.counts, input_grad=True)))
    return build


# -- pooling and normalisation -------------------------------------------------------------------

def _pool(key: str, label: str, module: nn.Module, shape: tuple[int, ...]) -> Builder:
    def build(gen: torch.Generator) -> GroundTruthCase:
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        y, (gy,), (gx,) = _autograd(module, (x,), gen)
        dims = len(shape) - 2
        kernel, stride, pad = (tuple(np.broadcast_to(getattr(module, n), dims))
                               for n in ("kernel_size", "stride", "padding"))
        if isinstance(module, nn.AvgPool1d | nn.AvgPool2d | nn.AvgPool3d):
            forward = L.avg_pool(_np(x), kernel, stride, pad)
            backward = L.avg_pool_backward(_np(gy), x.shape, kernel, stride, pad)
            agree(f"{key} forward", forward.value, y)
        else:
            dilation = tuple(np.broadcast_to(module.dilation, dims))
            forward = L.max_pool(_np(x), kernel, stride, pad, dilation)
            backward = L.max_pool_backward(_np(gy), forward.value[1], x.shape)
            agree(f"{key} forward", forward.value[0], y)
        agree(f"{key} input grad", backward.value, gx)
        return GroundTruthCase(key=key, label=label, family="pooling",
                               ops=f"{type(module).__name__} (+ backward)", module=module,
                               inputs=(x,), phases=(_phase("forward", forward.counts),
                                                    _phase("input grad", backward.counts,
                                                           input_grad=True)))
    return build


def _norm_phases(key: str, forward: G.Computed, y: torch.Tensor,
                 backward: Callable[[tuple[bool, bool, bool]], G.Computed],
                 grads: list[torch.Tensor | None]) -> tuple[PhaseCheck, ...]:
    """Forward, then each gradient alone (``backward(output_mask)``), checked."""
    agree(f"{key} forward", forward.value[0], y)
    phases = [_phase("forward", forward.counts)]
    for i, (phase, trainable) in enumerate((("input grad", ()), ("weight grad", ("weight",)),
                                            ("bias grad", ("bias",)))):
        mask = tuple(j == i for j in range(3))
        truth = backward(mask)
        agree(f"{key} {phase}", truth.value[i], grads[i])
        phases.append(_phase(phase, truth.counts, trainable=trainable, input_grad=i == 0))
    return tuple(phases)


def _batch_norm(training: bool) -> Builder:
    def build(gen: torch.Generator) -> GroundTruthCase:
        module = nn.BatchNorm2d(3).double().train(training)
        with torch.no_grad():
            module.weight.uniform_(0.5, 1.5, generator=gen)
            module.bias.normal_(generator=gen)
            module.running_mean.normal_(generator=gen)
            module.running_var.uniform_(0.5, 2.0, generator=gen)
        x = torch.randn(2, 3, 5, 4, generator=gen, dtype=torch.float64)
        w, b = _np(module.weight), _np(module.bias)
        rm, rv = _np(module.running_mean).copy(), _np(module.running_var).copy()
        y, (seed,), grads = _autograd(module, (x,), gen)
        with torch.no_grad():  # the training run moved the running statistics: put back
            module.running_mean.copy_(torch.from_numpy(rm))
            module.running_var.copy_(torch.from_numpy(rv))
        gy = _np(seed)
        forward = L.batch_norm_forward(_np(x), w, b, rm, rv, training=training)
        if training:
            mean, var = _np(x).mean(axis=(0, 2, 3)), _np(x).var(axis=(0, 2, 3))
            stats = {"invstd": 1.0 / np.sqrt(var + module.eps)}
        else:
            mean, stats = rm, {"running_var": rv}
        key = f"batch_norm_{'train' if training else 'eval'}"
        phases = _norm_phases(key, forward, y, lambda mask: L.batch_norm_backward(
            gy, _np(x), w, mean, output_mask=mask, **stats), grads)
        return GroundTruthCase(key=key, label=f"BatchNorm2d, {'train' if training else 'eval'}",
                               family="normalization",
                               ops="native_batch_norm (+ backward)", module=module,
                               inputs=(x,), phases=phases)
    return build


def _layer_norm(gen: torch.Generator) -> GroundTruthCase:
    module = nn.LayerNorm((5, 4)).double()
    with torch.no_grad():
        module.weight.uniform_(0.5, 1.5, generator=gen)
        module.bias.normal_(generator=gen)
    x = torch.randn(2, 3, 5, 4, generator=gen, dtype=torch.float64)
    y, (seed,), grads = _autograd(module, (x,), gen)
    w = _np(module.weight)
    forward = L.layer_norm_forward(_np(x), 2, w, _np(module.bias), eps=module.eps)
    _, mean, rstd = forward.value
    phases = _norm_phases("layer_norm", forward, y, lambda mask: L.layer_norm_backward(
        _np(seed), _np(x), 2, mean, rstd, w, output_mask=mask), grads)
    return GroundTruthCase(key="layer_norm", label="LayerNorm (5, 4)", family="normalization",
                           ops="native_layer_norm (+ backward)", module=module, inputs=(x,),
                           phases=phases)


# -- recurrent layers ----------------------------------------------------------------------------

def _lstm(gen: torch.Generator) -> GroundTruthCase:
    """A 2-layer LSTM in float32 (the dtype oneDNN's ``mkldnn_rnn_layer`` takes on the CPU)."""
    module = nn.LSTM(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3, generator=gen)
    (out, _), (g_out, g_h, g_c), grads = _autograd(module, (x,), gen)
    zeros = np.zeros((2, 4))
    layers = [R.RecurrentWeights.of(module, layer) for layer in range(2)]
    first = R.lstm_layer_forward(_np(x), layers[0], zeros, zeros)
    second = R.lstm_layer_forward(first.value[0], layers[1], zeros, zeros)
    agree("lstm forward", second.value[0], out, atol=1e-5)
    top = R.lstm_layer_backward(first.value[0], layers[1], zeros, zeros, _np(g_out),
                                _np(g_h)[1], _np(g_c)[1])
    bottom = R.lstm_layer_backward(_np(x), layers[0], zeros, zeros, top.value[0],
                                   _np(g_h)[0], _np(g_c)[0])
    agree("lstm input grad", bottom.value[0], grads[0], atol=1e-5)
    for layer, truth in enumerate((bottom, top)):  # parameters: w_ih, w_hh, b_ih, b_hh
        for j in range(4):
            agree(f"lstm layer {layer} parameter {j} grad", truth.value[1 + j],
                  grads[1 + 4 * layer + j], atol=1e-5)
    return GroundTruthCase(key="lstm", label="LSTM 3→4, 2 layers", family="recurrent",
                           ops="mkldnn_rnn_layer (+ backward)", module=module, inputs=(x,),
                           phases=(_phase("forward", first.counts + second.counts),
                                   _phase("all grads", top.counts + bottom.counts,
                                          trainable=("*",))))


def _recurrent(key: str, label: str, factory: Callable[[], nn.Module],
               layer: Callable[..., G.Computed]) -> Builder:
    """A one-layer GRU or tanh RNN (PyTorch runs them as generic ops on the CPU): forward."""
    def build(gen: torch.Generator) -> GroundTruthCase:
        module = factory().double()
        x = torch.randn(5, 2, 3, generator=gen, dtype=torch.float64)
        out, _ = module(x)
        truth = layer(_np(x), R.RecurrentWeights.of(module), np.zeros((2, module.hidden_size)))
        agree(f"{key} forward", truth.value[0], out)
        return GroundTruthCase(key=key, label=label, family="recurrent",
                               ops="addmm + element-wise ops", module=module, inputs=(x,),
                               phases=(_phase("forward", truth.counts),))
    return build


def zoo_cases() -> dict[str, Builder]:
    """Every case of the zoo, by key, in table order (builders take a generator)."""
    cases: dict[str, Builder] = {key: _conv(key) for key in CONVOLUTIONS}
    cases["linear"] = _linear
    products = {"mm": (torch.mm, ((4, 5), (5, 3)), False),
                "addmm": (torch.addmm, ((3,), (4, 5), (5, 3)), True),
                "bmm": (torch.bmm, ((2, 4, 5), (2, 5, 3)), False),
                "baddbmm": (torch.baddbmm, ((2, 4, 3), (2, 4, 5), (2, 5, 3)), True)}
    for key, (fn, shapes, biased) in products.items():
        cases[key] = _product(key, fn, shapes, biased)
    for fused in (True, False):
        for causal in (False, True):
            key = f"attention_{'fused' if fused else 'unfused'}{'_causal' if causal else ''}"
            cases[key] = _attention(fused, causal)
    cases["max_pool2d"] = _pool("max_pool2d", "MaxPool2d 3 s2 p1", nn.MaxPool2d(3, 2, 1),
                                (2, 3, 7, 6))
    cases["max_pool1d_dilated"] = _pool("max_pool1d_dilated", "MaxPool1d 3 s2 p1 d2",
                                        nn.MaxPool1d(3, 2, 1, dilation=2), (2, 3, 11))
    cases["avg_pool2d"] = _pool("avg_pool2d", "AvgPool2d 3 s2 p1", nn.AvgPool2d(3, 2, 1),
                                (2, 3, 7, 6))
    cases["batch_norm_train"] = _batch_norm(True)
    cases["batch_norm_eval"] = _batch_norm(False)
    cases["layer_norm"] = _layer_norm
    cases["lstm"] = _lstm
    cases["gru"] = _recurrent("gru", "GRU 3→4", lambda: nn.GRU(3, 4), R.gru_layer_forward)
    cases["rnn_tanh"] = _recurrent("rnn_tanh", "RNN (tanh) 3→4", lambda: nn.RNN(3, 4),
                                   R.rnn_tanh_layer_forward)
    return cases
