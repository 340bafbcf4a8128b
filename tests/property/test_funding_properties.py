"""Properties of funding (hypothesis), on the native sampler and on its pure-Python reference.

The cap: for any block samples (premiums anywhere in [-1e6, 1e6], fed through a book whose impact
prices are scripted, grouped into minutes at random), any risk factors and any mark, the period's
rate stays within +/- funding_cap_idx at that mark, and a long and a short of any size opened at
exactly their initial requirement at that mark (``perpcore.initial_requirement_qq``), after paying
that one period's ``funding_payment_qq``, keep equity strictly above
``perpcore.maintenance_requirement_qq`` whenever they started above it (and a payer always did).

Zero sum: for random sets of positions whose sizes sum to 0 and any index move, the payments sum
to at least 0 (no money is created) and at most the number of positions minus one (each rounds by
less than one quantum): the dust goes to the insurance fund.
"""

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import perpcore
from perpcore import _funding as native
from perpcore.reference import funding as reference

ONE = 1_000_000
IMPLEMENTATIONS = {
    "native": (native, native.FundingSampler),
    "reference": (reference, reference.ReferenceFundingSampler),
}

# (funding module, sampler class) under test; a parameter, not a fixture, so hypothesis may reuse it
each_implementation = pytest.mark.parametrize("impl", list(IMPLEMENTATIONS.values()),
                                              ids=list(IMPLEMENTATIONS))


class ScriptedBook:
    """A book whose impact bid and ask are both `price_ppm` (read through impact_price)."""

    def __init__(self):
        self.price_ppm = 0

    def impact_price(self, side, notional_qq):
        return self.price_ppm, True


@st.composite
def risk_factors(draw):
    """(imf, mmf), 0 < mmf <= imf <= 1e6: tiny, typical and extreme factors and gaps."""
    mmf = draw(st.one_of(st.integers(1, ONE), st.integers(1, 1_000),
                         st.sampled_from([1, 30_000, 50_000, 250_000])))
    gap = draw(st.one_of(st.integers(0, ONE), st.integers(0, 3_000),
                         st.sampled_from([0, 1, 50_000, 100_000, 450_000])))
    return min(ONE, mmf + gap), mmf


premiums = st.one_of(st.integers(-ONE, ONE), st.sampled_from([-ONE, ONE, 0]),
                     st.integers(-1_000, 1_000))
# a minute: anything, or every block at one premium (so that the median, and the rate, are large)
minute_scripts = st.one_of(st.lists(premiums, max_size=8),
                           st.tuples(premiums, st.integers(1, 8)).map(lambda t: [t[0]] * t[1]))
minutes = st.lists(minute_scripts, max_size=4)
marks = st.one_of(st.integers(0, ONE), st.integers(50_000, 950_000),
                  st.sampled_from([0, 1, 20, 40, 100_190, 123_441, 499_999, 500_000, ONE - 1, ONE]))
sizes = st.one_of(st.just(1), st.sampled_from([1, 2, 3]), st.integers(1, 1_000),
                  st.integers(1, 10**9))


@each_implementation
@settings(max_examples=400)
@given(minutes, risk_factors(), marks, sizes, st.integers(1, 4), st.integers(1, 4),
       st.sampled_from([1, 125_000, ONE, ONE]), st.sampled_from([1, 5_000, ONE, ONE]))
def test_one_period_never_takes_a_position_at_initial_margin_to_maintenance(
        impl, script, factors, mark, size, blocks, n_minutes, scale, clamp):
    module, sampler_cls = impl
    imf, mmf = factors
    params = module.FundingParams(impact_notional_qq=ONE, sample_clamp_ppm=clamp,
                                  blocks_per_minute=blocks, minutes_per_period=n_minutes,
                                  rate_scale_ppm=scale, base_imf_ppm=imf, mmf_ppm=mmf)
    sampler = sampler_cls(params)
    book = ScriptedBook()
    for minute in script:
        for premium in minute:
            book.price_ppm = max(premium, 0)
            sampler.sample(book, max(-premium, 0))  # impact mid - index == premium
        sampler.close_minute()
    period = sampler.close_period(mark)
    cap = module.funding_cap_idx(mark, imf, mmf)

    assert abs(period.avg_premium_ppm) <= clamp
    assert abs(period.rate_idx) <= cap
    assert period.capped == (abs(period.avg_premium_ppm * scale) > cap)

    for signed in (size, -size):
        initial_qq = perpcore.initial_requirement_qq(signed, mark, imf)
        maintenance_qq = perpcore.maintenance_requirement_qq(signed, mark, mmf)
        paid_qq = module.funding_payment_qq(signed, sampler.cumulative_index, 0)
        equity_qq = perpcore.equity_qq(initial_qq, signed, signed * mark, mark, -paid_qq)
        if paid_qq > 0:
            event("the position pays at the cap" if period.capped else "the position pays")
            assert initial_qq > maintenance_qq
        if initial_qq > maintenance_qq:
            assert equity_qq > maintenance_qq, (signed, mark, imf, mmf, period)


@st.composite
def zero_sum_positions(draw):
    sizes = draw(st.lists(st.one_of(st.integers(-1_000, 1_000), st.integers(-(10**9), 10**9)),
                          min_size=1, max_size=12))
    return sizes + [-sum(sizes)]


index_values = st.one_of(st.integers(-(10**12), 10**12), st.integers(-1_000, 1_000))


@each_implementation
@settings(max_examples=400)
@given(zero_sum_positions(), index_values, index_values)
def test_funding_is_zero_sum_up_to_dust(impl, sizes, now_idx, then_idx):
    module, _ = impl
    payments = [module.funding_payment_qq(s, now_idx, then_idx) for s in sizes]

    assert 0 <= sum(payments) <= len(sizes) - 1
    for s, paid in zip(sizes, payments):
        exact = s * (now_idx - then_idx)  # in idx: the payment is exact up to one quantum
        assert exact <= paid * ONE < exact + ONE
