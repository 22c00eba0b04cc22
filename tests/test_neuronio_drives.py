"""The named input drives of NeuronIO-mini: each a pair of conditions with its own data keys."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from neurocomp_analyses import surrogate_depth as sd
from neurocomp_models.neuronio import CONDITIONS, DRIVES, drive_conditions


def test_every_drive_has_both_conditions_and_its_own_keys():
    assert DRIVES["beniaguev"] is CONDITIONS  # the default drive is the one of the data sets
    keys = {}
    for drive, conds in DRIVES.items():
        assert list(conds) == ["nmda", "ampa"], drive
        for name, cond in conds.items():
            assert cond.name == name
            keys[(drive, name)] = cond.key(sd.FULL.spec(name))
    # exact: a key hashes the input statistics, which differ between drives
    assert len(set(keys.values())) == len(keys), keys


def test_dense_basal_drive_moves_excitation_from_the_apical_to_the_basal_tree():
    channels = CONDITIONS["nmda"].channels()
    for name in ("nmda", "ampa"):
        base, dense = CONDITIONS[name].stats, DRIVES["dense-basal"][name].stats

        def mean_exc(stats, subtree):  # Hz/µm after the condition's rate scale
            return stats.rate_scale_exc * stats.mean_density_hz_per_um("exc", subtree)

        # the design: basal excitation at least twice Beniaguev's, apical below it
        assert mean_exc(dense, "basal") >= 2 * mean_exc(base, "basal"), name
        assert mean_exc(dense, "apical") < mean_exc(base, "apical"), name
        # the rest of the statistics is Beniaguev's (hold, smoothing, jitter, inhibition)
        same = {f.name for f in dataclasses.fields(base)} - {"rate_scale_exc",
                                                              "subtree_exc_hz_per_um"}
        assert all(getattr(base, f) == getattr(dense, f) for f in same)
        # both subtrees the channels know get their own range (none falls back silently)
        assert {t[0] for t in dense.subtree_exc_hz_per_um} == set(channels.subtrees)


def test_an_unknown_drive_is_refused_with_the_names():
    with pytest.raises(ValueError, match=r"drive must be one of 'beniaguev', 'dense-basal'; "
                                         r"got 'dense'"):
        drive_conditions("dense")
    with pytest.raises(ValueError, match="drive must be one of"):
        sd.Plan(drive="dense")
    with pytest.raises(SystemExit):  # argparse: not one of the choices
        sd.main(["--drive", "dense", "--data-only"])


def test_the_claim_names_a_drive_other_than_the_default():
    rows = [{"condition": c, "model": m, "spike_auc": a, "parameters": 10}
            for c in ("nmda", "ampa")
            for m, a in (("linear", 0.80), ("TCN-1", 0.85), ("TCN-3", 0.90), ("ELM", 0.91))]
    v = sd.verdicts(pd.DataFrame(rows))
    regimes = pd.DataFrame([{"condition": c, "steady_rate_hz": 3.0, "plateaus_per_site_s": 0.1}
                            for c in ("nmda", "ampa")])
    dense = sd.claim_sentence(v, regimes, dataclasses.replace(sd.QUICK, drive="dense-basal"))
    assert dense.startswith("On 0.5 min of training data per condition under the dense-basal "
                            "drive (")
    assert "drive" not in sd.claim_sentence(v, regimes, sd.QUICK)
    # and a claim rewritten from a recorded headline keeps it
    headline = {**v, "drive": "dense-basal", "train_data_per_condition_s": 30.0,
                **{f"{k}_{c}": r[k] for r in regimes.to_dict("records")
                   for c in [r["condition"]] for k in ("steady_rate_hz",
                                                        "plateaus_per_site_s")}}
    assert "under the dense-basal drive" in sd.claim_from(headline)
