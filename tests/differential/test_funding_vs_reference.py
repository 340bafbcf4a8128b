"""Differential tests: the native funding sampler against its pure-Python reference.

Hypothesis draws a market (tick, funding parameters, a starting cumulative index anywhere in
int64) and a sequence of steps: orders placed on (and crossing) the book, cancels, block samples
at random indexes (a few invalid), closed minutes and closed periods at random marks (a few
invalid). The same steps drive one native ``OrderBook`` and one ``ReferenceOrderBook`` built from
the same commands, and four samplers: the native sampler on the native book (read at C level) and
on the reference book (through ``impact_price``), and the reference sampler on each book. Every
call must return the same value, or raise the same exception class, on all four, and their
counters must agree after every step. The pure functions are compared on random int64 inputs
(and values of the wrong type): same value or same exception class.
"""

from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from perpcore import OrderBook, Side
from perpcore import _funding as native
from perpcore.reference import ReferenceOrderBook
from perpcore.reference import funding as reference

ONE = 1_000_000
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
EDGES = [0, 1, -1, 2, ONE - 1, ONE, ONE + 1, 500_000, I64_MAX, I64_MIN, I64_MAX - 1, I64_MIN + 1,
         2**62, -(2**62), 2**31, -(2**31)]
BAD_VALUES = [1.0, True, None, "1", Decimal(3), 2**63, -(2**63) - 1, np.int64(7), np.uint64(2**63)]

any_int = st.one_of(st.sampled_from(EDGES), st.integers(-2 * ONE, 2 * ONE),
                    st.integers(I64_MIN, I64_MAX))
arg = st.one_of(any_int, any_int, any_int, any_int, any_int, st.sampled_from(BAD_VALUES))


def typed(value):
    """A value with the exact type of every component, so equality also checks types."""
    if isinstance(value, tuple):
        return type(value).__name__, tuple(typed(v) for v in value)
    return type(value).__name__, value


def outcome(fn, *args, **kwargs):
    """("ok", value with its types) or ("raised", exception class)."""
    try:
        value = fn(*args, **kwargs)
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        return "raised", type(exc)
    return "ok", typed(value)


def same(name, *args):
    results = [outcome(getattr(m, name), *args) for m in (native, reference)]
    assert results[0] == results[1], (name, args)
    return results[0]


# ---------------------------------------------------------------------------------------------
# Pure functions


sample_lists = st.one_of(
    st.lists(st.integers(-ONE, ONE), max_size=40),
    st.lists(st.sampled_from([0, 0, 1, -1, 5, -5]), max_size=40),  # many ties
    st.lists(st.integers(I64_MIN, I64_MAX), max_size=20),
    st.lists(any_int, max_size=20),
    st.lists(arg, max_size=5),
    st.sampled_from([None, 5, "abc", 1.5]),
)
counts = st.one_of(st.integers(0, 60), st.integers(0, 60), arg)


@settings(max_examples=600)
@given(sample_lists, counts)
def test_median_padded(samples, n_expected):
    same("median_padded", samples, n_expected)


@settings(max_examples=600)
@given(sample_lists, counts)
def test_average_padded(values, n_expected):
    same("average_padded", values, n_expected)


prices = st.one_of(st.integers(0, ONE), st.sampled_from([0, 1, 499_999, 500_000, 500_001, ONE]),
                   arg)
factors = st.one_of(st.integers(0, ONE), arg)


@settings(max_examples=600)
@given(prices, factors, factors)
def test_funding_cap_idx(mark, imf, mmf):
    same("funding_cap_idx", mark, imf, mmf)


@settings(max_examples=600)
@given(prices, st.integers(0, ONE), st.integers(0, ONE))
def test_funding_cap_idx_on_valid_factors(mark, a, b):
    same("funding_cap_idx", mark, max(a, b), min(a, b))


@settings(max_examples=600)
@given(st.one_of(st.integers(-(10**9), 10**9), arg), arg, arg)
def test_funding_payment_qq(size, now, then):
    same("funding_payment_qq", size, now, then)


# ---------------------------------------------------------------------------------------------
# The sampler on random books


params_fields = st.fixed_dictionaries({
    "impact_notional_qq": st.sampled_from([1, 1_000, 250_000, 250_000, 10 * ONE, 10 * ONE,
                                           200 * ONE, 10**12, I64_MAX]),
    "sample_clamp_ppm": st.sampled_from([1, 100, 5_000, 50_000, ONE]),
    "blocks_per_minute": st.integers(1, 6),
    "minutes_per_period": st.integers(1, 4),
    "rate_scale_ppm": st.sampled_from([1, 125_000, ONE]),
    "base_imf_ppm": st.sampled_from([50_000, 100_000, ONE]),
    "mmf_ppm": st.sampled_from([1, 30_000, 50_000]),
})
ticks = st.sampled_from([1_000, 10_000, 50_000])
start_indexes = st.one_of(st.just(0), st.integers(-(10**12), 10**12),
                          st.sampled_from([I64_MAX, I64_MIN, I64_MAX - 10**10, I64_MIN + 10**10]))

index_values = st.one_of(st.integers(0, ONE), st.integers(0, ONE), st.integers(0, ONE),
                         st.sampled_from([0, ONE, -1, ONE + 1, 1.0, True, None, np.int64(400_000)]))
steps = st.lists(st.one_of(
    st.tuples(st.just("place"), st.sampled_from([Side.BUY, Side.SELL]), st.integers(-6, 6),
              st.integers(1, 400), st.integers(0, 2)),
    st.tuples(st.just("place"), st.sampled_from([Side.BUY, Side.SELL]), st.integers(-6, 6),
              st.integers(1, 400), st.integers(0, 2)),
    st.tuples(st.just("cancel"), st.integers(0, 10**6)),
    st.tuples(st.just("sample"), index_values),
    st.tuples(st.just("sample"), index_values),
    st.tuples(st.just("sample"), index_values),
    st.tuples(st.just("minute")),
    st.tuples(st.just("minute")),
    st.tuples(st.just("period"), index_values),
), min_size=1, max_size=80)


def make_samplers(fields, start):
    """(name, sampler) x (name, book) pairs: every sampler on every book."""
    p_native = native.FundingParams(**fields)
    p_reference = reference.FundingParams(**fields)
    return p_native, p_reference, [
        native.FundingSampler(p_native, cumulative_index=start),
        native.FundingSampler(p_native, cumulative_index=start),
        reference.ReferenceFundingSampler(p_reference, cumulative_index=start),
        reference.ReferenceFundingSampler(p_reference, cumulative_index=start),
    ]


def counters(sampler):
    return sampler.cumulative_index, sampler.samples_in_minute, sampler.minutes_in_period


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(params_fields, ticks, start_indexes, steps, st.integers(0, ONE),
       st.lists(st.integers(1, 300), min_size=2, max_size=16))
def test_samplers_agree_on_random_books_and_sequences(fields, tick, start, script, mid_ppm, seed):
    if fields["mmf_ppm"] > fields["base_imf_ppm"]:
        fields["mmf_ppm"] = fields["base_imf_ppm"]
    p_native, p_reference, samplers = make_samplers(fields, start)
    assert p_native.as_dict() == p_reference.as_dict()
    books = [OrderBook(tick_ppm=tick), ReferenceOrderBook(tick_ppm=tick)]
    # native sampler on native and reference book, reference sampler on native and reference book
    pairs = [(samplers[0], books[0]), (samplers[1], books[1]), (samplers[2], books[0]),
             (samplers[3], books[1])]
    center = max(tick, min(ONE - tick, mid_ppm // tick * tick))
    live = []
    next_id = 1
    # a resting book to start from: level i of each side i + 1 ticks away from the center
    for i, size in enumerate(seed):
        side, away = (Side.BUY, -(i // 2 + 1)) if i % 2 == 0 else (Side.SELL, i // 2 + 1)
        script = [("place", side, away, size, 0)] + script
    for step in script:
        kind = step[0]
        if kind == "place":
            _, side, offset, size, account = step
            price = min(max(center + offset * tick, tick), ONE - tick)
            results = [b.place(next_id, account, side, price, size) for b in books]
            assert results[0].code == results[1].code
            assert results[0].filled == results[1].filled
            if results[0].resting:
                live.append(next_id)
            next_id += 1
            continue
        if kind == "cancel":
            if live:
                order_id = live.pop(step[1] % len(live))
                assert books[0].cancel(order_id).code == books[1].cancel(order_id).code
            continue
        if kind == "sample":
            outs = [outcome(s.sample, b, step[1]) for s, b in pairs]
        elif kind == "minute":
            outs = [outcome(s.close_minute) for s in samplers]
        else:
            outs = [outcome(s.close_period, step[1]) for s in samplers]
        assert all(o == outs[0] for o in outs), (step, outs)
        if outs[0][0] == "raised":
            event(f"{kind} raised {outs[0][1].__name__}")
        elif kind == "sample" and outs[0][1][1] != 0:
            event("non-zero sample")
        elif kind == "period":
            event("capped period" if outs[0][1][1][2][1] else "uncapped period")
        views = [counters(s) for s in samplers]
        assert all(v == views[0] for v in views), (step, views)
        for s in samplers:
            s.check_integrity()
    assert books[0].snapshot() == books[1].snapshot()


@settings(max_examples=100)
@given(params_fields, st.lists(st.integers(-ONE, ONE), min_size=1, max_size=30),
       st.integers(0, ONE), st.integers(0, 5))
def test_samplers_agree_on_scripted_premiums(fields, premiums, mark, minute_every):
    """Premiums anywhere in [-1e6, 1e6] (so the clamp and the cap bind) through a book whose
    impact prices are fixed: both samplers read it through impact_price."""
    if fields["mmf_ppm"] > fields["base_imf_ppm"]:
        fields["mmf_ppm"] = fields["base_imf_ppm"]
    _, _, samplers = make_samplers(fields, 0)
    samplers = samplers[::2]  # one native, one reference

    class FixedBook:
        def __init__(self, price_ppm):
            self.price_ppm = price_ppm

        def impact_price(self, side, notional_qq):
            return self.price_ppm, True

    for i, premium in enumerate(premiums):
        book = FixedBook(max(premium, 0))
        index = max(-premium, 0)  # mid - index == premium, both in [0, 1e6]
        outs = [outcome(s.sample, book, index) for s in samplers]
        assert outs[0] == outs[1]
        if minute_every and i % minute_every == 0:
            assert outcome(samplers[0].close_minute) == outcome(samplers[1].close_minute)
    assert outcome(samplers[0].close_minute) == outcome(samplers[1].close_minute)
    period = outcome(samplers[0].close_period, mark)
    assert period == outcome(samplers[1].close_period, mark)
    event("capped period" if period[1][1][2][1] else "uncapped period")
