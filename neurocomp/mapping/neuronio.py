r"""NeuronIO-mini: an input/output data set of a biophysical neuron, for deep surrogates.

Following Beniaguev, Segev & London (2021, Neuron 109:2727), each *sequence* is one
independent simulation of the cell driven by Beniaguev-style random input
(:mod:`neurocomp.mapping.neuronio_inputs`). Each sequence is simulated for
``burn_in_ms + sequence_ms``; the burn-in (default 2 s) is discarded, so that the stored data
never contain the transient from the initial state (slow currents settling, the onset burst).
Sequences are never joined: a training window must lie inside one sequence.

Every sequence is one Dask chunk of :func:`neurocomp.distributed.run_sweep`, so an
interrupted generation resumes where it stopped. All data of one configuration live in a
directory named by :func:`dataset_key`, a hash of everything that determines them (model
fingerprint, input statistics, channel layout, generation spec, code version): changing any
of these gives a new directory, never silently reused old simulations.

On-disk format (``format = "neurocomp.neuronio-mini"``, ``format_version = 1``)
--------------------------------------------------------------------------------
``<root>/<key>/manifest.json`` (written last, atomically; a directory without it is
incomplete) holds ``key``, ``condition``, ``model_fingerprint``, ``code_version``,
``input_statistics``, ``generation``, ``channels`` (columns ``kind``, ``subtree``,
``length_um``, ``compartment``, ``distance_um``, one entry per input row), ``bin_ms`` and
``splits``: for each of ``"train"``, ``"val"``, ``"test"`` a list of sequences
``{"file", "index", "seed", "n_bins", "n_spikes", "rate_hz"}``, and ``computed_by``: how
many sequences each simulating function wrote (Brian2's ``_sequence_task`` or the PyTorch
engine's ``_sequence_batch_task``; both give the same data). Each sequence file
``<split>_<index:04d>.npz`` is a plain NumPy archive:

=============  ========  ======================  =========================================
array          dtype     shape                   meaning
=============  ========  ======================  =========================================
``inputs``     uint8     (n_channels, n_bins)    0/1 input spikes per channel and bin
``soma_mV``    float32   (n_bins,)               somatic voltage at each bin, mV
``spikes``     uint8     (n_bins,)               1 where an output spike fell in the bin
``dend_mV``    float16   (n_sites, n_bins)       dendritic voltages, mV (only if recorded)
``seed``       int64     ()                      the sequence's seed
``diag_*``     float64   ()                      scalar diagnostics of the simulator
=============  ========  ======================  =========================================

(plus the sweep's bookkeeping: ``__params__`` — the JSON of ``seed``, ``split``, ``index``
and ``dataset_key`` —, its SHA-1 ``__params_hash__`` and, in files written since they were
added, the chunk's name ``__key__`` and the task's ``__task__``; files are reused or loaded
only if these name this data set and this sequence). Without neurocomp::

    import json, numpy as np, pathlib
    d = pathlib.Path("<root>/<key>")
    manifest = json.loads((d / "manifest.json").read_text())
    for seq in manifest["splits"]["train"]:
        with np.load(d / seq["file"]) as f:
            x, v, s = f["inputs"], f["soma_mV"], f["spikes"]
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocomp._files import write_json_atomic
from neurocomp.checks import check_int, check_real
from neurocomp.distributed import (
    Chunk,
    check_chunk_arrays,
    chunk_path,
    run_batched_sweep,
    run_sweep,
)
from neurocomp.mapping.neuronio_files import checked_output, read_sequence, sequence_params
from neurocomp.mapping.neuronio_inputs import ChannelTable, InputStatistics, generate_inputs
from neurocomp.mapping.surrogate import NeuronIO

__all__ = ["FORMAT", "FORMAT_VERSION", "SPLITS", "GenerationSpec", "NeuronIODataset",
           "dataset_key", "draw_sequence_inputs", "generate_dataset", "load_dataset"]

FORMAT = "neurocomp.neuronio-mini"
FORMAT_VERSION = 2
SPLITS = ("train", "val", "test")
_SEED_SPLIT_STRIDE = 2 ** 32  # sequences per split allowed by the seed layout


@dataclass(frozen=True, kw_only=True)
class GenerationSpec:
    """How many sequences of which length, and their seeds.

    Attributes
    ----------
    condition : str
        Name of the condition (for example ``"ampa_nmda"``); part of the key.
    bin_ms : float
        Bin width of inputs and outputs, ms (Beniaguev et al. use 1 ms,
        docs/references.md#anchors-surrogates-engines-a-3).
    burn_in_ms : float
        Simulated before each sequence and discarded, ms (≥ 0, a whole number of bins).
        Default 2,000 ms: a modelling choice, longer than Beniaguev's discarded 500 ms
        (docs/references.md#anchors-surrogates-engines-a-4) because the input rates are smoothed
        with σ up to 600 ms and the slow currents of the cell settle over hundreds of ms.
    sequence_ms : float
        Kept length of each sequence, ms (> 0, a whole number of bins); Beniaguev simulate
        6 s per file (docs/references.md#anchors-surrogates-engines-a-4).
    n_train, n_val, n_test : int
        Sequences per split (≥ 0, at least one in all).
    seed : int
        Base seed (≥ 0). Sequence ``i`` of split ``s`` gets
        ``seed·2³⁴ + s·2³² + i`` (``s`` = 0, 1, 2 for train, val, test): distinct for every
        split and sequence, so no two sequences share their random input.
    """

    condition: str
    bin_ms: float = 1.0
    burn_in_ms: float = 2000.0
    sequence_ms: float = 6000.0
    n_train: int = 8
    n_val: int = 2
    n_test: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.condition, str) or not self.condition:
            raise ValueError(f"condition must be a non-empty string; got {self.condition!r}")
        set_ = object.__setattr__  # plain float/int, so that 200 and 200.0 give one key
        set_(self, "bin_ms", check_real("bin_ms", self.bin_ms, low=0, low_inclusive=False,
                                        unit="ms"))
        set_(self, "burn_in_ms", check_real("burn_in_ms", self.burn_in_ms, low=0, unit="ms"))
        set_(self, "sequence_ms", check_real("sequence_ms", self.sequence_ms, low=0,
                                             low_inclusive=False, unit="ms"))
        for name in ("burn_in_ms", "sequence_ms"):
            n = getattr(self, name) / self.bin_ms
            if abs(n - round(n)) > 1e-9 * max(1.0, n):
                raise ValueError(f"{name} must be a whole number of bins of bin_ms="
                                 f"{self.bin_ms:g} ms; got {getattr(self, name):g} ms")
        for name in ("n_train", "n_val", "n_test"):
            set_(self, name, check_int(name, getattr(self, name), low=0,
                                       high=_SEED_SPLIT_STRIDE - 1))
        if self.n_train + self.n_val + self.n_test == 0:
            raise ValueError("n_train + n_val + n_test must be >= 1; got 0 sequences")
        set_(self, "seed", check_int("seed", self.seed, low=0))

    @property
    def burn_in_bins(self) -> int:
        """Discarded bins at the start of each simulated chunk."""
        return round(self.burn_in_ms / self.bin_ms)

    @property
    def sequence_bins(self) -> int:
        """Kept bins per sequence."""
        return round(self.sequence_ms / self.bin_ms)

    @property
    def total_bins(self) -> int:
        """Simulated bins per chunk (burn-in + sequence)."""
        return self.burn_in_bins + self.sequence_bins

    @property
    def n_sequences(self) -> dict[str, int]:
        """Sequences per split."""
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}

    def sequence_seed(self, split: str, index: int) -> int:
        """The seed of sequence ``index`` of ``split`` (see the class docstring)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
        check_int("index", index, low=0, high=self.n_sequences[split] - 1)
        return (self.seed * 4 + SPLITS.index(split)) * _SEED_SPLIT_STRIDE + index

    def sequences(self) -> list[tuple[str, int, int]]:
        """``(split, index, seed)`` of every sequence."""
        return [(s, i, self.sequence_seed(s, i)) for s in SPLITS
                for i in range(self.n_sequences[s])]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def dataset_key(*, model_fingerprint: str, stats: InputStatistics, channels: ChannelTable,
                spec: GenerationSpec, code_version: str) -> str:
    """SHA-256 (first 20 hex digits) of everything that determines the data.

    ``model_fingerprint`` must change with any model parameter and ``code_version`` with any
    change of the simulating code (this module's format version is included as well).
    The numbers of sequences per split are left out: sequence ``i`` of a split depends only
    on the key and ``i`` (its seed is derived from the base seed), so a larger data set
    extends a smaller one in the same directory and a quick subset is the first sequences
    of the full set; the manifest records how many a generation asked for.
    """
    for name, value in (("model_fingerprint", model_fingerprint),
                        ("code_version", code_version)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    blob = _canonical({"format": FORMAT, "format_version": FORMAT_VERSION,
                       "model_fingerprint": model_fingerprint, "code_version": code_version,
                       "input_statistics": stats.to_dict(), "channels": channels.fingerprint(),
                       "generation": {k: v for k, v in spec.to_dict().items()
                                      if k not in ("n_train", "n_val", "n_test")}})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def draw_sequence_inputs(stats: InputStatistics, channels: ChannelTable, spec: GenerationSpec,
                         seed: int) -> tuple[np.ndarray, int]:
    """The input of one simulated chunk (burn-in included) and the simulator's seed.

    The sequence seed is split into two independent streams: one for the input, one
    (returned as an int) for the simulator's own randomness.
    """
    inputs_ss, sim_ss = np.random.SeedSequence(check_int("seed", seed, low=0)).spawn(2)
    inputs = generate_inputs(stats, channels, spec.total_bins, rng=np.random.default_rng(
        inputs_ss), bin_ms=spec.bin_ms)
    return inputs, int(sim_ss.generate_state(1, dtype=np.uint32)[0])


def _sequence_task(*, seed: int, split: str, index: int, dataset_key: str,
                   simulate: Callable[[np.ndarray, int], Mapping[str, Any]],
                   stats: InputStatistics, channels: ChannelTable,
                   spec: GenerationSpec) -> dict[str, np.ndarray]:
    """Worker side: simulate one chunk and keep the part after the burn-in."""
    del split, index, dataset_key  # recorded in the chunk's parameters by run_sweep
    inputs, sim_seed = draw_sequence_inputs(stats, channels, spec, seed)
    return _kept(inputs, simulate(inputs, sim_seed), seed, spec)


def _sequence_batch_task(params: list[Mapping[str, Any]], *, simulate: Any,
                         stats: InputStatistics, channels: ChannelTable,
                         spec: GenerationSpec) -> list[dict[str, np.ndarray]]:
    """In-process side of a batched simulator: draw every sequence's input, simulate them
    together (``simulate.simulate_batch``), keep each one's part after the burn-in."""
    drawn = [draw_sequence_inputs(stats, channels, spec, int(p["seed"])) for p in params]
    outs = list(simulate.simulate_batch([x for x, _ in drawn], [s for _, s in drawn]))
    if len(outs) != len(params):
        raise ValueError(f"simulate_batch returned {len(outs)} results for {len(params)} "
                         f"sequences")
    return [_kept(x, out, int(p["seed"]), spec)
            for (x, _), out, p in zip(drawn, outs, params, strict=True)]


def _kept(inputs: np.ndarray, result: Mapping[str, Any], seed: int,
          spec: GenerationSpec) -> dict[str, np.ndarray]:
    """A sequence file's arrays: the checked result, burn-in dropped, stored dtypes."""
    out = checked_output(result, spec.total_bins)
    keep = slice(spec.burn_in_bins, spec.total_bins)
    data = {"inputs": inputs[:, keep],
            "soma_mV": out["soma_mV"][keep].astype(np.float32),
            "spikes": out["spikes"][keep].astype(np.uint8),
            "seed": np.array(seed, dtype=np.int64)}
    if "dend_mV" in out:
        data["dend_mV"] = out["dend_mV"][:, keep].astype(np.float16)
    for name, value in out.items():
        if name not in ("soma_mV", "spikes", "dend_mV"):
            data[f"diag_{name}"] = np.asarray(value, dtype=np.float64)
    return data


def generate_dataset(root: str | Path, *, simulate: Callable[[np.ndarray, int],
                                                               Mapping[str, Any]],
                     model_fingerprint: str, stats: InputStatistics, channels: ChannelTable,
                     spec: GenerationSpec, code_version: str, n_workers: int = 2,
                     scheduler: str | None = None, client: Any = None, progress: bool = True,
                     preload: Sequence[str] = ("brian2",)) -> Path:
    """Simulate (or resume) a NeuronIO-mini data set; return its directory.

    Parameters
    ----------
    root : path
        Parent directory; the data go to ``<root>/<dataset_key(...)>/``.
    simulate : callable
        ``simulate(inputs, seed) -> dict`` with ``inputs`` uint8 (n_channels, n_bins) for
        burn-in + sequence bins of ``spec.bin_ms``. Returns ``soma_mV`` (n_bins,) in mV,
        ``spikes`` (n_bins,) 0/1 per bin, optionally ``dend_mV`` (n_sites, n_bins) in mV
        and scalar diagnostics. Must be picklable (a module-level function or a
        ``functools.partial`` of one). A simulator with a ``simulate_batch(inputs_list,
        seeds) -> list of dict`` method and a ``batch_size`` (the PyTorch engine's
        :class:`~neurocomp.mapping.TorchSimulator`) runs in this process instead,
        ``batch_size`` sequences per pass (:func:`neurocomp.distributed.run_batched_sweep`);
        the files are the same, so either kind resumes the other's store.
    model_fingerprint, code_version : str
        Identify the model parameters and the simulating code (see :func:`dataset_key`).
    stats, channels, spec
        Input statistics, channel layout, generation spec.
    n_workers, scheduler, client, progress, preload
        Passed to :func:`neurocomp.distributed.run_sweep` (one chunk per sequence).
        ``preload=("brian2",)`` imports Brian2 on each worker's main thread first.

    Raises
    ------
    RuntimeError
        If any sequence failed (all failures listed); no manifest is written then.

    Sequence files already present are reused only if they read back completely, belong
    to this key and this sequence (parameters and seed) and have the expected shapes;
    anything else (an empty or truncated file, another data set's or sequence's data) is
    reported once on stderr, deleted and recomputed.
    """
    inputs_channels = channels.n_channels
    key = dataset_key(model_fingerprint=model_fingerprint, stats=stats, channels=channels,
                      spec=spec, code_version=code_version)
    directory = Path(root) / key
    directory.mkdir(parents=True, exist_ok=True)
    chunks = [Chunk(f"{split}_{index:04d}", sequence_params(key, split, index, seed))
              for split, index, seed in spec.sequences()]

    def validate(path: Path, chunk: Chunk) -> None:  # a file run_sweep may reuse
        arrays = read_sequence(path, key=key, n_channels=inputs_channels,
                                n_bins=spec.sequence_bins, params=chunk.params)
        check_chunk_arrays(arrays, chunk)

    if hasattr(simulate, "simulate_batch"):  # many sequences per pass, in this process
        batch_task = functools.partial(_sequence_batch_task, simulate=simulate, stats=stats,
                                       channels=channels, spec=spec)
        report = run_batched_sweep(batch_task, chunks, store=directory,
                                   batch_size=int(getattr(simulate, "batch_size", 1)),
                                   progress=progress, validate=validate)
    else:
        task = functools.partial(_sequence_task, simulate=simulate, stats=stats,
                                 channels=channels, spec=spec)
        report = run_sweep(task, chunks, store=directory, scheduler=scheduler,
                           n_workers=n_workers, progress=progress, client=client,
                           preload=preload, validate=validate)
    if report.failed:
        listing = "; ".join(f"{k}: {msg}" for k, msg in sorted(report.failed.items()))
        raise RuntimeError(f"{len(report.failed)} of {len(chunks)} sequences failed "
                           f"(data set {key} in {directory}): {listing}")
    splits: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    computed_by: dict[str, int] = {}  # sequences per computing function (Brian2 or engine)
    for chunk in chunks:  # each file was checked above or has just been written: count only
        with open(chunk_path(directory, chunk.key), "rb") as fh, np.load(fh) as f:
            n_spikes = int(f["spikes"].sum())
            task = str(f["__task__"]) if "__task__" in f.files else "unrecorded"
        computed_by[task] = computed_by.get(task, 0) + 1
        splits[chunk.params["split"]].append({
            "file": chunk_path(directory, chunk.key).name, "index": chunk.params["index"],
            "seed": chunk.params["seed"], "n_bins": spec.sequence_bins, "n_spikes": n_spikes,
            "rate_hz": n_spikes / (spec.sequence_ms / 1000.0)})
    total_spikes = sum(s["n_spikes"] for seqs in splits.values() for s in seqs)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "key": key,
        "condition": spec.condition, "model_fingerprint": model_fingerprint,
        "code_version": code_version, "input_statistics": stats.to_dict(),
        "generation": spec.to_dict(), "channels": channels.to_dict(), "bin_ms": spec.bin_ms,
        "n_channels": inputs_channels, "splits": splits, "computed_by": computed_by,
        "rate_hz": total_spikes / (len(chunks) * spec.sequence_ms / 1000.0)}
    write_json_atomic(directory / "manifest.json", manifest, indent=1, allow_nan=False)
    return directory


@dataclass(frozen=True, kw_only=True, eq=False)
class NeuronIODataset:
    """A loaded NeuronIO-mini data set.

    Attributes
    ----------
    manifest : dict
        The parsed ``manifest.json``.
    splits : dict of str to list of NeuronIO
        The sequences of each split, in index order (never concatenated).
    channels : ChannelTable
        The input layout (row ``i`` of every ``inputs`` array is channel ``i``).
    dend_mV : dict of str to list of (ndarray or None)
        Dendritic voltages per sequence (float16, mV), None where not recorded.
    diagnostics : dict of str to list of float
        The simulator's scalar diagnostics (``diag_<name>`` in the files), train then
        validation then test, each over the sequences that recorded it (Brian2 records its
        binary's ``run_s``, the PyTorch engine its ``engine_s``).
    """

    manifest: Mapping[str, Any]
    splits: Mapping[str, list[NeuronIO]]
    channels: ChannelTable
    dend_mV: Mapping[str, list[np.ndarray | None]]
    diagnostics: Mapping[str, list[float]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The data set's key."""
        return str(self.manifest["key"])

    @property
    def stats(self) -> InputStatistics:
        """The input statistics the data were drawn with."""
        return InputStatistics.from_dict(self.manifest["input_statistics"])

    @property
    def spec(self) -> GenerationSpec:
        """The generation spec."""
        return GenerationSpec(**self.manifest["generation"])


def load_dataset(path: str | Path, *, expected_key: str | None = None) -> NeuronIODataset:
    """Load ``<root>/<key>/`` written by :func:`generate_dataset`.

    Parameters
    ----------
    path : path
        The data set's directory (holding ``manifest.json``).
    expected_key : str, optional
        The key of the model and settings the caller will use (from :func:`dataset_key`);
        a data set with another key is refused.

    Raises
    ------
    FileNotFoundError
        No manifest (the generation did not finish) or a sequence file is missing.
    ValueError
        Wrong format, a key that does not match ``expected_key`` or the manifest's own
        parameters, a corrupt or foreign sequence file, or NaN in the data.
    """
    directory = Path(path)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing: not a NeuronIO-mini data set, "
                                f"or its generation did not finish")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{manifest_path} is not valid JSON ({exc}): the data set is damaged; "
                         f"delete {directory} to generate it again") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{manifest_path} must hold a JSON object (the manifest); got "
                         f"{type(manifest).__name__}")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{manifest_path}: format {manifest.get('format')!r} version "
                         f"{manifest.get('format_version')!r}; expected {FORMAT!r} version "
                         f"{FORMAT_VERSION}")
    missing = [k for k in ("key", "channels", "input_statistics", "generation",
                           "model_fingerprint", "code_version", "splits") if k not in manifest]
    if missing:
        raise ValueError(f"{manifest_path}: the manifest lacks the keys {missing}; the data set "
                         f"is damaged: delete {directory} to generate it again")
    key = manifest["key"]
    if expected_key is not None and key != expected_key:
        raise ValueError(f"data set key {key!r} in {directory} does not match the expected key "
                         f"{expected_key!r}: the data were made with another model, input "
                         f"statistics, channel layout, spec or code version")
    channels = ChannelTable.from_dict(manifest["channels"])
    stats = InputStatistics.from_dict(manifest["input_statistics"])
    spec = GenerationSpec(**manifest["generation"])
    recomputed = dataset_key(model_fingerprint=manifest["model_fingerprint"], stats=stats,
                             channels=channels, spec=spec, code_version=manifest["code_version"])
    if recomputed != key:
        raise ValueError(f"{manifest_path}: key {key!r} does not match its own parameters "
                         f"(which give {recomputed!r}); the manifest was edited or is damaged")
    splits: dict[str, list[NeuronIO]] = {}
    dend: dict[str, list[np.ndarray | None]] = {}
    diagnostics: dict[str, list[float]] = {}
    for split in SPLITS:
        splits[split], dend[split] = [], []
        for seq in manifest["splits"][split]:
            arrays = read_sequence(directory / seq["file"], key=key,
                                    n_channels=channels.n_channels, n_bins=spec.sequence_bins,
                                    params=sequence_params(key, split, seq["index"],
                                                            seq["seed"]))
            splits[split].append(NeuronIO(inputs=arrays["inputs"], soma_mV=arrays["soma_mV"],
                                          spikes=arrays["spikes"], bin_ms=spec.bin_ms))
            dend[split].append(arrays.get("dend_mV"))
            for name, value in arrays.items():
                if name.startswith("diag_"):
                    diagnostics.setdefault(name[5:], []).append(float(value))
    return NeuronIODataset(manifest=manifest, splits=splits, channels=channels, dend_mV=dend,
                           diagnostics=diagnostics)
