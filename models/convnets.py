"""Reference convnets with cited layer shapes: AlexNet (2012), a CIFAR-10 net, ResNet-18, TCNs.

Networks after the post (ResNet-50, VGG-11, MobileNetV2, an LSTM, a transformer block) are in
:mod:`neurocomp_models.modern_nets`.

Written here from the papers (torchvision is not a dependency). Every factory takes a
``seed`` and draws the weights on the CPU under that seed without touching the global
generator, then moves the model to ``device``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neurocomp.checks import check_instance, check_int
from neurocomp.layers import TCN, TCNConfig

__all__ = [
    "ALEXNET_TWO_GPU_SPLIT",
    "AlexNet2012",
    "BENIAGUEV_2021_TCN_3x64x100",
    "BENIAGUEV_2021_TCN_7x256x120",
    "BasicBlock",
    "CifarNet18pct",
    "GroupedLRN",
    "ResNet18",
    "WithinChannelLRN",
    "alexnet_2012",
    "beniaguev_tcn",
    "cifar_net",
    "resnet18",
]

KRIZHEVSKY_2012 = ("Krizhevsky, Sutskever & Hinton (2012), ImageNet Classification with Deep "
                   "Convolutional Neural Networks, NeurIPS 25, pp. 1097-1105, §3.3-3.5, Fig. 2")
HE_2016 = ("He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition, "
           "CVPR, pp. 770-778, Table 1 and §3.3-3.4 (arXiv:1512.03385)")
CUDA_CONVNET_18PCT = ("Krizhevsky (2011), cuda-convnet, example-layers/layers-18pct.cfg "
                      "(code.google.com/p/cuda-convnet), as reproduced by Caffe's "
                      "examples/cifar10/cifar10_full_train_test.prototxt")
BENIAGUEV_2021 = ("Beniaguev, Segev & London (2021), Single cortical neurons as deep artificial "
                  "neural networks, Neuron 109:2727; fit_CNN.py in "
                  "github.com/SelfishGene/neuron_as_deep_net")


def _seeded(build: Callable[[], nn.Module], seed: int,
            device: torch.device | str | None) -> nn.Module:
    check_int("seed", seed, low=0, high=2**64 - 1)  # torch's seed range, no negatives
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build()
    return model if device is None else model.to(device)


# -- AlexNet ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class TwoGpuSplit:
    """How Krizhevsky et al. (2012) spread AlexNet over two GTX 580 GPUs (3 GB each)."""

    per_gpu_channels: dict[str, int]
    within_gpu_layers: tuple[str, ...]
    cross_gpu_layers: tuple[str, ...]
    note: str
    source: str = KRIZHEVSKY_2012


#: The split, read from §3.2 and Fig. 2 of the paper.
ALEXNET_TWO_GPU_SPLIT = TwoGpuSplit(
    per_gpu_channels={"conv1": 48, "conv2": 128, "conv3": 192, "conv4": 192, "conv5": 128,
                      "fc6": 2048, "fc7": 2048},
    within_gpu_layers=("conv2", "conv4", "conv5"),
    cross_gpu_layers=("conv3", "fc6", "fc7", "fc8"),
    note="Each GPU holds half of every layer's kernels or neurons. conv2, conv4 and conv5 see "
         "only the maps on their own GPU (kernels 5x5x48, 3x3x192, 3x3x192), here groups=2; "
         "conv3 (3x3x256) and the fully connected layers read both GPUs' outputs, the only "
         "places where the GPUs communicate. conv1 runs on both GPUs over the whole image "
         "(48 kernels each = one 96-kernel layer). Response normalisation acts within each "
         "GPU's maps (GroupedLRN).",
)


class GroupedLRN(nn.Module):
    """Cross-channel local response normalisation, applied to each channel group separately.

    Krizhevsky et al. (2012) §3.3: :math:`b^i = a^i / (k + \\alpha \\sum_j (a^j)^2)^\\beta`,
    the sum over the :math:`n` maps :math:`j = i - \\lfloor n/2 \\rfloor, \\dots,
    i + \\lfloor (n-1)/2 \\rfloor` that exist, with :math:`k=2, n=5, \\alpha=10^{-4},
    \\beta=0.75` (``alpha`` here is the paper's; ``torch.nn.LocalResponseNorm`` would need
    ``n·α``). With ``groups=2`` the sum never crosses the two GPUs' maps. The window sum is
    one zero-padded 1-D average pooling along the channels of a channels-last view (a
    channels-last input stays channels-last).
    """

    def __init__(self, *, groups: int = 2, size: int = 5, alpha: float = 1e-4,
                 beta: float = 0.75, k: float = 2.0) -> None:
        super().__init__()
        self.groups, self.size, self.alpha, self.beta, self.k = groups, size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        xs = x.permute(0, 2, 3, 1).reshape(-1, 1, c // self.groups)  # (pixel·group, 1, maps)
        if self.size % 2:
            window = F.avg_pool1d(xs * xs, self.size, stride=1, padding=self.size // 2)
        else:  # even n: one more map before than after, as LocalResponseNorm
            window = F.avg_pool1d(F.pad(xs * xs, (self.size // 2, self.size // 2 - 1)),
                                  self.size, stride=1)
        y = xs * (self.k + self.alpha * self.size * window).pow(-self.beta)
        return y.reshape(n, h, w, c).permute(0, 3, 1, 2)


class AlexNet2012(nn.Module):
    """AlexNet as in Krizhevsky et al. (2012): 5 conv + 3 fc layers, ~61 M parameters.

    Input ``(batch, 3, 227, 227)`` — the paper says 224, but 11×11 kernels with stride 4 give
    its 55×55 maps only from 227 (a known erratum). With ``adaptive=True`` an adaptive
    max-pool brings the last maps to the 6×6 the fully connected layers expect, so smaller
    inputs (≥ 67 px) run too (the identity at 227 px). Paddings (2 for conv2, 1 for conv3-5)
    are not in the paper; they are the ones that reproduce its map sizes (27, 13, 13, 13) and
    Caffe's reference model.
    ReLU after every layer, overlapping max-pooling (z=3, s=2), response normalisation after
    conv1 and conv2, dropout 0.5 in fc6 and fc7. ``split=True`` keeps the two-GPU
    connectivity (:data:`ALEXNET_TWO_GPU_SPLIT`) as ``groups=2``; ``split=False`` is the
    one-GPU variant with full connectivity (more parameters).
    """

    split_description = ALEXNET_TWO_GPU_SPLIT

    def __init__(self, num_classes: int = 1000, *, split: bool = True,
                 adaptive: bool = False) -> None:
        super().__init__()
        g = 2 if split else 1
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), GroupedLRN(groups=g),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(96, 256, 5, padding=2, groups=g), nn.ReLU(inplace=True),
            GroupedLRN(groups=g), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1, groups=g), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1, groups=g), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
        )
        self.pool = nn.AdaptiveMaxPool2d(6) if adaptive else nn.Identity()
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """§5: weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden fc layers,
        0 elsewhere."""
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        linears = [m for m in self.classifier if isinstance(m, nn.Linear)]
        ones = {id(convs[1]), id(convs[3]), id(convs[4]), id(linears[0]), id(linears[1])}
        for m in (*convs, *linears):
            nn.init.normal_(m.weight, mean=0.0, std=0.01)
            nn.init.constant_(m.bias, 1.0 if id(m) in ones else 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def alexnet_2012(num_classes: int = 1000, *, split: bool = True, adaptive: bool = False,
                 seed: int = 0, device: torch.device | str | None = None) -> AlexNet2012:
    """:class:`AlexNet2012`, weights drawn with ``seed``."""
    check_int("num_classes", num_classes, low=1)
    return _seeded(lambda: AlexNet2012(num_classes, split=split, adaptive=adaptive), seed,
                   device)  # type: ignore[return-value]


# -- CIFAR-10 net ----------------------------------------------------------------------------

class WithinChannelLRN(nn.Module):
    """Caffe's ``WITHIN_CHANNEL`` response normalisation: :math:`x\\,(1 + \\alpha\\,
    \\overline{x^2})^{-\\beta}`, the mean of squares over an n×n neighbourhood (zero padded,
    padding counted), as in cuda-convnet's ``rnorm`` layers."""

    def __init__(self, *, size: int = 3, alpha: float = 5e-5, beta: float = 0.75) -> None:
        super().__init__()
        self.size, self.alpha, self.beta = size, alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean_sq = F.avg_pool2d(x * x, self.size, stride=1, padding=self.size // 2,
                               count_include_pad=True)
        return x * (1.0 + self.alpha * mean_sq).pow(-self.beta)


class CifarNet18pct(nn.Module):
    """Krizhevsky's cuda-convnet CIFAR-10 net ("18 % error", ``layers-18pct.cfg``).

    ``(batch, 3, 32, 32)`` → 10 logits; ~90 k parameters, ~25 MFLOP per image forward.
    conv 32@5×5 → max-pool 3/2 → ReLU → LRN → conv 32@5×5 → ReLU → avg-pool 3/2 → LRN →
    conv 64@5×5 → ReLU → avg-pool 3/2 → fc 10 (all convs padding 2; pooling rounds up, as
    in cuda-convnet and Caffe: 32 → 16 → 8 → 4).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.ReLU(),
            WithinChannelLRN(),
            nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
            WithinChannelLRN(),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
        )
        self.classifier = nn.Linear(64 * 4 * 4, num_classes)
        for std, m in zip((1e-4, 1e-2, 1e-2, 1e-2),
                          (*[m for m in self.features if isinstance(m, nn.Conv2d)],
                           self.classifier), strict=True):
            nn.init.normal_(m.weight, std=std)  # layer-params-18pct / Caffe fillers
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def cifar_net(num_classes: int = 10, *, seed: int = 0,
              device: torch.device | str | None = None) -> CifarNet18pct:
    """:class:`CifarNet18pct`, weights drawn with ``seed``."""
    check_int("num_classes", num_classes, low=1)
    return _seeded(lambda: CifarNet18pct(num_classes), seed, device)  # type: ignore[return-value]


# -- ResNet-18 -------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and an identity (or 1×1 projection) shortcut.

    He et al. (2016) §3.3: projection shortcuts (option B) where the shape changes, batch
    normalisation after each convolution and before the activation (§3.4).
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016, Table 1, "18-layer" column): 11.69 M parameters.

    conv1 7×7, 64, stride 2 → 3×3 max-pool, stride 2 → conv2_x … conv5_x, two
    :class:`BasicBlock` each with 64, 128, 256, 512 channels (stride 2 at the start of
    conv3_x–conv5_x) → global average pool → fc. Table 1 gives 1.8×10⁹ multiply-adds at
    224×224 (3.6 GFLOP at 2 FLOPs per multiply-add).
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, channels = [], 64
        for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(BasicBlock(channels, width, stride=stride),
                                        BasicBlock(width, width)))
            channels = width
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # He et al. (2015) initialisation, as the paper
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def resnet18(num_classes: int = 1000, *, seed: int = 0,
             device: torch.device | str | None = None) -> ResNet18:
    """:class:`ResNet18`, weights drawn with ``seed``."""
    check_int("num_classes", num_classes, low=1)
    return _seeded(lambda: ResNet18(num_classes), seed, device)  # type: ignore[return-value]


# -- temporal convolutional nets (Beniaguev et al. 2021) -------------------------------------

#: The configuration active in ``fit_CNN.py``: 3 layers, kernels 54, 24, 24 ms, 64 channels
#: (receptive field T = 100 ms), on 1278 inputs (639 segments × excitatory/inhibitory).
BENIAGUEV_2021_TCN_3x64x100 = TCNConfig(
    in_channels=1278, depth=3, width=64, kernel_sizes=(54, 24, 24), n_dendritic_outputs=20,
    source=BENIAGUEV_2021 + " (active configuration; 20 dendritic PCA outputs, NMDA)")

#: "TCN with large first layer filter (for presentation)" in ``fit_CNN.py``: 7 layers,
#: kernels 54 then 6 × 12 ms, 256 channels (T = 120 ms). The kernel list of the paper's best
#: NMDA model "7×128×153" is not in the code (NOT FOUND), so it is not given here.
BENIAGUEV_2021_TCN_7x256x120 = TCNConfig(
    in_channels=1278, depth=7, width=256, kernel_sizes=(54, 12, 12, 12, 12, 12, 12),
    n_dendritic_outputs=20, source=BENIAGUEV_2021 + " (large-first-layer configuration)")


def beniaguev_tcn(config: TCNConfig = BENIAGUEV_2021_TCN_3x64x100, *, seed: int = 0,
                  device: torch.device | str | None = None) -> TCN:
    """A :class:`~neurocomp.layers.TCN` of the given configuration, weights drawn with
    ``seed``."""
    check_instance("config", config, TCNConfig)
    return _seeded(lambda: TCN(config), seed, device)  # type: ignore[return-value]
