"""The native margin engine: pure integer risk math for one isolated market.

Owns the at-risk notional (YES/NO symmetric), the open-interest-scaled initial margin factor,
initial and maintenance requirements, fees, unrealized PnL, equity, how a fill changes a position
(size, open notional) and what it realizes, the entry price, and the bankruptcy and fillable prices
of a liquidation, plus ``RiskTier``, a market's risk parameters. Each function validates and
converts its arguments, then calls its kernel in _margin.pxd. Everything is an exact int64
computation with a named rounding: requirements and fees charged round up, anything paid out
rounds down. It never keeps state, never uses floats, and never returns a wrapped value: a result
outside int64 raises OverflowError. Its slow twin is ``perpcore.reference.margin``.
"""

from libc.stdint cimport int64_t

from perpcore._convert cimport _as_i64
from perpcore._fixedpoint cimport (
    checked, pc_i128, pc_mul_div_down, pc_wide, pc_wide_le, pc_wide_mul,
)

from perpcore.errors import InvalidInput


cdef inline int64_t _result(int status, const int64_t *out) except? -1:
    """A kernel's result, read through the pointer only after the kernel ran (C leaves the order
    of argument evaluation open), or OverflowError."""
    return checked(status, out[0])


# ---------------------------------------------------------------------------------------------
# Validation at the Python boundary: each returns the checked int64 or raises InvalidInput.


cdef inline int64_t _ranged(object value, str name, int64_t lo, int64_t hi, str unit) except? -1:
    cdef int64_t v = _as_i64(value, name)
    if v < lo or v > hi:
        raise InvalidInput(f"{name}={v} must be in [{lo}, {hi}] ({unit})")
    return v


cdef inline int64_t _price(object value, str name) except? -1:
    return _ranged(value, name, 0, 1_000_000, "ppm of probability")


cdef inline int64_t _factor(object value, str name) except? -1:
    return _ranged(value, name, 0, 1_000_000, "ppm")


cdef inline int64_t _at_least(object value, str name, int64_t lo) except? -1:
    cdef int64_t v = _as_i64(value, name)
    if v < lo:
        raise InvalidInput(f"{name}={v} must be >= {lo}")
    return v


cdef inline int _check_position(int64_t size, int64_t open_notional_qq) except -1:
    """A position's open notional lies within size * [0, 1e6] (entry price in [0, 1e6])."""
    cdef pc_i128 full_qq = pc_wide_mul(size, 1_000_000)
    cdef pc_i128 on_qq = pc_wide(open_notional_qq)
    if size >= 0 and pc_wide_le(pc_wide(0), on_qq) and pc_wide_le(on_qq, full_qq):
        return 0
    if size < 0 and pc_wide_le(full_qq, on_qq) and pc_wide_le(on_qq, pc_wide(0)):
        return 0
    raise InvalidInput(f"open_notional_qq={open_notional_qq} does not fit size={size}: it must "
                        f"lie within size * [0, 1_000_000] (an entry price in ppm)")


cdef inline int _check_caps(int64_t lower_qq, int64_t upper_qq, str lower_name,
                            str upper_name) except -1:
    if upper_qq != 0 and lower_qq > upper_qq:
        raise InvalidInput(f"{lower_name}={lower_qq} exceeds {upper_name}={upper_qq} (an upper cap "
                           f"of 0 disables scaling)")
    return 0


# ---------------------------------------------------------------------------------------------
# Requirements and fees


def at_risk_notional_qq(size, price_ppm):
    """The most a position can lose: size * p for a long, |size| * (1e6 - p) for a short."""
    cdef int64_t s = _as_i64(size, "size"), p = _price(price_ppm, "price_ppm"), out = 0
    return _result(at_risk_notional_qq_c(s, p, &out), &out)


def imf_ppm(base_imf_ppm, oi_notional_qq, lower_cap_qq, upper_cap_qq):
    """The OI-scaled initial margin factor: base at or below the lower cap (or when the upper cap
    is 0), 1_000_000 at or above the upper cap, else base + floor((1e6 - base) * (oi - lower) /
    (upper - lower))."""
    cdef int64_t base = _factor(base_imf_ppm, "base_imf_ppm")
    cdef int64_t oi = _at_least(oi_notional_qq, "oi_notional_qq", 0)
    cdef int64_t lower = _at_least(lower_cap_qq, "lower_cap_qq", 0)
    cdef int64_t upper = _at_least(upper_cap_qq, "upper_cap_qq", 0)
    _check_caps(lower, upper, "lower_cap_qq", "upper_cap_qq")
    return imf_ppm_c(base, oi, lower, upper)


def initial_requirement_qq(size, price_ppm, imf_ppm):
    """ceil(at-risk notional * imf_ppm / 1e6)."""
    cdef int64_t s = _as_i64(size, "size"), p = _price(price_ppm, "price_ppm")
    cdef int64_t f = _factor(imf_ppm, "imf_ppm"), out = 0
    return _result(requirement_qq_c(s, p, f, &out), &out)


def maintenance_requirement_qq(size, price_ppm, mmf_ppm):
    """ceil(at-risk notional * mmf_ppm / 1e6); never scaled by open interest."""
    cdef int64_t s = _as_i64(size, "size"), p = _price(price_ppm, "price_ppm")
    cdef int64_t f = _factor(mmf_ppm, "mmf_ppm"), out = 0
    return _result(requirement_qq_c(s, p, f, &out), &out)


def fee_qq(notional_qq, fee_ppm):
    """ceil(notional * fee_ppm / 1e6); a negative fee_ppm is a rebate (magnitude rounded down)."""
    cdef int64_t n = _at_least(notional_qq, "notional_qq", 0)
    cdef int64_t f = _ranged(fee_ppm, "fee_ppm", -1_000_000, 1_000_000, "ppm"), out = 0
    return _result(fee_qq_c(n, f, &out), &out)


# ---------------------------------------------------------------------------------------------
# Positions: PnL, equity, fills


def unrealized_pnl_qq(size, open_notional_qq, price_ppm):
    """size * price - open notional."""
    cdef int64_t s = _as_i64(size, "size"), on = _as_i64(open_notional_qq, "open_notional_qq")
    cdef int64_t p, out = 0
    _check_position(s, on)
    p = _price(price_ppm, "price_ppm")
    return _result(unrealized_pnl_qq_c(s, on, p, &out), &out)


def equity_qq(collateral_qq, size, open_notional_qq, mark_ppm, unsettled_funding_qq):
    """collateral + unrealized PnL at the mark + unsettled funding."""
    cdef int64_t c = _as_i64(collateral_qq, "collateral_qq")
    cdef int64_t s = _as_i64(size, "size"), on = _as_i64(open_notional_qq, "open_notional_qq")
    cdef int64_t m, f, out = 0
    _check_position(s, on)
    m = _price(mark_ppm, "mark_ppm")
    f = _as_i64(unsettled_funding_qq, "unsettled_funding_qq")
    return _result(equity_qq_c(c, s, on, m, f, &out), &out)


def apply_fill(size, open_notional_qq, fill_size, price_ppm):
    """(new_size, new_open_notional_qq, realized_pnl_qq) after a fill of fill_size contracts
    (+ buy, - sell, != 0) at price_ppm: open/increase, reduce/close (the closed part removes
    ceil(ON * closed / |size|) of the open notional), or flip (close all, open the rest)."""
    cdef int64_t s = _as_i64(size, "size"), on = _as_i64(open_notional_qq, "open_notional_qq")
    cdef int64_t q, p, new_size = 0, new_on = 0, realized = 0
    _check_position(s, on)
    q = _as_i64(fill_size, "fill_size")
    if q == 0:
        raise InvalidInput("fill_size must be non-zero (+ buy, - sell)")
    p = _price(price_ppm, "price_ppm")
    _result(apply_fill_c(s, on, q, p, &new_size, &new_on, &realized), &new_size)  # or raise
    return new_size, new_on, realized


def entry_price_ppm(size, open_notional_qq):
    """|open notional| / |size| rounded down (for display); 0 for a flat position."""
    cdef int64_t s = _as_i64(size, "size"), on = _as_i64(open_notional_qq, "open_notional_qq")
    _check_position(s, on)
    return entry_price_ppm_c(s, on)


# ---------------------------------------------------------------------------------------------
# Liquidation prices


def bankruptcy_price_ppm(size, close_size, mark_ppm, equity_qq, mmf_ppm):
    """The per-contract price at which closing close_size (0 < close_size <= |size|) contracts
    leaves equity / maintenance unchanged; for a full close, the price at which equity reaches 0.
    Rounded up when closing a long, down when closing a short. Not clamped: it may be negative for
    a long or above 1_000_000 for a short."""
    cdef int64_t s = _as_i64(size, "size"), c = _as_i64(close_size, "close_size")
    cdef int64_t m, e, f, out = 0
    if s == 0:
        raise InvalidInput("size must be non-zero: there is no position to close")
    if c <= 0 or (s > 0 and c > s) or (s < 0 and s + c > 0):  # s + c: no overflow
        raise InvalidInput(f"close_size={c} must be in (0, |size|] for size={s}")
    m = _price(mark_ppm, "mark_ppm")
    e = _as_i64(equity_qq, "equity_qq")
    f = _factor(mmf_ppm, "mmf_ppm")
    return _result(bankruptcy_price_ppm_c(s, c, m, e, f, &out), &out)


def fillable_price_ppm(size, mark_ppm, equity_qq, mmr_qq, bankruptcy_adjustment_ppm,
                       spread_to_mmr_ppm, tick_ppm):
    """The liquidation price of the whole position on the tick grid: the mark moved against the
    account by ABR * SMMR * MMR / |size|, ABR = clamp(BA * (1 - equity / MMR), 0, 1) (0 when equity
    >= MMR; with MMR 0 there is no spread), rounded up to a tick when closing a long and down when
    closing a short, then clamped to [tick, 1_000_000 - tick]. The same for any slice of the
    position: it takes the whole position's size, equity and MMR."""
    cdef int64_t s = _as_i64(size, "size")
    if s == 0:
        raise InvalidInput("size must be non-zero: there is no position to liquidate")
    cdef int64_t m = _price(mark_ppm, "mark_ppm"), e = _as_i64(equity_qq, "equity_qq")
    cdef int64_t r = _at_least(mmr_qq, "mmr_qq", 0)
    cdef int64_t ba = _at_least(bankruptcy_adjustment_ppm, "bankruptcy_adjustment_ppm", 1_000_000)
    cdef int64_t smmr = _at_least(spread_to_mmr_ppm, "spread_to_mmr_ppm", 1)
    cdef int64_t tick = _ranged(tick_ppm, "tick_ppm", 1, 500_000, "ppm")
    if 1_000_000 % tick != 0:
        raise InvalidInput(f"tick_ppm={tick} must divide 1_000_000")
    return fillable_price_ppm_c(s, m, e, r, ba, smmr, tick)


def liquidation_price_ppm(size, open_notional_qq, collateral_qq, mmf_ppm):
    """The mark at which a position becomes liquidatable (equity <= maintenance > 0), with
    collateral_qq its position margin plus unsettled funding: a long is liquidatable at every mark
    <= the result (0: at none inside (0, 1e6)), a short at every mark >= it (1_000_000: at none).
    Exact: the integer predicate itself, bisected over the marks 1 .. 999_999."""
    cdef int64_t s = _as_i64(size, "size"), on = _as_i64(open_notional_qq, "open_notional_qq")
    if s == 0:
        raise InvalidInput("size must be non-zero: a flat position is never liquidatable")
    _check_position(s, on)
    cdef int64_t c = _as_i64(collateral_qq, "collateral_qq")
    cdef int64_t f = _ranged(mmf_ppm, "mmf_ppm", 1, 1_000_000, "ppm")
    return liquidation_price_ppm_c(s, on, c, f)


# ---------------------------------------------------------------------------------------------
# A market's risk parameters


def _risk_tier_from_dict(fields):
    """Unpickle a RiskTier (its constructor is keyword-only)."""
    return RiskTier(**fields)


cdef class RiskTier:
    """A market's risk parameters, validated once; immutable, hashable and pickleable.

    base_imf_ppm (0 < x <= 1e6) and mmf_ppm (0 < x <= base_imf_ppm) are fractions of the at-risk
    notional; the initial factor scales with the open interest notional between oi_lower_cap_qq
    and oi_upper_cap_qq (0: no scaling), the maintenance factor never does. taker_fee_ppm is in
    [0, 100_000], maker_fee_ppm in [-taker, taker] (negative: a rebate never larger than the taker
    fee, so a trade never pays out net), insurance_share_ppm (0..1e6) is the share of collected
    fees sent to the insurance fund.

    Liquidation: liquidation_fee_ppm (0..1e6) caps the fee a liquidation fill pays the insurance
    fund, as a fraction of its notional; bankruptcy_adjustment_ppm (1e6..1e9) and
    spread_to_mmr_ppm (1..1e6) shape the fillable price (dYdX's BA and SMMR); one liquidation
    closes at most liquidation_portion_ppm (1..1e6) of a position's notional at the mark, but never
    less than liquidation_min_notional_qq (>= 0; a position that small closes whole); an account's
    liquidations take at most liquidation_max_notional_qq (>= 1) of notional per block across
    markets, and the market's insurance fund pays at most insurance_max_draw_qq (>= 1) per block.
    """

    def __cinit__(self, *, base_imf_ppm=100_000, mmf_ppm=50_000, oi_lower_cap_qq=0,
                  oi_upper_cap_qq=0, taker_fee_ppm=500, maker_fee_ppm=100,
                  insurance_share_ppm=200_000, liquidation_fee_ppm=5_000,
                  bankruptcy_adjustment_ppm=1_000_000, spread_to_mmr_ppm=100_000,
                  liquidation_portion_ppm=500_000, liquidation_min_notional_qq=10_000_000,
                  liquidation_max_notional_qq=100_000_000_000_000,
                  insurance_max_draw_qq=100_000_000_000_000):
        self.base_imf_ppm = _ranged(base_imf_ppm, "base_imf_ppm", 1, 1_000_000, "ppm")
        self.mmf_ppm = _ranged(mmf_ppm, "mmf_ppm", 1, self.base_imf_ppm,
                               "ppm, at most base_imf_ppm")
        self.oi_lower_cap_qq = _at_least(oi_lower_cap_qq, "oi_lower_cap_qq", 0)
        self.oi_upper_cap_qq = _at_least(oi_upper_cap_qq, "oi_upper_cap_qq", 0)
        _check_caps(self.oi_lower_cap_qq, self.oi_upper_cap_qq, "oi_lower_cap_qq",
                    "oi_upper_cap_qq")
        self.taker_fee_ppm = _ranged(taker_fee_ppm, "taker_fee_ppm", 0, 100_000, "ppm")
        self.maker_fee_ppm = _ranged(maker_fee_ppm, "maker_fee_ppm", -self.taker_fee_ppm,
                                     self.taker_fee_ppm, "ppm, |maker| at most taker_fee_ppm")
        self.insurance_share_ppm = _factor(insurance_share_ppm, "insurance_share_ppm")
        self.liquidation_fee_ppm = _factor(liquidation_fee_ppm, "liquidation_fee_ppm")
        self.bankruptcy_adjustment_ppm = _ranged(bankruptcy_adjustment_ppm,
                                                 "bankruptcy_adjustment_ppm", 1_000_000,
                                                 1_000_000_000, "ppm")
        self.spread_to_mmr_ppm = _ranged(spread_to_mmr_ppm, "spread_to_mmr_ppm", 1, 1_000_000,
                                         "ppm")
        self.liquidation_portion_ppm = _ranged(liquidation_portion_ppm, "liquidation_portion_ppm",
                                               1, 1_000_000, "ppm")
        self.liquidation_min_notional_qq = _at_least(liquidation_min_notional_qq,
                                                     "liquidation_min_notional_qq", 0)
        self.liquidation_max_notional_qq = _at_least(liquidation_max_notional_qq,
                                                     "liquidation_max_notional_qq", 1)
        self.insurance_max_draw_qq = _at_least(insurance_max_draw_qq, "insurance_max_draw_qq", 1)

    def imf_ppm(self, oi_notional_qq):
        """The initial margin factor at this open interest notional (post-trade, at the mark)."""
        cdef int64_t oi = _at_least(oi_notional_qq, "oi_notional_qq", 0)
        return imf_ppm_c(self.base_imf_ppm, oi, self.oi_lower_cap_qq, self.oi_upper_cap_qq)

    def initial_requirement_qq(self, size, price_ppm, oi_notional_qq):
        """ceil(at-risk notional * imf_ppm(oi_notional_qq) / 1e6)."""
        cdef int64_t s = _as_i64(size, "size"), p = _price(price_ppm, "price_ppm"), out = 0
        cdef int64_t oi = _at_least(oi_notional_qq, "oi_notional_qq", 0)
        cdef int64_t f = imf_ppm_c(self.base_imf_ppm, oi, self.oi_lower_cap_qq,
                                   self.oi_upper_cap_qq)
        return _result(requirement_qq_c(s, p, f, &out), &out)

    def maintenance_requirement_qq(self, size, price_ppm):
        """ceil(at-risk notional * mmf_ppm / 1e6), whatever the open interest."""
        cdef int64_t s = _as_i64(size, "size"), p = _price(price_ppm, "price_ppm"), out = 0
        return _result(requirement_qq_c(s, p, self.mmf_ppm, &out), &out)

    def taker_fee_qq(self, notional_qq):
        """The taker's fee on a fill of this notional, rounded up."""
        cdef int64_t n = _at_least(notional_qq, "notional_qq", 0), out = 0
        return _result(fee_qq_c(n, self.taker_fee_ppm, &out), &out)

    def maker_fee_qq(self, notional_qq):
        """The maker's fee (negative: a rebate, its magnitude rounded down)."""
        cdef int64_t n = _at_least(notional_qq, "notional_qq", 0), out = 0
        return _result(fee_qq_c(n, self.maker_fee_ppm, &out), &out)

    def insurance_share_qq(self, fee_qq):
        """floor(fee * insurance_share_ppm / 1e6) of a collected fee; 0 for a fee <= 0."""
        cdef int64_t fee = _as_i64(fee_qq, "fee_qq"), out = 0
        if fee > 0:
            pc_mul_div_down(fee, self.insurance_share_ppm, 1_000_000, &out)  # <= fee: fits
        return out

    def as_dict(self):
        """The parameters by name, in constructor order."""
        return {
            "base_imf_ppm": self.base_imf_ppm,
            "mmf_ppm": self.mmf_ppm,
            "oi_lower_cap_qq": self.oi_lower_cap_qq,
            "oi_upper_cap_qq": self.oi_upper_cap_qq,
            "taker_fee_ppm": self.taker_fee_ppm,
            "maker_fee_ppm": self.maker_fee_ppm,
            "insurance_share_ppm": self.insurance_share_ppm,
            "liquidation_fee_ppm": self.liquidation_fee_ppm,
            "bankruptcy_adjustment_ppm": self.bankruptcy_adjustment_ppm,
            "spread_to_mmr_ppm": self.spread_to_mmr_ppm,
            "liquidation_portion_ppm": self.liquidation_portion_ppm,
            "liquidation_min_notional_qq": self.liquidation_min_notional_qq,
            "liquidation_max_notional_qq": self.liquidation_max_notional_qq,
            "insurance_max_draw_qq": self.insurance_max_draw_qq,
        }

    def __eq__(self, other):
        if not isinstance(other, RiskTier):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self):
        return hash(tuple(self.as_dict().values()))

    def __repr__(self):
        return "RiskTier(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"

    def __reduce__(self):
        return _risk_tier_from_dict, (self.as_dict(),)
