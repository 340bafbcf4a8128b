"""The pure-Python reference margin engine: the slow, obviously-correct twin of perpcore._margin.

Owns a second, independent implementation of every margin function (at-risk notional, OI-scaled
initial margin factor, requirements, fees, unrealized PnL, equity, fills on a position, entry
price, bankruptcy and fillable prices) and of ``RiskTier``, with the same names, the same argument
checks raising the same error classes, and the same results. It computes with unbounded Python
ints (``fractions.Fraction`` for the fillable price) and checks each result against int64 at the
end, raising OverflowError as the native module does. It must never call into the native module,
never use floats, and never round in any direction but the one each docstring names.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

from perpcore.errors import InvalidInput
from perpcore.reference._args import (
    as_at_least, as_i64, as_price, as_ranged, ceil_div, result_i64,
)

__all__ = [
    "at_risk_notional_qq",
    "imf_ppm",
    "initial_requirement_qq",
    "maintenance_requirement_qq",
    "fee_qq",
    "unrealized_pnl_qq",
    "equity_qq",
    "apply_fill",
    "entry_price_ppm",
    "bankruptcy_price_ppm",
    "fillable_price_ppm",
    "liquidation_price_ppm",
    "RiskTier",
]

ONE = 1_000_000  # 100 % in ppm; probability 1 in ppm of probability


# ---------------------------------------------------------------------------------------------
# Arguments in, results out


def _position(size, open_notional_qq):
    """(size, open notional) of a position whose entry price lies in [0, 1e6]."""
    size = as_i64(size, "size")
    open_notional_qq = as_i64(open_notional_qq, "open_notional_qq")
    if not min(0, size * ONE) <= open_notional_qq <= max(0, size * ONE):
        raise InvalidInput(f"open_notional_qq={open_notional_qq} does not fit size={size}: it must "
                           f"lie within size * [0, 1_000_000] (an entry price in ppm)")
    return size, open_notional_qq


def _check_caps(lower_qq, upper_qq, lower_name, upper_name):
    if upper_qq != 0 and lower_qq > upper_qq:
        raise InvalidInput(f"{lower_name}={lower_qq} exceeds {upper_name}={upper_qq} (an upper cap "
                           f"of 0 disables scaling)")



# ---------------------------------------------------------------------------------------------
# Requirements and fees


def _at_risk(size, price_ppm):
    """The exact at-risk notional (no int64 check): what a long or short can lose at most."""
    return size * price_ppm if size >= 0 else -size * (ONE - price_ppm)


def at_risk_notional_qq(size, price_ppm):
    """size * p for a long, |size| * (1e6 - p) for a short, 0 when flat."""
    size, price_ppm = as_i64(size, "size"), as_price(price_ppm, "price_ppm")
    return result_i64(_at_risk(size, price_ppm))


def _imf(base_imf_ppm, oi_qq, lower_qq, upper_qq):
    if upper_qq == 0 or oi_qq <= lower_qq:
        return base_imf_ppm
    if oi_qq >= upper_qq:
        return ONE
    return base_imf_ppm + (ONE - base_imf_ppm) * (oi_qq - lower_qq) // (upper_qq - lower_qq)


def imf_ppm(base_imf_ppm, oi_notional_qq, lower_cap_qq, upper_cap_qq):
    """Base at or below the lower cap (or with upper cap 0), 1e6 at or above the upper cap, linear
    in between rounded down."""
    base = as_ranged(base_imf_ppm, "base_imf_ppm", 0, ONE)
    oi = as_at_least(oi_notional_qq, "oi_notional_qq", 0)
    lower = as_at_least(lower_cap_qq, "lower_cap_qq", 0)
    upper = as_at_least(upper_cap_qq, "upper_cap_qq", 0)
    _check_caps(lower, upper, "lower_cap_qq", "upper_cap_qq")
    return _imf(base, oi, lower, upper)


def _requirement(size, price_ppm, factor_ppm):
    return result_i64(ceil_div(_at_risk(size, price_ppm) * factor_ppm, ONE))


def initial_requirement_qq(size, price_ppm, imf_ppm):
    """ceil(at-risk notional * imf_ppm / 1e6)."""
    size, price_ppm = as_i64(size, "size"), as_price(price_ppm, "price_ppm")
    return _requirement(size, price_ppm, as_ranged(imf_ppm, "imf_ppm", 0, ONE))


def maintenance_requirement_qq(size, price_ppm, mmf_ppm):
    """ceil(at-risk notional * mmf_ppm / 1e6); never scaled by open interest."""
    size, price_ppm = as_i64(size, "size"), as_price(price_ppm, "price_ppm")
    return _requirement(size, price_ppm, as_ranged(mmf_ppm, "mmf_ppm", 0, ONE))


def fee_qq(notional_qq, fee_ppm):
    """ceil(notional * fee_ppm / 1e6): a rebate (negative fee_ppm), its magnitude rounded down."""
    notional_qq = as_at_least(notional_qq, "notional_qq", 0)
    fee_ppm = as_ranged(fee_ppm, "fee_ppm", -ONE, ONE)
    return result_i64(ceil_div(notional_qq * fee_ppm, ONE))


# ---------------------------------------------------------------------------------------------
# Positions: PnL, equity, fills


def unrealized_pnl_qq(size, open_notional_qq, price_ppm):
    """size * price - open notional."""
    size, open_notional_qq = _position(size, open_notional_qq)
    return result_i64(size * as_price(price_ppm, "price_ppm") - open_notional_qq)


def equity_qq(collateral_qq, size, open_notional_qq, mark_ppm, unsettled_funding_qq):
    """collateral + unrealized PnL at the mark + unsettled funding."""
    collateral_qq = as_i64(collateral_qq, "collateral_qq")
    size, open_notional_qq = _position(size, open_notional_qq)
    mark_ppm = as_price(mark_ppm, "mark_ppm")
    funding_qq = as_i64(unsettled_funding_qq, "unsettled_funding_qq")
    return result_i64(collateral_qq + size * mark_ppm - open_notional_qq + funding_qq)


def apply_fill(size, open_notional_qq, fill_size, price_ppm):
    """(new_size, new_open_notional_qq, realized_pnl_qq) after buying (fill_size > 0) or selling
    (fill_size < 0) |fill_size| contracts at price_ppm."""
    size, open_notional_qq = _position(size, open_notional_qq)
    fill_size = as_i64(fill_size, "fill_size")
    if fill_size == 0:
        raise InvalidInput("fill_size must be non-zero (+ buy, - sell)")
    price_ppm = as_price(price_ppm, "price_ppm")
    new_size = size + fill_size
    if size == 0 or (size > 0) == (fill_size > 0):  # open or increase
        new_on, realized = open_notional_qq + fill_size * price_ppm, 0
    elif abs(fill_size) <= abs(size):  # reduce or close: the closed part takes its share, rounded
        closed = abs(fill_size)  # toward +inf (more cost for a long, less credit for a short)
        removed = ceil_div(open_notional_qq * closed, abs(size))
        new_on = open_notional_qq - removed
        realized = -fill_size * price_ppm - removed
    else:  # flip: close everything at price_ppm, open the rest there
        new_on = new_size * price_ppm
        realized = size * price_ppm - open_notional_qq
    return result_i64(new_size), result_i64(new_on), result_i64(realized)


def entry_price_ppm(size, open_notional_qq):
    """|open notional| // |size| (display only); 0 when flat."""
    size, open_notional_qq = _position(size, open_notional_qq)
    return abs(open_notional_qq) // abs(size) if size else 0


# ---------------------------------------------------------------------------------------------
# Liquidation prices


def bankruptcy_price_ppm(size, close_size, mark_ppm, equity_qq, mmf_ppm):
    """Per-contract price of closing close_size contracts that keeps equity / MMR unchanged
    (equity reaches 0 on a full close); ceil when selling (closing a long), floor when buying.
    Not clamped: may be negative for a long or above 1_000_000 for a short."""
    size, close_size = as_i64(size, "size"), as_i64(close_size, "close_size")
    if size == 0:
        raise InvalidInput("size must be non-zero: there is no position to close")
    if not 0 < close_size <= abs(size):
        raise InvalidInput(f"close_size={close_size} must be in (0, |size|] for size={size}")
    mark_ppm = as_price(mark_ppm, "mark_ppm")
    equity_qq = as_i64(equity_qq, "equity_qq")
    mmf_ppm = as_ranged(mmf_ppm, "mmf_ppm", 0, ONE)
    delta = -close_size if size > 0 else close_size  # the closing trade
    mmr_before = _requirement(size, mark_ppm, mmf_ppm)
    mmr_after = _requirement(size + delta, mark_ppm, mmf_ppm)
    if mmr_before > 0:
        share_qq = equity_qq * abs(mmr_after - mmr_before) // mmr_before
    else:
        share_qq = equity_qq * close_size // abs(size)
    bp_quote_qq = -delta * mark_ppm - share_qq  # what the account receives for the trade
    if size > 0:
        return result_i64(ceil_div(bp_quote_qq, close_size))
    return result_i64(-bp_quote_qq // close_size)


def fillable_price_ppm(size, mark_ppm, equity_qq, mmr_qq, bankruptcy_adjustment_ppm,
                       spread_to_mmr_ppm, tick_ppm):
    """The mark moved against the whole position by ABR * SMMR * MMR / |size|, ABR = clamp(BA *
    (1 - equity / MMR), 0, 1); up to a tick when selling, down when buying; clamped to
    [tick, 1e6 - tick]."""
    size = as_i64(size, "size")
    if size == 0:
        raise InvalidInput("size must be non-zero: there is no position to liquidate")
    mark_ppm = as_price(mark_ppm, "mark_ppm")
    equity_qq = as_i64(equity_qq, "equity_qq")
    mmr_qq = as_at_least(mmr_qq, "mmr_qq", 0)
    ba = as_at_least(bankruptcy_adjustment_ppm, "bankruptcy_adjustment_ppm", ONE)
    smmr = as_at_least(spread_to_mmr_ppm, "spread_to_mmr_ppm", 1)
    tick = as_ranged(tick_ppm, "tick_ppm", 1, ONE // 2)
    if ONE % tick:
        raise InvalidInput(f"tick_ppm={tick} must divide 1_000_000")
    if mmr_qq == 0:
        abr = Fraction(0 if equity_qq >= 0 else 1)
    else:
        abr = min(max(Fraction(ba, ONE) * (1 - Fraction(equity_qq, mmr_qq)), Fraction(0)),
                  Fraction(1))
    price = mark_ppm - (1 if size > 0 else -1) * abr * Fraction(smmr, ONE) * mmr_qq / abs(size)
    ticks = math.ceil(price / tick) if size > 0 else math.floor(price / tick)
    return min(max(ticks, 1), ONE // tick - 1) * tick


def liquidation_price_ppm(size, open_notional_qq, collateral_qq, mmf_ppm):
    """The mark at which the position becomes liquidatable; solved in closed form (the native
    module bisects). With L = collateral + size * p - ON an integer, L <= ceil(X) iff L - 1 < X,
    so a long is liquidatable iff size * p * (1e6 - mmf) < (ON - collateral + 1) * 1e6 and a short
    (a = -size) iff a * p * (1e6 - mmf) > (collateral - ON - 1) * 1e6 - a * 1e6 * mmf. Long: the
    largest such p in 1 .. 999_999, else 0; short: the smallest, else 1_000_000."""
    size, open_notional_qq = _position(size, open_notional_qq)
    if size == 0:
        raise InvalidInput("size must be non-zero: a flat position is never liquidatable")
    collateral_qq = as_i64(collateral_qq, "collateral_qq")
    mmf = as_ranged(mmf_ppm, "mmf_ppm", 1, ONE)
    top = ONE - 1
    if size > 0:
        bound = (open_notional_qq - collateral_qq + 1) * ONE
        if mmf == ONE:
            return top if bound > 0 else 0
        p = ceil_div(bound, size * (ONE - mmf)) - 1  # the largest p with p * den < bound
        return min(p, top) if p >= 1 else 0
    a = -size
    bound = (collateral_qq - open_notional_qq - 1) * ONE - a * ONE * mmf
    if mmf == ONE:
        return 1 if bound < 0 else ONE
    p = bound // (a * (ONE - mmf)) + 1  # the smallest p with p * den > bound
    return max(p, 1) if p <= top else ONE


# ---------------------------------------------------------------------------------------------
# A market's risk parameters


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RiskTier:
    """A market's risk parameters (see ``perpcore.RiskTier``), checked at construction."""

    base_imf_ppm: int = 100_000
    mmf_ppm: int = 50_000
    oi_lower_cap_qq: int = 0
    oi_upper_cap_qq: int = 0
    taker_fee_ppm: int = 500
    maker_fee_ppm: int = 100
    insurance_share_ppm: int = 200_000
    liquidation_fee_ppm: int = 5_000
    bankruptcy_adjustment_ppm: int = 1_000_000
    spread_to_mmr_ppm: int = 100_000
    liquidation_portion_ppm: int = 500_000
    liquidation_min_notional_qq: int = 10_000_000
    liquidation_max_notional_qq: int = 100_000_000_000_000
    insurance_max_draw_qq: int = 100_000_000_000_000

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        put("base_imf_ppm", as_ranged(self.base_imf_ppm, "base_imf_ppm", 1, ONE))
        put("mmf_ppm", as_ranged(self.mmf_ppm, "mmf_ppm", 1, self.base_imf_ppm,
                               "ppm, at most base_imf_ppm"))
        put("oi_lower_cap_qq", as_at_least(self.oi_lower_cap_qq, "oi_lower_cap_qq", 0))
        put("oi_upper_cap_qq", as_at_least(self.oi_upper_cap_qq, "oi_upper_cap_qq", 0))
        _check_caps(self.oi_lower_cap_qq, self.oi_upper_cap_qq, "oi_lower_cap_qq",
                    "oi_upper_cap_qq")
        put("taker_fee_ppm", as_ranged(self.taker_fee_ppm, "taker_fee_ppm", 0, 100_000))
        put("maker_fee_ppm", as_ranged(self.maker_fee_ppm, "maker_fee_ppm", -self.taker_fee_ppm,
                                     self.taker_fee_ppm, "ppm, |maker| at most taker_fee_ppm"))
        put("insurance_share_ppm",
            as_ranged(self.insurance_share_ppm, "insurance_share_ppm", 0, ONE))
        put("liquidation_fee_ppm", as_ranged(self.liquidation_fee_ppm, "liquidation_fee_ppm", 0,
                                           ONE))
        put("bankruptcy_adjustment_ppm", as_ranged(self.bankruptcy_adjustment_ppm,
                                                 "bankruptcy_adjustment_ppm", ONE, 1000 * ONE))
        put("spread_to_mmr_ppm", as_ranged(self.spread_to_mmr_ppm, "spread_to_mmr_ppm", 1, ONE))
        put("liquidation_portion_ppm", as_ranged(self.liquidation_portion_ppm,
                                               "liquidation_portion_ppm", 1, ONE))
        for name, least in (("liquidation_min_notional_qq", 0),
                            ("liquidation_max_notional_qq", 1), ("insurance_max_draw_qq", 1)):
            put(name, as_at_least(getattr(self, name), name, least))

    def imf_ppm(self, oi_notional_qq):
        oi = as_at_least(oi_notional_qq, "oi_notional_qq", 0)
        return _imf(self.base_imf_ppm, oi, self.oi_lower_cap_qq, self.oi_upper_cap_qq)

    def initial_requirement_qq(self, size, price_ppm, oi_notional_qq):
        size, price_ppm = as_i64(size, "size"), as_price(price_ppm, "price_ppm")
        return _requirement(size, price_ppm, self.imf_ppm(oi_notional_qq))

    def maintenance_requirement_qq(self, size, price_ppm):
        size, price_ppm = as_i64(size, "size"), as_price(price_ppm, "price_ppm")
        return _requirement(size, price_ppm, self.mmf_ppm)

    def taker_fee_qq(self, notional_qq):
        return fee_qq(notional_qq, self.taker_fee_ppm)

    def maker_fee_qq(self, notional_qq):
        return fee_qq(notional_qq, self.maker_fee_ppm)

    def insurance_share_qq(self, fee_qq):
        fee_qq = as_i64(fee_qq, "fee_qq")
        return fee_qq * self.insurance_share_ppm // ONE if fee_qq > 0 else 0

    def as_dict(self):
        return dataclasses.asdict(self)
