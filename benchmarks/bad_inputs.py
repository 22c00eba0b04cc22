#!/usr/bin/env python3
"""Bad inputs through the public API and the CLI: does each get a clear error? (issue 13)

A table of cases, each one bad value (or bad file, or bad command line) given to one public
entry point of the four pillars (``neurocomp.biophysics``, ``neurocomp.layers``,
``neurocomp.mapping``, ``neurocomp.accounting``), to the ``neurocomp_models.*`` builders, to the
JSON system-file format that :func:`neurocomp.accounting.load_system` reads, or to the
``neurocomp`` command. Every API case is one valid call (its *baseline*, checked to succeed
with ``--check-baselines``) with one argument replaced, so that an error can only come from
that argument.

Each case is classified:

``clear``
    :class:`ValueError`, :class:`TypeError`, :class:`KeyError` or :class:`FileNotFoundError`
    (or a subclass), or a CLI exit code 2 without a traceback, whose message names the
    argument or field **and** shows the bad value or states what is allowed.
``unclear``
    An error of those kinds whose message lacks either, or another exception type raised
    by neurocomp's own code.
``crash``
    Another exception type raised deep in numpy, torch, Brian2 or the standard library; a
    process killed by a signal; a CLI traceback.
``hang``
    No answer within ``--timeout`` seconds (20 s).
``silent``
    Accepted without an error (every case is outside the documented range, so a silent
    acceptance computes with a value the user did not mean: a harmful one).

API cases run one after another in a worker process (restarted after a hang or a crash),
CLI cases each in their own process, both with the timeout; a case slower than 5 s is
flagged (every check must fire before work). Files are written only under a fresh
temporary directory; the cases that point ``--out`` at a user's directory check afterwards
that its files are untouched. Results go to ``benchmarks/results/bad_inputs.json`` with the
per-case outcome, the totals, the percentage clear, the command and the load average at
start and end.

    python benchmarks/bad_inputs.py                 # the whole suite (~1-2 min)
    python benchmarks/bad_inputs.py --only cli      # one pillar (or a case id prefix)
    python benchmarks/bad_inputs.py --check-baselines
    # the same suite against another tree of the library (e.g. the commit before the fixes,
    # `git archive HEAD neurocomp models analyses | tar -x -C /tmp/base`), then embed it:
    python benchmarks/bad_inputs.py --library /tmp/base --out /tmp/bad_inputs_before.json
    python benchmarks/bad_inputs.py --before /tmp/bad_inputs_before.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bad_inputs.json"
TIMEOUT_S = 20.0
SLOW_S = 5.0
CLEAR_TYPES = (ValueError, TypeError, KeyError, FileNotFoundError)
OUTCOMES = ("clear", "unclear", "crash", "hang", "silent")
PILLARS = ("biophysics", "layers", "mapping", "accounting", "system-file", "models", "cli")

#: A message states what is allowed when it says one of these.
_RANGE = re.compile(
    r"must (?:be|not|lie|hold|have|match|equal|end|start|exceed|name|give|contain)|allowed|"
    r"one of|known|registered|expected|in \[|in \(|between|at least|at most|≥|≤|>=|<=|"
    r"> ?0|did you mean|exceed|above|below|larger than|smaller than|not (?:a|an|valid)|"
    r"cannot|refus|requires?|instead|missing|unknown|unrecognized|does not exist|no such|"
    r"not found|empty",
    re.IGNORECASE)


# -- the table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One bad input.

    ``fields``: names one of which the message must contain (the argument, the JSON key, the
    CLI option); ``values``: texts of the bad value, one of which the message may show
    (otherwise it must state what is allowed). API cases have ``call`` (and ``baseline``,
    the same call with a valid value); CLI cases have ``argv`` (``{tmp}`` is the case's
    scratch directory, ``{file}`` the file written from ``file_text``/``file_bytes``).
    """

    id: str
    pillar: str
    kind: str
    fields: tuple[str, ...]
    values: tuple[str, ...] = ()
    call: Callable[[], Any] | None = None
    baseline: Callable[[], Any] | None = None
    argv: tuple[str, ...] | None = None
    file_text: str | None = None
    file_bytes: bytes | None = None
    prepare: Callable[[Path], None] | None = None
    verify: Callable[[Path], str | None] | None = None
    note: str = ""


CASES: list[Case] = []
_OMIT = object()  # an argument left at its default


def _resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """``"pkg.mod:attr.sub"`` → the object, imported when the case runs."""
    if callable(target):
        return target
    mod, _, attr = target.partition(":")
    obj: Any = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _texts(value: Any) -> tuple[str, ...]:
    """Ways a message may show ``value``."""
    if isinstance(value, bool) or value is None:
        return (repr(value),)
    if isinstance(value, float):
        if math.isnan(value):
            return ("nan", "NaN")
        if math.isinf(value):
            return ("inf", "Infinity")
        return tuple(dict.fromkeys((repr(value), f"{value:g}", str(value))))
    if isinstance(value, int):
        return (str(value), f"{value:g}")
    if isinstance(value, str):
        return (repr(value), value) if value else (repr(value),)
    if isinstance(value, tuple | list) and len(value) <= 4:
        return (repr(value), repr(tuple(value)), repr(list(value)))
    return ()


def _lazy(value: Any) -> Any:
    return value() if callable(value) and getattr(value, "_lazy", False) else value


def lazy(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Mark a zero-argument function as a value built when the case runs (tensors …)."""
    fn._lazy = True  # type: ignore[attr-defined]
    return fn


def arg(pillar: str, kind: str, target: str | Callable[..., Any], valid: dict[str, Any],
        name: str, bad: Any, *, args: Sequence[Any] = (), fields: Sequence[str] = (),
        values: Sequence[str] | None = None, id: str | None = None, then: str | None = None,
        then_kwargs: dict[str, Any] | None = None, note: str = "") -> None:
    """A case: ``target(*args, **valid)`` is fine, ``name`` replaced by ``bad`` is not.

    ``then``: a method to call on the result with ``then_kwargs`` (the bad value may be one
    of those instead: ``name`` is looked up there first).
    """
    then_kwargs = dict(then_kwargs or {})
    in_then = then is not None and name in then_kwargs

    def build(value: Any) -> Callable[[], Any]:
        def call() -> Any:
            fn = _resolve(target)
            a = [_lazy(x) for x in args]
            kw = {k: _lazy(v) for k, v in valid.items()}
            tk = {k: _lazy(v) for k, v in then_kwargs.items()}
            if value is _OMIT:
                pass
            elif in_then:
                tk[name] = _lazy(value)
            else:
                kw[name] = _lazy(value)
            out = fn(*a, **kw)
            return getattr(out, then)(**tk) if then else out
        return call

    tname = target if isinstance(target, str) else target.__name__
    short = tname.rpartition(":")[2]
    cid = id or f"{pillar}.{short}.{name}={_short_repr(bad)}"
    CASES.append(Case(
        id=cid, pillar=pillar, kind=kind, fields=tuple(fields) or (name,),
        values=tuple(values) if values is not None else _texts(bad),
        call=build(bad), baseline=build((then_kwargs if in_then else valid).get(name, _OMIT)),
        note=note))


def custom(pillar: str, kind: str, id: str, fields: Sequence[str], call: Callable[[], Any],
           *, values: Sequence[str] = (), baseline: Callable[[], Any] | None = None,
           note: str = "") -> None:
    CASES.append(Case(id=f"{pillar}.{id}", pillar=pillar, kind=kind, fields=tuple(fields),
                      values=tuple(values), call=call, baseline=baseline, note=note))


def cli(kind: str, id: str, argv: Sequence[str], fields: Sequence[str], *,
        values: Sequence[str] = (), file_text: str | None = None,
        file_bytes: bytes | None = None, prepare: Callable[[Path], None] | None = None,
        verify: Callable[[Path], str | None] | None = None, note: str = "") -> None:
    CASES.append(Case(id=f"cli.{id}", pillar="cli", kind=kind, fields=tuple(fields),
                      values=tuple(values), argv=tuple(argv), file_text=file_text,
                      file_bytes=file_bytes, prepare=prepare, verify=verify, note=note))


def _short_repr(value: Any) -> str:
    if getattr(value, "_lazy", False):
        return getattr(value, "__doc__", None) or value.__name__
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


NAN, INF = float("nan"), float("inf")


def scratch() -> Path:
    """The case's scratch directory (fresh per process; set by the runner)."""
    path = os.environ.get("BAD_INPUTS_TMP")
    if path is None:
        path = tempfile.mkdtemp(prefix="bad-inputs-")
        os.environ["BAD_INPUTS_TMP"] = path
    return Path(path)


def write_file(name: str, text: str | bytes) -> Path:
    p = scratch() / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


# -- biophysics --------------------------------------------------------------------------

@lazy
def _rng():
    import numpy as np
    return np.random.default_rng(0)


def _a(*shape: int, fill: float | None = None, kind: str = "float"):
    @lazy
    def make():
        import numpy as np
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape)
        if kind == "str":
            return np.array(["a"] * int(np.prod(shape))).reshape(shape)
        if kind == "complex":
            x = x + 1j
        if kind == "bool":
            x = x > 0
        if fill is not None and x.size:
            x.flat[0] = fill
        return x
    make.__doc__ = f"{kind}{list(shape)}" + ("" if fill is None else f"+{fill}")
    return make



B = "neurocomp.biophysics"
CABLE = {"diameter_um": 2.0, "Rm_ohm_cm2": 20000.0, "Ri_ohm_cm": 100.0, "Cm_uF_per_cm2": 1.0}
arg("biophysics", "negative", f"{B}:CableParameters", CABLE, "diameter_um", -1.0)
arg("biophysics", "nan", f"{B}:CableParameters", CABLE, "Rm_ohm_cm2", NAN)
arg("biophysics", "type", f"{B}:CableParameters", CABLE, "Ri_ohm_cm", "100")
arg("biophysics", "zero", f"{B}:CableParameters", CABLE, "Cm_uF_per_cm2", 0.0)
arg("biophysics", "inf", f"{B}:CableParameters", CABLE, "diameter_um", INF)
POOL = {"gamma": 0.05, "decay_ms": 80.0}
arg("biophysics", "zero", f"{B}:CalciumPool", POOL, "decay_ms", 0.0)
arg("biophysics", "probability", f"{B}:CalciumPool", POOL, "gamma", 1.5)
arg("biophysics", "negative", f"{B}:CalciumPool", POOL, "depth_um", -0.1)
DENS = {"gNa_mS_cm2": 120.0, "gK_mS_cm2": 36.0}
arg("biophysics", "negative", f"{B}:ChannelDensities", DENS, "gNa_mS_cm2", -5.0)
arg("biophysics", "nan", f"{B}:ChannelDensities", DENS, "gL_mS_cm2", NAN)
arg("biophysics", "bool", f"{B}:ChannelDensities", DENS, "Cm_uF_cm2", True)
CLAMP = {"index": 0, "amplitude_nA": 0.5, "start_ms": 10.0, "duration_ms": 50.0}
arg("biophysics", "negative", f"{B}:CurrentClamp", CLAMP, "index", -1)
arg("biophysics", "float-for-int", f"{B}:CurrentClamp", CLAMP, "index", 1.5)
arg("biophysics", "zero", f"{B}:CurrentClamp", CLAMP, "duration_ms", 0.0)
arg("biophysics", "nan", f"{B}:CurrentClamp", CLAMP, "amplitude_nA", NAN)
arg("biophysics", "unknown-name", f"{B}:CurrentClamp", CLAMP, "shape", "ramp")
arg("biophysics", "negative", f"{B}:CurrentClamp", CLAMP, "tau_decay_ms", -1.0)
arg("biophysics", "negative", f"{B}:CurrentClamp", CLAMP, "start_ms", -5.0)
REC = {"name": "ampa", "tau_rise_ms": 0.2, "tau_decay_ms": 2.0, "reversal_mV": 0.0}
arg("biophysics", "negative", f"{B}:ReceptorKinetics", REC, "tau_rise_ms", -1.0)
arg("biophysics", "nan", f"{B}:ReceptorKinetics", REC, "tau_decay_ms", NAN)
arg("biophysics", "negative", f"{B}:ReceptorKinetics", REC, "mg_mM", -1.0)
arg("biophysics", "type", f"{B}:ReceptorKinetics", REC, "reversal_mV", "0 mV")
REL = {"U": 0.5, "tau_rec_ms": 800.0}
arg("biophysics", "probability", f"{B}:ReleaseParameters", REL, "U", 1.5)
arg("biophysics", "probability", f"{B}:ReleaseParameters", REL, "U", -0.1)
arg("biophysics", "nan", f"{B}:ReleaseParameters", REL, "U", NAN)
arg("biophysics", "zero", f"{B}:ReleaseParameters", REL, "n_sites", 0)
arg("biophysics", "float-for-int", f"{B}:ReleaseParameters", REL, "n_sites", 2.5)
arg("biophysics", "negative", f"{B}:ReleaseParameters", REL, "tau_rec_ms", -10.0)
SEC = {"name": "d", "region": "dendrite", "parent": None, "lengths_um": (10.0, 10.0),
       "diameters_um": (1.0, 1.0, 1.0)}
arg("biophysics", "negative", f"{B}:Section", SEC, "lengths_um", (-1.0, 10.0))
arg("biophysics", "shape", f"{B}:Section", SEC, "diameters_um", (1.0, 1.0))
arg("biophysics", "empty", f"{B}:Section", SEC, "lengths_um", ())
arg("biophysics", "nan", f"{B}:Section", SEC, "diameters_um", (NAN, 1.0, 1.0))
arg("biophysics", "type", f"{B}:Section", SEC, "lengths_um", "10")


@lazy
def _soma_section():
    from neurocomp.biophysics import Section
    return (Section(name="soma", region="soma", parent=None, lengths_um=(20.0,),
                    diameters_um=(20.0,), is_soma=True),)


@lazy
def _orphan_sections():
    """orphan"""
    from neurocomp.biophysics import Section
    return (Section(name="soma", region="soma", parent=None, lengths_um=(20.0,),
                    diameters_um=(20.0,), is_soma=True),
            Section(name="d", region="dendrite", parent="nosuch", lengths_um=(10.0,),
                    diameters_um=(1.0, 1.0)))


arg("biophysics", "empty", f"{B}:Morphology", {"sections": _soma_section}, "sections", (),
    id="biophysics.Morphology.sections=()")
arg("biophysics", "unknown-name", f"{B}:Morphology", {"sections": _soma_section}, "sections",
    _orphan_sections, fields=("parent",), values=("'nosuch'",),
    id="biophysics.Morphology.sections=unknown-parent")
TRAINS = {"indices": [0, 1], "times_ms": [1.0, 2.0], "n_sources": 2, "duration_ms": 10.0}
arg("biophysics", "nan-data", f"{B}:SpikeTrains", TRAINS, "times_ms", [1.0, NAN])
arg("biophysics", "float-for-int", f"{B}:SpikeTrains", TRAINS, "indices", [0.5, 1.0],
    note="float source indices were cast to int (0.5 → source 0)")
arg("biophysics", "out-of-range", f"{B}:SpikeTrains", TRAINS, "indices", [0, 2])
arg("biophysics", "zero", f"{B}:SpikeTrains", TRAINS, "n_sources", 0)
arg("biophysics", "negative", f"{B}:SpikeTrains", TRAINS, "duration_ms", -1.0)
arg("biophysics", "shape", f"{B}:SpikeTrains", TRAINS, "times_ms", [1.0, 2.0, 3.0])
arg("biophysics", "out-of-range", f"{B}:SpikeTrains", TRAINS, "times_ms", [1.0, 20.0])
arg("biophysics", "bool", f"{B}:SpikeTrains", TRAINS, "indices", [True, False],
    note="booleans as source indices")
arg("biophysics", "unknown-name", f"{B}:Stages", {}, "release", "random")
arg("biophysics", "type", f"{B}:Stages", {}, "nmda", "yes")
arg("biophysics", "unknown-name", f"{B}:Stages", {}, "synapses", "chemical")
SYN = {"name": "exc", "receptors": {"ampa": 0.5}}
arg("biophysics", "zero", f"{B}:SynapseGroup", SYN, "n_synapses", 0)
arg("biophysics", "negative", f"{B}:SynapseGroup", SYN, "receptors", {"ampa": -1.0},
    values=("-1",))
arg("biophysics", "out-of-range", f"{B}:SynapseGroup", SYN, "distance_um", (100.0, 10.0))
arg("biophysics", "float-for-int", f"{B}:SynapseGroup", SYN, "n_sources", 3.0)
GATE = {"name": "m", "power": 3, "inf": "1/(1+exp(-(v+40)/5))", "tau_ms": "1"}
arg("biophysics", "zero", f"{B}:Gate", GATE, "power", 0)
arg("biophysics", "type", f"{B}:Gate", GATE, "tau_ms", 1.0)
arg("biophysics", "zero", f"{B}:ExponentialProfile",
    {"base_S_cm2": 1e-3, "offset": 0.0, "amplitude": 1.0, "length_um": 100.0}, "length_um", 0.0)
arg("biophysics", "out-of-range", f"{B}:WindowProfile",
    {"inside_S_cm2": 1e-3, "outside_S_cm2": 0.0, "start_um": 100.0, "stop_um": 200.0},
    "stop_um", 50.0, fields=("stop_um", "start_um"))
MEM = {"g_leak_S_cm2": 5e-5, "E_leak_mV": -70.0}
arg("biophysics", "negative", f"{B}:Membrane", MEM, "g_leak_S_cm2", -1e-5)
arg("biophysics", "nan", f"{B}:Membrane", MEM, "Cm_uF_cm2", NAN)
arg("biophysics", "type", f"{B}:Membrane", MEM, "channels", "hh",
    note="a string where a tuple of ChannelDensity is expected")


@lazy
def _v_trace():
    import numpy as np
    return np.full((2, 100), -70.0)


@lazy
def _v_nan():
    """nan-trace"""
    import numpy as np
    v = np.full((2, 100), -70.0)
    v[0, 10] = np.nan
    return v


@lazy
def _v_empty():
    """empty-trace"""
    import numpy as np
    return np.zeros((0, 0))


@lazy
def _v_3d():
    """3d-trace"""
    import numpy as np
    return np.full((2, 3, 100), -70.0)


PLAT = {"bin_ms": 1.0}
CASES.append(Case(id="biophysics.detect_plateaus.v_mV=nan-trace", pillar="biophysics",
                  kind="nan-data", fields=("v_mV",), values=("nan", "NaN"),
                  call=lambda: _resolve(f"{B}:detect_plateaus")(_v_nan(), bin_ms=1.0),
                  baseline=lambda: _resolve(f"{B}:detect_plateaus")(_v_trace(), bin_ms=1.0)))
CASES.append(Case(id="biophysics.detect_plateaus.v_mV=empty", pillar="biophysics",
                  kind="empty", fields=("v_mV",),
                  call=lambda: _resolve(f"{B}:detect_plateaus")(_v_empty(), bin_ms=1.0),
                  baseline=lambda: _resolve(f"{B}:detect_plateaus")(_v_trace(), bin_ms=1.0)))
CASES.append(Case(id="biophysics.detect_plateaus.v_mV=3d", pillar="biophysics",
                  kind="shape", fields=("v_mV",),
                  call=lambda: _resolve(f"{B}:detect_plateaus")(_v_3d(), bin_ms=1.0),
                  baseline=lambda: _resolve(f"{B}:detect_plateaus")(_v_trace(), bin_ms=1.0)))
arg("biophysics", "zero", f"{B}:detect_plateaus", {"bin_ms": 1.0}, "bin_ms", 0.0,
    args=(_v_trace,))
arg("biophysics", "negative", f"{B}:detect_plateaus", {"bin_ms": 1.0}, "min_duration_ms", -5.0,
    args=(_v_trace,))
arg("biophysics", "nan", f"{B}:detect_plateaus", {"bin_ms": 1.0}, "threshold_mV", NAN,
    args=(_v_trace,))


@lazy
def _events():
    from neurocomp.biophysics import detect_plateaus
    return detect_plateaus(_v_trace(), bin_ms=1.0)


arg("biophysics", "zero", f"{B}:plateau_rate_hz", {"seconds": 1.0}, "seconds", 0.0,
    args=(_events,))
arg("biophysics", "zero", f"{B}:plateau_rate_hz", {"n_sites": 2}, "n_sites", 0,
    args=(_events,))


def _pipeline():
    from neurocomp_models.neurons.ball_and_stick import ball_and_stick_model

    from neurocomp.biophysics import NeuronPipeline
    return NeuronPipeline(ball_and_stick_model(n_compartments=5, axon=False))


def _run(**override: Any) -> Any:
    """NeuronPipeline.run with one argument replaced; the valid call is never simulated."""
    from neurocomp.biophysics import SpikeTrains, import_brian2
    b2 = import_brian2()
    pipe = _pipeline()
    trains = {g.name: SpikeTrains(indices=[0], times_ms=[1.0], n_sources=g.n_sources,
                                  duration_ms=10.0) for g in pipe.model.synapse_groups}
    kw: dict[str, Any] = {"duration": 10 * b2.ms, "dt": 25 * b2.us, "backend": "numpy"}
    kw.update({k: (v(b2) if callable(v) else v) for k, v in override.items()})
    inputs = kw.pop("inputs", trains)
    return pipe.run(inputs, **kw)


def _run_case(kind: str, name: str, value_text: str, fields: Sequence[str] = (),
              **override: Any) -> None:
    CASES.append(Case(id=f"biophysics.NeuronPipeline.run.{name}={value_text}",
                      pillar="biophysics", kind=kind, fields=tuple(fields) or (name,),
                      values=(value_text,), call=lambda: _run(**override),
                      note="the valid call would simulate: only the bad one is run"))


_run_case("negative", "duration", "-10. ms", duration=lambda b2: -10 * b2.ms)
_run_case("type", "duration", "10", duration=10)
_run_case("zero", "dt", "0. s", dt=lambda b2: 0 * b2.ms)
_run_case("out-of-range", "record_dt", "0.005 ms", record_dt=lambda b2: 5 * b2.us)
_run_case("unknown-name", "backend", "'gpu'", backend="gpu")
_run_case("negative", "seed", "-1", seed=-1)
_run_case("huge", "duration", "1e+12 ms", fields=("duration", "max_hours"),
          duration=lambda b2: 1e12 * b2.ms)
_run_case("nan", "duration", "nan", duration=lambda b2: float("nan") * b2.ms)
_run_case("out-of-range", "record", "99", fields=("record", "compartment"),
          record=lambda b2: [_resolve(f"{B}:RecordSite")(label="far", index=99)])
_run_case("unknown-name", "variables", "'nosuch'", variables=["nosuch"])
_run_case("type", "inputs", "[1, 2]", inputs=[1, 2])
_run_case("negative", "max_memory_gib", "-1", max_memory_gib=-1.0)


@lazy
def _ball_morph():
    from neurocomp.biophysics import ball_and_stick
    return ball_and_stick(soma_diameter_um=20.0, dendrite_length_um=200.0,
                          dendrite_diameter_um=2.0, n_compartments=4)


@lazy
def _dens():
    from neurocomp.biophysics import ChannelDensities
    return {"soma": ChannelDensities(gL_mS_cm2=0.05), "dendrite": ChannelDensities(gL_mS_cm2=0.05)}


@lazy
def _dens_missing():
    """missing-dendrite"""
    from neurocomp.biophysics import ChannelDensities
    return {"soma": ChannelDensities(gL_mS_cm2=0.05)}


MODEL = {"name": "m", "morphology": _ball_morph, "densities": _dens, "Ri_ohm_cm": 100.0}
arg("biophysics", "negative", f"{B}:NeuronModel", MODEL, "Ri_ohm_cm", -100.0)
arg("biophysics", "nan", f"{B}:NeuronModel", MODEL, "temperature_C", NAN)
arg("biophysics", "unknown-name", f"{B}:NeuronModel", MODEL, "densities", _dens_missing,
    fields=("densities", "dendrite"), values=("'dendrite'",))
arg("biophysics", "type", f"{B}:NeuronModel", MODEL, "morphology", "ball-and-stick")

# morphology builders, SWC text, spike-train builders, cable theory
BM = "neurocomp.biophysics.morphology"
TREE = {"levels": 3, "root_length_um": 100.0, "root_diameter_um": 2.0, "n_per_section": 2}
arg("biophysics", "huge", f"{BM}:symmetric_tree", TREE, "levels", 60,
    fields=("levels", "max_sections"), note="2**60 sections")
arg("biophysics", "zero", f"{BM}:symmetric_tree", TREE, "levels", 0)
arg("biophysics", "zero", f"{BM}:symmetric_tree", TREE, "n_per_section", 0)
arg("biophysics", "negative", f"{BM}:symmetric_tree", TREE, "root_diameter_um", -2.0)
BAS = {"soma_diameter_um": 20.0, "dendrite_length_um": 200.0, "dendrite_diameter_um": 2.0,
       "n_compartments": 4}
arg("biophysics", "zero", f"{BM}:ball_and_stick", BAS, "n_compartments", 0)
arg("biophysics", "nan", f"{BM}:ball_and_stick", BAS, "dendrite_length_um", NAN)
arg("biophysics", "negative", f"{BM}:cable", {"length_um": 100.0, "diameter_um": 1.0,
                                              "n_compartments": 4}, "length_um", -100.0)
SWC = "1 1 0 0 0 10 -1\n2 3 0 20 0 1 1\n3 3 0 40 0 1 2\n"
arg("biophysics", "empty", f"{BM}:read_swc", {"source": "cell.swc", "text": SWC}, "text", "",
    fields=("cell.swc", "SWC"), values=("empty", "no points", "no sample"))
arg("biophysics", "file", f"{BM}:read_swc", {"source": "cell.swc", "text": SWC}, "text",
    "1 1 0 0 0 10 -1\n2 3 0 abc 0 1 1\n", fields=("line 2",), values=("'abc'", "abc"),
    id="biophysics.read_swc.text=non-numeric")
arg("biophysics", "file", f"{BM}:read_swc", {"source": "cell.swc", "text": SWC}, "text",
    "1 1 0 0 0 10 -1\n2 3 0 20\n", fields=("line 2",), values=("7",),
    note="a truncated line", id="biophysics.read_swc.text=truncated-line")
arg("biophysics", "negative", f"{BM}:read_swc", {"source": "cell.swc", "text": SWC}, "text",
    "1 1 0 0 0 10 -1\n2 3 0 20 0 -1 1\n", fields=("line 2", "radius"), values=("-1",),
    id="biophysics.read_swc.text=negative-radius")
arg("biophysics", "unknown-name", f"{BM}:read_swc", {"source": "cell.swc", "text": SWC}, "text",
    "1 1 0 0 0 10 -1\n2 3 0 20 0 1 7\n", fields=("line 2", "parent"), values=("7",),
    id="biophysics.read_swc.text=unknown-parent")
CASES.append(Case(id="biophysics.read_swc.source=missing", pillar="biophysics", kind="file",
                  fields=("no-such.swc",), values=("No such file", "not found", "missing"),
                  call=lambda: _resolve(f"{BM}:read_swc")(scratch() / "no-such.swc")))
BI = "neurocomp.biophysics.inputs"
PO = {"n_sources": 3, "rate_hz": 5.0, "duration_ms": 100.0, "rng": _rng}
arg("biophysics", "negative", f"{BI}:poisson", PO, "rate_hz", -5.0)
arg("biophysics", "nan", f"{BI}:poisson", PO, "rate_hz", NAN)
arg("biophysics", "huge", f"{BI}:poisson", PO, "duration_ms", 1e15,
    fields=("duration_ms", "max_memory_gib", "rate_hz"))
arg("biophysics", "type", f"{BI}:poisson", PO, "rng", 0)
arg("biophysics", "shape", f"{BI}:poisson", PO, "rate_hz", (1.0, 2.0))
arg("biophysics", "shape", f"{BI}:inhomogeneous_poisson",
    {"rates_hz": lazy(lambda: __import__("numpy").full((3, 10), 5.0)), "dt_ms": 1.0,
     "rng": _rng}, "rates_hz", lazy(lambda: __import__("numpy").full(10, 5.0)),
    values=("(10,)",), id="biophysics.inhomogeneous_poisson.rates_hz=1d")
arg("biophysics", "zero", f"{BI}:from_rate_array",
    {"activations": lazy(lambda: __import__("numpy").ones((2, 10))), "dt_ms": 1.0,
     "max_rate_hz": 50.0, "rng": _rng}, "max_rate_hz", 0.0)
arg("biophysics", "out-of-range", f"{BI}:from_times", {"times_ms": [[1.0], [2.0]],
                                                       "duration_ms": 10.0},
    "times_ms", [[1.0], [20.0]], values=("20",))
BC = "neurocomp.biophysics.cable"


@lazy
def _cable():
    from neurocomp.biophysics import CableParameters
    return CableParameters(**CABLE)


arg("biophysics", "nan", f"{BC}:finite_cable_steady_state_mV",
    {"x_um": lazy(lambda: __import__("numpy").linspace(0, 100, 5)), "cable": _cable,
     "length_um": 100.0, "current_nA": 0.1}, "current_nA", NAN)
arg("biophysics", "nan-data", f"{BC}:finite_cable_steady_state_mV",
    {"x_um": lazy(lambda: __import__("numpy").linspace(0, 100, 5)), "cable": _cable,
     "length_um": 100.0, "current_nA": 0.1}, "x_um", _a(5, fill=NAN), values=("nan",))
arg("biophysics", "out-of-range", f"{BC}:finite_cable_steady_state_mV",
    {"x_um": lazy(lambda: __import__("numpy").linspace(0, 100, 5)), "cable": _cable,
     "length_um": 100.0, "current_nA": 0.1}, "x_um",
    lazy(lambda: __import__("numpy").array([0.0, 250.0])), values=("250",),
    note="positions beyond the sealed end of the cable")
arg("biophysics", "zero", f"{BC}:psp_waveform",
    {"t_ms": _a(5), "tau_rise_ms": 0.5, "tau_decay_ms": 5.0, "tau_m_ms": 20.0}, "tau_m_ms", 0.0)
arg("biophysics", "negative", f"{BC}:psp_peak_time_ms",
    {"tau_rise_ms": 0.5, "tau_decay_ms": 5.0, "tau_m_ms": 20.0}, "tau_rise_ms", -0.5)
arg("biophysics", "type", f"{BC}:finite_cable_input_resistance_mohm",
    {"cable": _cable, "length_um": 100.0}, "cable", {"diameter_um": 2.0}, values=("dict",))
arg("biophysics", "unknown-name", "neurocomp.distributed:Chunk", {"key": "seed-0"}, "key",
    "a/b")
arg("biophysics", "type", "neurocomp.distributed:Chunk", {"key": "seed-0"}, "params",
    lazy(lambda: {"rng": object()}), fields=("params",), values=("object",))
DSW = {"task": lazy(lambda: _resolve("neurocomp.distributed:example_task")),
       "chunks": lazy(lambda: [_resolve("neurocomp.distributed:Chunk")(
           key="c0", params={"seed": 0, "n": 3})]),
       "store": lazy(lambda: str(scratch() / "store")), "progress": False}
CASES.append(Case(
    id="biophysics.run_sweep.n_workers=0", pillar="biophysics", kind="zero",
    fields=("n_workers",), values=("0",),
    call=lambda: _resolve("neurocomp.distributed:run_sweep")(
        **{k: _lazy(v) for k, v in DSW.items()}, n_workers=0),
    note="the valid call would start a Dask cluster: only the bad one is run"))
CASES.append(Case(
    id="biophysics.run_sweep.store=file", pillar="biophysics", kind="file",
    fields=("store",), values=("a-file",),
    call=lambda: _resolve("neurocomp.distributed:run_sweep")(
        **{**{k: _lazy(v) for k, v in DSW.items()},
           "store": str(write_file("a-file", "not a directory"))})))
CASES.append(Case(
    id="biophysics.run_sweep.chunks=duplicate", pillar="biophysics", kind="shape",
    fields=("chunk keys", "chunks"), values=("'c0'",),
    call=lambda: _resolve("neurocomp.distributed:run_sweep")(
        **{**{k: _lazy(v) for k, v in DSW.items()},
           "chunks": _lazy(DSW["chunks"]) * 2})))
RA = {"names": ["forecast"], "out_dir": lazy(lambda: str(scratch() / "runs")), "quick": True,
      "seed": 0}
for _name, _bad in (("seed", -1), ("jobs", 0), ("quick", "yes"), ("out_dir", ""),
                    ("names", "forecast"), ("skip", ["nosuch"])):
    CASES.append(Case(
        id=f"biophysics.run_analyses.{_name}={_bad!r}", pillar="biophysics",
        kind={"seed": "negative", "jobs": "zero", "quick": "type", "out_dir": "empty",
              "names": "type", "skip": "unknown-name"}[_name],
        fields=(_name,) if _name != "skip" else ("skip",), values=_texts(_bad),
        call=lambda _name=_name, _bad=_bad: _resolve("neurocomp.runner:run_analyses")(
            **{**{k: _lazy(v) for k, v in RA.items()}, _name: _bad}),
        note="the runner's API (neurocomp.runner); the valid call would run an analysis"))

# -- layers ------------------------------------------------------------------------------

L = "neurocomp.layers"


def _t(*shape: int, dtype: str = "float32", fill: float | None = None):
    @lazy
    def make():
        import torch
        if dtype.startswith("int"):
            return torch.ones(*shape, dtype=getattr(torch, dtype))
        x = torch.randn(*shape, dtype=getattr(torch, dtype))
        if fill is not None:
            x.view(-1)[0] = fill
        return x
    make.__doc__ = f"{dtype}{list(shape)}" + ("" if fill is None else f"+{fill}")
    return make


CC = {"in_channels": 2, "out_channels": 3, "kernel_size": 5}
arg("layers", "zero", f"{L}:CausalConv1d", CC, "in_channels", 0)
arg("layers", "negative", f"{L}:CausalConv1d", CC, "kernel_size", -3)
arg("layers", "zero", f"{L}:CausalConv1d", CC, "dilation", 0)
arg("layers", "float-for-int", f"{L}:CausalConv1d", CC, "in_channels", 2.0)
arg("layers", "bool", f"{L}:CausalConv1d", CC, "out_channels", True)
arg("layers", "huge", f"{L}:CausalConv1d", CC, "out_channels", 10**9,
    fields=("out_channels", "max_bytes"))
arg("layers", "unknown-name", f"{L}:CausalConv1d", CC, "dtype", "float32",
    note="a string where a torch.dtype is expected")
arg("layers", "int-tensor", f"{L}:CausalConv1d", CC, "x", _t(4, 2, 50, dtype="int64"),
    then="forward", then_kwargs={"x": _t(4, 2, 50)}, fields=("x",), values=("int64",))
arg("layers", "shape", f"{L}:CausalConv1d", CC, "x", _t(2, 50), then="forward",
    then_kwargs={"x": _t(4, 2, 50)}, fields=("x",), values=("(2, 50)", "[2, 50]"))
arg("layers", "shape", f"{L}:CausalConv1d", CC, "x", _t(4, 5, 50), then="forward",
    then_kwargs={"x": _t(4, 2, 50)}, fields=("x",), values=("5",))
arg("layers", "empty", f"{L}:CausalConv1d", CC, "x", _t(4, 2, 0), then="forward",
    then_kwargs={"x": _t(4, 2, 50)}, fields=("x",), values=("0",),
    note="an empty time axis")
F_ = f"{L}:functional"
CASES.append(Case(id="layers.functional.causal_conv1d.x=int32", pillar="layers",
                  kind="int-tensor", fields=("x",), values=("int32",),
                  call=lambda: _resolve(f"{F_}.causal_conv1d")(_t(1, 2, 10, dtype="int32")(),
                                                              _t(3, 2, 5)()),
                  baseline=lambda: _resolve(f"{F_}.causal_conv1d")(_t(1, 2, 10)(),
                                                                  _t(3, 2, 5)())))
CASES.append(Case(id="layers.functional.causal_conv1d.weight=int64", pillar="layers",
                  kind="int-tensor", fields=("weight",), values=("int64",),
                  call=lambda: _resolve(f"{F_}.causal_conv1d")(_t(1, 2, 10)(),
                                                              _t(3, 2, 5, dtype="int64")()),
                  baseline=lambda: _resolve(f"{F_}.causal_conv1d")(_t(1, 2, 10)(),
                                                                  _t(3, 2, 5)())))
CASES.append(Case(id="layers.functional.temporal_filter.kernel=3d", pillar="layers",
                  kind="shape", fields=("kernel",),
                  call=lambda: _resolve(f"{F_}.temporal_filter")(_t(2, 10)(), _t(2, 3, 3)()),
                  baseline=lambda: _resolve(f"{F_}.temporal_filter")(_t(2, 10)(), _t(3)())))
arg("layers", "zero", f"{F_}.poisson_delay_pmf", {"lam": 0.5, "n_taps": 5}, "n_taps", 0)
arg("layers", "negative", f"{F_}.sample_poisson_delays", {"shape": (3, 4), "lam": 0.5},
    "shape", (3, -1), fields=("shape",), values=("-1",))
arg("layers", "nan", f"{F_}.sublinear", {"x": _t(3)}, "saturation", NAN)
arg("layers", "negative", f"{F_}.supralinear", {"x": _t(3)}, "exponent", -2.0)
DC = {"in_channels": 1, "out_channels": 2, "kernel_size": (3, 3, 5)}
arg("layers", "shape", f"{L}:DendriticConv", DC, "kernel_size", (3, 3))
arg("layers", "unknown-name", f"{L}:DendriticConv", DC, "algorithm", "winograd")
arg("layers", "unknown-name", f"{L}:DendriticConv", DC, "spatial_padding", "valid2")
arg("layers", "zero", f"{L}:DendriticConv", DC, "kernel_size", (3, 0, 5), values=("0",))
arg("layers", "shape", f"{L}:DendriticConv", DC, "x", _t(2, 1, 4, 6), then="forward",
    then_kwargs={"x": _t(2, 1, 4, 6, 20)}, fields=("x",), values=("(2, 1, 4, 6)",))
NL = {"kind": "sublinear"}
arg("layers", "unknown-name", f"{L}:DendriticNonlinearity", NL, "kind", "tanh2")
arg("layers", "zero", f"{L}:DendriticNonlinearity", NL, "saturation", 0.0)
arg("layers", "negative", f"{L}:DendriticNonlinearity", NL, "width", -0.1)
arg("layers", "nan", f"{L}:DendriticNonlinearity", NL, "threshold", NAN)
AP = {"kernel_size": 3}
arg("layers", "zero", f"{L}:AmplifyingPool", AP, "kernel_size", 0)
arg("layers", "nan", f"{L}:AmplifyingPool", AP, "amplification", NAN)
arg("layers", "probability", f"{L}:AmplifyingPool", AP, "amplification", 1.5)
arg("layers", "zero", f"{L}:SomaticFilter", {}, "n_taps", 0)
arg("layers", "unknown-name", f"{L}:SomaticFilter", {}, "init", "random")


@lazy
def _doe():
    from neurocomp.layers import DifferenceOfExponentials
    return DifferenceOfExponentials(tau_rise_ms=0.5, tau_decay_ms=5.0)


SK = {"time_constants": _doe, "dt_ms": 1.0, "n_taps": 20}
arg("layers", "zero", f"{L}:SynapticKernel", SK, "dt_ms", 0.0)
arg("layers", "negative", f"{L}:SynapticKernel", SK, "n_taps", -1)
arg("layers", "unknown-name", f"{L}:SynapticKernel", SK, "normalization", "max")
arg("layers", "huge", f"{L}:SynapticKernel", SK, "n_taps", 10**12,
    fields=("n_taps", "max_bytes"))
arg("layers", "type", f"{L}:SynapticKernel", SK, "time_constants", (0.5, 5.0))
DOE = {"tau_rise_ms": 0.5, "tau_decay_ms": 5.0}
arg("layers", "out-of-range", f"{L}:DifferenceOfExponentials", DOE, "tau_rise_ms", 10.0,
    fields=("tau_rise_ms", "tau_decay_ms"))
arg("layers", "nan", f"{L}:DifferenceOfExponentials", DOE, "tau_decay_ms", NAN)
arg("layers", "zero", f"{L}:TransmitterDense", {"in_features": 3, "out_features": 2},
    "in_features", 0)
arg("layers", "type", f"{L}:TransmitterDense", {"in_features": 3, "out_features": 2},
    "dim", "time")
arg("layers", "negative", f"{L}:PoissonFiring", {}, "lam", -0.5)
arg("layers", "nan", f"{L}:PoissonFiring", {}, "lam", NAN)
TCNC = {"in_channels": 4, "depth": 3, "width": 8, "kernel_sizes": 5}
arg("layers", "zero", f"{L}:TCNConfig", TCNC, "depth", 0)
arg("layers", "shape", f"{L}:TCNConfig", TCNC, "width", (8, 8))
arg("layers", "zero", f"{L}:TCNConfig", TCNC, "kernel_sizes", 0)
arg("layers", "negative", f"{L}:TCNConfig", TCNC, "in_channels", -1)
arg("layers", "float-for-int", f"{L}:TCNConfig", TCNC, "depth", 3.0)
arg("layers", "negative", f"{L}:TCNConfig", TCNC, "dilations", -2)


@lazy
def _deep_tcn():
    """depth=1e6"""
    from neurocomp.layers import TCNConfig
    return TCNConfig(in_channels=2, depth=10**6, width=2, kernel_sizes=2)


@lazy
def _tcn_cfg():
    from neurocomp.layers import TCNConfig
    return TCNConfig(in_channels=2, depth=2, width=4, kernel_sizes=3)


arg("layers", "huge", f"{L}:TCN", {"config": _tcn_cfg}, "config", _deep_tcn,
    fields=("depth", "max_layers"), values=("1000000",))
arg("layers", "type", f"{L}:TCN", {"config": _tcn_cfg}, "config", {"in_channels": 2},
    values=("dict",))
ELMC = {"in_channels": 4}
arg("layers", "zero", f"{L}:ELMConfig", ELMC, "memory_units", 0)
arg("layers", "out-of-range", f"{L}:ELMConfig", ELMC, "tau_m_min_ms", 500.0,
    fields=("tau_m_min_ms", "tau_m_max_ms"))
arg("layers", "unknown-name", f"{L}:ELMConfig", ELMC, "mlp_activation", "swish2")
arg("layers", "zero", f"{L}:ELMConfig", ELMC, "dt_ms", 0.0)
arg("layers", "negative", f"{L}:ELMConfig", ELMC, "lambda_", -5.0)
arg("layers", "negative", f"{L}:FitConfig", {}, "epochs", -1)
arg("layers", "zero", f"{L}:FitConfig", {}, "batch_size", 0)
arg("layers", "nan", f"{L}:FitConfig", {}, "learning_rate", NAN)
arg("layers", "unknown-name", f"{L}:FitConfig", {}, "optimizer", "adamw2")
arg("layers", "negative", f"{L}:FitConfig", {}, "patience", -1)
arg("layers", "probability", f"{L}:FitConfig", {}, "momentum", 1.5)
arg("layers", "type", f"{L}:FitConfig", {}, "seed", "zero")
arg("layers", "negative", f"{L}:FitConfig", {}, "weight_decay", -0.1)


def _fit(data: Callable[[], Any]) -> Any:
    import torch

    from neurocomp.layers import FitConfig, fit
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    return fit(model, lambda out, y: ((out - y) ** 2).mean(), data(),
               config=FitConfig(epochs=1, batch_size=4, checkpoint_dir=None))


def _data(n: int = 8, nan: bool = False) -> Callable[[], Any]:
    def make():
        import torch
        x = torch.randn(n, 3)
        if nan and n:
            x[1, 1] = float("nan")
        return torch.utils.data.TensorDataset(x, torch.randn(n, 1))
    return make


custom("layers", "empty", "fit.train_data=empty", ("train_data",), lambda: _fit(_data(0)),
       baseline=lambda: _fit(_data()))
custom("layers", "nan-data", "fit.train_data=nan", ("train_data", "data", "batch"),
       lambda: _fit(_data(nan=True)), values=("nan", "NaN"), baseline=lambda: _fit(_data()))
custom("layers", "type", "fit.config=dict", ("config",),
       lambda: _resolve(f"{L}:fit")(_resolve("torch:nn.Linear")(3, 1), lambda o, y: o.sum(),
                                    _data()(), config={"epochs": 1}), values=("dict",))


@lazy
def _tcn_out():
    import torch

    from neurocomp.layers import TCNOutput
    return TCNOutput(spike_logits=torch.zeros(2, 10), soma_voltage=torch.zeros(2, 10),
                     dendritic=None)


TL = {"output": _tcn_out, "spikes": _t(2, 10), "voltage": _t(2, 10)}
arg("layers", "unknown-name", f"{L}:tcn_loss", TL, "reduction", "avg")
arg("layers", "shape", f"{L}:tcn_loss", TL, "spikes", _t(2, 11), values=("(2, 11)", "11"))
arg("layers", "negative", f"{L}:tcn_loss", TL, "voltage_weight", -1.0)
arg("layers", "zero", f"{L}:equal_rf_kernels", {"depth": 3, "receptive_field_bins": 30},
    "depth", 0)
arg("layers", "out-of-range", f"{L}:equal_rf_kernels", {"depth": 3, "receptive_field_bins": 30},
    "receptive_field_bins", 2)
DNC = {"n_synapses": 20, "n_dendrites": 4, "dendritic_kernel": (1, 3, 3), "n_outputs": 2}
arg("layers", "zero", f"{L}:DettmersNeuronConfig", DNC, "n_synapses", 0)
arg("layers", "shape", f"{L}:DettmersNeuronConfig", DNC, "dendritic_kernel", (3, 3))
arg("layers", "negative", f"{L}:DettmersNeuronConfig", DNC, "dt_ms", -1.0)
arg("layers", "zero", f"{L}:FilterSurrogateConfig", {"in_channels": 4}, "receptive_field_bins", 0)
arg("layers", "negative", f"{L}:FilterSurrogateConfig", {"in_channels": 4}, "projection", -4)
arg("layers", "unknown-name", f"{L}:choose_device", {"device": "cpu"}, "device", "tpu")
custom("layers", "zero", "launch_local.world_size=0", ("world_size",),
       lambda: _resolve(f"{L}:launch_local")(print, world_size=0), values=("0",),
       note="the valid call would start processes: only the bad one is run")

# forward passes with wrong inputs
@lazy
def _dettmers():
    from neurocomp.layers import DettmersNeuron, DettmersNeuronConfig
    return DettmersNeuron(DettmersNeuronConfig(**DNC))


arg("layers", "shape", lambda model, x: model(x), {"model": _dettmers, "x": _t(2, 20, 10)},
    "x", _t(2, 19, 10), values=("19",), id="layers.DettmersNeuron.forward.x=19-synapses")
arg("layers", "int-tensor", lambda model, x: model(x), {"model": _dettmers, "x": _t(2, 20, 10)},
    "x", _t(2, 20, 10, dtype="int64"), values=("int64",),
    id="layers.DettmersNeuron.forward.x=int64")
arg("layers", "shape", lambda model, x: model(x), {"model": lazy(lambda: _tiny_tcn()),
                                                   "x": _t(2, 4, 30)},
    "x", _t(2, 3, 30), values=("3",), id="layers.TCN.forward.x=3-channels")


@lazy
def _elm():
    from neurocomp.layers import ELM, ELMConfig
    return ELM(ELMConfig(in_channels=4))


arg("layers", "shape", lambda model, x: model(x), {"model": _elm, "x": _t(2, 4, 30)}, "x",
    _t(4, 30), values=("(4, 30)",), id="layers.ELM.forward.x=2d")


@lazy
def _linear_surrogate():
    from neurocomp.layers import FilterSurrogateConfig, LinearSurrogate
    return LinearSurrogate(FilterSurrogateConfig(in_channels=4, receptive_field_bins=10))


arg("layers", "shape", lambda model, x: model(x), {"model": _linear_surrogate,
                                                   "x": _t(2, 4, 30)},
    "x", _t(2, 5, 30), values=("5",), id="layers.LinearSurrogate.forward.x=5-channels")
arg("layers", "nan", f"{L}:DendriticNonlinearity", NL, "saturation", INF)
arg("layers", "zero", f"{L}:SomaticFilter", {}, "n_taps", 0.0,
    id="layers.SomaticFilter.n_taps=0.0")

# -- mapping -----------------------------------------------------------------------------

M = "neurocomp.mapping"


CONV = {"signal": _a(20), "kernel": _a(5)}
arg("mapping", "empty", f"{M}:convolve", CONV, "signal", _a(0), values=("(0,)",))
arg("mapping", "unknown-name", f"{M}:convolve", CONV, "mode", "same2")
arg("mapping", "unknown-name", f"{M}:convolve", CONV, "method", "winograd")
arg("mapping", "nan-data", f"{M}:convolve", {**CONV, "method": "fft"}, "signal",
    _a(20, fill=NAN), values=("nan", "NaN"),
    note="FFT convolution spreads one NaN over the whole output")
arg("mapping", "shape", f"{M}:convolve", CONV, "kernel", _a(3, 3),
    fields=("kernel", "signal"), values=("(3, 3)",))
arg("mapping", "type", f"{M}:convolve", CONV, "signal", "abc")
arg("mapping", "shape", f"{M}:correlate", {**CONV, "mode": "valid"}, "kernel", _a(30),
    fields=("kernel", "signal"), values=("30",))
arg("mapping", "type", f"{M}:correlate", CONV, "signal", _a(20, kind="complex"),
    values=("complex",))
arg("mapping", "empty", f"{M}:circular_convolve", CONV, "kernel", _a(0), values=("(0,)",))
COS = {"n": 32, "k": 3}
arg("mapping", "negative", f"{M}:conv_output_size", COS, "n", -1)
arg("mapping", "zero", f"{M}:conv_output_size", COS, "stride", 0)
arg("mapping", "out-of-range", f"{M}:conv_output_size", COS, "k", 40)
arg("mapping", "zero", f"{M}:conv_output_size", COS, "dilation", 0)
arg("mapping", "float-for-int", f"{M}:conv_output_size", COS, "padding", 1.5)
FMS = {"n_kernels": 8, "kernel_size": 3, "input_size": (32, 32)}
arg("mapping", "zero", f"{M}:feature_map_shape", FMS, "n_kernels", 0)
arg("mapping", "shape", f"{M}:feature_map_shape", FMS, "kernel_size", (3, 3, 3),
    fields=("kernel_size", "input_size"))
arg("mapping", "unknown-name", f"{M}:output_shape",
    {"signal_shape": (10,), "kernel_shape": (3,)}, "mode", "fulll")
GK = {"sigma_px": 2.0}
arg("mapping", "negative", f"{M}:gaussian_kernel", GK, "sigma_px", -1.0)
arg("mapping", "nan", f"{M}:gaussian_kernel", GK, "sigma_px", NAN)
arg("mapping", "zero", f"{M}:gaussian_kernel", GK, "ndim", 0)
arg("mapping", "zero", f"{M}:gaussian_kernel", GK, "truncate", 0.0)
arg("mapping", "huge", f"{M}:gaussian_kernel", GK, "sigma_px", 1e9,
    fields=("sigma_px", "max_bytes", "truncate"))


@lazy
def _kernel3():
    import numpy as np
    return np.array([0.25, 0.5, 0.25])


DIF = {"field": _a(30), "kernel": _kernel3, "steps": 3}
arg("mapping", "negative", f"{M}:diffuse", DIF, "steps", -1)
arg("mapping", "unknown-name", f"{M}:diffuse", DIF, "boundary", "periodic2")
arg("mapping", "nan-data", f"{M}:diffuse", DIF, "field", _a(30, fill=NAN), values=("nan",))
arg("mapping", "huge", f"{M}:diffuse", DIF, "steps", 10**12, fields=("steps", "max_seconds",
                                                                     "max_steps"))
ED = {"field": _a(30), "D": 1.0, "dx": 1.0, "dt": 0.1, "steps": 5}
arg("mapping", "out-of-range", f"{M}:euler_diffusion", ED, "dt", 5.0,
    note="explicit Euler is unstable above dt = dx²/(2·ndim·D)")
arg("mapping", "negative", f"{M}:euler_diffusion", ED, "D", -1.0)
arg("mapping", "zero", f"{M}:euler_diffusion", ED, "dx", 0.0)
arg("mapping", "huge", f"{M}:euler_diffusion", ED, "steps", 10**12,
    fields=("steps", "max_seconds", "max_steps"))
arg("mapping", "zero", f"{M}:euler_step_kernel", {"D": 1.0, "dx": 1.0, "dt": 0.1, "ndim": 1},
    "ndim", 0)
GD = {"field": _a(30), "D": 1.0, "dx": 1.0, "t": 1.0}
arg("mapping", "negative", f"{M}:gaussian_diffusion", GD, "t", -1.0)
arg("mapping", "negative", f"{M}:gaussian_diffusion", GD, "decay_rate", -0.5)
CG = {"x_um": _a(10), "t_ms": 1.0, "length_constant_um": 500.0, "tau_m_ms": 10.0}
arg("mapping", "zero", f"{M}:cable_greens_function", CG, "t_ms", 0.0)
arg("mapping", "negative", f"{M}:cable_greens_function", CG, "length_constant_um", -1.0)
arg("mapping", "nan-data", f"{M}:cable_greens_function", CG, "x_um", _a(10, fill=NAN),
    values=("nan",))
arg("mapping", "zero", f"{M}:softmax_propagator", {"kernel": _a(5)}, "temperature", 0.0)
arg("mapping", "empty", f"{M}:softmax_propagator", {"kernel": _a(5)}, "kernel", _a(0),
    values=("(0,)",))


@lazy
def _prop():
    import numpy as np
    return np.full((3, 3), 1 / 9)


SC = {"image": _a(16, 16), "propagator": _prop, "n_samples": 4, "rng": _rng}
arg("mapping", "zero", f"{M}:stochastic_correlate", SC, "n_samples", 0)
arg("mapping", "type", f"{M}:stochastic_correlate", SC, "rng", 42)
arg("mapping", "out-of-range", f"{M}:stochastic_correlate", SC, "propagator", _a(3, 3),
    values=("sum", "negative"), note="a 'propagator' with negative entries, not summing to 1")
GR = {"shape": (16, 16), "angle_deg": 30.0, "period_px": 4.0}
arg("mapping", "zero", f"{M}:grating", GR, "shape", (0, 16))
arg("mapping", "shape", f"{M}:grating", GR, "shape", (16,))
arg("mapping", "type", f"{M}:grating", GR, "shape", "16x16")
arg("mapping", "zero", f"{M}:grating", GR, "period_px", 0.0)
arg("mapping", "nan", f"{M}:grating", GR, "angle_deg", NAN)
arg("mapping", "shape", f"{M}:log_spectrum", {"image": _a(16, 16)}, "image", _a(16),
    values=("(16,)",))
arg("mapping", "empty", f"{M}:log_spectrum", {"image": _a(16, 16)}, "image", _a(0, 0),
    values=("(0, 0)",))
arg("mapping", "out-of-range", f"{M}:lowpass_disc", {"radius_frac": 0.3}, "radius_frac", 1.5,
    args=(_a(16, 16),))
arg("mapping", "negative", f"{M}:lowpass_disc", {"radius_frac": 0.3}, "radius_frac", -0.1,
    args=(_a(16, 16),))
ER = {"reference": _a(32, 32), "rotated": _a(32, 32)}
arg("mapping", "shape", f"{M}:estimate_rotation_deg", ER, "rotated", _a(32),
    fields=("rotated", "image"), values=("(32,)",))
arg("mapping", "zero", f"{M}:estimate_rotation_deg", ER, "n_bins", 0)
MT = {"image": _a(16, 16), "template": _a(4, 4)}
arg("mapping", "out-of-range", f"{M}:match_template", MT, "template", _a(20, 20),
    fields=("template",), values=("(20, 20)",))
arg("mapping", "unknown-name", f"{M}:match_template", MT, "method", "sad")
arg("mapping", "nan-data", f"{M}:match_template", MT, "image", _a(16, 16, fill=NAN),
    values=("nan",))
GS = {"condition": "nmda"}
arg("mapping", "negative", f"{M}:GenerationSpec", GS, "n_train", -1)
arg("mapping", "zero", f"{M}:GenerationSpec", GS, "bin_ms", 0.0)
arg("mapping", "out-of-range", f"{M}:GenerationSpec", GS, "sequence_ms", 0.5,
    fields=("sequence_ms",))
arg("mapping", "negative", f"{M}:GenerationSpec", GS, "seed", -1)
arg("mapping", "type", f"{M}:GenerationSpec", GS, "condition", 3)
arg("mapping", "float-for-int", f"{M}:GenerationSpec", GS, "n_val", 2.5)
arg("mapping", "out-of-range", f"{M}:InputStatistics", {}, "hold_ms", (450.0, 25.0))
arg("mapping", "negative", f"{M}:InputStatistics", {}, "exc_hz_per_um", (-1.0, 1.0))
arg("mapping", "nan", f"{M}:InputStatistics", {}, "inh_below_hz_per_um", NAN)


def _nio_arrays(bins: int = 50):
    import numpy as np
    rng = np.random.default_rng(0)
    return {"inputs": (rng.random((4, bins)) < 0.1).astype(np.uint8),
            "soma_mV": np.full(bins, -70.0), "spikes": np.zeros(bins, dtype=bool)}


NIO = {k: lazy(lambda k=k: _nio_arrays()[k]) for k in ("inputs", "soma_mV", "spikes")}
arg("mapping", "nan-data", f"{M}:NeuronIO", NIO, "soma_mV", _a(50, fill=NAN), values=("nan",))
arg("mapping", "shape", f"{M}:NeuronIO", NIO, "inputs", _a(50), values=("(50,)",))
arg("mapping", "shape", f"{M}:NeuronIO", NIO, "spikes", _a(49, kind="bool"), values=("49",))
arg("mapping", "zero", f"{M}:NeuronIO", NIO, "bin_ms", 0.0)


@lazy
def _seqs():
    from neurocomp.mapping import NeuronIO
    return [NeuronIO(**_nio_arrays())]


arg("mapping", "zero", f"{M}:SequenceWindows", {"window": 10}, "window", 0, args=(_seqs,))
arg("mapping", "out-of-range", f"{M}:SequenceWindows", {"window": 10}, "window", 80,
    args=(_seqs,))
CASES.append(Case(id="mapping.SequenceWindows.sequences=[]", pillar="mapping", kind="empty",
                  fields=("sequences",),
                  call=lambda: _resolve(f"{M}:SequenceWindows")([], window=10),
                  baseline=lambda: _resolve(f"{M}:SequenceWindows")(_seqs(), window=10)))
arg("mapping", "zero", f"{M}:SurrogateTrainConfig", {}, "epochs", 0)
arg("mapping", "unknown-name", f"{M}:SurrogateTrainConfig", {}, "schedule", "linear2")
arg("mapping", "negative", f"{M}:SurrogateTrainConfig", {}, "learning_rate", -1.0)
arg("mapping", "out-of-range", f"{M}:SurrogateTrainConfig", {}, "warmup_bins", 600,
    fields=("warmup_bins", "window_bins"))
ROC = {"labels": lazy(lambda: __import__("numpy").array([0, 1, 0, 1])),
       "scores": lazy(lambda: __import__("numpy").array([0.1, 0.9, 0.2, 0.8]))}
arg("mapping", "shape", f"{M}:roc_auc", ROC, "scores", _a(5), fields=("scores", "labels"),
    values=("5",))
arg("mapping", "nan-data", f"{M}:roc_auc", ROC, "scores", _a(4, fill=NAN), values=("nan",))
arg("mapping", "out-of-range", f"{M}:roc_auc", ROC, "labels", _a(4),
    values=("0 or 1", "binary", "bool"), note="real-valued labels")
CASES.append(Case(id="mapping.load_dataset.path=missing", pillar="mapping", kind="file",
                  fields=("no-such-dataset",), values=("missing", "not found"),
                  call=lambda: _resolve(f"{M}:load_dataset")(scratch() / "no-such-dataset")))


@lazy
def _empty_dir():
    """empty-dir"""
    p = scratch() / "empty-dataset"
    p.mkdir(exist_ok=True)
    return str(p)


@lazy
def _bad_manifest():
    """manifest-not-json"""
    p = scratch() / "bad-manifest"
    p.mkdir(exist_ok=True)
    (p / "manifest.json").write_text("{not json")
    return str(p)


CASES.append(Case(id="mapping.load_dataset.path=empty-dir", pillar="mapping", kind="file",
                  fields=("manifest", "path"), values=("empty-dataset",),
                  call=lambda: _resolve(f"{M}:load_dataset")(_empty_dir())))
CASES.append(Case(id="mapping.load_dataset.path=manifest-not-json", pillar="mapping",
                  kind="file", fields=("manifest",), values=("JSON", "json"),
                  call=lambda: _resolve(f"{M}:load_dataset")(_bad_manifest())))


@lazy
def _tiny_tcn():
    import torch

    from neurocomp.layers import TCN, TCNConfig
    torch.manual_seed(0)
    return TCN(TCNConfig(in_channels=4, depth=1, width=4, kernel_sizes=3))


arg("mapping", "zero", f"{M}:flops_per_ms", {"model": _tiny_tcn, "in_channels": 4}, "bins", 0)
arg("mapping", "zero", f"{M}:flops_per_ms", {"model": _tiny_tcn, "in_channels": 4},
    "in_channels", 0)
SS = {"model": _tiny_tcn, "test": _seqs, "warmup_bins": 5, "n_boot": 10}
arg("mapping", "zero", f"{M}:score_surrogate", SS, "n_boot", 0)
arg("mapping", "probability", f"{M}:score_surrogate", SS, "confidence", 1.5)
arg("mapping", "out-of-range", f"{M}:score_surrogate", SS, "warmup_bins", 50,
    note="warm-up as long as the sequence leaves nothing to score")


def _seq_with(**change: Any):
    @lazy
    def make():
        from neurocomp.mapping import NeuronIO
        arrays = _nio_arrays()
        for k, v in change.items():
            arrays[k] = v()
        return NeuronIO(**arrays)
    make.__doc__ = ",".join(f"{k}={getattr(v, '__doc__', '?')}" for k, v in change.items())
    return make


_seq_nan = _seq_with(inputs=_a(4, 50, fill=NAN))
_seq_float_spikes = _seq_with(spikes=_a(50))
arg("mapping", "nan-data", f"{M}:predict", {"model": _tiny_tcn, "seq": lazy(lambda: _seqs()[0])},
    "seq", _seq_nan, fields=("seq.inputs",), values=("nan",))
arg("mapping", "out-of-range", f"{M}:score_surrogate", SS, "test",
    lazy(lambda: [_seq_float_spikes()]), fields=("test[0].spikes",), values=("0 or 1",),
    id="mapping.score_surrogate.test=[real-valued spikes]")
arg("mapping", "nan-data", f"{M}:score_surrogate", SS, "test", lazy(lambda: [_seq_nan()]),
    fields=("test[0].inputs",), values=("nan",), id="mapping.score_surrogate.test=[nan inputs]")
arg("mapping", "zero", "neurocomp.mapping.surrogate:evaluate_surrogate",
    {"model": _tiny_tcn, "io": lazy(lambda: _seqs()[0]), "warmup_bins": 5}, "chunk_bins", 0)
arg("mapping", "nan-data", "neurocomp.mapping.surrogate:evaluate_surrogate",
    {"model": _tiny_tcn, "io": lazy(lambda: _seqs()[0]), "warmup_bins": 5}, "io", _seq_nan,
    fields=("io.inputs",), values=("nan",))
CT = {"kind": ("exc", "inh"), "subtree": ("basal", "basal"), "length_um": (10.0, 10.0),
      "compartment": (1, 1), "distance_um": (50.0, 50.0)}
arg("mapping", "shape", f"{M}:ChannelTable", CT, "length_um", (10.0,))
arg("mapping", "unknown-name", f"{M}:ChannelTable", CT, "kind", ("exc", "mod"))
arg("mapping", "negative", f"{M}:ChannelTable", CT, "length_um", (10.0, -3.0))


@lazy
def _ctab():
    from neurocomp.mapping import ChannelTable
    return ChannelTable(**CT)


GI = {"stats": lazy(lambda: _resolve(f"{M}:InputStatistics")()), "channels": _ctab,
      "n_bins": 100, "rng": _rng}
arg("mapping", "zero", f"{M}:generate_inputs", GI, "n_bins", 0)
arg("mapping", "zero", f"{M}:generate_inputs", GI, "bin_ms", 0.0)
arg("mapping", "huge", f"{M}:generate_inputs", GI, "n_bins", 10**13,
    fields=("n_bins", "max_bytes", "max_memory"))

# linear kernels and passive systems
ML = "neurocomp.mapping.linear"
arg("mapping", "shape", f"{ML}:variance_explained", {"y": _a(10), "y_hat": _a(10)}, "y_hat",
    _a(9), fields=("y_hat", "y"), values=("(9,)",))
arg("mapping", "out-of-range", f"{ML}:variance_explained", {"y": _a(10), "y_hat": _a(10)}, "y",
    lazy(lambda: __import__("numpy").ones(10)), fields=("y",), values=("constant",))
arg("mapping", "out-of-range", f"{ML}:raised_cosine_basis", {"n_taps": 20, "n_basis": 4,
                                                             "dt_ms": 1.0}, "n_basis", 30)
EB = {"n_taps": 20, "dt_ms": 1.0, "taus_ms": (1.0, 5.0), "tau_rise_ms": 0.5,
      "tau_decay_ms": 3.0}
arg("mapping", "negative", f"{ML}:exponential_basis", EB, "taus_ms", (1.0, -5.0),
    values=("-5",))
arg("mapping", "zero", f"{ML}:exponential_basis", EB, "tau_rise_ms", 0.0)
arg("mapping", "nan", f"{ML}:exponential_basis", EB, "tau_decay_ms", NAN)
arg("mapping", "shape", f"{ML}:predict_voltage",
    {"counts": lazy(lambda: __import__("numpy").ones((3, 50))),
     "kernels": lazy(lambda: __import__("numpy").ones((3, 5)))},
    "kernels", lazy(lambda: __import__("numpy").ones((2, 5))), fields=("kernels", "counts"),
    values=("(2, 5)",))
arg("mapping", "nan-data", f"{ML}:predict_voltage",
    {"counts": lazy(lambda: __import__("numpy").ones((3, 50))),
     "kernels": lazy(lambda: __import__("numpy").ones((3, 5)))},
    "counts", _a(3, 50, fill=NAN), values=("nan",))


@lazy
def _passive():
    import numpy as np

    from neurocomp.mapping import passive_system
    m = _ball_morph()
    return passive_system(m, Ri_ohm_cm=100.0, gL_S_per_cm2=np.full(m.n_compartments, 5e-5),
                          Cm_uF_per_cm2=np.ones(m.n_compartments))


MK = "neurocomp.mapping.kernels"
arg("mapping", "negative", f"{MK}:passive_system",
    {"morphology": _ball_morph, "Ri_ohm_cm": 100.0,
     "gL_S_per_cm2": lazy(lambda: __import__("numpy").full(5, 5e-5)),
     "Cm_uF_per_cm2": lazy(lambda: __import__("numpy").ones(5))},
    "gL_S_per_cm2", lazy(lambda: __import__("numpy").full(5, -5e-5)), values=("-5e-05",))
arg("mapping", "shape", f"{MK}:passive_system",
    {"morphology": _ball_morph, "Ri_ohm_cm": 100.0,
     "gL_S_per_cm2": lazy(lambda: __import__("numpy").full(5, 5e-5)),
     "Cm_uF_per_cm2": lazy(lambda: __import__("numpy").ones(5))},
    "Cm_uF_per_cm2", lazy(lambda: __import__("numpy").ones(3)), values=("(3,)", "3"))
IR = {"system": _passive, "inputs": [1], "output": 0,
      "t_ms": lazy(lambda: __import__("numpy").linspace(0, 10, 11))}
arg("mapping", "out-of-range", f"{MK}:impulse_responses", IR, "output", 99)
arg("mapping", "out-of-range", f"{MK}:impulse_responses", IR, "inputs", [1, -2], values=("-2",))
arg("mapping", "nan-data", f"{MK}:impulse_responses", IR, "t_ms", _a(5, fill=NAN),
    values=("nan",))
arg("mapping", "type", f"{MK}:impulse_responses", IR, "system", "ball-and-stick",
    values=("str",))

# -- accounting --------------------------------------------------------------------------

A = "neurocomp.accounting"
FAC = {"value": 2.0, "unit": "1", "source": "s", "low": 1.0, "high": 3.0,
       "distribution": "uniform"}
arg("accounting", "out-of-range", f"{A}.estimates:Factor", FAC, "low", 5.0, fields=("low", "high"))
arg("accounting", "out-of-range", f"{A}.estimates:Factor", FAC, "value", 10.0,
    fields=("value",))
arg("accounting", "unknown-name", f"{A}.estimates:Factor", FAC, "distribution", "cauchy")
arg("accounting", "nan", f"{A}.estimates:Factor", FAC, "value", NAN)
arg("accounting", "type", f"{A}.estimates:Factor", FAC, "value", "2e3")
DEV = {"peak_flop_per_s": 1e12}
arg("accounting", "zero", f"{A}.hardware:Device", DEV, "peak_flop_per_s", 0.0)
arg("accounting", "probability", f"{A}.hardware:Device", DEV, "efficiency", 1.5)
arg("accounting", "negative", f"{A}.hardware:Device", DEV, "peak_flop_per_s", -1e12)
arg("accounting", "negative", f"{A}.hardware:Device", DEV, "memory_bytes", -1.0)
arg("accounting", "inf", f"{A}.hardware:Device", DEV, "peak_flop_per_s", INF)
AB = {"bandwidth_bytes_per_s": 1e10, "latency_s": 1e-6}
arg("accounting", "zero", f"{A}.network:AlphaBeta", AB, "bandwidth_bytes_per_s", 0.0)
arg("accounting", "negative", f"{A}.network:AlphaBeta", AB, "latency_s", -1e-6)
arg("accounting", "type", f"{A}.network:AlphaBeta", AB, "bandwidth_bytes_per_s", "fast")


@lazy
def _link():
    from neurocomp.accounting.network import AlphaBeta
    return AlphaBeta(bandwidth_bytes_per_s=1e10, latency_s=1e-6)


CT_ = {"collective": "allreduce", "n_bytes": 1e6, "n_ranks": 4, "link": _link}
arg("accounting", "unknown-name", f"{A}.network:collective_time_s", CT_, "collective", "scatter2")
arg("accounting", "zero", f"{A}.network:collective_time_s", CT_, "n_ranks", 0)
arg("accounting", "negative", f"{A}.network:collective_time_s", CT_, "n_bytes", -1.0)
arg("accounting", "unknown-name", f"{A}.network:collective_time_s", CT_, "algorithm", "butterfly")
arg("accounting", "float-for-int", f"{A}.network:ring_allreduce_time_s",
    {"n_bytes": 1e6, "n_ranks": 4, "link": _link}, "n_ranks", 1.5)
arg("accounting", "zero", f"{A}.network.collectives:busbw_bytes_per_s",
    {"collective": "allreduce", "n_bytes": 1e6, "n_ranks": 4, "time_s": 1e-3}, "time_s", 0.0)
arg("accounting", "negative", f"{A}.forecast:doublings_needed",
    {"target_flop_per_s": 1e18, "start_flop_per_s": 1e15}, "target_flop_per_s", -1.0)
arg("accounting", "zero", f"{A}.forecast:doublings_needed",
    {"target_flop_per_s": 1e18, "start_flop_per_s": 1e15}, "start_flop_per_s", 0.0)
YR = {"start_year": 2020.0, "start_flop_per_s": 1e15, "target_flop_per_s": 1e18,
      "doubling_period_y": 2.0}
arg("accounting", "zero", f"{A}.forecast:year_reached", YR, "doubling_period_y", 0.0)
arg("accounting", "unknown-name", f"{A}.forecast:year_reached", YR, "rounding", "floor2")
arg("accounting", "nan", f"{A}.forecast:year_reached", YR, "start_year", NAN)
GN = {"target_flop_per_s": 1e18, "flop_per_s_per_device": 1e14}
arg("accounting", "probability", f"{A}.forecast:gpus_needed", GN, "parallel_efficiency", 1.5)
arg("accounting", "zero", f"{A}.forecast:gpus_needed", GN, "parallel_efficiency", 0.0)
arg("accounting", "nan", f"{A}.forecast:gpus_needed", GN, "target_flop_per_s", NAN)
FT = {"years": (2010.0, 2015.0, 2020.0), "flop_per_s": (1e12, 1e13, 1e14)}
arg("accounting", "shape", f"{A}.forecast:fit_trend", FT, "years", (2010.0, 2015.0),
    fields=("years", "flop_per_s"))
arg("accounting", "empty", f"{A}.forecast:fit_trend", FT, "years", (2010.0,),
    fields=("years", "flop_per_s", "points"), values=("1",))
arg("accounting", "negative", f"{A}.forecast:fit_trend", FT, "flop_per_s", (1e12, -1e13, 1e14),
    values=("-1e+13",))
FAB = {"n_bytes": (1e3, 1e4, 1e5, 1e6), "times_s": (1e-5, 2e-5, 1e-4, 1e-3), "n_ranks": 4}
arg("accounting", "out-of-range", f"{A}.ddp:fit_alpha_beta", FAB, "n_ranks", 1)
arg("accounting", "negative", f"{A}.ddp:fit_alpha_beta", FAB, "times_s",
    (1e-5, -2e-5, 1e-4, 1e-3), values=("-2e-05",))
arg("accounting", "negative", f"{A}.machine:roofline_time_s",
    {"flop": 1e9, "n_bytes": 1e6, "peak_flop_per_s": 1e12, "memory_bandwidth_bytes_per_s": 1e11},
    "flop", -1.0)
HS = {"chunk_bytes": 262144.0, "copy_overhead_s": 5e-6}
arg("accounting", "zero", f"{A}.systems:HostStaging", HS, "chunk_bytes", 0.0)
arg("accounting", "huge", f"{A}.systems:HostStaging", HS, "chunk_bytes", 2.0 ** 40)
arg("accounting", "negative", f"{A}.systems:HostStaging", HS, "copy_overhead_s", -1.0)
arg("accounting", "unknown-name", f"{A}.systems:Fabric", {}, "kind", "torus")
arg("accounting", "out-of-range", f"{A}.systems:Fabric", {}, "oversubscription", 0.5)
arg("accounting", "zero", f"{A}.systems:Fabric", {"kind": "fat_tree", "nodes_per_leaf": 4},
    "nodes_per_leaf", 0)


def _node_kwargs() -> dict[str, Any]:
    from neurocomp.accounting.hardware import Device
    from neurocomp.accounting.network import AlphaBeta
    from neurocomp.accounting.systems import HostStaging
    return {"name": "box", "gpu": Device(peak_flop_per_s=1e13), "gpus": 4,
            "pcie": AlphaBeta(bandwidth_bytes_per_s=1.2e10, latency_s=1e-6),
            "cpu_cores_per_socket": 8, "cpu_pcie_lanes_per_socket": 128,
            "nic": AlphaBeta(bandwidth_bytes_per_s=4e9, latency_s=1e-6), "nics": 1,
            "staging": HostStaging(chunk_bytes=262144.0, copy_overhead_s=5e-6)}


NODE = {k: lazy(lambda k=k: _node_kwargs()[k]) for k in
        ("name", "gpu", "gpus", "pcie", "cpu_cores_per_socket", "cpu_pcie_lanes_per_socket",
         "nic", "nics", "staging")}
arg("accounting", "zero", f"{A}.systems:Node", NODE, "gpus", 0)
arg("accounting", "huge", f"{A}.systems:Node", NODE, "gpus", 5000)
arg("accounting", "negative", f"{A}.systems:Node", NODE, "nics", -1)
arg("accounting", "type", f"{A}.systems:Node", NODE, "gpu", "H100", values=("'H100'", "str"))


@lazy
def _node():
    from neurocomp.accounting.systems import Node
    return Node(**_node_kwargs())


@lazy
def _fabric():
    from neurocomp.accounting.systems import Fabric
    return Fabric()


SYS = {"name": "s", "node": _node}
arg("accounting", "zero", f"{A}.systems:System", SYS, "nodes", 0)
arg("accounting", "out-of-range", f"{A}.systems:System", SYS, "nodes", 2, fields=("fabric",))
arg("accounting", "unknown-name", f"{A}.systems:System", SYS, "algorithm", "magic")
arg("accounting", "float-for-int", f"{A}.systems:System", {**SYS, "fabric": _fabric}, "nodes", 2.5)


@lazy
def _layers():
    from neurocomp.accounting import LayerCost
    return [LayerCost(name="fc", forward_flop_per_sample=2e6, parameter_count=10**6,
                      activation_elements_per_sample=1000)]


@lazy
def _system():
    from neurocomp.accounting.systems import System
    return System(name="s", node=_node())


PS = {"layers": _layers, "system": _system, "n_gpus": 4, "batch_per_gpu": 8}
arg("accounting", "zero", f"{A}:plan_on_system", PS, "n_gpus", 0)
arg("accounting", "zero", f"{A}:plan_on_system", PS, "batch_per_gpu", 0)
arg("accounting", "out-of-range", f"{A}:plan_on_system", PS, "n_gpus", 64)
arg("accounting", "empty", f"{A}:plan_on_system", PS, "layers", [], values=("[]",))
arg("accounting", "type", f"{A}:plan_on_system", PS, "system", "DGX-1")


@lazy
def _params():
    from neurocomp_models.brain_estimates import parameter_set
    return parameter_set("kurzweil_1999")


MC = {"params": _params, "n_samples": 100, "rng": _rng}
arg("accounting", "zero", f"{A}:monte_carlo", MC, "n_samples", 0)
arg("accounting", "huge", f"{A}:monte_carlo", MC, "n_samples", 10**13,
    fields=("n_samples", "max_bytes"))
arg("accounting", "type", f"{A}:monte_carlo", MC, "rng", 0)
LC = {"name": "fc", "forward_flop_per_sample": 2e6, "parameter_count": 10**6,
      "activation_elements_per_sample": 1000}
arg("accounting", "negative", f"{A}:LayerCost", LC, "forward_flop_per_sample", -1.0)
arg("accounting", "float-for-int", f"{A}:LayerCost", LC, "parameter_count", 1.5)
arg("accounting", "nan", f"{A}:LayerCost", LC, "forward_flop_per_sample", NAN)


@lazy
def _dev():
    from neurocomp.accounting.hardware import Device
    return Device(peak_flop_per_s=1e13)


ST = {"layers": _layers, "device": _dev, "network": _link, "n_devices": 4,
      "batch_per_device": 8}
arg("accounting", "unknown-name", f"{A}:step_time", ST, "plan", "pipeline")
arg("accounting", "zero", f"{A}:step_time", ST, "n_devices", 0)
SCU = {"layers": _layers, "device": _dev, "network": _link, "device_counts": (1, 2, 4),
       "batch_per_device": 8}
arg("accounting", "empty", f"{A}.parallel:scaling_curve", SCU, "device_counts", (), values=("()",))
arg("accounting", "zero", f"{A}.parallel:scaling_curve", SCU, "device_counts", (0, 2),
    values=("0",))
arg("accounting", "zero", f"{A}.estimates:relative_error", {"rebuilt": 1.0, "published": 2.0},
    "published", 0.0)
arg("accounting", "zero", f"{A}.brain:time_steps_from_latency",
    {"latency_ms": 100.0, "frames_per_s": 30.0}, "frames_per_s", 0.0)
arg("accounting", "unknown-name", f"{A}.estimates:select",
    {"available": lazy(lambda: {"k": _params()}), "names": ["k"]}, "names", ["nosuch"],
    fields=("names", "method"), values=("'nosuch'",),
    note="the names are estimation methods: the message calls an entry 'method'")
arg("accounting", "type", f"{A}:macs_to_flops", {"macs": 1.0}, "macs", "abc")
arg("accounting", "negative", f"{A}:macs_to_flops", {"macs": 1.0}, "macs", -5.0)
arg("accounting", "type", f"{A}:estimate", {"params": _params}, "params", {"neurons": 1e11},
    values=("dict",))
custom("accounting", "zero", "benchmark_machine.repeats=0", ("repeats",),
       lambda: _resolve(f"{A}:benchmark_machine")(repeats=0, quick=True), values=("0",),
       note="the valid call would benchmark the machine: only the bad one is run")
custom("accounting", "unknown-name", "benchmark_machine.clock=wall2", ("clock",),
       lambda: _resolve(f"{A}:benchmark_machine")(clock="wall2", quick=True),
       values=("'wall2'",))


@lazy
def _lin():
    import torch
    return torch.nn.Linear(3, 2)


MTS = {"model": _lin, "example_input": _t(4, 3), "loss": lambda y: y.sum(), "repeats": 1,
       "warmup": 0, "probes": False}
arg("accounting", "zero", f"{A}.machine:measure_training_step", MTS, "repeats", 0)
arg("accounting", "negative", f"{A}.machine:measure_training_step", MTS, "warmup", -1)
CNT = {"module": _lin, "example_input": _t(4, 3)}
arg("accounting", "type", f"{A}:count", CNT, "module", "resnet18", values=("str", "'resnet18'"))
arg("accounting", "negative", f"{A}:count", CNT, "dtype_bytes", -4)
WL = {"name": "w", "description": "d", "batch_per_device": 8, "build": lambda: []}
arg("accounting", "zero", f"{A}.parallel:Workload", WL, "batch_per_device", 0)
arg("accounting", "negative", f"{A}.brain.synaptic:synaptic_event_flop_per_s",
    {"synapses": 1e14, "rate_hz": 1.0, "flop_per_event": 1.0}, "rate_hz", -1.0)
arg("accounting", "unknown-name", f"{A}.estimates:tornado", {"params": _params}, "factors",
    ["nosuch"],
    fields=("factors", "factor"), values=("'nosuch'",))
arg("accounting", "negative", f"{A}.estimates:Published", {"source": "s", "flop_per_s": 1e15},
    "flop_per_s", -1.0)
arg("accounting", "zero", f"{A}.estimates:elasticities", {"params": _params}, "rel_step", 0.0)

# the formulas take floats or arrays of Monte-Carlo samples
arg("accounting", "nan-data", f"{A}.brain.moravec:moravec_flop_per_s",
    {"detections_per_frame": 1e6, "frames_per_s": 10.0, "instructions_per_detection": 100.0,
     "brain_to_retina_ratio": 1e5, "flop_per_instruction": 1.0}, "frames_per_s",
    lazy(lambda: __import__("numpy").array([10.0, float("nan")])), values=("nan",))
arg("accounting", "negative", f"{A}.brain.synaptic:entity_update_flop_per_s",
    {"entities": 1e11, "flop_per_update": 10.0, "updates_per_s": 100.0}, "entities",
    lazy(lambda: __import__("numpy").array([1e11, -1.0])), values=("-1",))


def _dettmers_factors(**change: Any) -> Any:
    params = _resolve("neurocomp_models.brain_estimates:parameter_set")("dettmers_2015")
    factors = {k: f.value for k, f in params.factors().items()}
    factors.update(change)
    return _resolve(f"{A}.brain:dettmers_2015_flop_per_s")(**factors)


custom("accounting", "unknown-name", "dettmers_2015_flop_per_s.granule_cuont=1.0",
       ("granule_cuont",), lambda: _dettmers_factors(granule_cuont=1.0),
       values=("'granule_cuont'",), baseline=lambda: _dettmers_factors())
custom("accounting", "zero", "dettmers_2015_flop_per_s.time_steps=0",
       ("time_steps",), lambda: _dettmers_factors(time_steps=0.0), values=("0",),
       baseline=lambda: _dettmers_factors())
arg("accounting", "zero", f"{A}.forecast:gpus_needed", GN, "max_devices", 0.0)
RF = {"report": lazy(lambda: _resolve(f"{A}:count")(_lin(), _t(4, 3)())),
      "peak_flop_per_s": 1e12, "memory_bandwidth_bytes_per_s": 1e11}
arg("accounting", "type", f"{A}.machine:roofline", RF, "report", "resnet18",
    values=("str", "'resnet18'"))
arg("accounting", "negative", f"{A}.machine:roofline", RF, "peak_flop_per_s", -1.0)
arg("accounting", "unknown-name", f"{A}.machine:roofline", RF, "phases", ("forward", "sideways"),
    values=("'sideways'",))

# -- system files ------------------------------------------------------------------------


def _sysdoc(**changes: Any) -> dict[str, Any]:
    """A valid system file (dict), with ``changes`` applied at dotted paths (None deletes)."""
    doc: dict[str, Any] = {
        "name": "my cluster", "nodes": 2, "algorithm": "auto",
        "fabric": {"kind": "single_switch"},
        "notes": ["test"],
        "node": {"name": "4-GPU box",
                 "gpu": {"name": "G", "peak_flop_per_s": 4.5e12, "efficiency": 1.0,
                         "memory_bytes": 6e9},
                 "gpus": 4,
                 "pcie": {"name": "PCIe 3", "bandwidth_bytes_per_s": 1.2e10, "latency_s": 1e-6},
                 "cpu_cores_per_socket": 6, "cpu_pcie_lanes_per_socket": 128,
                 "nic": {"name": "IB", "bandwidth_bytes_per_s": 4e9, "latency_s": 1e-6},
                 "nics": 1,
                 "staging": {"chunk_bytes": 262144, "copy_overhead_s": 5e-6}}}
    for path, value in changes.items():
        *parents, last = path.split("__")
        d = doc
        for p in parents:
            d = d[p]
        if value is _DELETE:
            del d[last]
        else:
            d[last] = value
    return doc


_DELETE = object()
_sys_counter = [0]


def sysfile(kind: str, id: str, fields: Sequence[str], text: str | bytes | None = None, *,
            values: Sequence[str] = (), note: str = "", **changes: Any) -> None:
    """A system-file case: ``text`` as the file, or the valid file with ``changes``."""
    body = text if text is not None else json.dumps(_sysdoc(**changes), allow_nan=True)
    name = f"system-{id}.json"

    def call() -> Any:
        from neurocomp.accounting import load_system
        return load_system(write_file(name, body))

    def baseline() -> Any:
        from neurocomp.accounting import load_system
        return load_system(write_file("system-valid.json", json.dumps(_sysdoc())))

    CASES.append(Case(id=f"system-file.{id}", pillar="system-file", kind=kind,
                      fields=tuple(fields), values=tuple(values), call=call,
                      baseline=baseline, note=note))


VALID_SYSTEM = json.dumps(_sysdoc())
sysfile("empty", "empty-file", ("system-empty-file.json",), "", values=("JSON",))
sysfile("file", "truncated", ("system-truncated.json",), VALID_SYSTEM[: len(VALID_SYSTEM) // 2],
        values=("JSON",))
sysfile("file", "not-json", ("system-not-json.json",), "name = my cluster\nnodes = 2\n",
        values=("JSON",))
sysfile("file", "binary", ("system-binary.json",), b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01",
        values=("UTF-8", "utf-8", "JSON", "text"))
sysfile("type", "json-list", ("system",), "[1, 2, 3]", values=("list",))
sysfile("type", "json-number", ("system",), "42", values=("int",))
sysfile("missing", "missing-name", ("name",), name=_DELETE)
sysfile("missing", "missing-node", ("node",), node=_DELETE)
sysfile("type", "gpus-str", ("gpus",), values=("'4'",), node__gpus="4")
sysfile("zero", "gpus-0", ("gpus",), values=("0",), node__gpus=0)
sysfile("float-for-int", "gpus-float", ("gpus",), values=("1.5",), node__gpus=1.5)
sysfile("bool", "gpus-bool", ("gpus",), values=("True", "true"), node__gpus=True)
sysfile("nan", "peak-nan", ("peak_flop_per_s",), values=("nan", "NaN"),
        node__gpu__peak_flop_per_s=NAN)
sysfile("negative", "peak-negative", ("peak_flop_per_s",), values=("-1",),
        node__gpu__peak_flop_per_s=-1.0)
sysfile("inf", "peak-inf", ("peak_flop_per_s",), values=("inf", "Infinity"),
        node__gpu__peak_flop_per_s=INF)
sysfile("unknown-name", "unknown-key", ("gpu_count",), values=("'gpu_count'",),
        node__gpu_count=4)
sysfile("zero", "nodes-0", ("nodes",), values=("0",), nodes=0)
sysfile("missing", "no-fabric", ("fabric",), fabric=_DELETE)
sysfile("unknown-name", "fabric-kind", ("kind",), values=("'torus'",),
        fabric={"kind": "torus"})
sysfile("out-of-range", "oversubscription", ("oversubscription",), values=("0.5",),
        fabric={"kind": "single_switch", "oversubscription": 0.5})
sysfile("zero", "chunk-0", ("chunk_bytes",), values=("0",),
        node__staging={"chunk_bytes": 0, "copy_overhead_s": 5e-6})
sysfile("huge", "chunk-huge", ("chunk_bytes",), values=("1e+12",),
        node__staging={"chunk_bytes": 1e12, "copy_overhead_s": 5e-6})
sysfile("shape", "nvlink-pairs", ("pairs",), values=("[0, 1]",),
        node__nvlink={"link": {"bandwidth_bytes_per_s": 2.5e10, "latency_s": 1e-6},
                      "links_per_gpu": 4, "pairs": [[0, 1]]})
sysfile("out-of-range", "nvlink-pair-gpu", ("pairs", "gpu"), values=("9",),
        node__nvlink={"link": {"bandwidth_bytes_per_s": 2.5e10, "latency_s": 1e-6},
                      "links_per_gpu": 4, "pairs": [[0, 9, 1]]})
sysfile("type", "pcie-bandwidth-str", ("bandwidth_bytes_per_s",), values=("'fast'",),
        node__pcie={"bandwidth_bytes_per_s": "fast", "latency_s": 1e-6})
sysfile("negative", "latency-negative", ("latency_s",), values=("-1",),
        node__pcie={"bandwidth_bytes_per_s": 1.2e10, "latency_s": -1.0})
sysfile("unknown-name", "algorithm", ("algorithm",), values=("'magic'",), algorithm="magic")
sysfile("type", "notes-str", ("notes",), values=("str",), notes="see paper")
sysfile("probability", "efficiency", ("efficiency",), values=("2",),
        node__gpu__efficiency=2.0)
sysfile("zero", "cpu-cores-0", ("cpu_cores_per_socket",), values=("0",),
        node__cpu_cores_per_socket=0)
sysfile("missing", "no-staging", ("staging", "rdma"), node__staging=_DELETE)
sysfile("type", "node-list", ("node",), values=("list",), node=[1, 2])
sysfile("huge", "nodes-huge", ("nodes",), values=("1e+30", "1000000000000000019884624838656"),
        nodes=10**30)
CASES.append(Case(id="system-file.missing-file", pillar="system-file", kind="file",
                  fields=("no-such-system.json",), values=("No such file", "not found",
                                                           "does not exist"),
                  call=lambda: _resolve(f"{A}:load_system")(scratch() / "no-such-system.json")))
CASES.append(Case(id="system-file.directory", pillar="system-file", kind="file",
                  fields=(), values=("directory",),
                  call=lambda: _resolve(f"{A}:load_system")(scratch())))

# -- models ------------------------------------------------------------------------------

arg("models", "unknown-name", "neurocomp_models.hardware:gpu", {"name": "V100"}, "name", "H200x",
    fields=("H200x", "gpu"))
arg("models", "unknown-name", "neurocomp_models.hardware:interconnect", {"name": "NDR"}, "name",
    "nvlink9", fields=("nvlink9",))
arg("models", "unknown-name", "neurocomp_models.systems:system", {"name": "DGX-1"}, "name",
    "nosuch", fields=("nosuch",))
arg("models", "unknown-name", "neurocomp_models.workloads:workload", {"name": "alexnet"},
    "name", "vgg", fields=("vgg",))
arg("models", "type", "neurocomp_models.workloads:workload", {"name": "alexnet"}, "name", 3,
    fields=("name",))
arg("models", "unknown-name", "neurocomp_models.brain_estimates:parameter_set",
    {"name": "dettmers_2015"}, "name", "nosuch", fields=("nosuch",))
arg("models", "zero", "neurocomp_models.convnets:alexnet_2012", {"num_classes": 10},
    "num_classes", 0)
arg("models", "negative", "neurocomp_models.convnets:resnet18", {"num_classes": 10},
    "num_classes", -1)
arg("models", "float-for-int", "neurocomp_models.convnets:cifar_net", {"num_classes": 10},
    "num_classes", 2.5)
arg("models", "type", "neurocomp_models.convnets:beniaguev_tcn", {}, "config", "big")
arg("models", "negative", "neurocomp_models.convnets:beniaguev_tcn", {}, "seed", -1)
arg("models", "zero", "neurocomp_models.images:grace_hopper_grey", {"size_px": 64}, "size_px", 0)
arg("models", "out-of-range", "neurocomp_models.channels:calcium_nernst_mV",
    {"temperature_C": 34.0}, "temperature_C", -300.0)
arg("models", "negative", "neurocomp_models.dettmers_neurons:granule_cell", {}, "seed", -1)
arg("models", "unknown-name", "neurocomp_models.dettmers_neurons:granule_cell", {},
    "no_such_field", 1.0, values=("'no_such_field'",))
arg("models", "probability", "neurocomp_models.l5_drive:ModulatedDrive",
    {"exc_rate_hz": 5.0, "inh_rate_hz": 10.0}, "depth", 1.5)
arg("models", "negative", "neurocomp_models.l5_drive:ModulatedDrive",
    {"exc_rate_hz": 5.0, "inh_rate_hz": 10.0}, "exc_rate_hz", -5.0)
arg("models", "unknown-name", "neurocomp_models.surrogates:cheapest_passing",
    {"frontier": lazy(lambda: _resolve("neurocomp_models.surrogates:surrogate_frontier")()),
     "condition": "nmda"}, "condition", "nosuch")
CASES.append(Case(id="models.surrogate_frontier.path=not-json", pillar="models",
                  kind="file",
                  fields=("frontier-bad.json",), values=("JSON",),
                  call=lambda: _resolve("neurocomp_models.surrogates:surrogate_frontier")(
                      write_file("frontier-bad.json", "{oops"))))
arg("models", "zero", "neurocomp_models.neurons.ball_and_stick:ball_and_stick_model",
    {"n_compartments": 5}, "n_compartments", 0, note="models/neurons is the lead's: reported")

# -- CLI ---------------------------------------------------------------------------------


def _user_dir(tmp: Path) -> None:
    (tmp / "user" / "forecast").mkdir(parents=True)
    (tmp / "user" / "forecast" / "thesis.tex").write_text("my thesis\n")


def _user_file_kept(tmp: Path) -> str | None:
    f = tmp / "user" / "forecast" / "thesis.tex"
    if not f.is_file() or f.read_text() != "my thesis\n":
        return "the user's file user/forecast/thesis.tex was changed or removed"
    return None


def _file_out(tmp: Path) -> None:
    (tmp / "afile").write_text("not a directory\n")


def _readonly(tmp: Path) -> None:
    (tmp / "ro").mkdir()
    os.chmod(tmp / "ro", 0o555)


RUN = ("run", "forecast", "--out", "{tmp}/out")
cli("negative", "run.seed=-1", (*RUN, "--seed", "-1"), ("--seed",), values=("-1",))
cli("type", "run.seed=abc", (*RUN, "--seed", "abc"), ("--seed",), values=("'abc'",))
cli("float-for-int", "run.seed=1.5", (*RUN, "--seed", "1.5"), ("--seed",), values=("'1.5'",))
cli("huge", "run.seed=2**32", (*RUN, "--seed", "4294967296"), ("--seed",),
    values=("4294967296",))
cli("nan", "run.seed=nan", (*RUN, "--seed", "nan"), ("--seed",), values=("'nan'",))
cli("empty", "run.out=empty", ("run", "forecast", "--out", ""), ("--out",), values=("''",))
cli("file", "run.out=file", ("run", "forecast", "--out", "{tmp}/afile"), ("--out",),
    values=("afile",), prepare=_file_out)
cli("file", "run.out=under-file", ("run", "forecast", "--out", "{tmp}/afile/sub"), ("--out",),
    values=("afile",), prepare=_file_out)
cli("file", "run.out=cannot-create", ("run", "forecast", "--out", "/proc/neurocomp-out"),
    ("--out",), values=("/proc/neurocomp-out",),
    note="a directory that cannot be made (even by root)")
cli("file", "run.out=user-dir", ("run", "forecast", "--out", "{tmp}/user"),
    ("forecast",), values=("user",), prepare=_user_dir, verify=_user_file_kept,
    note="the user's user/forecast/thesis.tex must survive")
cli("unknown-name", "run.name=nosuch", ("run", "nosuch", "--out", "{tmp}/out"), ("analysis",),
    values=("'nosuch'",))
cli("unknown-name", "run.all+name", ("run", "all", "forecast", "--out", "{tmp}/out"),
    ("all",), values=("'all'",))
cli("zero", "run.jobs=0", (*RUN, "--jobs", "0"), ("--jobs",), values=("0",))
cli("negative", "run.jobs=-2", (*RUN, "--jobs", "-2"), ("--jobs",), values=("-2",))
cli("type", "run.jobs=abc", (*RUN, "--jobs", "abc"), ("--jobs",), values=("'abc'",))
cli("float-for-int", "run.jobs=1.5", (*RUN, "--jobs", "1.5"), ("--jobs",), values=("'1.5'",))
cli("empty", "run.skip=empty", (*RUN, "--skip", ""), ("--skip",), values=("''",))
cli("unknown-name", "run.skip=nosuch", ("run", "all", "--skip", "nosuch", "--out", "{tmp}/out"),
    ("skip",), values=("'nosuch'",))
cli("empty", "run.skip=commas", (*RUN, "--skip", ",,"), ("--skip",), values=("',,'",))
cli("out-of-range", "run.quick+full", (*RUN, "--quick", "--full"), ("--full", "--quick"))
cli("missing", "run.no-names", ("run", "--out", "{tmp}/out"), ("NAME",))
cli("unknown-name", "run.option", (*RUN, "--sed", "3"), ("--sed",))
PLAN = ("plan", "system", "--model", "alexnet", "--system", "DGX-1")
cli("zero", "plan.gpus=0", (*PLAN, "--gpus", "0"), ("--gpus",), values=("0",))
cli("negative", "plan.gpus=-4", (*PLAN, "--gpus", "-4"), ("--gpus",), values=("-4",))
cli("type", "plan.gpus=abc", (*PLAN, "--gpus", "abc"), ("--gpus",), values=("'abc'",))
cli("float-for-int", "plan.gpus=1.5", (*PLAN, "--gpus", "1.5"), ("--gpus",), values=("'1.5'",))
cli("huge", "plan.gpus=huge", (*PLAN, "--gpus", "1000000000000"), ("--gpus",),
    values=("1000000000000",), note="more GPUs than the one chosen system has")
cli("unknown-name", "plan.model=nosuch", ("plan", "system", "--model", "nosuch", "--gpus", "8"),
    ("model",), values=("'nosuch'",))
cli("unknown-name", "plan.system=nosuch",
    ("plan", "system", "--model", "alexnet", "--gpus", "8", "--system", "nosuch"),
    ("system",), values=("'nosuch'",))
cli("zero", "plan.batch=0", (*PLAN, "--gpus", "8", "--batch-per-gpu", "0"),
    ("--batch-per-gpu",), values=("0",))
cli("type", "plan.batch=abc", (*PLAN, "--gpus", "8", "--batch-per-gpu", "abc"),
    ("--batch-per-gpu",), values=("'abc'",))
cli("negative", "plan.batch=-8", (*PLAN, "--gpus", "8", "--batch-per-gpu", "-8"),
    ("--batch-per-gpu",), values=("-8",))
cli("unknown-name", "plan.rdma=maybe", (*PLAN, "--gpus", "8", "--rdma", "maybe"), ("--rdma",),
    values=("'maybe'",))
cli("missing", "plan.no-model", ("plan", "system", "--gpus", "8"), ("--model",))
cli("out-of-range", "plan.system+file",
    (*PLAN, "--gpus", "8", "--system-file", "{tmp}/x.json"), ("--system-file", "--system"))
PF = ("plan", "system", "--model", "alexnet", "--gpus", "4", "--system-file")
cli("file", "plan.system-file=missing", (*PF, "{tmp}/missing.json"), ("missing.json",),
    values=("No such file", "not found", "cannot read"))
cli("empty", "plan.system-file=empty", (*PF, "{file}"), ("sys.json",), values=("JSON",),
    file_text="")
cli("file", "plan.system-file=not-json", (*PF, "{file}"), ("sys.json",), values=("JSON",),
    file_text="gpus: 4\n")
cli("file", "plan.system-file=truncated", (*PF, "{file}"), ("sys.json",), values=("JSON",),
    file_text=VALID_SYSTEM[:100])
cli("file", "plan.system-file=binary", (*PF, "{file}"), ("sys.json",),
    values=("UTF-8", "utf-8", "JSON", "text"), file_bytes=b"\xff\xfe\x00garbage\x80")
cli("file", "plan.system-file=directory", (*PF, "{tmp}"), ("system file",),
    values=("directory", "Is a directory"))
cli("type", "plan.system-file=gpus-str", (*PF, "{file}"), ("gpus",), values=("'4'",),
    file_text=json.dumps(_sysdoc(node__gpus="4")))
cli("nan", "plan.system-file=peak-nan", (*PF, "{file}"), ("peak_flop_per_s",),
    values=("nan", "NaN"), file_text=json.dumps(_sysdoc(node__gpu__peak_flop_per_s=NAN)))
cli("unknown-name", "plan.system-file=unknown-key", (*PF, "{file}"), ("gpu_count",),
    values=("'gpu_count'",), file_text=json.dumps(_sysdoc(node__gpu_count=4)))
cli("zero", "plan.system-file=chunk-0", (*PF, "{file}"), ("chunk_bytes",), values=("0",),
    file_text=json.dumps(_sysdoc(node__staging={"chunk_bytes": 0, "copy_overhead_s": 5e-6})))
cli("out-of-range", "plan.system-file=too-few-gpus",
    ("plan", "system", "--model", "alexnet", "--gpus", "64", "--system-file", "{file}"),
    ("--gpus",), values=("64",), file_text=VALID_SYSTEM,
    note="the one system given has 8 GPUs")


# -- classification ----------------------------------------------------------------------

def _names(message: str, fields: Sequence[str]) -> bool:
    low = message.lower()
    return not fields or any(f.lower() in low for f in fields)


def _shows(message: str, values: Sequence[str]) -> bool:
    return any(v in message for v in values if v) or bool(_RANGE.search(message))


def classify_exception(case: Case, exc: BaseException) -> tuple[str, str]:
    """(outcome, why) of ``exc`` raised by ``case``."""
    message = str(exc) if not isinstance(exc, KeyError) or not exc.args else str(exc.args[0])
    tb = traceback.extract_tb(exc.__traceback__)
    where = tb[-1].filename if tb else ""
    third_party = ("site-packages" in where or where.startswith(sys.base_prefix)
                   or where.startswith("<"))
    if isinstance(exc, CLEAR_TYPES) and third_party:
        return "unclear", f"a raw {type(exc).__name__} from {where}, not neurocomp's check"
    if isinstance(exc, CLEAR_TYPES):
        named, shown = _names(message, case.fields), _shows(message, case.values)
        if named and shown:
            return "clear", ""
        missing = [w for w, ok in (("the field", named), ("the value or range", shown))
                   if not ok]
        return "unclear", f"message lacks {' and '.join(missing)}"
    if third_party:
        return "crash", f"{type(exc).__name__} from {where}"
    return "unclear", f"{type(exc).__name__} (not ValueError/TypeError) from {where}"


def run_api_case(case: Case) -> dict[str, Any]:
    """Run one API case in this process; returns its record (never raises)."""
    sink = io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = case.call()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        outcome, why = classify_exception(case, exc)
        message = str(exc)
        return {"outcome": outcome, "why": why, "exception": type(exc).__name__,
                "message": message[:600], "seconds": time.perf_counter() - start}
    return {"outcome": "silent", "why": "accepted without an error",
            "result": _short(result), "seconds": time.perf_counter() - start}


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


def _cli_command() -> list[str]:
    script = Path(sys.executable).parent / "neurocomp"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "neurocomp"]


def _cli_paths(case: Case, tmp: Path) -> list[str]:
    file = tmp / "sys.json"
    if case.file_text is not None:
        file.write_text(case.file_text)
    if case.file_bytes is not None:
        file.write_bytes(case.file_bytes)
    if case.prepare is not None:
        case.prepare(tmp)
    return [a.replace("{tmp}", str(tmp)).replace("{file}", str(file)) for a in case.argv or ()]


def classify_cli(case: Case, rc: int, stderr: str, tmp: Path) -> tuple[str, str]:
    problem = case.verify(tmp) if case.verify is not None else None
    if problem:
        return "silent", problem
    if rc < 0:
        return "crash", f"killed by signal {-rc}"
    if "Traceback (most recent call last)" in stderr:
        return "crash", "traceback on stderr"
    if rc == 2:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        if _names(last, case.fields) and _shows(last, case.values):
            return "clear", ""
        return "unclear", "exit 2 but the error line lacks the option or the value/range"
    if rc == 0:
        return "silent", "exit 0"
    return "unclear", f"exit {rc} (not 2)"


def _env(library: Path | None) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    if library is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(library),
                                                           env.get("PYTHONPATH"))))
    return env


def run_cli_case(case: Case, *, timeout: float, in_process: bool = False,
                 library: Path | None = None) -> dict[str, Any]:
    """Run one CLI case in a fresh directory (its own process unless ``in_process``)."""
    tmp = Path(tempfile.mkdtemp(prefix="bad-cli-"))
    try:
        argv = _cli_paths(case, tmp)
        start = time.perf_counter()
        if in_process:
            from neurocomp.cli import main
            err, out = io.StringIO(), io.StringIO()
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                    try:
                        rc = main(argv)
                    except SystemExit as exc:
                        rc = exc.code if isinstance(exc.code, int) else 2
            finally:
                os.chdir(cwd)
            stderr = err.getvalue()
        else:
            try:
                proc = subprocess.run([*_cli_command(), *argv], cwd=tmp, env=_env(library),
                                      capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return {"outcome": "hang", "why": f"no exit within {timeout:g} s",
                        "argv": argv, "seconds": timeout}
            rc, stderr = proc.returncode, proc.stderr
        seconds = time.perf_counter() - start
        outcome, why = classify_cli(case, rc, stderr, tmp)
        return {"outcome": outcome, "why": why, "exit_code": rc, "argv": argv,
                "message": stderr.strip()[-600:], "seconds": seconds}
    finally:
        for p in tmp.rglob("*"):
            with contextlib.suppress(OSError):
                if p.is_dir():
                    os.chmod(p, 0o755)
        shutil.rmtree(tmp, ignore_errors=True)


# -- the worker and the runner -----------------------------------------------------------

def worker() -> None:
    """Read case ids on stdin, answer one JSON line each on the original stdout."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything the library prints goes to stderr
    by_id = {c.id: c for c in CASES}
    for line in sys.stdin:
        cid = line.strip()
        if not cid:
            continue
        record = run_api_case(by_id[cid])
        out.write(json.dumps(record) + "\n")


class Worker:
    """A worker process; restarted after it hangs or dies."""

    def __init__(self, scratch_dir: Path, library: Path | None = None) -> None:
        env = {**_env(library), "BAD_INPUTS_TMP": str(scratch_dir), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=scratch_dir,
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def ask(self, cid: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        start = time.perf_counter()
        self.proc.stdin.write(cid + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return {"outcome": "hang", "why": f"no answer within {timeout:g} s",
                    "seconds": time.perf_counter() - start}
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            return {"outcome": "crash", "why": f"worker died (exit {rc})",
                    "seconds": time.perf_counter() - start}
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_ids = [c.id for c in CASES]
assert len(set(_ids)) == len(_ids), sorted({i for i in _ids if _ids.count(i) > 1})


def select_cases(only: Sequence[str]) -> list[Case]:
    if not only:
        return list(CASES)
    return [c for c in CASES if c.pillar in only or any(c.id.startswith(o) for o in only)]


def run_suite(cases: Sequence[Case], *, timeout: float, verbose: bool = True,
              library: Path | None = None) -> list[dict[str, Any]]:
    scratch_dir = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    records = []
    worker_: Worker | None = None
    try:
        for case in cases:
            if case.argv is not None:
                rec = run_cli_case(case, timeout=timeout, library=library)
            else:
                if worker_ is None or not worker_.alive():
                    worker_ = Worker(scratch_dir, library)
                rec = worker_.ask(case.id, timeout)
            rec = {"id": case.id, "pillar": case.pillar, "kind": case.kind, **rec}
            if case.note:
                rec["note"] = case.note
            rec["slow"] = rec.get("seconds", 0.0) > SLOW_S
            records.append(rec)
            if verbose and rec["outcome"] != "clear":
                print(f"{rec['outcome']:>8}  {case.id}: {rec.get('why', '')} | "
                      f"{rec.get('exception', '')} {str(rec.get('message', ''))[:160]!r}",
                      flush=True)
    finally:
        if worker_ is not None:
            worker_.stop()
        shutil.rmtree(scratch_dir, ignore_errors=True)
    return records


def check_baselines(cases: Sequence[Case]) -> int:
    """Run every API case's valid call; each must succeed (else the case is unsound)."""
    bad = 0
    for case in cases:
        if case.baseline is None:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                case.baseline()
        except Exception as exc:
            bad += 1
            print(f"BASELINE FAILS {case.id}: {type(exc).__name__}: {exc}"[:300])
    print(f"{bad} of {sum(c.baseline is not None for c in cases)} baselines fail")
    return bad


def totals(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts = {o: sum(r["outcome"] == o for r in records) for o in OUTCOMES}
    n = len(records)
    by_pillar = {p: {o: sum(r["outcome"] == o for r in records if r["pillar"] == p)
                     for o in OUTCOMES} for p in PILLARS}
    return {"cases": n, **counts, "clear_percent": round(100.0 * counts["clear"] / n, 1)
            if n else 0.0, "slow_cases": sum(r.get("slow", False) for r in records),
            "by_pillar": by_pillar}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", default=[],
                        help="pillars or case-id prefixes to run (default: all)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S)
    parser.add_argument("--check-baselines", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--list", action="store_true", help="list the case ids")
    parser.add_argument("--library", type=Path, default=None,
                        help="run the cases against the neurocomp/models tree in this "
                             "directory (put first on PYTHONPATH of the workers and the CLI)")
    parser.add_argument("--before", type=Path, default=None,
                        help="a results file of the same suite before the fixes: its totals "
                             "and each case's outcome are embedded")
    args = parser.parse_args(argv)
    if args.worker:
        worker()
        return 0
    cases = select_cases(args.only)
    if args.list:
        for c in cases:
            print(c.id)
        print(f"{len(cases)} cases")
        return 0
    if args.check_baselines:
        return 1 if check_baselines(cases) else 0
    load_start = os.getloadavg()
    start = time.perf_counter()
    records = run_suite(cases, timeout=args.timeout, library=args.library)
    summary = totals(records)
    before = None
    if args.before is not None:
        old = json.loads(args.before.read_text())
        outcome = {r["id"]: r for r in old["cases"]}
        for r in records:
            if r["id"] in outcome:
                r["before"] = {k: outcome[r["id"]].get(k) for k in ("outcome", "why", "message")}
        before = {"summary": old["summary"], "library": old.get("library"),
                  "git": old.get("git"), "load_average_start": old.get("load_average_start"),
                  "load_average_end": old.get("load_average_end"),
                  "wall_s": old.get("wall_s")}
    from neurocomp.provenance import environment_info, git_info
    doc = {"benchmark": "bad_inputs",
           "command": " ".join([Path(sys.executable).name, *sys.argv]),
           "summary": summary,
           "before_fixes": before,
           "library": None if args.library is None else str(args.library),
           "classification": {
               "clear": "ValueError/TypeError/KeyError/FileNotFoundError (or CLI exit 2, no "
                        "traceback) naming the argument AND showing the value or what is "
                        "allowed",
               "unclear": "such an error without either, or another type from neurocomp",
               "crash": "another type from numpy/torch/Brian2/stdlib, a signal, a traceback",
               "hang": f"no answer within {args.timeout:g} s",
               "silent": "accepted without an error (harmful: the value is outside the "
                         "documented range)"},
           "timeout_s": args.timeout, "slow_threshold_s": SLOW_S,
           "wall_s": round(time.perf_counter() - start, 1),
           "load_average_start": load_start, "load_average_end": os.getloadavg(),
           "git": git_info(), "environment": environment_info(), "cases": records}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "by_pillar"}))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
