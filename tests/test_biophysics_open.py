"""Brian2 open to the user: the built network, current clamps, quantities, no process-wide
side effects, and progress during code generation and compilation (issue 16, item 4).

Fast tests use a small ball-and-stick model on the numpy target; the cpp_standalone ones
compile (about a minute each on 2 cores) and are marked ``slow``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import io
import os
import pkgutil
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from brian2 import (
    Hz,
    NeuronGroup,
    PopulationRateMonitor,
    StateMonitor,
    Synapses,
    ms,
    mV,
    nA,
    pA,
    second,
    um,
    us,
)
from neurocomp_models.neurons import ball_and_stick_model

import neurocomp.biophysics as bp
from neurocomp.biophysics import CurrentClamp, NeuronPipeline, UnitMismatchError
from neurocomp.biophysics import inputs as spikes
from neurocomp.biophysics.morphology import ball_and_stick
from neurocomp.biophysics.progress import StatusLine
from neurocomp.biophysics.units import in_unit, unit_of_name

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pipe() -> NeuronPipeline:
    return NeuronPipeline(ball_and_stick_model(n_excitatory=20, n_inhibitory=4,
                                               n_compartments=10))


def _inputs(duration_ms: float = 20.0) -> dict:
    rng = np.random.default_rng(0)
    return {"exc": spikes.poisson(n_sources=20, rate_hz=150.0, duration_ms=duration_ms,
                                  rng=rng),
            "inh": spikes.poisson(n_sources=4, rate_hz=5.0, duration_ms=duration_ms, rng=rng)}


# a step into the soma makes the axon fire a few times in 20 ms
KICK = CurrentClamp(index=0, amplitude_nA=1.0, start_ms=2.0, duration_ms=15.0)
RUN = {"duration": 20 * ms, "backend": "numpy", "seed": 3, "clamps": [KICK]}


# -- the built network ------------------------------------------------------------------------

def test_user_monitors_and_a_second_group_fed_by_the_output(pipe):
    ref = pipe.run(_inputs(), **RUN)
    built = pipe.build(_inputs(), **RUN)
    assert set(built.monitors) >= {"traces", "outmon", "inmon_exc", "relmon_exc"}
    terminal = pipe.model.terminal_index
    v_user = StateMonitor(built.neuron, ["v", "m_hh_na"], record=[0, terminal],
                          clock=built.neuron.clock, name="user_v")
    rate = PopulationRateMonitor(built.neuron, name="user_rate")
    target = NeuronGroup(1, "n : 1", name="target")  # a counter of output spikes
    link = Synapses(built.neuron, target, on_pre="n += 1", name="link")
    link.connect(i=terminal, j=0)
    assert built.add(v_user, rate, target, link) is built
    assert [o.name for o in built.user_objects] == ["link", "target", "user_rate", "user_v"]
    rec = built.run()
    # the user's monitor records the very variable the Recording does: tolerance 0
    np.testing.assert_array_equal(v_user.v[0] / mV, rec.traces["v"][rec.site("soma")])
    np.testing.assert_array_equal(v_user.v[1] / mV, rec.traces["v"][rec.site("axon terminal")])
    assert np.all((v_user.m_hh_na >= 0) & (v_user.m_hh_na <= 1))
    # the second group saw every output spike; the rate monitor counted them
    n_out = rec.counts["output_spikes"]
    assert n_out >= 2 and target.n[0] == n_out
    assert float(np.sum(rate.rate * rate.clock.dt)) * built.neuron.N == pytest.approx(n_out)
    # the user's objects change nothing the pipeline records (same seed, same draws)
    for var in ref.traces:
        np.testing.assert_array_equal(rec.traces[var], ref.traces[var])
    assert rec.counts == ref.counts
    with pytest.raises(RuntimeError, match="one run per build"):
        built.run()
    with pytest.raises(RuntimeError, match="one run per build"):
        built.add(StateMonitor(built.neuron, "v", record=[1], name="late"))


def test_user_objects_take_their_constants_from_run_namespace(pipe):
    built = pipe.build(_inputs(), **RUN)
    leaky = NeuronGroup(1, "dx/dt = (1 - x)/tau_user : 1", method="exact", name="leaky")
    built.add(leaky).run(namespace={"tau_user": 5 * ms})
    assert leaky.x[0] == pytest.approx(1 - np.exp(-20 / 5), rel=1e-9)


def test_an_open_standalone_build_is_closed_by_the_next_build(pipe, capsys, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("NEUROCOMP_CACHE", str(tmp_path))
    import brian2

    # building writes no C++ and compiles nothing: cheap
    first = pipe.build(_inputs(), duration=20 * ms, backend="cpp_standalone",
                       clamps=[KICK])
    assert type(brian2.get_device()).__name__ == "CPPStandaloneDevice"
    second = pipe.build(_inputs(), **RUN)
    assert first.closed and "closing the open cpp_standalone build" in capsys.readouterr().err
    assert type(brian2.get_device()).__name__ == "RuntimeDevice"
    assert second.run().counts["output_spikes"] >= 2
    with pipe.build(_inputs(), duration=20 * ms, backend="cpp_standalone") as third:
        assert "built)" in repr(third)
    assert third.closed and type(brian2.get_device()).__name__ == "RuntimeDevice"


# -- current clamps ---------------------------------------------------------------------------

def test_clamp_shapes_and_an_arbitrary_waveform():
    step = CurrentClamp(index=0, amplitude_nA=0.5, start_ms=1.0, duration_ms=2.0)
    w = step.waveform(dt_ms=0.5, duration_ms=5.0)
    np.testing.assert_array_equal(w, [0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    samples = CurrentClamp.from_samples(index=3, current_nA=[0.1, -0.3, 0.2],
                                        sample_dt_ms=1.0, start_ms=1.0)
    assert samples.duration_ms == 3.0 and samples.amplitude_nA == 1.0
    np.testing.assert_array_equal(samples.waveform(dt_ms=0.5, duration_ms=5.0),
                                  [0, 0, 0.1, 0.1, -0.3, -0.3, 0.2, 0.2, 0, 0])
    # a Brian2 current array and sampling step give the same clamp
    same = CurrentClamp.from_samples(index=3, current_nA=np.array([100, -300, 200]) * pA,
                                     sample_dt_ms=1 * ms, start_ms=1 * ms)
    np.testing.assert_allclose(same.samples, samples.samples, rtol=1e-15)
    with pytest.raises(ValueError, match="within ±100 nA"):
        CurrentClamp.from_samples(index=0, current_nA=[1.0, 200.0], sample_dt_ms=1.0)
    with pytest.raises(ValueError, match=r"len\(samples\) × sample_dt_ms"):
        CurrentClamp(index=0, amplitude_nA=1.0, start_ms=0.0, duration_ms=5.0,
                     shape="samples", samples=(1.0, 2.0), sample_dt_ms=1.0)


def test_a_sampled_clamp_equals_the_step_it_samples(pipe):
    # the same current as KICK, written as samples of 0.5 ms: the same run, bit for bit
    sampled = CurrentClamp.from_samples(index=0, current_nA=np.ones(30), sample_dt_ms=0.5,
                                        start_ms=2.0)
    ref = pipe.run(_inputs(), **RUN)
    rec = pipe.build(_inputs(), **(RUN | {"clamps": [sampled]})).run()
    np.testing.assert_array_equal(rec.traces["v"], ref.traces["v"])


# -- quantities -------------------------------------------------------------------------------

def test_quantities_equal_floats_in_the_named_unit():
    as_floats = CurrentClamp(index=0, amplitude_nA=0.5, start_ms=20.0, duration_ms=100.0,
                             shape="epsp", tau_rise_ms=0.5, tau_decay_ms=5.0)
    as_quantities = CurrentClamp(index=0, amplitude_nA=0.5 * nA, start_ms=20 * ms,
                                 duration_ms=0.1 * second, shape="epsp",
                                 tau_rise_ms=500 * us, tau_decay_ms=5 * ms)
    assert as_quantities == as_floats
    m1 = ball_and_stick(soma_diameter_um=20.0, dendrite_length_um=600.0,
                        dendrite_diameter_um=2.0, n_compartments=5)
    m2 = ball_and_stick(soma_diameter_um=20 * um, dendrite_length_um=600 * um,
                        dendrite_diameter_um=2 * um, n_compartments=5)
    for key, col in m1.compartment_table().items():
        np.testing.assert_array_equal(m2.compartment_table()[key], col)
    t1 = spikes.poisson(n_sources=3, rate_hz=40.0, duration_ms=50.0,
                        rng=np.random.default_rng(1))
    t2 = spikes.poisson(n_sources=3, rate_hz=40 * Hz, duration_ms=50 * ms,
                        rng=np.random.default_rng(1))
    np.testing.assert_array_equal(t1.times_ms, t2.times_ms)
    assert in_unit("x_um", np.array([1.0, 2.0]) * um).tolist() == [1.0, 2.0]
    assert in_unit("times_ms", [[1 * ms, 2 * ms], []]) == [[1.0, 2.0], []]
    assert in_unit("start_ms", 3) == 3  # plain numbers pass unchanged


def test_a_quantity_of_the_wrong_dimension_names_field_value_and_dimension():
    with pytest.raises(UnitMismatchError) as err:
        CurrentClamp(index=0, amplitude_nA=0.5, start_ms=5 * mV, duration_ms=10.0)
    msg = str(err.value)
    assert "start_ms" in msg and "5. mV" in msg and "dimension time" in msg
    with pytest.raises(UnitMismatchError, match=r"amplitude_nA .* dimension current"):
        CurrentClamp(index=0, amplitude_nA=0.5 * ms, start_ms=5.0, duration_ms=10.0)
    with pytest.raises(UnitMismatchError, match=r"soma_diameter_um .* dimension length"):
        ball_and_stick(soma_diameter_um=20 * ms, dendrite_length_um=600.0,
                       dendrite_diameter_um=2.0, n_compartments=5)
    assert isinstance(err.value, TypeError)  # a value of the wrong kind


_RESULTS = {"PlateauEvents", "Recording", "AxonVelocity"}  # outputs, not inputs
_NOT_PHYSICAL = {("Gate", "tau_ms")}  # an expression string, not a number


def test_every_public_parameter_with_a_unit_suffix_takes_quantities():
    missing = []
    for info in pkgutil.iter_modules(bp.__path__):
        mod = importlib.import_module(f"neurocomp.biophysics.{info.name}")
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isclass(obj) and name not in _RESULTS:
                fields = [f.name for f in dataclasses.fields(obj)
                          if unit_of_name(f.name) and (name, f.name) not in _NOT_PHYSICAL
                          ] if dataclasses.is_dataclass(obj) else []
                post = getattr(obj, "__post_init__", None)
                if fields and "convert_quantity_fields" not in inspect.getsource(post):
                    missing.append(f"{name} fields {fields}")
                methods = [(f"{name}.{k}", f) for k, f in vars(obj).items()
                           if not k.startswith("_")]
            elif inspect.isfunction(obj):
                methods = [(name, obj)]
            else:
                continue
            for label, f in methods:
                f = getattr(f, "__func__", f)
                if not callable(f) or isinstance(f, type):
                    continue
                try:
                    params = inspect.signature(f).parameters
                except (TypeError, ValueError):
                    continue
                if any(unit_of_name(p) for p in params) and not hasattr(
                        f, "_accepts_quantities"):
                    missing.append(label)
    assert not missing, f"take floats only: {missing}"


# -- no process-wide side effects -------------------------------------------------------------

_TINY_RUN = """
from neurocomp_models.neurons import ball_and_stick_model
from neurocomp.biophysics import NeuronPipeline, import_brian2, inputs
import numpy as np
ms = import_brian2().ms
model = ball_and_stick_model(n_excitatory=2, n_inhibitory=1, n_compartments=3, axon=False)
trains = {"exc": inputs.poisson(n_sources=2, rate_hz=100.0, duration_ms=2.0,
                                rng=np.random.default_rng(0)),
          "inh": inputs.poisson(n_sources=1, rate_hz=10.0, duration_ms=2.0,
                                rng=np.random.default_rng(1))}
rec = NeuronPipeline(model).run(trains, duration=2*ms, backend="numpy")
assert rec.traces["v"].shape[1] == 80
"""


def _python(code: str, tmp_path: Path) -> str:
    env = os.environ | {"NEUROCOMP_CACHE": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_neurocomp_leaves_the_users_excepthook_and_warnings_alone(tmp_path):
    code = ("import sys, warnings, logging, signal\n"
            "def mine(*a): pass\n"
            "sys.excepthook = mine\n"
            "show = warnings.showwarning\n"
            "sigint = signal.getsignal(signal.SIGINT)\n"
            + _TINY_RUN +
            "import brian2\n"
            "print('hook', sys.excepthook is mine)\n"
            "print('warnings', warnings.showwarning is show)\n"
            "print('sigint', signal.getsignal(signal.SIGINT) is sigint)\n"
            "print('stop_on_ctrl_c', brian2.prefs.core.stop_on_keyboard_interrupt)\n"
            "print('cython_cache', brian2.prefs.codegen.runtime.cython.cache_dir)\n"
            "from brian2.utils.logger import BrianLogger as L\n"
            "print('file_log', L.file_handler in logging.getLogger('brian2').handlers,\n"
            "      'neuron' in open(L.tmp_log).read())\n")
    lines = _python(code, tmp_path).split()
    # the user's hook, not sys.__excepthook__ and not Brian2's; Brian2's defaults after the
    # run; Brian2's debug log still there for the user, without neurocomp's run in it
    assert lines == ["hook", "True", "warnings", "True", "sigint", "True",
                     "stop_on_ctrl_c", "True", "cython_cache", "None",
                     "file_log", "True", "False"], lines


def test_brian2_imported_first_keeps_its_prefs_handlers_and_hook(tmp_path):
    code = ("import sys, signal, logging\n"
            "import brian2\n"
            "from brian2.utils.logger import BrianLogger\n"
            "brian2.prefs.codegen.runtime.cython.cache_dir = '/tmp/users-own-cache'\n"
            "brian2.prefs.codegen.target = 'cython'\n"
            "before = {k: repr(v) for k, v in brian2.prefs.items()}\n"
            "hook = sys.excepthook\n"
            "handlers = list(logging.getLogger('brian2').handlers)\n"
            "filters = list(logging.getLogger('brian2.codegen.generators.base').filters)\n"
            "sigint = signal.getsignal(signal.SIGINT)\n"
            + _TINY_RUN +
            "after = {k: repr(v) for k, v in brian2.prefs.items()}\n"
            "print('prefs', sorted(k for k in before if before[k] != after.get(k)))\n"
            "print('hook', sys.excepthook is hook, hook.__name__)\n"
            "print('handlers', logging.getLogger('brian2').handlers == handlers,\n"
            "      BrianLogger.file_handler in handlers)\n"
            "print('filters', logging.getLogger('brian2.codegen.generators.base').filters\n"
            "      == filters)\n"
            "print('sigint', signal.getsignal(signal.SIGINT) is sigint)\n")
    out = _python(code, tmp_path).splitlines()
    assert out == ["prefs []", "hook True brian_excepthook", "handlers True True",
                   "filters True", "sigint True"], out


# -- progress ---------------------------------------------------------------------------------

def _wait_for(line: StatusLine, n: int, timeout_s: float = 60.0) -> None:
    """Until ``line`` has written ``n`` lines (the machine may be loaded)."""
    end = time.monotonic() + timeout_s
    while len(line.lines) < n and time.monotonic() < end:
        time.sleep(0.05)


def test_status_line_in_a_log_writes_a_line_every_few_seconds():
    buf = io.StringIO()  # no file descriptor, not a TTY: written to directly
    with StatusLine("[brian2] compiling", stream=buf, log_every_s=0.2) as line:
        _wait_for(line, 2)
    text = buf.getvalue()
    assert "\r" not in text and text.count("[brian2] compiling … ") >= 2
    assert text.count("\n") == len(line.lines)  # one line each
    assert re.search(r"\n\[brian2\] compiling: done in \d+ s\n$", text), text
    quick = io.StringIO()
    with StatusLine("[brian2] quick", stream=quick, log_every_s=5.0):
        pass
    assert quick.getvalue() == ""  # short steps print nothing


def test_status_line_on_a_terminal_is_rewritten_in_place():
    import pty

    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as tty, StatusLine(
                "[brian2] compiling cpp_standalone (cold build)", stream=tty,
                grace_s=0.1) as line:
            _wait_for(line, 2)
        chunks = []
        while select.select([master], [], [], 0.2)[0]:  # all of it, not the first chunk
            chunks.append(os.read(master, 65536))
        text = b"".join(chunks).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert line._tty and text.count("\r[brian2] compiling cpp_standalone (cold build) … ") >= 2
    assert text.count("\n") == 1 and re.search(r"\r\[brian2\] .*: done in \d+ s", text)


# -- cpp_standalone ---------------------------------------------------------------------------

_STANDALONE_RUNS = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
from brian2 import StateMonitor, mV
from test_biophysics_open import RUN, _inputs
from neurocomp_models.neurons import ball_and_stick_model
from neurocomp.biophysics import NeuronPipeline
pipe = NeuronPipeline(ball_and_stick_model(n_excitatory=20, n_inhibitory=4, n_compartments=10))
run = RUN | {{"backend": "cpp_standalone", "progress": True}}
plain = pipe.run(_inputs(), **run)
keys = []
for k in range({n_user_builds}):
    with pipe.build(_inputs(), **run) as built:
        mon = StateMonitor(built.neuron, "v", record=[0], clock=built.neuron.clock,
                           name="user_v")
        rec = built.add(mon).run()
        keys.append(built.cache_key())
        v = np.asarray(mon.v[0] / mV)   # read before close
    assert np.array_equal(v, rec.traces["v"][0])  # the same variable: tolerance 0
    assert np.array_equal(rec.traces["v"], plain.traces["v"])
    del built, mon  # old objects alive would rename the next build's (pitfall P7)
plain_key = pipe.structure_key(pipe.default_sites(), n_clamps=1)
assert len(set(keys)) == 1 and keys[0] != plain_key and keys[0].startswith(plain_key)
print("ok")
"""


def _standalone_runs(n_user_builds: int, cache: Path) -> str:
    """Run the plain pipeline and ``n_user_builds`` builds with a user monitor on
    cpp_standalone in a fresh process with the cache ``cache``; its stderr."""
    code = _STANDALONE_RUNS.format(tests=str(REPO / "tests"), n_user_builds=n_user_builds)
    env = os.environ | {"NEUROCOMP_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=1200, check=False)
    assert out.returncode == 0 and out.stdout.split()[-1] == "ok", out.stderr[-3000:]
    return out.stderr


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_standalone_user_monitor_cache_key_and_progress(tmp_path):
    err = _standalone_runs(2, tmp_path)
    # two cold builds (the plain network's, then the one with the user's monitor), each
    # said every ~5 s in this log (not a TTY); the second user build reuses the first's
    cold = "[brian2] compiling cpp_standalone (cold build)"
    assert err.count(f"{cold} … ") >= 2 and err.count(f"{cold}: done in") == 2, err[-3000:]
    assert err.count("(100%) simulated in") == 3  # then the run's own report
    # a new process finds both caches: nothing is built from scratch
    err = _standalone_runs(1, tmp_path)
    assert "cold build" not in err, err[-3000:]
