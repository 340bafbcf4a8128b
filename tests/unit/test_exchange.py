"""The exchange core as a user meets it: deposits, orders that lock margin, fills that move it into
positions, fees and the insurance fund, reduce-only orders, withdrawals, and rejections that change
nothing. Amounts are worked out by hand in the comments (qq = 1e-6 USDC). Every test runs on the
native exchange and on the reference (the ``exchange_cls`` fixture)."""

import numpy as np
import pytest

import perpcore
from perpcore import Code, RiskTier, Side, TimeInForce
from perpcore.events import PositionStatus

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL = 1, 2, 3
M = "ELECTION"
USDC = 1_000_000
TIER = RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, taker_fee_ppm=500, maker_fee_ppm=100,
                insurance_share_ppm=200_000)


@pytest.fixture
def ex(exchange_cls):
    ex = exchange_cls(withdrawal_delay=60)
    ex.add_market(M, tick_ppm=1000, risk=TIER, mark_ppm=500_000)
    for account in (ALICE, BOB, CAROL):
        ex.deposit(account, 1000 * USDC)
    return ex


def state(ex):
    """Everything a rejected call must leave as it was."""
    return (
        {a: ex.balances(a) for a in (ALICE, BOB, CAROL)},
        {a: ex.position(a, M) for a in (ALICE, BOB, CAROL)},
        ex.book(M).state_hash(), ex.open_interest(M), ex.insurance_fund(M), ex.fees_collected(M),
    )


def traded(ex):
    """Bob rests 100 @ 0.51, Alice lifts it (see test_a_cross_opens_both_positions)."""
    assert ex.submit(M, 1, BOB, SELL, 510_000, 100).ok
    assert ex.submit(M, 2, ALICE, BUY, 510_000, 100).filled == 100
    return ex


def test_a_deposit_opens_the_account_and_credits_available(ex):
    r = ex.deposit(7, 5 * USDC)

    assert r.ok and [e.kind for e in r.events] == ["deposited", "balance_updated"]
    assert r.events[0].stream == "vault.event"
    assert ex.balances(7).available == 5 * USDC and ex.balances(7).total == 5 * USDC
    assert ex.check_conservation() == 3005 * USDC


@pytest.mark.parametrize("amount", [0, -1])
def test_a_deposit_must_be_positive(ex, amount):
    with pytest.raises(perpcore.InvalidInput):
        ex.deposit(ALICE, amount)


def test_a_resting_order_locks_its_initial_margin_and_fee_reserve_and_cancel_releases_it(ex):
    # sell 100 @ 0.51: short at-risk 100 x 0.49 = 49 USDC, 10 % = 4.9; fee reserve 100 x 500 qq
    r = ex.submit(M, 1, BOB, SELL, 510_000, 100)

    assert r.ok and r.resting == 100 and r.lock_qq == 4_950_000
    assert ex.balances(BOB).locked_for_orders == 4_950_000
    assert ex.balances(BOB).available == 1000 * USDC - 4_950_000
    assert ex.order_lock(M, 1) == 4_950_000

    c = ex.cancel(M, 1)

    assert c.ok and ex.balances(BOB).available == 1000 * USDC
    assert ex.balances(BOB).locked_for_orders == 0 and ex.order_lock(M, 1) is None
    cancelled = [e for e in c.events if e.kind == "order_cancelled"]
    assert cancelled[0].released_qq == 4_950_000 and cancelled[0].stream == f"stream-{M}-response"
    ex.check_integrity()


def test_a_buy_above_the_mark_also_locks_the_loss_of_paying_up(ex):
    # buy 100 @ 0.51 with the mark at 0.50: IM 5.1 + fee reserve 0.05 + 1 USDC below the mark
    r = ex.submit(M, 1, ALICE, BUY, 510_000, 100)

    assert r.lock_qq == 5_100_000 + 50_000 + 1_000_000


def test_a_cross_opens_both_positions_charges_fees_and_feeds_the_insurance_fund(ex):
    traded(ex)

    # notional 51 USDC: taker fee 25_500 qq, maker fee 5_100 qq; 20 % of 30_600 to insurance
    assert ex.position(ALICE, M).size == 100 and ex.position(BOB, M).size == -100
    assert ex.position(ALICE, M).entry_price_ppm == 510_000
    assert ex.position(ALICE, M).status == PositionStatus.OPEN
    assert ex.open_interest(M) == 100
    assert ex.insurance_fund(M) == 6_120 and ex.fees_collected(M) == 24_480
    alice, bob = ex.balances(ALICE), ex.balances(BOB)
    assert alice.locked_for_positions == {M: 6_150_000 - 25_500}
    assert alice.available == 1000 * USDC - 6_150_000 and alice.locked_for_orders == 0
    assert bob.locked_for_positions == {M: 4_950_000 - 5_100}
    assert ex.check_conservation() == 3000 * USDC
    ex.check_integrity()


def test_the_fill_events_name_their_streams_and_report_both_fees(ex):
    ex.submit(M, 1, BOB, SELL, 510_000, 100)
    r = ex.submit(M, 2, ALICE, BUY, 510_000, 100)

    kinds = [e.kind for e in r.events]
    assert kinds[:3] == ["order_created", "order_filled", "order_accepted"]
    fill = r.events[1]
    assert (fill.taker_fee_qq, fill.maker_fee_qq, fill.price_ppm, fill.size) == (25_500, 5_100,
                                                                                  510_000, 100)
    assert r.events[0].stream == "order.created"
    assert {e.stream for e in r.events} >= {"position.event", "balance.event"}
    assert all(e.as_dict()["kind"] == e.kind for e in r.events)


def test_closing_at_a_profit_pays_realised_pnl_and_releases_all_margin(ex):
    traded(ex)
    ex.set_mark(M, 600_000)
    ex.submit(M, 3, CAROL, BUY, 600_000, 100)
    before = ex.balances(ALICE).available

    r = ex.submit(M, 4, ALICE, SELL, 600_000, 100)

    # realised 100 x (0.60 - 0.51) = 9 USDC; all position margin (incl. the new lock) comes back
    assert r.filled == 100
    pos = ex.position(ALICE, M)
    assert (pos.size, pos.realized_pnl_qq, pos.status) == (0, 9 * USDC, PositionStatus.CLOSED)
    assert ex.balances(ALICE).locked_for_positions == {}
    assert ex.balances(ALICE).available == 1000 * USDC + 9 * USDC - 25_500 - 30_000
    assert ex.balances(ALICE).available > before
    assert ex.open_interest(M) == 100  # Carol's long replaced Alice's
    ex.check_integrity()


def test_a_partial_reduction_releases_margin_above_the_initial_requirement(ex):
    traded(ex)
    ex.submit(M, 3, CAROL, BUY, 510_000, 40)
    lfp_before = ex.balances(ALICE).locked_for_positions[M]

    ex.submit(M, 4, ALICE, SELL, 510_000, 40)

    v = ex.margin(ALICE, M)
    assert ex.position(ALICE, M).size == 60
    assert v.collateral_qq == v.initial_requirement_qq or v.free_collateral_qq == 0
    assert v.collateral_qq < lfp_before + ex.risk(M).initial_requirement_qq(-40, 510_000, 0)
    ex.check_integrity()


def test_a_flip_realises_the_old_position_and_opens_the_other_side(ex):
    traded(ex)
    ex.submit(M, 3, CAROL, BUY, 520_000, 150)

    r = ex.submit(M, 4, ALICE, SELL, 520_000, 150)

    pos = ex.position(ALICE, M)
    assert r.filled == 150 and pos.size == -50
    assert pos.realized_pnl_qq == 100 * 10_000  # the 100 long closed 0.01 higher
    assert pos.open_notional_qq == -50 * 520_000 and pos.entry_price_ppm == 520_000
    assert ex.open_interest(M) == 150  # Carol 150 long; Bob -100 and Alice -50 short
    ex.check_integrity()


def test_an_order_the_account_cannot_lock_is_rejected_and_changes_nothing(ex):
    ex.deposit(9, 1 * USDC)
    ex.submit(M, 1, BOB, SELL, 500_000, 1000)
    before = state(ex)

    r = ex.submit(M, 2, 9, BUY, 500_000, 1000)  # locks 50 USDC of margin

    assert r.code == Code.INSUFFICIENT_AVAILABLE and not r.ok
    assert [e.kind for e in r.events] == ["order_rejected"]
    assert state(ex) == before and ex.balances(9).available == 1 * USDC
    ex.check_integrity()


def test_an_order_that_would_leave_the_account_below_initial_margin_is_rejected(ex):
    traded(ex)
    ex.set_mark(M, 460_000)  # Alice's long lost 5 USDC; her position margin holds ~6.1
    # a tiny further buy: her equity (1.12 USDC) is below the 4.6 USDC requirement already
    before = state(ex)

    r = ex.submit(M, 3, ALICE, BUY, 400_000, 1)

    assert r.code == Code.BELOW_INITIAL_MARGIN
    assert state(ex) == before


def test_the_book_validates_first_and_a_rejection_changes_nothing(ex):
    before = state(ex)

    assert ex.submit(M, 1, ALICE, BUY, 500_500, 10).code == Code.PRICE_OFF_TICK
    assert ex.submit(M, 1, 42, BUY, 500_000, 10).code == Code.UNKNOWN_ACCOUNT
    assert ex.submit("NOPE", 1, ALICE, BUY, 500_000, 10).code == Code.UNKNOWN_MARKET
    assert ex.submit(M, 1, ALICE, 5, 500_000, 10).code == Code.INVALID_SIDE
    assert state(ex) == before


def test_a_post_only_that_would_cross_gives_back_its_lock(ex):
    ex.submit(M, 1, BOB, SELL, 510_000, 100)
    before = state(ex)

    r = ex.submit(M, 2, ALICE, BUY, 510_000, 10, tif=TimeInForce.POST_ONLY)

    assert r.code == Code.POST_ONLY_WOULD_CROSS and state(ex) == before
    ex.check_integrity()


def test_an_ioc_remainder_releases_its_lock(ex):
    ex.submit(M, 1, BOB, SELL, 510_000, 30)

    r = ex.submit(M, 2, ALICE, BUY, 520_000, 100, tif=TimeInForce.IOC)

    assert (r.filled, r.resting, r.expired) == (30, 0, 70)
    assert ex.balances(ALICE).locked_for_orders == 0
    ex.check_integrity()


@pytest.mark.parametrize("order_id", [perpcore.EXCHANGE_ORDER_ID_FIRST,
                                      perpcore.LIQUIDATION_ORDER_ID_FIRST])
def test_order_ids_of_the_exchange_are_refused_to_users_and_change_nothing(ex, order_id):
    before = state(ex)

    r = ex.submit(M, order_id, ALICE, BUY, 500_000, 10)

    assert r.code == Code.RESERVED_ORDER_ID and r.order_id == order_id
    assert state(ex) == before
    assert ex.submit(M, perpcore.EXCHANGE_ORDER_ID_FIRST - 1, ALICE, BUY, 500_000, 10).ok


@pytest.mark.parametrize("bad", [1.5, "1", None, True])
def test_wrong_types_raise_typed_errors_and_change_nothing(ex, bad):
    before = state(ex)
    with pytest.raises(perpcore.InvalidType):
        ex.submit(M, 1, ALICE, BUY, bad, 10)
    with pytest.raises(perpcore.InvalidType):
        ex.deposit(ALICE, bad)
    assert state(ex) == before


# ------------------------------------------------------------------------------- reduce-only

def test_reduce_only_without_a_position_is_rejected(ex):
    r = ex.submit(M, 1, ALICE, SELL, 500_000, 10, reduce_only=True)

    assert r.code == Code.REDUCE_ONLY_WOULD_INCREASE


def test_reduce_only_on_the_growing_side_is_rejected(ex):
    traded(ex)
    r = ex.submit(M, 3, ALICE, BUY, 500_000, 10, reduce_only=True)

    assert r.code == Code.REDUCE_ONLY_WOULD_INCREASE


def test_a_reduce_only_limit_beyond_bankruptcy_is_rejected_and_changes_nothing(ex):
    traded(ex)  # Alice long 100 @ 0.51 (open notional 51 USDC) with 6.1245 USDC margin
    before = state(ex)
    # closing all 100 may not lose more than the margin: p >= (51 - 6.1245) / 100 = 0.448755,
    # 0.449 on the grid; Bob (short 100 @ 0.51, 4.9449 USDC) buys at p <= 0.559449, 0.559
    assert ex.submit(M, 3, ALICE, SELL, 448_000, 100, reduce_only=True).code == \
        Code.REDUCE_ONLY_BEYOND_BANKRUPTCY
    assert ex.submit(M, 4, BOB, BUY, 560_000, 100, reduce_only=True).code == \
        Code.REDUCE_ONLY_BEYOND_BANKRUPTCY
    assert state(ex) == before
    assert ex.submit(M, 3, ALICE, SELL, 449_000, 100, reduce_only=True).resting == 100
    assert ex.submit(M, 4, BOB, BUY, 559_000, 100, reduce_only=True).filled == 100  # at 0.449
    assert ex.position(ALICE, M).size == ex.position(BOB, M).size == 0
    assert ex.bad_debt(M) == 0
    ex.check_integrity()


def test_a_smaller_reduce_only_order_may_close_further_from_the_entry(ex):
    traded(ex)
    # 10 of 100 contracts carry 5.1 USDC of open notional, less than the 6.1245 USDC margin:
    # no price on the grid loses more than the margin
    r = ex.submit(M, 3, ALICE, SELL, 1_000, 10, reduce_only=True)
    assert r.ok and r.resting == 10


def test_an_unprotected_reduce_only_market_order_stops_at_the_bankruptcy_bound(ex):
    traded(ex)
    assert ex.submit(M, 5, CAROL, BUY, 450_000, 40).resting == 40
    assert ex.submit(M, 6, CAROL, BUY, 440_000, 60).resting == 60
    r = ex.submit(M, 7, ALICE, SELL, 0, 100, tif=TimeInForce.MARKET, reduce_only=True)
    # protected at 0.449: takes the 40 at 0.45, never the bid at 0.44 that would cost more than
    # the margin
    assert (r.filled, r.expired) == (40, 60)
    assert ex.position(ALICE, M).size == 60 and ex.bad_debt(M) == 0
    ex.check_integrity()


def test_reduce_only_locks_nothing_and_is_cut_to_the_position(ex):
    traded(ex)

    r = ex.submit(M, 3, ALICE, SELL, 600_000, 250, reduce_only=True)

    assert r.ok and r.size == 100 and r.resting == 100 and r.lock_qq == 0
    assert ex.balances(ALICE).locked_for_orders == 0
    # resting reduce-only orders never exceed the position
    assert ex.submit(M, 4, ALICE, SELL, 610_000, 10, reduce_only=True).code == \
        Code.REDUCE_ONLY_WOULD_INCREASE
    ex.check_integrity()


def test_a_resting_reduce_only_order_is_cancelled_when_the_position_closes_otherwise(ex):
    traded(ex)
    ex.submit(M, 3, ALICE, SELL, 600_000, 100, reduce_only=True)
    ex.submit(M, 4, CAROL, BUY, 520_000, 100)

    r = ex.submit(M, 5, ALICE, SELL, 520_000, 100)  # closes the long through a normal order

    assert ex.position(ALICE, M).size == 0
    assert 3 not in ex.book(M)
    cancelled = [e for e in r.events if e.kind == "order_cancelled"]
    assert [(e.order_id, e.reason) for e in cancelled] == [(3, perpcore.CancelReason.REDUCE_ONLY)]
    ex.check_integrity()


def test_a_resting_reduce_only_order_shrinks_with_the_position_keeping_priority(ex):
    traded(ex)
    ex.submit(M, 3, ALICE, SELL, 600_000, 100, reduce_only=True)
    ex.submit(M, 4, CAROL, BUY, 520_000, 30)

    ex.submit(M, 5, ALICE, SELL, 520_000, 30)

    assert ex.position(ALICE, M).size == 70
    assert ex.book(M).order(3)["size"] == 70
    ex.check_integrity()


def test_an_order_resting_where_the_makers_it_took_rested_keeps_only_its_own_lock(ex):
    # The book hands a resting taker a node its sweep just freed; the exchange keeps each order's
    # lock by node, so the makers' locks must be gone and the taker's must be exactly its own.
    assert ex.submit(M, 1, BOB, SELL, 510_000, 100).ok
    assert ex.submit(M, 2, CAROL, SELL, 520_000, 50).ok

    r = ex.submit(M, 3, ALICE, BUY, 520_000, 300)

    assert (r.filled, r.resting) == (150, 150)
    assert ex.order_lock(M, 1) is None and ex.order_lock(M, 2) is None
    assert ex.balances(BOB).locked_for_orders == ex.balances(CAROL).locked_for_orders == 0
    lock = ex.order_lock(M, 3)
    assert 0 < lock < r.lock_qq and ex.balances(ALICE).locked_for_orders == lock
    ex.check_integrity()
    available = ex.balances(ALICE).available

    c = ex.cancel(M, 3)

    assert [(e.kind, e.order_id, e.remaining, e.released_qq) for e in c.events
            if e.kind == "order_cancelled"] == [("order_cancelled", 3, 150, lock)]
    assert ex.balances(ALICE).available == available + lock
    assert ex.balances(ALICE).locked_for_orders == 0 and ex.order_lock(M, 3) is None
    ex.check_integrity()


def test_a_sweep_that_closes_the_position_first_cancels_the_reduce_only_maker_behind(ex):
    # Alice (long 100) rests a normal sell 100 @ 0.55 and a reduce-only sell 100 @ 0.60. Carol's
    # buy of 200 lifts the normal sell first: Alice is flat, so her reduce-only order may no longer
    # fill (it would open a short). It is cancelled in the sweep and Carol's rest keeps resting.
    traded(ex)
    assert ex.submit(M, 3, ALICE, SELL, 550_000, 100).ok
    assert ex.submit(M, 4, ALICE, SELL, 600_000, 100, reduce_only=True).resting == 100

    r = ex.submit(M, 5, CAROL, BUY, 600_000, 200)

    assert r.filled == 100 and r.resting == 100
    assert ex.position(ALICE, M).size == 0 and ex.position(CAROL, M).size == 100
    fills = [(e.maker_order_id, e.size) for e in r.events if e.kind == "order_filled"]
    assert fills == [(3, 100)]
    cancelled = [(e.order_id, e.remaining, e.reason) for e in r.events if e.kind == "order_cancelled"]
    assert cancelled == [(4, 100, perpcore.CancelReason.REDUCE_ONLY)]
    assert 4 not in ex.book(M) and ex.book(M).best_bid() == 600_000
    ex.check_integrity()


def test_a_reduce_only_maker_fills_only_what_is_left_of_the_position(ex):
    # Alice long 100: normal sell 60 @ 0.55 then reduce-only sell 100 @ 0.60. A buy of 150 takes
    # the 60, then only 40 from the reduce-only order (what is left of the long); its rest is gone.
    traded(ex)
    ex.submit(M, 3, ALICE, SELL, 550_000, 60)
    ex.submit(M, 4, ALICE, SELL, 600_000, 100, reduce_only=True)

    r = ex.submit(M, 5, CAROL, BUY, 600_000, 150, tif=TimeInForce.IOC)

    fills = [(e.maker_order_id, e.size) for e in r.events if e.kind == "order_filled"]
    assert fills == [(3, 60), (4, 40)]
    assert r.filled == 100 and r.expired == 50
    assert ex.position(ALICE, M).size == 0
    cancelled = [(e.order_id, e.remaining, e.reason) for e in r.events if e.kind == "order_cancelled"]
    assert cancelled == [(4, 60, perpcore.CancelReason.REDUCE_ONLY)]
    ex.check_integrity()


def test_fill_or_kill_counts_a_reduce_only_maker_only_up_to_the_position(ex):
    traded(ex)
    ex.submit(M, 3, ALICE, SELL, 550_000, 60)
    ex.submit(M, 4, ALICE, SELL, 600_000, 100, reduce_only=True)
    before = state(ex)

    # 160 rests on the ask side, but only 100 of it can fill: all or nothing refuses 101
    r = ex.submit(M, 5, CAROL, BUY, 600_000, 101, tif=TimeInForce.FOK)

    assert r.code == Code.FOK_NOT_FILLABLE and state(ex) == before
    r = ex.submit(M, 6, CAROL, BUY, 600_000, 100, tif=TimeInForce.FOK)
    assert r.filled == 100 and ex.position(ALICE, M).size == 0
    ex.check_integrity()


def test_a_reduce_only_maker_of_a_flipped_account_does_not_fill(ex):
    # Alice long 100 sells 300 through a normal order resting ahead: once short, her reduce-only
    # sell (which was right when placed) must not add to the short.
    traded(ex)
    ex.submit(M, 3, ALICE, SELL, 550_000, 300)
    ex.submit(M, 4, ALICE, SELL, 560_000, 100, reduce_only=True)

    ex.submit(M, 5, CAROL, BUY, 600_000, 400, tif=TimeInForce.IOC)

    assert ex.position(ALICE, M).size == -200 and 4 not in ex.book(M)
    ex.check_integrity()


def test_a_short_opened_across_several_makers_keeps_its_whole_lock_in_the_position(
        exchange_cls):
    # Open interest scales the IMF here, so the requirement of 35 contracts is more than 35/34 of
    # that of 34. The taker's lock covers the whole order at the open interest it ends with; none
    # of it may go back to `available` halfway through the sweep (opening a short from flat is
    # not a reduction), or the account would end below its initial requirement.
    tier = RiskTier(base_imf_ppm=200_000, mmf_ppm=100_000, oi_lower_cap_qq=20 * USDC,
                    oi_upper_cap_qq=200 * USDC, taker_fee_ppm=1_000, maker_fee_ppm=-300,
                    insurance_share_ppm=250_000)
    ex = exchange_cls(withdrawal_delay=10)
    ex.add_market(M, tick_ppm=10_000, risk=tier, mark_ppm=580_000)
    ex.deposit(ALICE, 20 * USDC)
    ex.deposit(BOB, 20 * USDC)
    ex.submit(M, 1, ALICE, BUY, 540_000, 34)
    ex.submit(M, 2, ALICE, BUY, 540_000, 1)

    r = ex.submit(M, 3, BOB, SELL, 540_000, 35)

    assert r.filled == 35
    taker_fees = sum(e.taker_fee_qq for e in r.events if e.kind == "order_filled")
    assert ex.balances(BOB).locked_for_positions == {M: r.lock_qq - taker_fees}
    v = ex.margin(BOB, M)
    assert v.equity_qq >= v.initial_requirement_qq
    ex.check_integrity()


def test_a_reduce_only_fill_closes_without_any_lock(ex):
    traded(ex)
    ex.submit(M, 3, CAROL, BUY, 505_000, 100)

    r = ex.submit(M, 4, ALICE, SELL, 505_000, 100, reduce_only=True)

    assert r.filled == 100 and ex.position(ALICE, M).size == 0
    assert ex.balances(ALICE).locked_for_positions == {}
    ex.check_integrity()


# ------------------------------------------------------------------------------- margin, OI, fees

def test_margin_view_reads_equity_requirements_and_health_at_the_mark(ex):
    traded(ex)
    ex.set_mark(M, 480_000)

    v = ex.margin(ALICE, M)

    # long 100 from 0.51, mark 0.48: unrealised -3 USDC; IM 10 % of 48, MM 5 % of 48
    assert v.unrealized_pnl_qq == -3 * USDC
    assert v.equity_qq == v.collateral_qq - 3 * USDC
    assert (v.initial_requirement_qq, v.maintenance_requirement_qq) == (4_800_000, 2_400_000)
    assert v.health_ppm == v.equity_qq * 1_000_000 // 2_400_000
    assert not v.liquidatable
    ex.set_mark(M, 470_000)  # equity 6.1245 - 4 = 2.1245 USDC <= maintenance 2.35 USDC
    assert ex.margin(ALICE, M).liquidatable is True


def test_a_short_is_margined_on_one_minus_the_price(ex):
    traded(ex)
    ex.set_mark(M, 20_000)  # a 2 % event: Bob's short risks 0.98 per contract

    v = ex.margin(BOB, M)

    assert v.initial_requirement_qq == 100 * 980_000 // 10
    assert v.maintenance_requirement_qq == 100 * 980_000 // 20


def test_open_interest_scales_the_initial_margin_of_new_orders(ex):
    ex.add_market("CROWDED", risk=RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000,
                                           oi_lower_cap_qq=10 * USDC, oi_upper_cap_qq=110 * USDC))
    ex.submit("CROWDED", 1, BOB, SELL, 500_000, 100)
    small = ex.submit("CROWDED", 2, ALICE, BUY, 400_000, 20)  # OI after 20 x 0.5 = 10 USDC: base
    big = ex.submit("CROWDED", 3, CAROL, BUY, 400_000, 420)  # OI after 420 x 0.5 = 210: 100 %

    assert small.lock_qq == 20 * 400_000 // 10 + 20 * 500
    assert big.lock_qq == 420 * 400_000 + 420 * 500


def test_a_maker_rebate_is_paid_out_of_the_taker_fee(ex):
    ex.add_market("REBATE", risk=RiskTier(taker_fee_ppm=500, maker_fee_ppm=-200,
                                          insurance_share_ppm=0))
    ex.submit("REBATE", 1, BOB, SELL, 500_000, 100)
    r = ex.submit("REBATE", 2, ALICE, BUY, 500_000, 100)

    fill = next(e for e in r.events if e.kind == "order_filled")
    # notional 50 USDC: taker pays 25_000 qq, maker receives 10_000 qq
    assert (fill.taker_fee_qq, fill.maker_fee_qq) == (25_000, -10_000)
    assert ex.fees_collected("REBATE") == 15_000
    ex.check_integrity()


def test_a_round_trip_at_an_unchanged_mark_costs_the_fees(ex):
    ex.submit(M, 1, CAROL, BUY, 500_000, 100)
    start = ex.balances(ALICE).total

    ex.submit(M, 2, ALICE, SELL, 500_000, 100)  # hits Carol's bid
    ex.submit(M, 3, BOB, SELL, 500_000, 100)
    ex.submit(M, 4, ALICE, BUY, 500_000, 100)  # lifts Bob's ask

    assert ex.position(ALICE, M).size == 0
    assert ex.balances(ALICE).total == start - 2 * 25_000


# ------------------------------------------------------------------------------- withdrawals

def test_a_withdrawal_waits_out_its_delay_and_is_then_paid(ex):
    r = ex.request_withdrawal(ALICE, 100 * USDC, now=1_000)

    assert r.ok and r.due_at == 1_060
    assert ex.balances(ALICE).locked_for_withdraw == 100 * USDC
    assert ex.process_withdrawal(r.withdrawal_id, now=1_059).code == Code.WITHDRAWAL_NOT_DUE
    done = ex.process_withdrawal(r.withdrawal_id, now=1_060)
    assert done.ok and [e.kind for e in done.events][0] == "withdrawal_executed"
    assert ex.balances(ALICE).total == 900 * USDC
    assert ex.check_conservation() == 2900 * USDC
    assert ex.process_withdrawal(r.withdrawal_id, now=2_000).code == Code.UNKNOWN_WITHDRAWAL


def test_a_withdrawal_larger_than_available_is_refused(ex):
    assert ex.request_withdrawal(ALICE, 1001 * USDC, now=0).code == Code.INSUFFICIENT_AVAILABLE
    assert ex.request_withdrawal(77, 1, now=0).code == Code.UNKNOWN_ACCOUNT


def test_a_withdrawal_that_would_leave_the_account_below_initial_margin_is_rejected(ex):
    ex.deposit(9, 10 * USDC)
    ex.submit(M, 1, BOB, SELL, 500_000, 100)
    ex.submit(M, 2, 9, BUY, 500_000, 100)  # locks 5.05 USDC into the position
    left = ex.balances(9).available
    r = ex.request_withdrawal(9, left, now=0)
    ex.set_mark(M, 430_000)  # -7 USDC: the account is now below its 4.3 USDC requirement

    done = ex.process_withdrawal(r.withdrawal_id, now=60)

    assert done.code == Code.WITHDRAWAL_BELOW_INITIAL_MARGIN
    assert ex.balances(9).available == left and ex.balances(9).locked_for_withdraw == 0
    assert [e.kind for e in done.events][0] == "withdrawal_rejected"
    ex.check_integrity()


def test_add_margin_moves_available_into_one_market(ex):
    traded(ex)
    before = ex.margin(ALICE, M).equity_qq

    assert ex.add_margin(ALICE, M, 2 * USDC).ok

    assert ex.margin(ALICE, M).equity_qq == before + 2 * USDC
    assert ex.add_margin(ALICE, M, 10**12).code == Code.INSUFFICIENT_AVAILABLE
    ex.check_integrity()


def test_markets_share_only_available_collateral(ex):
    ex.add_market("OTHER", risk=TIER)
    traded(ex)
    ex.submit("OTHER", 1, BOB, SELL, 300_000, 10)
    ex.submit("OTHER", 2, ALICE, BUY, 300_000, 10)

    lfp = ex.balances(ALICE).locked_for_positions
    assert set(lfp) == {M, "OTHER"}
    assert ex.open_interest("OTHER") == 10 and ex.open_interest(M) == 100
    ex.check_integrity()


def test_add_market_validates_its_arguments(ex):
    with pytest.raises(perpcore.InvalidInput):
        ex.add_market(M)
    with pytest.raises(perpcore.InvalidInput):
        ex.add_market("X", mark_ppm=1_000_000)
    with pytest.raises(perpcore.InvalidType):
        ex.add_market("Y", risk={"base_imf_ppm": 1})


# ------------------------------------------------------------------------------- batch

def _funded(exchange_cls, accounts):
    ex = exchange_cls()
    ex.add_market(M, tick_ppm=1000, risk=TIER, mark_ppm=500_000)
    for account in range(accounts):
        ex.deposit(account, 50 * USDC)  # tight: some orders are refused for margin
    return ex


def test_process_runs_a_command_array_exactly_like_the_per_call_methods(exchange_cls):
    from perpcore.workload import FlowSpec, generate_flow

    cmds = generate_flow(FlowSpec(n_events=3_000, n_accounts=30, target_live=300, seed=3))
    batch_ex, call_ex = _funded(exchange_cls, 30), _funded(exchange_cls, 30)

    out = batch_ex.process(M, cmds)

    events = []
    for i, c in enumerate(cmds):
        if c["op"] == perpcore.Op.PLACE:
            r = call_ex.submit(M, int(c["order_id"]), int(c["account"]), int(c["side"]),
                               int(c["price_ppm"]), int(c["size"]), tif=int(c["tif"]))
            assert (out.results["filled"][i], out.results["lock_qq"][i]) == (r.filled, r.lock_qq)
        else:
            r = call_ex.cancel(M, int(c["order_id"]))
        assert out.results["code"][i] == r.code and out.results["n_events"][i] == len(r.events)
        events.extend(r.events)
    assert out.events == tuple(events)
    codes = set(out.results["code"].tolist())
    assert Code.OK in codes and Code.INSUFFICIENT_AVAILABLE in codes  # both paths exercised
    assert batch_ex.book(M).state_hash() == call_ex.book(M).state_hash()
    batch_ex.check_integrity()


def test_batches_that_reuse_a_dropped_batchs_storage_never_touch_a_held_batch(exchange_cls):
    # A dropped batch's event storage serves the next batch (native); a batch still held keeps
    # its own. Each batch's events are checked against the same commands run on a twin.
    from perpcore.workload import FlowSpec, generate_flow

    cmds = generate_flow(FlowSpec(n_events=4_000, n_accounts=30, target_live=300, seed=5))
    parts = [cmds[k:k + 1_000] for k in range(0, 4_000, 1_000)]
    ex, twin = _funded(exchange_cls, 30), _funded(exchange_cls, 30)
    expected = [twin.process(M, part).events for part in parts]

    held = ex.process(M, parts[0])  # kept unread while the others run
    for part, events in zip(parts[1:3], expected[1:3]):
        assert ex.process(M, part).events == events  # built, then dropped: storage is spare
    last = ex.process(M, parts[3])

    assert held.events == expected[0] and last.events == expected[3]
    assert sum(len(e) for e in expected) > 4_000
    ex.check_integrity()



    cmds = np.zeros(3, perpcore.COMMAND_DTYPE)
    cmds[0] = (perpcore.Op.AMEND, 0, 0, 0, 0, 1, ALICE, 0, 5)
    cmds[1] = (perpcore.Op.PLACE, 0, 0, 0, 4, 1, ALICE, 500_000, 5)
    cmds[2] = (perpcore.Op.PLACE, 0, 0, 0, 0, perpcore.EXCHANGE_ORDER_ID_FIRST, ALICE, 500_000, 5)

    out = ex.process(M, cmds)

    assert out.results["code"].tolist() == [Code.INVALID_OP, Code.INVALID_FLAGS,
                                            Code.RESERVED_ORDER_ID]
    with pytest.raises(perpcore.InvalidType):
        ex.process(M, np.zeros(1, perpcore.RESULT_DTYPE))
