"""This machine: measured rates, micro-benchmarks, the roofline, one-device step time.

``machine_rates`` (the rate tables), ``microbench`` (what measures them), ``roofline_model``,
``step_model`` (a training step priced op by op) and ``step_measure`` (real steps timed).
"""

from neurocomp.accounting.machine.machine_rates import MachineBenchmark, Probe, median_probe
from neurocomp.accounting.machine.microbench import benchmark_machine, probe, torch_threads
from neurocomp.accounting.machine.roofline_model import roofline, roofline_time_s
from neurocomp.accounting.machine.step_measure import (
    StepMeasurement,
    conv_dims,
    count_optimizer_step,
    measure_training_step,
)
from neurocomp.accounting.machine.step_model import NOT_MODELLED, StepPrediction, predict_step

__all__ = [
    "NOT_MODELLED",
    "MachineBenchmark",
    "Probe",
    "StepMeasurement",
    "StepPrediction",
    "benchmark_machine",
    "conv_dims",
    "count_optimizer_step",
    "measure_training_step",
    "median_probe",
    "predict_step",
    "probe",
    "roofline",
    "roofline_time_s",
    "torch_threads",
]
