"""Snapshot properties of both order books (native ``OrderBook`` and ``ReferenceOrderBook``).

A book built by random commands must round-trip through ``snapshot()`` / ``restore()`` and through
pickle: same bytes, same state hash, and identical behaviour on further commands, queue priority
included; each implementation must restore the other's snapshot. Corrupted, truncated and
non-canonical snapshots must raise ``perpcore.SnapshotError`` on both implementations, and any
bytes that *are* accepted must be canonical (re-serialise to exactly the same bytes).
"""

import copy
import pickle
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpcore import (
    PRICE_SCALE_PPM,
    InvalidType,
    OrderBook,
    SelfTradePrevention,
    Side,
    SnapshotError,
    TimeInForce,
)
from perpcore._book import SNAPSHOT_MAGIC, SNAPSHOT_VERSION
from perpcore.reference import ReferenceOrderBook

IMPLS = (OrderBook, ReferenceOrderBook)
CONFIGS = [
    dict(tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000),
    dict(tick_ppm=100, lot=2, min_size=4, max_size=200),
    dict(tick_ppm=50_000, lot=1, min_size=1, max_size=30),
]



HEADER = struct.Struct("<4sHH5q")  # magic, version, zero, tick, lot, min, max, order count
RECORD = struct.Struct("<qqqqBB")  # order id, account, price, remaining, side, flags

# One command: (kind, side, ticks from the opposite touch, lots, account, tif, stp, pick).
commands = st.lists(
    st.tuples(st.sampled_from(["place"] * 6 + ["cancel", "amend", "amend_up"]),
              st.sampled_from(Side), st.integers(-6, 2), st.integers(0, 8), st.integers(0, 2),
              st.sampled_from([TimeInForce.GTC] * 3 + [TimeInForce.POST_ONLY, TimeInForce.IOC]),
              st.sampled_from(SelfTradePrevention), st.integers(0, 1000)),
    min_size=3, max_size=50,
)


def result_key(r):
    return (r.code, r.filled, r.resting, r.expired, r.expire_reason, r.fills, r.cancelled,
            r.deltas)


def apply(books, cmds, config, first_id):
    """Apply commands per call to every book; all must return the same; returns the results."""
    tick, lot, min_size = config["tick_ppm"], config["lot"], config["min_size"]
    next_id = first_id
    out = []
    for kind, side, offset, lots, account, tif, stp, pick in cmds:
        lead = books[0]
        live = sorted(_live_ids(lead))
        bid, ask = lead.best_bid(), lead.best_ask()
        mid = PRICE_SCALE_PPM // 2 // tick * tick
        if side == Side.BUY:
            base = ask if ask is not None else (bid + tick if bid is not None else mid)
            price = base + offset * tick
        else:
            base = bid if bid is not None else (ask - tick if ask is not None else mid)
            price = base - offset * tick
        price = min(max(price, tick), PRICE_SCALE_PPM - tick)
        size = min(min_size + lots * lot, config["max_size"])
        if kind == "place" or not live:
            call = ("place", (next_id, account, side, price, size, tif, stp, bool(pick % 2)))
            next_id += 1
        elif kind == "cancel":
            call = ("cancel", (live[pick % len(live)],))
        else:
            oid = live[pick % len(live)]
            o = lead.order(oid)
            new = o["size"] + lot if kind == "amend_up" else max(o["size"] - lot, lot)
            call = ("amend", (oid, new, price if pick % 3 == 0 else None))
        results = [getattr(b, call[0])(*call[1]) for b in books]
        keys = [result_key(r) for r in results]
        assert all(k == keys[0] for k in keys), call
        out.append(keys[0])
    return out


def _live_ids(book):
    data = book.snapshot()
    count = HEADER.unpack_from(data)[-1]
    return [RECORD.unpack_from(data, HEADER.size + k * RECORD.size)[0] for k in range(count)]


def build(config, cmds):
    books = [cls(**config) for cls in IMPLS]
    apply(books, cmds, config, 1)
    return books


# ---------------------------------------------------------------------------------------------
# Round trips


@settings(max_examples=60, deadline=None)
@given(config=st.sampled_from(CONFIGS), before=commands, after=commands)
def test_round_trip_preserves_bytes_hash_and_behaviour(config, before, after):
    native, ref = build(config, before)
    data = native.snapshot()
    assert ref.snapshot() == data
    assert native.state_hash() == ref.state_hash()
    restored = []
    for cls in IMPLS:
        for source in (data, bytearray(data), memoryview(data)):
            book = cls.restore(source)
            assert type(book) is cls
            assert book.snapshot() == data
            assert book.state_hash() == native.state_hash()
            assert len(book) == len(native)
            book.check_integrity()
        restored.append(cls.restore(data))
        restored.append(pickle.loads(pickle.dumps(native if cls is OrderBook else ref)))
        restored.append(copy.deepcopy(native if cls is OrderBook else ref))
    # the originals and every restored copy behave identically from here on, queue priority
    # included (fills name their makers in time order)
    books = [native, ref, *restored]
    apply(books, after, config, 10_000)
    final = native.snapshot()
    for book in books:
        assert book.snapshot() == final
        book.check_integrity()


@settings(max_examples=30, deadline=None)
@given(config=st.sampled_from(CONFIGS), cmds=commands)
def test_queue_priority_survives_restore(config, cmds):
    """A sweep of the whole book after a restore hits makers in exactly the original order."""
    native, ref = build(config, cmds)
    books = [native, ref, OrderBook.restore(ref.snapshot()),
             ReferenceOrderBook.restore(native.snapshot())]
    for side in Side:
        taker = Side.SELL if side == Side.BUY else Side.BUY
        size = min(sum(native.depth(10**6)[1 if side == Side.BUY else 4].tolist()),
                   config["max_size"]) // config["lot"] * config["lot"]
        if size < config["min_size"]:
            continue
        results = [b.place(99_999 + side, 999, taker, 0, size, TimeInForce.MARKET) for b in books]
        makers = [[f.maker_order_id for f in r.fills] for r in results]
        assert all(m == makers[0] for m in makers)
        assert results[0].filled == size
    assert all(b.snapshot() == books[0].snapshot() for b in books)


def test_empty_book_round_trip():
    for cls in IMPLS:
        book = cls(tick_ppm=500, lot=3, min_size=6, max_size=3000)
        data = book.snapshot()
        assert len(data) == HEADER.size
        assert HEADER.unpack(data) == (SNAPSHOT_MAGIC, SNAPSHOT_VERSION, 0, 500, 3, 6, 3000, 0)
        for other in IMPLS:
            copy_ = other.restore(data)
            assert (copy_.tick_ppm, copy_.lot, copy_.min_size, copy_.max_size) == (500, 3, 6, 3000)
            assert copy_.snapshot() == data


# ---------------------------------------------------------------------------------------------
# Corruption


def restore_outcome(cls, data):
    try:
        book = cls.restore(data)
    except SnapshotError:
        return "SnapshotError"
    return book.snapshot()


def sample_snapshot():
    """A snapshot with orders on both sides, several per level, all flags in use."""
    book = OrderBook(tick_ppm=1000, lot=1, min_size=1, max_size=1000)
    oid = 1
    for side, prices in ((Side.BUY, (480_000, 470_000)), (Side.SELL, (520_000, 530_000))):
        for price in prices:
            for k in range(2):
                tif = TimeInForce.POST_ONLY if k else TimeInForce.GTC
                assert book.place(oid, oid % 3, side, price, 5 + oid, tif, oid % 3,
                                  bool(k)).resting
                oid += 1
    return book.snapshot()


SAMPLE = sample_snapshot()
N_SAMPLE = HEADER.unpack_from(SAMPLE)[-1]


def record_at(data, k):
    return list(RECORD.unpack_from(data, HEADER.size + k * RECORD.size))


def with_record(data, k, fields):
    buf = bytearray(data)
    RECORD.pack_into(buf, HEADER.size + k * RECORD.size, *fields)
    return bytes(buf)


def with_header(data, **changes):
    names = ("magic", "version", "pad", "tick", "lot", "min", "max", "count")
    fields = dict(zip(names, HEADER.unpack_from(data)))
    fields.update(changes)
    buf = bytearray(data)
    HEADER.pack_into(buf, 0, *(fields[n] for n in names))
    return bytes(buf)


def swap_records(data, i, j):
    a, b = record_at(data, i), record_at(data, j)
    return with_record(with_record(data, i, b), j, a)


def set_field(data, k, index, value):
    fields = record_at(data, k)
    fields[index] = value
    return with_record(data, k, fields)


CORRUPTIONS = {
    "empty": b"",
    "short header": SAMPLE[:47],
    "truncated record": SAMPLE[:-1],
    "missing record": SAMPLE[:-RECORD.size],
    "extra byte": SAMPLE + b"\x00",
    "extra record": SAMPLE + SAMPLE[-RECORD.size:],
    "bad magic": b"PCBX" + SAMPLE[4:],
    "other version": with_header(SAMPLE, version=SNAPSHOT_VERSION + 1),
    "nonzero pad": with_header(SAMPLE, pad=1),
    "count too large": with_header(SAMPLE, count=N_SAMPLE + 1),
    "count negative": with_header(SAMPLE, count=-1),
    "huge count": with_header(SAMPLE, count=2**62),
    "bad tick": with_header(SAMPLE, tick=3),
    "bad lot": with_header(SAMPLE, lot=0),
    "bad min": with_header(SAMPLE, min=0),
    "max above cap": with_header(SAMPLE, max=2**40),
    "remaining above max": with_header(SAMPLE, max=6),
    "lot not dividing remaining": with_header(SAMPLE, lot=7, min=7),
    "bids out of order": swap_records(SAMPLE, 1, 2),
    "asks out of order": swap_records(SAMPLE, 5, 6),
    "ask before bid": swap_records(SAMPLE, 0, N_SAMPLE - 1),
    "crossed": set_field(SAMPLE, N_SAMPLE // 2, 2, 480_000),
    "duplicate id": set_field(SAMPLE, 3, 0, record_at(SAMPLE, 0)[0]),
    "zero id": set_field(SAMPLE, 2, 0, 0),
    "negative account": set_field(SAMPLE, 2, 1, -1),
    "zero remaining": set_field(SAMPLE, 2, 3, 0),
    "negative remaining": set_field(SAMPLE, 2, 3, -5),
    "price off tick": set_field(SAMPLE, 0, 2, 480_500),
    "price zero": set_field(SAMPLE, N_SAMPLE - 1, 2, 0),
    "price at scale": set_field(SAMPLE, N_SAMPLE - 1, 2, PRICE_SCALE_PPM),
    "side 2": set_field(SAMPLE, N_SAMPLE - 1, 4, 2),
    "unknown flag bits": set_field(SAMPLE, 0, 5, 16),
    "stp 3": set_field(SAMPLE, 0, 5, 3 << 2),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_snapshots_raise_snapshot_error(name):
    data = CORRUPTIONS[name]
    assert data != SAMPLE
    for cls in IMPLS:
        with pytest.raises(SnapshotError):
            cls.restore(data)


def test_sample_snapshot_is_valid():
    for cls in IMPLS:
        assert cls.restore(SAMPLE).snapshot() == SAMPLE


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(SAMPLE) - 1), value=st.integers(0, 255),
       cut=st.none() | st.integers(0, len(SAMPLE)))
def test_random_corruption_agrees_and_accepted_bytes_are_canonical(position, value, cut):
    data = bytearray(SAMPLE)
    data[position] = value
    data = bytes(data[:cut] if cut is not None else data)
    outcomes = [restore_outcome(cls, data) for cls in IMPLS]
    assert outcomes[0] == outcomes[1]
    if outcomes[0] != "SnapshotError":
        assert outcomes[0] == data  # whatever is accepted is canonical


@settings(max_examples=60, deadline=None)
@given(config=st.sampled_from(CONFIGS), cmds=commands, data=st.data())
def test_reordered_records_are_rejected_unless_same_level(config, cmds, data):
    """Swapping two orders of different levels (or sides) makes a snapshot non-canonical."""
    native, _ = build(config, cmds)
    snap = native.snapshot()
    n = len(native)
    if n < 2:
        return
    i = data.draw(st.integers(0, n - 2))
    j = data.draw(st.integers(i + 1, n - 1))
    a, b = record_at(snap, i), record_at(snap, j)
    swapped = swap_records(snap, i, j)
    outcomes = [restore_outcome(cls, swapped) for cls in IMPLS]
    assert outcomes[0] == outcomes[1]
    if (a[2], a[4]) == (b[2], b[4]):
        assert outcomes[0] == swapped  # same level: only the queue order changed
        assert swapped == snap or OrderBook.restore(swapped).state_hash() != native.state_hash()
    else:
        assert outcomes[0] == "SnapshotError"


@pytest.mark.parametrize("bad", ["snapshot", 123, None, [1, 2], 1.5])
def test_restore_rejects_non_bytes(bad):
    for cls in IMPLS:
        with pytest.raises(InvalidType):
            cls.restore(bad)
