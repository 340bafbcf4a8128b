# Interface of perpcore's margin engine (the Python wrappers and RiskTier's methods are in
# _margin.pyx): the kernels other native modules cimport to do risk math at C level. A kernel trusts
# its arguments: the caller has checked what the matching `def` checks (prices and marks in
# [0, 1e6], factors in [0, 1e6], |fee| <= 1e6, notional >= 0, caps >= 0 and lower <= upper unless
# upper == 0, a position's open notional within size * [0, 1e6], close_size in (0, |size|],
# fill_size != 0, the fillable price's BA >= 1e6, SMMR > 0 and tick dividing 1e6). Kernels whose
# result can leave int64 return PC_OK or PC_OVERFLOW and write through their pointers only on
# PC_OK; the others return their value. All are nogil except fillable_price_ppm_c (exact Python
# ints). Units: sizes in contracts, prices and factors in ppm, money in quote quantums (qq). Every
# division names its rounding: requirements and fees charged round up, anything paid out down.

from libc.stdint cimport int64_t

from perpcore._fixedpoint cimport (
    PC_OK, PC_OVERFLOW, pc_add, pc_i128, pc_mul_div_down, pc_mul_div_up, pc_narrow, pc_wide,
    pc_wide_add, pc_wide_div_ceil, pc_wide_div_down, pc_wide_div_up, pc_wide_le, pc_wide_mul,
    pc_wide_sub,
)


cdef class RiskTier:
    cdef readonly int64_t base_imf_ppm
    cdef readonly int64_t mmf_ppm
    cdef readonly int64_t oi_lower_cap_qq
    cdef readonly int64_t oi_upper_cap_qq
    cdef readonly int64_t taker_fee_ppm
    cdef readonly int64_t maker_fee_ppm
    cdef readonly int64_t insurance_share_ppm
    cdef readonly int64_t liquidation_fee_ppm
    cdef readonly int64_t bankruptcy_adjustment_ppm
    cdef readonly int64_t spread_to_mmr_ppm
    cdef readonly int64_t liquidation_portion_ppm
    cdef readonly int64_t liquidation_min_notional_qq
    cdef readonly int64_t liquidation_max_notional_qq
    cdef readonly int64_t insurance_max_draw_qq


cdef inline int64_t at_risk_factor_ppm(int64_t size, int64_t price_ppm) noexcept nogil:
    """The per-contract factor f with size * f == the at-risk notional (>= 0): p for a long,
    p - 1e6 for a short (a short YES is a long NO at 1e6 - p)."""
    return price_ppm if size >= 0 else price_ppm - 1_000_000


cdef inline int at_risk_notional_qq_c(int64_t size, int64_t price_ppm,
                                      int64_t *out_qq) noexcept nogil:
    return pc_narrow(pc_wide_mul(size, at_risk_factor_ppm(size, price_ppm)), out_qq)


cdef inline int requirement_qq_c(int64_t size, int64_t price_ppm, int64_t factor_ppm,
                                 int64_t *out_qq) noexcept nogil:
    """ceil(at-risk notional * factor / 1e6): the initial (factor = IMF) or maintenance (MMF)
    requirement. The factor folds into the per-contract factor (|f * factor| <= 1e12), so a
    requirement is exact even when the at-risk notional itself would not fit int64."""
    return pc_mul_div_up(size, at_risk_factor_ppm(size, price_ppm) * factor_ppm, 1_000_000, out_qq)


cdef inline int64_t imf_ppm_c(int64_t base_imf_ppm, int64_t oi_notional_qq, int64_t lower_cap_qq,
                              int64_t upper_cap_qq) noexcept nogil:
    """Open-interest-scaled initial margin factor: base at or below the lower cap (or with the
    upper cap 0), 100 % at or above the upper cap, linear in between rounded down."""
    cdef int64_t step_ppm = 0
    if upper_cap_qq == 0 or oi_notional_qq <= lower_cap_qq:
        return base_imf_ppm
    if oi_notional_qq >= upper_cap_qq:
        return 1_000_000
    pc_mul_div_down(1_000_000 - base_imf_ppm, oi_notional_qq - lower_cap_qq,
                    upper_cap_qq - lower_cap_qq, &step_ppm)  # < 1e6 - base: cannot fail
    return base_imf_ppm + step_ppm


cdef inline int fee_qq_c(int64_t notional_qq, int64_t fee_ppm, int64_t *out_qq) noexcept nogil:
    """ceil(notional * fee / 1e6): a fee charged rounds up, a rebate's magnitude rounds down."""
    return pc_mul_div_up(notional_qq, fee_ppm, 1_000_000, out_qq)


cdef inline int unrealized_pnl_qq_c(int64_t size, int64_t open_notional_qq, int64_t price_ppm,
                                    int64_t *out_qq) noexcept nogil:
    return pc_narrow(pc_wide_sub(pc_wide_mul(size, price_ppm), pc_wide(open_notional_qq)), out_qq)


cdef inline int equity_qq_c(int64_t collateral_qq, int64_t size, int64_t open_notional_qq,
                            int64_t mark_ppm, int64_t unsettled_funding_qq,
                            int64_t *out_qq) noexcept nogil:
    """collateral + unrealized PnL at the mark + unsettled funding, summed in 128 bits."""
    cdef pc_i128 upnl = pc_wide_sub(pc_wide_mul(size, mark_ppm), pc_wide(open_notional_qq))
    return pc_narrow(pc_wide_add(pc_wide_add(pc_wide(collateral_qq), upnl),
                                 pc_wide(unsettled_funding_qq)), out_qq)


cdef inline int apply_fill_c(int64_t size, int64_t open_notional_qq, int64_t fill_size,
                             int64_t price_ppm, int64_t *new_size, int64_t *new_open_notional_qq,
                             int64_t *realized_pnl_qq) noexcept nogil:
    """A fill of fill_size contracts (+ buy, - sell) at price_ppm on the position
    (size, open_notional). Every case keeps new_open_notional - realized == open_notional +
    fill_size * price exactly, so the two sides of a trade conserve money."""
    cdef int64_t rest = 0, removed_qq = 0, on_qq = 0, realized_qq = 0
    cdef int status
    if pc_add(size, fill_size, &rest) != PC_OK:
        return PC_OVERFLOW
    if size == 0 or (size > 0) == (fill_size > 0):  # open or increase
        status = pc_narrow(pc_wide_add(pc_wide(open_notional_qq),
                                       pc_wide_mul(fill_size, price_ppm)), &on_qq)
    elif rest == 0 or (rest > 0) == (size > 0):  # reduce or close
        # the closed contracts take ceil(ON * closed / |size|) of the open notional (signed ceil,
        # toward +inf: against the account for longs and shorts alike); ON * fill / -size is that
        status = pc_wide_div_up(pc_wide_mul(open_notional_qq, fill_size),
                                pc_wide_sub(pc_wide(0), pc_wide(size)), &removed_qq)
        if status != PC_OK:
            return status
        on_qq = open_notional_qq - removed_qq  # between 0 and ON: fits
        status = pc_narrow(pc_wide_sub(pc_wide_sub(pc_wide(0), pc_wide_mul(fill_size, price_ppm)),
                                       pc_wide(removed_qq)), &realized_qq)
    else:  # flip: close the whole position at price_ppm, open the rest there
        status = pc_narrow(pc_wide_sub(pc_wide_mul(size, price_ppm), pc_wide(open_notional_qq)),
                           &realized_qq)
        if status != PC_OK:
            return status
        status = pc_narrow(pc_wide_mul(rest, price_ppm), &on_qq)
    if status != PC_OK:
        return status
    new_size[0] = rest
    new_open_notional_qq[0] = on_qq
    realized_pnl_qq[0] = realized_qq
    return PC_OK


cdef inline int64_t entry_price_ppm_c(int64_t size, int64_t open_notional_qq) noexcept nogil:
    """|open notional| / |size| rounded down (display only); 0 for a flat position."""
    cdef int64_t out = 0
    if size != 0:
        pc_wide_div_down(pc_wide(open_notional_qq), pc_wide(size), &out)  # same signs, <= 1e6
    return out


cdef inline int bankruptcy_price_ppm_c(int64_t size, int64_t close_size, int64_t mark_ppm,
                                       int64_t equity_qq, int64_t mmf_ppm,
                                       int64_t *out_ppm) noexcept nogil:
    """The price at which closing close_size contracts of the position keeps equity / MMR
    unchanged (dYdX's bankruptcy price for one isolated market): the closing trade takes its
    share floor(equity * |DMMR| / MMR) of the equity (floor(equity * close / |size|) when the MMR
    is 0), and the per-contract price rounds against the account's counterparty: up when the
    account sells (closing a long), down when it buys (closing a short). Not clamped to [0, 1e6]."""
    cdef int64_t rest = size - close_size if size > 0 else size + close_size  # |rest| < |size|
    cdef int64_t mmr_before = 0, mmr_after = 0, share_qq = 0
    cdef pc_i128 abs_size = pc_wide(size) if size > 0 else pc_wide_sub(pc_wide(0), pc_wide(size))
    cdef pc_i128 at_mark_qq = pc_wide_mul(close_size, mark_ppm)
    cdef int status = requirement_qq_c(size, mark_ppm, mmf_ppm, &mmr_before)
    if status != PC_OK:
        return status
    requirement_qq_c(rest, mark_ppm, mmf_ppm, &mmr_after)  # <= mmr_before: fits
    if mmr_before > 0:
        pc_mul_div_down(equity_qq, mmr_before - mmr_after, mmr_before, &share_qq)  # |.| <= |equity|
    else:
        pc_wide_div_down(pc_wide_mul(equity_qq, close_size), abs_size, &share_qq)  # |.| <= |equity|
    if size > 0:  # sell close_size: receive close * mark - share, per contract rounded up
        return pc_wide_div_up(pc_wide_sub(at_mark_qq, pc_wide(share_qq)), pc_wide(close_size),
                              out_ppm)
    # buy close_size: pay close * mark + share, per contract rounded down
    return pc_wide_div_down(pc_wide_add(at_mark_qq, pc_wide(share_qq)), pc_wide(close_size),
                            out_ppm)


cdef inline bint _liquidatable_at(int64_t size, int64_t open_notional_qq, int64_t collateral_qq,
                                   int64_t mmf_ppm, int64_t price_ppm) noexcept nogil:
    """collateral + size * p - open notional <= ceil(at-risk notional(p) * mmf / 1e6), exactly."""
    cdef pc_i128 equity = pc_wide_sub(pc_wide_add(pc_wide(collateral_qq),
                                                  pc_wide_mul(size, price_ppm)),
                                      pc_wide(open_notional_qq))
    cdef pc_i128 mmr = pc_wide_div_ceil(
        pc_wide_mul(size, at_risk_factor_ppm(size, price_ppm) * mmf_ppm), pc_wide(1_000_000))
    return pc_wide_le(equity, mmr)


cdef inline int64_t liquidation_price_ppm_c(int64_t size, int64_t open_notional_qq,
                                            int64_t collateral_qq, int64_t mmf_ppm) noexcept nogil:
    """The mark at which the position (size != 0) becomes liquidatable: equity (collateral +
    unrealized PnL, collateral holding the position margin and unsettled funding) at or below the
    maintenance requirement, which is then > 0. Equity minus maintenance grows with the mark for a
    long and shrinks for a short, so a long is liquidatable exactly at marks <= the result (0:
    at no mark inside (0, 1e6)) and a short at marks >= it (1_000_000: at none). Found by
    bisection over the integer marks 1 .. 999_999 with the exact predicate."""
    cdef int64_t lo = 1, hi = 999_999, mid
    if size > 0:  # the largest liquidatable mark
        if not _liquidatable_at(size, open_notional_qq, collateral_qq, mmf_ppm, lo):
            return 0
        while lo < hi:  # invariant: liquidatable at lo
            mid = hi - (hi - lo) // 2
            if _liquidatable_at(size, open_notional_qq, collateral_qq, mmf_ppm, mid):
                lo = mid
            else:
                hi = mid - 1
        return lo
    if not _liquidatable_at(size, open_notional_qq, collateral_qq, mmf_ppm, hi):
        return 1_000_000
    while lo < hi:  # the smallest liquidatable mark; invariant: liquidatable at hi
        mid = lo + (hi - lo) // 2
        if _liquidatable_at(size, open_notional_qq, collateral_qq, mmf_ppm, mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


cdef inline int64_t fillable_price_ppm_c(int64_t size, int64_t mark_ppm, int64_t equity_qq,
                                         int64_t mmr_qq, int64_t bankruptcy_adjustment_ppm,
                                         int64_t spread_to_mmr_ppm, int64_t tick_ppm) except -1:
    """dYdX's fillable price for the whole position, on the tick grid: mark moved against the
    account by ABR * SMMR * MMR / |size| with ABR = clamp(BA * (1 - equity / MMR), 0, 1), rounded
    up to a tick when closing a long, down when closing a short, clamped to [tick, 1e6 - tick].
    Computed exactly in Python ints (the product can exceed 128 bits); not a hot path."""
    cdef object abr_num = 0, abr_den = 1, spread_num, spread_den, tick_index
    if mmr_qq > 0 and equity_qq < mmr_qq:  # (with MMR 0 the spread is 0 whatever ABR is)
        abr_num = <object>bankruptcy_adjustment_ppm * (<object>mmr_qq - equity_qq)
        abr_den = <object>1_000_000 * mmr_qq
        if abr_num >= abr_den:
            abr_num = abr_den = 1
    spread_num = abr_num * spread_to_mmr_ppm * mmr_qq
    spread_den = abr_den * 1_000_000 * abs(<object>size)
    if size > 0:  # sell: ceil((mark - spread) / tick)
        tick_index = -((spread_num - mark_ppm * spread_den) // (spread_den * tick_ppm))
    else:  # buy: floor((mark + spread) / tick)
        tick_index = (mark_ppm * spread_den + spread_num) // (spread_den * tick_ppm)
    return min(max(tick_index, 1), 1_000_000 // tick_ppm - 1) * tick_ppm
