"""Hypothesis drives the exchange with random deposits, orders, cancels, marks, margin,
withdrawals, funding minutes and periods, and the resolution and settlement of one of its two
markets, and checks every invariant after every step: conservation, no negative bucket, longs =
shorts = open interest, order locks = locked_for_orders, the clearing and funding pool identities,
reduce-only orders within the position (``Exchange.check_integrity``); that every accepted order
left its account at or above initial margin; that no order adds exposure outside Active; that a
settled market holds no position and no margin; and, separately, that a round trip at an
unchanged mark never increases an account's equity. Both run on the native exchange and on the
reference."""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from perpcore import Code, Exchange, RiskTier, Side, TimeInForce
from perpcore.lifecycle import MarketPhase
from perpcore.reference import ReferenceExchange

USDC = 1_000_000
ACCOUNTS = st.integers(0, 4)
TIFS = st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                        TimeInForce.POST_ONLY, TimeInForce.MARKET])
MARKETS = {
    # a coarse market with OI scaling and a maker rebate, and a lot-5 market with maker fees
    "A": dict(tick_ppm=10_000, lot=1, min_size=1,
              risk=RiskTier(base_imf_ppm=200_000, mmf_ppm=100_000, oi_lower_cap_qq=20 * USDC,
                            oi_upper_cap_qq=200 * USDC, taker_fee_ppm=1_000, maker_fee_ppm=-300,
                            insurance_share_ppm=250_000)),
    "B": dict(tick_ppm=50_000, lot=5, min_size=5,
              risk=RiskTier(base_imf_ppm=500_000, mmf_ppm=250_000, taker_fee_ppm=0,
                            maker_fee_ppm=0, insurance_share_ppm=0)),
}


class ExchangeMachine(RuleBasedStateMachine):
    exchange_cls = Exchange

    @initialize(funds=st.lists(st.integers(20, 400), min_size=5, max_size=5))
    def setup(self, funds):
        self.ex = self.exchange_cls(withdrawal_delay=10)
        for name, kw in MARKETS.items():
            self.ex.add_market(name, mark_ppm=500_000, **kw)
        for account, usdc in enumerate(funds):
            self.ex.deposit(account, usdc * USDC)
        self.next_id = 1
        self.now = 0
        self.ids = {name: [] for name in MARKETS}
        self.withdrawals = []
        self.reduce_only_ids = set()

    def check_reduce_only_makers(self, r, positions):
        """A reduce-only maker's fill, with the fills its account made before it in the same sweep,
        stays within the account's position before the call and on its closing side."""
        sold = {}  # maker account -> what it traded in this call so far (signed: a buy adds)
        for e in r.events:
            if e.kind != "order_filled":
                continue
            signed = e.size if e.taker_side == Side.SELL else -e.size
            sold[e.maker_account] = sold.get(e.maker_account, 0) + signed
            if e.maker_order_id in self.reduce_only_ids:
                before = positions[e.maker_account]
                after = before + sold[e.maker_account]
                assert abs(after) < abs(before) and (after == 0 or (after < 0) == (before < 0)), \
                    (e, before, after)

    @rule(account=ACCOUNTS, amount=st.integers(1, 300 * USDC))
    def deposit(self, account, amount):
        assert self.ex.deposit(account, amount).ok

    @rule(market=st.sampled_from(sorted(MARKETS)), account=ACCOUNTS,
          side=st.sampled_from([Side.BUY, Side.SELL]), ticks=st.integers(-4, 4),
          lots=st.integers(1, 60), tif=TIFS, reduce_only=st.sampled_from([False, False, True]),
          at_touch=st.booleans())
    def submit(self, market, account, side, ticks, lots, tif, reduce_only, at_touch):
        book = self.ex.book(market)
        tick = book.tick_ppm
        mark_tick = self.ex.mark(market) // tick
        price = min(max(mark_tick + ticks, 1), 1_000_000 // tick - 1) * tick
        touch = book.best_ask() if side == Side.BUY else book.best_bid()
        if at_touch and touch is not None:
            price = touch  # take the other side's best price: fills are what we are after
        if tif == TimeInForce.MARKET and ticks < -3:
            price = 0  # no protection: the lock assumes the grid's edge
        oid = self.next_id
        self.next_id += 1
        before = self.ex.position(account, market).size
        phase = self.ex.phase(market)
        positions = {a: self.ex.position(a, market).size for a in range(5)}
        r = self.ex.submit(market, oid, account, side, price, lots * book.lot, tif=tif,
                           reduce_only=reduce_only)
        self.check_reduce_only_makers(r, positions)
        event(f"submit: {Code(r.code).name}{', filled' if r.filled else ''}")
        if r.ok:
            self.ids[market].append(oid)
            if reduce_only:
                self.reduce_only_ids.add(oid)
            v = self.ex.margin(account, market)
            after = self.ex.position(account, market).size
            if abs(after) > abs(before) or (after < 0) != (before < 0) and after != 0:
                # the order grew or flipped the position: the account is at initial margin or above
                assert v.equity_qq >= v.initial_requirement_qq, (r, v)
            if reduce_only or phase is not MarketPhase.ACTIVE:
                # reduce-only orders, and every order outside Active, never add exposure
                assert r.lock_qq == 0 and abs(after) <= abs(before)
        else:
            assert r.code != Code.OK and r.lock_qq == 0

    @precondition(lambda self: any(self.ids.values()))
    @rule(data=st.data())
    def cancel(self, data):
        market = data.draw(st.sampled_from([m for m, ids in self.ids.items() if ids]))
        oid = data.draw(st.sampled_from(self.ids[market]))
        before = self.ex.balances(0).available  # any account: cancel never changes others' money
        r = self.ex.cancel(market, oid)
        assert r.code in (Code.OK, Code.UNKNOWN_ORDER_ID)
        if r.code == Code.UNKNOWN_ORDER_ID:
            assert self.ex.balances(0).available == before

    @precondition(lambda self: any(self.ids.values()))
    @rule(market=ACCOUNTS.map(lambda i: "AB"[i % 2]), account=ACCOUNTS)
    def cancel_all(self, market, account):
        assert self.ex.cancel_all(market, account).ok

    @rule(market=st.sampled_from(sorted(MARKETS)), move=st.integers(-80_000, 80_000))
    def set_mark(self, market, move):
        mark = min(max(self.ex.mark(market) + move, 10_000), 990_000)
        assert self.ex.set_mark(market, mark).code == (
            Code.OK if self.ex.phase(market) <= MarketPhase.ACTIVE else Code.MARKET_NOT_ACTIVE)

    @rule(account=ACCOUNTS, market=st.sampled_from(sorted(MARKETS)),
          share=st.integers(1, 100))
    def add_margin(self, account, market, share):
        amount = self.ex.balances(account).available * share // 100
        if amount > 0:
            assert self.ex.add_margin(account, market, amount).code == (
                Code.OK if self.ex.phase(market).allows_trading else Code.MARKET_NOT_TRADING)

    @rule(account=ACCOUNTS, share=st.integers(1, 100))
    def request_withdrawal(self, account, share):
        amount = self.ex.balances(account).available * share // 100
        if amount > 0:
            r = self.ex.request_withdrawal(account, amount, self.now)
            assert r.ok
            self.withdrawals.append(r.withdrawal_id)

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), wait=st.integers(0, 15))
    def process_withdrawal(self, data, wait):
        self.now += wait
        wid = data.draw(st.sampled_from(self.withdrawals))
        r = self.ex.process_withdrawal(wid, self.now)
        assert r.code in (Code.OK, Code.WITHDRAWAL_NOT_DUE, Code.WITHDRAWAL_BELOW_INITIAL_MARGIN)
        if r.code != Code.WITHDRAWAL_NOT_DUE:
            self.withdrawals.remove(wid)

    @rule(market=st.sampled_from(sorted(MARKETS)), blocks=st.integers(0, 3),
          close=st.booleans())
    def funding(self, market, blocks, close):
        """A minute of `blocks` samples, and maybe the period's close (only Active runs it)."""
        for _ in range(blocks):
            self.ex.sample_funding(market)
        self.ex.close_funding_minute(market)
        if close:
            r = self.ex.close_funding_period(market, self.now)
            assert r.code == (Code.OK if self.ex.phase(market) is MarketPhase.ACTIVE
                              else Code.MARKET_NOT_ACTIVE)

    @rule(step=st.sampled_from(["begin", "resolve", "settle"]),
          value=st.sampled_from([0, 1_000_000, 640_000]))
    def lifecycle_of_b(self, step, value):
        """Market B resolves and settles (one step at a time, in order); A trades on."""
        phase = self.ex.phase("B")
        if step == "begin" and phase is MarketPhase.ACTIVE:
            self.ex.begin_resolution("B", value, self.now, 5)
        elif step == "resolve" and phase is MarketPhase.RESOLVING:
            self.ex.resolve("B", self.now)
            assert len(self.ex.book("B")) == 0
        elif step == "settle" and phase is MarketPhase.RESOLVED:
            self.ex.settle("B", self.now)
            assert self.ex.open_interest("B") == 0
            for account in range(5):
                assert "B" not in self.ex.balances(account).locked_for_positions
                assert self.ex.position(account, "B").size == 0

    @invariant()
    def every_invariant_holds(self):
        self.ex.check_integrity()


class ReferenceExchangeMachine(ExchangeMachine):
    exchange_cls = ReferenceExchange


MACHINE_SETTINGS = settings(max_examples=100, stateful_step_count=50, deadline=None)
ExchangeMachine.TestCase.settings = MACHINE_SETTINGS
ReferenceExchangeMachine.TestCase.settings = MACHINE_SETTINGS
TestExchange = ExchangeMachine.TestCase
TestReferenceExchange = ReferenceExchangeMachine.TestCase


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mark=st.integers(5, 95).map(lambda t: t * 10_000),
       asks=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 30)), min_size=1, max_size=5),
       bids=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 30)), min_size=1, max_size=5),
       size=st.integers(1, 60), rebate=st.booleans())
def test_a_round_trip_at_an_unchanged_mark_never_increases_equity(exchange_cls, mark, asks, bids,
                                                                  size, rebate):
    ex = exchange_cls()
    ex.add_market("M", tick_ppm=10_000, mark_ppm=mark,
                  risk=RiskTier(taker_fee_ppm=700, maker_fee_ppm=-200 if rebate else 100))
    trader, makers = 9, (1, 2)
    for account in (trader, *makers):
        ex.deposit(account, 10_000 * USDC)
    oid = 1
    for (offset, qty), maker in zip(asks, makers * 5):
        ex.submit("M", oid, maker, Side.SELL, min(mark + offset * 10_000, 990_000), qty)
        oid += 1
    for (offset, qty), maker in zip(bids, makers * 5):
        ex.submit("M", oid, maker, Side.BUY, max(mark - (offset + 1) * 10_000, 10_000), qty)
        oid += 1

    def equity():
        return ex.balances(trader).total + ex.margin(trader, "M").unrealized_pnl_qq

    start = equity()
    opened = ex.submit("M", oid, trader, Side.BUY, 990_000, size, tif=TimeInForce.IOC)
    held = ex.position(trader, "M").size
    if held:
        ex.submit("M", oid + 1, trader, Side.SELL, 10_000, held, tif=TimeInForce.IOC)
    remaining = ex.position(trader, "M").size

    assert opened.ok
    assert equity() <= start
    if remaining == 0:
        assert ex.balances(trader).locked_for_positions == {}
    ex.check_integrity()
