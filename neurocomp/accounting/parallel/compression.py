r"""Compressed gradient traffic: fewer bits on the wire, at a compute cost.

A gradient of :math:`n` bytes of ``value_bits``-bit values is sent as
``wire_bits_per_value`` bits per value plus ``scale_bits_per_block`` bits for every block of
``block_size`` values (the per-block scales of 8-bit and 1-bit schemes). The time is

.. math::
    T = T_\text{comm}(\text{wire bytes})
        + n_\text{values}\,(e\,t_\text{enc} + d\,t_\text{dec})

with the encode and decode cost per value as parameters (measure them; the defaults are 0)
and the counts :math:`e, d` set by how the compressed values are aggregated:

``"allreduce"``
    summed on the wire in the compressed format (fp16): an all-reduce of the wire bytes,
    one encode and one decode.
``"allgather"``
    quantised values cannot be summed without decoding, so every rank gathers every other
    rank's compressed gradient and sums after decoding: an all-gather of :math:`p` times
    the wire bytes, one encode and :math:`p` decodes. The volume grows with :math:`p`
    (``docs/references.md#anchors-accounting-4``), so for large :math:`p` this loses to an
    uncompressed ring all-reduce.
``"requantize"``
    a ring all-reduce that decodes, adds and re-encodes at every hop: the ring's volume in
    wire bytes, one encode and :math:`2(p-1)/p` decodes per value.

Error feedback (Seide et al. 2014) changes convergence, not time: it keeps the
quantisation error of the last step in a buffer as large as the gradient
(:meth:`Compression.error_feedback_bytes`), added to the next step's gradient before it is
quantised.
"""

from __future__ import annotations

from dataclasses import dataclass

from neurocomp.accounting.network import Link, Network, as_network
from neurocomp.checks import check_choice, check_int, check_real

__all__ = ["AGGREGATIONS", "NO_COMPRESSION", "Compression", "compressed_allreduce_time_s"]

#: How compressed gradients are combined across ranks (see the module docstring).
AGGREGATIONS = ("allreduce", "allgather", "requantize")


@dataclass(frozen=True, kw_only=True)
class Compression:
    """A gradient-compression scheme as a communication-cost model.

    Parameters
    ----------
    name : str
        Label.
    wire_bits_per_value : float
        Bits sent per gradient value, in (0, 64].
    value_bits : float
        Bits per value before compression (32 for fp32 gradients).
    scale_bits_per_block, block_size : float, int
        Extra bits (scales, offsets) sent per block of ``block_size`` values.
    aggregation : {"allreduce", "allgather", "requantize"}
        How compressed values are combined.
    encode_s_per_value, decode_s_per_value : float
        Compute cost of encoding and decoding one value, s (≥ 0): the overhead parameter.
    error_feedback : bool
        Whether the scheme keeps a residual buffer (memory, not time).
    source, note : str
        Where the scheme comes from; how its numbers were set.
    """

    name: str
    wire_bits_per_value: float
    value_bits: float = 32.0
    scale_bits_per_block: float = 0.0
    block_size: int = 1
    aggregation: str = "allreduce"
    encode_s_per_value: float = 0.0
    decode_s_per_value: float = 0.0
    error_feedback: bool = False
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        check_real("wire_bits_per_value", self.wire_bits_per_value, low=0.0, high=64.0,
                   low_inclusive=False, unit="bit")
        check_real("value_bits", self.value_bits, low=1.0, high=64.0, unit="bit")
        check_real("scale_bits_per_block", self.scale_bits_per_block, low=0.0, unit="bit")
        check_int("block_size", self.block_size, low=1)
        check_choice("aggregation", self.aggregation, AGGREGATIONS)
        check_real("encode_s_per_value", self.encode_s_per_value, low=0.0, unit="s")
        check_real("decode_s_per_value", self.decode_s_per_value, low=0.0, unit="s")
        if self.bits_per_value > self.value_bits:
            raise ValueError(f"compression {self.name!r} sends {self.bits_per_value:g} bits "
                             f"per value, more than the {self.value_bits:g} it compresses")

    @property
    def bits_per_value(self) -> float:
        """Bits on the wire per value, scales included."""
        return self.wire_bits_per_value + self.scale_bits_per_block / self.block_size

    @property
    def ratio(self) -> float:
        """Compression ratio: ``value_bits / bits_per_value``."""
        return self.value_bits / self.bits_per_value

    def n_values(self, n_bytes: float) -> float:
        """Number of gradient values in ``n_bytes`` of uncompressed gradient."""
        return check_real("n_bytes", n_bytes, low=0.0, unit="B") * 8 / self.value_bits

    def wire_bytes(self, n_bytes: float) -> float:
        """Bytes sent for ``n_bytes`` of uncompressed gradient."""
        return self.n_values(n_bytes) * self.bits_per_value / 8

    def error_feedback_bytes(self, n_bytes: float) -> float:
        """Memory of the error-feedback residual: ``n_bytes`` with feedback, else 0."""
        check_real("n_bytes", n_bytes, low=0.0, unit="B")
        return float(n_bytes) if self.error_feedback else 0.0

    def codec_time_s(self, n_bytes: float, n_ranks: int) -> float:
        """Encode plus decode time for one all-reduce of ``n_bytes`` over ``n_ranks``, s."""
        p = check_int("n_ranks", n_ranks, low=1)
        if p == 1:
            return 0.0
        decodes = {"allreduce": 1.0, "allgather": float(p),
                   "requantize": 2 * (p - 1) / p}[self.aggregation]
        return self.n_values(n_bytes) * (self.encode_s_per_value
                                         + decodes * self.decode_s_per_value)


#: 32-bit gradients sent as they are.
NO_COMPRESSION = Compression(name="none (fp32)", wire_bits_per_value=32.0,
                             source="no compression")


def compressed_allreduce_time_s(n_bytes: float, n_ranks: int, network: Network | Link, *,
                                compression: Compression = NO_COMPRESSION,
                                stride: int = 1) -> float:
    """Time to combine ``n_bytes`` of gradient across ``n_ranks`` with ``compression``, s.

    Parameters
    ----------
    n_bytes : float
        Uncompressed gradient on each rank, bytes.
    n_ranks : int
        Ranks (≥ 1).
    network : Network or Link
        Where the bytes travel (a bare link is a flat network).
    compression : Compression
        The scheme (default: none).
    stride : int
        Rank spacing of the group (see :class:`~neurocomp.accounting.network.Network`).
    """
    if not isinstance(compression, Compression):
        raise TypeError(f"compression must be a Compression; got {type(compression).__name__}")
    net = as_network(network)
    p = check_int("n_ranks", n_ranks, low=1)
    wire = compression.wire_bytes(n_bytes)
    if p == 1:
        return 0.0
    if compression.aggregation == "allgather":
        comm = net.collective_time_s("allgather", p * wire, p, stride=stride)
    else:
        comm = net.collective_time_s("allreduce", wire, p, stride=stride)
    return comm + compression.codec_time_s(n_bytes, p)
