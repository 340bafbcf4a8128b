"""Vocabulary of the funding sampler: the record a closed funding period yields.

Owns ``FundingPeriod``, shared by the native sampler (``perpcore._funding``) and its pure-Python
twin (``perpcore.reference.funding``) so that both return the very same type. It holds no logic
and must never import either implementation.
"""

from typing import NamedTuple

__all__ = ["FundingPeriod"]


class FundingPeriod(NamedTuple):
    """What one funding period produced.

    Index units are 1e-6 quote quantums per contract (``*_idx``); a positive rate or delta means
    longs pay shorts (the book traded above the index).
    """

    avg_premium_ppm: int
    """Average of the period's minute medians, padded with zeros, truncated toward zero."""
    rate_idx: int
    """avg_premium_ppm * rate_scale_ppm, capped to +/- the cap at the period's mark."""
    capped: bool
    """True when the cap cut the rate."""
    index_delta_idx: int
    """What the cumulative index moved by (equal to ``rate_idx``)."""
    cumulative_index_idx: int
    """The market's cumulative funding index after this period."""
    n_minutes: int
    """Minutes closed in the period (before padding to ``minutes_per_period``)."""
