"""Cited hardware: GPUs, interconnects, supercomputers, the TOP500/HPCG number ones, and the
post's numbers for power, cost and growth.

Every number is a :class:`~neurocomp.citations.Cited` whose note gives its status:
**[S]** read in a stored copy of a data sheet, list or article (the address is in the
source), or in the project's references that cite one
(``docs/references.md#anchors-accounting-3-6``, ``docs/references.md#seed-brain-vs-dl-3``);
**[R]** recalled from memory and *not re-checked* — treat as
approximate, never as a test oracle; **[C]** computed here from [S]/[R] numbers (the
arithmetic is in the note). Precision follows the source: nothing is given more digits than
it had.

Conventions: FLOP/s are dense peaks (structured sparsity doubles many tensor-core numbers;
those are not used); memory capacities are the marketed "GB" read as 10⁹ bytes (GDDR
capacities are really GiB, so these understate them by 7 %); link bandwidths are per
direction, after line encoding.
"""

from __future__ import annotations

from neurocomp.accounting.hardware import (
    Catalogue,
    Gpu,
    Interconnect,
    RankingEntry,
    Supercomputer,
    bytes_per_s_from_gbit_per_s,
)
from neurocomp.accounting.parallel import Compression
from neurocomp.citations import Cited

__all__ = [
    "COMPRESSION_1BIT_SEIDE_2014",
    "COMPRESSION_8BIT_DETTMERS_2016",
    "COMPRESSION_FP16",
    "DEVICE_EFFICIENCY_MEGATRON_2021",
    "ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST",
    "FAB_COST_GROWTH_PER_YEAR_HIGH",
    "FAB_COST_GROWTH_PER_YEAR_LOW",
    "FAB_COST_USD_2015",
    "GPUS",
    "HPCG_NUMBER_ONE",
    "INTERCONNECTS",
    "LINK_EFFICIENCY_HGX_H100_ASTRA_SIM",
    "POST_DOUBLING_PERIODS_Y",
    "POST_START_FLOP_PER_S",
    "POST_START_YEAR",
    "POST_STATED_YEARS",
    "SUPERCOMPUTERS",
    "TIANHE2_ELECTRICITY_USD_PER_YEAR",
    "TIANHE2_FACILITY_OVERHEAD",
    "TIANHE2_POWER_W_POST",
    "TOP500_NUMBER_ONE",
    "gpu",
    "interconnect",
    "supercomputer",
]

# -- sources ----------------------------------------------------------------------------------
ANCHORS = "docs/references.md"
SEED = "docs/references.md#seed-brain-vs-dl"
DETTMERS_2015 = ("Dettmers (2015), The Brain vs Deep Learning Part I, "
                 "timdettmers.com/2015/07/27/brain-vs-deep-learning-singularity/")
KLOCKWOOD_A100 = ("glennklockwood.com A100 page (NVIDIA A100 data sheet), via " + ANCHORS
                  + "#anchors-accounting-3-6")
KLOCKWOOD_H100 = ("glennklockwood.com H100 page (NVIDIA H100 data sheet), via " + ANCHORS
                  + "#anchors-accounting-3-6")
KLOCKWOOD_B200 = "https://glennklockwood.com/garden/processors/B200 (HGX B200 at 1000 W)"
H200_PAGES = "H200 spec pages, via " + ANCHORS + "#anchors-accounting-3-6"
TECHRIVAL_V100 = ("https://www.techrival.com/nvidia-volta-tesla-v100-cards-detailed-150w-"
                  "single-slot-300w-dual-slot-gv100-powered-pcie-accelerators/ (NVIDIA table, "
                  "GTC 2017)")
TOP500 = "TOP500 list (top500.org)"


def _c(value: float, unit: str, source: str, note: str) -> Cited:
    return Cited(value=value, unit=unit, source=source, note=note)


def _tf(tflop_per_s: float, source: str, note: str, *, unit: str = "FLOP/s") -> Cited:
    return _c(tflop_per_s * 1e12, unit, source, note)


def _gb(gb: float, source: str, note: str) -> Cited:
    return _c(gb * 1e9, "B", source, note)


def _gbs(gb_per_s: float, source: str, note: str) -> Cited:
    return _c(gb_per_s * 1e9, "B/s", source, note)


def _w(watts: float, source: str, note: str) -> Cited:
    return _c(watts, "W", source, note)


def _usd(usd: float, source: str, note: str) -> Cited:
    return _c(usd, "USD", source, note)


# -- GPUs -------------------------------------------------------------------------------------
GTX_TITAN = Gpu(
    name="GTX Titan", year=2013, architecture="Kepler (GK110)", aliases=("Titan",),
    peak_flop_per_s={
        "fp32": _tf(4.5, ANCHORS + "#anchors-accounting-3-6 (hothardware, amdarea51)",
                    "[S] 2688 cores × 2 × 837 MHz base; 4.71 TF at 876 MHz boost [C]"),
        "fp64": _tf(1.3, "http://www.techspot.com/news/60072-nvidia-geforce-gtx-titan-x-"
                         "review.html", "[S] '1.3 teraflops of double-precision'")},
    memory_bytes=_gb(6, ANCHORS + "#anchors-accounting-3-6", "[S] 6 GB GDDR5"),
    memory_bandwidth_bytes_per_s=_gbs(288.4, ANCHORS + "#anchors-accounting-3-6", "[S]"),
    power_w=_w(250, ANCHORS + "#anchors-accounting-3-6", "[S] TDP"),
    launch_price_usd=_usd(999, "https://clubic.com/carte-graphique/actualite-542358-nvidia-"
                               "geforce-gtx-titan.html", "[S] US list price at launch"))

GTX_980 = Gpu(
    name="GTX 980", year=2014, architecture="Maxwell (GM204)",
    peak_flop_per_s={
        "fp32": _tf(4.612, ANCHORS + "#anchors-accounting-3-6 (fudzilla, thinkcomputers)",
                    "[C] 2048 cores × 2 × 1.126 GHz base; 4.98 TF at boost"),
        "fp64": _tf(0.144, "NVIDIA Maxwell GM204", "[R] FP64 at 1/32 of FP32 [C] 4.612/32")},
    memory_bytes=_gb(4, ANCHORS + "#anchors-accounting-3-6", "[S] 4 GB GDDR5"),
    memory_bandwidth_bytes_per_s=_gbs(224, ANCHORS + "#anchors-accounting-3-6",
                                      "[C] 7 Gbit/s × 256-bit / 8"),
    power_w=_w(165, ANCHORS + "#anchors-accounting-3-6", "[S] TDP"),
    launch_price_usd=_usd(549, "NVIDIA launch, September 2014", "[R] not re-checked"))

TESLA_K40 = Gpu(
    name="Tesla K40", year=2013, architecture="Kepler (GK110B)", aliases=("K40",),
    peak_flop_per_s={
        "fp32": _tf(4.29, ANCHORS + "#anchors-accounting-3-6 (geektopia, Microway)",
                    "[S] at 745 MHz base; 5.04 TF at 875 MHz boost [C]"),
        "fp64": _tf(1.43, ANCHORS + "#anchors-accounting-3-6", "[S]")},
    memory_bytes=_gb(12, ANCHORS + "#anchors-accounting-3-6", "[S] 12 GB GDDR5"),
    memory_bandwidth_bytes_per_s=_gbs(288, ANCHORS + "#anchors-accounting-3-6", "[S]"),
    power_w=_w(235, ANCHORS + "#anchors-accounting-3-6", "[S] TDP"),
    notes=("No list price was published (NOT FOUND).",))

TITAN_X_MAXWELL = Gpu(
    name="GTX Titan X (Maxwell)", year=2015, architecture="Maxwell (GM200)",
    aliases=("Titan X", "GTX Titan X"),
    peak_flop_per_s={
        "fp32": _tf(6.144, ANCHORS + "#anchors-accounting-3-6 (Paleo device.py preset)",
                    "[S] 3072 cores × 2 × 1.0 GHz base [C]; NVIDIA quoted '7 TFLOPS' at boost "
                    "(https://ocaholic.ch/modules/news/article.php?storyid=12063) [S]"),
        "fp64": _tf(0.192, "https://ocaholic.ch/modules/news/article.php?storyid=12063",
                    "[S] NVIDIA '0.2 TFLOPS' (1/32 rate); 6.144/32 = 0.192 at base [C]")},
    memory_bytes=_gb(12, "https://ocaholic.ch/modules/news/article.php?storyid=12063",
                     "[S] 12 GB GDDR5"),
    memory_bandwidth_bytes_per_s=_gbs(336.5, ANCHORS + "#anchors-accounting-3-6 (Paleo)", "[S]"),
    power_w=_w(250, "https://ocaholic.ch/modules/news/article.php?storyid=12063", "[S] TDP"),
    launch_price_usd=_usd(999, "https://ocaholic.ch/modules/news/article.php?storyid=12063",
                          "[S] 'the same US $999 price tag' as the GTX Titan"))

TESLA_P100 = Gpu(
    name="Tesla P100 SXM2", year=2016, architecture="Pascal (GP100)", aliases=("P100",),
    peak_flop_per_s={
        "fp64": _tf(5.3, TECHRIVAL_V100, "[S] NVIDIA table, boost 1480 MHz"),
        "fp32": _tf(10.6, TECHRIVAL_V100, "[S]"),
        "fp16": _tf(21.2, "NVIDIA Tesla P100 data sheet", "[R] 2 × FP32 (packed half)")},
    memory_bytes=_gb(16, TECHRIVAL_V100, "[S] 16 GB HBM2"),
    memory_bandwidth_bytes_per_s=_gbs(732, "NVIDIA Tesla P100 data sheet", "[R]"),
    power_w=_w(300, "NVIDIA Tesla P100 data sheet", "[R] SXM2 TDP"),
    launch_price_usd=_usd(16_125, "NVIDIA GTC 2016: DGX-1 with 8 × P100 at $129,000",
                          "[R] [C] system list price / 8: includes the host, not a card "
                          "price"))

TESLA_V100 = Gpu(
    name="Tesla V100 SXM2", year=2017, architecture="Volta (GV100)", aliases=("V100",),
    peak_flop_per_s={
        "fp64": _tf(7.8, "NVIDIA Tesla V100 data sheet (SXM2, 1530 MHz)",
                    "[R]; the GTC 2017 announcement gave 7.5 TF at 1455 MHz [S, "
                    + TECHRIVAL_V100 + "]"),
        "fp32": _tf(15.7, "NVIDIA Tesla V100 data sheet (SXM2, 1530 MHz)",
                    "[R]; matches the 1.55 ms per 24.3 GFLOP of "
                    "docs/references.md#anchors-accounting-3-5 [C]; 15 TF "
                    "announced [S]"),
        "fp16_tensor": _tf(125, "NVIDIA Tesla V100 data sheet (SXM2)",
                           "[R]; matches the 194 µs per 24.3 GFLOP of "
                           "docs/references.md#anchors-accounting-3-5 [C]; "
                           "120 TF announced [S]")},
    memory_bytes=_gb(16, TECHRIVAL_V100, "[S] 16 GB HBM2 (a 32 GB model followed in 2018)"),
    memory_bandwidth_bytes_per_s=_gbs(900, "https://www.io-tech.fi/uutinen/nvidia-esitteli-"
                                           "tesla-v100-pci-express-kiihdyttimen-"
                                           "tieteelliseen-laskentaan/",
                                      "[S] 900 GB/s (4096-bit HBM2)"),
    power_w=_w(300, TECHRIVAL_V100, "[S] SXM2 / dual-slot TDP"),
    launch_price_usd=_usd(18_625, "https://www.tweaktown.com/news/57488/nvidia-tesla-v100-"
                                  "single-slot-150w-dual-300w/index.html",
                          "[S] DGX-1 with 8 × V100 at $149,000 [C] / 8: includes the host"))

_A100_COMPUTE = {
    "fp64": _tf(9.7, KLOCKWOOD_A100, "[S]"),
    "fp64_tensor": _tf(19.5, KLOCKWOOD_A100, "[S]"),
    "fp32": _tf(19.5, KLOCKWOOD_A100, "[S]"),
    "tf32_tensor": _tf(156, KLOCKWOOD_A100, "[S] dense"),
    "fp16_tensor": _tf(312, KLOCKWOOD_A100, "[S] dense"),
    "bf16_tensor": _tf(312, KLOCKWOOD_A100, "[S] dense"),
    "int8_tensor": _tf(624, KLOCKWOOD_A100, "[S] dense, TOPS", unit="OP/s"),
}
A100_40GB = Gpu(
    name="A100 SXM4 40GB", year=2020, architecture="Ampere (GA100)", aliases=("A100",),
    peak_flop_per_s=_A100_COMPUTE,
    memory_bytes=_gb(40, KLOCKWOOD_A100, "[S] HBM2"),
    memory_bandwidth_bytes_per_s=_gbs(1555, KLOCKWOOD_A100, "[S]"),
    power_w=_w(400, KLOCKWOOD_A100, "[S] TDP"),
    launch_price_usd=_usd(25_000, "https://videocardz.com/newz/nvidia-dgx-a100-with-eight-"
                                  "ampere-tesla-a100-detailed",
                          "[S] 'each of the DGX-A100 systems will cost 200,000 USD' [C] / 8 "
                          "GPUs: includes the host"))
A100_80GB = Gpu(
    name="A100 SXM4 80GB", year=2020, architecture="Ampere (GA100)",
    peak_flop_per_s=_A100_COMPUTE,
    memory_bytes=_gb(80, KLOCKWOOD_A100, "[S] HBM2e"),
    memory_bandwidth_bytes_per_s=_gbs(2039, KLOCKWOOD_A100, "[S]"),
    power_w=_w(400, KLOCKWOOD_A100, "[S] TDP"))

_H100_COMPUTE = {
    "fp64": _tf(33.5, KLOCKWOOD_H100, "[S] vector"),
    "fp64_tensor": _tf(66.9, KLOCKWOOD_H100, "[S]"),
    "fp32": _tf(66.9, KLOCKWOOD_H100, "[S]"),
    "tf32_tensor": _tf(494.7, KLOCKWOOD_H100, "[S] dense"),
    "fp16_tensor": _tf(989.4, KLOCKWOOD_H100, "[S] dense (1979 is the sparse figure)"),
    "bf16_tensor": _tf(989.4, KLOCKWOOD_H100, "[S] dense (1979 is the sparse figure)"),
    "fp8_tensor": _tf(1978.9, KLOCKWOOD_H100, "[S] dense"),
    "int8_tensor": _tf(1978.9, KLOCKWOOD_H100, "[S] dense, TOPS", unit="OP/s"),
}
H100_SXM = Gpu(
    name="H100 SXM5", year=2022, architecture="Hopper (GH100)", aliases=("H100",),
    peak_flop_per_s=_H100_COMPUTE,
    memory_bytes=_gb(80, KLOCKWOOD_H100, "[S] HBM3"),
    memory_bandwidth_bytes_per_s=_gbs(3350, KLOCKWOOD_H100, "[S]"),
    power_w=_w(700, KLOCKWOOD_H100, "[S] TDP"),
    launch_price_usd=_usd(25_000, "https://www.techspot.com/news/99839-nvidia-garners-"
                                  "reported-1000-profit-each-h100-gpu.html",
                          "[S] NOT a list price (NVIDIA published none): Raymond James' "
                          "estimate of $25,000–30,000 per H100 sold (2023), low end"))
H200_SXM = Gpu(
    name="H200 SXM", year=2024, architecture="Hopper (GH100)", aliases=("H200",),
    peak_flop_per_s=_H100_COMPUTE,
    memory_bytes=_gb(141, H200_PAGES, "[S] HBM3e"),
    memory_bandwidth_bytes_per_s=_gbs(4800, H200_PAGES, "[S]"),
    power_w=_w(700, H200_PAGES, "[S] TDP"),
    notes=("Compute as H100 SXM [S]; no list price published (NOT FOUND).",))
B200 = Gpu(
    name="B200 (HGX)", year=2025, architecture="Blackwell", aliases=("B200",),
    peak_flop_per_s={
        "fp64": _tf(40, KLOCKWOOD_B200, "[S] at 1000 W"),
        "fp64_tensor": _tf(40, KLOCKWOOD_B200, "[S]"),
        "fp32": _tf(80, KLOCKWOOD_B200, "[S]"),
        "tf32_tensor": _tf(1100, KLOCKWOOD_B200, "[S] dense"),
        "fp16_tensor": _tf(2250, KLOCKWOOD_B200, "[S] dense (4500 sparse)"),
        "bf16_tensor": _tf(2250, KLOCKWOOD_B200, "[S] dense (4500 sparse)"),
        "fp8_tensor": _tf(4500, KLOCKWOOD_B200, "[S] dense (9000 sparse)"),
        "int8_tensor": _tf(4500, KLOCKWOOD_B200, "[S] dense", unit="OP/s")},
    memory_bytes=_gb(192, KLOCKWOOD_B200, "[S] 192 GB HBM3e (8 stacks)"),
    memory_bandwidth_bytes_per_s=_gbs(8000, KLOCKWOOD_B200, "[S] 8 TB/s (max)"),
    power_w=_w(1000, KLOCKWOOD_B200, "[S] maximum (HGX); 1200 W in GB200"),
    notes=("No list price published (NOT FOUND).",))

#: GPUs from the post's era (2013–2015) to now, by name.
GPUS: Catalogue[Gpu] = Catalogue("GPU", (GTX_TITAN, TESLA_K40, GTX_980, TITAN_X_MAXWELL,
                                          TESLA_P100, TESLA_V100, A100_40GB, A100_80GB,
                                          H100_SXM, H200_SXM, B200))

# -- interconnects ----------------------------------------------------------------------------
_PCIE = ANCHORS + "#anchors-accounting-3-6 (https://hpc-notes.pages.dev/reference/pcie)"
_IB = ANCHORS + "#anchors-accounting-3-6 (aicplight, atgbics, nexuswise pages)"
_LAT_HW = ("[R] order of magnitude of a hardware transfer, not re-checked; collective "
           "libraries add several µs per step (see collectives.derate)")
_LAT_IB = _c(1e-6, "s", "http://www.aspsys.com/content/glossary/glos_low_latency",
             "[S] 'InfiniBand: ~1us to ~5us' (MPI small messages); the low end")
_LAT_ETH = _c(1e-5, "s", "https://www.naddod.com/blog/edr-infiniband-vs-100gb-ethernet-"
                         "performance-competition",
              "[S] native 100 Gb Ethernet 8-byte MPI latency 'typically around 10 "
              "microseconds' (OSU benchmarks)")


def _link(name: str, kind: str, year: int, bandwidth: Cited, latency: Cited,
          *aliases: str, note: str = "") -> Interconnect:
    return Interconnect(name=name, kind=kind, year=year, bandwidth=bandwidth,
                        latency=latency, aliases=aliases, notes=(note,) if note else ())


def _eth(gbit: int, year: int, latency: Cited) -> Interconnect:
    return _link(f"Ethernet {gbit}G", "ethernet", year,
                 _c(bytes_per_s_from_gbit_per_s(gbit), "B/s", f"IEEE 802.3 {gbit} Gbit/s",
                    f"[C] {gbit} Gbit/s / 8 (line rate; TCP/IP overhead not deducted)"),
                 latency, f"{gbit}GbE")


_HW_LAT = _c(1e-6, "s", "this library's order of magnitude", _LAT_HW)
INTERCONNECTS: Catalogue[Interconnect] = Catalogue("interconnect", (
    _link("PCIe 3.0 x16", "pcie", 2010,
          _gbs(15.75, _PCIE, "[S] 8 GT/s × 16 lanes, 128b/130b; 'the post's 15.75 GB/s'"),
          _HW_LAT, "PCIe3", "PCIe 3"),
    _link("PCIe 4.0 x16", "pcie", 2017, _gbs(31.5, _PCIE, "[S] 16 GT/s × 16"), _HW_LAT,
          "PCIe4", "PCIe 4"),
    _link("PCIe 5.0 x16", "pcie", 2019,
          _gbs(63.0, _PCIE, "[S]; H100's '128 GB/s' counts both directions"), _HW_LAT,
          "PCIe5", "PCIe 5"),
    _link("NVLink 1 (P100)", "nvlink", 2016,
          _gbs(80, "NVIDIA Tesla P100 white paper", "[R] 4 links × 20 GB/s per direction"),
          _HW_LAT, "NVLink1"),
    _link("NVLink 2 (V100)", "nvlink", 2017,
          _gbs(150, ANCHORS + "#anchors-accounting-2-5 (ASTRA-sim V100 validation: '6 NVLinks × "
                              "25 GB/s')",
               "[S] 6 × 25 GB/s per direction"), _HW_LAT, "NVLink2"),
    _link("NVLink 3 (A100)", "nvlink", 2020,
          _gbs(300, ANCHORS + "#anchors-accounting-3-6",
               "[S] 12 links; 600 GB/s both directions"), _HW_LAT,
          "NVLink3"),
    _link("NVLink 4 (H100)", "nvlink", 2022,
          _gbs(450, ANCHORS + "#anchors-accounting-3-6",
               "[S] 18 links; 900 GB/s both directions"), _HW_LAT,
          "NVLink4"),
    _link("NVLink 5 (B200)", "nvlink", 2024,
          _gbs(900, "https://fridayswithfaraday.com/posts/gpu-hw-blackwell-b200-deep-dive",
               "[S] '1,800 GB/s of NVLink 5.0 connectivity per GPU' (both directions)"),
          _HW_LAT, "NVLink5"),
    _link("InfiniBand QDR", "infiniband", 2008,
          _gbs(4.0, _IB, "[S] 40 Gbit/s signalling, 32 Gbit/s data (8b/10b), 4x port"),
          _LAT_IB, "QDR", note="The post's 'affordable network cards' give about 4 GB/s, "
                               "and its cluster used 40 Gbit/s InfiniBand "
                               "(docs/references.md#seed-conv-parallel-d-2)."),
    _link("InfiniBand FDR", "infiniband", 2011, _gbs(6.8, _IB, "[S] 56 Gbit/s, 64b/66b"),
          _LAT_IB, "FDR"),
    _link("InfiniBand EDR", "infiniband", 2014, _gbs(12.5, _IB, "[S] 100 Gbit/s"), _LAT_IB,
          "EDR"),
    _link("InfiniBand HDR", "infiniband", 2018, _gbs(25, _IB, "[S] 200 Gbit/s"), _LAT_IB,
          "HDR"),
    _link("InfiniBand NDR", "infiniband", 2021, _gbs(50, _IB, "[S] 400 Gbit/s"), _LAT_IB,
          "NDR"),
    _link("InfiniBand XDR", "infiniband", 2024, _gbs(100, _IB, "[S] 800 Gbit/s"), _LAT_IB,
          "XDR"),
    _eth(10, 2002, _c(5e-5, "s", "http://www.aspsys.com/content/glossary/glos_low_latency",
                      "[S] GbE '~40 to ~300us', 10 GbE 'about the same'; 50 µs chosen "
                      "near the low end")),
    _eth(25, 2016, _LAT_ETH), _eth(40, 2010, _LAT_ETH), _eth(100, 2011, _LAT_ETH),
    _eth(200, 2017, _LAT_ETH), _eth(400, 2017, _LAT_ETH),
))

# -- supercomputers ---------------------------------------------------------------------------


def _pf(pflop_per_s: float, source: str, note: str) -> Cited:
    return _c(pflop_per_s * 1e15, "FLOP/s", source, note)


def _mw(mw: float, source: str, note: str) -> Cited:
    return _c(mw * 1e6, "W", source, note)


SUPERCOMPUTERS: Catalogue[Supercomputer] = Catalogue("supercomputer", (
    Supercomputer(
        name="Tianhe-1A", year=2010, site="NSC Tianjin", list_edition="2010-11",
        rmax=_pf(2.566, "https://tailieuxanh.com/vn/tlID1315257_manning-opencl-in-action.html"
                        " (OpenCL in Action)", "[S] '2,566 TFLOPS'"),
        rpeak=_pf(4.701, TOP500 + " Nov 2010", "[R]"),
        power_w=_mw(4.04, TOP500 + " Nov 2010", "[R]")),
    Supercomputer(
        name="Titan", year=2012, site="ORNL", list_edition="2012-11",
        rmax=_pf(17.59, ANCHORS + "#anchors-accounting-3-6 (itnews)", "[S]"),
        rpeak=_pf(27.1, ANCHORS + "#anchors-accounting-3-6", "[S] ≈"),
        power_w=_mw(8.2, ANCHORS + "#anchors-accounting-3-6", "[S] 2.14 GF/W")),
    Supercomputer(
        name="Tianhe-2", year=2013, site="NSC Guangzhou", list_edition="2013-06",
        aliases=("Milky Way-2",),
        rmax=_pf(33.86, ANCHORS + "#anchors-accounting-3-6 (top500 Nov 2013 highlights)", "[S]"),
        rpeak=_pf(54.9, ANCHORS + "#anchors-accounting-3-6", "[S]"),
        hpcg=_pf(0.58, DETTMERS_2015, "[S] the post's 'practical applications' figure, "
                                      "Tianhe-2 on HPCG "
                                      "(docs/references.md#seed-brain-vs-dl-2-4, "
                                      "#seed-brain-vs-dl-3-1)"),
        power_w=_mw(17.8, "top500.org/lists/2013/11/highlights (web archive)",
                    "[S] during HPL; the post's 24 MW includes cooling")),
    Supercomputer(
        name="Sunway TaihuLight", year=2016, site="NSC Wuxi", list_edition="2016-06",
        aliases=("TaihuLight",),
        rmax=_pf(93.01, "https://www.nextbigfuture.com/2016/06/china-sunway-taihulight-"
                        "supercomputer.html", "[S] '93 Petaflops (Rmax)'; 93.015 on the list"),
        rpeak=_pf(125.4, "Dongarra (2016), Report on the Sunway TaihuLight System, "
                         "UT-EECS-16-742", "[S]"),
        power_w=_mw(15.37, "https://www.nextbigfuture.com/2016/06/china-sunway-taihulight-"
                           "supercomputer.html", "[S] during HPL"),
        notes=("HPCG recalled as ≈0.4–0.5 PF, not re-checked: left out.",)),
    Supercomputer(
        name="Summit", year=2018, site="ORNL", list_edition="2019-06",
        rmax=_pf(148.6, ANCHORS + "#anchors-accounting-3-6", "[S] (122.3 PF in Jun 2018, 143.5 "
                                                             "in Nov 2018)"),
        rpeak=_pf(200.79, "https://cacm.acm.org/careers/232692-u-s-systems-lead-top500-"
                          "supercomputers-list/fulltext", "[S] 200,794.9 TFlop/s"),
        hpcg=_pf(2.93, "https://www.sciencejane.com/japans-fugaku-surpasses-summit-as-the-"
                       "most-powerful-supercomputer-in-the-world/", "[S] '2.93 HPCG-petaflops'"),
        power_w=_mw(10.1, ANCHORS + "#anchors-accounting-3-6", "[R] ≈ 10.1 MW at 148.6 PF")),
    Supercomputer(
        name="Fugaku", year=2020, site="RIKEN R-CCS, Kobe", list_edition="2020-06",
        rmax=_pf(415.53, "https://elettronica-plus.it/fugaku-ottiene-il-primo-posto-nella-"
                         "classifica-top500_106850/amp", "[S] 415.53 PF, 80.87 % of peak"),
        rpeak=_pf(513.8, "https://elettronica-plus.it/fugaku-ottiene-il-primo-posto-nella-"
                         "classifica-top500_106850/amp", "[C] 415.53 / 0.8087"),
        hpcg=_pf(13.4, "https://www.explica.co/japans-fugaku-beats-summit-as-the-worlds-most"
                       "-powerful-supercomputer/", "[S] June 2020; 16.0 PF from Nov 2020"),
        power_w=_mw(28.3, TOP500 + " Jun 2020", "[R]")),
    Supercomputer(
        name="Frontier", year=2022, site="ORNL", list_edition="2022-06",
        rmax=_pf(1102, ANCHORS + "#anchors-accounting-3-6 (top500.org lists)", "[S] 1.102 EF; "
                                                                               "1.353 EF by "
                                                              "Nov 2024"),
        rpeak=_pf(1686, ANCHORS + "#anchors-accounting-3-6", "[R] ≈ 1.69 EF in 2022"),
        hpcg=_pf(14.05, "https://top500.org/lists/hpcg/2023/11", "[S] 14.05 HPCG-PFlop/s"),
        power_w=_mw(21.1, ANCHORS + "#anchors-accounting-3-6", "[C] 1.102 EF / 52.23 GF/W")),
    Supercomputer(
        name="Aurora", year=2023, site="ANL", list_edition="2024-06",
        rmax=_pf(1012, ANCHORS + "#anchors-accounting-3-6 (datacenterdynamics)", "[S] 1.012 EF"),
        rpeak=_pf(1980, TOP500 + " Jun 2024", "[R] ≈ 1.98 EF"),
        power_w=_mw(38.7, ANCHORS + "#anchors-accounting-3-6", "[C] 1.012 EF / 26.15 GF/W")),
    Supercomputer(
        name="El Capitan", year=2024, site="LLNL", list_edition="2024-11",
        rmax=_pf(1742, ANCHORS + "#anchors-accounting-3-6 (top500.org news)", "[S] 1.742 EF"),
        rpeak=_pf(2746, ANCHORS + "#anchors-accounting-3-6", "[R] ≈ 2.75 EF"),
        hpcg=_pf(17.41, ANCHORS + "#anchors-accounting-3-6 (techpowerup)", "[S] 17.41 PF"),
        power_w=_mw(29.6, ANCHORS + "#anchors-accounting-3-6", "[C] 1.742 EF / 58.89 GF/W")),
))


def _rank(benchmark: str, edition: str, system: str, flop_per_s: float, status: str,
          source: str = TOP500) -> RankingEntry:
    return RankingEntry(benchmark=benchmark, edition=edition, system=system,
                        performance=_c(flop_per_s, "FLOP/s", source, status))


_R = "[R] list value from memory, not re-checked"
_S_ANCH = ANCHORS + "#anchors-accounting-3-6"
#: HPL Rmax of the TOP500 number one, every edition from June 1993 to June 2025 (the
#: numbers below are TFLOP/s).
TOP500_NUMBER_ONE: tuple[RankingEntry, ...] = tuple(
    _rank("HPL", ed, system, tf * 1e12, status, src) for ed, system, tf, status, src in (
        ("1993-06", "CM-5/1024", 0.0597, _R, TOP500),
        ("1993-11", "Numerical Wind Tunnel", 0.1245, _R, TOP500),
        ("1994-06", "Intel XP/S 140 Paragon", 0.1434, _R, TOP500),
        ("1994-11", "Numerical Wind Tunnel", 0.1704, _R, TOP500),
        ("1995-06", "Numerical Wind Tunnel", 0.1704, _R, TOP500),
        ("1995-11", "Numerical Wind Tunnel", 0.1704, _R, TOP500),
        ("1996-06", "Hitachi SR2201/1024", 0.2204, _R, TOP500),
        ("1996-11", "CP-PACS/2048", 0.3682, _R, TOP500),
        ("1997-06", "ASCI Red", 1.068, _R, TOP500),
        ("1997-11", "ASCI Red", 1.338, _R, TOP500),
        ("1998-06", "ASCI Red", 1.338, _R, TOP500),
        ("1998-11", "ASCI Red", 1.338, _R, TOP500),
        ("1999-06", "ASCI Red", 2.121, _R, TOP500),
        ("1999-11", "ASCI Red", 2.379, _R, TOP500),
        ("2000-06", "ASCI Red", 2.379, _R, TOP500),
        ("2000-11", "ASCI White", 4.938, _R, TOP500),
        ("2001-06", "ASCI White", 7.226, _R, TOP500),
        ("2001-11", "ASCI White", 7.226, _R, TOP500),
        ("2002-06", "Earth Simulator", 35.86, _R, TOP500),
        ("2002-11", "Earth Simulator", 35.86, _R, TOP500),
        ("2003-06", "Earth Simulator", 35.86, _R, TOP500),
        ("2003-11", "Earth Simulator", 35.86, _R, TOP500),
        ("2004-06", "Earth Simulator", 35.86, _R, TOP500),
        ("2004-11", "BlueGene/L", 70.72, _R, TOP500),
        ("2005-06", "BlueGene/L", 136.8, _R, TOP500),
        ("2005-11", "BlueGene/L", 280.6, _R, TOP500),
        ("2006-06", "BlueGene/L", 280.6, _R, TOP500),
        ("2006-11", "BlueGene/L", 280.6, _R, TOP500),
        ("2007-06", "BlueGene/L", 280.6, _R, TOP500),
        ("2007-11", "BlueGene/L", 478.2, _R, TOP500),
        ("2008-06", "Roadrunner", 1026, _R, TOP500),
        ("2008-11", "Roadrunner", 1105, _R, TOP500),
        ("2009-06", "Roadrunner", 1105, _R, TOP500),
        ("2009-11", "Jaguar", 1759, _R + " (≈1800 TF in http://richg74.wordpress.com/"
                                        "2009/11/30/new-top-500-list/ [S])", TOP500),
        ("2010-06", "Jaguar", 1759, _R, TOP500),
        ("2010-11", "Tianhe-1A", 2566, "[S] OpenCL in Action: '2,566 TFLOPS'", TOP500),
        ("2011-06", "K computer", 8162, _R, TOP500),
        ("2011-11", "K computer", 10510, "[S] 10,510,000 GFLOP/s (cio-asia.com, 2015)", TOP500),
        ("2012-06", "Sequoia", 16320, _R, TOP500),
        ("2012-11", "Titan", 17590, "[S]", _S_ANCH),
        *((f"{y}-{m}", "Tianhe-2", 33860, "[S] #1 Jun 2013 – Nov 2015", _S_ANCH)
          for y in (2013, 2014, 2015) for m in ("06", "11")),
        *((f"{y}-{m}", "Sunway TaihuLight", 93010, "[S] 93.0 PF, #1 Jun 2016 – Nov 2017",
           TOP500) for y in (2016, 2017) for m in ("06", "11")),
        ("2018-06", "Summit", 122300, "[S]", _S_ANCH),
        ("2018-11", "Summit", 143500, "[S]", _S_ANCH),
        ("2019-06", "Summit", 148600, "[S]", _S_ANCH),
        ("2019-11", "Summit", 148600, "[S]", _S_ANCH),
        ("2020-06", "Fugaku", 415530, "[S]", TOP500),
        ("2020-11", "Fugaku", 442000, _R, TOP500),
        ("2021-06", "Fugaku", 442000, _R, TOP500),
        ("2021-11", "Fugaku", 442000, _R, TOP500),
        ("2022-06", "Frontier", 1102000, "[S]", _S_ANCH),
        ("2022-11", "Frontier", 1102000, "[S]", _S_ANCH),
        ("2023-06", "Frontier", 1194000, "[S]", _S_ANCH),
        ("2023-11", "Frontier", 1194000, _R + " (unchanged from Jun 2023)", _S_ANCH),
        ("2024-06", "Frontier", 1206000, "[S]", _S_ANCH),
        ("2024-11", "El Capitan", 1742000, "[S]", _S_ANCH),
        ("2025-06", "El Capitan", 1742000, "[S] (Jun 2025 power quoted at this Rmax)",
         _S_ANCH),
    ))

#: HPCG of the HPCG number one at the editions with a value in a stored source.
HPCG_NUMBER_ONE: tuple[RankingEntry, ...] = (
    _rank("HPCG", "2014-06", "Tianhe-2", 0.58e15,
          "[S] the post's figure (docs/references.md#seed-brain-vs-dl-3-1); edition: the first "
          "HPCG list, ISC 2014 [R]",
          DETTMERS_2015),
    _rank("HPCG", "2017-06", "K computer", 0.602e15,
          "[S] 'first place ... 602 teraflops'",
          "https://www.scientific-computing.com/news/k-computer-takes-first-place-hpcg-"
          "benchmark"),
    _rank("HPCG", "2018-11", "Summit", 2.93e15,
          "[S] value ('2.93 HPCG-petaflops', Jun 2020, then #2); edition of its first #1 [R]",
          "https://www.sciencejane.com/japans-fugaku-surpasses-summit-as-the-most-powerful-"
          "supercomputer-in-the-world/"),
    _rank("HPCG", "2020-06", "Fugaku", 13.4e15, "[S] 13,400 TFLOPS",
          "https://elettronica-plus.it/fugaku-ottiene-il-primo-posto-nella-classifica-"
          "top500_106850/amp"),
    _rank("HPCG", "2020-11", "Fugaku", 16.0e15, "[S] '16.0 HPCG-petaflops'; edition [R]",
          "https://tickerdossier.com/wiki/hpcg-benchmark"),
    _rank("HPCG", "2023-11", "Fugaku", 16.0e15, "[S] 'Fugaku remains the leader ... 16 PFlop/s'",
          "https://top500.org/lists/hpcg/2023/11"),
    _rank("HPCG", "2025-06", "El Capitan", 17.41e15, "[S] value; edition [R]",
          ANCHORS + "#anchors-accounting-3-6 (techpowerup)"),
)

# -- the post's forecast inputs ---------------------------------------------------------------
#: Start of the post's extrapolation: Tianhe-2 on HPCG.
POST_START_FLOP_PER_S = _pf(0.58, DETTMERS_2015,
                            "[S] 0.58×10^15 FLOPS 'for practical applications' "
                            "(docs/references.md#seed-brain-vs-dl-2-4)")
#: The base year the post's dates imply: 2015 + 21 × 1.8 = 2052.8 → 2053
#: (docs/references.md#seed-brain-vs-dl-3-5 [C]).
POST_START_YEAR = 2015
#: Doubling periods the post states, years: the 60-year trend and the pessimistic one.
POST_DOUBLING_PERIODS_Y: dict[str, Cited] = {
    "trend": _c(1.8, "y", DETTMERS_2015, "[S] 'last 60 years' trend "
                                         "(docs/references.md#seed-brain-vs-dl-3-5)"),
    "pessimistic": _c(3.0, "y", DETTMERS_2015,
                      "[S] listed problems; equals the network-bandwidth doubling "
                      "(docs/references.md#seed-brain-vs-dl-3-5)"),
}
#: Years the post states for each assumption ("moore": period not stated).
POST_STATED_YEARS: dict[str, Cited] = {
    "moore": _c(2037, "year", DETTMERS_2015, "[S] 'Moore's law'; period and base NOT stated"),
    "trend": _c(2053, "year", DETTMERS_2015, "[S] at 1.8 years per doubling"),
    "pessimistic": _c(2078, "year", DETTMERS_2015, "[S] at 3 years per doubling"),
}
#: Tianhe-2's power and electricity bill as the post gives them.
TIANHE2_POWER_W_POST = _mw(24, DETTMERS_2015, "[S] 24 MW (docs/references.md#seed-brain-vs-dl-3-3)")
TIANHE2_ELECTRICITY_USD_PER_YEAR = _usd(23e6, DETTMERS_2015,
                                        "[S] '~$23 million per year' ($65k–100k per day)")
#: The electricity price that 24 MW for a year (8760 h) at $23M implies.
ELECTRICITY_USD_PER_KWH_IMPLIED_BY_POST = _c(
    23e6 / (24e3 * 8760), "USD/kWh", DETTMERS_2015,
    "[C] $23M / (24,000 kW × 8760 h) = $0.1094/kWh; the post's $65k–100k per day imply "
    "$0.113–0.174/kWh")
#: Facility power over HPL power of Tianhe-2: 24 MW (post) / 17.8 MW (TOP500).
TIANHE2_FACILITY_OVERHEAD = _c(24 / 17.8, "1", DETTMERS_2015 + "; " + TOP500,
                               "[C] 24 / 17.8 = 1.35 (cooling and the rest of the site)")
#: Cost of a chip fab in 2015 and its yearly growth (docs/references.md#seed-brain-vs-dl-3-4).
FAB_COST_USD_2015 = _usd(9e9, DETTMERS_2015, "[S] 'fab cost ≈ $9 billion'")
FAB_COST_GROWTH_PER_YEAR_LOW = _c(0.07, "1/y", DETTMERS_2015, "[S] '7–10% per year'")
FAB_COST_GROWTH_PER_YEAR_HIGH = _c(0.10, "1/y", DETTMERS_2015, "[S] '7–10% per year'")
#: Fraction of peak a large training run achieved: Megatron, 502 PF on 3072 A100s.
DEVICE_EFFICIENCY_MEGATRON_2021 = _c(
    0.52, "1", "Narayanan et al. (2021), arXiv 2104.04473, via " + ANCHORS
    + "#anchors-accounting-2-7",
    "[S] 52 % of peak, whole-run model-FLOP utilisation (communication included)")
#: Achieved fraction of a link's nominal bandwidth: 741.34 of 900 GB/s on an HGX-H100.
LINK_EFFICIENCY_HGX_H100_ASTRA_SIM = _c(
    741.34 / 900, "1", "ASTRA-sim validation on an HGX-H100, via " + ANCHORS
    + "#anchors-accounting-2-5",
    "[C] 741.34 GB/s achieved bus bandwidth [S] / 900 GB/s NVLink 4 [S]")

# -- gradient compression ---------------------------------------------------------------------
COMPRESSION_FP16 = Compression(
    name="fp16", wire_bits_per_value=16.0, aggregation="allreduce",
    source="IEEE 754 half precision", note="summed in fp16 on the wire (2× fewer bytes)")
COMPRESSION_8BIT_DETTMERS_2016 = Compression(
    name="8-bit (Dettmers 2016)", wire_bits_per_value=8.0, aggregation="allgather",
    source="Dettmers (2016), 8-Bit Approximations for Parallelism in Deep Learning, ICLR, "
           "arXiv:1511.04561",
    note="32 → 8 bits, dynamic tree data type [S docs/references.md#anchors-accounting-4]; its "
         "per-tensor scale is "
         "neglected; how the paper aggregated is NOT FOUND in the notes, so gather-then-sum "
         "(the volume grows with p) is this library's reading")
COMPRESSION_1BIT_SEIDE_2014 = Compression(
    name="1-bit + error feedback (Seide 2014)", wire_bits_per_value=1.0,
    scale_bits_per_block=64.0, block_size=2048, aggregation="allgather", error_feedback=True,
    source="Seide, Fu, Droppo, Li & Yu (2014), 1-Bit Stochastic Gradient Descent and its "
           "Application to Data-Parallel Distributed Training of Speech DNNs, Interspeech",
    note="1 bit per value [S docs/references.md#anchors-accounting-4] plus two fp32 "
         "reconstruction values per column: "
         "64 bits per 2048-value column is this library's assumption [R: 2048-unit layers]")


def gpu(name: str) -> Gpu:
    """The GPU called ``name`` (case, spaces and punctuation ignored; suggests close names)."""
    return GPUS[name]


def interconnect(name: str) -> Interconnect:
    """The interconnect called ``name`` (``"NDR"``, ``"PCIe 3.0 x16"``, ``"100GbE"`` …)."""
    return INTERCONNECTS[name]


def supercomputer(name: str) -> Supercomputer:
    """The supercomputer called ``name``."""
    return SUPERCOMPUTERS[name]
