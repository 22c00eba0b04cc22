"""The surrogate-depth analysis on synthetic data: regime checks, verdicts, claims, a full
(tiny) run. The Brian2 data set itself is exercised by the slow tier and the paper run."""

from __future__ import annotations

import neurocomp_analyses.surrogate_depth as sd
import numpy as np
import pandas as pd
import pytest
from neurocomp_models.neuronio import CONDITIONS

from neurocomp.mapping import NeuronIO, NeuronIODataset

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _sequence(rng: np.random.Generator, n_channels: int, n_bins: int, *, nmda: bool,
              onset_burst: bool = False) -> tuple[NeuronIO, np.ndarray]:
    x = (rng.random((n_channels, n_bins)) < 0.01).astype(np.uint8)
    drive = x[: n_channels // 2].sum(0) - 0.5 * x[n_channels // 2:].sum(0)
    kernel = np.exp(-np.arange(60) / 15.0)
    v = -70.0 + 0.8 * np.convolve(drive, kernel)[:n_bins]
    if nmda:  # a supralinear term: the stand-in for NMDA plateaus
        v = v + 0.05 * np.maximum(v + 66.0, 0.0) ** 2
    spikes = (v > np.quantile(v, 0.997)).astype(np.uint8)
    if onset_burst:
        spikes[:50:10] = 1
    dend = np.where(np.arange(n_bins) % 1000 < (40 if nmda else 0), -30.0, -70.0)
    return NeuronIO(inputs=x, soma_mV=v, spikes=spikes, bin_ms=1.0), np.tile(dend, (3, 1))


def _dataset(name: str, *, n_bins: int = 1500, seed: int = 0) -> NeuronIODataset:
    cond = CONDITIONS[name]
    channels = cond.channels()
    rng = np.random.default_rng(seed)
    splits, dend = {}, {}
    for split, n in (("train", 3), ("val", 1), ("test", 2)):
        pairs = [_sequence(rng, channels.n_channels, n_bins, nmda=name == "nmda")
                 for _ in range(n)]
        splits[split] = [p[0] for p in pairs]
        dend[split] = [p[1].astype(np.float16) for p in pairs]
    manifest = {"key": f"synthetic-{name}",
                "generation": {"condition": name, "bin_ms": 1.0, "burn_in_ms": 2000.0,
                               "sequence_ms": float(n_bins), "n_train": 3, "n_val": 1,
                               "n_test": 2, "seed": 0}}
    return NeuronIODataset(manifest=manifest, splits=splits, channels=channels, dend_mV=dend,
                           diagnostics={"run_s": [3.5 * (2.0 + n_bins / 1e3)] * 6})


def test_regime_counts_rates_onset_and_plateaus():
    ds = _dataset("nmda")
    r = sd.regime(ds)
    seqs = [s for split in ("train", "val", "test") for s in ds.splits[split]]
    spikes = sum(int(s.spikes.sum()) for s in seqs)
    seconds = sum(s.spikes.size for s in seqs) / 1e3
    assert r["output_rate_hz"] == pytest.approx(spikes / seconds, rel=1e-12)  # a count
    # 40 ms at -30 mV every second at 3 sites: one plateau (>= 20 ms above -40 mV) per
    # site-second, up to the edges of the sequences (1.5 s: two starts in each)
    assert r["plateaus_per_site_s"] == pytest.approx(2 / 1.5, rel=1e-9)
    assert sd.regime(_dataset("ampa"))["plateaus_per_site_s"] == 0.0  # none drawn
    # onset: the rate in the first 500 ms is counted apart from the rest (exact partition)
    onset_s, rest_s = len(seqs) * 0.5, seconds - len(seqs) * 0.5
    total = r["onset_rate_hz"] * onset_s + r["steady_rate_hz"] * rest_s
    assert total == pytest.approx(spikes, rel=1e-12)


def test_verdicts_and_claim_are_written_from_the_scores():
    rows = []
    for cond, aucs in (("ampa", {"linear": 0.90, "LN": 0.91, "TCN-1": 0.948, "TCN-2": 0.950,
                                 "ELM": 0.949}),
                       ("nmda", {"linear": 0.85, "LN": 0.86, "TCN-1": 0.90, "TCN-2": 0.93,
                                 "TCN-7": 0.96, "ELM": 0.958})):
        for m, a in aucs.items():
            rows.append({"condition": cond, "model": m, "spike_auc": a,
                         "parameters": 100_000 if m.startswith("TCN") else 1_000})
    v = sd.verdicts(pd.DataFrame(rows))
    assert v["best_minus_one_hidden_auc_ampa"] == pytest.approx(0.002, abs=1e-12)
    assert v["ampa_one_hidden_within_tolerance"]  # 0.002 <= 0.005
    assert v["deep_minus_one_hidden_auc_nmda"] == pytest.approx(0.06, abs=1e-12)
    assert v["nmda_depth_gain_met"] and v["nmda_auc_bar_met"]
    assert v["tcn_to_elm_parameter_ratio_nmda"] == pytest.approx(100.0)
    assert v["elm_matches_tcn_with_fewer_parameters"]  # -0.002 AUC, 100x fewer
    regimes = pd.DataFrame([{"condition": "nmda", "steady_rate_hz": 2.5,
                             "plateaus_per_site_s": 0.4},
                            {"condition": "ampa", "steady_rate_hz": 6.0,
                             "plateaus_per_site_s": 0.0}])
    claim = sd.claim_sentence(v, regimes, sd.QUICK)
    # every number in the claim comes from the inputs above; a regime outside the band says so
    for text in ("0.5 min", "2.5 Hz", "6.0 Hz", "OUTSIDE", "0.002 AUC below", "TCN-7",
                 "0.960", "0.060 AUC above", "100×", "0.002 AUC below the best TCN"):
        assert text in claim, text
    # the contrast Beniaguev et al. report: depth gains more with NMDA (+0.060) than
    # without (TCN-2 0.950 over TCN-1 0.948: +0.002), by more than the 0.02 target
    assert "with NMDA (+0.060 AUC) exceeds the gain without NMDA (+0.002) by 0.02" in claim
    # and a failed target is reported as failed
    deep = pd.DataFrame(rows).model.isin(["TCN-2", "TCN-7"])
    worse = pd.DataFrame(rows).assign(spike_auc=lambda f: np.where(
        (f.condition == "nmda") & deep, 0.91, f.spike_auc))  # deep only +0.01
    v2 = sd.verdicts(worse)
    assert not v2["nmda_depth_gain_met"]
    assert "NOT met" in sd.claim_sentence(v2, regimes, sd.QUICK)


def test_a_depth_gain_inside_overlapping_intervals_is_not_resolved():
    rows = [{"condition": c, "model": m, "spike_auc": a, "spike_auc_lo": a - w,
             "spike_auc_hi": a + w, "parameters": 10}
            for c in ("nmda", "ampa")
            for m, a, w in (("linear", 0.83, 0.04), ("TCN-1", 0.79, 0.04),
                            ("TCN-3", 0.815, 0.035), ("ELM", 0.85, 0.03))]
    v = sd.verdicts(pd.DataFrame(rows))
    assert v["nmda_depth_gain_met"]  # +0.025 ≥ 0.02 on the point estimates
    assert not v["deep_gain_resolved_nmda"]  # 0.780 (deep lo) < 0.830 (one layer hi)
    regimes = pd.DataFrame([{"condition": c, "steady_rate_hz": 3.0, "plateaus_per_site_s": 0.1}
                            for c in ("nmda", "ampa")])
    claim = sd.claim_sentence(v, regimes, sd.QUICK)
    # the claim says the gain is not resolved, and that the TCNs are below the linear filter
    assert "NOT resolved" in claim and "0.780" in claim and "0.830" in claim
    assert "below the linear filter (0.830)" in claim
    # go/no-go: one hidden layer below linear in both conditions → no nonlinear structure
    assert "no nonlinear structure" in sd._go_no_go({"nmda": -0.04, "ampa": -0.04})
    assert "larger with NMDA" in sd._go_no_go({"nmda": 0.05, "ampa": 0.01})


def test_equal_receptive_field_models_and_branches():
    ds = _dataset("nmda", n_bins=600)
    cond = CONDITIONS["nmda"]
    branches = sd._branches(ds, cond)
    # exc and inh channels of one compartment go to the same branch (its section)
    half = ds.channels.n_channels // 2
    assert branches[:half] == branches[half:]
    plan = sd.QUICK
    models = sd.build_models("tcn", n_in=ds.channels.n_channels, plan=plan, v_mean=-65.0,
                             exc_mask=ds.channels.exc_mask, branches=branches)
    rfs = {m.config.receptive_field_steps for m in models.values()}
    assert rfs == {plan.receptive_field_ms}  # depth is not confounded with memory


def test_tiny_run_end_to_end(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    data = {"nmda": _dataset("nmda", n_bins=800), "ampa": _dataset("ampa", n_bins=800, seed=1)}
    monkeypatch.setattr(sd, "load_data", lambda plan, progress=True, backend="brian2": data)
    plan = sd.Plan(n_train=3, n_val=1, n_test=2, sequence_ms=800.0, depths=(1, 2),
                   width=4, projection=4, elm_memory_units=2, epochs=1,
                   max_steps_per_epoch=2, window_bins=300, n_boot=20, patience=1)
    result = sd.run(plan=plan, seed=0)
    models = set(result.scores["model"])
    assert models == {"linear", "LN", "TCN-1", "TCN-2", "ELM", "Branch-ELM"}
    assert set(result.diagnostic["model"]) == {"linear", "LN", "TCN-1"}
    assert (result.scores["flop_per_ms"] > 0).all()  # counted, never left at zero
    for _, row in result.scores.iterrows():  # the interval holds its point estimate
        assert row.spike_auc_lo <= row.spike_auc <= row.spike_auc_hi
    assert f"{plan.train_s / 60:.1f} min" in result.claim
    assert result.headline["simulation_wall_s_per_bio_s_nmda"] == pytest.approx(3.5)
    assert result.headline["simulation_source_nmda"] == "Brian2 binary"
    out = result.save(tmp_path / sd.NAME)
    assert (out / "figure.png").exists() and (out / "data.csv").exists()


def test_simulation_cost_names_the_simulator_that_made_the_data():
    """Brian2's binary where it ran; otherwise the engine's per-sequence share; otherwise
    NaN with no simulator named (never a number of one simulator labelled as another)."""
    import dataclasses

    ds = _dataset("nmda", n_bins=1000)  # run_s = 3.5 s per biological second (3 s chunks)
    assert sd._simulation_cost(ds) == (pytest.approx(3.5), "Brian2 binary")
    engine = dataclasses.replace(ds, diagnostics={"engine_s": [1.2, 0.9, 1.5]})
    cost, source = sd._simulation_cost(engine)
    assert cost == pytest.approx(1.2 / 3.0) and source.startswith("PyTorch engine")
    cost, source = sd._simulation_cost(dataclasses.replace(ds, diagnostics={}))
    assert np.isnan(cost) and source == "no simulator"


def test_a_gap_that_rounds_onto_its_target_keeps_a_fourth_decimal():
    # 0.0196 is below the 0.02 target: "0.020 AUC above ... NOT met" would read as a
    # contradiction, so the digit that decides it is shown
    assert sd._gap(0.0196, target=0.02) == "0.0196 AUC above"
    assert sd._gap(0.0196) == "0.020 AUC above"
    assert sd._gap(0.0254, target=0.02) == "0.025 AUC above"  # far from it: three
    assert sd._gap(-0.0052, target=0.005) == "0.0052 AUC below"
