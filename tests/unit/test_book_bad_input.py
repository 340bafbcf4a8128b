"""Bad input: every malformed argument gets its documented code or typed error and changes nothing.

Result codes are for well-typed commands the market cannot accept (``perpcore.Code``); exceptions
are for arguments of the wrong type (``perpcore.InvalidType``, a TypeError) or values no command
could carry, such as integers beyond int64 (``perpcore.InvalidInput``, a ValueError). Whatever
the outcome, a rejected call leaves the book byte for byte as it was.
"""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import perpcore
from perpcore import Code, SelfTradePrevention, Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL
ALICE, BOB = 1, 2

# a valid order that would rest: every bad-input case below changes one thing about it
GOOD = dict(order_id=50, account=ALICE, side=BUY, price_ppm=400_000, size=20,
            tif=TimeInForce.GTC, stp=SelfTradePrevention.EXPIRE_MAKER, reduce_only=False)

NOT_INTEGERS = [
    pytest.param(5.0, id="float"),
    pytest.param(5.5, id="fractional-float"),
    pytest.param(True, id="bool"),
    pytest.param(False, id="bool-false"),
    pytest.param("5", id="str"),
    pytest.param(b"5", id="bytes"),
    pytest.param(None, id="None"),
    pytest.param(np.float64(5.0), id="numpy-float"),
    pytest.param(np.bool_(True), id="numpy-bool"),
    pytest.param(Decimal(5), id="Decimal"),
    pytest.param(Fraction(5), id="Fraction"),
    pytest.param([5], id="list"),
]

BEYOND_INT64 = [
    pytest.param(2**63, id="2**63"),
    pytest.param(-(2**63) - 1, id="-2**63-1"),
    pytest.param(2**100, id="2**100"),
    pytest.param(np.uint64(2**63), id="numpy-uint64-2**63"),
]

NUMPY_INTS = [np.int64, np.int32, np.uint32, np.uint64, np.longlong]


@pytest.fixture
def market(book_cls):
    """A market with a lot, a minimum and a maximum, and orders on both sides."""
    book = book_cls(tick_ppm=1000, lot=5, min_size=10, max_size=1000)
    book.place(1, ALICE, BUY, 450_000, 10)
    book.place(2, BOB, BUY, 450_000, 15, tif=TimeInForce.POST_ONLY)
    book.place(3, BOB, SELL, 550_000, 20, reduce_only=True)
    book.place(4, ALICE, SELL, 560_000, 25)
    return book


def order(**changes):
    return {**GOOD, **changes}


# ------------------------------------------------------------------------- place: codes

@pytest.mark.parametrize("changes, code", [
    (dict(price_ppm=400_500), Code.PRICE_OFF_TICK),
    (dict(price_ppm=1), Code.PRICE_OFF_TICK),
    (dict(price_ppm=999_999), Code.PRICE_OFF_TICK),
    (dict(price_ppm=0), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=-1000), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=-(2**63)), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=1_000_000), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=1_001_000), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=2**63 - 1), Code.PRICE_OUT_OF_RANGE),
    (dict(size=0), Code.SIZE_NOT_POSITIVE),
    (dict(size=-5), Code.SIZE_NOT_POSITIVE),
    (dict(size=-(2**63)), Code.SIZE_NOT_POSITIVE),
    (dict(size=12), Code.SIZE_OFF_LOT),
    (dict(size=1), Code.SIZE_OFF_LOT),
    (dict(size=5), Code.SIZE_BELOW_MINIMUM),
    (dict(size=1005), Code.SIZE_ABOVE_MAXIMUM),
    (dict(size=5 * 2**60), Code.SIZE_ABOVE_MAXIMUM),
    (dict(order_id=0), Code.INVALID_ORDER_ID),
    (dict(order_id=-1), Code.INVALID_ORDER_ID),
    (dict(account=-1), Code.INVALID_ACCOUNT),
    (dict(order_id=1), Code.DUPLICATE_ORDER_ID),
    (dict(order_id=3, side=SELL, price_ppm=600_000), Code.DUPLICATE_ORDER_ID),
    (dict(side=2), Code.INVALID_SIDE),
    (dict(side=-1), Code.INVALID_SIDE),
    (dict(side=255), Code.INVALID_SIDE),
    (dict(side=256), Code.INVALID_SIDE),
    (dict(side=2**40), Code.INVALID_SIDE),
    (dict(tif=5), Code.INVALID_TIME_IN_FORCE),
    (dict(tif=-1), Code.INVALID_TIME_IN_FORCE),
    (dict(tif=260), Code.INVALID_TIME_IN_FORCE),
    (dict(stp=3), Code.INVALID_STP),
    (dict(stp=-1), Code.INVALID_STP),
    (dict(stp=259), Code.INVALID_STP),
    (dict(price_ppm=560_000, tif=TimeInForce.POST_ONLY), Code.POST_ONLY_WOULD_CROSS),
    (dict(price_ppm=560_000, size=100, tif=TimeInForce.FOK), Code.FOK_NOT_FILLABLE),
    (dict(price_ppm=0, tif=TimeInForce.IOC), Code.PRICE_OUT_OF_RANGE),
    (dict(price_ppm=550_500, tif=TimeInForce.MARKET), Code.PRICE_OFF_TICK),
    (dict(price_ppm=-1000, tif=TimeInForce.MARKET), Code.PRICE_OUT_OF_RANGE),
])
def test_a_place_the_market_cannot_accept_gets_its_code_and_changes_nothing(
        market, unchanged, assert_rejected, changes, code):
    with unchanged(market):
        checked = market.check_place(**order(**changes))
        r = market.place(**order(**changes))

    assert_rejected(r, code)
    assert perpcore.describe(r.code) == Code(code).description
    # check_place answers the validation stage alone: matching outcomes (3xxx) come later
    assert checked == (code if code < 3000 else Code.OK)


def test_check_place_accepts_a_valid_order_and_changes_nothing(market, unchanged):
    with unchanged(market):
        assert market.check_place(**order()) == Code.OK


def test_the_rejected_order_id_is_reported_back(market):
    r = market.place(**order(order_id=77, size=0))

    assert r.order_id == 77


@pytest.mark.parametrize("changes", [
    dict(price_ppm=1000),
    dict(price_ppm=449_000, size=10),
    dict(side=SELL, price_ppm=999_000, size=1000),
    dict(order_id=2**63 - 1),
    dict(account=0),
    dict(account=2**63 - 1),
    dict(reduce_only=1),
    dict(reduce_only=0),
])
def test_values_at_the_edge_of_the_valid_range_are_accepted(market, changes):
    r = market.place(**order(**changes))

    assert r.ok and r.resting > 0
    market.check_integrity()


# ------------------------------------------------------------------------- place: types

@pytest.mark.parametrize("arg", ["order_id", "account", "side", "price_ppm", "size", "tif", "stp"])
@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_a_place_argument_that_is_not_an_integer_raises_invalid_type(market, unchanged, arg,
                                                                     value):
    with unchanged(market), pytest.raises(perpcore.InvalidType) as info:
        market.place(**order(**{arg: value}))

    assert isinstance(info.value, TypeError) and isinstance(info.value, perpcore.PerpcoreError)


@pytest.mark.parametrize("arg", ["order_id", "account", "side", "price_ppm", "size", "tif", "stp"])
@pytest.mark.parametrize("value", BEYOND_INT64)
def test_a_place_argument_beyond_int64_raises_invalid_input(market, unchanged, arg, value):
    with unchanged(market), pytest.raises(perpcore.InvalidInput) as info:
        market.place(**order(**{arg: value}))

    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value, error", [
    (2, perpcore.InvalidInput),
    (-1, perpcore.InvalidInput),
    (2**70, perpcore.InvalidInput),
    ("yes", perpcore.InvalidType),
    (None, perpcore.InvalidType),
    (1.0, perpcore.InvalidType),
])
def test_reduce_only_must_be_a_bool(market, unchanged, value, error):
    with unchanged(market), pytest.raises(error):
        market.place(**order(reduce_only=value))


@pytest.mark.parametrize("np_int", NUMPY_INTS, ids=lambda t: t.__name__)
def test_numpy_integer_scalars_are_accepted_as_integers(book_cls, np_int):
    plain, numpy_args = book_cls(), book_cls()
    for book, conv in ((plain, int), (numpy_args, np_int)):
        book.place(conv(1), conv(ALICE), conv(SELL), conv(500_000), conv(3))
        r = book.place(conv(2), conv(BOB), conv(BUY), conv(500_000), conv(5), tif=conv(1),
                       stp=conv(2), reduce_only=conv(1))
        assert r.ok and (r.filled, r.expired) == (3, 2)
        assert r.fills[0].taker_reduce_only is True
        book.place(conv(3), conv(ALICE), conv(BUY), conv(400_000), conv(4))
        assert book.amend(conv(3), conv(2), conv(410_000)).ok
        assert book.order(conv(3))["price_ppm"] == 410_000 and conv(3) in book
        assert book.depth(conv(1)).bid_price.tolist() == [410_000]
        assert book.impact_price(conv(BUY), conv(410_000)).price_ppm == 410_000
        assert book.cancel(conv(3)).ok and book.cancel_all(conv(ALICE)).ok
    assert numpy_args.snapshot() == plain.snapshot()


def test_numpy_integers_are_accepted_by_the_constructor(book_cls):
    book = book_cls(np.int64(2000), np.int32(2), np.int64(4), np.uint32(100))

    assert (book.tick_ppm, book.lot, book.min_size, book.max_size) == (2000, 2, 4, 100)
    assert all(type(v) is int for v in (book.tick_ppm, book.lot, book.min_size, book.max_size))


def test_int_subclasses_are_accepted_by_their_integer_value(book):
    class Quantity(int):
        def __index__(self):  # must not be consulted: the value is the int itself
            raise AssertionError("__index__ called on an int subclass")

    r = book.place(Quantity(1), Quantity(ALICE), Quantity(0), Quantity(400_000), Quantity(7))

    assert r.ok and book.order(1)["size"] == 7 and book.best_bid() == 400_000


def test_int_enum_members_are_accepted_where_integers_are_expected(book):
    r = book.place(1, ALICE, Side.BUY, 400_000, 1, tif=TimeInForce.POST_ONLY,
                   stp=SelfTradePrevention.EXPIRE_TAKER)

    assert r.ok and book.order(1)["stp"] == SelfTradePrevention.EXPIRE_TAKER


# ------------------------------------------------------------------ cancel / amend / cancel_all

def test_cancel_of_an_unknown_or_invalid_id_is_rejected(market, unchanged, assert_rejected):
    for order_id in (99, 0, -1, 2**63 - 1, -(2**63)):
        with unchanged(market):
            assert_rejected(market.cancel(order_id), Code.UNKNOWN_ORDER_ID)


@pytest.mark.parametrize("size, price, code", [
    (0, None, Code.SIZE_NOT_POSITIVE),
    (-10, None, Code.SIZE_NOT_POSITIVE),
    (12, None, Code.SIZE_OFF_LOT),
    (1005, None, Code.SIZE_ABOVE_MAXIMUM),
    (5, 440_000, Code.SIZE_BELOW_MINIMUM),        # a new price re-queues: minimum applies
    (10, 440_500, Code.PRICE_OFF_TICK),
    (10, 0, Code.PRICE_OUT_OF_RANGE),
    (10, -1000, Code.PRICE_OUT_OF_RANGE),
    (10, 1_000_000, Code.PRICE_OUT_OF_RANGE),
])
def test_an_amend_the_market_cannot_accept_gets_its_code_and_changes_nothing(
        market, unchanged, assert_rejected, size, price, code):
    with unchanged(market):
        assert_rejected(market.amend(1, size, price), code)


def test_amend_of_an_unknown_id_is_rejected_before_its_size_is_looked_at(
        market, unchanged, assert_rejected):
    with unchanged(market):
        assert_rejected(market.amend(99, 10), Code.UNKNOWN_ORDER_ID)
        assert_rejected(market.amend(99, 0), Code.UNKNOWN_ORDER_ID)


def test_amend_of_a_post_only_order_into_the_spread_that_crosses_is_rejected(
        market, unchanged, assert_rejected):
    with unchanged(market):
        assert_rejected(market.amend(2, 15, 550_000), Code.POST_ONLY_WOULD_CROSS)


def test_cancel_all_of_a_negative_account_is_rejected(market, unchanged, assert_rejected):
    with unchanged(market):
        assert_rejected(market.cancel_all(-1), Code.INVALID_ACCOUNT)


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_cancel_amend_and_cancel_all_arguments_must_be_integers(market, unchanged, value):
    calls = [
        lambda: market.cancel(value),
        lambda: market.amend(value, 10),
        lambda: market.amend(1, value),
        lambda: market.cancel_all(value),
    ]
    if value is not None:  # price None means "keep the price"
        calls.append(lambda: market.amend(1, 10, value))
    for call in calls:
        with unchanged(market), pytest.raises(perpcore.InvalidType):
            call()


@pytest.mark.parametrize("value", BEYOND_INT64)
def test_cancel_amend_and_cancel_all_arguments_must_fit_int64(market, unchanged, value):
    for call in (lambda: market.cancel(value), lambda: market.amend(value, 10),
                 lambda: market.amend(1, value), lambda: market.amend(1, 10, value),
                 lambda: market.cancel_all(value)):
        with unchanged(market), pytest.raises(perpcore.InvalidInput):
            call()


# --------------------------------------------------------------------------- queries

@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_query_arguments_must_be_integers(market, unchanged, value):
    for call in (lambda: market.order(value), lambda: value in market,
                 lambda: market.depth(value), lambda: market.impact_price(value, 1000),
                 lambda: market.impact_price(BUY, value)):
        with unchanged(market), pytest.raises(perpcore.InvalidType):
            call()


def test_queries_of_unknown_ids_answer_none_or_false(market):
    for order_id in (99, 0, -5, 2**63 - 1):
        assert market.order(order_id) is None
        assert order_id not in market


@pytest.mark.parametrize("call", [
    lambda b: b.depth(-1),
    lambda b: b.impact_price(2, 1000),
    lambda b: b.impact_price(-1, 1000),
    lambda b: b.impact_price(BUY, -1),
    lambda b: b.impact_price(BUY, 2**63),
    lambda b: b.depth(2**64),
], ids=["depth-negative", "impact-side-2", "impact-side-neg", "impact-negative-notional",
        "impact-huge-notional", "depth-huge"])
def test_query_values_out_of_range_raise_invalid_input(market, unchanged, call):
    with unchanged(market), pytest.raises(perpcore.InvalidInput) as info:
        call(market)

    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------- constructor

@pytest.mark.parametrize("kwargs", [
    dict(tick_ppm=0),
    dict(tick_ppm=-1000),
    dict(tick_ppm=3),
    dict(tick_ppm=7),
    dict(tick_ppm=600_000),
    dict(tick_ppm=1_000_000),
    dict(tick_ppm=2_000_000),
    dict(lot=0),
    dict(lot=-1),
    dict(min_size=0),
    dict(min_size=-1),
    dict(lot=10, min_size=15),
    dict(lot=10, min_size=5),
    dict(min_size=10, max_size=9),
    dict(max_size=0),
    dict(max_size=2**32),
    dict(max_size=2**32 + 1),
    dict(max_size=2**62),
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_a_nonsensical_market_config_raises_invalid_input(book_cls, kwargs):
    with pytest.raises(perpcore.InvalidInput) as info:
        book_cls(**kwargs)

    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kwargs", [
    dict(tick_ppm=1),
    dict(tick_ppm=500_000),
    dict(tick_ppm=2500),
    dict(lot=10, min_size=10, max_size=10),
    dict(max_size=2**32 - 1),
    dict(lot=7, min_size=14, max_size=100),  # max need not be a multiple of the lot
])
def test_edge_market_configs_are_accepted(book_cls, kwargs):
    book = book_cls(**kwargs)

    book.check_integrity()
    assert len(book) == 0


@pytest.mark.parametrize("arg", ["tick_ppm", "lot", "min_size", "max_size"])
@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_market_config_values_must_be_integers(book_cls, arg, value):
    with pytest.raises(perpcore.InvalidType):
        book_cls(**{arg: value})


@pytest.mark.parametrize("arg", ["tick_ppm", "lot", "min_size", "max_size"])
@pytest.mark.parametrize("value", BEYOND_INT64)
def test_market_config_values_must_fit_int64(book_cls, arg, value):
    with pytest.raises(perpcore.InvalidInput):
        book_cls(**{arg: value})


def test_a_rejection_never_disturbs_later_matching(market):
    for changes in (dict(size=0), dict(price_ppm=1), dict(order_id=1), dict(side=7)):
        market.place(**order(**changes))
    with pytest.raises(perpcore.InvalidType):
        market.place(**order(size=20.0))

    r = market.place(**order(side=SELL, price_ppm=450_000, size=25, order_id=60, account=3))

    assert [(f.maker_order_id, f.size) for f in r.fills] == [(1, 10), (2, 15)]
    market.check_integrity()


# CPython stores ints in 30-bit digits and the native book reads one-digit ints directly: values on
# both sides of each digit boundary must convert exactly
DIGIT_BOUNDARIES = [0, 1, 2**30 - 1, 2**30, 2**31, 2**60 - 1, 2**60, 2**63 - 2]


@pytest.mark.parametrize("value", DIGIT_BOUNDARIES)
def test_ids_and_accounts_round_trip_exactly_at_every_magnitude(book, value):
    order_id = value + 1
    assert book.place(order_id, value, BUY, 400_000, 3).ok
    order = book.order(order_id)
    assert (order["order_id"], order["account"]) == (order_id, value)
    assert book.cancel(order_id).order_id == order_id


@pytest.mark.parametrize("value", [-1, -(2**30) + 1, -(2**30), -(2**31), -(2**60), -(2**63)])
def test_negative_values_are_rejected_at_every_magnitude(book, value):
    assert book.place(50, value, BUY, 400_000, 3).code == Code.INVALID_ACCOUNT
    assert book.place(value, ALICE, BUY, 400_000, 3).code == Code.INVALID_ORDER_ID
    assert book.place(50, ALICE, BUY, value, 3).code == Code.PRICE_OUT_OF_RANGE
    assert book.place(50, ALICE, BUY, 400_000, value).code == Code.SIZE_NOT_POSITIVE
    assert len(book) == 0
