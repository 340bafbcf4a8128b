"""Self-trade prevention: what happens when a taker meets a resting order of its own account."""

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
EXPIRE_MAKER = SelfTradePrevention.EXPIRE_MAKER
EXPIRE_TAKER = SelfTradePrevention.EXPIRE_TAKER
EXPIRE_BOTH = SelfTradePrevention.EXPIRE_BOTH
ALICE, BOB = 1, 2


@pytest.fixture
def queue(book):
    """Asks at 500_000: Bob 2 (id 1), Alice 3 (id 2), Bob 4 (id 3); Bob 5 at 510_000 (id 4)."""
    book.place(1, BOB, SELL, 500_000, 2)
    book.place(2, ALICE, SELL, 500_000, 3)
    book.place(3, BOB, SELL, 500_000, 4)
    book.place(4, BOB, SELL, 510_000, 5)
    return book


def test_expire_maker_is_the_default_mode(queue):
    r = queue.place(10, ALICE, BUY, 500_000, 4)

    assert [c.order_id for c in r.cancelled] == [2]
    assert r.cancelled[0].reason == CancelReason.SELF_TRADE


def test_expire_maker_cancels_the_own_resting_order_and_keeps_matching(queue):
    r = queue.place(10, ALICE, BUY, 510_000, 8, stp=EXPIRE_MAKER)

    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 2), (3, 4), (4, 2)]
    assert r.cancelled == (CancelledOrder(2, ALICE, SELL, 500_000, 3, CancelReason.SELF_TRADE),)
    assert (r.filled, r.resting, r.expired) == (8, 0, 0)
    assert r.expire_reason == ExpireReason.NONE
    assert 2 not in queue and queue.order(4)["size"] == 3


def test_expire_maker_cancel_is_visible_in_the_l2_deltas(queue):
    r = queue.place(10, ALICE, BUY, 500_000, 3, stp=EXPIRE_MAKER)

    # Bob's 2 filled, Alice's 3 cancelled, 1 of Bob's 4 filled: 3 left at the level
    assert r.deltas == (BookDelta(SELL, 500_000, 3),)
    assert queue.depth().ask_size.tolist() == [3, 5]


def test_a_taker_done_before_reaching_its_own_order_leaves_it_alone(queue):
    r = queue.place(10, ALICE, BUY, 500_000, 2, stp=EXPIRE_BOTH)

    assert [f.maker_order_id for f in r.fills] == [1]
    assert r.cancelled == () and r.expired == 0
    assert r.expire_reason == ExpireReason.NONE
    assert queue.order(2)["size"] == 3


def test_expire_taker_stops_the_taker_and_leaves_the_own_order_resting(queue):
    r = queue.place(10, ALICE, BUY, 510_000, 8, stp=EXPIRE_TAKER)

    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 2)]
    assert r.cancelled == ()
    assert (r.filled, r.resting, r.expired) == (2, 0, 6)
    assert r.expire_reason == ExpireReason.SELF_TRADE
    assert queue.order(2)["size"] == 3 and 10 not in queue


def test_expire_taker_does_not_rest_a_gtc_remainder(queue):
    r = queue.place(10, ALICE, BUY, 500_000, 3, tif=TimeInForce.GTC, stp=EXPIRE_TAKER)

    assert r.resting == 0 and r.expired == 1
    assert queue.best_bid() is None


def test_expire_taker_with_an_own_order_at_the_front_trades_nothing_and_reports_it(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, SELL, 500_000, 1)

    r = book.place(3, ALICE, BUY, 500_000, 2, stp=EXPIRE_TAKER)

    assert r.ok and r.fills == () and r.deltas == ()
    assert (r.filled, r.expired, r.expire_reason) == (0, 2, ExpireReason.SELF_TRADE)
    assert len(book) == 2


def test_expire_both_cancels_the_own_order_and_expires_the_taker(queue):
    r = queue.place(10, ALICE, BUY, 510_000, 8, stp=EXPIRE_BOTH)

    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 2)]
    assert r.cancelled == (CancelledOrder(2, ALICE, SELL, 500_000, 3, CancelReason.SELF_TRADE),)
    assert (r.filled, r.resting, r.expired) == (2, 0, 6)
    assert r.expire_reason == ExpireReason.SELF_TRADE
    assert 2 not in queue and 10 not in queue
    assert queue.depth().ask_size.tolist() == [4, 5]
    assert r.deltas == (BookDelta(SELL, 500_000, 4),)


@pytest.mark.parametrize("stp", list(SelfTradePrevention))
def test_stp_applies_only_to_the_same_account(book, stp):
    book.place(1, BOB, SELL, 500_000, 3)

    r = book.place(2, ALICE, BUY, 500_000, 3, stp=stp)

    assert r.filled == 3 and r.cancelled == () and r.expire_reason == ExpireReason.NONE


def test_the_takers_mode_decides_not_the_makers(book):
    book.place(1, ALICE, SELL, 500_000, 3, stp=EXPIRE_TAKER)

    r = book.place(2, ALICE, BUY, 500_000, 3, stp=EXPIRE_MAKER)

    assert [c.order_id for c in r.cancelled] == [1]
    assert r.resting == 3 and book.best_bid() == 500_000


def test_expire_maker_taker_rests_after_cancelling_all_own_liquidity(book):
    book.place(1, ALICE, SELL, 500_000, 3)

    r = book.place(2, ALICE, BUY, 500_000, 3)

    assert r.fills == () and r.resting == 3
    assert r.deltas == (BookDelta(SELL, 500_000, 0), BookDelta(BUY, 500_000, 3))
    assert (book.best_bid(), book.best_ask()) == (500_000, None)


def test_fok_does_not_count_own_liquidity_that_expire_maker_would_cancel(
        book, unchanged, assert_rejected):
    book.place(1, ALICE, SELL, 500_000, 3)
    book.place(2, BOB, SELL, 500_000, 1)

    with unchanged(book):
        assert_rejected(book.place(3, ALICE, BUY, 500_000, 2, tif=TimeInForce.FOK,
                                   stp=EXPIRE_MAKER), Code.FOK_NOT_FILLABLE)

    r = book.place(4, ALICE, BUY, 500_000, 1, tif=TimeInForce.FOK, stp=EXPIRE_MAKER)
    assert r.filled == 1 and [c.order_id for c in r.cancelled] == [1]


@pytest.mark.parametrize("stp", [EXPIRE_TAKER, EXPIRE_BOTH])
def test_fok_that_would_be_stopped_by_self_trade_changes_nothing(
        book, unchanged, assert_rejected, stp):
    book.place(1, BOB, SELL, 500_000, 1)
    book.place(2, ALICE, SELL, 500_000, 1)
    book.place(3, BOB, SELL, 500_000, 5)

    with unchanged(book):
        assert_rejected(book.place(4, ALICE, BUY, 500_000, 3, tif=TimeInForce.FOK, stp=stp),
                        Code.FOK_NOT_FILLABLE)


@pytest.mark.parametrize("stp", [EXPIRE_TAKER, EXPIRE_BOTH])
def test_fok_filled_before_reaching_the_own_order_is_not_stopped(book, stp):
    book.place(1, BOB, SELL, 500_000, 2)
    book.place(2, ALICE, SELL, 500_000, 1)

    r = book.place(3, ALICE, BUY, 500_000, 2, tif=TimeInForce.FOK, stp=stp)

    assert r.filled == 2 and r.cancelled == () and 2 in book


@pytest.mark.parametrize("stp", list(SelfTradePrevention))
def test_a_resting_order_remembers_its_stp_mode(book, stp):
    book.place(1, ALICE, BUY, 400_000, 1, stp=stp)

    assert book.order(1)["stp"] == stp
    assert isinstance(book.order(1)["stp"], SelfTradePrevention)
