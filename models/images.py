"""Named images used by the analyses, each with its source."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True)
class ImageSource:
    """Where an image comes from."""

    name: str
    source: str
    licence: str


GRACE_HOPPER = ImageSource(
    name="grace_hopper.jpg",
    source="Official U.S. Navy portrait of Grace M. Hopper, as shipped "
           "in matplotlib's sample data (matplotlib/mpl-data/sample_data/grace_hopper.jpg)",
    licence="public domain (work of the U.S. federal government)",
)


def grace_hopper_grey(*, size_px: int = 256) -> np.ndarray:
    """A square grey-level crop (0–255) of the Grace Hopper portrait centred on the face.

    Parameters
    ----------
    size_px : int
        Side of the square crop in pixels, 32 to 512. The crop is taken around the face and
        block-averaged from a 512×512 region when ``size_px`` divides 512, else cropped.
    """
    from matplotlib import cbook
    from matplotlib import image as mpimg

    if not isinstance(size_px, int) or not 32 <= size_px <= 512:
        raise ValueError(f"size_px must be an integer in [32, 512]; got {size_px!r}")
    with cbook.get_sample_data(GRACE_HOPPER.name) as fh:
        rgb = mpimg.imread(fh, format="jpg").astype(np.float64)
    grey = rgb @ np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma weights
    region = grey[44:556, 0:512]                   # 512×512, face near the centre
    if 512 % size_px == 0:
        f = 512 // size_px
        return region.reshape(size_px, f, size_px, f).mean(axis=(1, 3))
    start = (512 - size_px) // 2
    return region[start:start + size_px, start:start + size_px].copy()
