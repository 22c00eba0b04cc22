"""The hardware catalogue: every number cited, reference values reproduced, lookup and errors.

Reference values come from docs/references.md#anchors-accounting-2-1, #anchors-accounting-3-6 (ridge
points, link rates, TOP500 machines) and docs/references.md#seed-conv-parallel-d-2; each assert
says which.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from neurocomp_models import hardware as hw

from neurocomp.accounting.hardware import (
    Catalogue,
    Device,
    Gpu,
    Interconnect,
    RankingEntry,
    Supercomputer,
    UnknownNameError,
    bytes_per_s_from_gbit_per_s,
)
from neurocomp.accounting.network import Link
from neurocomp.citations import Cited

ROUND_OFF = 1e-12  # one or two float operations on decimal inputs


def all_cited():
    """Every Cited value of the catalogue, with where it sits."""
    for g in hw.GPUS:
        for dtype, c in g.peak_flop_per_s.items():
            yield f"{g.name}.peak[{dtype}]", c
        for name in ("memory_bytes", "memory_bandwidth_bytes_per_s", "power_w",
                     "launch_price_usd"):
            if getattr(g, name) is not None:
                yield f"{g.name}.{name}", getattr(g, name)
    for link in hw.INTERCONNECTS:
        yield f"{link.name}.bandwidth", link.bandwidth
        yield f"{link.name}.latency", link.latency
    for m in hw.SUPERCOMPUTERS:
        for name in ("rmax", "rpeak", "hpcg", "power_w"):
            if getattr(m, name) is not None:
                yield f"{m.name}.{name}", getattr(m, name)
    for e in (*hw.TOP500_NUMBER_ONE, *hw.HPCG_NUMBER_ONE):
        yield f"{e.benchmark} {e.edition}", e.performance


# -- every number has a source and a status -------------------------------------------------

def test_every_number_has_a_source_and_a_status():
    items = list(all_cited())
    assert len(items) > 200  # the catalogue is not empty by accident
    for where, c in items:
        assert isinstance(c, Cited) and c.source.strip(), where
        # [S] read in a stored source, [R] recalled (not re-checked), [C] computed
        assert any(tag in c.note for tag in ("[S]", "[R]", "[C]")), (where, c.note)


def test_the_issue_lists_every_gpu_interconnect_family_and_machine():
    for name in ("GTX Titan", "GTX 980", "K40", "Titan X", "P100", "V100", "A100", "H100",
                 "H200", "B200"):
        assert name in hw.GPUS, name
    for name in ("PCIe 3.0 x16", "PCIe 4.0 x16", "PCIe 5.0 x16", "NVLink1", "NVLink2",
                 "NVLink3", "NVLink4", "NVLink5", "QDR", "FDR", "EDR", "HDR", "NDR", "XDR",
                 "10GbE", "25GbE", "40GbE", "100GbE", "200GbE", "400GbE"):
        assert name in hw.INTERCONNECTS, name
    for name in ("Tianhe-1A", "Tianhe-2", "Titan", "TaihuLight", "Summit", "Fugaku",
                 "Frontier", "Aurora", "El Capitan"):
        assert name in hw.SUPERCOMPUTERS, name
    for g in hw.GPUS:
        assert "fp32" in g.dtypes, g.name  # the one format every era has


# -- reference values ------------------------------------------------------------------------

@pytest.mark.parametrize("name,dtype,ridge", [
    # docs/references.md#anchors-accounting-2-1, ridge points (peak / HBM bandwidth) printed to 3
    # significant digits
    ("A100 SXM4 80GB", "bf16_tensor", 153), ("H100", "bf16_tensor", 295),
    ("H200", "bf16_tensor", 206), ("K40", "fp32", 14.9), ("GTX Titan", "fp32", 15.6),
    ("GTX 980", "fp32", 20.6), ("Titan X", "fp32", 18.3)])
def test_ridge_points_match_the_reference_notes(name, dtype, ridge):
    # 3 significant digits: half a unit in the last place is < 0.35 % of these values
    assert hw.gpu(name).ridge_point_flop_per_byte(dtype) == pytest.approx(ridge, rel=3.5e-3)


def test_dense_not_sparse_tensor_peaks():
    # docs/references.md#anchors-accounting-3-6: vendor pages often quote the sparse 1979 BF16 as
    # if dense; dense is 989.4
    h100 = hw.gpu("H100")
    assert h100.peak("bf16_tensor") == 989.4e12
    assert h100.peak("fp8_tensor") == pytest.approx(2 * h100.peak("bf16_tensor"), rel=1e-3)
    # same compute ((docs/references.md#anchors-accounting-3-6)
    assert hw.gpu("H200").peak_flop_per_s == h100.peak_flop_per_s
    assert hw.gpu("B200").peak("bf16_tensor") == 2250e12  # dense; 4500 sparse


def test_links_in_bytes_per_direction():
    # PCIe 3.0 x16 = 15.75 GB/s; the post's ~4 GB/s NIC is 3.9× slower
    # (docs/references.md#seed-conv-parallel-d-2: ratio ≈ 3.9)
    pcie3, qdr = hw.interconnect("PCIe 3.0 x16"), hw.interconnect("QDR")
    assert pcie3.bandwidth_bytes_per_s == 15.75e9
    assert pcie3.bandwidth_bytes_per_s / qdr.bandwidth_bytes_per_s == pytest.approx(3.94,
                                                                                   abs=5e-3)
    # IB 4x port: HDR 200 Gbit/s = 25 GB/s, NDR 50, XDR 100
    # (docs/references.md#anchors-accounting-3-6); Ethernet = Gb / 8
    assert hw.interconnect("HDR").bandwidth_bytes_per_s == bytes_per_s_from_gbit_per_s(200)
    assert hw.interconnect("XDR").bandwidth_bytes_per_s == 100e9
    assert hw.interconnect("100GbE").bandwidth_bytes_per_s == 12.5e9
    # NVLink 3/4 per direction: 300 and 450 GB/s (600/900 counted both ways)
    assert hw.interconnect("NVLink3").bandwidth_bytes_per_s == 300e9
    assert hw.interconnect("NVLink4").bandwidth_bytes_per_s == 450e9
    for link in hw.INTERCONNECTS:
        assert isinstance(link, Link), link.name  # usable wherever a link is expected


def test_supercomputer_ratios_match_the_reference_notes():
    t2 = hw.supercomputer("Tianhe-2")
    # docs/references.md#anchors-accounting-3-6: Tianhe-2 ≈ 1.9 GF/W (33.86 PF / 17.8 MW = 1.902),
    # Titan 2.14 GF/W
    assert t2.flop_per_joule / 1e9 == pytest.approx(1.90, abs=5e-3)
    # Titan's 8.2 MW has two digits (±0.6 %), so 17.59 PF / 8.2 MW = 2.145 agrees to 1 %
    assert hw.supercomputer("Titan").flop_per_joule / 1e9 == pytest.approx(2.14, rel=1e-2)
    assert t2.hpl_efficiency == pytest.approx(33.86 / 54.9, rel=ROUND_OFF)
    # the post's starting point (docs/references.md#seed-brain-vs-dl-2-4)
    assert t2.hpcg.value == 0.58e15
    # Fugaku's Rpeak is derived from its published 80.87 % HPL efficiency (rounded to 513.8)
    assert hw.supercomputer("Fugaku").hpl_efficiency == pytest.approx(0.8087, abs=1e-4)


def test_number_one_histories_are_ordered_and_never_fall():
    # a new #1 must beat the old one and a system only improves its own entry, so the
    # number-one performance never decreases: a check on the recalled [R] values too
    for history in (hw.TOP500_NUMBER_ONE, hw.HPCG_NUMBER_ONE):
        years = np.array([e.year for e in history])
        perf = np.array([e.flop_per_s for e in history])
        assert (np.diff(years) > 0).all()
        assert (np.diff(perf) >= 0).all()
    top = hw.TOP500_NUMBER_ONE
    assert top[0].edition == "1993-06" and top[0].flop_per_s == 59.7e9   # CM-5 [R]
    # docs/references.md#anchors-accounting-3-6
    assert top[-1].system == "El Capitan" and top[-1].flop_per_s == 1.742e18
    assert len(top) == 2 * (2025 - 1993) + 1  # every June and November list


def test_post_numbers_and_derived_price():
    # docs/references.md#seed-brain-vs-dl-3-3: 24 MW for ~$23M a year → $0.1094/kWh (365-day year)
    price = hw.ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST.value
    assert price == pytest.approx(23e6 / (24e3 * 8760), rel=ROUND_OFF)
    assert "[C]" in hw.ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST.note
    assert hw.TIANHE2_FACILITY_OVERHEAD.value == pytest.approx(24 / 17.8, rel=ROUND_OFF)


# -- lookup ------------------------------------------------------------------------------------

def test_lookup_ignores_case_spaces_and_punctuation():
    assert hw.gpu("h100") is hw.gpu("H100 SXM5") is hw.gpu("h100-sxm5")
    assert hw.interconnect("pcie3") is hw.interconnect("PCIe 3.0 x16")
    assert hw.supercomputer("elcapitan").name == "El Capitan"


@pytest.mark.parametrize("lookup,name,suggestion", [
    (hw.gpu, "H10O", "H100 SXM5"), (hw.gpu, "A10O", "A100 SXM4 40GB"),
    (hw.interconnect, "infiniband ndr4", "InfiniBand NDR"),
    (hw.supercomputer, "Frontiers", "Frontier"), (hw.supercomputer, "Tianhe 3", "Tianhe-2")])
def test_unknown_names_suggest_close_matches(lookup, name, suggestion):
    with pytest.raises(UnknownNameError, match=rf"unknown \w+ '{name}'; did you mean "
                                               rf".*'{suggestion}'") as err:
        lookup(name)
    assert "Known" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_unknown_dtype_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"GTX Titan has no peak for dtype 'bf16_tensor'; "
                                         r"it has 'fp64', 'fp32'"):
        hw.gpu("GTX Titan").peak("bf16_tensor")


# -- validation --------------------------------------------------------------------------------

def c(value, unit):
    return Cited(value=value, unit=unit, source="test", note="[C]")


def make_gpu(**overrides):
    kw = {"name": "G", "year": 2020, "architecture": "x",
          "peak_flop_per_s": {"fp32": c(1e12, "FLOP/s")}, "memory_bytes": c(1e9, "B"),
          "memory_bandwidth_bytes_per_s": c(1e11, "B/s"), "power_w": c(100.0, "W")}
    return Gpu(**{**kw, **overrides})


def test_bad_catalogue_entries_name_the_field():
    with pytest.raises(ValueError, match=r"G.memory_bytes must be in 'B'; got unit 'GB'"):
        make_gpu(memory_bytes=c(16, "GB"))
    with pytest.raises(ValueError, match=r"G.peak_flop_per_s key must be one of .*; got 'fp4'"):
        make_gpu(peak_flop_per_s={"fp4": c(1e12, "FLOP/s")})
    with pytest.raises(ValueError, match=r"G.power_w must be in \(0, inf\) W; got -1 W"):
        make_gpu(power_w=c(-1.0, "W"))
    with pytest.raises(TypeError, match=r"G.power_w must be a Cited value"):
        make_gpu(power_w=100.0)
    with pytest.raises(ValueError, match=r"kind must be one of"):
        Interconnect(name="L", kind="smoke signals", year=2000, bandwidth=c(1.0, "B/s"),
                     latency=c(0.0, "s"))
    with pytest.raises(ValueError, match=r"rpeak .* must be ≥ rmax"):
        Supercomputer(name="S", year=2000, site="x", list_edition="2000-06",
                      rmax=c(2e15, "FLOP/s"), rpeak=c(1e15, "FLOP/s"))
    with pytest.raises(ValueError, match=r"edition must be a list edition 'YYYY-MM'"):
        RankingEntry(benchmark="HPL", edition="June 2013", system="x",
                     performance=c(1.0, "FLOP/s"))
    with pytest.raises(ValueError, match=r"GPU name or alias 'h-100' is used by both 'a' "
                                         r"and 'b'"):
        Catalogue("GPU", [make_gpu(name="a", aliases=("H100",)),
                          make_gpu(name="b", aliases=("h-100",))])


def test_device_is_peak_times_efficiency_and_validated():
    dev = hw.gpu("H100").device(dtype="bf16_tensor", efficiency=0.5)
    assert dev.achieved_flop_per_s == 0.5 * 989.4e12
    assert dev.memory_bytes == 80e9
    with pytest.raises(ValueError, match=r"efficiency must be in \(0, 1\]; got 0"):
        Device(peak_flop_per_s=1e12, efficiency=0.0)
    with pytest.raises(ValueError, match=r"efficiency must be in \(0, 1\]; got 1.5"):
        dataclasses.replace(dev, efficiency=1.5)
    assert math.isfinite(dev.peak_flop_per_s)
