"""NeuronIO-mini: Beniaguev-style input statistics, cache keys, generation, resume, loading.

The end-to-end tests use a cheap stand-in for the biophysical cell (a leaky integrator of
the inputs with a threshold, starting far from rest so that an un-discarded burn-in would
show), never Brian2.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from neurocomp.distributed import load_chunk
from neurocomp.mapping.neuronio import (
    FORMAT,
    GenerationSpec,
    dataset_key,
    draw_sequence_inputs,
    generate_dataset,
    load_dataset,
)
from neurocomp.mapping.neuronio_inputs import ChannelTable, InputStatistics, generate_inputs


def _channels(n_basal: int = 3, n_apical: int = 3) -> ChannelTable:
    n = n_basal + n_apical
    return ChannelTable.per_compartment(
        subtree=["basal"] * n_basal + ["apical"] * n_apical,
        length_um=[10.0 + 5.0 * i for i in range(n)],
        distance_um=[20.0 * i for i in range(n)])


def fake_simulate(inputs: np.ndarray, seed: int, *, start_mV: float = 0.0,
                  short_by: int = 0) -> dict:
    """Leaky integrator of input counts (+12 mV exc, −4 mV inh), τ 10 ms, threshold −50 mV.

    Starts at ``start_mV`` (far from the −70 mV rest: an onset transient); ``short_by`` > 0
    returns that many bins too few (a simulator that ignored the burn-in).
    """
    n_ch, n = inputs.shape
    drive = 12.0 * inputs[: n_ch // 2].sum(0) - 4.0 * inputs[n_ch // 2:].sum(0)  # mV per spike
    v = np.empty(n)
    spikes = np.zeros(n, dtype=np.uint8)
    x = start_mV
    for t in range(n):
        x += (-70.0 - x) / 10.0 + drive[t]
        if x > -50.0:
            spikes[t] = 1
            x = -75.0
        v[t] = x
    keep = slice(0, n - short_by)
    return {"soma_mV": v[keep], "spikes": spikes[keep],
            "dend_mV": np.stack([v, v + 1.0])[:, keep], "seed_seen": float(seed)}


def exploding_simulate(inputs: np.ndarray, seed: int) -> dict:
    raise AssertionError("simulate must not run: every sequence is already on disk")


BASE = {"model_fingerprint": "model-abc", "code_version": "v1",
        "stats": InputStatistics(rate_scale_exc=4.0),
        "channels": _channels(),
        "spec": GenerationSpec(condition="test", burn_in_ms=200.0, sequence_ms=300.0,
                               n_train=3, n_val=1, n_test=1, seed=7)}


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def test_generated_rates_match_the_statistics():
    ch = ChannelTable.per_compartment(subtree=["basal"] * 20 + ["apical"] * 30,
                                      length_um=np.linspace(5.0, 40.0, 50),
                                      distance_um=np.linspace(0.0, 900.0, 50))
    stats = InputStatistics(hold_ms=(5.0, 5.0), sigma_ms=(2.0, 2.0), exc_hz_per_um=(0.2, 1.0),
                            subtree_exc_hz_per_um={"apical": (0.0, 0.5)},
                            rate_scale_exc=0.8, rate_scale_inh=1.5)
    n_bins = 40_000
    x = generate_inputs(stats, ch, n_bins, rng=np.random.default_rng(3))
    assert x.dtype == np.uint8 and x.shape == (100, n_bins) and x.max() <= 1  # ≤ 1 per bin
    expected = stats.expected_rate_hz(ch) * n_bins / 1000.0  # spikes per channel
    n_intervals = n_bins // 5
    for kind_exc in (True, False):
        for sub in ("basal", "apical"):
            sel = (ch.exc_mask == kind_exc) & (np.array(ch.subtree) == sub)
            got, want = x[sel].sum(), expected[sel].sum()
            # Relative SE: the subtree density is shared by its channels and varies between
            # intervals with relative SD ≤ 0.75 (U(lo, hi): ≤ 1/√3; the inhibitory draw
            # around it: 0.71 for the default a, b), averaged over n_intervals independent
            # intervals; plus Bernoulli counting noise ≤ 1/√N. 4 SE: false alarm < 1e-4.
            rel_se = np.sqrt(0.75 ** 2 / n_intervals + 1.0 / want)
            assert abs(got / want - 1.0) < 4 * rel_se, (kind_exc, sub, got, want, rel_se)


def test_expected_inhibitory_density_formula_matches_sampling():
    stats = InputStatistics(exc_hz_per_um=(0.1, 1.3), inh_below_hz_per_um=0.6,
                            inh_above_hz_per_um=0.3)
    r = np.random.default_rng(0)
    e = r.uniform(0.1, 1.3, 1_000_000)
    i = r.uniform(np.maximum(0.0, e - 0.6), e + 0.3)
    # SE of a mean of 1e6 draws with SD < 0.5 is < 5e-4; 6e-3 is > 10 SE
    assert stats.mean_density_hz_per_um("inh", "any") == pytest.approx(i.mean(), abs=6e-3)
    assert stats.mean_density_hz_per_um("exc", "any") == pytest.approx(0.7, rel=1e-12)


def test_same_seed_same_inputs_and_splits_never_share_a_seed():
    spec, stats, ch = BASE["spec"], BASE["stats"], BASE["channels"]
    a, sim_a = draw_sequence_inputs(stats, ch, spec, spec.sequence_seed("train", 0))
    b, sim_b = draw_sequence_inputs(stats, ch, spec, spec.sequence_seed("train", 0))
    np.testing.assert_array_equal(a, b)  # exact: same seed
    assert sim_a == sim_b and a.shape == (ch.n_channels, spec.total_bins)
    c, _ = draw_sequence_inputs(stats, ch, spec, spec.sequence_seed("val", 0))
    assert not np.array_equal(a, c)
    big = GenerationSpec(condition="x", n_train=500, n_val=500, n_test=500, seed=3)
    seeds = {s: {seed for split, _, seed in big.sequences() if split == s}
             for s in ("train", "val", "test")}
    assert all(len(v) == 500 for v in seeds.values())  # distinct within a split
    assert not (seeds["train"] & seeds["val"] or seeds["train"] & seeds["test"]
                or seeds["val"] & seeds["test"])
    other = GenerationSpec(condition="x", n_train=500, n_val=500, n_test=500, seed=4)
    assert not {s for *_, s in big.sequences()} & {s for *_, s in other.sequences()}


def test_rate_that_could_exceed_one_spike_per_bin_is_an_error():
    ch = ChannelTable.per_compartment(subtree=["apical"], length_um=[1000.0],
                                      distance_um=[10.0])
    # worst channel: inhibitory, (1.0 + 0.25) Hz/µm × jitter 1.5 × 1000 µm = 1875 Hz > 1 kHz
    with pytest.raises(ValueError, match=r"channel 1 \(inh, apical, 1000 µm\) can reach 1875 Hz"):
        generate_inputs(InputStatistics(), ch, 10, rng=np.random.default_rng(0))


# --------------------------------------------------------------------------------------------
# validation and keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"exc_hz_per_um": (-0.1, 1.0)}, r"exc_hz_per_um\[0\] must be in \[0, inf\) Hz/µm; got -0.1"),
    ({"hold_ms": (50.0, 20.0)}, r"hold_ms must satisfy lo <= hi; got \(50, 20\)"),
    ({"sigma_ms": (0.0, 20.0)}, r"sigma_ms\[0\] must be in \(0, inf\) ms"),
    ({"inh_below_hz_per_um": -1.0}, "inh_below_hz_per_um must be in"),
    ({"rate_scale_inh": -0.5}, "rate_scale_inh must be in"),
    ({"subtree_exc_hz_per_um": {"apical": (2.0, 1.0)}},
     r"subtree_exc_hz_per_um\['apical'\] must satisfy lo <= hi"),
    ({"jitter": (0.5,)}, "jitter must be a pair"),
])
def test_bad_statistics_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InputStatistics(**kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"burn_in_ms": -100.0}, r"burn_in_ms must be in \[0, inf\) ms; got -100"),
    ({"sequence_ms": 0.0}, r"sequence_ms must be in \(0, inf\) ms; got 0"),
    ({"burn_in_ms": 10.5}, "burn_in_ms must be a whole number of bins"),
    ({"n_train": 0, "n_val": 0, "n_test": 0}, "must be >= 1"),
    ({"n_val": -1}, r"n_val must be an integer in \[0,"),
    ({"condition": ""}, "condition must be a non-empty string"),
])
def test_bad_spec_names_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GenerationSpec(**{"condition": "c", **kwargs})


def test_bad_channel_table_names_the_field():
    good = {"kind": ["exc", "inh"], "subtree": ["basal"] * 2, "length_um": [1.0, 1.0],
            "compartment": [0, 0], "distance_um": [0.0, 0.0]}
    for change, match in [({"kind": ["exc", "gaba"]}, r"kind\[1\] must be one of"),
                          ({"length_um": [1.0, 0.0]}, r"length_um\[1\] must be in \(0"),
                          ({"compartment": [0, -1]}, r"compartment\[1\] must be an integer"),
                          ({"distance_um": [0.0]}, "columns must have equal lengths")]:
        with pytest.raises(ValueError, match=match):
            ChannelTable(**{**good, **change})
    table = ChannelTable(**good)
    assert ChannelTable.from_json(table.to_json()) == table
    np.testing.assert_array_equal(table.exc_mask, [True, False])


def test_key_changes_with_every_determining_field_and_is_stable_otherwise():
    base = dataset_key(**BASE)
    spec, stats = BASE["spec"], BASE["stats"]
    rebuilt = dict(BASE, stats=InputStatistics(**stats.to_dict() | {"hold_ms": (25, 450)}),
                   channels=ChannelTable.from_json(BASE["channels"].to_json()),
                   spec=GenerationSpec(**spec.to_dict()
                                       | {"burn_in_ms": 200, "seed": np.int64(7)}))
    # equal values (int vs float, numpy ints, JSON round trip): exactly the same key
    assert dataset_key(**rebuilt) == base
    # pinned: computed with this code at format_version 2 (version 1 also hashed the numbers
    # of sequences per split); a change here orphans every cached data set, so it must come
    # with a version bump
    assert base == "031da4aeb29411a8b703"
    # the numbers of sequences are not part of the key: a bigger set extends a smaller one
    more = GenerationSpec(**spec.to_dict() | {"n_train": spec.n_train + 5, "n_test": 9})
    assert dataset_key(**(BASE | {"spec": more})) == base
    ch = BASE["channels"].to_dict()
    ch["length_um"][2] += 1.0
    variants = {
        "exc rate": {"stats": InputStatistics(rate_scale_exc=4.0, exc_hz_per_um=(0.0, 0.9))},
        "inh offset": {"stats": InputStatistics(rate_scale_exc=4.0, inh_above_hz_per_um=0.3)},
        "exc scale": {"stats": InputStatistics(rate_scale_exc=4.1)},
        "inh scale": {"stats": InputStatistics(rate_scale_exc=4.0, rate_scale_inh=1.1)},
        "burn-in": {"spec": GenerationSpec(**spec.to_dict() | {"burn_in_ms": 300.0})},
        "sequence": {"spec": GenerationSpec(**spec.to_dict() | {"sequence_ms": 400.0})},
        "seed": {"spec": GenerationSpec(**spec.to_dict() | {"seed": 8})},
        "condition": {"spec": GenerationSpec(**spec.to_dict() | {"condition": "other"})},
        "model": {"model_fingerprint": "model-abd"},
        "layout": {"channels": ChannelTable.from_dict(ch)},
        "layout order": {"channels": _channels(n_basal=2, n_apical=4)},
        "code": {"code_version": "v2"},
    }
    keys = {name: dataset_key(**(BASE | change)) for name, change in variants.items()}
    assert base not in keys.values()
    assert len(set(keys.values())) == len(keys)  # and all different from each other


# --------------------------------------------------------------------------------------------
# generation, resume, loading
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    """One in-process Dask cluster (threads) for the module: no process start-up per test."""
    from dask.distributed import Client

    # ":0": the scheduler's HTTP server takes a free port, not 8787 (which another
    # cluster of this test run may hold; distributed turns the clash into a warning)
    client = Client(processes=False, n_workers=1, threads_per_worker=2,
                    dashboard_address=":0")
    yield client
    client.close()


def _generate(root, client, **change):
    kw = BASE | {"simulate": fake_simulate} | change
    return generate_dataset(root, client=client, preload=(), progress=False, **kw)


@pytest.mark.distributed
def test_generate_discards_burn_in_writes_manifest_and_loads(tmp_path, dask_client):
    spec, ch = BASE["spec"], BASE["channels"]
    d = _generate(tmp_path, dask_client)
    key = dataset_key(**BASE)
    assert d == tmp_path / key
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["format"] == FORMAT and manifest["key"] == key
    assert manifest["model_fingerprint"] == "model-abc" and manifest["code_version"] == "v1"
    assert ChannelTable.from_dict(manifest["channels"]) == ch
    assert InputStatistics.from_dict(manifest["input_statistics"]) == BASE["stats"]
    assert GenerationSpec(**manifest["generation"]) == spec
    assert [len(manifest["splits"][s]) for s in ("train", "val", "test")] == [3, 1, 1]
    total = 0
    for split, index, seed in spec.sequences():
        entry = manifest["splits"][split][index]
        assert entry["file"] == f"{split}_{index:04d}.npz" and entry["seed"] == seed
        stored = load_chunk(d, entry["file"][:-4])
        full_inputs, sim_seed = draw_sequence_inputs(BASE["stats"], ch, spec, seed)
        # stored = exactly the tail after the 200 burn-in bins of what simulate saw
        assert stored["inputs"].shape == (ch.n_channels, 300) == (ch.n_channels,
                                                                   spec.sequence_bins)
        np.testing.assert_array_equal(stored["inputs"], full_inputs[:, 200:])
        ref = fake_simulate(full_inputs, sim_seed)
        np.testing.assert_array_equal(stored["soma_mV"], ref["soma_mV"][200:].astype(np.float32))
        np.testing.assert_array_equal(stored["spikes"], ref["spikes"][200:])
        assert stored["dend_mV"].dtype == np.float16 and stored["dend_mV"].shape == (2, 300)
        assert stored["diag_seed_seen"] == sim_seed
        assert stored["soma_mV"].max() < 0.0  # the 0 mV start was in the burn-in, not kept
        assert entry["n_spikes"] == int(stored["spikes"].sum()) and entry["n_bins"] == 300
        assert entry["rate_hz"] == pytest.approx(entry["n_spikes"] / 0.3, rel=1e-12)
        total += entry["n_spikes"]
    assert total > 0  # the stand-in fires, so the counts above are not vacuous
    assert manifest["rate_hz"] == pytest.approx(total / (5 * 0.3), rel=1e-12)

    data = load_dataset(d, expected_key=key)
    assert data.key == key and data.channels == ch and data.spec == spec
    io = data.splits["train"][1]
    stored = load_chunk(d, "train_0001")
    np.testing.assert_array_equal(io.inputs, stored["inputs"])
    np.testing.assert_array_equal(io.soma_mV, stored["soma_mV"])
    np.testing.assert_array_equal(data.dend_mV["test"][0], load_chunk(d, "test_0000")["dend_mV"])


@pytest.mark.distributed
def test_resume_recomputes_nothing_and_repairs_corrupt_or_foreign_files(tmp_path, dask_client,
                                                                        capsys):
    d = _generate(tmp_path, dask_client)
    before = {p.name: p.stat().st_mtime_ns for p in d.glob("*.npz")}
    original = load_chunk(d, "train_0001")
    # a second call with a simulate that raises: passes only if nothing is simulated
    assert _generate(tmp_path, dask_client, simulate=exploding_simulate) == d
    assert {p.name: p.stat().st_mtime_ns for p in d.glob("*.npz")} == before

    blob = (d / "train_0001.npz").read_bytes()
    (d / "train_0002.npz").write_bytes((d / "val_0000.npz").read_bytes())  # foreign file
    # another sequence of the same data set is refused by the loader, not served as train 2
    with pytest.raises(ValueError, match=r"train_0002\.npz holds sequence .*'split': 'val'"):
        load_dataset(d)
    (d / "train_0001.npz").write_bytes(blob[: len(blob) // 2])  # truncated (killed writer)
    (d / "test_0000.npz").write_bytes(b"")  # empty (full disk)
    with pytest.raises(ValueError, match=r"train_0001\.npz is unreadable"):
        load_dataset(d)
    capsys.readouterr()
    _generate(tmp_path, dask_client)
    err = capsys.readouterr().err
    for name in ("train_0001", "train_0002", "test_0000"):  # each bad file reported once
        assert err.count(f"discarding chunk '{name}'") == 1
    assert "test_0000.npz is empty" in err
    repaired = load_chunk(d, "train_0001")
    for name in original:  # recomputed exactly (seeded)
        np.testing.assert_array_equal(repaired[name], original[name])
    assert load_chunk(d, "train_0002")["seed"] == BASE["spec"].sequence_seed("train", 2)
    assert (d / "val_0000.npz").stat().st_mtime_ns == before["val_0000.npz"]  # untouched
    load_dataset(d)
    assert not list(d.glob(".*"))  # no temporary files left


@pytest.mark.distributed
def test_loader_and_generator_errors(tmp_path, dask_client):
    d = _generate(tmp_path, dask_client)
    key = d.name
    with pytest.raises(ValueError, match=f"data set key '{key}'.*expected key '0+'"):
        load_dataset(d, expected_key="0" * 20)
    with pytest.raises(FileNotFoundError, match=r"manifest\.json is missing"):
        load_dataset(tmp_path)
    path = d / "test_0000.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["soma_mV"][7] = np.nan
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"test_0000\.npz: soma_mV holds 1 NaN"):
        load_dataset(d)
    path.unlink()
    with pytest.raises(FileNotFoundError, match=r"test_0000\.npz is missing"):
        load_dataset(d)
    # a simulator that returns fewer bins than burn-in + sequence: every sequence fails
    short = functools.partial(fake_simulate, short_by=250)
    with pytest.raises(RuntimeError, match=r"5 of 5 sequences failed.*train_0000.*burn-in"):
        _generate(tmp_path / "short", dask_client, simulate=short)
    assert not (tmp_path / "short" / key / "manifest.json").exists()


@pytest.mark.distributed
def test_generate_on_worker_processes(tmp_path):
    """The default path: a LocalCluster of worker processes (the task must pickle)."""
    from dask.distributed import Client, LocalCluster

    spec = GenerationSpec(**BASE["spec"].to_dict() | {"n_train": 1, "n_val": 0, "n_test": 1})
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        d = generate_dataset(tmp_path, **(BASE | {"spec": spec}), simulate=functools.partial(
            fake_simulate, start_mV=-10.0), client=client, preload=(), progress=False)
    data = load_dataset(d, expected_key=dataset_key(**(BASE | {"spec": spec})))
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [1, 0, 1]


class BatchedFake:
    """A stand-in for the PyTorch engine's simulator: ``simulate_batch`` over the same
    leaky integrator, counting the passes and their sizes."""

    def __init__(self, batch_size: int, fail_on: int | None = None, drop_one: bool = False):
        self.batch_size, self.fail_on, self.drop_one = batch_size, fail_on, drop_one
        self.passes: list[int] = []

    def simulate_batch(self, inputs, seeds):
        self.passes.append(len(inputs))
        if self.fail_on is not None and len(self.passes) == self.fail_on:
            raise RuntimeError("engine blew up")
        out = [fake_simulate(x, s) for x, s in zip(inputs, seeds, strict=True)]
        return out[:-1] if self.drop_one else out


def _files(d):
    return {p.name: load_chunk(d, p.name[:-4]) for p in sorted(d.glob("*.npz"))}


@pytest.mark.distributed
def test_batched_simulator_writes_the_same_files_and_resumes_the_dask_store(tmp_path,
                                                                            dask_client):
    """A simulator with ``simulate_batch`` runs in this process, ``batch_size`` sequences
    per pass; its files equal the Dask path's array for array (exact: same inputs, same
    stand-in), and either path resumes the other's store."""
    ref = _files(_generate(tmp_path / "dask", dask_client))
    sim = BatchedFake(batch_size=2)
    d = _generate(tmp_path / "batched", None, simulate=sim)
    assert sim.passes == [2, 2, 1]  # 5 sequences, 2 per pass
    got = _files(d)
    assert got.keys() == ref.keys()
    for name in ref:
        assert got[name].keys() == ref[name].keys()
        for k in ref[name]:
            np.testing.assert_array_equal(got[name][k], ref[name][k])
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["computed_by"] == {"neurocomp.mapping.neuronio._sequence_batch_task": 5}
    # resume across kinds: two files removed, the batched path computes exactly those two
    (tmp_path / "dask" / d.name / "train_0001.npz").unlink()
    (tmp_path / "dask" / d.name / "test_0000.npz").unlink()
    sim2 = BatchedFake(batch_size=4)
    _generate(tmp_path / "dask", None, simulate=sim2)
    assert sim2.passes == [2]
    manifest = json.loads((tmp_path / "dask" / d.name / "manifest.json").read_text())
    assert manifest["computed_by"] == {"neurocomp.mapping.neuronio._sequence_task": 3,
                                       "neurocomp.mapping.neuronio._sequence_batch_task": 2}


def test_batched_simulator_failures_name_the_sequences(tmp_path):
    with pytest.raises(RuntimeError, match=r"2 of 5 sequences failed.*train_0002: "
                                           r"RuntimeError: engine blew up"):
        _generate(tmp_path, None, simulate=BatchedFake(batch_size=2, fail_on=2))
    d = tmp_path / dataset_key(**BASE)
    assert not (d / "manifest.json").exists()
    assert sorted(p.name for p in d.glob("*.npz")) == ["test_0000.npz", "train_0000.npz",
                                                       "train_0001.npz"]  # the others kept
    with pytest.raises(RuntimeError, match="simulate_batch returned 1 results for 2"):
        _generate(tmp_path / "drop", None, simulate=BatchedFake(batch_size=2, drop_one=True))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; got 0"):
        _generate(tmp_path / "zero", None, simulate=BatchedFake(batch_size=0))
