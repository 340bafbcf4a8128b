"""The liquidation engine as a user meets it: ``exchange.liquidate(now)`` runs one block. Scenarios
for a mild breach, a deep breach, a gap through bankruptcy, an exhausted insurance fund (ADL),
each cap binding on its own, a stale mark, a book with nothing to take, and the scan itself.
Every test runs on the native exchange and on the reference (``exchange_cls``), both driven by the
same ``perpcore.liquidation.Liquidator``. Amounts are worked out in the comments (qq = 1e-6 USDC;
the trader is long 1000 YES at 0.5 with exactly its 50 USDC initial margin, MMF 5 %)."""

import pytest

import perpcore
from perpcore import Code, RiskTier, Side
from perpcore.book_types import CancelReason
from perpcore.events import PositionStatus
from perpcore.lifecycle import MarketPhase
from perpcore.mark import MarkParams

BUY, SELL = Side.BUY, Side.SELL
TRADER, SELLER, BIDDER, SHORT1, SHORT2, OPERATOR = 9, 2, 3, 4, 5, 6
M = "ELECTION"
USDC = 1_000_000


def tier(**kw):
    fields = dict(base_imf_ppm=100_000, mmf_ppm=50_000, taker_fee_ppm=0, maker_fee_ppm=0,
                  insurance_share_ppm=0)
    fields.update(kw)
    return RiskTier(**fields)


def make(exchange_cls, risk=None, trader_usdc=50, **kw):
    """The trader long 1000 at 0.5 against SELLER, with exactly its initial margin."""
    ex = exchange_cls()
    ex.add_market(M, tick_ppm=1000, risk=risk or tier(), mark_ppm=500_000, **kw)
    for account in (SELLER, BIDDER, SHORT1, SHORT2, OPERATOR):
        ex.deposit(account, 10**6 * USDC)
    ex.deposit(TRADER, trader_usdc * USDC)
    assert ex.submit(M, 1, SELLER, SELL, 500_000, 1000).ok
    assert ex.submit(M, 2, TRADER, BUY, 500_000, 1000).filled == 1000
    return ex


def bid(ex, oid, price, size, account=BIDDER):
    assert ex.submit(M, oid, account, BUY, price, size).resting == size


def open_shorts(ex):
    """SHORT1 sells 300 at 0.6 and SHORT2 300 at 0.5 to BIDDER, whose long is well margined."""
    for oid, account, price in ((20, SHORT1, 600_000), (22, SHORT2, 500_000)):
        assert ex.submit(M, oid, BIDDER, BUY, price, 300).resting == 300
        assert ex.submit(M, oid + 1, account, SELL, price, 300).filled == 300
    assert ex.add_margin(BIDDER, M, 1000 * USDC).ok


def kinds(block, kind):
    return [e for e in block.events if e.kind == kind]


# ------------------------------------------------------------------------------- the breach

def test_a_healthy_position_is_never_touched(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 490_000, 1000)
    ex.set_mark(M, 480_000)  # equity 30 USDC > maintenance 24 USDC
    block = ex.liquidate(1)
    assert block.events == () and block.candidates == 0
    assert ex.position(TRADER, M).size == 1000


def test_a_mild_breach_closes_half_near_the_mark_and_pays_the_fee_to_the_fund(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 459_000, 600)
    bid(ex, 11, 400_000, 600)
    ex.set_mark(M, 460_000)  # equity 50 - 40 = 10 USDC <= maintenance 23 USDC
    block = ex.liquidate(1)

    (started,) = kinds(block, "liquidation_started")
    # half the notional (460 USDC * 50 %) = 500 contracts; the slice takes its share of equity,
    # 10 * 11.5 / 23 = 5 USDC: bankruptcy (500 * 0.46 - 5) / 500 = 0.45; fillable: ABR = 1 -
    # 10/23, spread ABR * 10 % * 23 USDC / 1000 = 1300 ppm, 458_700 rounded up to the tick
    assert (started.close_size, started.bankruptcy_price_ppm, started.fillable_price_ppm) == (
        500, 450_000, 459_000)
    (filled,) = kinds(block, "liquidation_filled")
    assert (filled.price_ppm, filled.size, filled.bankruptcy_delta_qq) == (459_000, 500,
                                                                          4_500_000)
    # the fee: 0.5 % of 229.5 USDC = 1.1475 USDC, below the 4.5 USDC surplus
    (credit,) = kinds(block, "insurance_credited")
    assert credit.amount_qq == 1_147_500 == ex.insurance_fund(M)
    fills = kinds(block, "order_filled")
    assert [(f.taker_fee_qq, f.maker_fee_qq) for f in fills] == [(0, 0)]
    (finished,) = kinds(block, "liquidation_finished")
    assert (finished.closed, finished.remaining, finished.status, finished.code) == (
        500, 500, PositionStatus.OPEN, Code.OK)
    assert ex.position(TRADER, M).size == 500
    assert ex.position(TRADER, M).status is PositionStatus.OPEN
    assert block.liquidated == ((M, TRADER),)
    ex.check_integrity()


def test_the_position_is_liquidating_only_while_the_block_works_on_it(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 459_000, 600)
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    statuses = [e.status for e in block.events
                if e.kind == "position_updated" and e.account == TRADER]
    assert statuses[0] is PositionStatus.LIQUIDATING and statuses[-1] is PositionStatus.OPEN
    assert block.events.index(kinds(block, "liquidation_started")[0]) < block.events.index(
        kinds(block, "liquidation_filled")[0])


def test_a_liquidation_closes_nothing_more_than_one_slice_per_block(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 459_000, 1000)
    ex.set_mark(M, 460_000)
    first = ex.liquidate(1)
    assert len(kinds(first, "liquidation_started")) == 1
    assert ex.position(TRADER, M).size == 500 and ex.margin(TRADER, M).liquidatable
    # still under maintenance: the next block takes half of what is left, at a fillable price
    # now 460_000 (equity 8.35 of MMR 11.5: ABR 0.27, a 627 ppm spread, rounded up to the tick)
    ex.set_mark(M, 460_000)
    bid(ex, 11, 460_000, 100)
    second = ex.liquidate(2)
    (started,) = kinds(second, "liquidation_started")
    assert (started.close_size, started.fillable_price_ppm) == (250, 460_000)
    assert sum(e.size for e in kinds(second, "liquidation_filled")) == 100
    assert ex.position(TRADER, M).size == 400
    ex.check_integrity()


def test_the_accounts_orders_in_the_market_are_cancelled_first(exchange_cls):
    ex = make(exchange_cls, trader_usdc=60)
    assert ex.submit(M, 5, TRADER, SELL, 700_000, 10).resting == 10
    assert ex.balances(TRADER).locked_for_orders > 0
    bid(ex, 10, 459_000, 600)
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    (cancel,) = kinds(block, "order_cancelled")
    assert (cancel.order_id, cancel.reason) == (5, CancelReason.LIQUIDATION)
    assert ex.balances(TRADER).locked_for_orders == 0 and 5 not in ex.book(M)


def test_a_deep_breach_closes_at_the_bankruptcy_price_with_no_fee(exchange_cls):
    ex = make(exchange_cls, risk=tier(spread_to_mmr_ppm=1_000_000))
    bid(ex, 10, 450_000, 500)
    ex.set_mark(M, 450_000)  # equity 50 - 50 = 0: bankruptcy is the mark itself
    block = ex.liquidate(1)
    (started,) = kinds(block, "liquidation_started")
    # ABR = 1, spread = 100 % of MMR 22.5 USDC / 1000 = 22_500 ppm -> fillable 428_000
    assert (started.bankruptcy_price_ppm, started.fillable_price_ppm) == (450_000, 428_000)
    (filled,) = kinds(block, "liquidation_filled")
    assert (filled.price_ppm, filled.size, filled.bankruptcy_delta_qq) == (450_000, 500, 0)
    assert kinds(block, "insurance_credited") == [] and kinds(block, "insurance_drawn") == []
    assert ex.insurance_fund(M) == 0
    ex.check_integrity()


def test_a_gap_through_bankruptcy_is_paid_by_the_insurance_fund(exchange_cls):
    ex = make(exchange_cls, risk=tier(spread_to_mmr_ppm=1_000_000))
    assert ex.fund_insurance(OPERATOR, M, 20 * USDC).ok
    bid(ex, 10, 440_000, 500)
    ex.set_mark(M, 455_000)  # equity 5 USDC, MMR 22.75 USDC
    block = ex.liquidate(1)
    (started,) = kinds(block, "liquidation_started")
    # bankruptcy of 500: (500 * 0.455 - 2.5) / 500 = 0.45; the fill at 0.44 is 5 USDC short
    assert started.bankruptcy_price_ppm == 450_000 and started.fillable_price_ppm <= 440_000
    (draw,) = kinds(block, "insurance_drawn")
    assert draw.amount_qq == 5 * USDC and ex.insurance_fund(M) == 15 * USDC == draw.fund_qq
    (filled,) = kinds(block, "liquidation_filled")
    assert filled.bankruptcy_delta_qq == -5 * USDC
    # equity / maintenance is unchanged by the slice: 2.5 / 11.375 as 5 / 22.75
    v = ex.margin(TRADER, M)
    assert (v.equity_qq, v.maintenance_requirement_qq) == (2_500_000, 11_375_000)
    assert ex.bad_debt(M) == 0
    ex.check_integrity()


def test_an_exhausted_fund_deleverages_the_most_profitable_most_levered_first(exchange_cls):
    ex = make(exchange_cls)
    open_shorts(ex)
    ex.set_mark(M, 400_000)  # trader: equity 50 - 100 = -50 USDC, nothing in the fund
    block = ex.liquidate(1)  # an empty bid side: nothing fills, the fund cannot cover
    # score = profit / |open notional| * notional at the mark / equity, at the mark 0.4:
    # SHORT1 (sold 300 at 0.6, 12 USDC margin): 60/180 * 120/72 = 0.556
    # SELLER (sold 1000 at 0.5, 50 USDC):      100/500 * 400/150 = 0.533
    # SHORT2 (sold 300 at 0.5, 15 USDC):        30/150 * 120/45 = 0.533, a tie: lower id first
    # at the trader's bankruptcy price for the whole position, 0.4 + 50 USDC / 1000 = 0.45
    adl = kinds(block, "deleveraging_filled")
    assert [(e.counterparty, e.size, e.price_ppm) for e in adl] == [
        (SHORT1, 300, 450_000), (SELLER, 700, 450_000)]
    (finished,) = kinds(block, "liquidation_finished")
    assert (finished.deleveraged, finished.remaining, finished.status) == (
        1000, 0, PositionStatus.CLOSED)
    assert block.deleveraged == ((M, TRADER),)
    assert ex.position(SHORT1, M).size == 0 and ex.position(SELLER, M).size == -300
    assert ex.position(SHORT2, M).size == -300
    # the trader ends with nothing, owing nothing: the loss went to the counterparties
    assert ex.balances(TRADER).locked_for_positions.get(M, 0) == 0 and ex.bad_debt(M) == 0
    ex.check_integrity()


def test_a_fund_that_can_cover_the_deficit_means_no_adl(exchange_cls):
    ex = make(exchange_cls)
    assert ex.fund_insurance(OPERATOR, M, 100 * USDC).ok
    open_shorts(ex)
    ex.set_mark(M, 400_000)
    block = ex.liquidate(1)
    assert kinds(block, "deleveraging_filled") == []
    (finished,) = kinds(block, "liquidation_finished")
    assert finished.code == Code.LIQUIDATION_NOTHING_FILLED
    assert block.deferred == ((M, TRADER),)


# ------------------------------------------------------------------------------- the caps

def test_the_portion_cap_is_the_default_and_a_whole_close_is_configurable(exchange_cls):
    ex = make(exchange_cls, risk=tier(liquidation_portion_ppm=1_000_000))
    bid(ex, 10, 459_000, 2000)
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    assert kinds(block, "liquidation_started")[0].close_size == 1000
    assert ex.position(TRADER, M).size == 0


def test_a_position_below_the_minimum_notional_closes_whole(exchange_cls):
    # 460 USDC of notional is below a 500 USDC minimum: whole, despite the 50 % portion
    ex = make(exchange_cls, risk=tier(liquidation_min_notional_qq=500 * USDC))
    bid(ex, 10, 459_000, 2000)
    ex.set_mark(M, 460_000)
    assert kinds(ex.liquidate(1), "liquidation_started")[0].close_size == 1000


def test_the_minimum_notional_overrides_the_portion(exchange_cls):
    # portion 10 % = 46 USDC, the minimum 92 USDC wins: 92 / 0.46 = 200 contracts
    ex = make(exchange_cls, risk=tier(liquidation_portion_ppm=100_000,
                                      liquidation_min_notional_qq=92 * USDC))
    bid(ex, 10, 459_000, 2000)
    ex.set_mark(M, 460_000)
    assert kinds(ex.liquidate(1), "liquidation_started")[0].close_size == 200


def test_the_account_notional_cap_binds_across_markets_within_a_block(exchange_cls):
    risk = tier(liquidation_portion_ppm=1_000_000, liquidation_max_notional_qq=300 * USDC)
    ex = make(exchange_cls, risk=risk)
    bid(ex, 10, 459_000, 2000)
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    # 300 USDC of the 460 USDC position: floor(300 / 0.46) = 652 contracts
    assert kinds(block, "liquidation_started")[0].close_size == 652
    assert ex.position(TRADER, M).size == 348
    # a second market in the same block finds the budget spent: 652 * 0.46 = 299.92 USDC used
    ex2 = make(exchange_cls, risk=risk)
    ex2.add_market("OTHER", tick_ppm=1000, risk=risk, mark_ppm=500_000)
    ex2.deposit(TRADER, 50 * USDC)
    assert ex2.submit("OTHER", 1, SELLER, SELL, 500_000, 1000).ok
    assert ex2.submit("OTHER", 2, TRADER, BUY, 500_000, 1000).filled == 1000
    bid(ex2, 10, 459_000, 2000)
    assert ex2.submit("OTHER", 10, BIDDER, BUY, 459_000, 2000).resting == 2000
    ex2.set_mark(M, 460_000)
    ex2.set_mark("OTHER", 460_000)
    block = ex2.liquidate(1)
    started = kinds(block, "liquidation_started")
    assert [(e.market, e.close_size) for e in started] == [(M, 652), ("OTHER", 1)]
    assert [e.closed for e in kinds(block, "liquidation_finished")] == [652, 1]
    ex2.check_integrity()


def test_the_insurance_draw_cap_cuts_the_slice_and_defers_the_rest(exchange_cls):
    ex = make(exchange_cls, risk=tier(spread_to_mmr_ppm=1_000_000,
                                      insurance_max_draw_qq=2 * USDC))
    assert ex.fund_insurance(OPERATOR, M, 20 * USDC).ok
    bid(ex, 10, 440_000, 500)
    ex.set_mark(M, 455_000)  # each contract filled at 0.44 draws 0.01 USDC
    block = ex.liquidate(1)
    (draw,) = kinds(block, "insurance_drawn")
    assert draw.amount_qq <= 2 * USDC
    (filled,) = kinds(block, "liquidation_filled")
    assert filled.size == 200  # 2 USDC / 0.01 USDC per contract
    (finished,) = kinds(block, "liquidation_finished")
    assert finished.code == Code.LIQUIDATION_DEFERRED_INSURANCE_CAP
    # the next block continues where the cap stopped it
    block = ex.liquidate(2)
    assert sum(e.size for e in kinds(block, "liquidation_filled")) > 0
    ex.check_integrity()


def test_the_fee_cap_binds_when_the_surplus_is_large(exchange_cls):
    ex = make(exchange_cls, risk=tier(liquidation_fee_ppm=1_000))
    bid(ex, 10, 459_000, 600)
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    # 0.1 % of 229.5 USDC = 0.2295 USDC, far below the 4.5 USDC surplus
    assert kinds(block, "insurance_credited")[0].amount_qq == 229_500


# ------------------------------------------------------------------------------- deferrals

def test_a_stale_mark_defers_liquidation_until_a_fresh_reading(exchange_cls):
    ex = make(exchange_cls, mark_params=MarkParams(epsilon_ppm=1_000, max_deviation_ppm=100_000,
                                                   ema_time_constant_s=0, stale_after_s=30))
    bid(ex, 10, 459_000, 600)
    ex.update_oracle(M, 460_000, 100, 100)
    block = ex.liquidate(200)  # the reading is 100 s old
    (deferred,) = kinds(block, "liquidation_deferred")
    assert deferred.code == Code.LIQUIDATION_DEFERRED_STALE_MARK
    assert kinds(block, "liquidation_started") == [] and ex.position(TRADER, M).size == 1000
    ex.update_oracle(M, 460_000, 200, 200)
    assert kinds(ex.liquidate(200), "liquidation_filled")


def test_a_liquidation_that_fills_nothing_leaves_the_position_open(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 300_000, 600)  # far below the fillable price
    ex.set_mark(M, 460_000)
    block = ex.liquidate(1)
    (finished,) = kinds(block, "liquidation_finished")
    assert (finished.closed, finished.code) == (0, Code.LIQUIDATION_NOTHING_FILLED)
    assert ex.position(TRADER, M).size == 1000
    assert ex.position(TRADER, M).status is PositionStatus.OPEN
    assert 10 in ex.book(M)
    ex.check_integrity()


def test_a_draft_market_is_not_liquidated_and_resolving_one_is(exchange_cls):
    ex = make(exchange_cls)
    bid(ex, 10, 459_000, 600)
    ex.set_mark(M, 460_000)
    ex.begin_resolution(M, 0, 1_000, 100)
    assert ex.phase(M) is MarketPhase.RESOLVING
    assert kinds(ex.liquidate(1_000), "liquidation_started")


def test_a_resolving_market_deleverages_what_its_book_cannot_close_at_the_mark(exchange_cls):
    ex = make(exchange_cls)
    open_shorts(ex)  # the bid side is empty: BIDDER's bids were all taken
    ex.set_mark(M, 460_000)  # trader: equity 50 - 40 = 10 USDC <= maintenance 23 USDC
    ex.begin_resolution(M, 0, 1_000, 100)  # reduce-only from here: no new liquidity will come
    block = ex.liquidate(1_000)  # the glide starts at 0.46
    # scores at 0.46: SHORT1 42/180 * 138/54 = 0.596; SELLER 40/500 * 460/90 = 0.409, SHORT2
    # 12/150 * 138/27 = 0.409, a tie: lower id first. Equity is not negative: at the mark.
    adl = kinds(block, "deleveraging_filled")
    assert [(e.counterparty, e.size, e.price_ppm) for e in adl] == [
        (SHORT1, 300, 460_000), (SELLER, 700, 460_000)]
    assert kinds(block, "insurance_drawn") == []
    assert ex.position(TRADER, M).size == 0 and ex.bad_debt(M) == 0
    assert ex.balances(TRADER).total == 10 * USDC  # its 50 USDC margin less the 40 USDC loss
    assert ex.position(SHORT1, M).size == 0 and ex.position(SELLER, M).size == -300
    ex.check_integrity()


def test_a_resolving_market_tops_up_a_negative_equity_from_the_fund_before_deleveraging(
        exchange_cls):
    ex = make(exchange_cls)
    assert ex.fund_insurance(OPERATOR, M, 100 * USDC).ok
    open_shorts(ex)
    ex.set_mark(M, 400_000)  # trader: equity 50 - 100 = -50 USDC; the fund can cover it
    ex.begin_resolution(M, 0, 1_000, 100)
    block = ex.liquidate(1_000)
    (drawn,) = kinds(block, "insurance_drawn")
    assert (drawn.amount_qq, ex.insurance_fund(M)) == (50 * USDC, 50 * USDC)
    adl = kinds(block, "deleveraging_filled")
    assert {e.price_ppm for e in adl} == {400_000} and sum(e.size for e in adl) == 1000
    assert ex.balances(TRADER).total == 0 and ex.bad_debt(M) == 0
    ex.check_integrity()


def test_a_resolving_market_deleverages_at_bankruptcy_when_the_fund_cannot_cover(exchange_cls):
    ex = make(exchange_cls)
    assert ex.fund_insurance(OPERATOR, M, 10 * USDC).ok
    open_shorts(ex)
    ex.set_mark(M, 400_000)  # equity -50 USDC, the fund holds 10
    ex.begin_resolution(M, 0, 1_000, 100)
    block = ex.liquidate(1_000)
    assert kinds(block, "insurance_drawn") == [] and ex.insurance_fund(M) == 10 * USDC
    # the whole position at its bankruptcy price, 0.4 + 50 USDC / 1000 = 0.45
    assert {e.price_ppm for e in kinds(block, "deleveraging_filled")} == {450_000}
    assert ex.position(TRADER, M).size == 0 and ex.bad_debt(M) == 0
    ex.check_integrity()


def test_final_deleveraging_gives_a_counterparty_no_more_than_it_can_pay_for(exchange_cls):
    # Tick 0.01. D sells 2 at 0.01, lifting A's bid at 0.26 and B's at 0.14; C sells 3 at 0.01,
    # one to A's bid at 0.01 and two resting, which D buys back. A is long 2 (open notional
    # 0.27), B long 1 at 0.14, C short 3 at 0.01. The mark falls to 0.02 and the market resolves:
    # the book is empty and both longs are under water, so both are deleveraged against C at their
    # bankruptcy prices. B's 1 at 0.1255 costs C 0.1155, and C's margin above its initial
    # requirement goes back to C, leaving 0.216 USDC; A's first contract at 0.121 costs C 0.111.
    # A second would cost C another 0.111 out of the 0.105 it has left, the rest bad debt: A keeps
    # it.
    a, b, c, d = 1, 2, 3, 4
    ex = exchange_cls()
    ex.add_market(M, tick_ppm=10_000, risk=tier(taker_fee_ppm=500), mark_ppm=500_000)
    for account in (a, b, c, d):
        ex.deposit(account, 20 * USDC)
    for oid, (account, side, price, size) in enumerate(
            [(a, BUY, 10_000, 1), (a, BUY, 260_000, 1), (b, BUY, 140_000, 1),
             (d, SELL, 10_000, 2), (c, SELL, 10_000, 3), (d, BUY, 10_000, 2)], start=1):
        assert ex.submit(M, oid, account, side, price, size).ok
    assert [ex.position(x, M).size for x in (a, b, c, d)] == [2, 1, -3, 0]
    ex.set_mark(M, 20_000)
    ex.begin_resolution(M, 0, 1, 1)

    block = ex.liquidate(1)

    assert [(e.account, e.counterparty, e.size, e.price_ppm)
            for e in kinds(block, "deleveraging_filled")] == [(b, c, 1, 125_500),
                                                               (a, c, 1, 121_000)]
    assert [(e.account, e.remaining) for e in kinds(block, "liquidation_finished")] == [(b, 0),
                                                                                        (a, 1)]
    assert ex.margin(c, M).collateral_qq == 105_000 and ex.margin(c, M).equity_qq == 95_000
    assert ex.bad_debt(M) == 0
    ex.check_integrity()


def test_a_short_is_liquidated_when_the_probability_rises(exchange_cls):
    ex = exchange_cls()
    ex.add_market(M, tick_ppm=1000, risk=tier(), mark_ppm=500_000)
    for account in (SELLER, BIDDER):
        ex.deposit(account, 10**6 * USDC)
    ex.deposit(TRADER, 50 * USDC)
    assert ex.submit(M, 1, BIDDER, BUY, 500_000, 1000).ok
    assert ex.submit(M, 2, TRADER, SELL, 500_000, 1000).filled == 1000
    assert ex.submit(M, 3, SELLER, SELL, 541_000, 600).resting == 600
    ex.set_mark(M, 540_000)  # the mirror of the long at 0.46
    block = ex.liquidate(1)
    (started,) = kinds(block, "liquidation_started")
    assert (started.close_size, started.bankruptcy_price_ppm, started.fillable_price_ppm) == (
        500, 550_000, 541_000)
    assert kinds(block, "liquidation_filled")[0].bankruptcy_delta_qq == 4_500_000
    assert ex.position(TRADER, M).size == -500


# ------------------------------------------------------------------------------- the scan

def test_the_scan_follows_trades_margin_and_funding_without_rescanning(exchange_cls):
    ex = make(exchange_cls, trader_usdc=100)
    ex.set_mark(M, 480_000)  # equity 30 > maintenance 24: nothing due
    assert ex.liquidate(1).candidates == 0
    assert ex.add_margin(TRADER, M, 20 * USDC).ok  # isolated: only position margin counts
    ex.set_mark(M, 460_000)  # equity 70 - 40 = 30 > 23 thanks to the added margin
    assert ex.liquidate(2).candidates == 0
    ex.set_mark(M, 440_000)  # 70 - 60 = 10 <= 22
    assert ex.liquidate(3).candidates == 1
    # a trade moves the position: selling 600 to a bid takes it out of reach again
    bid(ex, 10, 440_000, 1000)
    assert ex.submit(M, 30, TRADER, SELL, 440_000, 600, reduce_only=True).filled == 600
    assert not ex.margin(TRADER, M).liquidatable
    assert ex.liquidate(4).candidates == 0


# ------------------------------------------------------------------------------- bad input

def test_fund_insurance_refuses_nonsense_and_changes_nothing(exchange_cls):
    ex = make(exchange_cls)
    state = (ex.balances(OPERATOR), ex.insurance_fund(M))
    for args, error in (((OPERATOR, M, 0), perpcore.InvalidInput),
                        ((OPERATOR, M, -5), perpcore.InvalidInput),
                        ((OPERATOR, M, 1.5), perpcore.InvalidType),
                        ((-1, M, 5), perpcore.InvalidInput),
                        ((OPERATOR, 7, 5), perpcore.InvalidType)):
        with pytest.raises(error):
            ex.fund_insurance(*args)
    assert ex.fund_insurance(OPERATOR, "NOPE", 5).code == Code.UNKNOWN_MARKET
    assert ex.fund_insurance(77, M, 5).code == Code.UNKNOWN_ACCOUNT
    assert ex.fund_insurance(OPERATOR, M, 10**7 * USDC).code == Code.INSUFFICIENT_AVAILABLE
    assert (ex.balances(OPERATOR), ex.insurance_fund(M)) == state
    ex.check_integrity()


@pytest.mark.parametrize(("now", "error"), [(1.0, "InvalidType"), ("1", "InvalidType"),
                                            (2**63, "InvalidInput")])
def test_liquidate_refuses_a_time_that_is_not_an_int64(exchange_cls, now, error):
    ex = make(exchange_cls)
    bid(ex, 10, 459_000, 600)
    ex.set_mark(M, 460_000)
    with pytest.raises(getattr(perpcore, error)):
        ex.liquidate(now)
    assert ex.position(TRADER, M).size == 1000 and 10 in ex.book(M)
