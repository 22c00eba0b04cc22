"""Models to plan for: per-layer costs of the reference convnets and TCNs, with their batches.

AlexNet's layer costs are written by hand from the paper (:data:`ALEXNET_2012_LAYERS`, the
one-tower view the parallel models have used since the accounting-II issue). The others
are counted by :func:`neurocomp.accounting.count` on the nets of ``neurocomp_models.convnets``
(one sample, forward and backward, so backward FLOPs are the measured ones), at the input
size each was trained on; counting takes seconds, so it happens on first use and is cached.

Batches per GPU: AlexNet 128 (Krizhevsky et al. 2012, §5 [S]); the CIFAR-10 net 128
(cuda-convnet's default mini-batch [R]); ResNet-18 32 (He et al. 2016 §3.4: mini-batch 256
[S], over 8 GPUs [R]); the TCNs 8 windows of 400 ms (``batch_size_per_epoch = [8]``,
``input_window_size = 400`` in Beniaguev et al.'s ``fit_CNN.py`` [S]).
"""

from __future__ import annotations

import functools

from neurocomp.accounting import LayerCost
from neurocomp.accounting.hardware import Catalogue
from neurocomp.accounting.parallel import Workload

__all__ = ["ALEXNET_2012_LAYERS", "WORKLOADS", "counted_layers", "workload"]

KRIZHEVSKY_2012 = ("Krizhevsky, Sutskever & Hinton (2012), ImageNet Classification with Deep "
                   "Convolutional Neural Networks, NeurIPS 25, §3.5, §5 and Fig. 2")
HE_2016 = "He, Zhang, Ren & Sun (2016), Deep Residual Learning for Image Recognition, CVPR"
BENIAGUEV = ("Beniaguev, Segev & London (2021), Neuron 109:2727; fit_CNN.py of "
             "github.com/SelfishGene/neuron_as_deep_net")
CUDA_CONVNET = "Krizhevsky (2011), cuda-convnet, layers-18pct.cfg"


def _conv(name: str, c_in: int, c_out: int, k: int, groups: int, out_px: int,
          in_elements: int) -> LayerCost:
    macs = out_px * out_px * c_out * k * k * c_in // groups
    return LayerCost(name=name, forward_flop_per_sample=2.0 * macs,
                     parameter_count=c_out * k * k * c_in // groups + c_out,
                     activation_elements_per_sample=out_px * out_px * c_out,
                     input_elements_per_sample=in_elements, kind="conv")


def _dense(name: str, n_in: int, n_out: int) -> LayerCost:
    return LayerCost(name=name, forward_flop_per_sample=2.0 * n_in * n_out,
                     parameter_count=n_in * n_out + n_out, activation_elements_per_sample=n_out,
                     input_elements_per_sample=n_in, kind="dense")


#: AlexNet (Krizhevsky et al. 2012) as one tower: 227 px input; conv2, conv4 and conv5 see
#: half their input channels (the two-GPU split, groups = 2); inputs after pooling. [C]:
#: 60.97 M parameters (the paper: "60 million") and 0.724 G multiply-adds per image.
ALEXNET_2012_LAYERS: tuple[LayerCost, ...] = (
    _conv("conv1", 3, 96, 11, 1, 55, 3 * 227 * 227),
    _conv("conv2", 96, 256, 5, 2, 27, 96 * 27 * 27),
    _conv("conv3", 256, 384, 3, 1, 13, 256 * 13 * 13),
    _conv("conv4", 384, 384, 3, 2, 13, 384 * 13 * 13),
    _conv("conv5", 384, 256, 3, 2, 13, 384 * 13 * 13),
    _dense("fc6", 256 * 6 * 6, 4096),
    _dense("fc7", 4096, 4096),
    _dense("fc8", 4096, 1000),
)

#: ResNet-18 counted per residual block (the stem, eight blocks, the classifier).
RESNET18_BLOCKS = ("stem", *(f"stages.{i}.{j}" for i in range(4) for j in range(2)), "fc")


@functools.cache
def counted_layers(name: str) -> tuple[LayerCost, ...]:
    """Layer costs of ``"cifar-net"``, ``"resnet18"``, ``"tcn-3x64x100"`` or
    ``"tcn-7x256x120"``, counted once per process."""
    import torch
    from neurocomp_models import convnets

    from neurocomp.accounting import count

    builders = {
        "cifar-net": (convnets.cifar_net, (1, 3, 32, 32), None),
        "resnet18": (convnets.resnet18, (1, 3, 224, 224), RESNET18_BLOCKS),
        "tcn-3x64x100": (lambda: convnets.beniaguev_tcn(convnets.BENIAGUEV_2021_TCN_3x64x100),
                         (1, 1278, 400), None),
        "tcn-7x256x120": (lambda: convnets.beniaguev_tcn(convnets.BENIAGUEV_2021_TCN_7x256x120),
                          (1, 1278, 400), None),
    }
    if name not in builders:
        raise ValueError(f"name must be one of {', '.join(map(repr, builders))}; got {name!r}")
    factory, shape, modules = builders[name]
    report = count(factory(), torch.zeros(shape))
    return report.layer_costs(modules=modules)


#: Every workload the planner knows, by name.
WORKLOADS: Catalogue[Workload] = Catalogue("model", (
    Workload(name="alexnet", aliases=("alexnet-2012",), batch_per_device=128,
             build=lambda: ALEXNET_2012_LAYERS, source=KRIZHEVSKY_2012,
             description="AlexNet (Krizhevsky et al. 2012), layer costs written by hand"),
    Workload(name="cifar-net", aliases=("cifar10", "cifar"), batch_per_device=128,
             build=lambda: counted_layers("cifar-net"), source=CUDA_CONVNET,
             description="cuda-convnet's CIFAR-10 net (18 % error), counted"),
    Workload(name="resnet18", aliases=("resnet-18",), batch_per_device=32,
             build=lambda: counted_layers("resnet18"), source=HE_2016,
             description="ResNet-18 at 224 px, counted per residual block"),
    Workload(name="tcn-3x64x100", aliases=("tcn",), batch_per_device=8,
             build=lambda: counted_layers("tcn-3x64x100"), source=BENIAGUEV,
             description="Beniaguev et al.'s TCN (3 layers × 64, T = 100 ms), counted on "
                         "400 ms windows"),
    Workload(name="tcn-7x256x120", batch_per_device=8,
             build=lambda: counted_layers("tcn-7x256x120"), source=BENIAGUEV,
             description="Beniaguev et al.'s large-first-layer TCN (7 × 256, T = 120 ms), "
                         "counted on 400 ms windows"),
))


def workload(name: str) -> Workload:
    """The workload called ``name`` (case and punctuation ignored; suggests close names)."""
    return WORKLOADS[name]
