"""The time-driven services of one listed market, shared by the native and the reference exchange.

Owns, per market, the lifecycle (``MarketLifecycle``), the mark price service (``MarkPriceService``)
and the funding sampler, and the decisions that involve only them: whether the prices are stale
(only a market fed through the oracle pipeline can be: a mark set directly with ``set_mark`` is
trusted), what the mark is at a time, and the funding event a closed period yields. Money is not
its business: settling funding into positions, cancelling orders and closing positions stay with
each exchange, which reads the phase, the mark and the cumulative index from here.
"""

from __future__ import annotations

from perpcore.errors import InvalidType
from perpcore.events import FundingIndexUpdated, MarkPriceUpdated, MarketPhaseChanged
from perpcore.lifecycle import MarketLifecycle, MarketPhase
from perpcore.mark import MarkParams, MarkPriceService

__all__ = ["MarketServices", "DEFAULT_FUNDING"]

# Funding parameters of a market listed without its own (FundingParams.for_tier fills in the
# tier's factors): sweep 1,000 USDC per side, clamp samples to ±5 points, 1-second blocks, hourly
# periods charging an eighth of the average premium (dYdX's 8-hour rate paid hourly).
DEFAULT_FUNDING = dict(impact_notional_qq=1_000_000_000, sample_clamp_ppm=50_000,
                       blocks_per_minute=60, minutes_per_period=60, rate_scale_ppm=125_000)


class MarketServices:
    """Lifecycle, mark and funding sampler of market ``name``.

    ``sampler`` is a funding sampler built by the exchange (the native ``FundingSampler`` or the
    reference one) from ``funding_params``.
    """

    __slots__ = ("name", "lifecycle", "mark", "sampler", "funding_params", "oracle_driven")

    def __init__(self, name: str, mark_ppm: int, mark_params: MarkParams | None, funding_params,
                 sampler, *, active: bool) -> None:
        if mark_params is not None and not isinstance(mark_params, MarkParams):
            raise InvalidType("mark_params must be a perpcore.MarkParams")
        self.name = name
        self.lifecycle = MarketLifecycle(name, MarketPhase.ACTIVE if active else MarketPhase.DRAFT)
        self.mark = MarkPriceService(name, mark_ppm, params=mark_params)
        self.mark.phase = self.lifecycle.phase
        self.funding_params = funding_params
        self.sampler = sampler
        self.oracle_driven = False  # set by the first oracle reading: only then can it go stale

    @property
    def phase(self) -> MarketPhase:
        return self.lifecycle.phase

    def stale(self, now: int) -> bool:
        """True while an oracle-fed market's newest reading is too old (never for a trusted mark)."""
        return self.oracle_driven and self.mark.is_stale(now)

    def trusted_mark(self, price_ppm: int) -> None:
        """A mark set directly (``set_mark``): it is both the mark and the index."""
        self.mark.mark_ppm = self.mark.index_ppm = price_ppm
        self.oracle_driven = False

    def oracle(self, raw_ppm: int, source_ts: int, now: int) -> MarkPriceUpdated:
        event = self.mark.update(raw_ppm, source_ts, now)
        if event.accepted:
            self.oracle_driven = True
        return event

    def advance(self, to: MarketPhase, now: int) -> MarketPhaseChanged:
        event = self.lifecycle.advance(to, now)
        self.mark.phase = to
        if to is MarketPhase.RESOLVED:
            self.mark.end_resolution()  # from now on the mark is the resolved value
        return event

    def period_event(self, period, now: int) -> FundingIndexUpdated:
        return FundingIndexUpdated(self.name, period.avg_premium_ppm, period.rate_idx,
                                   period.capped, period.index_delta_idx,
                                   period.cumulative_index_idx, period.n_minutes, now)
