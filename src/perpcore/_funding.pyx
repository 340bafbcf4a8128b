"""The native funding sampler: per-block premium samples, per-minute medians, per-period capped
rates and the market's cumulative funding index.

Owns ``FundingParams`` (a market's funding parameters), ``FundingSampler`` (the three stages and the
cumulative index of one market) and the pure functions they are built from: ``median_padded``,
``average_padded``, ``funding_cap_idx`` and ``funding_payment_qq`` (what a position owes for an
index move; the payer rounds up, the receiver down). Each ``def`` validates and converts its
arguments once, then calls a kernel of _funding.pxd. It never looks at a clock (the caller decides
when a block, a minute and a period happen), never uses floats, never changes a book, and never
returns a wrapped value: a result outside int64 raises OverflowError. Its slow twin is
``perpcore.reference.funding``.
"""

cimport cython
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, realloc

from perpcore._book cimport OrderBook
from perpcore._convert cimport _as_i64
from perpcore._fixedpoint cimport PC_OK, checked, pc_add, pc_i128, pc_wide, pc_wide_add

from perpcore.book_types import Side
from perpcore.errors import IntegrityError, InvalidInput, InvalidType
from perpcore.funding_types import FundingPeriod

cdef object _BUY = Side.BUY    # the bid side, swept for the impact bid
cdef object _SELL = Side.SELL  # the ask side, swept for the impact ask
cdef int _BUY_C = 0
cdef int _SELL_C = 1
cdef int64_t _FIRST_SAMPLES_CAP = 64


cdef inline int64_t _result(int status, const int64_t *out) except? -1:
    """A kernel's result, read through the pointer only after the kernel ran, or OverflowError."""
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


cdef inline int64_t _at_least(object value, str name, int64_t lo) except? -1:
    cdef int64_t v = _as_i64(value, name)
    if v < lo:
        raise InvalidInput(f"{name}={v} must be >= {lo}")
    return v


cdef list _int_list(object values, str name):
    """The items of an iterable of integers as a list (InvalidType when it is not iterable)."""
    try:
        return list(values)
    except TypeError:
        raise InvalidType(f"{name} must be an iterable of integers, not "
                          f"{type(values).__name__}") from None


cdef int64_t* _i64_array(list items, str name) except NULL:
    """A malloc'ed int64 copy of the items (at least one slot); the caller frees it."""
    cdef Py_ssize_t i, n = len(items)
    cdef int64_t* out = <int64_t*>malloc(<size_t>(n if n > 0 else 1) * sizeof(int64_t))
    if out == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            out[i] = _as_i64(items[i], f"{name}[{i}]")
    except BaseException:
        free(out)
        raise
    return out


# ---------------------------------------------------------------------------------------------
# Pure functions


def median_padded(samples, n_expected):
    """Median of ``samples`` padded with zeros up to ``n_expected`` (no padding when there are at
    least that many); an even count takes the mean of the middle two rounded away from zero; no
    samples and ``n_expected`` 0 give 0. Missing samples count as 0, so a minority of non-zero
    samples cannot set the median."""
    cdef list items = _int_list(samples, "samples")
    cdef int64_t* values = _i64_array(items, "samples")
    cdef int64_t n_exp, out
    try:
        n_exp = _at_least(n_expected, "n_expected", 0)
        out = median_padded_c(values, len(items), n_exp)
    finally:
        free(values)
    return out


def average_padded(values, n_expected):
    """Sum of ``values`` divided by max(len(values), ``n_expected``), truncated toward zero (the
    missing values count as 0); no values and ``n_expected`` 0 give 0."""
    cdef list items = _int_list(values, "values")
    cdef int64_t* array = _i64_array(items, "values")
    cdef int64_t n_exp, out
    try:
        n_exp = _at_least(n_expected, "n_expected", 0)
        out = average_padded_c(array, len(items), n_exp)
    finally:
        free(array)
    return out


cdef int _check_factors(int64_t base_imf_ppm, int64_t mmf_ppm) except -1:
    if mmf_ppm > base_imf_ppm:
        raise InvalidInput(f"mmf_ppm={mmf_ppm} must be at most base_imf_ppm={base_imf_ppm}")
    return 0


def funding_cap_idx(mark_ppm, base_imf_ppm, mmf_ppm):
    """The largest |rate| one period may charge at this mark, in idx (1e-6 qq per contract):
    max(0, floor(min(p, 1e6 - p) * (imf - mmf) / 1e6) - 1) * 1e6, i.e. one quote quantum per
    contract less than the whole-quantum buffer a position opened at exactly its initial
    requirement holds over maintenance; so one period's payment leaves any such position, long or
    short and of any size, strictly above maintenance. 0 when imf == mmf.
    0 <= mmf_ppm <= base_imf_ppm <= 1e6."""
    cdef int64_t p = _price(mark_ppm, "mark_ppm")
    cdef int64_t imf = _ranged(base_imf_ppm, "base_imf_ppm", 0, 1_000_000, "ppm")
    cdef int64_t mmf = _ranged(mmf_ppm, "mmf_ppm", 0, 1_000_000, "ppm")
    _check_factors(imf, mmf)
    return funding_cap_idx_c(p, imf, mmf)


def funding_payment_qq(size, index_now_idx, index_then_idx):
    """What a position of ``size`` contracts (+ long, - short) owes for the index move since its
    last touch, in qq: ceil(size * (now - then) / 1e6). Positive: it pays (a long when the index
    rose, a short when it fell), rounded up; negative: it receives, rounded down. Over positions
    whose sizes sum to 0 the payments sum to between 0 and their count - 1: the dust is the
    system's."""
    cdef int64_t s = _as_i64(size, "size")
    cdef int64_t now = _as_i64(index_now_idx, "index_now_idx")
    cdef int64_t then = _as_i64(index_then_idx, "index_then_idx")
    cdef int64_t out = 0
    return _result(funding_payment_qq_c(s, now, then, &out), &out)


# ---------------------------------------------------------------------------------------------
# A market's funding parameters


def _funding_params_from_dict(fields):
    """Unpickle a FundingParams (its constructor is keyword-only)."""
    return FundingParams(**fields)


@cython.final
cdef class FundingParams:
    """A market's funding parameters, validated once; immutable, hashable and pickleable.

    impact_notional_qq (> 0) is swept through each book side for the impact prices;
    sample_clamp_ppm (1 .. 1e6) bounds each block's premium sample; blocks_per_minute (>= 1) and
    minutes_per_period (>= 1) are the counts the medians and the average pad to with zeros;
    rate_scale_ppm (1 .. 1e6, default 125_000) is the share of the average premium charged per
    period; base_imf_ppm and mmf_ppm (0 < mmf <= imf <= 1e6, as in RiskTier) set the rate cap.
    """

    def __cinit__(self, *, impact_notional_qq, sample_clamp_ppm, blocks_per_minute,
                  minutes_per_period, rate_scale_ppm=125_000, base_imf_ppm, mmf_ppm):
        self.impact_notional_qq = _at_least(impact_notional_qq, "impact_notional_qq", 1)
        self.sample_clamp_ppm = _ranged(sample_clamp_ppm, "sample_clamp_ppm", 1, 1_000_000,
                                        "ppm of probability")
        self.blocks_per_minute = _at_least(blocks_per_minute, "blocks_per_minute", 1)
        self.minutes_per_period = _at_least(minutes_per_period, "minutes_per_period", 1)
        self.rate_scale_ppm = _ranged(rate_scale_ppm, "rate_scale_ppm", 1, 1_000_000, "ppm")
        self.base_imf_ppm = _ranged(base_imf_ppm, "base_imf_ppm", 1, 1_000_000, "ppm")
        self.mmf_ppm = _ranged(mmf_ppm, "mmf_ppm", 1, self.base_imf_ppm,
                               "ppm, at most base_imf_ppm")

    @staticmethod
    def for_tier(tier, **kw):
        """FundingParams with base_imf_ppm and mmf_ppm taken from a RiskTier, the rest from kw."""
        try:
            base_imf_ppm, mmf_ppm = tier.base_imf_ppm, tier.mmf_ppm
        except AttributeError:
            raise InvalidType(f"tier must be a RiskTier, not {type(tier).__name__}") from None
        return FundingParams(base_imf_ppm=base_imf_ppm, mmf_ppm=mmf_ppm, **kw)

    def cap_idx(self, mark_ppm):
        """funding_cap_idx(mark_ppm, base_imf_ppm, mmf_ppm): the largest |rate| at this mark."""
        return funding_cap_idx_c(_price(mark_ppm, "mark_ppm"), self.base_imf_ppm, self.mmf_ppm)

    def as_dict(self):
        """The seven parameters by name, in constructor order."""
        return {
            "impact_notional_qq": self.impact_notional_qq,
            "sample_clamp_ppm": self.sample_clamp_ppm,
            "blocks_per_minute": self.blocks_per_minute,
            "minutes_per_period": self.minutes_per_period,
            "rate_scale_ppm": self.rate_scale_ppm,
            "base_imf_ppm": self.base_imf_ppm,
            "mmf_ppm": self.mmf_ppm,
        }

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


cdef bint _py_impact(object book, int64_t notional_qq, int64_t* bid_ppm,
                     int64_t* ask_ppm) except -1:
    """Impact bid and ask through a book's Python ``impact_price`` (the reference book, or any
    object with that method); False when a side lacks depth (the ask side is then not read)."""
    try:
        impact_price = book.impact_price
    except AttributeError:
        raise InvalidType(f"book must be an OrderBook or a ReferenceOrderBook (an object with "
                          f"impact_price), not {type(book).__name__}") from None
    price_ppm, enough_depth = impact_price(_BUY, notional_qq)
    if not enough_depth:
        return False
    bid_ppm[0] = _price(price_ppm, "the book's impact bid price_ppm")
    price_ppm, enough_depth = impact_price(_SELL, notional_qq)
    if not enough_depth:
        return False
    ask_ppm[0] = _price(price_ppm, "the book's impact ask price_ppm")
    return True


@cython.final
cdef class FundingSampler:
    """The funding pipeline of one market: block samples -> minute medians -> period rate ->
    cumulative index.

    ``sample(book, index_ppm)`` records one block's premium sample for the open minute:
    clamp(impact_mid - index_ppm, +/- sample_clamp_ppm), where the impact bid and ask are the
    average prices of sweeping impact_notional_qq through the bids and through the asks and
    impact_mid = floor((bid + ask) / 2); a side without enough depth gives 0. The premium is
    absolute (probability points, never divided by the index), and an index inside the spread
    still gives impact_mid - index (dYdX zeroes that case; perpcore does not).
    ``close_minute()`` closes the open minute: the median of its samples padded with zeros up to
    blocks_per_minute. ``close_period(mark_ppm)`` closes the period: the average of its minute
    medians padded with zeros up to minutes_per_period, times rate_scale_ppm, capped at the mark
    (see funding_cap_idx), added to the cumulative index. Positive rates: longs pay.

    The caller decides when blocks, minutes and periods happen (no clock) and must close the
    open minute before closing a period. Not pickleable.
    """

    def __cinit__(self, params, *, cumulative_index=0):
        if not isinstance(params, FundingParams):
            raise InvalidType(f"params must be a FundingParams, not {type(params).__name__}")
        self.index_idx = _as_i64(cumulative_index, "cumulative_index")
        self.params = <FundingParams>params
        self.samples_cap = min(self.params.blocks_per_minute, _FIRST_SAMPLES_CAP)
        self.samples_ppm = <int64_t*>malloc(<size_t>self.samples_cap * sizeof(int64_t))
        if self.samples_ppm == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.samples_ppm)

    # ------------------------------------------------------------------ C-level entry points

    cdef int64_t record_c(self, int64_t sample_ppm) except? -1:
        """Append one (already clamped) sample to the open minute."""
        cdef int64_t new_cap
        cdef int64_t* grown
        if self.n_samples == self.samples_cap:
            new_cap = self.samples_cap * 2
            grown = <int64_t*>realloc(self.samples_ppm, <size_t>new_cap * sizeof(int64_t))
            if grown == NULL:
                raise MemoryError()
            self.samples_ppm = grown
            self.samples_cap = new_cap
        self.samples_ppm[self.n_samples] = sample_ppm
        self.n_samples += 1
        return sample_ppm

    cdef int64_t sample_book_c(self, OrderBook book, int64_t index_ppm) except? -1:
        """One block's sample from a native book, read at C level; index_ppm in [0, 1e6]."""
        cdef int64_t bid_ppm = 0, ask_ppm = 0
        cdef int64_t notional_qq = self.params.impact_notional_qq
        cdef bint enough_depth = (book.impact_c(_BUY_C, notional_qq, &bid_ppm)
                                  and book.impact_c(_SELL_C, notional_qq, &ask_ppm))
        return self.record_c(premium_sample_ppm_c(enough_depth, bid_ppm, ask_ppm, index_ppm,
                                                  self.params.sample_clamp_ppm))

    cdef int64_t close_minute_c(self) except? -1:
        cdef int64_t median_ppm = median_padded_c(self.samples_ppm, self.n_samples,
                                                  self.params.blocks_per_minute)
        cdef int64_t new_sum = 0
        checked(pc_add(self.minute_sum_ppm, median_ppm, &new_sum), 0)  # or OverflowError
        self.minute_sum_ppm = new_sum
        self.n_minutes += 1
        self.n_samples = 0
        return median_ppm

    cdef int close_period_c(self, int64_t mark_ppm, PeriodRec* out) except -1:
        """Close the period at mark_ppm (in [0, 1e6]) into *out; the open minute must be empty.
        On OverflowError (the cumulative index would leave int64) nothing changes."""
        cdef int64_t avg_ppm, rate_idx, new_index = 0
        cdef bint capped = False
        if self.n_samples != 0:
            raise InvalidInput(f"close_minute() first: the open minute holds {self.n_samples} "
                               f"samples")
        avg_ppm = average_of_sum_c(pc_wide(self.minute_sum_ppm), self.n_minutes,
                                   self.params.minutes_per_period)
        rate_idx = capped_rate_idx_c(avg_ppm, self.params.rate_scale_ppm,
                                     funding_cap_idx_c(mark_ppm, self.params.base_imf_ppm,
                                                       self.params.mmf_ppm), &capped)
        checked(pc_add(self.index_idx, rate_idx, &new_index), 0)  # or OverflowError
        out.avg_premium_ppm = avg_ppm
        out.rate_idx = rate_idx
        out.capped = capped
        out.index_delta_idx = rate_idx
        out.cumulative_index_idx = new_index
        out.n_minutes = self.n_minutes
        self.index_idx = new_index
        self.minute_sum_ppm = 0
        self.n_minutes = 0
        return 0

    # ------------------------------------------------------------------ Python API

    def sample(self, book, index_ppm):
        """Record one block's premium sample (ppm) for the open minute and return it.

        ``book`` is a ``perpcore.OrderBook`` (read at C level) or a ``ReferenceOrderBook`` (read
        through its ``impact_price``); ``index_ppm`` is the funding index price, 0 .. 1_000_000.
        """
        cdef int64_t index = _price(index_ppm, "index_ppm")
        cdef int64_t bid_ppm = 0, ask_ppm = 0
        cdef bint enough_depth
        if type(book) is OrderBook:
            return self.sample_book_c(<OrderBook>book, index)
        enough_depth = _py_impact(book, self.params.impact_notional_qq, &bid_ppm, &ask_ppm)
        return self.record_c(premium_sample_ppm_c(enough_depth, bid_ppm, ask_ppm, index,
                                                  self.params.sample_clamp_ppm))

    def close_minute(self):
        """Close the open minute and return its median (ppm): its samples padded with zeros up to
        blocks_per_minute (a minute without samples gives 0). The next sample opens a new one."""
        return self.close_minute_c()

    def close_period(self, mark_ppm):
        """Close the period at ``mark_ppm`` (the mark at period end) and return its FundingPeriod.

        Raises InvalidInput while the open minute holds samples (close it first); a period with
        fewer minutes than minutes_per_period is padded with zero minutes. Raises OverflowError,
        changing nothing, when the cumulative index would leave int64.
        """
        cdef PeriodRec rec
        self.close_period_c(_price(mark_ppm, "mark_ppm"), &rec)
        return FundingPeriod(rec.avg_premium_ppm, rec.rate_idx, bool(rec.capped),
                             rec.index_delta_idx, rec.cumulative_index_idx, rec.n_minutes)

    @property
    def cumulative_index(self):
        """The market's cumulative funding index, in idx (1e-6 qq per contract)."""
        return self.index_idx

    @property
    def samples_in_minute(self):
        """Samples recorded in the open minute."""
        return self.n_samples

    @property
    def minutes_in_period(self):
        """Minutes closed in the open period."""
        return self.n_minutes

    def check_integrity(self):
        """Raise IntegrityError unless the sampler's state is consistent: the sample buffer holds
        its count, every sample and minute median lies within the clamp."""
        cdef int64_t i, clamp_ppm = self.params.sample_clamp_ppm
        if not 0 <= self.n_samples <= self.samples_cap or self.samples_ppm == NULL:
            raise IntegrityError(f"{self.n_samples} samples in a buffer of {self.samples_cap}")
        for i in range(self.n_samples):
            if not -clamp_ppm <= self.samples_ppm[i] <= clamp_ppm:
                raise IntegrityError(f"sample {i} = {self.samples_ppm[i]} is outside the clamp")
        bound = <object>clamp_ppm * self.n_minutes  # a Python int: no wraparound
        if self.n_minutes < 0 or not -bound <= self.minute_sum_ppm <= bound:
            raise IntegrityError(f"{self.n_minutes} minute medians sum to {self.minute_sum_ppm}, "
                                 f"outside the clamp")
