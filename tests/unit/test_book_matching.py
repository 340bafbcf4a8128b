"""Placing orders and matching: resting, crossing, price-time priority, what fills report."""

import pytest

from perpcore import (
    BookDelta,
    Code,
    ExpireReason,
    Fill,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4


def test_a_gtc_order_that_does_not_cross_rests_in_full(book):
    r = book.place(1, ALICE, BUY, 400_000, 10)

    assert r.ok and r.code == Code.OK
    assert (r.order_id, r.filled, r.resting, r.expired) == (1, 0, 10, 0)
    assert r.expire_reason == ExpireReason.NONE
    assert r.fills == () and r.cancelled == ()
    assert r.deltas == (BookDelta(BUY, 400_000, 10),)
    assert len(book) == 1 and 1 in book and 2 not in book
    assert book.best_bid() == 400_000 and book.best_ask() is None


def test_a_resting_order_can_be_looked_up_by_id(book):
    book.place(7, BOB, SELL, 650_000, 3, tif=TimeInForce.POST_ONLY,
               stp=SelfTradePrevention.EXPIRE_BOTH, reduce_only=True)

    assert book.order(7) == {
        "order_id": 7,
        "account": BOB,
        "side": SELL,
        "price_ppm": 650_000,
        "size": 3,
        "post_only": True,
        "reduce_only": True,
        "stp": SelfTradePrevention.EXPIRE_BOTH,
    }
    assert book.order(8) is None


def test_an_empty_book_has_no_orders_and_no_touch(book):
    assert len(book) == 0
    assert book.best_bid() is None and book.best_ask() is None
    book.check_integrity()


def test_the_default_market_config(book):
    assert (book.tick_ppm, book.lot, book.min_size, book.max_size) == (1000, 1, 1, 1_000_000_000)


def test_the_market_config_is_read_only(book):
    with pytest.raises(AttributeError):
        book.tick_ppm = 10


def test_a_crossing_order_trades_at_the_resting_makers_price(book):
    book.place(1, ALICE, SELL, 550_000, 5)

    r = book.place(2, BOB, BUY, 600_000, 5)

    assert (r.filled, r.resting, r.expired) == (5, 0, 0)
    assert r.trades == (Trade(550_000, 5, BUY),)
    assert r.fills[0].price_ppm == 550_000
    assert len(book) == 0


def test_a_fill_names_both_sides_and_what_is_left_of_the_maker(book):
    book.place(1, ALICE, SELL, 550_000, 8)

    r = book.place(2, BOB, BUY, 550_000, 3)

    assert r.fills == (
        Fill(taker_order_id=2, taker_account=BOB, maker_order_id=1, maker_account=ALICE,
             taker_side=BUY, price_ppm=550_000, size=3, maker_remaining=5,
             taker_reduce_only=False, maker_reduce_only=False),
    )
    assert r.fills[0].taker_side is Side.BUY
    assert book.order(1)["size"] == 5
    assert book.depth().ask_size.tolist() == [5]


def test_a_sell_taker_hits_the_highest_bid_first(book):
    book.place(1, ALICE, BUY, 300_000, 1)
    book.place(2, BOB, BUY, 500_000, 1)
    book.place(3, CAROL, BUY, 400_000, 1)

    r = book.place(4, DAVE, SELL, 100_000, 3)

    assert [(f.maker_order_id, f.price_ppm) for f in r.fills] == [
        (2, 500_000), (3, 400_000), (1, 300_000)]
    assert all(f.taker_side is Side.SELL for f in r.fills)


def test_a_buy_taker_lifts_the_lowest_ask_first_and_sweeps_levels_in_price_order(book):
    book.place(1, ALICE, SELL, 620_000, 2)
    book.place(2, BOB, SELL, 600_000, 2)
    book.place(3, CAROL, SELL, 610_000, 2)

    r = book.place(4, DAVE, BUY, 620_000, 5)

    assert [(f.maker_order_id, f.price_ppm, f.size) for f in r.fills] == [
        (2, 600_000, 2), (3, 610_000, 2), (1, 620_000, 1)]
    assert book.order(1)["size"] == 1


def test_orders_at_one_price_fill_first_in_first_out(book):
    book.place(10, ALICE, SELL, 500_000, 2)
    book.place(11, BOB, SELL, 500_000, 2)
    book.place(12, CAROL, SELL, 500_000, 2)

    r = book.place(20, DAVE, BUY, 500_000, 3)

    assert [(f.maker_order_id, f.size, f.maker_remaining) for f in r.fills] == [
        (10, 2, 0), (11, 1, 1)]
    assert 10 not in book and book.order(11)["size"] == 1 and book.order(12)["size"] == 2


def test_a_better_price_beats_earlier_time(book):
    book.place(1, ALICE, BUY, 450_000, 1)
    book.place(2, BOB, BUY, 460_000, 1)

    r = book.place(3, CAROL, SELL, 450_000, 1)

    assert r.fills[0].maker_order_id == 2


def test_a_partially_filled_maker_keeps_its_place_at_the_front(book):
    book.place(1, ALICE, SELL, 500_000, 5)
    book.place(2, BOB, SELL, 500_000, 5)
    book.place(3, CAROL, BUY, 500_000, 2)

    r = book.place(4, CAROL, BUY, 500_000, 4)

    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 3), (2, 1)]


def test_a_limit_order_does_not_trade_beyond_its_limit_and_rests_the_remainder(book):
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, ALICE, SELL, 510_000, 2)

    r = book.place(3, BOB, BUY, 505_000, 5)

    assert (r.filled, r.resting, r.expired) == (2, 3, 0)
    assert [f.price_ppm for f in r.fills] == [500_000]
    assert book.best_bid() == 505_000 and book.best_ask() == 510_000
    assert book.order(3)["size"] == 3


@pytest.mark.parametrize("tif, expected", [
    (TimeInForce.GTC, (4, 3, 0)),
    (TimeInForce.IOC, (4, 0, 3)),
    (TimeInForce.MARKET, (4, 0, 3)),
])
def test_filled_plus_resting_plus_expired_is_the_order_size(book, tif, expected):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, ALICE, SELL, 500_000, 3)

    r = book.place(3, BOB, BUY, 500_000, 7, tif=tif)

    assert (r.filled, r.resting, r.expired) == expected
    assert r.filled + r.resting + r.expired == 7
    assert r.filled == sum(f.size for f in r.fills)


def test_a_taker_sweeping_the_whole_side_empties_it(book):
    for i in range(5):
        book.place(i + 1, ALICE, BUY, 100_000 + 10_000 * i, 1)

    r = book.place(99, BOB, SELL, 1000, 5)

    assert r.filled == 5 and r.resting == 0
    assert book.best_bid() is None and len(book) == 0
    book.check_integrity()


def test_one_trade_print_per_fill_in_fill_order(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, SELL, 500_000, 2)
    book.place(3, BOB, SELL, 520_000, 3)

    r = book.place(4, CAROL, BUY, 520_000, 6)

    assert r.trades == (Trade(500_000, 1, BUY), Trade(500_000, 2, BUY), Trade(520_000, 3, BUY))
    assert r.n_fills == len(r.fills) == 3


def test_reduce_only_is_carried_into_fills_for_taker_and_maker(book):
    book.place(1, ALICE, SELL, 500_000, 1, reduce_only=True)
    book.place(2, BOB, SELL, 500_000, 1)

    r1 = book.place(3, CAROL, BUY, 500_000, 2, reduce_only=False)
    book.place(4, ALICE, SELL, 500_000, 1)
    r2 = book.place(5, CAROL, BUY, 500_000, 1, reduce_only=True)

    assert [(f.taker_reduce_only, f.maker_reduce_only) for f in r1.fills] == [
        (False, True), (False, False)]
    assert [(f.taker_reduce_only, f.maker_reduce_only) for f in r2.fills] == [(True, False)]
    assert all(type(x) is bool for f in r1.fills for x in (f.taker_reduce_only,
                                                            f.maker_reduce_only))


def test_a_resting_reduce_only_order_keeps_its_flag(book):
    book.place(1, ALICE, BUY, 400_000, 2, reduce_only=True)
    book.place(2, ALICE, BUY, 400_000, 2)

    assert book.order(1)["reduce_only"] is True
    assert book.order(2)["reduce_only"] is False


def test_an_order_id_can_be_reused_once_the_order_is_gone(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, BUY, 500_000, 1)  # fills order 1 completely
    assert 1 not in book

    r = book.place(1, CAROL, BUY, 400_000, 1)

    assert r.ok and book.order(1)["account"] == CAROL


def test_a_live_order_id_cannot_be_reused(book, assert_rejected, unchanged):
    book.place(1, ALICE, SELL, 500_000, 1)

    with unchanged(book):
        assert_rejected(book.place(1, BOB, BUY, 400_000, 1), Code.DUPLICATE_ORDER_ID)


def test_the_same_account_may_trade_when_the_orders_do_not_meet(book):
    book.place(1, ALICE, BUY, 400_000, 1)
    r = book.place(2, ALICE, SELL, 410_000, 1)

    assert r.resting == 1 and r.cancelled == ()
    assert (book.best_bid(), book.best_ask()) == (400_000, 410_000)


def test_the_book_is_never_crossed_after_a_limit_order(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, BUY, 700_000, 3)

    assert book.best_ask() is None
    assert book.best_bid() == 700_000


def test_the_repr_names_the_market_and_the_touch(book):
    book.place(1, ALICE, BUY, 400_000, 1)

    text = repr(book)
    assert "400000" in text and "tick_ppm=1000" in text


def test_the_result_repr_names_the_code(book):
    assert "DUPLICATE_ORDER_ID" not in repr(book.place(1, ALICE, BUY, 400_000, 1))
    assert "DUPLICATE_ORDER_ID" in repr(book.place(1, ALICE, BUY, 400_000, 1))


def test_orders_at_the_edges_of_the_price_range_are_accepted(book_cls):
    book = book_cls(tick_ppm=1)

    assert book.place(1, ALICE, BUY, 1, 1).ok
    assert book.place(2, ALICE, SELL, 999_999, 1).ok
    assert (book.best_bid(), book.best_ask()) == (1, 999_999)
    book.check_integrity()


def test_the_coarsest_tick_has_a_single_price(book_cls):
    book = book_cls(tick_ppm=500_000)

    assert book.place(1, ALICE, BUY, 500_000, 1).ok
    assert book.place(2, BOB, SELL, 500_000, 1).filled == 1
    assert book.place(3, BOB, SELL, 250_000, 1).code == Code.PRICE_OFF_TICK


def test_lot_and_size_limits_of_a_market_are_respected(book_cls):
    book = book_cls(tick_ppm=1000, lot=5, min_size=10, max_size=100)

    assert book.place(1, ALICE, BUY, 400_000, 10).ok
    assert book.place(2, ALICE, BUY, 400_000, 100).ok
    assert book.place(3, ALICE, BUY, 400_000, 15).ok
    assert book.depth().bid_size.tolist() == [125]


def test_a_result_keeps_what_it_reported_after_later_calls(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, SELL, 510_000, 1)
    sweep = book.place(3, CAROL, BUY, 520_000, 3)        # several fills and deltas
    cancel = book.cancel(3)                               # one cancel, one delta
    saved = [(r.fills, r.trades, r.cancelled, r.deltas, r.filled, r.resting) for r in (sweep,
                                                                                       cancel)]

    for i in range(200):
        book.place(100 + i, DAVE, BUY if i % 2 else SELL, 400_000 if i % 2 else 600_000, 1)
    book.place(999, ALICE, SELL, 1000, 300)
    book.cancel_all(DAVE)

    assert [(r.fills, r.trades, r.cancelled, r.deltas, r.filled, r.resting)
            for r in (sweep, cancel)] == saved
    assert [f.maker_order_id for f in sweep.fills] == [1, 2]
    assert cancel.cancelled[0].size == 1 and cancel.deltas == (BookDelta(BUY, 520_000, 0),)


def test_orders_of_the_largest_size_add_up_beyond_32_bits_at_one_level(book_cls):
    biggest = 2**32 - 1
    book = book_cls(max_size=biggest)
    book.place(1, ALICE, SELL, 500_000, biggest)
    book.place(2, BOB, SELL, 500_000, biggest)
    book.place(3, BOB, SELL, 500_000, biggest)

    assert book.depth().ask_size.tolist() == [3 * biggest]
    r = book.place(4, CAROL, BUY, 500_000, biggest)
    assert r.filled == biggest and r.deltas == (BookDelta(SELL, 500_000, 2 * biggest),)
    assert book.impact_price(SELL, 500_000 * 2 * biggest) == (500_000, True)
    book.check_integrity()
