"""Snapshots, restore, the state hash and pickling."""

import copy
import hashlib
import pickle

import pytest

import perpcore
from perpcore import SelfTradePrevention, Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL = 1, 2, 3


def populate(book):
    book.place(1, ALICE, BUY, 400_000, 3)
    book.place(2, BOB, BUY, 400_000, 2, tif=TimeInForce.POST_ONLY)
    book.place(3, ALICE, BUY, 390_000, 1, reduce_only=True)
    book.place(4, CAROL, SELL, 450_000, 4, stp=SelfTradePrevention.EXPIRE_TAKER)
    book.place(5, BOB, SELL, 450_000, 5, stp=SelfTradePrevention.EXPIRE_BOTH)
    book.place(6, ALICE, SELL, 470_000, 6)
    book.place(7, 9, BUY, 450_000, 1)  # partially fills order 4
    return book


@pytest.fixture
def full(book):
    return populate(book)


def all_orders(book, ids=range(1, 20)):
    return {i: book.order(i) for i in ids if i in book}


def continue_trading(book):
    """A fixed tail of activity whose outcome depends on every queue position."""
    out = []
    out.append(book.place(100, 9, SELL, 390_000, 6).fills)
    out.append(book.place(101, 9, BUY, 470_000, 12).fills)
    out.append(book.cancel_all(ALICE).cancelled)
    return out


def test_restore_rebuilds_an_identical_book(full):
    restored = type(full).restore(full.snapshot())

    assert type(restored) is type(full)
    assert restored.snapshot() == full.snapshot()
    assert restored.state_hash() == full.state_hash()
    assert all_orders(restored) == all_orders(full)
    assert len(restored) == len(full) == 6 and restored.order(4)["size"] == 3
    assert (restored.tick_ppm, restored.lot, restored.min_size, restored.max_size) == (
        full.tick_ppm, full.lot, full.min_size, full.max_size)
    restored.check_integrity()


def test_a_restored_book_keeps_queue_priority_and_trades_identically(full):
    restored = type(full).restore(full.snapshot())

    assert continue_trading(restored) == continue_trading(full)
    assert restored.snapshot() == full.snapshot()


def test_restore_keeps_a_non_default_market_config(book_cls):
    book = book_cls(tick_ppm=5000, lot=10, min_size=20, max_size=10_000)
    book.place(1, ALICE, BUY, 5000, 20)

    restored = book_cls.restore(book.snapshot())

    assert (restored.tick_ppm, restored.lot, restored.min_size, restored.max_size) == (
        5000, 10, 20, 10_000)
    assert restored.place(2, ALICE, BUY, 5000, 15).code == perpcore.Code.SIZE_OFF_LOT


def test_an_empty_book_round_trips(book):
    restored = type(book).restore(book.snapshot())

    assert len(restored) == 0 and restored.snapshot() == book.snapshot()


def test_restore_accepts_bytearray_and_memoryview(full):
    snap = full.snapshot()

    for data in (bytearray(snap), memoryview(snap)):
        assert type(full).restore(data).snapshot() == snap


def test_a_snapshot_is_bytes_and_equal_books_give_equal_bytes(book_cls):
    a, b = populate(book_cls()), populate(book_cls())

    assert isinstance(a.snapshot(), bytes)
    assert a.snapshot() == b.snapshot() and a.state_hash() == b.state_hash()


def test_the_snapshot_does_not_depend_on_history_only_on_the_book(book_cls):
    a, b = book_cls(), book_cls()
    a.place(1, ALICE, BUY, 400_000, 3)
    b.place(9, BOB, SELL, 600_000, 1)
    b.place(1, ALICE, BUY, 400_000, 5)
    b.cancel(9)
    b.amend(1, 3)

    assert a.snapshot() == b.snapshot()
    assert a.state_hash() == b.state_hash()


def test_placing_and_cancelling_restores_the_hash_of_the_empty_book(book):
    empty = book.state_hash()
    book.place(1, ALICE, BUY, 400_000, 3)
    assert book.state_hash() != empty

    book.cancel(1)

    assert book.state_hash() == empty


def test_queue_order_is_part_of_the_state(book_cls):
    a, b = book_cls(), book_cls()
    a.place(1, ALICE, BUY, 400_000, 1)
    a.place(2, BOB, BUY, 400_000, 1)
    b.place(2, BOB, BUY, 400_000, 1)
    b.place(1, ALICE, BUY, 400_000, 1)

    assert a.state_hash() != b.state_hash()


@pytest.mark.parametrize("change", [
    lambda b: b.amend(1, 2),
    lambda b: b.place(50, ALICE, BUY, 380_000, 1),
    lambda b: b.place(50, ALICE, SELL, 480_000, 1, reduce_only=True),
    lambda b: b.cancel(6),
], ids=["amend", "bid", "ask", "cancel"])
def test_any_change_to_the_book_changes_the_hash(full, change):
    before = full.state_hash()

    assert change(full).ok
    assert full.state_hash() != before


def test_flags_are_part_of_the_state(book_cls):
    a, b, c = book_cls(), book_cls(), book_cls()
    a.place(1, ALICE, BUY, 400_000, 1)
    b.place(1, ALICE, BUY, 400_000, 1, reduce_only=True)
    c.place(1, ALICE, BUY, 400_000, 1, stp=SelfTradePrevention.EXPIRE_TAKER)

    assert len({a.state_hash(), b.state_hash(), c.state_hash()}) == 3


def test_the_market_config_is_part_of_the_state(book_cls):
    assert book_cls(tick_ppm=1000).state_hash() != book_cls(tick_ppm=2000).state_hash()
    assert book_cls(max_size=100).state_hash() != book_cls(max_size=101).state_hash()


def test_state_hash_is_the_sha256_of_the_snapshot(full):
    assert full.state_hash() == hashlib.sha256(full.snapshot()).hexdigest()


def test_pickle_round_trips_the_book(full):
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        clone = pickle.loads(pickle.dumps(full, protocol=protocol))
        assert type(clone) is type(full)
        assert clone.snapshot() == full.snapshot()
        clone.check_integrity()


def test_copies_are_independent(full):
    for clone in (copy.copy(full), copy.deepcopy(full)):
        before = full.snapshot()
        clone.cancel_all(ALICE)
        assert full.snapshot() == before
        assert clone.snapshot() != before


# ----------------------------------------------------------------------- corrupt snapshots

def _parts(book):
    """(header of this book's snapshot, record size): header = snapshot of the config + count."""
    empty = type(book)(book.tick_ppm, book.lot, book.min_size, book.max_size).snapshot()
    snap = book.snapshot()
    record = (len(snap) - len(empty)) // len(book)
    return len(empty), record


def test_restore_of_non_bytes_raises_invalid_type(book_cls):
    for bad in ("snapshot", None, 42, [1, 2]):
        with pytest.raises(perpcore.InvalidType):
            book_cls.restore(bad)


@pytest.mark.parametrize("cut", [0, 3, 10, -1, -20])
def test_a_truncated_snapshot_is_refused(full, cut):
    snap = full.snapshot()

    with pytest.raises(perpcore.SnapshotError) as info:
        type(full).restore(snap[:cut])

    assert isinstance(info.value, perpcore.InvalidInput) and isinstance(info.value, ValueError)


def test_a_snapshot_with_trailing_bytes_is_refused(full):
    with pytest.raises(perpcore.SnapshotError):
        type(full).restore(full.snapshot() + b"\0")


def test_bytes_that_are_not_a_snapshot_are_refused(full):
    snap = full.snapshot()

    with pytest.raises(perpcore.SnapshotError):
        type(full).restore(b"XXXX" + snap[4:])
    with pytest.raises(perpcore.SnapshotError):
        type(full).restore(bytes(len(snap)))


def test_a_snapshot_of_another_version_is_refused(full):
    snap = bytearray(full.snapshot())
    snap[4] ^= 0x7F  # the version number follows the 4-byte magic

    with pytest.raises(perpcore.SnapshotError):
        type(full).restore(bytes(snap))


def test_a_snapshot_whose_orders_are_out_of_book_order_is_refused(book):
    book.place(1, ALICE, BUY, 500_000, 1)
    book.place(2, ALICE, BUY, 400_000, 1)
    header, record = _parts(book)
    snap = book.snapshot()
    first, second = snap[header:header + record], snap[header + record:]

    with pytest.raises(perpcore.SnapshotError):
        type(book).restore(snap[:header] + second + first)


def test_a_snapshot_with_a_duplicate_order_id_is_refused(book_cls):
    two = book_cls()
    two.place(1, ALICE, BUY, 500_000, 1)
    two.place(2, ALICE, BUY, 400_000, 1)
    other = book_cls()
    other.place(1, ALICE, BUY, 400_000, 1)
    header, record = _parts(two)
    snap = two.snapshot()

    forged = snap[:header + record] + other.snapshot()[header:]

    assert len(forged) == len(snap)
    with pytest.raises(perpcore.SnapshotError):
        book_cls.restore(forged)


def test_a_snapshot_of_a_crossed_book_is_refused(book_cls):
    two = book_cls()
    two.place(1, ALICE, BUY, 500_000, 1)
    two.place(2, BOB, SELL, 600_000, 1)
    low_ask = book_cls()
    low_ask.place(2, BOB, SELL, 450_000, 1)
    header, record = _parts(two)
    snap = two.snapshot()

    forged = snap[:header + record] + low_ask.snapshot()[header:]

    with pytest.raises(perpcore.SnapshotError):
        book_cls.restore(forged)


def test_a_snapshot_whose_market_config_does_not_fit_its_orders_is_refused(book_cls):
    # the order (size 3) is a valid size in a lot-1 market but off the lot of a lot-2 market
    lot1 = book_cls(lot=1, min_size=2, max_size=100)
    lot1.place(1, ALICE, BUY, 400_000, 3)
    lot2 = book_cls(lot=2, min_size=2, max_size=100)
    lot2.place(1, ALICE, BUY, 400_000, 4)
    header, _ = _parts(lot1)

    forged = lot2.snapshot()[:header] + lot1.snapshot()[header:]

    with pytest.raises(perpcore.SnapshotError):
        book_cls.restore(forged)


def test_a_snapshot_with_an_impossible_market_config_is_refused(book_cls):
    good = book_cls(tick_ppm=1000).snapshot()
    tick_3 = bytearray(good)
    # find the tick field by diffing two configs that differ only in the tick
    other = book_cls(tick_ppm=2000).snapshot()
    at = next(i for i in range(len(good)) if good[i] != other[i])
    tick_3[at:at + 2] = (3).to_bytes(2, "little")  # 1000 -> 3, which does not divide 1e6

    with pytest.raises(perpcore.SnapshotError):
        book_cls.restore(bytes(tick_3))
