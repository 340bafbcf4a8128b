"""Margin engine scenarios, each run on the native module and on its pure-Python reference.

Covers the OI-scaled initial margin factor, requirement rounding and YES/NO symmetry, fees and
rebates, PnL and equity, every case of a fill on a position, bankruptcy and fillable prices, the
validation of RiskTier and the typed errors for bad arguments. Numbers are small and worked out by
hand in the comments.
"""

import pickle
from decimal import Decimal

import numpy as np
import pytest

import perpcore
from perpcore import InvalidInput, InvalidType, _margin
from perpcore.reference import margin as reference_margin

IMPLEMENTATIONS = {"native": _margin, "reference": reference_margin}
ONE = 1_000_000


@pytest.fixture(params=list(IMPLEMENTATIONS))
def m(request):
    """The margin module under test: perpcore._margin or perpcore.reference.margin."""
    return IMPLEMENTATIONS[request.param]


def test_the_package_exports_the_native_margin_engine():
    for name in reference_margin.__all__:
        assert getattr(perpcore, name) is getattr(_margin, name)
        assert name in perpcore.__all__


# ------------------------------------------------------------------------ OI-scaled initial factor

def test_open_interest_at_or_below_the_lower_cap_pays_the_base_factor(m):
    assert m.imf_ppm(100_000, 0, 1_000, 5_000) == 100_000
    assert m.imf_ppm(100_000, 1_000, 1_000, 5_000) == 100_000


def test_open_interest_at_or_above_the_upper_cap_pays_one_hundred_percent(m):
    assert m.imf_ppm(100_000, 5_000, 1_000, 5_000) == ONE
    assert m.imf_ppm(100_000, 10**15, 1_000, 5_000) == ONE


def test_an_upper_cap_of_zero_disables_scaling(m):
    assert m.imf_ppm(100_000, 10**15, 0, 0) == 100_000
    assert m.imf_ppm(100_000, 10**15, 7_000, 0) == 100_000  # the lower cap alone means nothing


def test_the_scaled_factor_is_linear_between_the_caps_and_rounded_down(m):
    # 200_000 + 800_000 * 499_999 / 1_000_000 = 599_999.2 -> 599_999, not 600_000
    assert m.imf_ppm(200_000, 1_499_999, 1_000_000, 2_000_000) == 599_999
    assert m.imf_ppm(200_000, 1_500_000, 1_000_000, 2_000_000) == 600_000
    assert m.imf_ppm(200_000, 1, 0, 3) == 466_666  # 466_666.67


def test_equal_caps_are_a_step_from_base_to_one_hundred_percent(m):
    assert m.imf_ppm(100_000, 5_000, 5_000, 5_000) == 100_000
    assert m.imf_ppm(100_000, 5_001, 5_000, 5_000) == ONE


def test_a_lower_cap_above_the_upper_cap_is_refused(m):
    with pytest.raises(InvalidInput, match="lower_cap_qq=5001 exceeds upper_cap_qq=5000"):
        m.imf_ppm(100_000, 0, 5_001, 5_000)


# ------------------------------------------------------------------------------- requirements

def test_requirements_round_up(m):
    # at risk 3 * 333_333 = 999_999; 10 % is 99_999.9
    assert m.initial_requirement_qq(3, 333_333, 100_000) == 100_000
    assert m.maintenance_requirement_qq(1, 1, 50_000) == 1  # 0.05 qq
    assert m.initial_requirement_qq(10, 500_000, 100_000) == 500_000  # exact: no rounding


def test_a_short_at_p_carries_the_risk_of_a_long_at_one_minus_p(m):
    for price in (0, 1, 250_000, 500_000, 999_999, ONE):
        for size in (1, 7, 1_000_003):
            assert m.at_risk_notional_qq(-size, price) == m.at_risk_notional_qq(size, ONE - price)
            assert (m.initial_requirement_qq(-size, price, 123_457)
                    == m.initial_requirement_qq(size, ONE - price, 123_457))
            assert (m.maintenance_requirement_qq(-size, price, 33_333)
                    == m.maintenance_requirement_qq(size, ONE - price, 33_333))


def test_nothing_at_risk_requires_nothing(m):
    assert m.at_risk_notional_qq(0, 500_000) == 0
    assert m.at_risk_notional_qq(5, 0) == 0  # a long at probability 0 cannot lose
    assert m.at_risk_notional_qq(-5, ONE) == 0  # a short at probability 1 cannot lose
    assert m.initial_requirement_qq(0, 500_000, ONE) == 0
    assert m.maintenance_requirement_qq(5, 400_000, 0) == 0


def test_a_factor_of_one_hundred_percent_is_full_collateral_never_more(m):
    assert m.initial_requirement_qq(7, 300_000, ONE) == m.at_risk_notional_qq(7, 300_000)
    assert m.initial_requirement_qq(7, 300_000, ONE) == 2_100_000
    assert m.initial_requirement_qq(-7, 300_000, ONE) == 4_900_000


def test_a_requirement_is_exact_even_when_the_at_risk_notional_exceeds_int64(m):
    size = 2**62
    with pytest.raises(OverflowError):
        m.at_risk_notional_qq(size, ONE)
    assert m.initial_requirement_qq(size, ONE, 1) == size
    with pytest.raises(OverflowError):
        m.initial_requirement_qq(size, ONE, 2)


def test_a_crowded_market_raises_initial_margin_but_never_maintenance(m):
    tier = m.RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, oi_lower_cap_qq=1_000_000,
                      oi_upper_cap_qq=2_000_000)
    # at risk 10 * 500_000 = 5_000_000
    assert tier.initial_requirement_qq(10, 500_000, 0) == 500_000
    assert tier.initial_requirement_qq(10, 500_000, 1_500_000) == 2_750_000  # IMF 550_000
    assert tier.initial_requirement_qq(10, 500_000, 2_000_000) == 5_000_000  # IMF 100 %
    assert tier.maintenance_requirement_qq(10, 500_000) == 250_000  # whatever the OI
    assert tier.imf_ppm(1_500_000) == 550_000


# ----------------------------------------------------------------------------------------- fees

def test_a_fee_charged_rounds_up(m):
    assert m.fee_qq(1_999, 500) == 1  # 0.9995
    assert m.fee_qq(2_000_000, 500) == 1_000
    assert m.fee_qq(0, 500) == 0


def test_a_rebate_rounds_its_magnitude_down(m):
    assert m.fee_qq(1_999, -500) == 0  # -0.9995 -> 0
    assert m.fee_qq(3_000, -500) == -1  # -1.5 -> -1
    assert m.fee_qq(2_000_000, -500) == -1_000


def test_a_tier_charges_taker_and_maker_and_funds_the_insurance_share(m):
    tier = m.RiskTier(taker_fee_ppm=700, maker_fee_ppm=-200, insurance_share_ppm=200_000)
    assert tier.taker_fee_qq(1_000_001) == 701  # 700.0007
    assert tier.maker_fee_qq(1_000_001) == -200  # -200.0002
    assert tier.insurance_share_qq(7) == 1  # 1.4 rounds down
    assert tier.insurance_share_qq(0) == 0
    assert tier.insurance_share_qq(-200) == 0  # a rebate funds nothing


def test_a_trade_never_pays_out_net_fees(m):
    for maker in (-500, -499, 0, 500):
        tier = m.RiskTier(taker_fee_ppm=500, maker_fee_ppm=maker)
        for notional in (0, 1, 1_999, 3_000, 123_456_789):
            assert tier.taker_fee_qq(notional) + tier.maker_fee_qq(notional) >= 0


# ---------------------------------------------------------------------------------- PnL, equity

def test_unrealized_pnl_is_marked_against_the_open_notional(m):
    assert m.unrealized_pnl_qq(10, 4_000_000, 500_000) == 1_000_000  # long from 0.40, mark 0.50
    assert m.unrealized_pnl_qq(-10, -4_000_000, 500_000) == -1_000_000  # short from 0.40
    assert m.unrealized_pnl_qq(0, 0, 500_000) == 0


def test_equity_is_collateral_plus_unrealized_pnl_plus_unsettled_funding(m):
    assert m.equity_qq(2_000_000, 10, 4_000_000, 350_000, -30) == 2_000_000 - 500_000 - 30
    assert m.equity_qq(2_000_000, -10, -4_000_000, 350_000, 12) == 2_000_000 + 500_000 + 12
    with pytest.raises(OverflowError):
        m.equity_qq(2**63 - 1, 1, 0, 1, 0)


# ---------------------------------------------------------------------------------------- fills

def _conserves(m, size, on, fill, price):
    new_size, new_on, realized = m.apply_fill(size, on, fill, price)
    assert new_size == size + fill
    assert new_on - realized == on + fill * price
    return new_size, new_on, realized


@pytest.mark.parametrize(("position", "fill", "expected"), [
    ((0, 0), (10, 400_000), (10, 4_000_000, 0)),  # open a long
    ((0, 0), (-10, 400_000), (-10, -4_000_000, 0)),  # open a short
    ((10, 4_000_000), (5, 700_000), (15, 7_500_000, 0)),  # increase: entry 0.50
    ((-10, -4_000_000), (-5, 700_000), (-15, -7_500_000, 0)),
    # reduce a long: removes ceil(7_500_001 * 4 / 15) = 2_000_001; realizes 2_400_000 - 2_000_001
    ((15, 7_500_001), (-4, 600_000), (11, 5_500_000, 399_999)),
    # reduce a short: removes ceil(-1_000_000 / 3) = -333_333; realizes -200_000 + 333_333
    ((-3, -1_000_000), (1, 200_000), (-2, -666_667, 133_333)),
    ((11, 5_500_000), (-11, 300_000), (0, 0, -2_200_000)),  # close a long at a loss
    ((-4, -2_000_000), (4, 300_000), (0, 0, 800_000)),  # close a short at a profit
    # flip: close 10 at 0.50 (+1_000_000), open a 5 short there
    ((10, 4_000_000), (-15, 500_000), (-5, -2_500_000, 1_000_000)),
    ((-4, -2_000_000), (6, 300_000), (2, 600_000, 800_000)),
])
def test_a_fill_opens_increases_reduces_closes_or_flips(m, position, fill, expected):
    assert _conserves(m, *position, *fill) == expected


def test_partial_closes_realize_exactly_what_one_full_close_would(m):
    size, on, total = 3, 1_000_000, 0
    while size:  # removes 333_334, 333_333, 333_333
        size, on, realized = _conserves(m, size, on, -1, 500_000)
        total += realized
    assert on == 0
    assert total == m.apply_fill(3, 1_000_000, -3, 500_000)[2] == 500_000


def test_both_sides_of_a_trade_conserve_money(m):
    buyer, seller = (-4, -1_000_003), (7, 2_100_011)
    b = _conserves(m, *buyer, 9, 412_345)
    s = _conserves(m, *seller, -9, 412_345)
    # what each side's open notional and realized PnL absorbed sums to zero across the trade
    assert (b[1] - b[2] - buyer[1]) + (s[1] - s[2] - seller[1]) == 0


def test_the_entry_price_is_the_open_notional_per_contract_rounded_down(m):
    assert m.entry_price_ppm(3, 1_000_000) == 333_333
    assert m.entry_price_ppm(-3, -1_000_000) == 333_333
    assert m.entry_price_ppm(0, 0) == 0


# ------------------------------------------------------------------------------- bankruptcy

def _equity_after_full_close(m, collateral, size, on, price):
    return collateral + m.apply_fill(size, on, -size, price)[2]


@pytest.mark.parametrize(("collateral", "size", "on", "mark", "expected"), [
    (1_000_000, 10, 5_000_000, 450_000, 400_000),  # (5_000_000 - 1_000_000) / 10
    (100_001, 3, 1_000_000, 300_000, 300_000),  # ceil(899_999 / 3)
    (400_001, -4, -2_000_000, 550_000, 600_000),  # floor((400_001 + 2_000_000) / 4)
    (5, -7, -3_500_000, 500_000, 500_000),  # floor(3_500_005 / 7)
])
def test_closing_everything_at_the_bankruptcy_price_leaves_equity_exactly_non_negative(
        m, collateral, size, on, mark, expected):
    equity = m.equity_qq(collateral, size, on, mark, 0)
    price = m.bankruptcy_price_ppm(size, abs(size), mark, equity, 50_000)
    worse = price - 1 if size > 0 else price + 1

    assert price == expected
    assert _equity_after_full_close(m, collateral, size, on, price) >= 0
    assert _equity_after_full_close(m, collateral, size, on, worse) < 0


def test_the_full_close_price_is_where_equity_reaches_zero_for_many_positions(m):
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(300):
        size = int(rng.integers(1, 10_000)) * (1 if rng.random() < 0.5 else -1)
        on = size * int(rng.integers(0, ONE + 1))
        mark, collateral = int(rng.integers(0, ONE + 1)), int(rng.integers(0, 10**9))
        equity = m.equity_qq(collateral, size, on, mark, 0)
        price = m.bankruptcy_price_ppm(size, abs(size), mark, equity, int(rng.integers(0, ONE)))
        if not 1 <= price <= ONE - 1:
            continue  # degenerate: solvent at any probability
        worse = price - 1 if size > 0 else price + 1
        assert _equity_after_full_close(m, collateral, size, on, price) >= 0
        assert _equity_after_full_close(m, collateral, size, on, worse) < 0
        checked += 1
    assert checked > 50


def test_a_partial_close_at_the_bankruptcy_price_keeps_equity_over_maintenance(m):
    # 10 long at mark 0.50, equity 1_000_000, MMR 250_000 -> 175_000 after selling 3;
    # the 3 take 300_000 of the equity: (1_500_000 - 300_000) / 3 = 400_000
    assert m.bankruptcy_price_ppm(10, 3, 500_000, 1_000_000, 50_000) == 400_000
    # selling 3 there: equity 1_000_000 - 3 * 100_000 = 700_000 against MMR 175_000: ratio 4 again
    assert m.maintenance_requirement_qq(7, 500_000, 50_000) * 4 == 700_000


def test_the_bankruptcy_price_rounds_up_for_a_long_and_down_for_a_short(m):
    assert m.bankruptcy_price_ppm(3, 3, 500_000, -1, 50_000) == 500_001  # ceil(1_500_001 / 3)
    assert m.bankruptcy_price_ppm(-3, 3, 500_000, -1, 50_000) == 499_999  # floor(1_499_999 / 3)


def test_the_bankruptcy_price_is_not_clamped_to_a_probability(m):
    assert m.bankruptcy_price_ppm(2, 2, 100_000, 500_000, 50_000) == -150_000
    assert m.bankruptcy_price_ppm(-2, 2, 900_000, 500_000, 50_000) == 1_150_000


def test_without_maintenance_the_closed_share_of_equity_is_proportional(m):
    # MMF 0: the 4 closed contracts take floor(1_000_001 * 4 / 10) = 400_000 of the equity
    assert m.bankruptcy_price_ppm(10, 4, 500_000, 1_000_001, 0) == 400_000


# --------------------------------------------------------------------------------- fillable

def _fillable(m, size=10, mark=500_000, equity=100, mmr=250_000, ba=ONE, smmr=100_000, tick=1):
    return m.fillable_price_ppm(size, mark, equity, mmr, ba, smmr, tick)


def test_a_healthy_account_is_liquidated_at_the_mark_rounded_against_it(m):
    assert _fillable(m, mark=500_500, equity=250_000, tick=1_000) == 501_000  # sells: up
    assert _fillable(m, size=-10, mark=500_500, equity=250_000, tick=1_000) == 500_000  # buys: down


def test_the_adjustment_ratio_is_clamped_to_one_when_equity_is_gone(m):
    # full spread: SMMR 10 % of MMR 250_000 over 10 contracts = 2_500 ppm
    for equity in (0, -5, -10**15):
        assert _fillable(m, equity=equity) == 497_500
        assert _fillable(m, size=-10, equity=equity) == 502_500
    assert _fillable(m, equity=125_000, ba=2 * ONE) == 497_500  # 2 * (1 - 1/2) = 1


def test_the_adjustment_ratio_grows_with_distress_in_between(m):
    assert _fillable(m, equity=125_000) == 498_750  # ABR 1/2
    assert _fillable(m, equity=100) == 497_501  # ABR 0.9996: 2_499 ppm
    assert _fillable(m, equity=100, tick=1_000) == 498_000  # rounded up for a sell


def test_the_fillable_price_is_the_same_for_any_slice_of_the_position(m):
    # it takes the whole position only; a position twice as large with twice the MMR and equity
    # has the same distress and spread per contract, so every slice trades at one price
    assert _fillable(m, size=10, equity=100, mmr=250_000) == _fillable(
        m, size=20, equity=200, mmr=500_000) == 497_501


def test_without_maintenance_there_is_no_spread(m):
    assert _fillable(m, mark=400_000, equity=-5, mmr=0) == 400_000


def test_the_fillable_price_stays_within_one_tick_of_the_bounds(m):
    assert _fillable(m, mark=1_000, equity=-1, smmr=10**12, tick=1_000) == 1_000
    assert _fillable(m, mark=0, equity=0, tick=100) == 100
    assert _fillable(m, size=-10, mark=999_500, equity=-1, tick=1_000) == 999_000
    assert _fillable(m, size=-1, mark=999_999, equity=-1, mmr=10**18, smmr=10**18,
                     tick=500_000) == 500_000


@pytest.mark.parametrize(("field", "value"), [
    ("size", 0), ("mark", -1), ("mmr", -1), ("ba", ONE - 1), ("smmr", 0), ("tick", 0),
    ("tick", 3), ("tick", ONE), ("tick", 500_001),
])
def test_fillable_arguments_are_checked(m, field, value):
    with pytest.raises(InvalidInput):
        _fillable(m, **{field: value})


# ------------------------------------------------------------------------ liquidation price

def test_a_long_is_liquidatable_from_its_liquidation_price_down(m):
    # long 100 at 0.5 (ON 50 USDC) with 10 USDC margin, MMF 5 %: equity 10 + 100(p - 0.5) USDC
    # meets maintenance 100 * p * 5 % at 0.95 p = 0.4, p = 0.421052.. -> the largest mark is 421_052
    price = m.liquidation_price_ppm(100, 50_000_000, 10_000_000, 50_000)
    assert price == 421_052
    for p, due in ((421_052, True), (421_053, False)):
        equity = 10_000_000 + 100 * p - 50_000_000
        assert (equity <= -(-100 * p * 50_000 // ONE)) is due


def test_a_short_is_liquidatable_from_its_liquidation_price_up(m):
    # short 100 at 0.5 with 10 USDC: equity 10 - 100(p - 0.5), maintenance 100(1 - p) * 5 %:
    # 60 - 100p = 5 - 5p at p = 0.578947.. -> the smallest mark is 578_948 (YES/NO mirror)
    assert m.liquidation_price_ppm(-100, -50_000_000, 10_000_000, 50_000) == 578_948


def test_liquidation_prices_at_the_ends_of_the_grid(m):
    assert m.liquidation_price_ppm(100, 0, 10**9, 50_000) == 0  # bought at 0: never
    assert m.liquidation_price_ppm(-100, -100_000_000, 10**9, 50_000) == ONE  # sold at 1: never
    assert m.liquidation_price_ppm(100, 100_000_000, 0, 50_000) == ONE - 1  # no margin: always
    assert m.liquidation_price_ppm(-100, 0, 0, 50_000) == 1
    assert m.liquidation_price_ppm(100, 50_000_000, 0, ONE) == ONE - 1  # 100 % maintenance


@pytest.mark.parametrize("args", [(0, 0, 0, 50_000), (5, -1, 0, 50_000), (5, 0, 0, 0),
                                  (5, 0, 0, ONE + 1)])
def test_liquidation_price_arguments_are_checked(m, args):
    with pytest.raises(InvalidInput):
        m.liquidation_price_ppm(*args)


# --------------------------------------------------------------------------------- RiskTier

def test_a_default_risk_tier(m):
    tier = m.RiskTier()
    assert tier.as_dict() == {
        "base_imf_ppm": 100_000, "mmf_ppm": 50_000, "oi_lower_cap_qq": 0, "oi_upper_cap_qq": 0,
        "taker_fee_ppm": 500, "maker_fee_ppm": 100, "insurance_share_ppm": 200_000,
        "liquidation_fee_ppm": 5_000, "bankruptcy_adjustment_ppm": ONE,
        "spread_to_mmr_ppm": 100_000, "liquidation_portion_ppm": 500_000,
        "liquidation_min_notional_qq": 10_000_000, "liquidation_max_notional_qq": 10**14,
        "insurance_max_draw_qq": 10**14}
    assert repr(tier).startswith("RiskTier(base_imf_ppm=100000, mmf_ppm=50000, "
                                 "oi_lower_cap_qq=0, oi_upper_cap_qq=0, taker_fee_ppm=500, "
                                 "maker_fee_ppm=100, insurance_share_ppm=200000, "
                                 "liquidation_fee_ppm=5000, ")


def test_a_risk_tier_is_an_immutable_value(m):
    tier = m.RiskTier(base_imf_ppm=np.int64(200_000), oi_lower_cap_qq=5, oi_upper_cap_qq=9)
    assert type(tier.base_imf_ppm) is int
    assert tier == m.RiskTier(base_imf_ppm=200_000, oi_lower_cap_qq=5, oi_upper_cap_qq=9)
    assert tier != m.RiskTier()
    assert len({tier, m.RiskTier(**tier.as_dict())}) == 1
    assert pickle.loads(pickle.dumps(tier)) == tier
    with pytest.raises(AttributeError):
        tier.mmf_ppm = 1
    with pytest.raises(TypeError):
        m.RiskTier(100_000)  # keyword-only


@pytest.mark.parametrize(("field", "value"), [
    ("base_imf_ppm", 0), ("base_imf_ppm", ONE + 1),
    ("mmf_ppm", 0), ("mmf_ppm", 100_001),  # above base_imf_ppm
    ("oi_lower_cap_qq", -1), ("oi_upper_cap_qq", -1),
    ("taker_fee_ppm", -1), ("taker_fee_ppm", 100_001),
    ("maker_fee_ppm", 501), ("maker_fee_ppm", -501),  # |maker| above the taker's 500
    ("insurance_share_ppm", -1), ("insurance_share_ppm", ONE + 1),
    ("liquidation_fee_ppm", -1), ("liquidation_fee_ppm", ONE + 1),
    ("bankruptcy_adjustment_ppm", ONE - 1), ("bankruptcy_adjustment_ppm", 1000 * ONE + 1),
    ("spread_to_mmr_ppm", 0), ("spread_to_mmr_ppm", ONE + 1),
    ("liquidation_portion_ppm", 0), ("liquidation_portion_ppm", ONE + 1),
    ("liquidation_min_notional_qq", -1), ("liquidation_max_notional_qq", 0),
    ("insurance_max_draw_qq", 0),
])
def test_a_nonsensical_tier_is_refused_naming_the_field(m, field, value):
    with pytest.raises(InvalidInput, match=field):
        m.RiskTier(**{field: value})


def test_caps_must_be_ordered_unless_scaling_is_off(m):
    with pytest.raises(InvalidInput, match="oi_lower_cap_qq"):
        m.RiskTier(oi_lower_cap_qq=10, oi_upper_cap_qq=5)
    assert m.RiskTier(oi_lower_cap_qq=10, oi_upper_cap_qq=0).imf_ppm(10**12) == 100_000
    assert m.RiskTier(base_imf_ppm=ONE, mmf_ppm=ONE, taker_fee_ppm=100_000,
                      maker_fee_ppm=-100_000, insurance_share_ppm=ONE).mmf_ppm == ONE


@pytest.mark.parametrize("value", [1.0, True, "1", None, Decimal(1)])
def test_a_tier_field_of_the_wrong_type_is_refused(m, value):
    with pytest.raises(InvalidType, match="base_imf_ppm"):
        m.RiskTier(base_imf_ppm=value)


# ------------------------------------------------------------------------------- bad input

GOOD_CALLS = {
    "at_risk_notional_qq": (5, 400_000),
    "imf_ppm": (100_000, 5, 1, 10),
    "initial_requirement_qq": (5, 400_000, 100_000),
    "maintenance_requirement_qq": (5, 400_000, 50_000),
    "fee_qq": (1_000, 500),
    "unrealized_pnl_qq": (5, 2_000_000, 400_000),
    "equity_qq": (100, 5, 2_000_000, 400_000, 0),
    "apply_fill": (5, 2_000_000, -2, 400_000),
    "entry_price_ppm": (5, 2_000_000),
    "bankruptcy_price_ppm": (5, 2, 400_000, 100, 50_000),
    "fillable_price_ppm": (5, 400_000, 100, 5_000, ONE, 100_000, 1_000),
    "liquidation_price_ppm": (5, 2_000_000, 100, 50_000),
}
BAD_TYPES = [1.0, True, False, "1", None, Decimal(1), b"1", [1]]


@pytest.mark.parametrize("name", GOOD_CALLS)
@pytest.mark.parametrize("bad", BAD_TYPES, ids=repr)
def test_every_argument_of_the_wrong_type_is_refused(m, name, bad):
    args = GOOD_CALLS[name]
    for i in range(len(args)):
        with pytest.raises(InvalidType):
            getattr(m, name)(*args[:i], bad, *args[i + 1:])


@pytest.mark.parametrize("name", GOOD_CALLS)
def test_numpy_integers_are_accepted_and_results_are_plain_ints(m, name):
    args = GOOD_CALLS[name]
    expected = getattr(m, name)(*args)
    for dtype in (np.int64, np.int32, np.uint32):
        got = getattr(m, name)(*(dtype(a) if 0 <= a < 2**31 else a for a in args))
        assert got == expected
        assert all(type(v) is int for v in (got if isinstance(got, tuple) else (got,)))


@pytest.mark.parametrize(("name", "args"), [
    ("at_risk_notional_qq", (5, -1)),
    ("at_risk_notional_qq", (5, ONE + 1)),
    ("at_risk_notional_qq", (2**63, 1)),  # not an int64
    ("imf_ppm", (ONE + 1, 0, 0, 0)),
    ("imf_ppm", (100_000, -1, 0, 0)),
    ("imf_ppm", (100_000, 0, -1, 0)),
    ("initial_requirement_qq", (5, 400_000, -1)),
    ("maintenance_requirement_qq", (5, 400_000, ONE + 1)),
    ("fee_qq", (-1, 500)),
    ("fee_qq", (1_000, ONE + 1)),
    ("unrealized_pnl_qq", (5, -1, 400_000)),  # a long's open notional is >= 0
    ("unrealized_pnl_qq", (-5, 1, 400_000)),  # a short's is <= 0
    ("unrealized_pnl_qq", (5, 5 * ONE + 1, 400_000)),  # entry above probability 1
    ("unrealized_pnl_qq", (0, 1, 400_000)),  # flat with an open notional
    ("equity_qq", (0, 5, 2_000_000, -1, 0)),
    ("apply_fill", (5, 2_000_000, 0, 400_000)),  # an empty fill
    ("apply_fill", (5, 2_000_000, 1, ONE + 1)),
    ("entry_price_ppm", (-5, 2_000_000)),
    ("bankruptcy_price_ppm", (0, 1, 400_000, 100, 50_000)),
    ("bankruptcy_price_ppm", (5, 0, 400_000, 100, 50_000)),
    ("bankruptcy_price_ppm", (5, 6, 400_000, 100, 50_000)),
    ("bankruptcy_price_ppm", (-5, 6, 400_000, 100, 50_000)),
    ("bankruptcy_price_ppm", (-5, -1, 400_000, 100, 50_000)),  # a magnitude, not signed
    ("bankruptcy_price_ppm", (5, 1, 400_000, 100, -1)),
])
def test_out_of_range_values_are_refused(m, name, args):
    with pytest.raises(InvalidInput):
        getattr(m, name)(*args)


def test_errors_are_also_the_builtins_callers_expect(m):
    with pytest.raises(ValueError):
        m.fee_qq(-1, 0)
    with pytest.raises(TypeError):
        m.fee_qq(1.5, 0)
