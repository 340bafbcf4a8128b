"""Type stub of the native funding sampler ``perpcore._funding`` (hand-written; see _funding.pyx).

tests/unit/test_stubs.py checks that the public names, member kinds and parameter names here match
the compiled module, and that every annotation resolves, so this file cannot drift silently.

Units: prices, indexes and premiums in ppm of probability (1 ppm of price = 1 qq per contract),
money in quote quantums (qq, 1e-6 USDC), the funding index in idx = 1e-6 qq per contract, ratios in
ppm. Integer arguments accept ``int`` and numpy integer scalars; ``bool``, ``float`` and the rest
raise ``perpcore.InvalidType``, out-of-range values ``perpcore.InvalidInput``, and a result outside
int64 raises ``OverflowError``.
"""

from collections.abc import Iterable
from typing import Any, Protocol, TypeAlias, final

import numpy as np

from perpcore._book import OrderBook
from perpcore._margin import RiskTier
from perpcore.book_types import ImpactPrice, Side
from perpcore.funding_types import FundingPeriod

_Int: TypeAlias = int | np.integer[Any]
"""An integer argument: a Python int (or IntEnum member) or a numpy integer scalar."""

class _ImpactBook(Protocol):
    """A book read through Python (stub-only name): ``perpcore.reference.ReferenceOrderBook``."""

    def impact_price(self, side: Side, notional_qq: int) -> ImpactPrice: ...

class _Tier(Protocol):
    """Where ``FundingParams.for_tier`` takes the risk factors from (stub-only name)."""

    @property
    def base_imf_ppm(self) -> int: ...
    @property
    def mmf_ppm(self) -> int: ...

def median_padded(samples: Iterable[_Int], n_expected: _Int) -> int:
    """Median of the samples padded with zeros up to n_expected (none when there are at least that
    many); an even count takes the mean of the middle two rounded away from zero; nothing: 0."""

def average_padded(values: Iterable[_Int], n_expected: _Int) -> int:
    """sum(values) / max(len(values), n_expected), truncated toward zero; nothing gives 0."""

def funding_cap_idx(mark_ppm: _Int, base_imf_ppm: _Int, mmf_ppm: _Int) -> int:
    """max(0, floor(min(p, 1e6 - p) * (imf - mmf) / 1e6) - 1) * 1e6: the largest |rate| (idx) one
    period may charge at this mark; 0 <= mmf_ppm <= base_imf_ppm <= 1e6."""

def funding_payment_qq(size: _Int, index_now_idx: _Int, index_then_idx: _Int) -> int:
    """ceil(size * (now - then) / 1e6): + the position pays (rounded up), - it receives (rounded
    down)."""

@final
class FundingParams:
    """A market's funding parameters, validated at construction; immutable, hashable, pickleable."""

    def __init__(self, *, impact_notional_qq: _Int, sample_clamp_ppm: _Int,
                 blocks_per_minute: _Int, minutes_per_period: _Int,
                 rate_scale_ppm: _Int = 125_000, base_imf_ppm: _Int, mmf_ppm: _Int) -> None: ...
    @property
    def impact_notional_qq(self) -> int:
        """Notional swept through each book side for the impact prices, > 0."""
    @property
    def sample_clamp_ppm(self) -> int:
        """Bound of each block's premium sample, 1 .. 1_000_000."""
    @property
    def blocks_per_minute(self) -> int:
        """Samples a minute's median pads to with zeros, >= 1."""
    @property
    def minutes_per_period(self) -> int:
        """Minute medians a period's average pads to with zeros, >= 1."""
    @property
    def rate_scale_ppm(self) -> int:
        """Share of the average premium charged per period, 1 .. 1_000_000."""
    @property
    def base_imf_ppm(self) -> int:
        """Base initial margin factor of the market, 0 < x <= 1_000_000."""
    @property
    def mmf_ppm(self) -> int:
        """Maintenance margin factor of the market, 0 < x <= base_imf_ppm."""
    @staticmethod
    def for_tier(tier: RiskTier | _Tier, **kw: _Int) -> FundingParams:
        """FundingParams with base_imf_ppm and mmf_ppm from the tier, the rest from kw."""
    def cap_idx(self, mark_ppm: _Int) -> int:
        """funding_cap_idx(mark_ppm, base_imf_ppm, mmf_ppm)."""
    def as_dict(self) -> dict[str, int]:
        """The seven parameters by name, in constructor order."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[dict[str, int]]]: ...

@final
class FundingSampler:
    """Block samples -> minute medians -> period rate -> cumulative index, for one market.

    The caller decides when blocks, minutes and periods happen; it closes the open minute before
    closing a period. Positive rates: longs pay.
    """

    def __init__(self, params: FundingParams, *, cumulative_index: _Int = 0) -> None: ...
    @property
    def params(self) -> FundingParams:
        """The market's funding parameters."""
    @property
    def cumulative_index(self) -> int:
        """The cumulative funding index, in idx (1e-6 qq per contract)."""
    @property
    def samples_in_minute(self) -> int:
        """Samples recorded in the open minute."""
    @property
    def minutes_in_period(self) -> int:
        """Minutes closed in the open period."""
    def sample(self, book: OrderBook | _ImpactBook, index_ppm: _Int) -> int:
        """Record and return one block's sample: clamp(floor((impact bid + impact ask) / 2) -
        index_ppm, +/- sample_clamp_ppm), 0 when a side holds less than impact_notional_qq. An
        index inside the spread still gives impact mid - index."""
    def close_minute(self) -> int:
        """Close the open minute; its median padded with zeros up to blocks_per_minute."""
    def close_period(self, mark_ppm: _Int) -> FundingPeriod:
        """Close the period at the mark: average of the minute medians padded to
        minutes_per_period (truncated toward zero) * rate_scale_ppm, capped at the mark, added to
        the cumulative index. InvalidInput while the open minute holds samples; OverflowError
        (nothing changes) when the index would leave int64."""
    def check_integrity(self) -> None:
        """Raise perpcore.IntegrityError unless the sampler's state is consistent."""
