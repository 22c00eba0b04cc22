"""Drawing helpers of ``neurocomp.plotting`` that compute something."""

from __future__ import annotations

import numpy as np
import pytest

from neurocomp.plotting import spread_apart


def test_spread_apart_separates_close_labels_and_leaves_far_ones():
    pos = spread_apart([0.0, 0.1, 0.15, 2.0], min_gap=0.5)
    gaps = np.diff(pos)
    assert (gaps >= 0.5 - 1e-9).all(), gaps  # none overlaps (the sweep's 1e-12 slack)
    # pushed symmetrically: the crowded three keep their mean; the far label does not move
    assert pos[:3].mean() == pytest.approx(0.25 / 3, abs=1e-12)
    assert pos[3] == 2.0
    np.testing.assert_array_equal(spread_apart([1.0, 3.0], min_gap=0.5), [1.0, 3.0])
