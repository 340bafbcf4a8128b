"""The native exchange against the pure-Python reference, command by command.

Hypothesis drives both with the same random sequences of deposits, submits of every time in force
(reduce-only included, invalid arguments too), cancels, cancel-alls, mark moves, margin top-ups,
withdrawals, ``process`` batches, oracle readings, funding samples and periods, and each market's
lifecycle (resolution and settlement) over two markets. After every command the two must have
returned equal results (same code, same events in the same order with the same fields) or raised
the same exception, and agree on every balance (the order of ``locked_for_positions`` included),
position, margin view, book state hash, open interest, fund, pool, pending withdrawal and order
lock. A replay of generated flows (``perpcore.workload``) through both, per call and batched, checks
the same at scale.
"""

import numpy as np
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import perpcore
from perpcore import (
    COMMAND_DTYPE, Code, Exchange, Op, RiskTier, SelfTradePrevention, Side, TimeInForce,
)
from perpcore.reference import ReferenceExchange
from perpcore.workload import FlowSpec, generate_flow

USDC = 1_000_000
MARKETS = {
    "A": dict(tick_ppm=10_000, lot=1, min_size=1,
              risk=RiskTier(base_imf_ppm=200_000, mmf_ppm=100_000, oi_lower_cap_qq=20 * USDC,
                            oi_upper_cap_qq=200 * USDC, taker_fee_ppm=1_000, maker_fee_ppm=-300,
                            insurance_share_ppm=250_000)),
    "B": dict(tick_ppm=50_000, lot=5, min_size=10,
              risk=RiskTier(base_imf_ppm=500_000, mmf_ppm=250_000, taker_fee_ppm=700,
                            maker_fee_ppm=200, insurance_share_ppm=0)),
}
NAMES = sorted(MARKETS)
ACCOUNTS = list(range(6)) + [7]  # 7 never deposits
MARKET_ARG = st.sampled_from(NAMES + ["A", "B", "NOPE"])
TIFS = st.sampled_from(list(TimeInForce) + [TimeInForce.GTC] * 3 + [7])
STPS = st.sampled_from(list(SelfTradePrevention) + [SelfTradePrevention.EXPIRE_MAKER] * 3)


def outcome(call):
    """A call's result, or the type of the exception it raised."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001  the exception type is what is compared
        return type(exc)


def state(ex, order_ids, accounts=ACCOUNTS):
    books = {}
    for m in ex.markets:
        books[m] = (ex.book(m).state_hash(), ex.open_interest(m), ex.insurance_fund(m),
                    ex.fees_collected(m), ex.clearing_pool(m), ex.bad_debt(m), ex.mark(m),
                    ex.index(m), ex.phase(m), ex.funding_index(m), ex.funding_pool(m),
                    tuple(ex.order_lock(m, oid) for oid in order_ids))
    balances = {a: (ex.balances(a), list(ex.balances(a).locked_for_positions.items()))
                for a in accounts}
    positions = {(a, m): (ex.position(a, m), ex.margin(a, m)) for a in accounts
                 for m in ex.markets}
    return (books, balances, positions, ex.pending_withdrawals(), ex.check_conservation(),
            ex.markets)


class DifferentialMachine(RuleBasedStateMachine):
    @initialize(funds=st.lists(st.integers(5, 400), min_size=6, max_size=6),
                delay=st.integers(0, 10))
    def setup(self, funds, delay):
        self.native, self.reference = Exchange(withdrawal_delay=delay), ReferenceExchange(
            withdrawal_delay=delay)
        for ex in self.both:
            for name, kw in MARKETS.items():
                ex.add_market(name, mark_ppm=500_000, **kw)
        for account, usdc in enumerate(funds):
            self.same(lambda ex: ex.deposit(account, usdc * USDC))
        self.next_id = 1
        self.order_ids = []
        self.withdrawals = [1]
        self.now = 0

    @property
    def both(self):
        return (self.native, self.reference)

    def same(self, call):
        native, reference = outcome(lambda: call(self.native)), outcome(lambda: call(self.reference))
        assert native == reference
        assert repr(native) == repr(reference)  # the same types too (Code members, enums)
        if isinstance(native, type):
            event(f"raised {native.__name__}")
        elif hasattr(native, "code"):  # funding samples and minute medians are plain ints
            event(f"code {Code(native.code).name}")
            for e in native.events:
                event(f"event {e.kind} {getattr(e, 'reason', '')}".rstrip())
        return native

    @rule(account=st.sampled_from(ACCOUNTS), amount=st.integers(1, 300 * USDC))
    def deposit(self, account, amount):
        self.same(lambda ex: ex.deposit(account, amount))

    @rule(kinds=st.lists(st.sampled_from(["trade"] * 6 + ["close", "flatten"] * 2
                                         + ["anything"] * 2 + ["bad"]), min_size=1, max_size=8),
          data=st.data())
    def orders(self, kinds, data):
        for kind in kinds:
            self._order(kind, data.draw)

    def _order(self, kind, draw):
        if kind == "trade":  # valid orders near the mark or at the touch
            self._submit(draw(st.sampled_from(NAMES)), draw(st.sampled_from(ACCOUNTS[:6])),
                         draw(st.sampled_from([Side.BUY, Side.SELL])), draw(st.integers(-3, 3)),
                         draw(st.integers(1, 30)),
                         draw(st.sampled_from([TimeInForce.GTC] * 3 + list(TimeInForce))),
                         draw(STPS), draw(st.sampled_from([False, False, True])),
                         draw(st.booleans()), 1)
        elif kind in ("close", "flatten"):
            # against an open position: reduce-only (resting or taking), or a plain order that
            # shrinks or flips it (its resting reduce-only orders must then be trimmed)
            market, account = draw(st.sampled_from(NAMES)), draw(st.sampled_from(ACCOUNTS[:6]))
            held = self.native.position(account, market).size
            lot = self.native.book(market).lot
            ticks = draw(st.integers(-6, 6))
            if held:
                self._submit(market, account, Side.SELL if held > 0 else Side.BUY, ticks,
                             max(abs(held) * draw(st.integers(1, 150)) // 100 // lot, 1),
                             draw(st.sampled_from([TimeInForce.GTC, TimeInForce.IOC,
                                                   TimeInForce.MARKET])), 0, kind == "close",
                             ticks > 2 or kind == "flatten", 1)
        elif kind == "anything":  # every argument drawn wide, invalid ones included
            self._submit(draw(MARKET_ARG), draw(st.sampled_from(ACCOUNTS + [-1])),
                         draw(st.sampled_from([Side.BUY, Side.SELL, 2])), draw(st.integers(-4, 4)),
                         draw(st.integers(0, 40)), draw(TIFS), draw(STPS), draw(st.booleans()),
                         draw(st.booleans()), draw(st.integers(0, 4)))
        else:  # wrong types and values beyond int64 raise, in the same order on both
            args = [draw(MARKET_ARG), self.next_id, 1, Side.BUY, 500_000, 10]
            args[draw(st.integers(0, 5))] = draw(st.sampled_from([1.5, "7", None, True, 2**64]))
            self.same(lambda ex: ex.submit(*args))
            self.same(lambda ex: ex.submit("A", self.next_id, 1, Side.BUY, 500_000, 10,
                                           reduce_only=1))

    def _submit(self, market, account, side, ticks, lots, tif, stp, reduce_only, at_touch,
                fresh):
        m = market if market in MARKETS else "A"
        book = self.native.book(m)
        tick = book.tick_ppm
        price = min(max(self.native.mark(m) // tick + ticks, 1), 1_000_000 // tick - 1) * tick
        touch = book.best_ask() if side == Side.BUY else book.best_bid()
        if at_touch and touch is not None:
            price = touch
        if tif == TimeInForce.MARKET and ticks < -2:
            price = 0
        if fresh == 0 and self.order_ids:
            oid = self.order_ids[-1]  # possibly a duplicate
        else:
            oid = self.next_id
            self.next_id += 1
            self.order_ids.append(oid)
        size = lots * book.lot + (1 if lots == 40 else 0)  # 0 and off-lot sizes too
        r = self.same(lambda ex: ex.submit(market, oid, account, side, price, size, tif=tif,
                                           stp=stp, reduce_only=reduce_only))
        if not isinstance(r, type) and r.filled:
            event("filled")

    @precondition(lambda self: self.order_ids)
    @rule(market=MARKET_ARG, data=st.data())
    def cancel(self, market, data):
        oid = data.draw(st.sampled_from(self.order_ids + [10**9]))
        self.same(lambda ex: ex.cancel(market, oid))

    @rule(market=MARKET_ARG, account=st.sampled_from(ACCOUNTS + [-1]))
    def cancel_all(self, market, account):
        self.same(lambda ex: ex.cancel_all(market, account))

    @rule(market=MARKET_ARG, move=st.integers(-150_000, 150_000),
          wild=st.sampled_from([False] * 5 + [True]))
    def set_mark(self, market, move, wild):
        m = market if market in MARKETS else "A"
        mark = self.native.mark(m) + move if not wild else move * 10
        if not wild:
            mark = min(max(mark, 5_000), 995_000)
        self.same(lambda ex: ex.set_mark(market, mark))

    @rule(account=st.sampled_from(ACCOUNTS), market=MARKET_ARG, share=st.integers(-1, 120))
    def add_margin(self, account, market, share):
        amount = self.native.balances(account).available * share // 100
        self.same(lambda ex: ex.add_margin(account, market, amount))

    @rule(account=st.sampled_from(ACCOUNTS), share=st.integers(0, 110))
    def request_withdrawal(self, account, share):
        amount = self.native.balances(account).available * share // 100
        r = self.same(lambda ex: ex.request_withdrawal(account, amount, self.now))
        if not isinstance(r, type) and r.ok:
            self.withdrawals.append(r.withdrawal_id)

    @rule(data=st.data(), wait=st.integers(0, 12))
    def process_withdrawal(self, data, wait):
        self.now += wait
        wid = data.draw(st.sampled_from(self.withdrawals + [99]))
        self.same(lambda ex: ex.process_withdrawal(wid, self.now))

    @rule(market=MARKET_ARG, rows=st.lists(
        st.tuples(st.sampled_from([Op.PLACE] * 5 + [Op.CANCEL] * 2 + [Op.CANCEL_ALL, Op.AMEND, 9]),
                  st.sampled_from([Side.BUY, Side.SELL]), TIFS, STPS,
                  st.sampled_from([0, 0, 0, 1, 4]), st.sampled_from(ACCOUNTS),
                  st.integers(-3, 3), st.integers(1, 30), st.integers(0, 3)),
        min_size=0, max_size=25))
    def process(self, market, rows):
        m = market if market in MARKETS else "A"
        book = self.native.book(m)
        cmds = np.zeros(len(rows), COMMAND_DTYPE)
        for i, (op, side, tif, stp, flags, account, ticks, lots, pick) in enumerate(rows):
            if op == Op.PLACE or not self.order_ids:
                oid = self.next_id
                self.next_id += 1
                self.order_ids.append(oid)
            else:
                oid = self.order_ids[-1 - pick % len(self.order_ids)]
            price = min(max(self.native.mark(m) // book.tick_ppm + ticks, 1),
                        1_000_000 // book.tick_ppm - 1) * book.tick_ppm
            if tif == TimeInForce.MARKET and ticks < -2:
                price = 0
            cmds[i] = (op, side, min(tif, 255), stp, flags, oid, account, price, lots * book.lot)
        native = outcome(lambda: self.native.process(market, cmds))
        reference = outcome(lambda: self.reference.process(market, cmds))
        if isinstance(native, type):
            assert native == reference
            return
        assert native.results.tobytes() == reference.results.tobytes()
        assert native.events == reference.events
        assert native == reference

    @rule(market=MARKET_ARG, raw=st.integers(0, 1_000_000), age=st.integers(0, 90),
          wait=st.integers(0, 40))
    def oracle(self, market, raw, age, wait):
        self.now += wait
        self.same(lambda ex: ex.update_oracle(market, raw, max(self.now - age, 0), self.now))

    @rule(market=st.sampled_from(NAMES), blocks=st.integers(0, 4), minutes=st.integers(0, 3),
          close=st.booleans())
    def funding(self, market, blocks, minutes, close):
        for minute in range(minutes):
            for _ in range(blocks):
                self.same(lambda ex: ex.sample_funding(market))
            self.same(lambda ex: ex.close_funding_minute(market))
        if close:
            self.same(lambda ex: ex.close_funding_period(market, self.now))

    @rule(market=st.sampled_from(NAMES),
          step=st.sampled_from(["begin", "resolve", "settle"] + ["wait"] * 6),
          value=st.sampled_from([0, 1_000_000, 350_000]), window=st.integers(0, 50),
          wait=st.integers(0, 60))
    def lifecycle(self, market, step, value, window, wait):
        self.now += wait
        if step == "begin":
            self.same(lambda ex: ex.begin_resolution(market, value, self.now, window))
        elif step == "resolve":
            self.same(lambda ex: ex.resolve(market, self.now))
        elif step == "settle":
            self.same(lambda ex: ex.settle(market, self.now))
        self.same(lambda ex: ex.refresh_mark(market, self.now))  # "wait": time passes

    @invariant()
    def both_agree_on_everything(self):
        if not hasattr(self, "native"):
            return
        for m in NAMES:
            if self.native.bad_debt(m):
                event("bad debt")
            if self.native.open_interest(m):
                event("open interest")
        assert state(self.native, self.order_ids) == state(self.reference, self.order_ids)
        self.native.check_integrity()
        self.reference.check_integrity()


DifferentialMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=80,
                                                 deadline=None)
TestExchangeVsReference = DifferentialMachine.TestCase


# ------------------------------------------------------------------------------- flow replay

FLOW_ACCOUNTS = range(40)


def _funded(cls, accounts, usdc):
    ex = cls()
    ex.add_market("M", tick_ppm=1000, mark_ppm=500_000,
                  risk=RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, oi_lower_cap_qq=10**9,
                                oi_upper_cap_qq=10**10, taker_fee_ppm=500, maker_fee_ppm=-100))
    for account in range(accounts):
        ex.deposit(account, usdc * USDC)
    return ex


def _marks(n, seed):
    """A mark random walk: (command index, mark) every 100 commands."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-20_000, 20_001, n // 100 + 1).cumsum()
    return {i * 100: int(min(max(500_000 + s, 50_000), 950_000)) for i, s in enumerate(steps)}


@pytest.mark.parametrize("usdc", [40, 10_000], ids=["tight", "rich"])
def test_a_generated_flow_replays_identically_per_call(usdc):
    cmds = generate_flow(FlowSpec(n_events=6_000, n_accounts=40, target_live=600, seed=11))
    marks = _marks(len(cmds), 5)
    exchanges = [_funded(Exchange, 40, usdc), _funded(ReferenceExchange, 40, usdc)]
    codes = set()
    for i, c in enumerate(cmds.tolist()):
        op, side, tif, stp, flags, oid, account, price, size = c
        results = []
        for ex in exchanges:
            if i in marks:
                ex.set_mark("M", marks[i])
            if op == Op.PLACE:
                results.append(ex.submit("M", oid, account, side, price, size, tif=tif, stp=stp,
                                         reduce_only=i % 7 == 0))
            else:
                results.append(ex.cancel("M", oid))
        assert results[0] == results[1], i
        assert repr(results[0]) == repr(results[1]), i
        codes.add(results[0].code)
        if i % 500 == 0:
            assert state(exchanges[0], [], FLOW_ACCOUNTS) == state(exchanges[1], [], FLOW_ACCOUNTS)
            exchanges[0].check_integrity()
    assert state(exchanges[0], [], FLOW_ACCOUNTS) == state(exchanges[1], [], FLOW_ACCOUNTS)
    assert Code.OK in codes
    if usdc == 40:
        assert Code.INSUFFICIENT_AVAILABLE in codes and Code.REDUCE_ONLY_WOULD_INCREASE in codes


def test_a_generated_flow_replays_identically_batched():
    cmds = generate_flow(FlowSpec(n_events=8_000, n_accounts=40, target_live=600, seed=12)).copy()
    cmds["flags"][::9] = perpcore.FLAG_REDUCE_ONLY
    native, reference = _funded(Exchange, 40, 60), _funded(ReferenceExchange, 40, 60)
    for chunk in np.array_split(cmds, 8):
        for ex in (native, reference):
            ex.set_mark("M", ex.mark("M") + 7_000)
        a, b = native.process("M", chunk), reference.process("M", chunk)
        assert a.results.tobytes() == b.results.tobytes()
        assert a.events == b.events
        assert state(native, [], FLOW_ACCOUNTS) == state(reference, [], FLOW_ACCOUNTS)
    native.check_integrity()
    assert native.book("M").state_hash() == reference.book("M").state_hash()
