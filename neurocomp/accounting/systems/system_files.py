"""A :class:`~neurocomp.accounting.systems.system.System` read from (or written to) a JSON file.

The file holds numbers only, in the library's units (bytes, bytes/s, seconds, FLOP/s), so
it needs no catalogue; put their sources in ``"notes"``. Schema (``null`` or a missing key
takes the default; keys marked * are required)::

    {
      "name"*: "my cluster",
      "nodes": 1,                       # 1 to 2**24 (systems.MAX_NODES)
      "algorithm": "auto",              # "ring" | "tree" | "auto" (inter-node all-reduce)
      "fabric": {                       # required with nodes > 1
        "kind": "single_switch",        # or "fat_tree"
        "nodes_per_leaf": null,         # fat tree: nodes under one leaf switch
        "oversubscription": 1.0,        # ≥ 1
        "switch_latency_s": 0.0},       # per switch beyond the first
      "notes": ["where the numbers come from", ...],
      "node"*: {
        "name"*: "4-GPU box",
        "gpu"*: {"name": "GTX Titan (fp32)", "peak_flop_per_s"*: 4.5e12,
                 "efficiency": 1.0, "memory_bytes": 6e9},
        "gpus"*: 4,
        "pcie"*: LINK,                  # one x16 link of the node's PCIe generation
        "pcie_lanes_per_gpu": 16, "pcie_switches": 0, "pcie_switch_lanes": 0,
        "pcie_switch_uplink_lanes": 16,
        "cpu_sockets": 1, "cpu_cores_per_socket"*: 6, "cpu_pcie_lanes_per_socket"*: 40,
        "socket_link": null,            # LINK, required with 2+ sockets
        "p2p_across_sockets": false, "memory_bandwidth_bytes_per_s": null,
        "nvlink": null,                 # or {"link"*: LINK (all links of one GPU),
                                        #     "links_per_gpu"*: 6, "switched": false,
                                        #     "pairs": [[0, 1, 1], [0, 3, 2], ...]}
        "nic": null,                    # LINK of one NIC
        "nics": 0, "nic_pcie_lanes": 16, "nics_on_switches": false, "rdma": false,
        "staging": null}}               # {"chunk_bytes"*: 262144, "copy_overhead_s"*: 5e-6,
                                        #  "pipelined": true}; required without RDMA;
                                        #  chunk_bytes in (0, 2**30]
    LINK = {"name": "InfiniBand QDR", "bandwidth_bytes_per_s"*: 4e9, "latency_s"*: 1e-6}

Bandwidths are per direction. ``gpus`` and ``nics`` are at most 4096 per node
(:data:`~neurocomp.accounting.systems.node.MAX_NODE_GPUS`). Every error names the key (as a JSON
path, e.g. ``system.node.nic.bandwidth_bytes_per_s``) and what is allowed; unknown keys are
errors with the closest known key suggested.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from pathlib import Path as FilePath
from typing import Any

from neurocomp.accounting.hardware import Device
from neurocomp.accounting.network import AlphaBeta
from neurocomp.accounting.systems.node import HostStaging, Node, NvLink
from neurocomp.accounting.systems.system import Fabric, System

__all__ = ["SystemFileError", "load_system", "system_from_dict", "system_to_dict"]


class SystemFileError(ValueError):
    """A system description (file or dict) that cannot be read; the message says where."""


_LINK = ("name", "bandwidth_bytes_per_s", "latency_s")
_DEVICE = ("name", "peak_flop_per_s", "efficiency", "memory_bytes",
           "memory_bandwidth_bytes_per_s")
_NODE_LINKS = ("pcie", "socket_link", "nic")


def _keys(where: str, data: Any, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
    if not isinstance(data, Mapping):
        raise SystemFileError(f"{where} must be a JSON object; got {type(data).__name__}")
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SystemFileError(f"{where}: unknown key {key!r}{hint} Allowed keys: "
                                  f"{', '.join(allowed)}")
    missing = [k for k in required if data.get(k) is None]
    if missing:
        raise SystemFileError(f"{where}: missing required key{'s' if len(missing) > 1 else ''}"
                              f" {', '.join(repr(k) for k in missing)}")
    return {k: v for k, v in data.items() if v is not None}


def _make(where: str, build: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return build(**kwargs)
    except (ValueError, TypeError) as exc:
        raise SystemFileError(f"{where}: {exc}") from exc


def _link(where: str, data: Any) -> AlphaBeta:
    d = _keys(where, data, _LINK, ("bandwidth_bytes_per_s", "latency_s"))
    return _make(where, AlphaBeta, **d)


def _nvlink(where: str, data: Any) -> NvLink:
    d = _keys(where, data, ("link", "links_per_gpu", "switched", "pairs"),
              ("link", "links_per_gpu"))
    d["link"] = _link(f"{where}.link", d["link"])
    pairs = {}
    for k, entry in enumerate(d.get("pairs", [])):
        if (not isinstance(entry, list | tuple) or len(entry) != 3
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in entry)):
            raise SystemFileError(f"{where}.pairs[{k}] must be [gpu_a, gpu_b, links] (three "
                                  f"integers); got {entry!r}")
        pairs[(entry[0], entry[1])] = entry[2]
    d["pairs"] = pairs
    return _make(where, NvLink, **d)


def _node(where: str, data: Any) -> Node:
    fields = tuple(Node.__dataclass_fields__)
    d = _keys(where, data, fields, ("name", "gpu", "gpus", "pcie", "cpu_cores_per_socket",
                                    "cpu_pcie_lanes_per_socket"))
    g = _keys(f"{where}.gpu", d["gpu"], _DEVICE, ("peak_flop_per_s",))
    d["gpu"] = _make(f"{where}.gpu", Device, **g)
    for name in _NODE_LINKS:
        if name in d:
            d[name] = _link(f"{where}.{name}", d[name])
    if "nvlink" in d:
        d["nvlink"] = _nvlink(f"{where}.nvlink", d["nvlink"])
    if "staging" in d:
        s = _keys(f"{where}.staging", d["staging"], ("chunk_bytes", "copy_overhead_s",
                                                     "pipelined"),
                  ("chunk_bytes", "copy_overhead_s"))
        d["staging"] = _make(f"{where}.staging", HostStaging, **s)
    return _make(where, Node, **d)


def system_from_dict(data: Any, *, where: str = "system") -> System:
    """A :class:`System` from the dict form of the schema in the module docstring."""
    d = _keys(where, data, ("name", "nodes", "algorithm", "fabric", "notes", "node"),
              ("name", "node"))
    d["node"] = _node(f"{where}.node", d["node"])
    if "fabric" in d:
        f = _keys(f"{where}.fabric", d["fabric"], tuple(Fabric.__dataclass_fields__), ())
        d["fabric"] = _make(f"{where}.fabric", Fabric, **f)
    notes = d.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise SystemFileError(f"{where}.notes must be a list of strings")
    d["notes"] = tuple(notes)
    return _make(where, System, **d)


def load_system(path: str | FilePath) -> System:
    """Read a system from a JSON file (see the module docstring for the schema).

    Raises
    ------
    SystemFileError
        If the file is missing, is not JSON, or breaks the schema (the message says where).
    """
    p = FilePath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemFileError(f"cannot read system file {str(p)!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SystemFileError(f"system file {str(p)!r} is not JSON text (UTF-8): byte "
                              f"{exc.object[exc.start]:#04x} at offset {exc.start} is not "
                              f"UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemFileError(f"system file {str(p)!r} is not valid JSON: {exc.msg} at line "
                              f"{exc.lineno}, column {exc.colno}") from exc
    return system_from_dict(data, where=f"{p.name}: system")


def _link_dict(link: Any) -> dict[str, Any] | None:
    if link is None:
        return None
    return {"name": getattr(link, "name", "link"),
            "bandwidth_bytes_per_s": link.bandwidth_bytes_per_s, "latency_s": link.latency_s}


def system_to_dict(system: System) -> dict[str, Any]:
    """The dict form of ``system`` (numbers only: catalogue sources become its notes)."""
    n = system.node
    node: dict[str, Any] = {k: getattr(n, k) for k in Node.__dataclass_fields__}
    node["gpu"] = {k: getattr(n.gpu, k) for k in _DEVICE}
    for name in _NODE_LINKS:
        node[name] = _link_dict(getattr(n, name))
    if n.nvlink is not None:
        node["nvlink"] = {"link": _link_dict(n.nvlink.link), "links_per_gpu":
                          n.nvlink.links_per_gpu, "switched": n.nvlink.switched,
                          "pairs": [[a, b, k] for (a, b), k in n.nvlink.pairs.items()]}
    if n.staging is not None:
        node["staging"] = {"chunk_bytes": n.staging.chunk_bytes, "copy_overhead_s":
                           n.staging.copy_overhead_s, "pipelined": n.staging.pipelined}
    fabric = (None if system.fabric is None else
              {k: getattr(system.fabric, k) for k in Fabric.__dataclass_fields__})
    return {"name": system.name, "nodes": system.nodes, "algorithm": system.algorithm,
            "fabric": fabric, "notes": list(system.notes), "node": node}
