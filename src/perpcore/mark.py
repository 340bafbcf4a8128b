"""The mark price service of one market: raw oracle probability in, guarded index and smoothed mark out.

Owns the guard pipeline of DESIGN.md §3, in this order: bounds clamp to [ε, 1 − ε] while the
market is live, deviation clamp (at most ±Δmax from the last index per update), smoothing (an
exponential moving average driven by the input timestamps) and the staleness check (a source
timestamp older than the threshold holds the last good values and flags them stale). The
``index`` (funding's reference) is the guarded probability, the ``mark`` (risk's price) its
moving average. While the market resolves, the mark interpolates linearly from its last value to
the resolved value over the settling window, and oracle updates no longer move it. Everything is
absolute probability points in integer ppm with named rounding; time is an input (seconds), never
the wall clock. It computes prices; what is deferred while they are stale is the caller's business.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from perpcore.book_types import PRICE_SCALE_PPM
from perpcore.errors import InvalidInput, InvalidType
from perpcore.events import MarkPriceUpdated
from perpcore.lifecycle import MarketPhase

__all__ = ["MarkParams", "MarkPriceService"]


def _int(value, name: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidType(f"{name} must be an integer, not {type(value).__name__}")
    return int(value.__index__())


@dataclass(frozen=True, slots=True)
class MarkParams:
    """A market's mark guards: ``epsilon_ppm`` bounds a live price to [ε, 1e6 − ε];
    ``max_deviation_ppm`` caps one update's move of the index; ``ema_time_constant_s`` smooths the
    mark (0: no smoothing); ``stale_after_s`` is the age of the newest source timestamp beyond which
    the prices are stale."""

    epsilon_ppm: int = 1_000
    max_deviation_ppm: int = 50_000
    ema_time_constant_s: int = 30
    stale_after_s: int = 60

    def __post_init__(self) -> None:
        for name in ("epsilon_ppm", "max_deviation_ppm", "ema_time_constant_s", "stale_after_s"):
            _int(getattr(self, name), name)
        if not 1 <= self.epsilon_ppm < PRICE_SCALE_PPM // 2:
            raise InvalidInput(f"epsilon_ppm={self.epsilon_ppm} must lie in [1, 500_000)")
        if self.max_deviation_ppm < 1:
            raise InvalidInput(f"max_deviation_ppm={self.max_deviation_ppm} must be positive")
        if self.ema_time_constant_s < 0:
            raise InvalidInput("ema_time_constant_s must be non-negative")
        if self.stale_after_s < 1:
            raise InvalidInput("stale_after_s must be positive")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class MarkPriceService:
    """Mark and index of one market. ``update`` feeds a raw oracle probability with its source
    timestamp; ``mark_at``/``index``/``is_stale`` read the result at a given time."""

    def __init__(self, market: str, initial_ppm: int, *, params: MarkParams | None = None,
                 now: int = 0) -> None:
        self.market = market
        self.params = params if params is not None else MarkParams()
        if not isinstance(self.params, MarkParams):
            raise InvalidType("params must be a perpcore.MarkParams")
        self.phase = MarketPhase.ACTIVE
        self.index_ppm = self._bounded(_int(initial_ppm, "initial_ppm"))
        self.mark_ppm = self.index_ppm
        self.source_ts = _int(now, "now")  # the newest accepted source timestamp
        self._resolution: tuple[int, int, int, int] | None = None  # start ts, window, from, to

    # ------------------------------------------------------------------ inputs

    def update(self, raw_ppm: int, source_ts: int, now: int) -> MarkPriceUpdated:
        """Apply one oracle reading. A reading no newer than the last accepted one, or already
        stale on arrival, changes no price (the event says whether it was accepted)."""
        raw = _int(raw_ppm, "raw_ppm")
        source_ts, now = _int(source_ts, "source_ts"), _int(now, "now")
        if not 0 <= raw <= PRICE_SCALE_PPM:
            raise InvalidInput(f"raw_ppm={raw} must lie in [0, 1_000_000]")
        if source_ts > now:
            raise InvalidInput(f"source_ts={source_ts} lies in the future of now={now}")
        accepted = (self.phase <= MarketPhase.ACTIVE and source_ts > self.source_ts
                    and now - source_ts <= self.params.stale_after_s)
        if accepted:
            bounded = self._bounded(raw)
            step = self.params.max_deviation_ppm
            index = min(max(bounded, self.index_ppm - step), self.index_ppm + step)
            self.mark_ppm = self._smoothed(index, source_ts - self.source_ts)
            self.index_ppm = index
            self.source_ts = source_ts
        return self.event(now, accepted)

    def begin_resolution(self, resolved_ppm: int, now: int, window_s: int) -> MarkPriceUpdated:
        """The market resolves to ``resolved_ppm`` (0 and 1_000_000 included): from ``now`` the
        mark moves linearly from its current value to it over ``window_s`` seconds."""
        value, now, window = (_int(resolved_ppm, "resolved_ppm"), _int(now, "now"),
                              _int(window_s, "window_s"))
        if not 0 <= value <= PRICE_SCALE_PPM:
            raise InvalidInput(f"resolved_ppm={value} must lie in [0, 1_000_000]")
        if window < 0:
            raise InvalidInput("window_s must be non-negative")
        self._resolution = (now, window, self.mark_ppm, value)
        self.phase = MarketPhase.RESOLVING
        return self.event(now, True)

    def end_resolution(self) -> None:
        """The settling window is over whatever the time: the mark is the resolved value."""
        if self._resolution is None:
            raise InvalidInput("the market is not resolving")
        start, _, frm, to = self._resolution
        self._resolution = (start, 0, frm, to)

    # ------------------------------------------------------------------ outputs

    def mark_at(self, now: int) -> int:
        """The mark at ``now``: the smoothed price, or during resolution the interpolation
        (rounded toward the start value, reaching the resolved value exactly at the window's end)."""
        now = _int(now, "now")
        if self._resolution is None:
            return self.mark_ppm
        start, window, frm, to = self._resolution
        elapsed = min(max(now - start, 0), window)
        if window == 0 or elapsed == window:
            return to
        move = (to - frm) * elapsed
        return frm + (move // window if move >= 0 else -(-move // window))  # toward the start

    @property
    def resolved_ppm(self) -> int | None:
        """The value the market resolves to (None before ``begin_resolution``)."""
        return None if self._resolution is None else self._resolution[3]

    def is_stale(self, now: int) -> bool:
        """True while the newest accepted reading is older than ``stale_after_s`` (never while
        resolving: the mark no longer depends on the oracle then)."""
        return (self._resolution is None
                and _int(now, "now") - self.source_ts > self.params.stale_after_s)

    def event(self, now: int, accepted: bool) -> MarkPriceUpdated:
        return MarkPriceUpdated(self.market, self.mark_at(now), self.index_ppm, self.phase,
                                self.is_stale(now), accepted, now)

    # ------------------------------------------------------------------ guards

    def _bounded(self, price: int) -> int:
        eps = self.params.epsilon_ppm
        return min(max(price, eps), PRICE_SCALE_PPM - eps)

    def _smoothed(self, target: int, dt: int) -> int:
        """One EMA step toward ``target`` after ``dt`` seconds: weight dt / (τ + dt) on the new
        value, the move's magnitude rounded up so the mark reaches a steady target and never
        overshoots it."""
        tau = self.params.ema_time_constant_s
        diff = target - self.mark_ppm
        if tau == 0 or diff == 0:
            return target
        step = -(-abs(diff) * dt // (tau + dt))  # ceil
        return self.mark_ppm + (step if diff > 0 else -step)
