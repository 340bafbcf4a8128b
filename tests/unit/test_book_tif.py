"""Every time in force: GTC, IOC, FOK, post-only and market (with and without protection)."""

import pytest

from perpcore import BookDelta, Code, ExpireReason, Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL
GTC, IOC, FOK, POST_ONLY, MARKET = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                                    TimeInForce.POST_ONLY, TimeInForce.MARKET)
ALICE, BOB, CAROL = 1, 2, 3


@pytest.fixture
def asks(book):
    """Asks: 2 @ 500_000, 3 @ 510_000, 5 @ 530_000 (orders 1, 2, 3 of Alice and Bob)."""
    book.place(1, ALICE, SELL, 500_000, 2)
    book.place(2, BOB, SELL, 510_000, 3)
    book.place(3, ALICE, SELL, 530_000, 5)
    return book


# ------------------------------------------------------------------------------------------ GTC

def test_gtc_is_the_default_time_in_force(asks):
    r = asks.place(10, CAROL, BUY, 505_000, 4)

    assert (r.filled, r.resting) == (2, 2)
    assert asks.order(10)["price_ppm"] == 505_000


def test_gtc_rests_its_remainder_at_its_limit_after_taking(asks):
    r = asks.place(10, CAROL, BUY, 510_000, 7, tif=GTC)

    assert (r.filled, r.resting, r.expired) == (5, 2, 0)
    assert r.expire_reason == ExpireReason.NONE
    assert asks.best_bid() == 510_000 and asks.best_ask() == 530_000
    assert asks.order(10)["size"] == 2


# ------------------------------------------------------------------------------------------ IOC

def test_ioc_fills_what_it_can_and_expires_the_rest(asks):
    r = asks.place(10, CAROL, BUY, 510_000, 7, tif=IOC)

    assert (r.filled, r.resting, r.expired) == (5, 0, 2)
    assert r.expire_reason == ExpireReason.UNFILLED_IOC
    assert 10 not in asks and asks.best_bid() is None
    assert asks.best_ask() == 530_000


def test_ioc_that_fills_completely_expires_nothing(asks):
    r = asks.place(10, CAROL, BUY, 510_000, 5, tif=IOC)

    assert (r.filled, r.expired) == (5, 0)
    assert r.expire_reason == ExpireReason.NONE


def test_ioc_with_nothing_to_take_expires_in_full_and_leaves_no_trace(asks, unchanged):
    with unchanged(asks):
        r = asks.place(10, CAROL, BUY, 490_000, 3, tif=IOC)

    assert r.ok
    assert (r.filled, r.resting, r.expired) == (0, 0, 3)
    assert r.expire_reason == ExpireReason.UNFILLED_IOC
    assert r.fills == () and r.deltas == ()


# ------------------------------------------------------------------------------------------ FOK

def test_fok_fills_in_full_across_levels(asks):
    r = asks.place(10, CAROL, BUY, 530_000, 8, tif=FOK)

    assert r.ok and (r.filled, r.resting, r.expired) == (8, 0, 0)
    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 2), (2, 3), (3, 3)]
    assert asks.order(3)["size"] == 2


def test_fok_that_exactly_exhausts_the_liquidity_within_its_limit_fills(asks):
    r = asks.place(10, CAROL, BUY, 510_000, 5, tif=FOK)

    assert r.filled == 5 and asks.best_ask() == 530_000


def test_fok_that_cannot_fill_in_full_changes_nothing(asks, unchanged, assert_rejected):
    with unchanged(asks):
        r = asks.place(10, CAROL, BUY, 530_000, 11, tif=FOK)

    assert_rejected(r, Code.FOK_NOT_FILLABLE)
    assert 10 not in asks


def test_fok_counts_only_liquidity_within_its_limit(asks, unchanged, assert_rejected):
    with unchanged(asks):
        assert_rejected(asks.place(10, CAROL, BUY, 510_000, 6, tif=FOK), Code.FOK_NOT_FILLABLE)


def test_fok_on_an_empty_side_is_not_fillable(book, assert_rejected):
    assert_rejected(book.place(1, ALICE, SELL, 100_000, 1, tif=FOK), Code.FOK_NOT_FILLABLE)


def test_fok_sell_sweeps_bids_from_the_top(book):
    book.place(1, ALICE, BUY, 400_000, 1)
    book.place(2, ALICE, BUY, 420_000, 1)

    r = book.place(3, BOB, SELL, 400_000, 2, tif=FOK)

    assert [f.price_ppm for f in r.fills] == [420_000, 400_000]


# ------------------------------------------------------------------------------------ post-only

def test_post_only_rests_when_it_does_not_cross(asks):
    r = asks.place(10, CAROL, BUY, 490_000, 4, tif=POST_ONLY)

    assert r.ok and (r.filled, r.resting) == (0, 4)
    assert r.deltas == (BookDelta(BUY, 490_000, 4),)
    assert asks.order(10)["post_only"] is True


@pytest.mark.parametrize("price", [500_000, 520_000], ids=["touching", "through"])
def test_post_only_that_would_cross_is_rejected_with_nothing_changed(
        asks, unchanged, assert_rejected, price):
    with unchanged(asks):
        r = asks.place(10, CAROL, BUY, price, 1, tif=POST_ONLY)

    assert_rejected(r, Code.POST_ONLY_WOULD_CROSS)
    assert 10 not in asks


def test_post_only_sell_that_would_cross_the_bid_is_rejected(book, unchanged, assert_rejected):
    book.place(1, ALICE, BUY, 400_000, 1)

    with unchanged(book):
        assert_rejected(book.place(2, BOB, SELL, 400_000, 1, tif=POST_ONLY),
                        Code.POST_ONLY_WOULD_CROSS)


def test_post_only_that_would_cross_its_own_accounts_order_is_still_rejected(
        book, unchanged, assert_rejected):
    book.place(1, ALICE, BUY, 400_000, 1)

    with unchanged(book):
        assert_rejected(book.place(2, ALICE, SELL, 390_000, 1, tif=POST_ONLY),
                        Code.POST_ONLY_WOULD_CROSS)


def test_post_only_rests_on_an_empty_book(book):
    assert book.place(1, ALICE, SELL, 999_000, 1, tif=POST_ONLY).resting == 1


# --------------------------------------------------------------------------------------- market

def test_market_without_protection_sweeps_every_level(asks):
    r = asks.place(10, CAROL, BUY, 0, 10, tif=MARKET)

    assert (r.filled, r.resting, r.expired) == (10, 0, 0)
    assert [f.price_ppm for f in r.fills] == [500_000, 510_000, 530_000]
    assert asks.best_ask() is None


def test_market_sell_without_protection_sweeps_down_to_the_lowest_bid(book):
    book.place(1, ALICE, BUY, 1000, 1)
    book.place(2, ALICE, BUY, 999_000, 1)

    r = book.place(3, BOB, SELL, 0, 2, tif=MARKET)

    assert [f.price_ppm for f in r.fills] == [999_000, 1000]


def test_market_never_rests_its_remainder(asks):
    r = asks.place(10, CAROL, BUY, 0, 12, tif=MARKET)

    assert (r.filled, r.resting, r.expired) == (10, 0, 2)
    assert r.expire_reason == ExpireReason.UNFILLED_IOC
    assert 10 not in asks and asks.best_bid() is None and len(asks) == 0


def test_market_with_a_protection_price_does_not_sweep_beyond_it(asks):
    r = asks.place(10, CAROL, BUY, 510_000, 10, tif=MARKET)

    assert (r.filled, r.resting, r.expired) == (5, 0, 5)
    assert r.expire_reason == ExpireReason.UNFILLED_IOC
    assert [f.price_ppm for f in r.fills] == [500_000, 510_000]
    assert asks.best_ask() == 530_000 and asks.best_bid() is None


def test_market_sell_with_a_protection_price_stops_above_it(book):
    book.place(1, ALICE, BUY, 600_000, 1)
    book.place(2, ALICE, BUY, 550_000, 1)
    book.place(3, ALICE, BUY, 540_000, 1)

    r = book.place(4, BOB, SELL, 550_000, 3, tif=MARKET)

    assert [f.price_ppm for f in r.fills] == [600_000, 550_000]
    assert r.expired == 1 and book.best_bid() == 540_000


def test_market_on_an_empty_side_expires_in_full(book, unchanged):
    with unchanged(book):
        r = book.place(1, ALICE, BUY, 0, 5, tif=MARKET)

    assert r.ok and (r.filled, r.expired) == (0, 5)
    assert r.expire_reason == ExpireReason.UNFILLED_IOC


def test_market_protection_price_must_be_on_the_grid(asks, unchanged, assert_rejected):
    with unchanged(asks):
        assert_rejected(asks.place(10, CAROL, BUY, 510_500, 1, tif=MARKET), Code.PRICE_OFF_TICK)


@pytest.mark.parametrize("tif", [GTC, IOC, FOK, POST_ONLY])
def test_price_zero_means_no_limit_only_for_market_orders(asks, unchanged, assert_rejected, tif):
    with unchanged(asks):
        assert_rejected(asks.place(10, CAROL, BUY, 0, 1, tif=tif), Code.PRICE_OUT_OF_RANGE)


@pytest.mark.parametrize("tif", list(TimeInForce))
def test_every_time_in_force_accepts_the_plain_int_of_its_enum(book, tif):
    book.place(1, ALICE, SELL, 500_000, 5)

    r = book.place(2, BOB, BUY, 490_000 if tif == POST_ONLY else 500_000, 1, tif=int(tif))

    assert r.ok
    assert r.filled == (0 if tif == POST_ONLY else 1)
