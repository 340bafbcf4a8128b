"""Market data: best bid/ask, L2 depth, L2 deltas, trade prints and impact prices."""

import math
from fractions import Fraction

import numpy as np
import pytest

from perpcore import BookDelta, Depth, ImpactPrice, Side, TimeInForce, Trade

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB, CAROL = 1, 2, 3


# ----------------------------------------------------------------------------- best bid / ask

def test_best_bid_and_ask_follow_the_book(book):
    assert (book.best_bid(), book.best_ask()) == (None, None)
    book.place(1, ALICE, BUY, 400_000, 1)
    book.place(2, ALICE, BUY, 450_000, 1)
    book.place(3, BOB, SELL, 600_000, 1)
    book.place(4, BOB, SELL, 550_000, 1)
    assert (book.best_bid(), book.best_ask()) == (450_000, 550_000)

    book.cancel(2)
    book.place(5, CAROL, BUY, 550_000, 1)  # lifts the best ask

    assert (book.best_bid(), book.best_ask()) == (400_000, 600_000)
    assert type(book.best_bid()) is int


# ------------------------------------------------------------------------------------- depth

@pytest.fixture
def ladder(book):
    book.place(1, ALICE, BUY, 400_000, 1)
    book.place(2, BOB, BUY, 400_000, 2)
    book.place(3, ALICE, BUY, 390_000, 5)
    book.place(4, ALICE, BUY, 380_000, 7)
    book.place(5, BOB, SELL, 420_000, 3)
    book.place(6, BOB, SELL, 430_000, 4)
    return book


def test_depth_lists_levels_best_first_with_size_and_order_count(ladder):
    d = ladder.depth()

    assert isinstance(d, Depth)
    assert d.bid_price.tolist() == [400_000, 390_000, 380_000]
    assert d.bid_size.tolist() == [3, 5, 7]
    assert d.bid_orders.tolist() == [2, 1, 1]
    assert d.ask_price.tolist() == [420_000, 430_000]
    assert d.ask_size.tolist() == [3, 4]
    assert d.ask_orders.tolist() == [1, 1]


def test_depth_fields_are_int64_arrays(ladder):
    for arr in ladder.depth():
        assert isinstance(arr, np.ndarray) and arr.dtype == np.int64 and arr.ndim == 1


def test_depth_is_limited_to_n_levels_per_side(ladder):
    d = ladder.depth(2)

    assert d.bid_price.tolist() == [400_000, 390_000]
    assert d.ask_price.tolist() == [420_000, 430_000]


def test_depth_defaults_to_ten_levels(book):
    for i in range(12):
        book.place(i + 1, ALICE, BUY, 100_000 + 1000 * i, 1)

    assert len(book.depth().bid_price) == 10
    assert len(book.depth(100).bid_price) == 12


def test_depth_of_zero_levels_and_of_an_empty_book_are_empty(ladder, book_cls):
    for d in (ladder.depth(0), book_cls().depth()):
        assert all(len(arr) == 0 and arr.dtype == np.int64 for arr in d)


def test_depth_is_a_copy_not_a_view_of_the_book(ladder):
    d = ladder.depth()
    ladder.cancel(1)

    assert d.bid_size.tolist() == [3, 5, 7]
    assert ladder.depth().bid_size.tolist() == [2, 5, 7]


# ------------------------------------------------------------------------------------ deltas

def test_a_new_level_a_grown_level_and_a_removed_level_each_give_a_delta(book):
    assert book.place(1, ALICE, BUY, 400_000, 2).deltas == (BookDelta(BUY, 400_000, 2),)
    assert book.place(2, BOB, BUY, 400_000, 3).deltas == (BookDelta(BUY, 400_000, 5),)
    assert book.cancel(1).deltas == (BookDelta(BUY, 400_000, 3),)
    assert book.cancel(2).deltas == (BookDelta(BUY, 400_000, 0),)


def test_a_sweep_gives_one_delta_per_level_with_its_final_size(book):
    book.place(1, ALICE, SELL, 500_000, 1)
    book.place(2, BOB, SELL, 500_000, 1)
    book.place(3, ALICE, SELL, 510_000, 2)
    book.place(4, ALICE, SELL, 520_000, 2)

    r = book.place(5, CAROL, BUY, 510_000, 5)

    assert r.deltas == (
        BookDelta(SELL, 500_000, 0),
        BookDelta(SELL, 510_000, 0),
        BookDelta(BUY, 510_000, 1),
    )
    assert all(isinstance(d.side, Side) for d in r.deltas)


def test_a_partial_fill_of_a_level_gives_its_remaining_size(book):
    book.place(1, ALICE, SELL, 500_000, 5)

    assert book.place(2, BOB, BUY, 500_000, 2).deltas == (BookDelta(SELL, 500_000, 3),)


def test_replaying_deltas_reproduces_the_depth(book):
    levels = {}
    calls = [
        lambda: book.place(1, ALICE, BUY, 400_000, 3),
        lambda: book.place(2, BOB, SELL, 450_000, 4),
        lambda: book.place(3, BOB, SELL, 460_000, 4),
        lambda: book.place(4, CAROL, BUY, 455_000, 6),
        lambda: book.amend(1, 1),
        lambda: book.amend(3, 8, 470_000),
        lambda: book.place(5, ALICE, SELL, 0, 2, tif=TimeInForce.MARKET),
        lambda: book.cancel_all(CAROL),
    ]
    for call in calls:
        for side, price, size in call().deltas:
            if size:
                levels[(side, price)] = size
            else:
                levels.pop((side, price), None)

    d = book.depth(100)
    expected = {(BUY, p): s for p, s in zip(d.bid_price.tolist(), d.bid_size.tolist())}
    expected.update({(SELL, p): s for p, s in zip(d.ask_price.tolist(), d.ask_size.tolist())})
    assert levels == expected and levels


# ------------------------------------------------------------------------------------ trades

def test_trades_print_at_maker_prices_with_the_takers_side(book):
    book.place(1, ALICE, BUY, 400_000, 1)
    book.place(2, ALICE, BUY, 390_000, 1)

    r = book.place(3, BOB, SELL, 300_000, 2)

    assert r.trades == (Trade(400_000, 1, SELL), Trade(390_000, 1, SELL))
    assert all(t.taker_side is Side.SELL for t in r.trades)


def test_a_call_that_does_not_trade_prints_nothing(book):
    assert book.place(1, ALICE, BUY, 400_000, 1).trades == ()
    assert book.cancel(1).trades == ()


# ------------------------------------------------------------------------------ impact price

def test_impact_price_of_an_empty_side_is_not_available(book):
    book.place(1, ALICE, BUY, 400_000, 1)

    assert book.impact_price(SELL, 1) == ImpactPrice(0, False)
    assert book.impact_price(SELL, 0) == ImpactPrice(0, False)


def test_impact_price_of_zero_notional_is_the_best_price(ladder):
    assert ladder.impact_price(BUY, 0) == ImpactPrice(400_000, True)
    assert ladder.impact_price(SELL, 0) == ImpactPrice(420_000, True)


def test_impact_price_within_the_best_level_is_the_best_price(ladder):
    # 3 contracts at 420_000 hold a notional of 1_260_000 ppm-contracts
    assert ladder.impact_price(SELL, 420_000) == ImpactPrice(420_000, True)
    assert ladder.impact_price(SELL, 1_260_000) == ImpactPrice(420_000, True)


def test_impact_buy_walks_the_bids_and_sell_walks_the_asks(book):
    book.place(1, ALICE, BUY, 300_000, 10)
    book.place(2, BOB, SELL, 700_000, 10)

    assert book.impact_price(Side.BUY, 600_000).price_ppm == 300_000
    assert book.impact_price(Side.SELL, 1_400_000).price_ppm == 700_000


def test_impact_price_averages_over_whole_levels(book):
    # asks 1 @ 300_000 and 2 @ 600_000: 1_500_000 buys all 3 contracts, average 500_000
    book.place(1, ALICE, SELL, 300_000, 1)
    book.place(2, ALICE, SELL, 600_000, 2)

    assert book.impact_price(SELL, 1_500_000) == ImpactPrice(500_000, True)


def test_impact_price_counts_a_fraction_of_the_last_level(book):
    # asks 2 @ 200_000 then 10 @ 500_000; 400_000 + 250_000 buys 2 + 0.5 contracts -> 260_000
    book.place(1, ALICE, SELL, 200_000, 2)
    book.place(2, ALICE, SELL, 500_000, 10)

    assert book.impact_price(SELL, 650_000) == ImpactPrice(260_000, True)


def test_impact_ask_rounds_up_and_impact_bid_rounds_down(book_cls):
    asks, bids = book_cls(), book_cls()
    # asks 1 @ 300_000, 2 @ 700_000: 1_700_000 buys 3 contracts -> 566_666.67 -> up
    asks.place(1, ALICE, SELL, 300_000, 1)
    asks.place(2, ALICE, SELL, 700_000, 2)
    # bids 1 @ 700_000, 10 @ 300_000: 700_000 + 50_000 sells 1 + 1/6 contracts -> 642_857.14 -> down
    bids.place(3, BOB, BUY, 700_000, 1)
    bids.place(4, BOB, BUY, 300_000, 10)

    assert asks.impact_price(SELL, 1_700_000) == ImpactPrice(566_667, True)
    assert bids.impact_price(BUY, 750_000) == ImpactPrice(642_857, True)


def _exact_impact(levels, notional):
    """Exact average price of sweeping `notional` through (price, size) levels, best first."""
    rest, contracts = Fraction(notional), Fraction(0)
    for price, size in levels:
        take = min(rest, Fraction(price * size))
        contracts += take / price
        rest -= take
        if rest == 0:
            return Fraction(notional) / contracts
    return None


LADDER_BIDS = [(400_000, 3), (390_000, 5), (380_000, 7)]
LADDER_ASKS = [(420_000, 3), (430_000, 4)]


@pytest.mark.parametrize("notional", [1, 999, 1_200_001, 1_260_000, 1_260_001, 1_700_003,
                                      2_979_999, 2_980_000, 2_980_001, 3_000_000, 5_809_999,
                                      5_810_000, 5_810_001])
def test_impact_price_is_the_exact_average_rounded_against_the_sweeping_taker(ladder, notional):
    for side, levels, rounding in ((BUY, LADDER_BIDS, math.floor), (SELL, LADDER_ASKS, math.ceil)):
        exact = _exact_impact(levels, notional)
        expected = ImpactPrice(0, False) if exact is None else ImpactPrice(rounding(exact), True)
        assert ladder.impact_price(side, notional) == expected


def test_impact_price_needs_enough_depth(ladder):
    # asks hold 3 * 420_000 + 4 * 430_000 = 2_980_000
    assert ladder.impact_price(SELL, 2_980_000).enough_depth is True
    assert ladder.impact_price(SELL, 2_980_001) == ImpactPrice(0, False)


def test_impact_price_of_the_whole_side_is_the_size_weighted_average(ladder):
    # asks 3 @ 420_000, 4 @ 430_000: 2_980_000 / 7 = 425_714.28 -> ask rounds up
    assert ladder.impact_price(SELL, 2_980_000) == ImpactPrice(425_715, True)
    # bids 3 @ 400_000, 5 @ 390_000, 7 @ 380_000: 5_810_000 / 15 = 387_333.3 -> bid rounds down
    assert ladder.impact_price(BUY, 5_810_000) == ImpactPrice(387_333, True)
    assert ladder.impact_price(BUY, 5_810_001) == ImpactPrice(0, False)


def test_impact_price_result_fields(ladder):
    result = ladder.impact_price(BUY, 1)

    assert isinstance(result, ImpactPrice)
    assert type(result.price_ppm) is int and result.enough_depth is True


def test_impact_price_accepts_a_huge_notional(ladder):
    assert ladder.impact_price(SELL, 2**63 - 1) == ImpactPrice(0, False)
