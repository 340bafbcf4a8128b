"""Differential tests: the native margin engine against its pure-Python reference.

Hypothesis draws arguments over the whole int64 range (with the edges and the valid ranges drawn
often, plus integers beyond int64 and values of the wrong type); for every function and every
RiskTier method both implementations must return the same value or raise the same exception class.
Also checked on both: the conservation law of apply_fill, for single fills, for both sides of a
trade and over whole sequences of fills.
"""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpcore import _margin as native
from perpcore.reference import margin as reference

ONE = 1_000_000
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
IMPLEMENTATIONS = [native, reference]

EDGES = [0, 1, -1, 2, ONE - 1, ONE, ONE + 1, 500_000, 100_000, I64_MAX, I64_MIN, I64_MAX - 1,
         I64_MIN + 1, 2**62, -(2**62), 2**31, -(2**31)]
BAD_VALUES = [1.0, True, None, "1", Decimal(3), 2**63, -(2**63) - 1, np.int64(7), np.uint64(2**63)]

# an "anything" argument: mostly plausible integers, sometimes int64 edges, rarely nonsense
any_int = st.one_of(
    st.sampled_from(EDGES),
    st.integers(-2 * ONE, 2 * ONE),
    st.integers(I64_MIN, I64_MAX),
    st.integers(-(10**12), 10**12),
)
arg = st.one_of(any_int, any_int, any_int, any_int, any_int, any_int, any_int, any_int,
                st.sampled_from(BAD_VALUES))
price = st.one_of(st.integers(0, ONE), st.sampled_from([0, 1, ONE - 1, ONE]), arg)
factor = st.one_of(st.integers(0, ONE), arg)
size = st.one_of(st.integers(-1_000, 1_000), st.integers(-(10**12), 10**12),
                 st.sampled_from([I64_MIN, I64_MAX, 2**62, -(2**62)]),
                 st.integers(I64_MIN, I64_MAX))


@st.composite
def position(draw):
    """(size, open_notional_qq): usually a valid position, sometimes anything."""
    s = draw(size)
    if draw(st.integers(0, 9)) == 0:
        return s, draw(arg)
    lo, hi = sorted((0, s * ONE))
    on = draw(st.one_of(st.integers(max(lo, I64_MIN), min(hi, I64_MAX)),
                        st.sampled_from([max(lo, I64_MIN), min(hi, I64_MAX)])))
    return s, on


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        return "raised", type(exc)


def same(name, *args):
    results = [outcome(getattr(m, name), *args) for m in IMPLEMENTATIONS]
    assert results[0] == results[1], (name, args)
    return results[0]


def run(func):
    return settings(max_examples=400)(func)


@run
@given(size, price)
def test_at_risk_notional(s, p):
    same("at_risk_notional_qq", s, p)


@run
@given(factor, arg, arg, arg)
def test_imf(base, oi, lower, upper):
    same("imf_ppm", base, oi, lower, upper)


@run
@given(factor, st.integers(0, 10**15), st.integers(0, 10**15), st.integers(0, 10**15))
def test_imf_in_range(base, oi, lower, upper):
    same("imf_ppm", base, oi, min(lower, upper), max(lower, upper))


@run
@given(size, price, factor)
def test_requirements(s, p, f):
    same("initial_requirement_qq", s, p, f)
    same("maintenance_requirement_qq", s, p, f)


@run
@given(st.one_of(st.integers(0, I64_MAX), arg), st.one_of(st.integers(-ONE, ONE), arg))
def test_fee(notional, fee):
    same("fee_qq", notional, fee)


@run
@given(position(), price, arg, arg)
def test_pnl_and_equity(pos, p, collateral, funding):
    same("unrealized_pnl_qq", *pos, p)
    same("equity_qq", collateral, *pos, p, funding)
    same("entry_price_ppm", *pos)


@run
@given(position(), st.one_of(size, arg), price)
def test_apply_fill(pos, fill, p):
    same("apply_fill", *pos, fill, p)


@run
@given(size, st.one_of(size, arg), price, arg, factor)
def test_bankruptcy_price(s, close, mark, equity, mmf):
    if isinstance(s, int) and isinstance(close, int) and s and abs(close) > abs(s):
        close = abs(close) % abs(s) + 1  # mostly a valid slice
    same("bankruptcy_price_ppm", s, close, mark, equity, mmf)


@run
@given(size.filter(bool), st.data(), price, st.one_of(arg, st.integers(-(10**13), 10**13)),
       st.integers(0, ONE))
def test_bankruptcy_price_in_range(s, data, mark, equity, mmf):
    whole = min(abs(s), I64_MAX)
    close = data.draw(st.one_of(st.integers(1, whole), st.just(whole)))
    same("bankruptcy_price_ppm", s, close, mark, equity, mmf)


TICK_DIVISORS = [t for t in range(1, ONE // 2 + 1) if ONE % t == 0]
ticks = st.one_of(st.sampled_from(TICK_DIVISORS + [3, 0, ONE, 500_001]), arg)


@run
@given(size, price, arg, st.one_of(st.integers(0, 10**15), arg),
       st.one_of(st.integers(ONE, 3 * ONE), arg), st.one_of(st.integers(1, ONE), arg), ticks)
def test_fillable_price(s, mark, equity, mmr, ba, smmr, tick):
    same("fillable_price_ppm", s, mark, equity, mmr, ba, smmr, tick)


@run
@given(size.filter(bool), st.integers(0, ONE), st.data(), st.integers(ONE, 10**13),
       st.integers(1, 10**13), st.sampled_from(TICK_DIVISORS))
def test_fillable_price_in_range(s, mark, data, ba, smmr, tick):
    mmr = data.draw(st.one_of(st.integers(0, 10**6), st.integers(0, I64_MAX)))
    equity = data.draw(st.one_of(st.integers(-mmr, 2 * mmr), st.integers(I64_MIN, I64_MAX)))
    kind, value = same("fillable_price_ppm", s, mark, equity, mmr, ba, smmr, tick)
    assert kind == "ok" and tick <= value <= ONE - tick and value % tick == 0


@run
@given(position(), st.one_of(arg, st.integers(-(10**13), 10**13)),
       st.one_of(st.integers(1, ONE), st.sampled_from([1, 50_000, ONE - 1, ONE]), arg))
def test_liquidation_price(pos, collateral, mmf):
    kind, value = same("liquidation_price_ppm", *pos, collateral, mmf)
    if kind == "ok":  # the boundary: liquidatable at it, and not one ppm on the safe side
        s, on = pos
        collateral, mmf = int(collateral), int(mmf)
        assert 0 <= value <= ONE
        inside = [p for p in (value, value + 1 if s > 0 else value - 1) if 0 < p < ONE]
        for p in inside:
            equity = collateral + s * p - on
            mmr = -(-abs(s) * (p if s > 0 else ONE - p) * mmf // ONE)
            assert (equity <= mmr) == (p == value), (p, value)


tier_fields = st.fixed_dictionaries({}, optional={
    "base_imf_ppm": st.one_of(st.integers(1, ONE), arg),
    "mmf_ppm": st.one_of(st.integers(1, 100_000), arg),
    "oi_lower_cap_qq": st.one_of(st.integers(0, 10**12), arg),
    "oi_upper_cap_qq": st.one_of(st.integers(0, 10**12), arg),
    "taker_fee_ppm": st.one_of(st.integers(0, 100_000), arg),
    "maker_fee_ppm": st.one_of(st.integers(-500, 500), arg),
    "insurance_share_ppm": st.one_of(st.integers(0, ONE), arg),
    "liquidation_fee_ppm": st.one_of(st.integers(0, ONE), arg),
    "bankruptcy_adjustment_ppm": st.one_of(st.integers(ONE, 2 * ONE), arg),
    "spread_to_mmr_ppm": st.one_of(st.integers(1, ONE), arg),
    "liquidation_portion_ppm": st.one_of(st.integers(1, ONE), arg),
    "liquidation_min_notional_qq": st.one_of(st.integers(0, 10**12), arg),
    "liquidation_max_notional_qq": st.one_of(st.integers(1, 10**15), arg),
    "insurance_max_draw_qq": st.one_of(st.integers(1, 10**15), arg),
})


@run
@given(tier_fields, size, price, st.one_of(st.integers(0, 10**13), arg), arg)
def test_risk_tier(fields, s, p, oi, money):
    tiers = [outcome(lambda m=m: m.RiskTier(**fields)) for m in IMPLEMENTATIONS]
    assert [t[0] for t in tiers] == [tiers[0][0]] * 2
    if tiers[0][0] == "raised":
        assert tiers[0][1] is tiers[1][1]
        return
    pair = [t[1] for t in tiers]
    assert pair[0].as_dict() == pair[1].as_dict()
    assert repr(pair[0]) == repr(pair[1])
    for name, args in [("imf_ppm", (oi,)), ("initial_requirement_qq", (s, p, oi)),
                       ("maintenance_requirement_qq", (s, p)), ("taker_fee_qq", (money,)),
                       ("maker_fee_qq", (money,)), ("insurance_share_qq", (money,))]:
        results = [outcome(getattr(t, name), *args) for t in pair]
        assert results[0] == results[1], (name, args)


# ------------------------------------------------------------------------- conservation laws

valid_price = st.integers(0, ONE)
small_fill = st.integers(-10**6, 10**6).filter(bool)


@pytest.mark.parametrize("m", IMPLEMENTATIONS, ids=["native", "reference"])
@settings(max_examples=300)
@given(pos=position(), fill=st.one_of(small_fill, st.integers(-10**12, 10**12).filter(bool)),
       p=valid_price)
def test_a_fill_conserves_money(m, pos, fill, p):
    kind, result = outcome(m.apply_fill, *pos, fill, p)
    if kind == "raised":
        return
    new_size, new_on, realized = result
    assert new_size == pos[0] + fill
    assert new_on - realized == pos[1] + fill * p
    assert min(0, new_size * ONE) <= new_on <= max(0, new_size * ONE)  # still a valid position


@pytest.mark.parametrize("m", IMPLEMENTATIONS, ids=["native", "reference"])
@settings(max_examples=200)
@given(fills=st.lists(st.tuples(small_fill, valid_price), min_size=1, max_size=30),
       mark=valid_price, collateral=st.integers(0, 10**12))
def test_a_sequence_of_fills_pays_exactly_the_cash_it_traded(m, fills, mark, collateral):
    """Whatever the path, realized + unrealized PnL == -sum(fill * price) + size * mark."""
    size, on, realized_total, cash = 0, 0, 0, 0
    for fill, p in fills:
        size, on, realized = m.apply_fill(size, on, fill, p)
        realized_total += realized
        cash -= fill * p
    assert realized_total + m.unrealized_pnl_qq(size, on, mark) == cash + size * mark
    assert m.equity_qq(collateral, size, on, mark, 0) + realized_total == (
        collateral + cash + size * mark)


@settings(max_examples=300)
@given(buyer=position(), seller=position(), q=st.integers(1, 10**9), p=valid_price)
def test_the_two_sides_of_a_trade_conserve_money(buyer, seller, q, p):
    b = outcome(native.apply_fill, *buyer, q, p)
    s = outcome(native.apply_fill, *seller, -q, p)
    if b[0] == "raised" or s[0] == "raised":
        return
    moved_b = b[1][1] - b[1][2] - buyer[1]
    moved_s = s[1][1] - s[1][2] - seller[1]
    assert moved_b + moved_s == 0

