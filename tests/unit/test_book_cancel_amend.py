"""Cancel, amend (keeping or losing queue priority) and cancel_all."""

import pytest

from perpcore import (
    BookDelta,
    CancelledOrder,
    CancelReason,
    Code,
    ExpireReason,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL = 1, 2, 3


def fill_order(book, taker_id, side, price, size):
    """Maker ids hit by a taker from a fresh account, in fill order."""
    r = book.place(taker_id, 99, side, price, size, tif=TimeInForce.IOC)
    return [f.maker_order_id for f in r.fills]


# --------------------------------------------------------------------------------------- cancel

def test_cancel_removes_the_order_and_reports_it(book):
    book.place(1, ALICE, BUY, 400_000, 5)
    book.place(2, BOB, BUY, 400_000, 2)

    r = book.cancel(1)

    assert r.ok and r.order_id == 1
    assert r.cancelled == (CancelledOrder(1, ALICE, BUY, 400_000, 5, CancelReason.USER),)
    assert r.deltas == (BookDelta(BUY, 400_000, 2),)
    assert r.fills == () and (r.filled, r.resting, r.expired) == (0, 0, 0)
    assert 1 not in book and len(book) == 1


def test_cancel_reports_the_remaining_size_of_a_partially_filled_order(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, BUY, 500_000, 2)

    assert book.cancel(1).cancelled[0].size == 3


def test_cancelling_the_last_order_of_the_best_level_moves_the_touch(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, ALICE, SELL, 520_000, 1)

    r = book.cancel(1)

    assert r.deltas == (BookDelta(SELL, 500_000, 0),)
    assert book.best_ask() == 520_000


def test_cancel_of_an_unknown_id_is_rejected(book, unchanged, assert_rejected):
    book.place(1, ALICE, SELL, 500_000, 1)

    with unchanged(book):
        assert_rejected(book.cancel(2), Code.UNKNOWN_ORDER_ID)


def test_an_order_cannot_be_cancelled_twice(book, assert_rejected):
    book.place(1, ALICE, SELL, 500_000, 1)

    assert book.cancel(1).ok
    assert_rejected(book.cancel(1), Code.UNKNOWN_ORDER_ID)


def test_a_filled_order_cannot_be_cancelled(book, assert_rejected):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, BUY, 500_000, 1)

    assert_rejected(book.cancel(1), Code.UNKNOWN_ORDER_ID)
    assert_rejected(book.cancel(2), Code.UNKNOWN_ORDER_ID)


def test_cancel_keeps_the_priority_of_the_others(book):
    for i in (1, 2, 3):
        book.place(i, ALICE, SELL, 500_000, 1)

    book.cancel(2)

    assert fill_order(book, 10, BUY, 500_000, 2) == [1, 3]


# ---------------------------------------------------------------------------------------- amend

def test_amend_to_a_smaller_size_keeps_queue_priority(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)

    r = book.amend(1, 2)

    assert r.ok and (r.filled, r.resting, r.expired) == (0, 2, 0)
    assert r.deltas == (BookDelta(SELL, 500_000, 7),)
    assert r.cancelled == ()
    assert book.order(1)["size"] == 2
    assert fill_order(book, 10, BUY, 500_000, 3) == [1, 2]


def test_amend_to_a_smaller_size_at_an_explicit_same_price_keeps_priority(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)

    assert book.amend(1, 4, 500_000).ok

    assert fill_order(book, 10, BUY, 500_000, 1) == [1]


def test_amend_to_the_same_size_and_price_changes_nothing(book, unchanged):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)

    with unchanged(book):
        r = book.amend(1, 5)

    assert r.ok and r.resting == 5 and r.deltas == ()


def test_amend_to_a_larger_size_loses_queue_priority(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)

    r = book.amend(1, 6)

    assert r.ok and r.resting == 6
    assert r.deltas == (BookDelta(SELL, 500_000, 11),)
    assert fill_order(book, 10, BUY, 500_000, 6) == [2, 1]


def test_amend_to_a_new_price_loses_queue_priority_even_when_moved_back(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)

    book.amend(1, 5, 510_000)
    r = book.amend(1, 5, 500_000)

    assert r.ok and r.deltas == (BookDelta(SELL, 510_000, 0), BookDelta(SELL, 500_000, 10))
    assert fill_order(book, 10, BUY, 500_000, 6) == [2, 1]


def test_amend_to_a_new_price_moves_the_order_and_its_level(book):
    book.place(1, ALICE, BUY, 400_000, 3)

    r = book.amend(1, 3, 420_000)

    assert r.deltas == (BookDelta(BUY, 400_000, 0), BookDelta(BUY, 420_000, 3))
    assert book.best_bid() == 420_000 and book.order(1)["price_ppm"] == 420_000


def test_amend_to_a_crossing_price_trades_at_the_makers_price_and_rests_the_rest(book):
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, BOB, BUY, 450_000, 5)

    r = book.amend(2, 5, 510_000)

    assert r.ok and (r.filled, r.resting, r.expired) == (2, 3, 0)
    assert [(f.taker_order_id, f.maker_order_id, f.price_ppm, f.taker_side) for f in r.fills] == [
        (2, 1, 500_000, BUY)]
    assert book.order(2) is not None and book.order(2)["price_ppm"] == 510_000
    assert book.best_ask() is None


def test_amend_that_fills_completely_removes_the_order(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, BUY, 450_000, 3)

    r = book.amend(2, 3, 500_000)

    assert (r.filled, r.resting) == (3, 0)
    assert 2 not in book


def test_amend_of_a_post_only_order_to_a_crossing_price_is_rejected_unchanged(
        book, unchanged, assert_rejected):
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, BOB, BUY, 450_000, 5, tif=TimeInForce.POST_ONLY)

    with unchanged(book):
        assert_rejected(book.amend(2, 5, 500_000), Code.POST_ONLY_WOULD_CROSS)


def test_amend_keeps_the_orders_flags_and_owner(book):
    book.place(1, ALICE, BUY, 400_000, 5, tif=TimeInForce.POST_ONLY,
               stp=SelfTradePrevention.EXPIRE_BOTH, reduce_only=True)

    book.amend(1, 8, 410_000)

    info = book.order(1)
    assert (info["account"], info["side"], info["post_only"], info["reduce_only"],
            info["stp"]) == (ALICE, BUY, True, True, SelfTradePrevention.EXPIRE_BOTH)


def test_amend_that_crosses_uses_the_orders_stp_mode(book):
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, ALICE, BUY, 450_000, 3, stp=SelfTradePrevention.EXPIRE_TAKER)

    r = book.amend(2, 3, 500_000)

    assert r.fills == () and r.cancelled == ()
    assert (r.expired, r.expire_reason) == (3, ExpireReason.SELF_TRADE)
    assert 2 not in book and 1 in book


def test_amend_reduce_only_order_carries_the_flag_into_fills(book):
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, BOB, BUY, 450_000, 2, reduce_only=True)

    r = book.amend(2, 2, 500_000)

    assert [f.taker_reduce_only for f in r.fills] == [True]


def test_amend_may_shrink_an_order_below_the_minimum_size_in_place(book_cls):
    book = book_cls(lot=1, min_size=5)
    book.place(1, ALICE, BUY, 400_000, 10)

    assert book.amend(1, 2).ok
    assert book.order(1)["size"] == 2


def test_amend_that_requeues_below_the_minimum_size_is_rejected(
        book_cls, unchanged, assert_rejected):
    book = book_cls(lot=1, min_size=5)
    book.place(1, ALICE, BUY, 400_000, 10)

    with unchanged(book):
        assert_rejected(book.amend(1, 2, 410_000), Code.SIZE_BELOW_MINIMUM)


@pytest.mark.parametrize("size, price, code", [
    (0, None, Code.SIZE_NOT_POSITIVE),
    (-3, None, Code.SIZE_NOT_POSITIVE),
    (1_000_000_001, None, Code.SIZE_ABOVE_MAXIMUM),
    (5, 410_500, Code.PRICE_OFF_TICK),
    (5, 0, Code.PRICE_OUT_OF_RANGE),
    (5, -1000, Code.PRICE_OUT_OF_RANGE),
    (5, 1_000_000, Code.PRICE_OUT_OF_RANGE),
])
def test_amend_with_an_invalid_size_or_price_is_rejected_unchanged(
        book, unchanged, assert_rejected, size, price, code):
    book.place(1, ALICE, BUY, 400_000, 5)

    with unchanged(book):
        assert_rejected(book.amend(1, size, price), code)


def test_amend_of_an_unknown_id_is_rejected(book, unchanged, assert_rejected):
    book.place(1, ALICE, BUY, 400_000, 5)

    with unchanged(book):
        assert_rejected(book.amend(2, 5), Code.UNKNOWN_ORDER_ID)


# ----------------------------------------------------------------------------------- cancel_all

@pytest.fixture
def mixed(book):
    """Alice and Bob on both sides, several levels."""
    book.place(1, ALICE, BUY, 400_000, 1)
    book.place(2, BOB, BUY, 410_000, 1)
    book.place(3, ALICE, BUY, 410_000, 2)
    book.place(4, ALICE, BUY, 410_000, 3)
    book.place(5, ALICE, SELL, 600_000, 4)
    book.place(6, BOB, SELL, 550_000, 1)
    book.place(7, ALICE, SELL, 550_000, 5)
    book.place(8, ALICE, BUY, 420_000, 6)
    return book


def test_cancel_all_cancels_bids_best_first_then_asks_best_first_in_queue_order(mixed):
    r = mixed.cancel_all(ALICE)

    assert r.ok
    assert [(c.order_id, c.side, c.price_ppm, c.size) for c in r.cancelled] == [
        (8, BUY, 420_000, 6), (3, BUY, 410_000, 2), (4, BUY, 410_000, 3), (1, BUY, 400_000, 1),
        (7, SELL, 550_000, 5), (5, SELL, 600_000, 4)]
    assert all(c.reason == CancelReason.USER and c.account == ALICE for c in r.cancelled)


def test_cancel_all_reports_one_delta_per_touched_level(mixed):
    r = mixed.cancel_all(ALICE)

    assert r.deltas == (
        BookDelta(BUY, 420_000, 0), BookDelta(BUY, 410_000, 1), BookDelta(BUY, 400_000, 0),
        BookDelta(SELL, 550_000, 1), BookDelta(SELL, 600_000, 0))


def test_cancel_all_leaves_other_accounts_and_their_priority(mixed):
    mixed.cancel_all(ALICE)

    assert len(mixed) == 2 and 2 in mixed and 6 in mixed
    assert (mixed.best_bid(), mixed.best_ask()) == (410_000, 550_000)
    mixed.check_integrity()


def test_cancel_all_of_an_account_without_orders_is_accepted_and_does_nothing(mixed, unchanged):
    with unchanged(mixed):
        r = mixed.cancel_all(CAROL)

    assert r.ok and r.cancelled == () and r.deltas == ()


def test_cancel_all_on_an_empty_book(book):
    assert book.cancel_all(ALICE).ok


def test_cancel_all_with_a_negative_account_is_rejected(mixed, unchanged, assert_rejected):
    with unchanged(mixed):
        assert_rejected(mixed.cancel_all(-1), Code.INVALID_ACCOUNT)
