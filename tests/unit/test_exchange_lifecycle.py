"""Mark, funding and the market lifecycle inside the exchange, as a user meets them: a market
listed in Draft, oracle readings through the mark guards, stale marks deferring withdrawals,
funding sampled from the book and settled lazily into positions (payer rounds up, receiver down,
dust to the insurance fund), and a market that resolves, stops trading and settles every position
at its terminal value. Every test runs on the native exchange and on the reference
(``exchange_cls``); amounts are worked out in the comments (qq = 1e-6 USDC, idx = 1e-6 qq per
contract)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perpcore
from perpcore import Code, FundingParams, RiskTier, Side, TimeInForce
from perpcore.book_types import CancelReason
from perpcore.lifecycle import MarketPhase
from perpcore.mark import MarkParams

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4
M = "ELECTION"
USDC = 1_000_000
TIER = RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, taker_fee_ppm=0, maker_fee_ppm=0,
                insurance_share_ppm=0)
# one sample per block, 2 blocks a minute, 2 minutes a period, the whole premium charged
FUNDING = FundingParams.for_tier(TIER, impact_notional_qq=10 * USDC, sample_clamp_ppm=50_000,
                                 blocks_per_minute=2, minutes_per_period=2,
                                 rate_scale_ppm=1_000_000)


def make(exchange_cls, **kw):
    ex = exchange_cls(withdrawal_delay=10)
    ex.add_market(M, tick_ppm=1000, risk=TIER, mark_ppm=500_000, funding=FUNDING, **kw)
    for account in (ALICE, BOB, CAROL, DAVE):
        ex.deposit(account, 1000 * USDC)
    return ex


@pytest.fixture
def ex(exchange_cls):
    return make(exchange_cls)


def trade(ex, oid, buyer, seller, price, size):
    """`seller` rests, `buyer` lifts it in full."""
    assert ex.submit(M, oid, seller, SELL, price, size).ok
    r = ex.submit(M, oid + 1, buyer, BUY, price, size)
    assert r.filled == size, r
    return r


def run_period(ex, blocks=4):
    """Sample `blocks` blocks (two per minute), close the minutes and the period."""
    for b in range(blocks):
        ex.sample_funding(M)
        if b % 2 == 1:
            ex.close_funding_minute(M)
    return ex.close_funding_period(M, 100)


def quote_above_index(ex, bid, ask, size=100):
    """Dave quotes a two-sided market (bid/ask in ppm) deep enough for the impact notional."""
    assert ex.submit(M, 900, DAVE, BUY, bid, size).ok
    assert ex.submit(M, 901, DAVE, SELL, ask, size).ok


# ------------------------------------------------------------------------------- lifecycle

def test_a_draft_market_takes_no_orders_until_activated(exchange_cls):
    ex = make(exchange_cls, active=False)
    assert ex.phase(M) is MarketPhase.DRAFT

    r = ex.submit(M, 1, ALICE, BUY, 500_000, 10)

    assert r.code == Code.MARKET_NOT_TRADING and len(ex.book(M)) == 0
    a = ex.activate(M, 5)
    assert [(e.kind, e.from_phase, e.to_phase, e.stream) for e in a.events] == [
        ("market_phase_changed", MarketPhase.DRAFT, MarketPhase.ACTIVE, "market.event")]
    assert ex.submit(M, 1, ALICE, BUY, 500_000, 10).ok


@pytest.mark.parametrize("step", ["activate", "resolve", "settle"])
def test_an_illegal_transition_raises_and_changes_nothing(ex, step):
    trade(ex, 1, ALICE, BOB, 500_000, 10)
    before = (ex.phase(M), ex.book(M).state_hash(), ex.balances(ALICE), ex.mark(M))

    with pytest.raises(perpcore.IllegalTransition):
        getattr(ex, step)(M, 7)

    assert (ex.phase(M), ex.book(M).state_hash(), ex.balances(ALICE), ex.mark(M)) == before


def test_resolving_cancels_exposure_adding_orders_and_takes_only_reduce_only(ex):
    trade(ex, 1, ALICE, BOB, 600_000, 100)  # Alice long 100 @ 0.60, Bob short
    ex.submit(M, 10, CAROL, BUY, 550_000, 50)  # locks margin
    ex.submit(M, 11, ALICE, SELL, 700_000, 40, reduce_only=True)
    carol_lock = ex.balances(CAROL).locked_for_orders
    assert carol_lock > 0

    r = ex.begin_resolution(M, 1_000_000, 1_000, 100)

    assert ex.phase(M) is MarketPhase.RESOLVING
    kinds = [e.kind for e in r.events]
    assert kinds[0] == "market_phase_changed" and "mark_price_updated" in kinds
    cancelled = [(e.order_id, e.reason, e.released_qq) for e in r.events
                 if e.kind == "order_cancelled"]
    assert cancelled == [(10, CancelReason.REDUCE_ONLY, carol_lock)]
    assert ex.balances(CAROL).locked_for_orders == 0 and 11 in ex.book(M)
    # new exposure is refused, reducing is fine
    assert ex.submit(M, 12, CAROL, BUY, 600_000, 5).code == Code.MARKET_REDUCE_ONLY
    assert ex.submit(M, 13, BOB, BUY, 600_000, 5).code == Code.MARKET_REDUCE_ONLY
    assert ex.submit(M, 14, BOB, BUY, 700_000, 30, reduce_only=True).filled == 30
    assert ex.position(BOB, M).size == -70 and ex.position(ALICE, M).size == 70
    # no funding while resolving
    assert ex.sample_funding(M) is None
    assert ex.close_funding_period(M, 1_050).code == Code.MARKET_NOT_ACTIVE
    ex.check_integrity()


def test_the_mark_interpolates_to_the_resolved_value_over_the_window(ex):
    ex.set_mark(M, 600_000)
    ex.begin_resolution(M, 1_000_000, 1_000, 100)

    marks = [ex.refresh_mark(M, t).events[0].mark_ppm for t in (1_000, 1_025, 1_050, 1_100, 2_000)]

    assert marks == [600_000, 700_000, 800_000, 1_000_000, 1_000_000]
    assert ex.mark(M) == 1_000_000
    # oracle readings no longer move it
    r = ex.update_oracle(M, 10_000, 2_000, 2_000)
    assert not r.events[0].accepted and ex.mark(M) == 1_000_000
    assert ex.set_mark(M, 500_000).code == Code.MARKET_NOT_ACTIVE


@pytest.mark.parametrize("value", [0, 1_000_000, 420_000])
def test_settlement_closes_every_position_at_the_terminal_value(ex, value):
    trade(ex, 1, ALICE, BOB, 600_000, 100)  # Alice long 100 @ 0.60
    trade(ex, 3, CAROL, ALICE, 650_000, 30)  # Alice sells 30 @ 0.65 to Carol: long 70
    for account in (ALICE, BOB, CAROL):  # margin is isolated: enough to pay any outcome
        ex.add_margin(account, M, 100 * USDC)
    ex.submit(M, 20, DAVE, BUY, 100_000, 10)  # rests until the market resolves
    ex.begin_resolution(M, value, 1_000, 0)

    r = ex.resolve(M, 1_000)
    assert ex.phase(M) is MarketPhase.RESOLVED and ex.mark(M) == value
    assert len(ex.book(M)) == 0
    assert ex.submit(M, 30, ALICE, SELL, 500_000, 1, reduce_only=True).code == \
        Code.MARKET_NOT_TRADING
    s = ex.settle(M, 1_001)

    assert ex.phase(M) is MarketPhase.SETTLED and ex.open_interest(M) == 0
    for account in (ALICE, BOB, CAROL, DAVE):
        b = ex.balances(account)
        assert b.locked_for_positions == {} and b.locked_for_orders == 0
        assert b.available == b.total
        assert ex.position(account, M).size == 0
    # PnL against the terminal value (no fees in this tier): Alice bought 100 @ 0.60, sold 30 @
    # 0.65, 70 close at `value`; Bob short 100 @ 0.60; Carol long 30 @ 0.65
    pnl = {ALICE: -100 * 600_000 + 30 * 650_000 + 70 * value,
           BOB: 100 * 600_000 - 100 * value,
           CAROL: -30 * 650_000 + 30 * value, DAVE: 0}
    assert {a: ex.balances(a).total - 1000 * USDC for a in pnl} == pnl
    assert ex.bad_debt(M) == 0 and ex.clearing_pool(M) == 0
    assert ex.check_conservation() == 4000 * USDC
    assert "market_phase_changed" == s.events[0].kind
    assert {e.account for e in s.events if e.kind == "position_updated"} == {ALICE, BOB, CAROL}
    ex.check_integrity()
    assert r.ok


def test_resolving_to_zero_in_a_window_of_zero_lands_at_once(ex):
    trade(ex, 1, ALICE, BOB, 300_000, 10)
    ex.add_margin(ALICE, M, 5 * USDC)
    ex.begin_resolution(M, 0, 50, 0)
    assert ex.mark(M) == 0
    ex.resolve(M, 50)
    ex.settle(M, 50)
    assert ex.balances(ALICE).total == 1000 * USDC - 10 * 300_000
    assert ex.balances(BOB).total == 1000 * USDC + 10 * 300_000


# ------------------------------------------------------------------------------- mark service

def test_oracle_readings_pass_the_guards_and_set_the_mark(exchange_cls):
    ex = make(exchange_cls, mark_params=MarkParams(epsilon_ppm=10_000, max_deviation_ppm=50_000,
                                                   ema_time_constant_s=0, stale_after_s=30))

    e = ex.update_oracle(M, 900_000, 10, 10).events[0]  # deviation clamp: 0.50 -> 0.55

    assert (e.kind, e.stream, e.mark_ppm, e.index_ppm, e.accepted) == \
        ("mark_price_updated", "mark_price.event", 550_000, 550_000, True)
    assert ex.mark(M) == 550_000 and ex.index(M) == 550_000
    ex.update_oracle(M, 1_000_000, 11, 11)
    assert ex.index(M) == 600_000
    assert not ex.mark_stale(M, 41) and ex.mark_stale(M, 42)


def test_a_stale_mark_defers_withdrawals_of_accounts_with_positions_only(exchange_cls):
    ex = make(exchange_cls, mark_params=MarkParams(stale_after_s=30))
    ex.update_oracle(M, 500_000, 1, 1)
    trade(ex, 1, ALICE, BOB, 500_000, 10)
    w_alice = ex.request_withdrawal(ALICE, USDC, 5).withdrawal_id
    w_carol = ex.request_withdrawal(CAROL, USDC, 5).withdrawal_id

    r = ex.process_withdrawal(w_alice, 100)  # last reading at 1: stale since 31

    assert r.code == Code.WITHDRAWAL_DEFERRED_STALE_MARK
    assert w_alice in ex.pending_withdrawals() and ex.balances(ALICE).locked_for_withdraw == USDC
    assert ex.process_withdrawal(w_carol, 100).ok  # no position: nothing price-sensitive
    ex.update_oracle(M, 500_000, 100, 100)
    assert ex.process_withdrawal(w_alice, 100).ok
    ex.check_integrity()


def test_a_trusted_mark_never_goes_stale(ex):
    trade(ex, 1, ALICE, BOB, 500_000, 10)
    w = ex.request_withdrawal(ALICE, USDC, 0).withdrawal_id
    assert not ex.mark_stale(M, 10**9)
    assert ex.process_withdrawal(w, 10**9).ok


# ------------------------------------------------------------------------------- funding

def test_an_empty_book_side_samples_zero_and_a_period_of_zeros_moves_nothing(ex):
    ex.submit(M, 1, DAVE, BUY, 500_000, 100)  # bids only
    assert ex.sample_funding(M) == 0
    r = run_period(ex)
    e = r.events[0]
    assert (e.kind, e.stream, e.index_delta_idx, e.cumulative_index_idx) == \
        ("funding_index_updated", "funding.event", 0, 0)


def test_longs_pay_when_the_book_trades_above_the_index(ex):
    trade(ex, 1, ALICE, BOB, 500_000, 100)  # Alice long 100, Bob short 100 @ 0.50
    quote_above_index(ex, 519_000, 521_000)  # impact mid 0.52 vs index 0.50: +20,000 ppm

    assert ex.sample_funding(M) == 20_000
    r = run_period(ex)

    # the cap at 0.50 with IMF 10 %, MMF 5 %: floor(500,000 x 50,000 / 1e6) - 1 = 24,999 qq a
    # contract; the rate 20,000 ppm of price = 20,000 qq a contract is below it
    e = r.events[0]
    assert e.rate_idx == 20_000 * 1_000_000 and not e.capped
    assert ex.funding_index(M) == 20_000 * 1_000_000
    # unsettled until touched: Alice owes 100 x 20,000 qq = 2 USDC, Bob is owed as much
    assert ex.margin(ALICE, M).unsettled_funding_qq == -2 * USDC
    assert ex.margin(BOB, M).unsettled_funding_qq == 2 * USDC
    alice_equity = ex.margin(ALICE, M).equity_qq
    assert ex.balances(ALICE).locked_for_positions[M] - 2 * USDC + \
        ex.margin(ALICE, M).unrealized_pnl_qq == alice_equity

    # a fill touches Alice: she settles (the funding pool holds her payment until Bob settles)
    ex.cancel_all(M, DAVE)
    ex.submit(M, 50, CAROL, BUY, 530_000, 10)
    r = ex.submit(M, 51, ALICE, SELL, 530_000, 10, reduce_only=True)
    settled = [(e.account, e.amount_qq) for e in r.events if e.kind == "funding_settled"]
    assert settled == [(ALICE, 2 * USDC)]
    assert ex.position(ALICE, M).funding_paid_qq == 2 * USDC
    assert ex.margin(ALICE, M).unsettled_funding_qq == 0
    assert ex.funding_pool(M) == 2 * USDC
    ex.check_integrity()
    # Bob settles on his next fill: the pool is empty again
    ex.submit(M, 52, CAROL, SELL, 480_000, 10)
    r = ex.submit(M, 53, BOB, BUY, 480_000, 10, reduce_only=True)
    assert [(e.account, e.amount_qq) for e in r.events if e.kind == "funding_settled"] == \
        [(BOB, -2 * USDC)]
    assert ex.funding_pool(M) == 0
    ex.check_integrity()


def test_the_rate_is_capped_so_a_period_cannot_take_a_position_at_initial_past_maintenance(ex):
    trade(ex, 1, ALICE, BOB, 500_000, 100)
    quote_above_index(ex, 549_000, 551_000)  # +50,000: at the sample clamp

    assert ex.sample_funding(M) == 50_000
    e = run_period(ex).events[0]

    assert e.capped and e.rate_idx == 24_999 * 1_000_000


def test_one_lucky_block_cannot_set_the_rate(ex):
    trade(ex, 1, ALICE, BOB, 500_000, 100)
    quote_above_index(ex, 519_000, 521_000)
    ex.sample_funding(M)  # one block of +20,000, one of nothing, then a minute without blocks
    ex.cancel(M, 900)
    ex.sample_funding(M)
    ex.close_funding_minute(M)
    ex.close_funding_minute(M)
    e = ex.close_funding_period(M, 10).events[0]
    # minute 1: median(20,000, 0) = 10,000; minute 2: nothing, padded to 0; average 5,000
    assert e.avg_premium_ppm == 5_000


def test_funding_rounds_against_each_side_and_the_dust_goes_to_insurance(ex):
    # Alice long 3 against Bob short 2 and Carol short 1. The book's impact mid is 0.50 and the
    # index 1 ppm below it: one block samples +1 ppm, the period's average of two padded minutes
    # is 0 or more; then each pays or receives size x index / 1e6, payer rounding up.
    trade(ex, 1, ALICE, BOB, 500_000, 2)
    trade(ex, 3, ALICE, CAROL, 500_000, 1)
    for account in (ALICE, BOB, CAROL):
        ex.add_margin(account, M, 10 * USDC)
    quote_above_index(ex, 499_000, 501_000)
    ex.update_oracle(M, 499_997, 1, 1)  # the index: 3 ppm under the impact mid
    assert ex.sample_funding(M) == 3
    ex.close_funding_minute(M)
    ex.close_funding_period(M, 2)  # average of (3, padded 0) = 1 ppm: 1,000,000 idx/contract
    index = ex.funding_index(M)
    assert index == 1_000_000
    insurance = ex.insurance_fund(M)
    for _ in range(2):  # a second period of two full minutes at 3 ppm
        ex.sample_funding(M)
        ex.sample_funding(M)
        ex.close_funding_minute(M)
    ex.close_funding_period(M, 3)
    index = ex.funding_index(M)
    assert index == 4_000_000
    # settle everyone at resolution: payers round up, receivers down
    ex.begin_resolution(M, 500_000, 10, 0)
    ex.resolve(M, 10)
    r = ex.settle(M, 10)
    paid = {e.account: e.amount_qq for e in r.events if e.kind == "funding_settled"}
    assert paid == {ALICE: 12, BOB: -8, CAROL: -4}
    assert ex.insurance_fund(M) == insurance and ex.funding_pool(M) == 0
    ex.check_integrity()


def test_funding_dust_of_fractional_payments_goes_to_the_insurance_fund(exchange_cls):
    # rate_scale 1/3 makes fractional quantums: a 3 ppm premium charges 1,000,000 idx exactly,
    # a 1 ppm premium 333,333 idx; Alice (long 3) pays ceil(0.999999) = 1 qq, Bob (short 2)
    # receives floor(0.666666) = 0, Carol (short 1) floor(0.333333) = 0: 1 qq of dust
    tier_funding = FundingParams.for_tier(TIER, impact_notional_qq=10 * USDC,
                                          sample_clamp_ppm=50_000, blocks_per_minute=1,
                                          minutes_per_period=1, rate_scale_ppm=333_333)
    ex = exchange_cls(withdrawal_delay=0)
    ex.add_market(M, risk=TIER, mark_ppm=500_000, funding=tier_funding)
    for account in (ALICE, BOB, CAROL, DAVE):
        ex.deposit(account, 1000 * USDC)
    trade(ex, 1, ALICE, BOB, 500_000, 2)
    trade(ex, 3, ALICE, CAROL, 500_000, 1)
    quote_above_index(ex, 499_000, 501_000)
    ex.update_oracle(M, 499_999, 1, 1)
    assert ex.sample_funding(M) == 1
    ex.close_funding_minute(M)
    e = ex.close_funding_period(M, 2).events[0]
    assert e.rate_idx == 333_333
    ex.begin_resolution(M, 500_000, 10, 0)
    ex.resolve(M, 10)
    r = ex.settle(M, 10)
    paid = {e.account: e.amount_qq for e in r.events if e.kind == "funding_settled"}
    assert paid == {ALICE: 1}  # 3 x 333,333 idx = 999,999 idx: rounded up to 1 qq
    assert ex.insurance_fund(M) == 1 and ex.funding_pool(M) == 0
    ex.check_integrity()


# ------------------------------------------------------------------------------- properties

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(trades=st.lists(st.tuples(st.sampled_from([ALICE, BOB, CAROL]),
                                 st.sampled_from([ALICE, BOB, CAROL]),
                                 st.integers(100, 900), st.integers(1, 50)),
                       min_size=1, max_size=12),
       premia=st.lists(st.integers(-40, 40), min_size=1, max_size=4),
       value=st.sampled_from([0, 1_000_000, 370_000]))
def test_funding_is_zero_sum_up_to_dust_and_settlement_frees_everything(
        exchange_cls, trades, premia, value):
    ex = make(exchange_cls)
    oid = 1
    for (buyer, seller, ticks, size), premium in zip(trades, premia * len(trades)):
        if buyer == seller:
            continue
        price = ticks * 1000
        if ex.submit(M, oid, seller, SELL, price, size).ok:
            ex.submit(M, oid + 1, buyer, BUY, price, size, tif=TimeInForce.IOC)
            ex.cancel(M, oid)
        oid += 2
        # one period whose book sits `premium` ticks off the index
        mid = min(max(ex.index(M) + premium * 1000, 10_000), 990_000)
        ex.submit(M, oid, DAVE, BUY, mid - 1000, 400)
        ex.submit(M, oid + 1, DAVE, SELL, mid + 1000, 400)
        run_period(ex)
        ex.cancel_all(M, DAVE)
        oid += 2
        ex.check_integrity()
    ex.begin_resolution(M, value, 10_000, 5)
    ex.resolve(M, 10_005)
    r = ex.settle(M, 10_006)
    ex.check_integrity()
    assert ex.open_interest(M) == 0
    # every position settled: what was paid exceeds what was received by the rounding dust
    # alone, and all of it went to the insurance fund (this tier sends it no fees); a payment
    # the margin could not cover left the funding pool short by as much, recorded as bad debt
    paid = sum(ex.position(a, M).funding_paid_qq for a in (ALICE, BOB, CAROL, DAVE))
    assert paid == ex.insurance_fund(M) >= 0
    assert 0 <= -ex.funding_pool(M) <= ex.bad_debt(M)
    for account in (ALICE, BOB, CAROL, DAVE):
        b = ex.balances(account)
        assert b.total == b.available
    assert ex.check_conservation() == 4000 * USDC
    assert r.ok


def test_resolving_before_the_window_ends_settles_at_the_resolved_value(ex):
    trade(ex, 1, ALICE, BOB, 500_000, 10)
    ex.add_margin(BOB, M, 10 * USDC)
    ex.begin_resolution(M, 1_000_000, 0, 100)
    ex.resolve(M, 10)  # early: the glide is cut short

    assert ex.refresh_mark(M, 10).events[0].mark_ppm == 1_000_000
    assert ex.refresh_mark(M, 10).events[0].phase is MarketPhase.RESOLVED
    ex.settle(M, 11)

    assert ex.balances(ALICE).total == 1000 * USDC + 10 * 500_000
    assert ex.balances(BOB).total == 1000 * USDC - 10 * 500_000
    assert ex.add_margin(ALICE, M, USDC).code == Code.MARKET_NOT_TRADING


def test_a_trusted_mark_makes_an_oracle_fed_market_fresh_again(exchange_cls):
    ex = make(exchange_cls, mark_params=MarkParams(stale_after_s=30))
    ex.update_oracle(M, 500_000, 1, 1)
    assert ex.mark_stale(M, 100)
    ex.set_mark(M, 510_000)
    assert not ex.mark_stale(M, 100)


@pytest.mark.parametrize("call, error", [
    (lambda ex: ex.update_oracle(M, 1_000_001, 1, 1), perpcore.InvalidInput),
    (lambda ex: ex.update_oracle(M, 500_000, 5, 4), perpcore.InvalidInput),  # from the future
    (lambda ex: ex.update_oracle(M, 0.5, 1, 1), perpcore.InvalidType),
    (lambda ex: ex.begin_resolution(M, 1_000_001, 1, 10), perpcore.InvalidInput),
    (lambda ex: ex.begin_resolution(M, 1_000_000, 1, -1), perpcore.InvalidInput),
    (lambda ex: ex.begin_resolution(M, "1", 1, 10), perpcore.InvalidType),
    (lambda ex: ex.activate("NOPE", 1), perpcore.InvalidInput),
    (lambda ex: ex.add_market("X", funding=object()), perpcore.InvalidType),
    (lambda ex: ex.add_market("X", mark_params=object()), perpcore.InvalidType),
    (lambda ex: ex.add_market("X", active=1), perpcore.InvalidType),
])
def test_bad_arguments_to_the_new_calls_raise_and_change_nothing(ex, call, error):
    trade(ex, 1, ALICE, BOB, 500_000, 10)
    ex.submit(M, 5, CAROL, BUY, 400_000, 10)
    before = (ex.phase(M), ex.mark(M), ex.index(M), ex.book(M).state_hash(), ex.markets,
              ex.balances(CAROL), ex.funding_index(M))

    with pytest.raises(error):
        call(ex)

    assert (ex.phase(M), ex.mark(M), ex.index(M), ex.book(M).state_hash(), ex.markets,
            ex.balances(CAROL), ex.funding_index(M)) == before
    assert ex.update_oracle("NOPE", 500_000, 1, 1).code == Code.UNKNOWN_MARKET
    ex.check_integrity()
