"""The PyTorch engine against Brian2, cable theory and finite differences (issue 17).

Fast tier: a passive ball-and-stick against Brian2 (numpy target) and against the analytic
finite-cable steady state; the HH axon against Brian2 (velocity, |ΔV|); gradcheck of a whole
simulation on a small active tree; determinism; bad inputs. Slow tier: the L5 cell under
Poisson input that makes it fire (deterministic release) against Brian2's cpp_standalone
target, and autograd against finite differences for six of its parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurocomp.biophysics import (
    ChannelDensity,
    CurrentClamp,
    Membrane,
    NeuronModel,
    NeuronPipeline,
    RecordSite,
    SpikeTrains,
    Stages,
    SynapseGroup,
    ball_and_stick,
    detect_spikes,
    finite_cable_steady_state_mV,
    hh_axon_velocity,
    import_brian2,
    inputs,
    morphology,
)
from neurocomp.biophysics.channels import hh_potassium, hh_sodium
from neurocomp.engine import CompartmentalNeuron, simulate


def _passive(n: int = 20) -> NeuronModel:
    morph = ball_and_stick(soma_diameter_um=20, dendrite_length_um=500,
                           dendrite_diameter_um=2, n_compartments=n)
    mem = Membrane(g_leak_S_cm2=1e-4, E_leak_mV=-70.0)
    return NeuronModel(name="bs", morphology=morph, densities={"soma": mem, "dendrite":
                       Membrane(g_leak_S_cm2=1e-4, E_leak_mV=-70.0, Cm_uF_cm2=2.0)},
                       Ri_ohm_cm=150.0, E_rest_mV=-70.0)


def test_passive_cable_matches_brian2() -> None:
    """Mean |ΔV| ≤ 1e-5 mV: the same linear system solved two ways; the only modelling
    difference is the soma's 1 m stand-in resistance (≤ 1e-5 relative, see engine.tree)."""
    b2 = import_brian2()
    model = _passive()
    sites = [RecordSite(label="soma", index=0), RecordSite(label="mid", index=10),
             RecordSite(label="tip", index=20)]
    clamps = [CurrentClamp(index=20, amplitude_nA=0.1, start_ms=1.0, duration_ms=5.0)]
    ref = NeuronPipeline(model).run({}, duration=10 * b2.ms, dt=25 * b2.us, backend="numpy",
                                    record=sites, clamps=clamps)
    got = simulate(model, {}, duration_ms=10.0, dt_ms=0.025, record=sites, clamps=clamps)
    dv = np.abs(ref.traces["v"] - got.traces["v"])
    assert dv.mean() <= 1e-5, dv.mean()
    assert got.backend == "torch" and got.traces["v"].shape == ref.traces["v"].shape


def test_crank_nicolson_is_second_order_backward_euler_first() -> None:
    """A sealed passive cable (20 compartments) driven at one end: the largest error against
    a run at dt 1.6 µs (Crank–Nicolson) shrinks 2x per halving of dt with backward Euler
    and 4x with Crank–Nicolson (seen 2.00 and 4.01), and Crank–Nicolson's error at 0.1 ms
    is over 100x smaller (seen 144x)."""
    morph = morphology.cable(length_um=1000.0, diameter_um=2.0, n_compartments=20,
                             region="dendrite")
    model = NeuronModel(name="cable", morphology=morph, Ri_ohm_cm=100.0, E_rest_mV=0.0,
                        densities={"dendrite": Membrane(g_leak_S_cm2=1e-4, E_leak_mV=0.0)})
    clamp = CurrentClamp(index=0, amplitude_nA=0.05, start_ms=0.0, duration_ms=20.0)
    sites = [RecordSite(label="near", index=0), RecordSite(label="far", index=19)]

    def run(dt: float, method: str) -> np.ndarray:
        return simulate(model, {}, duration_ms=20.0, dt_ms=dt, clamps=[clamp], record=sites,
                        record_dt_ms=0.4, method=method).traces["v"][:, 10:]

    ref = run(0.4 / 256, "crank_nicolson")
    errors = {m: [np.abs(run(dt, m) - ref).max() for dt in (0.1, 0.05, 0.025)]
              for m in ("backward_euler", "crank_nicolson")}
    be, cn = errors["backward_euler"], errors["crank_nicolson"]
    # orders from the error ratios per halving: 2 (first order), 4 (second order); ±10 %
    assert [be[0] / be[1], be[1] / be[2]] == pytest.approx([2.0, 2.0], rel=0.1)
    assert [cn[0] / cn[1], cn[1] / cn[2]] == pytest.approx([4.0, 4.0], rel=0.1)
    assert cn[0] < be[0] / 100


def test_sealed_cable_steady_state_matches_theory() -> None:
    """A uniform cable (no soma) after 20 τ_m: relative error ≤ 2e-3 against the analytic
    finite-cable solution (second-order spatial error at 10 µm compartments, λ ≈ 790 µm,
    plus Brian2's compartment-centre sampling)."""
    L, d, n, rm, ri = 1000.0, 2.0, 100, 1e4, 100.0
    morph = morphology.cable(length_um=L, diameter_um=d, n_compartments=n, region="dendrite")
    model = NeuronModel(name="cable", morphology=morph, Ri_ohm_cm=ri, E_rest_mV=0.0,
                        densities={"dendrite": Membrane(g_leak_S_cm2=1 / rm, E_leak_mV=0.0)})
    clamp = CurrentClamp(index=0, amplitude_nA=0.05, start_ms=0.0, duration_ms=200.0)
    rec = simulate(model, {}, duration_ms=200.0, dt_ms=0.5, clamps=[clamp],
                   record=[RecordSite(label=f"c{k}", index=k) for k in (0, 50, 99)])
    from neurocomp.biophysics import CableParameters

    cab = CableParameters(diameter_um=d, Rm_ohm_cm2=rm, Ri_ohm_cm=ri, Cm_uF_per_cm2=1.0)
    x = (np.array([0, 50, 99]) + 0.5) * L / n
    theory = finite_cable_steady_state_mV(x, cable=cab, length_um=L, current_nA=0.05)
    np.testing.assert_allclose(rec.traces["v"][:, -1], theory, rtol=2e-3)


def _hh_axon_model(length_um: float, dx_um: float) -> NeuronModel:
    morph = morphology.cable(length_um=length_um, diameter_um=476.0,
                             n_compartments=round(length_um / dx_um), region="axon")
    mem = Membrane(g_leak_S_cm2=0.3e-3, E_leak_mV=-65.0 + 10.613, Cm_uF_cm2=1.0,
                   channels=(ChannelDensity(channel=hh_sodium(E_rest_mV=-65.0), gbar=0.12),
                             ChannelDensity(channel=hh_potassium(E_rest_mV=-65.0),
                                            gbar=0.036)))
    return NeuronModel(name="hh_axon", morphology=morph, densities={"axon": mem},
                       Ri_ohm_cm=35.4, E_rest_mV=-65.0, temperature_C=18.5)


def test_hh_axon_velocity_matches_brian2() -> None:
    """Huxley's squid axon (476 µm, 18.5 °C), 10 mm at 100 µm, dt 5 µs: conduction velocity
    within 0.5 % and mean |ΔV| ≤ 0.05 mV of Brian2 on the same discretisation."""
    kw = {"length_um": 10_000.0, "dx_um": 100.0, "dt_ms": 0.005, "duration_ms": 1.5,
          "sites_um": (3_000.0, 7_000.0), "kick_um": 1_000.0, "kick_mV": 60.0}
    ref = hh_axon_velocity(**kw, backend="numpy")
    model = _hh_axon_model(kw["length_um"], kw["dx_um"])
    v0 = np.full(model.morphology.n_compartments, -65.0)
    v0[:10] = -5.0
    rows = [round(s / kw["dx_um"] - 0.5) for s in kw["sites_um"]]
    rec = simulate(model, {}, duration_ms=kw["duration_ms"], dt_ms=kw["dt_ms"], v_init_mV=v0,
                   record=[RecordSite(label=f"x{r}", index=r) for r in rows])
    times = [detect_spikes(rec.t_ms, rec.traces["v"][k], -20.0)[0] for k in range(2)]
    velocity = (rows[1] - rows[0]) * kw["dx_um"] * 1e-6 / ((times[1] - times[0]) * 1e-3)
    assert velocity == pytest.approx(ref.velocity_m_per_s, rel=5e-3)
    assert np.abs(rec.traces["v"] - ref.v_mV).mean() <= 0.05


def _small_active() -> NeuronModel:
    morph = ball_and_stick(soma_diameter_um=15, dendrite_length_um=60,
                           dendrite_diameter_um=1.5, n_compartments=3)
    active = Membrane(g_leak_S_cm2=3e-4, E_leak_mV=-54.4, channels=(
        ChannelDensity(channel=hh_sodium(), gbar=0.12),
        ChannelDensity(channel=hh_potassium(), gbar=0.036)))
    syn = SynapseGroup(name="exc", regions=("dendrite",), n_synapses=2, n_sources=2,
                       compartments=(2, 3), receptors={"ampa": 1.0, "nmda": 0.5})
    return NeuronModel(name="small", morphology=morph, Ri_ohm_cm=100.0, E_rest_mV=-65.0,
                       densities={"soma": active, "dendrite": active}, synapse_groups=(syn,))


def test_first_step_conventions_differ_only_after_a_kick() -> None:
    """Brian2's and NEURON's first steps (gates updated before or after the first solve):
    from the gates' steady state the runs are equal to round-off (the same recurrence);
    from a kicked start they differ, by less at half the dt (an O(dt) start)."""
    model = _small_active()
    n = model.morphology.n_compartments
    quiet = {"exc": SpikeTrains(indices=np.zeros(0, np.int64), times_ms=np.zeros(0),
                                n_sources=2, duration_ms=5.0)}
    clamp = CurrentClamp(index=0, amplitude_nA=0.5, start_ms=1.0, duration_ms=3.0)
    sites = [RecordSite(label="soma", index=0), RecordSite(label="tip", index=n - 1)]
    rest = [simulate(model, quiet, duration_ms=5.0, dt_ms=0.005, clamps=[clamp], record=sites,
                     first_step=f).traces["v"] for f in ("brian2", "neuron")]
    assert rest[0].max() > 0.0  # the clamp fired the cell (seen +43 mV)
    np.testing.assert_allclose(rest[0], rest[1], atol=1e-9)  # the same recurrence (seen 0.0)
    v0 = np.full(n, -65.0)
    v0[0] = -20.0
    gaps = []
    for dt in (0.005, 0.0025):
        kicked = [simulate(model, quiet, duration_ms=5.0, dt_ms=dt, v_init_mV=v0, record=sites,
                           first_step=f).traces["v"] for f in ("brian2", "neuron")]
        gaps.append(np.abs(kicked[0] - kicked[1]).mean())
    assert gaps[0] > 1e-3  # a real difference (seen 0.31 mV mean |ΔV|)
    assert gaps[1] < 0.75 * gaps[0]  # O(dt): seen 0.15 mV at half the dt


@pytest.mark.parametrize("method", ["backward_euler", "crank_nicolson"])
def test_gradcheck_whole_simulation_small_tree(method: str) -> None:
    """torch.autograd.gradcheck (float64, its default eps 1e-6 and tolerances) of the soma
    trace with respect to channel densities, axial resistivity and synaptic weights, with
    either voltage integrator."""
    cell = CompartmentalNeuron(_small_active(), dt_ms=0.025, record=(0, 3),
                               trainable=("gbar_hh_na", "Ri_ohm_cm", "w_exc_ampa",
                                          "w_exc_nmda"), method=method)
    drive = torch.zeros(1, 40, 2, dtype=torch.float64)
    drive[0, 2, 0] = drive[0, 5, 1] = 1.0
    names = cell.trainable
    everything = cell.parameters_by_name()

    def f(*values):
        current = everything | dict(zip(names, values, strict=True))
        cell.parameters_by_name = lambda: current
        return cell({"exc": drive}).v_mV

    args = [everything[n].detach().clone().requires_grad_() for n in names]
    assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_checkpointed_backward_equals_plain_backward() -> None:
    """Recomputing windows gives the same gradients (to 1e-12 relative: the same ops) for
    the cell's parameters and for the input tensors — the drive (a layer upstream would
    produce it) and the injected current — which reach the windows as explicit inputs."""
    grads = []
    for ckpt in (False, True):
        cell = CompartmentalNeuron(_small_active(), trainable=("w_exc_ampa", "gbar_hh_k"),
                                   checkpoint=ckpt, window=10)
        drive = torch.zeros(2, 60, 2, dtype=torch.float64)
        drive[:, 3, 0] = 1.0
        drive[1, 20, 1] = 2.0
        drive.requires_grad_(True)
        i_ext = torch.zeros(60, 2, cell.spec.tree.n_nodes, dtype=torch.float64)
        i_ext[10:40, :, 0] = 0.05
        i_ext.requires_grad_(True)
        cell({"exc": drive}, i_ext=i_ext).v_mV.pow(2).mean().backward()
        grads.append(torch.cat([cell.w_exc_ampa.grad.flatten(), cell.gbar_hh_k.grad,
                                drive.grad.flatten(), i_ext.grad.flatten()]))
        assert drive.grad.abs().sum() > 0 and i_ext.grad.abs().sum() > 0  # both reached
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=0)


def test_checkpointed_forward_keeps_no_per_step_graph() -> None:
    """With checkpointed windows the autograd graph holds a node per window, not the ~500
    per step of the plain pass (which, kept alive, made memory grow with the run length)."""
    def graph_nodes(ckpt: bool) -> int:
        cell = CompartmentalNeuron(_small_active(), trainable=("w_exc_ampa",),
                                   checkpoint=ckpt, window=20)
        drive = torch.zeros(1, 200, 2, dtype=torch.float64)
        drive[0, ::40, 0] = 1.0
        out = cell({"exc": drive}).v_mV
        seen, stack = set(), [out.grad_fn]
        while stack:
            f = stack.pop()
            if f is not None and f not in seen:
                seen.add(f)
                stack += [g for g, _ in f.next_functions]
        return len(seen)
    plain, ckpt = graph_nodes(False), graph_nodes(True)
    assert plain > 50 * 200  # every step's operations recorded (seen 21,399)
    assert ckpt <= 10 * (200 // 20), (plain, ckpt)  # seen 14: the windows' nodes only


def test_checkpointed_windows_save_views_of_the_input_not_dense_copies() -> None:
    """A checkpointed window keeps its inputs for the backward pass; the tensor input must
    be kept as slices of the caller's tensor (no memory of its own), and no window's dense
    drive (window × batch × slots × nodes) may be kept: over a 1 s run at batch 16 those
    copies were the bulk of a 9 GiB peak."""
    cell = CompartmentalNeuron(_small_active(), trainable=("w_exc_ampa",), checkpoint=True,
                               window=20)
    drive = torch.zeros(2, 200, 2, dtype=torch.float64)
    drive[:, ::40, 0] = 1.0
    drive.requires_grad_(True)
    saved: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        out = cell({"exc": drive}).v_mV
    n_nodes, k = cell.spec.tree.n_nodes, len(cell.spec.slots)
    dense = [t for t in saved if t.shape == (20, 2, k, n_nodes)]
    slices = [t for t in saved if t.shape == (2, 20, 2)]
    assert not dense, [t.shape for t in dense]
    assert len(slices) == 200 // 20  # one slice per window (seen 10)
    ptr = drive.untyped_storage().data_ptr()
    assert all(t.untyped_storage().data_ptr() == ptr for t in slices)  # views, not copies
    out.sum().backward()
    assert drive.grad.abs().sum() > 0  # the gradient still reaches the input


def test_same_seed_same_spikes_with_stochastic_release() -> None:
    model = _small_active()
    trains = inputs.poisson(n_sources=2, rate_hz=400.0, duration_ms=30.0,
                            rng=np.random.default_rng(3))
    runs = [simulate(model, {"exc": trains}, duration_ms=30.0, dt_ms=0.025, seed=s,
                     stages=Stages(release="stochastic")) for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0].traces["v"], runs[1].traces["v"])
    assert not np.array_equal(runs[0].traces["v"], runs[2].traces["v"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dt_ms": 0.0}, "dt_ms must be a finite number > 0"),
    ({"dt_ms": 0.2}, r"too large .* allowed range"),
    ({"params": {"gbar_hh_na": np.full(4, -1.0)}}, r"negative value .* ≥ 0"),
    ({"params": {"Ri_ohm_cm": float("nan")}}, "NaN"),
    ({"params": {"w_exc_ampa": np.ones(3), "gbar_hh_k": np.ones((2, 4))}}, "batch sizes"),
    ({"params": {"nope": 1.0}}, "unknown parameters"),
    ({"duration_ms": 10.0, "inputs": "long"}, "outside the simulated duration"),
    ({"first_step": "nest"}, "first_step must be one of 'brian2', 'neuron'; got 'nest'"),
    ({"method": "rk4"}, "method must be one of 'backward_euler', 'crank_nicolson'; got 'rk4'"),
    ({"block": 3}, "block must be a power of two"),
    ({"block": 0}, r"block must be an integer in \[1, inf\]; got 0"),
])
def test_bad_inputs_are_refused(kwargs, match) -> None:
    model = _small_active()
    trains = inputs.poisson(n_sources=2, rate_hz=50.0, duration_ms=20.0,
                            rng=np.random.default_rng(0))
    kw = {"duration_ms": 20.0, "dt_ms": 0.025, "inputs": {"exc": trains}} | kwargs
    if kw["inputs"] == "long":
        kw["inputs"] = {"exc": trains}
    with pytest.raises(ValueError, match=match):
        simulate(model, kw.pop("inputs"), **kw)


def test_events_made_dense_only_at_their_steps_equal_the_dense_window() -> None:
    """``Events.at_steps`` (the blocked path's inputs) against ``Events.window`` on the same
    events: exactly the steps that hold events, with the same increments (exact: the same
    additions in the same order), and nothing else; a window without events gives none."""
    from neurocomp.engine.inputs import Events

    rng = np.random.default_rng(5)
    n_ev, batch, slots, nodes = 40, 3, 2, 7
    step = np.sort(rng.integers(0, 90, n_ev))
    flat = ((rng.integers(0, batch, n_ev) * slots + rng.integers(0, slots, n_ev)) * nodes
            + rng.integers(0, nodes, n_ev))
    ev = Events(batch=batch, n_slots=slots, n_nodes=nodes, step=torch.as_tensor(step),
                flat=torch.as_tensor(flat), amount=torch.as_tensor(rng.random(n_ev)), dense=[])
    for start, stop in ((0, 40), (37, 90), (10, 11)):
        offs, dense = ev.at_steps(start, stop, torch.float64, "cpu")
        full = ev.window(start, stop, torch.float64, "cpu")
        held = sorted({int(s) - start for s in step if start <= s < stop})
        assert offs == held
        assert torch.equal(full[offs], dense) if offs else dense is None
        rest = [k for k in range(stop - start) if k not in held]
        assert not full[rest].any()
    assert ev.at_steps(90, 120, torch.float64, "cpu") == ([], None)


@pytest.mark.gpu
def test_runs_on_cuda_unchanged() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    model = _small_active()
    a = simulate(model, {}, duration_ms=5.0, dt_ms=0.025, device="cuda")
    b = simulate(model, {}, duration_ms=5.0, dt_ms=0.025)
    np.testing.assert_allclose(a.traces["v"], b.traces["v"], atol=1e-9)


@pytest.fixture(scope="module")
def l5():
    from neurocomp_models.neurons import l5_pyramidal

    return l5_pyramidal()


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_l5_cell_matches_brian2_while_spiking(l5) -> None:
    """100 ms of Poisson input strong enough to make the cell fire (exc 40 Hz, inh 2 Hz per
    source), deterministic release: at least 3 output spikes, mean |ΔV| ≤ 0.05 mV at each
    of the pipeline's 5 default sites, every output spike within one dt (25 µs) of Brian2's
    (cpp_standalone, same dt)."""
    b2 = import_brian2()
    stages = Stages(release="deterministic")
    rng = np.random.default_rng(1)
    n = l5.synapse_groups[0].n_sources
    ins = {"exc": inputs.poisson(n_sources=n, rate_hz=40.0, duration_ms=100.0, rng=rng),
           "inh": inputs.poisson(n_sources=n, rate_hz=2.0, duration_ms=100.0, rng=rng)}
    pipe = NeuronPipeline(l5, stages=stages)
    sites = pipe.default_sites()
    ref = pipe.run(ins, duration=100 * b2.ms, dt=25 * b2.us, backend="cpp_standalone",
                   record=sites)
    got = simulate(l5, ins, duration_ms=100.0, dt_ms=0.025, stages=stages, record=sites,
                   threads=1)
    dv = np.abs(ref.traces["v"] - got.traces["v"]).mean(axis=1)
    assert len(sites) >= 3 and (dv <= 0.05).all(), dv
    out_ref, out_got = ref.spikes_ms["output"], got.spikes_ms["output"]
    assert out_ref.size >= 3
    assert out_ref.size == out_got.size
    np.testing.assert_allclose(out_got, out_ref, atol=0.025 + 1e-9)


@pytest.mark.slow
def test_l5_nernst_calcium_matches_brian2_in_a_spike_train(l5) -> None:
    """E_Ca following cai (Nernst, the L5 cell with cao 2 mM): a 300 ms somatic step of
    0.8 nA makes the cell fire a train and the somatic cai rise several-fold, so E_Ca moves
    by tens of mV. The engine
    against Brian2 (cpp_standalone, same dt): mean |ΔV| ≤ 0.05 mV at each default site and
    every spike within one dt; and Brian2's own ``eca`` equals (RT/2F)·ln(cao/cai) of the
    step's starting cai (recorded at every step: to 1e-9 mV), i.e. the wiring is as
    documented, with E_Ca actually moving (≥ 10 mV below its resting value)."""
    from dataclasses import replace

    from neurocomp.biophysics import CurrentClamp, calcium_rt_2f_mV

    b2 = import_brian2()
    l5 = replace(l5, calcium_outside_mM=2.0)  # Hay's cao
    clamp = CurrentClamp(index=0, amplitude_nA=0.8, start_ms=20.0, duration_ms=300.0)
    pipe = NeuronPipeline(l5, stages=Stages(release="deterministic"))
    sites = pipe.default_sites()
    silent = {g.name: inputs.from_times([[]] * g.n_sources, duration_ms=330.0)
              for g in l5.synapse_groups}
    ref = pipe.run(silent, duration=330 * b2.ms, dt=25 * b2.us, backend="cpp_standalone",
                   record=sites, clamps=[clamp], variables=["v", "cai", "eca"])
    got = simulate(l5, silent, duration_ms=330.0, dt_ms=0.025,
                   stages=Stages(release="deterministic"), record=sites, clamps=[clamp],
                   threads=1)
    dv = np.abs(ref.traces["v"] - got.traces["v"]).mean(axis=1)
    assert (dv <= 0.05).all(), dv
    out_ref, out_got = ref.spikes_ms["output"], got.spikes_ms["output"]
    assert out_ref.size >= 3 and out_ref.size == out_got.size
    np.testing.assert_allclose(out_got, out_ref, atol=0.025 + 1e-9)
    cai, eca = ref.traces["cai"][0], ref.traces["eca"][0]  # soma
    nernst = calcium_rt_2f_mV(l5.temperature_C) * np.log(l5.calcium_outside_mM / cai)
    # the monitor samples at the step's start, after the run_regularly at "start": the
    # recorded eca is from the cai recorded with it
    np.testing.assert_allclose(eca, nernst, atol=1e-9)
    assert eca.min() <= eca[0] - 10.0


@pytest.mark.slow
def test_l5_autograd_matches_finite_differences(l5) -> None:
    """d(mean soma V over 15 ms)/d(scale) for six parameters by autograd vs central finite
    differences (relative step 1e-5, float64): within 1 %."""
    names = ("gbar_NaTa_t", "gbar_Ih", "g_leak_S_cm2", "Ri_ohm_cm", "w_exc_ampa",
             "w_exc_nmda")
    cell = CompartmentalNeuron(l5, trainable=names, record=(0,))
    steps = 600
    n_exc = l5.synapse_groups[0].n_sources
    drive = torch.zeros(1, steps, n_exc, dtype=torch.float64)
    drive[0, 40:400:40, : n_exc // 3] = 1.0
    ins = {"exc": drive, "inh": torch.zeros_like(drive)}
    base = {n: getattr(cell, n).detach().clone() for n in names}

    everything = cell.parameters_by_name()

    def loss(scales):
        values = everything | {n: base[n] * sc for n, sc in zip(names, scales, strict=True)}
        cell.parameters_by_name = lambda: values
        return cell(ins).v_mV.mean()

    scales = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in names]
    grads = torch.autograd.grad(loss(scales), scales)
    h = 1e-5
    for k, n in enumerate(names):
        with torch.no_grad():
            up = [torch.tensor(1.0 + (h if j == k else 0.0), dtype=torch.float64)
                  for j in range(len(names))]
            dn = [torch.tensor(1.0 - (h if j == k else 0.0), dtype=torch.float64)
                  for j in range(len(names))]
            fd = (loss(up) - loss(dn)) / (2 * h)
        assert grads[k].item() == pytest.approx(fd.item(), rel=1e-2), n
