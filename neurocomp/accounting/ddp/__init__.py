"""PyTorch DDP: its bucketing and overlap, an α–β fit to measured all-reduces, the check.

``bucketing`` (buckets, overlap of the all-reduce with backward), ``contention`` (how the
all-reduce and the backward pass slow each other on shared cores), ``ddp_fit`` (the α–β line
fitted to a sweep, DDP's step predicted from it), ``ddp_check`` (the measurement on local
gloo or NCCL processes).
"""

from neurocomp.accounting.ddp.bucketing import (
    DDP_BUCKET_CAP_BYTES,
    DDP_FIRST_BUCKET_CAP_BYTES,
    GradientReady,
    OverlapSchedule,
    schedule_overlap,
)
from neurocomp.accounting.ddp.contention import Contention
from neurocomp.accounting.ddp.ddp_check import DDPCheckConfig, DDPMeasurement, run_ddp_check
from neurocomp.accounting.ddp.ddp_fit import LayerGradient, fit_alpha_beta, predict_ddp_step

__all__ = [
    "DDP_BUCKET_CAP_BYTES",
    "DDP_FIRST_BUCKET_CAP_BYTES",
    "Contention",
    "DDPCheckConfig",
    "DDPMeasurement",
    "GradientReady",
    "LayerGradient",
    "OverlapSchedule",
    "fit_alpha_beta",
    "predict_ddp_step",
    "run_ddp_check",
    "schedule_overlap",
]
