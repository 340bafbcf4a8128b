"""Differential tests: the native ``OrderBook`` against the pure-Python ``ReferenceOrderBook``.

Hypothesis draws abstract command sequences (places of every time in force and STP mode, reduce-only
flags, prices a few ticks around a moving touch plus a few invalid ones, cancels and amends of live
and unknown ids, cancel_all, bad argument types and values). A driver turns each abstract command
into concrete arguments from the current book state and applies it to a native and a reference
book through the per-call API, comparing every result (with the types of its fields) and the
market data after every step. The same concrete sequence is then run through ``process()`` on two
fresh books, in chunks, and the batch outputs must agree with each other and with the per-call
run. Finally a synthetic workload from ``perpcore.workload`` is replayed through both books.
"""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perpcore import (
    COMMAND_DTYPE,
    BatchBuffers,
    ExpireReason,
    FLAG_REDUCE_ONLY,
    PRICE_SCALE_PPM,
    Code,
    InvalidInput,
    InvalidType,
    Op,
    OrderBook,
    SelfTradePrevention,
    Side,
    SnapshotError,
    TimeInForce,
)
from perpcore._book import MAX_ORDER_SIZE_LIMIT
from perpcore.reference import ReferenceOrderBook
from perpcore.workload import FlowSpec, generate_flow

CONFIGS = [
    dict(tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000_000),
    dict(tick_ppm=100, lot=1, min_size=1, max_size=40),
    dict(tick_ppm=5000, lot=5, min_size=10, max_size=500),
    dict(tick_ppm=250_000, lot=1, min_size=1, max_size=100),  # three valid prices only
    dict(tick_ppm=1, lot=2, min_size=4, max_size=MAX_ORDER_SIZE_LIMIT - 1),
]

ACCOUNTS = 4  # few accounts, so self-trade prevention triggers often
NOTIONALS = (0, 1, 7 * 333_333, 10**9, 10**11, 2**62)

# ---------------------------------------------------------------------------------------------
# Comparison helpers


def typed(value):
    """A value with the exact type of every component, so equality also checks types."""
    if isinstance(value, tuple):
        return (type(value).__name__, tuple(typed(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tolist())
    return (type(value).__name__, value)


def result_view(r):
    return typed((r.code, r.ok, r.order_id, r.filled, r.resting, r.expired, r.expire_reason,
                  r.n_fills, r.fills, r.trades, r.cancelled, r.deltas))


def market_view(book, ids=()):
    """Everything observable about a book without changing it."""
    return typed((
        book.best_bid(), book.best_ask(), len(book), book.depth(), book.depth(2), book.depth(0),
        tuple(book.impact_price(side, n) for side in Side for n in NOTIONALS),
        tuple((book.order(i), i in book) for i in ids),
    ))


def call(book, name, args, kwargs):
    """(True, result) or (False, exception type)."""
    try:
        return True, getattr(book, name)(*args, **kwargs)
    except (InvalidInput, InvalidType) as exc:
        return False, type(exc)


def assert_same_call(native, ref, name, args, kwargs):
    """Apply one per-call command to both books; returns the native result (or None)."""
    before = native.snapshot()
    ok_n, out_n = call(native, name, args, kwargs)
    ok_r, out_r = call(ref, name, args, kwargs)
    assert ok_n == ok_r, (name, args, kwargs, out_n, out_r)
    if not ok_n:
        assert out_n is out_r, (name, args, kwargs)
        assert native.snapshot() == before == ref.snapshot()
        return None
    assert result_view(out_n) == result_view(out_r), (name, args, kwargs)
    assert repr(out_n) == repr(out_r)
    if out_n.code != Code.OK:
        assert (out_n.n_fills, out_n.cancelled, out_n.deltas) == (0, (), ())
        assert native.snapshot() == before
    return out_n


def assert_same_batch(a, b):
    assert a._fields == b._fields
    for name, x, y in zip(a._fields, a, b):
        if x is None or y is None:
            assert x is None and y is None, name
            continue
        assert type(x) is np.ndarray and type(y) is np.ndarray, name
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tolist() == y.tolist(), name


# ---------------------------------------------------------------------------------------------
# Abstract commands: mostly valid, each with at most one deliberately invalid field, so that the
# book fills up and trades; the driver turns them into concrete arguments.

# (field, variant) of a place made invalid on purpose; None: a valid place
place_faults = st.integers(0, 9).flatmap(lambda roll: st.none() if roll else st.one_of(
    st.tuples(st.just("side"), st.sampled_from([2, 255, -1, 300])),
    st.tuples(st.just("tif"), st.sampled_from([5, 255, -3])),
    st.tuples(st.just("stp"), st.sampled_from([3, 200])),
    st.tuples(st.just("account"), st.just(-1)),
    st.tuples(st.just("order_id"), st.sampled_from(["zero", "negative", "duplicate"])),
    st.tuples(st.just("price"), st.sampled_from(["zero", "off_tick", "low", "high",
                                                  "negative"])),
    st.tuples(st.just("size"), st.sampled_from(["zero", "negative", "off_lot", "below_min",
                                                 "above_max"])),
))
tifs = st.sampled_from([TimeInForce.GTC] * 6 + [TimeInForce.IOC] * 2 + [TimeInForce.FOK] * 2
                      + [TimeInForce.POST_ONLY] * 2)
stps = st.sampled_from(list(SelfTradePrevention))
accounts = st.integers(0, ACCOUNTS - 1)
# price: ticks from the opposite touch ("near": k >= 0 crosses) or behind it ("deep")
price_kinds = st.one_of(st.tuples(st.just("near"), st.integers(-3, 3)),
                        st.tuples(st.just("deep"), st.integers(1, 12)))
# size: lots above the minimum; "large" ones sweep several levels
size_kinds = st.one_of(st.tuples(st.just("small"), st.integers(0, 6)),
                       st.tuples(st.just("small"), st.integers(0, 6)),
                       st.tuples(st.just("large"), st.integers(2, 30)))

place_cmds = st.tuples(st.just("place"), st.sampled_from([0, 1]), tifs, stps, st.booleans(),
                       accounts, price_kinds, size_kinds, place_faults)
market_cmds = st.tuples(st.just("market"), st.sampled_from([0, 1]), stps, st.booleans(),
                        accounts, st.one_of(st.none(), price_kinds), size_kinds, place_faults)
cancel_cmds = st.tuples(st.just("cancel"), st.integers(0, 10**6),
                        st.sampled_from(["live"] * 6 + ["unknown", "zero"]))
amend_cmds = st.tuples(
    st.just("amend"), st.integers(0, 10**6), st.sampled_from(["live"] * 8 + ["unknown"]),
    st.sampled_from(["smaller", "smaller", "same", "bigger", "bigger", "much_bigger", "tiny",
                     "zero", "off_lot", "above_max"]),
    st.one_of(st.just(("keep", 0)), st.just(("keep", 0)), st.just(("same", 0)), price_kinds,
              price_kinds, st.sampled_from([("explicit_zero", 0), ("off_tick", 0),
                                            ("high", 0)])))
cancel_all_cmds = st.tuples(st.just("cancel_all"), st.sampled_from([0, 1, 2, 3, -1]))
bad_value_cmds = st.tuples(
    st.just("bad"),
    st.sampled_from(["place", "cancel", "amend", "cancel_all"]),
    st.integers(0, 7),
    st.sampled_from([1.0, np.float64(2.0), True, False, "1", None, Decimal(1), 2**63,
                     -(2**63) - 1, 2**63 - 1, -(2**63), np.int64(3), np.uint8(1), np.True_,
                     Side.SELL, 2, 1]),
)
batch_only_cmds = st.tuples(st.just("batch_only"), st.sampled_from(["op", "flags"]),
                            st.integers(4, 255), st.integers(2, 255))
KINDS = {
    "place": (place_cmds, 50), "market": (market_cmds, 6), "cancel": (cancel_cmds, 12),
    "amend": (amend_cmds, 14), "cancel_all": (cancel_all_cmds, 3), "bad": (bad_value_cmds, 10),
    "batch_only": (batch_only_cmds, 5),
}
commands = st.lists(
    st.sampled_from([k for k, (_, w) in KINDS.items() for _ in range(w)]).flatmap(
        lambda k: KINDS[k][0]),
    min_size=20, max_size=100,
)


class Step:
    """One concrete command: a per-call form (method, args, kwargs) and/or a batch row."""

    __slots__ = ("call", "row", "ids")

    def __init__(self, call=None, row=None, ids=()):
        self.call = call
        self.row = row
        self.ids = ids


def _byte(v):
    """The batch encoding of an enum argument: out-of-byte values become 255 (both invalid)."""
    return v if 0 <= v <= 255 else 255


class Driver:
    """Turns abstract commands into concrete ones against the state of `book`."""

    def __init__(self, book, config):
        self.book = book
        self.tick = config["tick_ppm"]
        self.lot = config["lot"]
        self.min = config["min_size"]
        self.max = config["max_size"]
        self.next_id = 1
        self.placed = []

    def live(self):
        return [i for i in self.placed if i in self.book]

    def pick_live(self, k):
        live = self.live()
        return live[k % len(live)] if live else self.next_id + 10_000

    def new_id(self):
        oid = self.next_id
        self.next_id += 1
        self.placed.append(oid)
        return oid

    def mid(self):
        return PRICE_SCALE_PPM // 2 // self.tick * self.tick

    def price(self, kind, side):
        """A valid price `kind` ticks from the opposite touch (or an invalid one by name)."""
        name, k = kind
        tick = self.tick
        if name in ("near", "deep"):
            bid, ask = self.book.best_bid(), self.book.best_ask()
            if side == Side.BUY:
                base = ask if ask is not None else (bid + tick if bid is not None else self.mid())
                price = base + (k if name == "near" else -k) * tick
            else:
                base = bid if bid is not None else (ask - tick if ask is not None else self.mid())
                price = base - (k if name == "near" else -k) * tick
            return min(max(price, tick), PRICE_SCALE_PPM - tick)
        return {"zero": 0, "off_tick": self.mid() + (tick // 2 if tick > 1 else PRICE_SCALE_PPM),
                "low": -tick, "high": PRICE_SCALE_PPM, "negative": -PRICE_SCALE_PPM}[name]

    def size(self, kind):
        name, k = kind
        if name == "small":
            return min(self.min + k * self.lot, self.max)
        if name == "large":
            return min(self.min + k * self.lot * 4, self.max)
        return {"zero": 0, "negative": -self.lot,
                "off_lot": self.min + 1 if self.lot > 1 else 0,
                "below_min": self.min - self.lot if self.min > self.lot else 0,
                "above_max": self.max + self.lot}[name]

    def place_step(self, side, tif, stp, ro, acct, pk, sk, fault):
        field, variant = fault if fault else (None, None)
        oid = self.new_id()
        if field == "order_id":
            oid = {"zero": 0, "negative": -7,
                   "duplicate": self.pick_live(len(self.placed))}[variant]
        price = self.price(pk, side) if pk is not None else 0
        size = self.size(sk)
        if field == "side":
            side = variant
        elif field == "tif":
            tif = variant
        elif field == "stp":
            stp = variant
        elif field == "account":
            acct = variant
        elif field == "price":
            price = self.price((variant, 0), side)
        elif field == "size":
            size = self.size((variant, 0))
        row = (Op.PLACE, _byte(side), _byte(tif), _byte(stp), FLAG_REDUCE_ONLY if ro else 0, oid,
               acct, price, size)
        kwargs = dict(tif=tif, stp=stp, reduce_only=ro)
        return Step(("place", (oid, acct, side, price, size), kwargs), row, (oid,))

    def concrete(self, cmd):
        kind = cmd[0]
        if kind == "place":
            _, side, tif, stp, ro, acct, pk, sk, fault = cmd
            return self.place_step(side, tif, stp, ro, acct, pk, sk, fault)
        if kind == "market":
            _, side, stp, ro, acct, pk, sk, fault = cmd
            return self.place_step(side, TimeInForce.MARKET, stp, ro, acct, pk, sk, fault)
        if kind == "cancel":
            _, k, which = cmd
            oid = {"live": self.pick_live(k), "unknown": self.next_id + 5, "zero": 0}[which]
            return Step(("cancel", (oid,), {}), (Op.CANCEL, 0, 0, 0, 0, oid, 0, 0, 0), (oid,))
        if kind == "amend":
            _, k, which, sk, pk = cmd
            oid = self.pick_live(k) if which == "live" else self.next_id + 5
            o = self.book.order(oid)
            rem = o["size"] if o else self.min
            side = o["side"] if o else Side.BUY
            size = {"smaller": max(rem - self.lot, self.lot), "same": rem,
                    "bigger": min(rem + self.lot, self.max),
                    "much_bigger": min(rem + 20 * self.lot, self.max),
                    "tiny": self.lot, "zero": 0, "off_lot": rem + 1 if self.lot > 1 else -1,
                    "above_max": self.max + self.lot}[sk]
            if pk[0] == "keep":
                price, batch_price = None, 0
            elif pk[0] == "same":
                price = batch_price = o["price_ppm"] if o else self.mid()
            elif pk[0] == "explicit_zero":
                price, batch_price = 0, -1  # per call an explicit 0 is out of range
            else:
                price = batch_price = self.price(pk, side)
            return Step(("amend", (oid, size), {"price_ppm": price}),
                        (Op.AMEND, 0, 0, 0, 0, oid, 0, batch_price, size), (oid,))
        if kind == "cancel_all":
            acct = cmd[1]
            return Step(("cancel_all", (acct,), {}), (Op.CANCEL_ALL, 0, 0, 0, 0, 0, acct, 0, 0))
        if kind == "bad":
            _, method, pos, value = cmd
            oid = self.pick_live(pos)
            base = {"place": [self.next_id, 1, 0, self.mid(), self.min, 0, 0, False],
                    "cancel": [oid], "amend": [oid, self.min, None], "cancel_all": [1]}[method]
            args = list(base)
            args[pos % len(args)] = value
            return Step((method, tuple(args), {}), None, (oid,))
        if kind == "batch_only":
            _, what, op, flags = cmd
            if what == "op":
                row = (op, 0, 0, 0, 0, self.next_id, 1, self.mid(), self.min)
            else:
                row = (Op.PLACE, 0, 0, 0, flags, self.next_id, 1, self.mid(), self.min)
            return Step(None, row)
        raise AssertionError(kind)


def row_for_call(name, args):
    """The batch row of a per-call command given positionally (all arguments valid)."""
    ints = [None if a is None else int(a) for a in args]
    if name == "place":
        oid, acct, side, price, size, tif, stp, ro = ints
        return (Op.PLACE, _byte(side), _byte(tif), _byte(stp), ro, oid, acct, price, size)
    if name == "cancel":
        return (Op.CANCEL, 0, 0, 0, 0, ints[0], 0, 0, 0)
    if name == "amend":
        oid, size, price = ints
        batch_price = 0 if price is None else (-1 if price == 0 else price)
        return (Op.AMEND, 0, 0, 0, 0, oid, 0, batch_price, size)
    return (Op.CANCEL_ALL, 0, 0, 0, 0, 0, ints[0], 0, 0)


def run_per_call(config, abstract):
    """Apply the sequence per call to both books, comparing after every step; returns the
    concrete steps, the native per-call results (None where the call raised) and both books."""
    native, ref = OrderBook(**config), ReferenceOrderBook(**config)
    driver = Driver(native, config)
    steps, results = [], []
    for cmd in abstract:
        step = driver.concrete(cmd)
        steps.append(step)
        if step.call is None:
            results.append(None)
            continue
        name, args, kwargs = step.call
        result = assert_same_call(native, ref, name, args, kwargs)
        results.append(result)
        if step.row is None and result is not None:
            # an unusual but valid argument (numpy int, IntEnum, 1 for True): same in a batch
            step.row = row_for_call(name, args)
        assert market_view(native, step.ids) == market_view(ref, step.ids)
    return steps, results, native, ref


def batch_rows(steps):
    rows = [s.row for s in steps if s.row is not None]
    arr = np.zeros(len(rows), COMMAND_DTYPE)
    for i, row in enumerate(rows):
        arr[i] = tuple(int(v) for v in row)
    return arr


def per_call_as_batch(steps, results, cuts):
    """What process() must return, chunk by chunk, given the per-call results."""
    expected = []
    batch_steps = [(s, r) for s, r in zip(steps, results) if s.row is not None]
    bounds = [0, *cuts, len(batch_steps)]
    for lo, hi in zip(bounds, bounds[1:]):
        res, fills, cancels, deltas = [], [], [], []
        for i, (step, r) in enumerate(batch_steps[lo:hi]):
            if r is None:  # batch-only command: rejected, nothing happens
                res.append([None, 0, step.row[5], 0, 0, 0, 0, 0])
                continue
            res.append([r.code, int(r.expire_reason), int(step.row[5]), r.filled, r.resting,
                        r.expired, r.n_fills, len(r.cancelled)])
            fills += [(i, f.taker_order_id, f.taker_account, f.maker_order_id, f.maker_account,
                       f.price_ppm, f.size, f.maker_remaining, int(f.taker_side),
                       int(f.taker_reduce_only), int(f.maker_reduce_only)) for f in r.fills]
            cancels += [(i, c.order_id, c.account, c.price_ppm, c.size, int(c.side),
                         int(c.reason)) for c in r.cancelled]
            deltas += [(i, d.price_ppm, d.size, int(d.side)) for d in r.deltas]
        expected.append((res, fills, cancels, deltas))
    return expected


def cut_points(n, fractions):
    return sorted({int(f * n) for f in fractions})


# ---------------------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), abstract=commands,
       fractions=st.lists(st.floats(0, 1), max_size=2))
def test_random_sequences_per_call_and_batch(config, abstract, fractions):
    steps, results, native_pc, ref_pc = run_per_call(config, abstract)
    native_pc.check_integrity()
    ref_pc.check_integrity()
    assert native_pc.snapshot() == ref_pc.snapshot()
    assert native_pc.state_hash() == ref_pc.state_hash()

    cmds = batch_rows(steps)
    cuts = cut_points(len(cmds), fractions)
    bounds = [0, *cuts, len(cmds)]
    expected = per_call_as_batch(steps, results, cuts)
    native_b, ref_b = OrderBook(**config), ReferenceOrderBook(**config)
    for (lo, hi), (res, fills, cancels, deltas) in zip(zip(bounds, bounds[1:]), expected):
        chunk = cmds[lo:hi]
        out_n = native_b.process(chunk, deltas=True)
        out_r = ref_b.process(chunk, deltas=True)
        assert_same_batch(out_n, out_r)
        # per-call and batch runs of the same sequence agree
        got = out_n.results.tolist()
        for row, want in zip(got, res):
            if want[0] is None:
                assert row[0] in (Code.INVALID_OP, Code.INVALID_FLAGS)
                want[0] = row[0]
            assert list(row) == want
        assert out_n.fills.tolist() == fills
        assert out_n.cancels.tolist() == cancels
        assert out_n.deltas.tolist() == deltas
        assert native_b.snapshot() == ref_b.snapshot()
    assert native_b.snapshot() == native_pc.snapshot()
    assert ref_b.state_hash() == native_pc.state_hash()
    assert market_view(native_b) == market_view(ref_b) == market_view(native_pc)
    native_b.check_integrity()
    ref_b.check_integrity()


@settings(max_examples=40, deadline=None)
@given(config=st.sampled_from(CONFIGS), abstract=commands)
def test_batch_without_deltas_matches(config, abstract):
    """deltas=False changes nothing but the missing deltas, on both books."""
    steps, _, _, _ = run_per_call(config, abstract)
    cmds = batch_rows(steps)
    outs = []
    for cls in (OrderBook, ReferenceOrderBook):
        with_d = cls(**config).process(cmds, deltas=True)
        book = cls(**config)
        without = book.process(cmds)
        assert without.deltas is None
        assert_same_batch(with_d._replace(deltas=None), without)
        outs.append((without, book.snapshot()))
    assert_same_batch(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]


# ---------------------------------------------------------------------------------------------
# Scripted scenarios the random search might reach only rarely


def test_queue_priority_and_amend_semantics():
    for cls in (OrderBook, ReferenceOrderBook):
        book = cls()
        assert book.place(1, 1, Side.SELL, 600_000, 10).resting == 10
        assert book.place(2, 2, Side.SELL, 600_000, 10).ok
        assert book.place(3, 3, Side.SELL, 600_000, 10).ok
        # size down at the same price keeps priority
        r = book.amend(1, 5)
        assert (r.code, r.resting, r.deltas) == (0, 5, ((Side.SELL, 600_000, 25),))
        # size up re-queues at the back
        r = book.amend(2, 20)
        assert r.deltas == ((Side.SELL, 600_000, 35),)
        r = book.place(4, 9, Side.BUY, 600_000, 30, TimeInForce.IOC)
        assert [f.maker_order_id for f in r.fills] == [1, 3, 2]
        assert r.deltas == ((Side.SELL, 600_000, 5),)
        assert book.order(2)["size"] == 5
        assert book.amend(2, 5, 0).code == Code.PRICE_OUT_OF_RANGE
        assert book.amend(2, 5, None).ok


@pytest.mark.parametrize("stp", list(SelfTradePrevention))
def test_self_trade_prevention_and_fok_scenarios(stp):
    """Own order at the head of the queue, another account's behind it (same level)."""
    expected = {
        # FOK: (code, filled, own maker gone); GTC: (filled, expired, reason, own maker gone)
        SelfTradePrevention.EXPIRE_MAKER: ((Code.OK, 5, True), (5, 0, ExpireReason.NONE, True)),
        SelfTradePrevention.EXPIRE_TAKER: ((Code.FOK_NOT_FILLABLE, 0, False),
                                           (0, 5, ExpireReason.SELF_TRADE, False)),
        SelfTradePrevention.EXPIRE_BOTH: ((Code.FOK_NOT_FILLABLE, 0, False),
                                          (0, 5, ExpireReason.SELF_TRADE, True)),
    }[stp]
    views = []
    for cls in (OrderBook, ReferenceOrderBook):
        outcomes = []
        for tif in (TimeInForce.FOK, TimeInForce.GTC):
            book = cls()
            assert book.place(1, 1, Side.SELL, 600_000, 5).ok
            assert book.place(2, 2, Side.SELL, 600_000, 5).ok
            r = book.place(3, 1, Side.BUY, 600_000, 5, tif, stp)
            outcomes.append((r, book))
        (fok, _), (gtc, gtc_book) = outcomes
        assert (fok.code, fok.filled, 1 not in outcomes[0][1]) == expected[0]
        assert (gtc.filled, gtc.expired, gtc.expire_reason, 1 not in gtc_book) == expected[1]
        assert 3 not in gtc_book  # nothing rests: filled in full or expired
        views.append((result_view(fok), result_view(gtc), gtc_book.snapshot()))
    assert views[0] == views[1]


def test_process_out_argument_alike():
    cmds = np.zeros(1, COMMAND_DTYPE)
    cmds[0] = (Op.PLACE, 0, 0, 0, 0, 1, 1, 500_000, 3)
    outs = [cls().process(cmds, out=BatchBuffers()) for cls in (OrderBook, ReferenceOrderBook)]
    assert_same_batch(*outs)
    for cls in (OrderBook, ReferenceOrderBook):
        with pytest.raises(InvalidType):
            cls().process(cmds, out=bytearray(64))


@pytest.mark.parametrize("reuse", [False, True])
def test_batch_outputs_larger_than_the_batch(reuse):
    """One command causing hundreds of fills, cancels and deltas (output buffers must grow)."""
    setup = np.zeros(1000, COMMAND_DTYPE)
    setup["op"] = Op.PLACE
    setup["order_id"] = np.arange(1, 1001)
    setup["account"] = np.arange(1000) % 3
    setup["side"] = Side.SELL
    setup["price_ppm"] = 500_000 + (np.arange(1000) % 300) * 1000
    setup["size"] = 2
    sweep = np.zeros(2, COMMAND_DTYPE)
    sweep[0] = (Op.PLACE, Side.BUY, TimeInForce.MARKET, 0, 0, 10**6, 7, 0, 1500)
    sweep[1] = (Op.CANCEL_ALL, 0, 0, 0, 0, 0, 1, 0, 0)
    outs = []
    for cls in (OrderBook, ReferenceOrderBook):
        book = cls()
        kwargs = {"out": BatchBuffers()} if reuse else {}
        first = book.process(setup, deltas=True, **kwargs)
        first = [x.tolist() for x in first]  # views of reused buffers: copy before reuse
        out = book.process(sweep, deltas=True, **kwargs)
        outs.append((first, [x.tolist() for x in out], book.snapshot()))
    assert outs[0] == outs[1]
    _, (results, fills, cancels, deltas), _ = outs[0]
    assert (len(fills), len(cancels)) == (750, 84) and len(deltas) > 200


def test_batch_results_keep_command_order_id():
    """In a batch every result row carries its command's order_id, cancel_all included."""
    cmds = np.zeros(3, COMMAND_DTYPE)
    cmds[0] = (Op.CANCEL_ALL, 0, 0, 0, 0, 77, 3, 0, 0)
    cmds[1] = (9, 0, 0, 0, 0, 78, 0, 0, 0)
    cmds[2] = (Op.PLACE, 0, 0, 0, 2, 79, 0, 500_000, 1)
    outs = [cls().process(cmds) for cls in (OrderBook, ReferenceOrderBook)]
    assert_same_batch(*outs)
    assert outs[0].results["order_id"].tolist() == [77, 78, 79]
    assert outs[0].results["code"].tolist() == [0, Code.INVALID_OP, Code.INVALID_FLAGS]


@pytest.mark.parametrize("bad", [
    [1, 2, 3],
    np.zeros(2, np.int64),
    np.zeros((2, 2), COMMAND_DTYPE),
    np.zeros((), COMMAND_DTYPE),
    np.zeros(2, np.dtype(COMMAND_DTYPE.descr)),
    "commands",
])
def test_process_rejects_bad_arrays_alike(bad):
    errors = []
    for cls in (OrderBook, ReferenceOrderBook):
        with pytest.raises((InvalidType, InvalidInput)) as info:
            cls().process(bad)
        errors.append(info.type)
    assert errors[0] is errors[1]


@given(tick=st.one_of(st.sampled_from([1, 100, 1000, 500_000, 0, -5, 3, 1_000_000, 2.0, True]),
                      st.integers(-10, 10**6 + 1)),
       lot=st.sampled_from([1, 2, 5, 0, -1, 1.5, 2**63]),
       min_size=st.sampled_from([1, 2, 4, 10, 0, 3, None]),
       max_size=st.sampled_from([1, 10, 100, MAX_ORDER_SIZE_LIMIT, MAX_ORDER_SIZE_LIMIT + 1,
                                  2**32, 10**9, "9"]))
@settings(max_examples=150, deadline=None)
def test_constructor_validation_alike(tick, lot, min_size, max_size):
    outcomes = []
    for cls in (OrderBook, ReferenceOrderBook):
        try:
            book = cls(tick, lot=lot, min_size=min_size, max_size=max_size)
        except (InvalidInput, InvalidType) as exc:
            outcomes.append(type(exc))
        else:
            outcomes.append((book.tick_ppm, book.lot, book.min_size, book.max_size,
                             book.snapshot()))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("query", [
    lambda b: b.depth(-1), lambda b: b.depth(1.0), lambda b: b.depth(True),
    lambda b: b.depth(2**64), lambda b: b.impact_price(2, 5), lambda b: b.impact_price(-1, 5),
    lambda b: b.impact_price(0, -1), lambda b: b.impact_price(0, 1.0),
    lambda b: b.impact_price(False, 1), lambda b: b.order(1.0), lambda b: b.order("1"),
    lambda b: 1.5 in b, lambda b: True in b, lambda b: b.order(2**63),
    lambda b: b.restore("bytes"), lambda b: b.restore(b"PCBK"),
    lambda b: b.place(1, 1, 0, 500_000, 1, reduce_only=2),
    lambda b: b.amend(1, 1, 1.0),
])
def test_bad_query_arguments_alike(query):
    errors = []
    for cls in (OrderBook, ReferenceOrderBook):
        book = cls()
        book.place(1, 1, Side.BUY, 400_000, 5)
        with pytest.raises((InvalidInput, InvalidType, SnapshotError)) as info:
            query(book)
        errors.append(info.type)
    assert errors[0] is errors[1]


# ---------------------------------------------------------------------------------------------
# The synthetic workload


@pytest.mark.parametrize("tick", [1000, 100])
def test_workload_replay_identical(tick):
    spec = FlowSpec(n_events=20_000, tick_ppm=tick,
                    target_live=600, n_accounts=40, seed=11)
    cmds = generate_flow(spec)
    native, ref = OrderBook(tick_ppm=tick), ReferenceOrderBook(tick_ppm=tick)
    total_fills = 0
    for lo in range(0, len(cmds), 5_000):
        chunk = cmds[lo:lo + 5_000]
        out_n = native.process(chunk, deltas=True)
        out_r = ref.process(chunk, deltas=True)
        assert_same_batch(out_n, out_r)
        assert (out_n.results["code"] == 0).all()
        total_fills += len(out_n.fills)
        assert native.state_hash() == ref.state_hash()
        assert market_view(native) == market_view(ref)
    assert total_fills > 1000 and len(native) > 100
    ref.check_integrity()
    # the whole flow in one batch, without deltas, ends in the same state
    again = ReferenceOrderBook(tick_ppm=tick)
    whole = again.process(cmds)
    assert whole.deltas is None and len(whole.results) == len(cmds)
    assert again.state_hash() == native.state_hash()
