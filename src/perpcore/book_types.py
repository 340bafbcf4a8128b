"""The order book's vocabulary, shared by the native book and the pure-Python reference book.

Owns the enums (sides, time in force, self-trade prevention, batch ops, why an order left), the
records a call returns (fills, cancellations, L2 deltas, impact price, depth) and the numpy dtypes of
the batch API. The native module checks at import that its C structs match these dtypes byte for
byte; nothing here may depend on either implementation.
"""

from enum import IntEnum
from typing import NamedTuple

import numpy as np

__all__ = [
    "Side",
    "TimeInForce",
    "SelfTradePrevention",
    "Op",
    "ExpireReason",
    "CancelReason",
    "FLAG_REDUCE_ONLY",
    "Fill",
    "Trade",
    "CancelledOrder",
    "BookDelta",
    "ImpactPrice",
    "Depth",
    "BatchResult",
    "COMMAND_DTYPE",
    "RESULT_DTYPE",
    "FILL_DTYPE",
    "CANCEL_DTYPE",
    "DELTA_DTYPE",
    "PRICE_SCALE_PPM",
]

PRICE_SCALE_PPM = 1_000_000
"""Probability 1.0 in ppm; valid order prices lie strictly inside (0, PRICE_SCALE_PPM)."""


class Side(IntEnum):
    BUY = 0
    SELL = 1


class TimeInForce(IntEnum):
    """How an order meets the book.

    GTC rests its remainder; IOC fills what it can and expires the rest; FOK fills in full or
    changes nothing; POST_ONLY rests without ever taking (rejected if it would cross); MARKET is IOC
    with no limit, or with a protection price beyond which it does not sweep when one is given.
    """

    GTC = 0
    IOC = 1
    FOK = 2
    POST_ONLY = 3
    MARKET = 4


class SelfTradePrevention(IntEnum):
    """What happens when a taker meets a resting order of its own account."""

    EXPIRE_MAKER = 0  # cancel the resting order, keep matching (default)
    EXPIRE_TAKER = 1  # stop: the taker's remainder expires, the resting order stays
    EXPIRE_BOTH = 2  # cancel the resting order and expire the taker's remainder


class Op(IntEnum):
    """Command kinds of the batch API."""

    PLACE = 0
    CANCEL = 1
    AMEND = 2
    CANCEL_ALL = 3


class ExpireReason(IntEnum):
    """Why part of an incoming order neither filled nor rested."""

    NONE = 0
    UNFILLED_IOC = 1  # IOC / MARKET remainder (no more liquidity within the limit)
    SELF_TRADE = 2  # self-trade prevention expired the taker


class CancelReason(IntEnum):
    """Why a resting order left the book without filling."""

    USER = 0  # cancel, cancel_all
    SELF_TRADE = 1  # expired as maker by self-trade prevention
    REDUCE_ONLY = 2  # exchange layer: a resting reduce-only order that would no longer reduce,
    #                  or any order that could add exposure once the market resolves
    MARKET_CLOSED = 3  # exchange layer: the market stopped trading (Resolved)
    LIQUIDATION = 4  # exchange layer: the account's orders in a market it is liquidated in


FLAG_REDUCE_ONLY = 1
"""Bit of ``COMMAND_DTYPE['flags']``: the order is reduce-only (carried through to fills)."""


class Fill(NamedTuple):
    """One match between the incoming (taker) order and one resting (maker) order."""

    taker_order_id: int
    taker_account: int
    maker_order_id: int
    maker_account: int
    taker_side: Side
    price_ppm: int  # always the maker's price
    size: int
    maker_remaining: int  # what is left of the maker order after this fill (0 = gone)
    taker_reduce_only: bool
    maker_reduce_only: bool


class Trade(NamedTuple):
    """Public trade print: one per fill."""

    price_ppm: int
    size: int
    taker_side: Side


class CancelledOrder(NamedTuple):
    """A resting order removed without filling (by the user or by self-trade prevention)."""

    order_id: int
    account: int
    side: Side
    price_ppm: int
    size: int  # its remaining size when removed
    reason: CancelReason


class BookDelta(NamedTuple):
    """An L2 change: the level ``(side, price_ppm)`` now holds ``size`` in total (0: level gone)."""

    side: Side
    price_ppm: int
    size: int


class ImpactPrice(NamedTuple):
    """Average price of sweeping a notional through one side of the book.

    ``enough_depth`` is False when the side holds less than the notional; ``price_ppm`` is then 0.
    """

    price_ppm: int
    enough_depth: bool


class Depth(NamedTuple):
    """L2 depth, best level first; each field is an int64 numpy array."""

    bid_price: np.ndarray
    bid_size: np.ndarray
    bid_orders: np.ndarray
    ask_price: np.ndarray
    ask_size: np.ndarray
    ask_orders: np.ndarray


class BatchResult(NamedTuple):
    """Output of ``process``: one row per command plus the flat fills, cancellations and deltas.

    ``fills``, ``cancels`` and ``deltas`` carry ``cmd``, the index of the command that caused them,
    in the order they happened. ``deltas`` is None unless requested.
    """

    results: np.ndarray
    fills: np.ndarray
    cancels: np.ndarray
    deltas: "np.ndarray | None"


COMMAND_DTYPE = np.dtype(
    [
        ("op", "u1"),
        ("side", "u1"),
        ("tif", "u1"),
        ("stp", "u1"),
        ("flags", "u1"),
        ("order_id", "<i8"),
        ("account", "<i8"),
        ("price_ppm", "<i8"),
        ("size", "<i8"),
    ],
    align=True,
)
"""A batch command. PLACE uses every field; CANCEL ``order_id``; AMEND ``order_id``, ``size`` and
``price_ppm`` (0 keeps the price); CANCEL_ALL ``account``."""

RESULT_DTYPE = np.dtype(
    [
        ("code", "<i4"),
        ("expire_reason", "u1"),
        ("order_id", "<i8"),
        ("filled", "<i8"),
        ("resting", "<i8"),
        ("expired", "<i8"),
        ("n_fills", "<i4"),
        ("n_cancels", "<i4"),
    ],
    align=True,
)

FILL_DTYPE = np.dtype(
    [
        ("cmd", "<i8"),
        ("taker_order_id", "<i8"),
        ("taker_account", "<i8"),
        ("maker_order_id", "<i8"),
        ("maker_account", "<i8"),
        ("price_ppm", "<i8"),
        ("size", "<i8"),
        ("maker_remaining", "<i8"),
        ("taker_side", "u1"),
        ("taker_reduce_only", "u1"),
        ("maker_reduce_only", "u1"),
    ],
    align=True,
)

CANCEL_DTYPE = np.dtype(
    [
        ("cmd", "<i8"),
        ("order_id", "<i8"),
        ("account", "<i8"),
        ("price_ppm", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
        ("reason", "u1"),
    ],
    align=True,
)

DELTA_DTYPE = np.dtype(
    [
        ("cmd", "<i8"),
        ("price_ppm", "<i8"),
        ("size", "<i8"),
        ("side", "u1"),
    ],
    align=True,
)
