"""The pure-Python reference funding sampler: the slow, obviously-correct twin of perpcore._funding.

Owns a second, independent implementation of ``FundingParams``, of the sampler
(``ReferenceFundingSampler``: block samples, minute medians, period rates, the cumulative index)
and of the pure functions ``median_padded``, ``average_padded``, ``funding_cap_idx`` and
``funding_payment_qq``, with the same names, the same argument checks raising the same error
classes, and the same results. It computes with unbounded Python ints (medians by sorting the
padded list, averages by dividing the exact sum) and checks results against int64 at the end,
raising OverflowError where the native module does. It reads books only through their Python
``impact_price``, so it drives the native and the reference book alike. It must never call into
the native funding module, never use floats or clocks, and never round in any direction but the
one each docstring names.
"""

from __future__ import annotations


from perpcore.book_types import Side
from perpcore.errors import IntegrityError, InvalidInput, InvalidType
from perpcore.funding_types import FundingPeriod
from perpcore.reference._args import (
    as_at_least, as_i64, as_price, as_ranged, ceil_div, result_i64,
)

__all__ = [
    "FundingParams",
    "FundingPeriod",
    "ReferenceFundingSampler",
    "average_padded",
    "funding_cap_idx",
    "funding_payment_qq",
    "median_padded",
]

ONE = 1_000_000  # 100 % in ppm; probability 1 in ppm; idx (1e-6 qq per contract) per qq


# ---------------------------------------------------------------------------------------------
# Arguments in, results out


def _int_list(values, name):
    try:
        items = list(values)
    except TypeError:
        raise InvalidType(f"{name} must be an iterable of integers, not "
                          f"{type(values).__name__}") from None
    return [as_i64(v, f"{name}[{i}]") for i, v in enumerate(items)]



def _div_toward_zero(a, b):
    """a / b truncated toward zero, for b > 0."""
    return a // b if a >= 0 else -(-a // b)


# ---------------------------------------------------------------------------------------------
# Pure functions


def _median_padded(values, n_expected):
    count = max(len(values), n_expected)
    if count == 0:
        return 0
    # the padded values in order, without building the padding (n_expected may be huge): the
    # negative values, then `zeros` zeros, then the values >= 0
    negatives = sorted(v for v in values if v < 0)
    others = sorted(v for v in values if v >= 0)
    zeros = count - len(values)

    def nth(k):
        if k < len(negatives):
            return negatives[k]
        if k < len(negatives) + zeros:
            return 0
        return others[k - len(negatives) - zeros]

    middle = count // 2
    if count % 2 == 1:
        return nth(middle)
    pair = nth(middle - 1) + nth(middle)
    return ceil_div(pair, 2) if pair >= 0 else pair // 2  # the mean, rounded away from zero


def median_padded(samples, n_expected):
    """Median of ``samples`` padded with zeros up to ``n_expected`` (none when there are at least
    that many); an even count takes the mean of the middle two rounded away from zero; nothing at
    all gives 0."""
    values = _int_list(samples, "samples")
    return _median_padded(values, as_at_least(n_expected, "n_expected", 0))


def _average_padded(values, n_expected):
    count = max(len(values), n_expected)
    return _div_toward_zero(sum(values), count) if count else 0


def average_padded(values, n_expected):
    """sum(values) / max(len(values), n_expected) truncated toward zero; nothing at all gives 0."""
    values = _int_list(values, "values")
    return _average_padded(values, as_at_least(n_expected, "n_expected", 0))


def _cap_idx(mark_ppm, base_imf_ppm, mmf_ppm):
    buffer_qq = min(mark_ppm, ONE - mark_ppm) * (base_imf_ppm - mmf_ppm) // ONE
    return max(0, buffer_qq - 1) * ONE


def funding_cap_idx(mark_ppm, base_imf_ppm, mmf_ppm):
    """max(0, floor(min(p, 1e6 - p) * (imf - mmf) / 1e6) - 1) * 1e6 idx: one quote quantum per
    contract less than the whole-quantum buffer over maintenance of a position opened at exactly
    its initial requirement at this mark. 0 <= mmf_ppm <= base_imf_ppm <= 1e6."""
    mark_ppm = as_price(mark_ppm, "mark_ppm")
    base_imf_ppm = as_ranged(base_imf_ppm, "base_imf_ppm", 0, ONE)
    mmf_ppm = as_ranged(mmf_ppm, "mmf_ppm", 0, ONE)
    if mmf_ppm > base_imf_ppm:
        raise InvalidInput(f"mmf_ppm={mmf_ppm} must be at most base_imf_ppm={base_imf_ppm}")
    return _cap_idx(mark_ppm, base_imf_ppm, mmf_ppm)


def funding_payment_qq(size, index_now_idx, index_then_idx):
    """ceil(size * (now - then) / 1e6) qq: positive, the position pays (rounded up); negative, it
    receives (the amount rounded down)."""
    size = as_i64(size, "size")
    now = as_i64(index_now_idx, "index_now_idx")
    then = as_i64(index_then_idx, "index_then_idx")
    return result_i64(ceil_div(size * (now - then), ONE))


def funding_dust_idx(size, index_now_idx, index_then_idx, dust_idx):
    """One funding settlement's rounding: the payment (funding_payment_qq), the market's dust
    after adding this payment's surplus ``payment * 1e6 - size * (now - then)`` (in [0, 1e6) idx
    per settlement), and the whole quantums of dust swept to the insurance fund (rounded down),
    as ``(payment_qq, dust_idx, swept_qq)``; ``dust_idx`` is the market's dust before, in
    [0, 1e6)."""
    if not 0 <= as_i64(dust_idx, "dust_idx") < ONE:
        raise InvalidInput(f"dust_idx must lie in [0, 1_000_000), got {dust_idx}")
    payment = funding_payment_qq(size, index_now_idx, index_then_idx)
    dust = dust_idx + payment * ONE - size * (index_now_idx - index_then_idx)
    swept = dust // ONE  # floor: the remainder stays as dust
    return payment, dust - swept * ONE, swept


# ---------------------------------------------------------------------------------------------
# A market's funding parameters

_FIELDS = ("impact_notional_qq", "sample_clamp_ppm", "blocks_per_minute", "minutes_per_period",
           "rate_scale_ppm", "base_imf_ppm", "mmf_ppm")


def _funding_params_from_dict(fields):
    return FundingParams(**fields)


class FundingParams:
    """A market's funding parameters, validated once; immutable, hashable and pickleable (see
    perpcore._funding.FundingParams for the meaning of each)."""

    __slots__ = _FIELDS

    def __init__(self, *, impact_notional_qq, sample_clamp_ppm, blocks_per_minute,
                 minutes_per_period, rate_scale_ppm=125_000, base_imf_ppm, mmf_ppm):
        values = {
            "impact_notional_qq": as_at_least(impact_notional_qq, "impact_notional_qq", 1),
            "sample_clamp_ppm": as_ranged(sample_clamp_ppm, "sample_clamp_ppm", 1, ONE,
                                        "ppm of probability"),
            "blocks_per_minute": as_at_least(blocks_per_minute, "blocks_per_minute", 1),
            "minutes_per_period": as_at_least(minutes_per_period, "minutes_per_period", 1),
            "rate_scale_ppm": as_ranged(rate_scale_ppm, "rate_scale_ppm", 1, ONE),
        }
        values["base_imf_ppm"] = as_ranged(base_imf_ppm, "base_imf_ppm", 1, ONE)
        values["mmf_ppm"] = as_ranged(mmf_ppm, "mmf_ppm", 1, values["base_imf_ppm"],
                                    "ppm, at most base_imf_ppm")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"FundingParams is immutable ({name})")

    @staticmethod
    def for_tier(tier, **kw):
        """FundingParams with base_imf_ppm and mmf_ppm taken from a RiskTier, the rest from kw."""
        try:
            base_imf_ppm, mmf_ppm = tier.base_imf_ppm, tier.mmf_ppm
        except AttributeError:
            raise InvalidType(f"tier must be a RiskTier, not {type(tier).__name__}") from None
        return FundingParams(base_imf_ppm=base_imf_ppm, mmf_ppm=mmf_ppm, **kw)

    def cap_idx(self, mark_ppm):
        """funding_cap_idx(mark_ppm, base_imf_ppm, mmf_ppm)."""
        return _cap_idx(as_price(mark_ppm, "mark_ppm"), self.base_imf_ppm, self.mmf_ppm)

    def as_dict(self):
        """The seven parameters by name, in constructor order."""
        return {name: getattr(self, name) for name in _FIELDS}

    def __eq__(self, other):
        if not isinstance(other, FundingParams):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self):
        return hash(tuple(self.as_dict().values()))

    def __repr__(self):
        return "FundingParams(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"

    def __reduce__(self):
        return _funding_params_from_dict, (self.as_dict(),)


# ---------------------------------------------------------------------------------------------
# The sampler


def _impact_prices(book, notional_qq):
    """(enough_depth, impact bid, impact ask) through the book's impact_price; the ask side is not
    read when the bid side lacks depth."""
    try:
        impact_price = book.impact_price
    except AttributeError:
        raise InvalidType(f"book must be an OrderBook or a ReferenceOrderBook (an object with "
                          f"impact_price), not {type(book).__name__}") from None
    bid_ppm, enough_depth = impact_price(Side.BUY, notional_qq)
    if not enough_depth:
        return False, 0, 0
    bid_ppm = as_price(bid_ppm, "the book's impact bid price_ppm")
    ask_ppm, enough_depth = impact_price(Side.SELL, notional_qq)
    if not enough_depth:
        return False, 0, 0
    return True, bid_ppm, as_price(ask_ppm, "the book's impact ask price_ppm")


class ReferenceFundingSampler:
    """The funding pipeline of one market (see perpcore._funding.FundingSampler): block samples
    -> minute medians (padded) -> period average (padded) -> capped rate -> cumulative index."""

    def __init__(self, params, *, cumulative_index=0):
        if not isinstance(params, FundingParams):
            raise InvalidType(f"params must be a FundingParams, not {type(params).__name__}")
        self._index_idx = as_i64(cumulative_index, "cumulative_index")
        self._params = params
        self._samples_ppm = []  # the open minute's samples
        self._medians_ppm = []  # the open period's minute medians

    @property
    def params(self):
        return self._params

    def sample(self, book, index_ppm):
        """Record one block's premium sample for the open minute and return it: clamp(floor((bid +
        ask) / 2) - index_ppm, +/- sample_clamp_ppm), 0 when a side lacks depth."""
        index_ppm = as_price(index_ppm, "index_ppm")
        enough_depth, bid_ppm, ask_ppm = _impact_prices(book, self._params.impact_notional_qq)
        sample_ppm = 0
        if enough_depth:
            clamp_ppm = self._params.sample_clamp_ppm
            sample_ppm = max(-clamp_ppm, min(clamp_ppm, (bid_ppm + ask_ppm) // 2 - index_ppm))
        self._samples_ppm.append(sample_ppm)
        return sample_ppm

    def close_minute(self):
        """Close the open minute; its median padded with zeros up to blocks_per_minute."""
        median_ppm = _median_padded(self._samples_ppm, self._params.blocks_per_minute)
        self._medians_ppm.append(median_ppm)
        self._samples_ppm = []
        return median_ppm

    def close_period(self, mark_ppm):
        """Close the period at the mark; InvalidInput while the open minute holds samples,
        OverflowError (nothing changes) when the cumulative index would leave int64."""
        mark_ppm = as_price(mark_ppm, "mark_ppm")
        if self._samples_ppm:
            raise InvalidInput(f"close_minute() first: the open minute holds "
                               f"{len(self._samples_ppm)} samples")
        p = self._params
        avg_ppm = _average_padded(self._medians_ppm, p.minutes_per_period)
        raw_idx = avg_ppm * p.rate_scale_ppm
        cap_idx = _cap_idx(mark_ppm, p.base_imf_ppm, p.mmf_ppm)
        rate_idx = max(-cap_idx, min(cap_idx, raw_idx))
        new_index = result_i64(self._index_idx + rate_idx)
        period = FundingPeriod(avg_ppm, rate_idx, rate_idx != raw_idx, rate_idx, new_index,
                               len(self._medians_ppm))
        self._index_idx = new_index
        self._medians_ppm = []
        return period

    @property
    def cumulative_index(self):
        """The cumulative funding index, in idx (1e-6 qq per contract)."""
        return self._index_idx

    @property
    def samples_in_minute(self):
        return len(self._samples_ppm)

    @property
    def minutes_in_period(self):
        return len(self._medians_ppm)

    def check_integrity(self):
        """IntegrityError unless every sample and minute median lies within the clamp."""
        clamp_ppm = self._params.sample_clamp_ppm
        for value in self._samples_ppm + self._medians_ppm:
            if not -clamp_ppm <= value <= clamp_ppm:
                raise IntegrityError(f"{value} is outside the clamp {clamp_ppm}")
