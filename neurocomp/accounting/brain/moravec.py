r"""Moravec (1998): the retina's work in robot-vision instructions, scaled up to the brain.

The retina delivers about ten one-megapixel frames of edge and motion detections per second;
robot vision needs about 100 instructions per detection, so the retina does the work of
1,000 MIPS; the brain is about 10⁵ times larger, so it is worth about 10⁸ MIPS = 10¹⁴
instructions/s (Moravec 1998, *Robot*, ch. 3; J. Evolution & Technology 1). In symbols,

.. math:: F = d \cdot f \cdot i \cdot \rho \cdot c,

with :math:`d` detections per frame, :math:`f` frames/s, :math:`i` instructions per
detection, :math:`\rho` the brain-to-retina scale factor and :math:`c` FLOP per instruction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocomp.accounting._checks import check_positive
from neurocomp.accounting.estimates import EstimateParameters, Factor, factor_meta

__all__ = ["MoravecParameters", "moravec_flop_per_s", "retina_instructions_per_s"]


def retina_instructions_per_s(*, detections_per_frame: Any, frames_per_s: Any,
                              instructions_per_detection: Any) -> float | np.ndarray:
    """Instructions per second that robot vision needs to match the retina (all > 0)."""
    return (check_positive("detections_per_frame", detections_per_frame)
            * check_positive("frames_per_s", frames_per_s, unit="Hz")
            * check_positive("instructions_per_detection", instructions_per_detection))


def moravec_flop_per_s(*, detections_per_frame: Any, frames_per_s: Any,
                       instructions_per_detection: Any, brain_to_retina_ratio: Any,
                       flop_per_instruction: Any) -> float | np.ndarray:
    """The retina's instruction rate scaled to the brain and converted to FLOP/s.

    Parameters
    ----------
    detections_per_frame : float or array_like
        Edge/motion detections per retinal "frame" (> 0).
    frames_per_s : float or array_like
        Frames per second, Hz (> 0).
    instructions_per_detection : float or array_like
        Robot-vision instructions per detection (> 0).
    brain_to_retina_ratio : float or array_like
        How many retinas' worth of processing the brain holds (> 0).
    flop_per_instruction : float or array_like
        FLOP per instruction (> 0).
    """
    return (retina_instructions_per_s(detections_per_frame=detections_per_frame,
                                      frames_per_s=frames_per_s,
                                      instructions_per_detection=instructions_per_detection)
            * check_positive("brain_to_retina_ratio", brain_to_retina_ratio)
            * check_positive("flop_per_instruction", flop_per_instruction, unit="FLOP"))


@dataclass(frozen=True, kw_only=True)
class MoravecParameters(EstimateParameters):
    """Factors of Moravec's retina scaling; every factor must be > 0."""

    detections_per_frame: Factor = field(metadata=factor_meta(unit="1"))
    frames_per_s: Factor = field(metadata=factor_meta(unit="Hz"))
    instructions_per_detection: Factor = field(metadata=factor_meta(unit="1"))
    brain_to_retina_ratio: Factor = field(metadata=factor_meta(unit="1"))
    flop_per_instruction: Factor = field(metadata=factor_meta(unit="FLOP"))

    formula_text = ("detections per frame × frames/s × instructions per detection × "
                    "brain/retina ratio × FLOP per instruction")
    uncounted = ("whether the rest of the brain is as efficient as the retina (the "
                 "functional method's main assumption)",)

    def _formula(self, **v: Any) -> Any:
        return moravec_flop_per_s(**v)
