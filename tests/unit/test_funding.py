"""Funding sampler scenarios, each run on the native sampler and on its pure-Python reference and
on both order books (the native sampler reads the native book at C level and the reference book
through ``impact_price``; the reference sampler reads both through ``impact_price``).

Covers the block sample (empty side, thin side, the clamp, an index inside the spread), the minute
median and the period average with their zero padding (a minute without samples, one lucky block),
the cap at the mark on both sides and with imf == mmf, the cumulative index and its overflow,
payment rounding for payer and receiver, the validation of FundingParams and the typed errors for
bad arguments. Numbers are small and worked out by hand in the comments. Every sampler step is
followed by ``check_integrity()``.
"""

import pickle
import types
from decimal import Decimal

import numpy as np
import pytest

import perpcore
from perpcore import InvalidInput, InvalidType, Side, _funding
from perpcore.reference import funding as reference_funding

ONE = 1_000_000
USDC = 1_000_000  # qq
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
PUBLIC = ("FundingParams", "median_padded", "average_padded", "funding_cap_idx",
          "funding_payment_qq")
IMPLEMENTATIONS = {
    "native": types.SimpleNamespace(Sampler=_funding.FundingSampler,
                                    **{n: getattr(_funding, n) for n in PUBLIC}),
    "reference": types.SimpleNamespace(Sampler=reference_funding.ReferenceFundingSampler,
                                       **{n: getattr(reference_funding, n) for n in PUBLIC}),
}
# a 10 USDC impact notional, a 5 % sample clamp, 4 blocks a minute, 3 minutes a period, the
# whole average premium charged (rate scale 100 %), a 10 % / 5 % tier
BASE = dict(impact_notional_qq=10 * USDC, sample_clamp_ppm=50_000, blocks_per_minute=4,
            minutes_per_period=3, rate_scale_ppm=ONE, base_imf_ppm=100_000, mmf_ppm=50_000)


@pytest.fixture(params=list(IMPLEMENTATIONS))
def m(request):
    """The funding implementation under test: perpcore._funding or perpcore.reference.funding."""
    return IMPLEMENTATIONS[request.param]


def make(m, **overrides):
    """A sampler of implementation m with BASE parameters changed by overrides."""
    return m.Sampler(m.FundingParams(**{**BASE, **overrides}))


def make_book(book_cls, bids=(), asks=()):
    """A book holding the given (price_ppm, size) levels, each one order."""
    book = book_cls()
    for i, (price, size) in enumerate(bids):
        assert book.place(1 + i, 1, Side.BUY, price, size).ok
    for i, (price, size) in enumerate(asks):
        assert book.place(1001 + i, 2, Side.SELL, price, size).ok
    return book


def sample(sampler, book, index_ppm):
    out = sampler.sample(book, index_ppm)
    sampler.check_integrity()
    return out


def close_minute(sampler):
    out = sampler.close_minute()
    sampler.check_integrity()
    return out


def close_period(sampler, mark_ppm):
    out = sampler.close_period(mark_ppm)
    sampler.check_integrity()
    return out


# 100 contracts each side of 0.49 / 0.51: 49 and 51 USDC of depth, far more than 10 USDC
TIGHT = dict(bids=[(490_000, 100)], asks=[(510_000, 100)])


def test_the_package_exports_the_native_funding_sampler():
    for name in reference_funding.__all__:
        native_name = "FundingSampler" if name == "ReferenceFundingSampler" else name
        assert getattr(perpcore, native_name) is getattr(_funding, native_name)
        assert native_name in perpcore.__all__
    assert perpcore.FundingPeriod is reference_funding.FundingPeriod


# --------------------------------------------------------------------------- the block sample

def test_the_sample_is_the_impact_mid_minus_the_index(m, book_cls):
    s = make(m)
    book = make_book(book_cls, **TIGHT)
    # mid 500_000: book above an index of 480_000 gives +20_000, below 530_000 gives -30_000
    assert sample(s, book, 480_000) == 20_000
    assert sample(s, book, 530_000) == -30_000
    assert s.samples_in_minute == 2


def test_the_impact_prices_sweep_several_levels_and_the_mid_is_floored(m, book_cls):
    s = make(m)
    book = make_book(book_cls, bids=[(500_000, 10), (400_000, 100)],
                     asks=[(600_000, 10), (700_000, 100)])
    # bid: 5 USDC at 0.50 (10 contracts), 5 USDC at 0.40 (12.5): 10 / 22.5 = 0.4444.. -> 444_444
    # ask: 6 USDC at 0.60 (10 contracts), 4 USDC at 0.70 (5.71..): 10 / 15.71.. -> 636_364 (up)
    assert book.impact_price(Side.BUY, 10 * USDC) == (444_444, True)
    assert book.impact_price(Side.SELL, 10 * USDC) == (636_364, True)
    # mid = floor(1_080_808 / 2) = 540_404
    assert sample(s, book, 500_000) == 40_404
    assert sample(s, book, 540_405) == -1


@pytest.mark.parametrize("levels", [
    dict(),                                  # empty book
    dict(asks=[(510_000, 100)]),             # no bids
    dict(bids=[(490_000, 100)]),             # no asks
], ids=["empty", "no-bids", "no-asks"])
def test_an_empty_book_side_gives_a_zero_sample_that_still_counts(m, book_cls, levels):
    s = make(m)
    assert sample(s, make_book(book_cls, **levels), 100_000) == 0
    assert s.samples_in_minute == 1


def test_a_side_thinner_than_the_impact_notional_gives_zero(m, book_cls):
    s = make(m)
    # 20 bids at 0.49 hold 9.8 USDC < 10 USDC; the asks hold 51 USDC
    thin = make_book(book_cls, bids=[(490_000, 20)], asks=[(510_000, 100)])
    assert sample(s, thin, 100_000) == 0
    # exactly the notional is enough: 20 asks at 0.5 hold 10 USDC
    exact = make_book(book_cls, bids=[(490_000, 100)], asks=[(500_000, 20)])
    assert sample(s, exact, 480_000) == 15_000  # mid floor((490_000 + 500_000) / 2) = 495_000


def test_samples_are_clamped_to_the_market_bound(m, book_cls):
    s = make(m)
    book = make_book(book_cls, **TIGHT)
    assert sample(s, book, 0) == 50_000  # +500_000 clamped
    assert sample(s, book, ONE) == -50_000  # -500_000 clamped
    assert sample(s, book, 450_000) == 50_000  # exactly at the bound
    assert sample(s, book, 550_000) == -50_000
    assert sample(s, book, 449_999) == 50_000  # one past it


def test_an_index_inside_the_spread_still_gives_mid_minus_index(m, book_cls):
    # dYdX would say 0 (the index has not left the spread); perpcore's formula does not
    s = make(m)
    book = make_book(book_cls, **TIGHT)
    assert sample(s, book, 495_000) == 5_000
    assert sample(s, book, 505_000) == -5_000


def test_the_sampler_never_changes_the_book(m, book_cls):
    s = make(m)
    book = make_book(book_cls, bids=[(500_000, 10), (400_000, 100)], asks=[(600_000, 10)])
    before = book.snapshot()
    for index in (0, 300_000, ONE):
        sample(s, book, index)
    assert book.snapshot() == before


def test_the_python_path_refuses_a_book_reporting_an_impossible_price(m):
    class Broken:
        def impact_price(self, side, notional_qq):
            return 2 * ONE, True

    with pytest.raises(InvalidInput, match="impact bid"):
        make(m).sample(Broken(), 500_000)


# ------------------------------------------------------------------------- the minute median

def feed(s, book_cls, premiums):
    """One sample per premium in the open minute (a book whose mid is 500_000, index moved)."""
    book = make_book(book_cls, **TIGHT)
    for premium in premiums:
        assert sample(s, book, 500_000 - premium) == premium


def test_a_minute_without_samples_has_median_zero(m):
    s = make(m)
    assert close_minute(s) == 0
    assert s.minutes_in_period == 1 and s.samples_in_minute == 0


def test_missing_blocks_count_as_zero_in_the_minute_median(m, book_cls):
    s = make(m)  # 4 blocks a minute
    feed(s, book_cls, [9_000, 7_000])
    assert close_minute(s) == 3_500  # [0, 0, 7_000, 9_000]: (0 + 7_000) / 2
    feed(s, book_cls, [9_000])
    assert close_minute(s) == 0  # [0, 0, 0, 9_000]
    feed(s, book_cls, [9_000, 7_000, 5_000])
    assert close_minute(s) == 6_000  # [0, 5_000, 7_000, 9_000]


def test_a_minority_of_positive_blocks_cannot_set_the_median(m, book_cls):
    s = make(m, blocks_per_minute=15)
    feed(s, book_cls, [40_000] * 7)
    assert close_minute(s) == 0  # 7 of 15
    feed(s, book_cls, [40_000] * 8)
    assert close_minute(s) == 40_000  # 8 of 15


def test_an_even_median_rounds_away_from_zero(m, book_cls):
    s = make(m)
    feed(s, book_cls, [1, 2, 4, 7])
    assert close_minute(s) == 3  # (2 + 4) / 2
    feed(s, book_cls, [1, 2, 3, 7])
    assert close_minute(s) == 3  # 2.5 -> 3
    feed(s, book_cls, [-1, -2, -3, -7])
    assert close_minute(s) == -3  # -2.5 -> -3


def test_extra_blocks_are_not_padded(m, book_cls):
    s = make(m)
    feed(s, book_cls, [-5, 1, 2, 3, 4])  # five samples in a 4-block minute: median of five
    assert close_minute(s) == 2


# ------------------------------------------------------------------------- the period rate

def test_the_period_averages_the_padded_minute_medians_truncated_toward_zero(m, book_cls):
    s = make(m, blocks_per_minute=1)  # one block a minute: each sample is its minute's median
    feed(s, book_cls, [10_000])
    close_minute(s)
    feed(s, book_cls, [1])
    close_minute(s)
    period = close_period(s, 500_000)  # (10_000 + 1 + 0) / 3 = 3_333.67 -> 3_333
    assert period == (3_333, 3_333 * ONE, False, 3_333 * ONE, 3_333 * ONE, 2)
    assert type(period) is perpcore.FundingPeriod
    assert type(period.capped) is bool
    feed(s, book_cls, [-10_000])
    close_minute(s)
    feed(s, book_cls, [-1])
    close_minute(s)
    assert close_period(s, 500_000).avg_premium_ppm == -3_333  # toward zero, not -3_334
    assert s.cumulative_index == 0
    assert s.minutes_in_period == 0


def test_one_lucky_block_cannot_set_the_rate(m, book_cls):
    s = make(m, blocks_per_minute=60, minutes_per_period=60)
    feed(s, book_cls, [50_000])  # one block at the clamp, the other 59 missing
    assert close_minute(s) == 0
    assert close_period(s, 500_000).rate_idx == 0


def test_one_lucky_minute_moves_the_rate_by_its_padded_share_only(m, book_cls):
    s = make(m, blocks_per_minute=1, minutes_per_period=60, rate_scale_ppm=125_000)
    feed(s, book_cls, [50_000])  # one block, its own minute's median, in a 60-minute period
    assert close_minute(s) == 50_000
    period = close_period(s, 500_000)
    assert period.avg_premium_ppm == 833  # 50_000 / 60 = 833.3
    assert period.rate_idx == 833 * 125_000  # 104_125_000 idx: 104.125 qq per contract


def test_a_period_needs_its_open_minute_closed(m, book_cls):
    s = make(m)
    feed(s, book_cls, [1_000])
    with pytest.raises(InvalidInput, match="close_minute"):
        s.close_period(500_000)
    assert s.samples_in_minute == 1 and s.cumulative_index == 0
    close_minute(s)
    assert close_period(s, 500_000).n_minutes == 1


def test_longs_pay_when_the_book_trades_above_the_index(m, book_cls):
    s = make(m, blocks_per_minute=1, minutes_per_period=1)
    feed(s, book_cls, [2_000])
    close_minute(s)
    period = close_period(s, 500_000)
    assert period.rate_idx == period.index_delta_idx == 2_000 * ONE > 0
    long_owes = m.funding_payment_qq(10, s.cumulative_index, 0)
    short_owes = m.funding_payment_qq(-10, s.cumulative_index, 0)
    assert (long_owes, short_owes) == (20_000, -20_000)  # 2_000 qq per contract each way


def test_the_cumulative_index_adds_each_period(m, book_cls):
    s = m.Sampler(m.FundingParams(**{**BASE, "blocks_per_minute": 1, "minutes_per_period": 1}),
                  cumulative_index=-7)
    for premium, expected in [(3, 3 * ONE - 7), (-5, -2 * ONE - 7), (0, -2 * ONE - 7)]:
        feed(s, book_cls, [premium])
        close_minute(s)
        period = close_period(s, 500_000)
        assert period.cumulative_index_idx == s.cumulative_index == expected


def test_the_cumulative_index_is_checked_int64(m, book_cls):
    s = m.Sampler(m.FundingParams(**{**BASE, "blocks_per_minute": 1, "minutes_per_period": 1}),
                  cumulative_index=I64_MAX - ONE)
    feed(s, book_cls, [2])
    close_minute(s)
    with pytest.raises(OverflowError):
        s.close_period(500_000)
    assert (s.cumulative_index, s.minutes_in_period) == (I64_MAX - ONE, 1)  # nothing changed
    s.check_integrity()
    # the same minute at a mark whose cap is one quantum per contract still fits
    # (min(p, 1e6 - p) * 50_000 / 1e6 = 2 whole qq -> cap 1 qq = 1e6 idx)
    assert close_period(s, 40).cumulative_index_idx == I64_MAX


# ------------------------------------------------------------------------------------ the cap

def test_the_rate_is_capped_at_the_mark_on_both_sides(m, book_cls):
    # p = 0.1: buffer floor(100_000 * 50_000 / 1e6) = 5_000 qq per contract, cap 4_999 qq
    assert m.funding_cap_idx(100_000, 100_000, 50_000) == 4_999 * ONE
    assert m.funding_cap_idx(900_000, 100_000, 50_000) == 4_999 * ONE  # YES/NO symmetric
    assert m.funding_cap_idx(500_000, 100_000, 50_000) == 24_999 * ONE
    for premium in (50_000, -50_000):
        for mark in (100_000, 900_000):
            s = make(m, blocks_per_minute=1, minutes_per_period=1)
            feed(s, book_cls, [premium])
            close_minute(s)
            period = close_period(s, mark)
            assert period.capped
            assert period.rate_idx == (4_999 * ONE if premium > 0 else -4_999 * ONE)
    s = make(m, blocks_per_minute=1, minutes_per_period=1)
    feed(s, book_cls, [4_999])
    close_minute(s)
    assert close_period(s, 100_000)[1:3] == (4_999 * ONE, False)  # exactly at the cap


def test_the_cap_is_zero_when_imf_equals_mmf(m, book_cls):
    assert m.funding_cap_idx(500_000, 80_000, 80_000) == 0
    s = make(m, blocks_per_minute=1, minutes_per_period=1, base_imf_ppm=80_000, mmf_ppm=80_000)
    feed(s, book_cls, [50_000])
    close_minute(s)
    period = close_period(s, 500_000)
    assert (period.avg_premium_ppm, period.rate_idx, period.capped) == (50_000, 0, True)
    assert s.cumulative_index == 0


def test_the_cap_is_zero_near_the_edges_of_the_probability_range(m):
    # p = 20 ppm: floor(20 * 50_000 / 1e6) = 1 whole qq of buffer; less one quantum: 0
    assert m.funding_cap_idx(20, 100_000, 50_000) == 0
    assert m.funding_cap_idx(40, 100_000, 50_000) == ONE
    assert m.funding_cap_idx(0, ONE, 1) == m.funding_cap_idx(ONE, ONE, 1) == 0


@pytest.mark.parametrize("size", [1, 2, 3, 1_000, 123_457])
@pytest.mark.parametrize("mark", [123_441, 100_190, 500_000, 876_559, 999_000])
def test_a_position_at_initial_margin_survives_one_capped_period(m, size, mark):
    cap = m.funding_cap_idx(mark, 100_000, 50_000)
    for signed, rate in ((size, cap), (-size, -cap)):  # the payer of each sign
        paid = m.funding_payment_qq(signed, rate, 0)
        equity = perpcore.initial_requirement_qq(signed, mark, 100_000) - paid
        assert paid > 0
        assert equity > perpcore.maintenance_requirement_qq(signed, mark, 50_000)


def test_the_cap_keeps_whole_quanta_so_one_contract_is_not_left_at_maintenance(m):
    # p = 0.123441, one long: initial ceil(12_344.1) = 12_345, maintenance ceil(6_172.05) = 6_173,
    # a buffer of 6_172 = floor(6_172.05). A cap of 6_172.05 - 1 = 6_171.05 qq per contract would
    # charge ceil(6_171.05) = 6_172 and leave equity == maintenance (liquidatable); the cap in
    # whole quanta charges 6_171 and leaves one quantum.
    cap = m.funding_cap_idx(123_441, 100_000, 50_000)
    assert cap == 6_171 * ONE
    assert m.funding_payment_qq(1, 6_172_050_000 - ONE, 0) == 6_172
    assert 12_345 - m.funding_payment_qq(1, cap, 0) == 6_174 > 6_173


# -------------------------------------------------------------------------------- payments

@pytest.mark.parametrize(("size", "now", "then", "owed"), [
    (3, 333_333, 0, 1),            # a long pays 0.999999 qq: rounded up to 1
    (-3, 333_333, 0, 0),           # the short receives 0.999999 qq: rounded down to 0
    (1, 1, 0, 1),                  # the smallest index move costs the payer a whole quantum
    (-1, 1, 0, 0),
    (2, -1_500_000, 0, -3),        # exact: the long receives 3
    (1, -1_500_001, 0, -1),        # receives 1.500001: rounded down to 1
    (-5, 0, ONE, 5),               # the index fell by 1 qq: each short pays 1
    (5, 0, ONE, -5),
    (0, 10**12, -(10**12), 0),
    (7, 42, 42, 0),
    (1, I64_MAX, I64_MIN, 18_446_744_073_710),  # the move does not fit int64: still exact
])
def test_the_payer_rounds_up_and_the_receiver_down(m, size, now, then, owed):
    assert m.funding_payment_qq(size, now, then) == owed


def test_a_payment_outside_int64_overflows(m):
    with pytest.raises(OverflowError):
        m.funding_payment_qq(2**62, I64_MAX, I64_MIN)
    with pytest.raises(OverflowError):
        m.funding_payment_qq(I64_MIN, I64_MAX, I64_MIN)


def test_payments_of_a_zero_sum_set_leave_the_dust_to_the_system(m):
    sizes = [3, -1, -1, -1, 7, -7]
    payments = [m.funding_payment_qq(s, 333_333, 0) for s in sizes]
    assert payments == [1, 0, 0, 0, 3, -2]  # 7 * 0.333333 = 2.333331: pays 3, receives 2
    assert 0 <= sum(payments) <= len(sizes)


# ----------------------------------------------------------------------- the pure functions

@pytest.mark.parametrize(("samples", "n_expected", "median"), [
    ([], 0, 0),
    ([], 5, 0),
    ([7], 0, 7),
    ([5, -3, 7], 4, 3),            # [-3, 0, 5, 7]: 2.5 -> 3
    ([-5, 3, -7], 4, -3),          # [-7, -5, 0, 3]: -2.5 -> -3
    ([-3, -2], 0, -3),
    ([2, 3], 2, 3),
    ([9, 9, 9], 7, 0),
    ([9, 9, 9, 9], 7, 9),
    ([9, 9, 9], 6, 5),             # [0, 0, 0, 9, 9, 9]: 4.5 -> 5
    ([1, 2, 3, 4, 5], 3, 3),       # more samples than expected: no padding
    ([I64_MAX, I64_MAX], 0, I64_MAX),
    ([I64_MIN, I64_MIN], 0, I64_MIN),
    ([I64_MIN, I64_MAX], 0, -1),   # -0.5 -> -1: the pair's sum does not fit int64
    ([I64_MAX], 2**62, 0),         # a huge padding is counted, not built
])
def test_median_padded(m, samples, n_expected, median):
    assert m.median_padded(samples, n_expected) == median
    assert m.median_padded(tuple(samples), np.int64(n_expected)) == median
    assert m.median_padded(np.array(samples, dtype=np.int64), n_expected) == median


@pytest.mark.parametrize(("values", "n_expected", "average"), [
    ([], 0, 0),
    ([], 3, 0),
    ([10, 1], 3, 3),               # 11 / 3
    ([-10, -1], 3, -3),            # toward zero
    ([-5], 2, -2),
    ([5, 5, 5, 5], 2, 5),          # more values than expected: no padding
    ([I64_MAX, I64_MAX], 0, I64_MAX),
    ([I64_MIN, I64_MIN, I64_MIN], 3, I64_MIN),
    ([I64_MAX], I64_MAX, 1),
])
def test_average_padded(m, values, n_expected, average):
    assert m.average_padded(values, n_expected) == average


# ------------------------------------------------------------------------------- parameters

def test_funding_params_are_an_immutable_value(m):
    params = m.FundingParams(**{**BASE, "sample_clamp_ppm": np.int64(7)})
    assert type(params.sample_clamp_ppm) is int
    assert params.as_dict() == {**BASE, "sample_clamp_ppm": 7}
    assert params == m.FundingParams(**params.as_dict())
    assert params != m.FundingParams(**BASE)
    assert params != BASE
    assert len({params, m.FundingParams(**params.as_dict())}) == 1
    assert pickle.loads(pickle.dumps(params)) == params
    assert repr(params) == ("FundingParams(impact_notional_qq=10000000, sample_clamp_ppm=7, "
                            "blocks_per_minute=4, minutes_per_period=3, rate_scale_ppm=1000000, "
                            "base_imf_ppm=100000, mmf_ppm=50000)")
    with pytest.raises(AttributeError):
        params.mmf_ppm = 1
    with pytest.raises(TypeError):
        m.FundingParams(*BASE.values())  # keyword-only
    with pytest.raises(TypeError):
        m.FundingParams(impact_notional_qq=1)  # the rest are required
    assert params.cap_idx(100_000) == m.funding_cap_idx(100_000, 100_000, 50_000)


def test_the_rate_scale_defaults_to_one_eighth(m):
    fields = {k: v for k, v in BASE.items() if k != "rate_scale_ppm"}
    assert m.FundingParams(**fields).rate_scale_ppm == 125_000


def test_params_take_the_factors_of_a_risk_tier(m):
    tier = perpcore.RiskTier(base_imf_ppm=200_000, mmf_ppm=120_000)
    fields = {k: v for k, v in BASE.items() if k not in ("base_imf_ppm", "mmf_ppm")}
    params = m.FundingParams.for_tier(tier, **fields)
    assert (params.base_imf_ppm, params.mmf_ppm) == (200_000, 120_000)
    assert params == m.FundingParams(**{**BASE, "base_imf_ppm": 200_000, "mmf_ppm": 120_000})
    with pytest.raises(InvalidType, match="tier"):
        m.FundingParams.for_tier(object(), **fields)
    with pytest.raises(TypeError):
        m.FundingParams.for_tier(tier, **BASE)  # the factors come from the tier only


@pytest.mark.parametrize(("field", "value"), [
    ("impact_notional_qq", 0), ("impact_notional_qq", -1),
    ("sample_clamp_ppm", 0), ("sample_clamp_ppm", ONE + 1),
    ("blocks_per_minute", 0), ("minutes_per_period", 0),
    ("rate_scale_ppm", 0), ("rate_scale_ppm", ONE + 1),
    ("base_imf_ppm", 0), ("base_imf_ppm", ONE + 1),
    ("mmf_ppm", 0), ("mmf_ppm", 100_001),  # above base_imf_ppm
    ("impact_notional_qq", 2**63),
])
def test_nonsensical_params_are_refused_naming_the_field(m, field, value):
    with pytest.raises(InvalidInput, match=field):
        m.FundingParams(**{**BASE, field: value})


@pytest.mark.parametrize("field", list(BASE))
@pytest.mark.parametrize("value", [1.0, True, "1", None, Decimal(1)])
def test_a_param_of_the_wrong_type_is_refused_naming_the_field(m, field, value):
    with pytest.raises(InvalidType, match=field):
        m.FundingParams(**{**BASE, field: value})


def test_the_extremes_of_every_param_are_accepted(m, book_cls):
    s = make(m, impact_notional_qq=I64_MAX, sample_clamp_ppm=ONE, blocks_per_minute=I64_MAX,
             minutes_per_period=I64_MAX, rate_scale_ppm=ONE, base_imf_ppm=ONE, mmf_ppm=1)
    assert sample(s, make_book(book_cls, **TIGHT), 0) == 0  # no book holds 2**63 qq
    assert close_minute(s) == 0
    assert close_period(s, 500_000).rate_idx == 0


# ------------------------------------------------------------------------------- bad input

def test_bad_arguments_of_the_sampler_are_typed_errors(m, book_cls):
    s = make(m)
    book = make_book(book_cls, **TIGHT)
    for bad_book in (None, 5, "book", object()):
        with pytest.raises(InvalidType, match="book"):
            s.sample(bad_book, 500_000)
    for bad in (500_000.0, True, "5", None, Decimal(5)):
        with pytest.raises(InvalidType, match="index_ppm"):
            s.sample(book, bad)
        with pytest.raises(InvalidType, match="mark_ppm"):
            s.close_period(bad)
    for bad in (-1, ONE + 1, 2**63):
        with pytest.raises(InvalidInput, match="index_ppm"):
            s.sample(book, bad)
        with pytest.raises(InvalidInput, match="mark_ppm"):
            s.close_period(bad)
    assert (s.samples_in_minute, s.minutes_in_period, s.cumulative_index) == (0, 0, 0)
    assert s.sample(book, np.int64(500_000)) == 0
    s.check_integrity()


def test_bad_arguments_of_the_constructor_are_typed_errors(m):
    params = m.FundingParams(**BASE)
    for bad in (None, BASE, 5):
        with pytest.raises(InvalidType, match="params"):
            m.Sampler(bad)
    with pytest.raises(InvalidType, match="cumulative_index"):
        m.Sampler(params, cumulative_index=1.0)
    with pytest.raises(InvalidInput, match="cumulative_index"):
        m.Sampler(params, cumulative_index=2**63)
    with pytest.raises(TypeError):
        m.Sampler(params, 0)  # the starting index is keyword-only
    assert m.Sampler(params, cumulative_index=I64_MIN).cumulative_index == I64_MIN


@pytest.mark.parametrize(("name", "args", "error"), [
    ("median_padded", (5, 1), InvalidType),
    ("median_padded", ([1.0], 1), InvalidType),
    ("median_padded", ([1, True], 1), InvalidType),
    ("median_padded", (["1"], 1), InvalidType),
    ("median_padded", ([1], 1.0), InvalidType),
    ("median_padded", ([1], -1), InvalidInput),
    ("median_padded", ([2**63], 1), InvalidInput),
    ("average_padded", (None, 1), InvalidType),
    ("average_padded", ([Decimal(1)], 1), InvalidType),
    ("average_padded", ([1], -1), InvalidInput),
    ("average_padded", ([-(2**63) - 1], 0), InvalidInput),
    ("funding_cap_idx", (500_000.0, 100_000, 50_000), InvalidType),
    ("funding_cap_idx", (-1, 100_000, 50_000), InvalidInput),
    ("funding_cap_idx", (ONE + 1, 100_000, 50_000), InvalidInput),
    ("funding_cap_idx", (500_000, ONE + 1, 50_000), InvalidInput),
    ("funding_cap_idx", (500_000, 100_000, -1), InvalidInput),
    ("funding_cap_idx", (500_000, 50_000, 60_000), InvalidInput),  # mmf above imf
    ("funding_payment_qq", (1.0, 0, 0), InvalidType),
    ("funding_payment_qq", (1, True, 0), InvalidType),
    ("funding_payment_qq", (1, 0, None), InvalidType),
    ("funding_payment_qq", (2**63, 0, 0), InvalidInput),
])
def test_bad_arguments_of_the_functions_are_typed_errors(m, name, args, error):
    with pytest.raises(error):
        getattr(m, name)(*args)
