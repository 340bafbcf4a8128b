"""Stateful property test: the native ``OrderBook`` and the pure-Python ``ReferenceOrderBook``
driven side by side by a Hypothesis rule-based state machine.

Every rule applies one command (place of any time in force, cancel, amend, cancel_all, a small
batch through ``process``, a call with a bad argument, a snapshot round trip) to both books and
compares what they return; after every step both books must pass ``check_integrity()`` and agree
on their snapshot bytes and everything observable about them.
"""

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from perpcore import (
    COMMAND_DTYPE,
    FLAG_REDUCE_ONLY,
    PRICE_SCALE_PPM,
    InvalidInput,
    InvalidType,
    Op,
    OrderBook,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from perpcore.reference import ReferenceOrderBook

CONFIGS = [
    dict(tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000),
    dict(tick_ppm=100, lot=1, min_size=2, max_size=60),
    dict(tick_ppm=5000, lot=5, min_size=5, max_size=400),
    dict(tick_ppm=250_000, lot=1, min_size=1, max_size=50),
]
NOTIONALS = (0, 1, 3_000_000, 10**8, 10**10)



def typed(value):
    """A value with the exact type of every component, so equality also checks types."""
    if isinstance(value, tuple):
        return (type(value).__name__, tuple(typed(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.tolist())
    return (type(value).__name__, value)


def result_view(r):
    return typed((r.code, r.ok, r.order_id, r.filled, r.resting, r.expired, r.expire_reason,
                  r.n_fills, r.fills, r.trades, r.cancelled, r.deltas))


class BookPair(RuleBasedStateMachine):
    """A native and a reference book that must stay indistinguishable."""

    ids = Bundle("ids")

    @initialize(config=st.sampled_from(CONFIGS))
    def setup(self, config):
        self.config = config
        self.native = OrderBook(**config)
        self.ref = ReferenceOrderBook(**config)
        self.tick = config["tick_ppm"]
        self.lot = config["lot"]
        self.min = config["min_size"]
        self.max = config["max_size"]
        self.next_id = 1
        self.known = []  # every id ever used, live or not

    # ------------------------------------------------------------------ helpers

    def both(self, name, *args, **kwargs):
        """Call `name` on both books; results (or exception types) must agree."""
        outs = []
        for book in (self.native, self.ref):
            try:
                outs.append(("ok", getattr(book, name)(*args, **kwargs)))
            except (InvalidInput, InvalidType) as exc:
                outs.append(("raised", type(exc)))
        (kn, n), (kr, r) = outs
        assert kn == kr, (name, args, kwargs, n, r)
        if kn == "raised":
            assert n is r
            return None
        assert result_view(n) == result_view(r), (name, args, kwargs)
        return n

    def price(self, side, offset):
        """A price `offset` ticks from the opposite touch, towards crossing for offset >= 0."""
        bid, ask = self.native.best_bid(), self.native.best_ask()
        mid = PRICE_SCALE_PPM // 2 // self.tick * self.tick
        if side == Side.BUY:
            base = ask if ask is not None else (bid + self.tick if bid is not None else mid)
            price = base + offset * self.tick
        else:
            base = bid if bid is not None else (ask - self.tick if ask is not None else mid)
            price = base - offset * self.tick
        return min(max(price, self.tick), PRICE_SCALE_PPM - self.tick)

    def size(self, lots):
        return min(self.min + lots * self.lot, self.max)

    def new_id(self):
        oid = self.next_id
        self.next_id += 1
        self.known.append(oid)
        return oid

    # ------------------------------------------------------------------ rules

    @rule(target=ids, orders=st.lists(
        st.tuples(st.sampled_from(Side), st.integers(-8, 3), st.integers(0, 12),
                  st.integers(0, 3), st.sampled_from([TimeInForce.GTC] * 4 + list(TimeInForce)),
                  st.sampled_from(SelfTradePrevention), st.booleans()),
        min_size=1, max_size=3))
    def place(self, orders):
        placed = []
        for side, offset, lots, account, tif, stp, reduce_only in orders:
            oid = self.new_id()
            price = self.price(side, offset)
            if tif == TimeInForce.MARKET and offset < 0:
                price = 0  # no protection price
            self.both("place", oid, account, side, price, self.size(lots), tif, stp,
                      reduce_only)
            placed.append(oid)
        return multiple(*placed)

    @rule(target=ids, side=st.sampled_from(Side), lots=st.integers(10, 80),
          account=st.integers(0, 3), stp=st.sampled_from(SelfTradePrevention))
    def sweep(self, side, lots, account, stp):
        """A large marketable order through several levels."""
        oid = self.new_id()
        self.both("place", oid, account, side, self.price(side, 6), self.size(lots),
                  TimeInForce.GTC, stp)
        return oid

    def live_id(self, pick):
        live = [oid for oid in self.known if oid in self.native]
        return live[pick % len(live)] if live else self.next_id + 100

    @precondition(lambda self: len(self.native) > 0)
    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick):
        self.both("cancel", self.live_id(pick))

    @rule(oid=ids)
    def cancel_any(self, oid):
        """Often an id that already left the book."""
        self.both("cancel", oid)

    @precondition(lambda self: len(self.native) > 0)
    @rule(pick=st.integers(0, 10**6), change=st.integers(-3, 6),
          offset=st.none() | st.integers(-8, 3))
    def amend(self, pick, change, offset):
        oid = self.live_id(pick)
        o = self.native.order(oid)
        side = o["side"] if o else Side.SELL
        size = (o["size"] if o else self.min) + change * self.lot
        price = None if offset is None else self.price(side, offset)
        self.both("amend", oid, size, price)

    @rule(account=st.integers(-1, 3))
    def cancel_all(self, account):
        self.both("cancel_all", account)

    @rule(oid=ids, price=st.sampled_from([0, 1, -1000, PRICE_SCALE_PPM, 499_999]),
          size=st.sampled_from([0, -1, 1, 3, 10**12]), which=st.integers(0, 4),
          value=st.sampled_from([1.5, True, "x", None, 2**64]))
    def invalid_calls(self, oid, price, size, which, value):
        """Bad values (result codes) and bad types (exceptions): nothing may change."""
        self.both("place", oid, 1, Side.BUY, price, size)
        self.both("amend", oid, size, price)
        args = [self.next_id, 1, Side.SELL, PRICE_SCALE_PPM // 2, self.min]
        args[which] = value
        self.both("place", *args)
        self.both("cancel", value)

    @rule(target=ids,
          commands=st.lists(st.tuples(st.sampled_from(Op), st.sampled_from(Side),
                                      st.sampled_from(TimeInForce),
                                      st.sampled_from(SelfTradePrevention), st.booleans(),
                                      st.integers(0, 10**6), st.integers(-8, 3),
                                      st.integers(0, 10), st.integers(0, 3)),
                            min_size=1, max_size=8),
          deltas=st.booleans())
    def batch(self, commands, deltas):
        """A few commands through process() on both books (ids picked from known ones)."""
        arr = np.zeros(len(commands), COMMAND_DTYPE)
        new_ids = []
        for i, (op, side, tif, stp, ro, pick, offset, lots, account) in enumerate(commands):
            if op == Op.PLACE:
                oid = self.new_id()
                new_ids.append(oid)
                price = self.price(side, offset)
            else:
                oid = self.live_id(pick)
                price = 0 if offset < -4 else self.price(side, offset)
            arr[i] = (op, side, tif, stp, FLAG_REDUCE_ONLY if ro else 0, oid, account, price,
                      self.size(lots))
        out_n = self.native.process(arr, deltas=deltas)
        out_r = self.ref.process(arr, deltas=deltas)
        for name, x, y in zip(out_n._fields, out_n, out_r):
            if x is None:
                assert y is None, name
                continue
            assert x.dtype == y.dtype and x.tolist() == y.tolist(), name
        return multiple(*new_ids)

    @rule()
    def snapshot_round_trip(self):
        """Replace both books by restores of each other's snapshot."""
        data = self.native.snapshot()
        assert self.ref.snapshot() == data
        self.native = OrderBook.restore(self.ref.snapshot())
        self.ref = ReferenceOrderBook.restore(data)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def books_agree(self):
        self.native.check_integrity()
        self.ref.check_integrity()
        n, r = self.native, self.ref
        assert n.snapshot() == r.snapshot()
        assert n.state_hash() == r.state_hash()
        assert (n.best_bid(), n.best_ask(), len(n)) == (r.best_bid(), r.best_ask(), len(r))
        bid, ask = n.best_bid(), n.best_ask()
        assert bid is None or ask is None or bid < ask
        assert typed(n.depth(4)) == typed(r.depth(4))
        for side in Side:
            for notional in NOTIONALS:
                assert (typed(n.impact_price(side, notional))
                        == typed(r.impact_price(side, notional)))
        for oid in self.known[-6:]:
            assert typed(n.order(oid)) == typed(r.order(oid))
            assert (oid in n) == (oid in r)


BookPair.TestCase.settings = settings(max_examples=60, stateful_step_count=35,
                                      deadline=None)
TestBookPair = BookPair.TestCase
