"""Networks after the post, with cited shapes: ResNet-50, VGG-11, MobileNetV2, an LSTM, a
transformer block.

They are the held-out workloads of ``step-time-validation``: the step-time model was shaped
on the nets of :mod:`neurocomp_models.convnets` (AlexNet, the CIFAR-10 net, ResNet-18, the TCNs) and
never on these, so its errors on them are predictions. Written here from the papers
(torchvision is not a dependency); every factory takes a ``seed`` and draws the weights on the
CPU under it without touching the global generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from neurocomp_models.convnets import _seeded  # the weights drawn under a seed, as there
from torch import nn

from neurocomp.checks import check_int

__all__ = [
    "VGG11",
    "Bottleneck",
    "InvertedResidual",
    "LSTMRegressor",
    "MobileNetV2",
    "ResNet50",
    "TransformerBlock",
    "lstm_regressor",
    "mobilenet_v2",
    "resnet50",
    "transformer_block",
    "vgg11",
]

HE_2016 = ("He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition, "
           "CVPR, Table 1 (50-layer) and §4.1 bottleneck (arXiv:1512.03385)")
SIMONYAN_2015 = ("Simonyan & Zisserman (2015), Very Deep Convolutional Networks for "
                 "Large-Scale Image Recognition, ICLR, Table 1 column A (arXiv:1409.1556)")
SANDLER_2018 = ("Sandler, Howard, Zhu, Zhmoginov & Chen (2018), MobileNetV2: Inverted "
                "Residuals and Linear Bottlenecks, CVPR, Table 2 (arXiv:1801.04381)")
HOCHREITER_1997 = ("Hochreiter & Schmidhuber (1997), Long Short-Term Memory, Neural "
                   "Computation 9:1735; the gate layout of torch.nn.LSTM")
VASWANI_2017 = ("Vaswani et al. (2017), Attention Is All You Need, NeurIPS, §3.1-3.3 "
                "(pre-norm placement as in Xiong et al. 2020)")


# -- ResNet-50 -------------------------------------------------------------------------------

class Bottleneck(nn.Module):
    """1×1 reduce, 3×3, 1×1 expand (×4), batch norm after each, projection shortcut where the
    shape changes (He et al. 2016 §4.1; stride on the 3×3 as in most implementations)."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, *, stride: int = 1) -> None:
        super().__init__()
        out = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


class ResNet50(nn.Module):
    """ResNet-50 (He et al. 2016, Table 1, "50-layer"): 25.6 M parameters at 1000 classes,
    3.8×10⁹ multiply-adds at 224×224 (the table's "FLOPs" row counts multiply-adds).

    Stages of 3, 4, 6, 3 :class:`Bottleneck` blocks of widths 64, 128, 256, 512.
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, channels = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = []
            for b in range(blocks):
                layers.append(Bottleneck(channels, width, stride=stride if b == 0 else 1))
                channels = width * Bottleneck.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def resnet50(num_classes: int = 1000, *, seed: int = 0) -> ResNet50:
    """:class:`ResNet50`, weights drawn with ``seed``."""
    check_int("num_classes", num_classes, low=1)
    return _seeded(lambda: ResNet50(num_classes), seed, None)  # type: ignore[return-value]


# -- VGG-11 ----------------------------------------------------------------------------------

#: Simonyan & Zisserman (2015) Table 1, configuration A: output channels, "M" = 2×2 max-pool.
VGG11_LAYERS = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG11(nn.Module):
    """VGG-11 (configuration A): eight 3×3 convolutions, five max-pools, three dense layers
    (4096, 4096, classes); 132.9 M parameters at 224 px and 1000 classes. ``width`` scales
    every channel count and the dense width (1.0 = the paper's)."""

    def __init__(self, num_classes: int = 1000, *, px: int = 224, width: float = 1.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for spec in VGG11_LAYERS:
            if spec == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                out = max(1, round(int(spec) * width))
                layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(inplace=True)]
                channels = out
        self.features = nn.Sequential(*layers)
        side = px // 32
        dense = max(1, round(4096 * width))
        self.classifier = nn.Sequential(
            nn.Linear(channels * side * side, dense), nn.ReLU(inplace=True),
            nn.Linear(dense, dense), nn.ReLU(inplace=True), nn.Linear(dense, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def vgg11(num_classes: int = 1000, *, px: int = 224, width: float = 1.0,
          seed: int = 0) -> VGG11:
    """:class:`VGG11` for ``px``-pixel inputs (a multiple of 32), weights drawn with
    ``seed``."""
    check_int("num_classes", num_classes, low=1)
    check_int("px", px, low=32)
    if px % 32:
        raise ValueError(f"px must be a multiple of 32 (five 2×2 max-pools); got {px}")
    if not 0 < width <= 4:
        raise ValueError(f"width must be in (0, 4]; got {width}")
    return _seeded(lambda: VGG11(num_classes, px=px, width=width), seed, None)  # type: ignore


# -- MobileNetV2 -----------------------------------------------------------------------------

#: Sandler et al. (2018) Table 2: expansion t, output channels c, repeats n, first stride s.
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    """1×1 expansion (×t, ReLU6), 3×3 depthwise (ReLU6), 1×1 linear projection; a residual
    where stride is 1 and the channels match (Sandler et al. 2018, Table 1)."""

    def __init__(self, in_channels: int, out_channels: int, *, expansion: int,
                 stride: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
                       nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden,
                             bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
                   nn.Conv2d(hidden, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 at width multiplier 1.0 (Sandler et al. 2018, Table 2): 3.5 M parameters,
    300 M multiply-adds at 224 px — mostly depthwise and 1×1 convolutions."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False),
                                   nn.BatchNorm2d(32), nn.ReLU6(inplace=True)]
        channels = 32
        for t, c, n, s in MOBILENET_V2_STAGES:
            for i in range(n):
                layers.append(InvertedResidual(channels, c, expansion=t,
                                               stride=s if i == 0 else 1))
                channels = c
        layers += [nn.Conv2d(channels, 1280, 1, bias=False), nn.BatchNorm2d(1280),
                   nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def mobilenet_v2(num_classes: int = 1000, *, seed: int = 0) -> MobileNetV2:
    """:class:`MobileNetV2`, weights drawn with ``seed``."""
    check_int("num_classes", num_classes, low=1)
    return _seeded(lambda: MobileNetV2(num_classes), seed, None)  # type: ignore[return-value]


# -- sequence models -------------------------------------------------------------------------

class LSTMRegressor(nn.Module):
    """A stacked LSTM (Hochreiter & Schmidhuber 1997) reading ``(batch, time, features)`` and
    a linear read-out at every time step."""

    def __init__(self, features: int = 64, hidden: int = 256, layers: int = 2,
                 outputs: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=layers, batch_first=True)
        self.readout = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.lstm(x)[0])


def lstm_regressor(features: int = 64, hidden: int = 256, layers: int = 2, *,
                   seed: int = 0) -> LSTMRegressor:
    """:class:`LSTMRegressor`, weights drawn with ``seed``."""
    for name, v in (("features", features), ("hidden", hidden), ("layers", layers)):
        check_int(name, v, low=1)
    return _seeded(lambda: LSTMRegressor(features, hidden, layers), seed, None)  # type: ignore


class TransformerBlock(nn.Module):
    """One pre-norm transformer encoder block (Vaswani et al. 2017 §3): multi-head
    self-attention and a 4× GELU feed-forward, each inside a residual; a linear read-out."""

    def __init__(self, d_model: int = 256, heads: int = 4, *, causal: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                nn.Linear(4 * d_model, d_model))
        self.readout = nn.Linear(d_model, 1)
        self.causal = causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        mask = (nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
                if self.causal else None)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        x = x + self.ff(self.norm2(x))
        return self.readout(x)


def transformer_block(d_model: int = 256, heads: int = 4, *, causal: bool = True,
                      seed: int = 0) -> TransformerBlock:
    """:class:`TransformerBlock`, weights drawn with ``seed``."""
    check_int("d_model", d_model, low=1)
    check_int("heads", heads, low=1)
    if d_model % heads:
        raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
    return _seeded(lambda: TransformerBlock(d_model, heads, causal=causal), seed, None)  # type: ignore
