"""Bad inputs get clear errors (issue 13): properties over the entry points' numeric
arguments, and a representative subset of ``benchmarks/bad_inputs.py`` run in-process.

Property: for each argument below, any value outside its documented range (below, above,
NaN, ±inf, a bool, a string, None; for integers also a float) raises ``ValueError`` or
``TypeError`` whose message contains the argument's name, and any value inside constructs
without error. Ranges are the documented ones (docstrings, ``system_files`` schema).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def _suite() -> Any:
    """``benchmarks/bad_inputs.py`` as a module (it only defines its table on import)."""
    name = "neurocomp_bad_inputs_suite"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "bad_inputs.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# -- the entry points and their ranges ---------------------------------------------------------

@dataclass(frozen=True)
class Arg:
    """``build(**{name: value})`` with ``value`` in ``[low, high]`` (ints if ``integer``)."""

    id: str
    name: str
    build: Callable[[Any], Any]
    low: float | None
    high: float | None
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False
    #: inside values are drawn up to this (keeps the valid calls small and fast)
    inside_cap: float = 1e6
    #: message name when it differs from the argument (a JSON key, a CLI option)
    shown: str = ""
    #: None is a valid value (JSON null takes the default in a system file)
    none_ok: bool = False


def _cable(v):
    from neurocomp.biophysics import CableParameters
    return CableParameters(diameter_um=v, Rm_ohm_cm2=2e4, Ri_ohm_cm=100.0)


def _release(v):
    from neurocomp.biophysics import ReleaseParameters
    return ReleaseParameters(U=v)


def _clamp(v):
    from neurocomp.biophysics import CurrentClamp
    return CurrentClamp(index=0, amplitude_nA=0.1, start_ms=1.0, duration_ms=v)


def _receptor(v):
    from neurocomp.biophysics import ReceptorKinetics
    return ReceptorKinetics(name="nmda", tau_rise_ms=2.0, tau_decay_ms=50.0, reversal_mV=0.0,
                            mg_block=True, mg_mM=v)


def _trains(v):
    from neurocomp.biophysics import SpikeTrains
    return SpikeTrains(indices=[0], times_ms=[1.0], n_sources=v, duration_ms=10.0)


def _causal_conv(v):
    from neurocomp.layers import CausalConv1d
    return CausalConv1d(2, 2, v)


def _fit_lr(v):
    from neurocomp.layers import FitConfig
    return FitConfig(learning_rate=v)


def _fit_batch(v):
    from neurocomp.layers import FitConfig
    return FitConfig(batch_size=v)


def _pool(v):
    from neurocomp.layers import AmplifyingPool
    return AmplifyingPool(3, amplification=v)


def _gaussian(v):
    from neurocomp.mapping import gaussian_kernel
    return gaussian_kernel(v)


def _stride(v):
    from neurocomp.mapping import conv_output_size
    return conv_output_size(32, 3, stride=v)


def _spec(v):
    from neurocomp.mapping import GenerationSpec
    return GenerationSpec(condition="nmda", n_train=v)


def _device(v):
    from neurocomp.accounting.hardware import Device
    return Device(peak_flop_per_s=1e12, efficiency=v)


def _latency(v):
    from neurocomp.accounting.network import AlphaBeta
    return AlphaBeta(bandwidth_bytes_per_s=1e10, latency_s=v)


def _staging(v):
    from neurocomp.accounting.systems import HostStaging
    return HostStaging(chunk_bytes=v, copy_overhead_s=5e-6)


def _fabric(v):
    from neurocomp.accounting.systems import Fabric
    return Fabric(oversubscription=v)


def _doubling(v):
    from neurocomp.accounting.forecast import year_reached
    return year_reached(start_year=2020.0, start_flop_per_s=1e15, target_flop_per_s=1e18,
                        doubling_period_y=v)


def _system_doc(**change: Any) -> dict[str, Any]:
    doc = {"name": "c", "nodes": 2, "fabric": {"kind": "single_switch"},
           "node": {"name": "box", "gpu": {"peak_flop_per_s": 1e13}, "gpus": 4,
                    "pcie": {"bandwidth_bytes_per_s": 1.2e10, "latency_s": 1e-6},
                    "cpu_cores_per_socket": 8, "cpu_pcie_lanes_per_socket": 128,
                    "nic": {"bandwidth_bytes_per_s": 4e9, "latency_s": 1e-6}, "nics": 1,
                    "staging": {"chunk_bytes": 262144, "copy_overhead_s": 5e-6}}}
    doc.update(change)
    return doc


def _file_nodes(v):
    from neurocomp.accounting.systems.system_files import system_from_dict
    return system_from_dict(_system_doc(nodes=v))


def _file_oversubscription(v):
    from neurocomp.accounting.systems.system_files import system_from_dict
    return system_from_dict(_system_doc(fabric={"kind": "single_switch",
                                                "oversubscription": v}))


ARGS = [
    Arg("CableParameters", "diameter_um", _cable, 0, 1000, low_inclusive=False),
    Arg("ReleaseParameters", "U", _release, 0, 1, low_inclusive=False),
    Arg("CurrentClamp", "duration_ms", _clamp, 0, None, low_inclusive=False),
    Arg("ReceptorKinetics", "mg_mM", _receptor, 0, 100),
    Arg("SpikeTrains", "n_sources", _trains, 1, None, integer=True, inside_cap=10**6),
    Arg("CausalConv1d", "kernel_size", _causal_conv, 1, None, integer=True, inside_cap=64),
    Arg("FitConfig", "learning_rate", _fit_lr, 0, None, low_inclusive=False),
    Arg("FitConfig", "batch_size", _fit_batch, 1, None, integer=True),
    Arg("AmplifyingPool", "amplification", _pool, 0, 1),
    Arg("gaussian_kernel", "sigma_px", _gaussian, 0, None, inside_cap=50.0),
    Arg("conv_output_size", "stride", _stride, 1, None, integer=True),
    Arg("GenerationSpec", "n_train", _spec, 0, 2**32 - 1, integer=True),
    Arg("Device", "efficiency", _device, 0, 1, low_inclusive=False),
    Arg("AlphaBeta", "latency_s", _latency, 0, None),
    Arg("HostStaging", "chunk_bytes", _staging, 0, 2**30, low_inclusive=False),
    Arg("Fabric", "oversubscription", _fabric, 1, None),
    Arg("year_reached", "doubling_period_y", _doubling, 0, None, low_inclusive=False,
        inside_cap=100.0),
    Arg("system file", "nodes", _file_nodes, 1, 2**24, integer=True, none_ok=True),
    Arg("system file", "oversubscription", _file_oversubscription, 1, None, none_ok=True),
]


# -- strategies --------------------------------------------------------------------------------

def _inside(arg: Arg) -> st.SearchStrategy:
    high = arg.inside_cap if arg.high is None else min(arg.high, arg.inside_cap)
    if arg.integer:
        low = int(arg.low) + (0 if arg.low_inclusive else 1)
        return st.integers(low, int(high) - (0 if arg.high_inclusive or arg.high is None
                                             else 1))
    return st.floats(arg.low, high, exclude_min=not arg.low_inclusive,
                     exclude_max=arg.high is not None and not arg.high_inclusive,
                     allow_nan=False, allow_infinity=False)


def _outside(arg: Arg) -> st.SearchStrategy:
    options = [st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.booleans(),
               st.text(max_size=5)] + ([] if arg.none_ok else [st.none()])
    if arg.integer:
        options.append(st.integers(max_value=int(arg.low) - 1))
        if arg.high is not None:
            options.append(st.integers(min_value=int(arg.high) + 1))
        options.append(st.floats(allow_nan=False, allow_infinity=False)
                       .filter(lambda x: x != int(x)))  # a fraction where an int is meant
    else:
        if arg.low is not None:
            options.append(st.floats(max_value=arg.low, exclude_max=arg.low_inclusive,
                                     allow_nan=False, allow_infinity=False))
        if arg.high is not None:
            options.append(st.floats(min_value=arg.high, exclude_min=arg.high_inclusive,
                                     allow_nan=False, allow_infinity=False))
    return st.one_of(options)


@pytest.mark.parametrize("arg", ARGS, ids=[f"{a.id}.{a.name}" for a in ARGS])
def test_a_value_outside_the_range_is_refused_naming_the_argument(arg: Arg) -> None:
    @settings(max_examples=25, deadline=None)
    @given(value=_outside(arg))
    def check(value: Any) -> None:
        with pytest.raises((ValueError, TypeError)) as info:
            arg.build(value)
        assert (arg.shown or arg.name) in str(info.value), str(info.value)

    check()


@pytest.mark.parametrize("arg", ARGS, ids=[f"{a.id}.{a.name}" for a in ARGS])
def test_a_value_inside_the_range_is_accepted(arg: Arg) -> None:
    @settings(max_examples=25, deadline=None)
    @given(value=_inside(arg))
    def check(value: Any) -> None:
        arg.build(value)

    check()


# -- the CLI's numeric options -------------------------------------------------------------------

CLI_OPTIONS = [("--seed", 0, 2**32 - 1), ("--jobs", 1, None)]


def _parse(option: str, text: str) -> Any:
    """``neurocomp run forecast --option=TEXT`` parsed (one token: argparse would read a
    separate ``-1e+16`` as an option, not as the value)."""
    from neurocomp.cli import build_parser
    return build_parser().parse_args(["run", "forecast", f"{option}={text}"])


@pytest.mark.parametrize(("option", "low", "high"), CLI_OPTIONS, ids=[o for o, *_ in CLI_OPTIONS])
def test_a_cli_option_outside_its_range_exits_2_naming_it(option, low, high, capsys) -> None:
    bad = st.one_of(st.integers(max_value=low - 1).map(str),
                    st.integers(min_value=high + 1).map(str) if high is not None else st.nothing(),
                    st.floats(allow_nan=True).map(repr),
                    st.text(max_size=6).filter(lambda t: not t.strip().lstrip("+-").isdigit()))

    @settings(max_examples=25, deadline=None)
    @given(text=bad)
    def check(text: str) -> None:
        with pytest.raises(SystemExit) as info:
            _parse(option, text)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert option in err and "must be an integer in" in err, err

    check()


@pytest.mark.parametrize(("option", "low", "high"), CLI_OPTIONS, ids=[o for o, *_ in CLI_OPTIONS])
def test_a_cli_option_inside_its_range_is_parsed(option, low, high) -> None:
    @settings(max_examples=25, deadline=None)
    @given(value=st.integers(low, high if high is not None else 10**6))
    def check(value: int) -> None:
        args = _parse(option, str(value))
        assert getattr(args, option.lstrip("-")) == value

    check()


# -- a representative subset of the suite, run in-process ----------------------------------------

#: One or two cases of each pillar and kind, weighted towards those that were unclear,
#: crashed, hung or were silently accepted before issue 13's fixes.
SUBSET = (
    "biophysics.CableParameters.diameter_um=-1.0",
    "biophysics.ReleaseParameters.U=1.5",
    "biophysics.Section.diameters_um=(1.0, 1.0)",
    "biophysics.Morphology.sections=()",
    "biophysics.SpikeTrains.indices=[0.5, 1.0]",
    "biophysics.SpikeTrains.indices=[True, False]",
    "biophysics.Stages.nmda='yes'",
    "biophysics.NeuronModel.morphology='ball-and-stick'",
    "biophysics.symmetric_tree.levels=60",
    "biophysics.cable.length_um=-100.0",
    "biophysics.read_swc.text=''",
    "biophysics.finite_cable_steady_state_mV.current_nA=nan",
    "biophysics.psp_peak_time_ms.tau_rise_ms=-0.5",
    "biophysics.run_sweep.store=file",
    "layers.CausalConv1d.x=float32[4, 2, 0]",
    "layers.CausalConv1d.dtype='float32'",
    "layers.functional.causal_conv1d.x=int32",
    "layers.TransmitterDense.dim='time'",
    "layers.tcn_loss.voltage_weight=-1.0",
    "layers.choose_device.device='tpu'",
    "layers.fit.train_data=nan",
    "mapping.gaussian_kernel.sigma_px=1000000000.0",
    "mapping.diffuse.steps=1000000000000",
    "mapping.euler_diffusion.steps=1000000000000",
    "mapping.grating.shape=(16,)",
    "mapping.roc_auc.scores=float[5]",
    "mapping.roc_auc.labels=float[4]",
    "mapping.load_dataset.path=manifest-not-json",
    "mapping.generate_inputs.n_bins=10000000000000",
    "mapping.passive_system.Cm_uF_per_cm2=<lambda>",
    "accounting.plan_on_system.system='DGX-1'",
    "accounting.relative_error.published=0.0",
    "accounting.HostStaging.chunk_bytes=1099511627776.0",
    "system-file.binary",
    "system-file.nodes-huge",
    "system-file.peak-nan",
    "models.resnet18.num_classes=-1",
    "models.beniaguev_tcn.seed=-1",
    "models.cheapest_passing.condition='nosuch'",
    "cli.run.seed=-1",
    "cli.run.out=user-dir",
    "cli.plan.gpus=huge",
    "cli.plan.system-file=binary",
)


@pytest.fixture(scope="module")
def suite() -> Any:
    return _suite()


def test_the_subset_names_cases_of_the_suite(suite) -> None:
    ids = {c.id for c in suite.CASES}
    assert len(suite.CASES) >= 150  # the target: a suite of at least 150 cases
    assert not [i for i in SUBSET if i not in ids]


@pytest.mark.parametrize("case_id", SUBSET)
def test_a_bad_input_of_the_suite_gets_a_clear_error(case_id, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("BAD_INPUTS_TMP", str(tmp_path))
    case = next(c for c in suite.CASES if c.id == case_id)
    if case.argv is not None:
        record = suite.run_cli_case(case, timeout=20.0, in_process=True)
    else:
        record = suite.run_api_case(case)
    assert record["outcome"] == "clear", record
    assert record["seconds"] < 5.0, record  # checks fire before any work
