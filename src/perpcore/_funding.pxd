# Interface of perpcore's funding sampler (bodies of the classes and the Python wrappers are in
# _funding.pyx): the kernels and the C-level entry points other native modules cimport to run
# funding without Python calls. A kernel trusts its arguments: the caller has checked what the
# matching `def` checks (prices, marks and indexes in [0, 1e6], the sample clamp in [1, 1e6],
# 0 <= mmf <= imf <= 1e6, |average premium| <= 1e6 and rate scale in [0, 1e6] for the rate,
# counts >= 0). Kernels are nogil and noexcept; those whose result can leave int64 return PC_OK or
# PC_OVERFLOW and write through their pointer only on PC_OK. Units: prices and premiums in ppm of
# probability (1 ppm of price = 1 qq per contract), money in quote quantums (qq, 1e-6 USDC), the
# funding index in "idx" = 1e-6 qq per contract. Every division names its rounding.

cimport cython
from libc.stdint cimport int64_t
from libc.stdlib cimport qsort

from perpcore._book cimport OrderBook
from perpcore._fixedpoint cimport (
    PC_OK, pc_i128, pc_mul_div_down, pc_wide, pc_wide_add, pc_wide_div_down, pc_wide_div_up,
    pc_wide_lt, pc_wide_mul, pc_wide_sub,
)


# What close_period_c writes: the fields of funding_types.FundingPeriod.
cdef struct PeriodRec:
    int64_t avg_premium_ppm
    int64_t rate_idx
    bint capped
    int64_t index_delta_idx
    int64_t cumulative_index_idx
    int64_t n_minutes


@cython.final
cdef class FundingParams:
    cdef readonly int64_t impact_notional_qq
    cdef readonly int64_t sample_clamp_ppm
    cdef readonly int64_t blocks_per_minute
    cdef readonly int64_t minutes_per_period
    cdef readonly int64_t rate_scale_ppm
    cdef readonly int64_t base_imf_ppm
    cdef readonly int64_t mmf_ppm


@cython.final
cdef class FundingSampler:
    cdef readonly FundingParams params
    cdef int64_t* samples_ppm            # the open minute's samples, in arrival order
    cdef int64_t n_samples
    cdef int64_t samples_cap
    cdef int64_t minute_sum_ppm          # sum of the medians of the period's closed minutes
    cdef int64_t n_minutes               # minutes closed in the open period
    cdef int64_t index_idx               # cumulative funding index

    cdef int64_t sample_book_c(self, OrderBook book, int64_t index_ppm) except? -1
    cdef int64_t record_c(self, int64_t sample_ppm) except? -1
    cdef int64_t close_minute_c(self) except? -1
    cdef int close_period_c(self, int64_t mark_ppm, PeriodRec* out) except -1


cdef inline int64_t premium_sample_ppm_c(bint enough_depth, int64_t impact_bid_ppm,
                                         int64_t impact_ask_ppm, int64_t index_ppm,
                                         int64_t clamp_ppm) noexcept nogil:
    """clamp(floor((bid + ask) / 2) - index, +/- clamp), or 0 when a side lacked depth. Absolute
    probability points; an index inside the spread still gives mid - index."""
    cdef int64_t premium_ppm
    if not enough_depth:
        return 0
    premium_ppm = (impact_bid_ppm + impact_ask_ppm) // 2 - index_ppm  # floor: both are >= 0
    if premium_ppm > clamp_ppm:
        return clamp_ppm
    if premium_ppm < -clamp_ppm:
        return -clamp_ppm
    return premium_ppm


cdef inline int _cmp_i64(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const int64_t*>a)[0]
    cdef int64_t y = (<const int64_t*>b)[0]
    if x < y:
        return -1
    return 1 if x > y else 0


cdef inline int64_t _kth_padded(const int64_t* sorted_values, int64_t n, int64_t n_negative,
                                int64_t zeros, int64_t k) noexcept nogil:
    """The k-th smallest (from 0) of the sorted values with `zeros` zeros inserted among them:
    the negatives, then the padding, then the rest."""
    if k < n_negative:
        return sorted_values[k]
    if k < n_negative + zeros:
        return 0
    return sorted_values[k - zeros]


cdef inline int64_t median_padded_c(int64_t* values, int64_t n,
                                    int64_t n_expected) noexcept nogil:
    """Median of the n values padded with zeros up to n_expected (no padding when n >= n_expected);
    an even count takes the mean of the middle two rounded away from zero; no values at all give 0.
    Sorts `values` in place."""
    cdef int64_t m = n if n >= n_expected else n_expected
    cdef int64_t zeros = m - n, n_negative = 0, out = 0
    cdef pc_i128 pair
    if m == 0:
        return 0
    if n > 1:
        qsort(values, <size_t>n, sizeof(int64_t), _cmp_i64)
    while n_negative < n and values[n_negative] < 0:
        n_negative += 1
    if m % 2 == 1:
        return _kth_padded(values, n, n_negative, zeros, m // 2)
    pair = pc_wide_add(pc_wide(_kth_padded(values, n, n_negative, zeros, m // 2 - 1)),
                       pc_wide(_kth_padded(values, n, n_negative, zeros, m // 2)))
    if pc_wide_lt(pair, pc_wide(0)):
        pc_wide_div_down(pair, pc_wide(2), &out)  # away from zero; between the two: fits
    else:
        pc_wide_div_up(pair, pc_wide(2), &out)
    return out


cdef inline int64_t average_of_sum_c(pc_i128 total, int64_t n, int64_t n_expected) noexcept nogil:
    """total / max(n, n_expected) truncated toward zero, 0 when both counts are 0. The caller
    passes the exact sum of n int64 values, so the average fits."""
    cdef int64_t m = n if n >= n_expected else n_expected, out = 0
    if m == 0:
        return 0
    if pc_wide_lt(total, pc_wide(0)):
        pc_wide_div_up(total, pc_wide(m), &out)  # toward zero
    else:
        pc_wide_div_down(total, pc_wide(m), &out)
    return out


cdef inline int64_t average_padded_c(const int64_t* values, int64_t n,
                                     int64_t n_expected) noexcept nogil:
    """Average of the n values padded with zeros up to n_expected, truncated toward zero."""
    cdef pc_i128 total = pc_wide(0)
    cdef int64_t i
    for i in range(n):
        total = pc_wide_add(total, pc_wide(values[i]))
    return average_of_sum_c(total, n, n_expected)


cdef inline int64_t funding_cap_idx_c(int64_t mark_ppm, int64_t base_imf_ppm,
                                      int64_t mmf_ppm) noexcept nogil:
    """The largest |rate| one period may charge, in idx: (floor(min(p, 1e6 - p) * (imf - mmf) /
    1e6) - 1) whole quote quantums per contract, at least 0. A position of any size opened at
    exactly its initial requirement at mark p has a buffer over maintenance of at least
    floor(size * min(p, 1e6 - p) * (imf - mmf) / 1e6) qq (both requirements round up); paying
    ceil(size * cap / 1e6) = size * (floor(...) - 1) leaves it at least `size` qq strictly above."""
    cdef int64_t at_risk_ppm = mark_ppm if mark_ppm <= 500_000 else 1_000_000 - mark_ppm
    cdef int64_t buffer_qq = 0
    pc_mul_div_down(at_risk_ppm, base_imf_ppm - mmf_ppm, 1_000_000, &buffer_qq)  # <= 5e11: fits
    if buffer_qq <= 1:
        return 0
    return (buffer_qq - 1) * 1_000_000


cdef inline int64_t capped_rate_idx_c(int64_t avg_premium_ppm, int64_t rate_scale_ppm,
                                      int64_t cap_idx, bint* capped) noexcept nogil:
    """avg_premium_ppm * rate_scale_ppm (exact, |.| <= 1e12) clamped to [-cap, cap]."""
    cdef int64_t rate_idx = avg_premium_ppm * rate_scale_ppm
    capped[0] = rate_idx > cap_idx or rate_idx < -cap_idx
    if rate_idx > cap_idx:
        return cap_idx
    if rate_idx < -cap_idx:
        return -cap_idx
    return rate_idx


cdef inline int funding_payment_qq_c(int64_t size, int64_t index_now_idx, int64_t index_then_idx,
                                     int64_t* out_qq) noexcept nogil:
    """ceil(size * (now - then) / 1e6): what the position owes (+) or receives (-) for the index
    move. Ceil is the payer rounding up and the receiver rounding down. size * now - size * then
    is exact in 128 bits (|.| < 2**127)."""
    return pc_wide_div_up(pc_wide_sub(pc_wide_mul(size, index_now_idx),
                                      pc_wide_mul(size, index_then_idx)),
                          pc_wide(1_000_000), out_qq)
