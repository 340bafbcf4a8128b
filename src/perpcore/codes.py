"""Result codes: the single list of every numeric code perpcore's calls return, and their meaning.

A code is a stable number (a client may store it) grouped by subsystem: 0 accepted, 1xxx order
validation, 2xxx margin, 3xxx matching, 4xxx liquidation, 5xxx market lifecycle and settlement. A
non-zero code means the call changed nothing. The native modules read the numbers from here at import, so this module is
the only place a code is defined.
"""

from enum import IntEnum

__all__ = ["Code", "describe"]


class Code(IntEnum):
    """Stable result codes. ``Code(n).description`` says what each means."""

    OK = 0

    # 1xxx: order validation (the command is malformed for this market; nothing changed)
    INVALID_SIDE = 1001
    INVALID_TIME_IN_FORCE = 1002
    INVALID_STP = 1003
    INVALID_ORDER_ID = 1004
    INVALID_ACCOUNT = 1005
    SIZE_NOT_POSITIVE = 1006
    SIZE_OFF_LOT = 1007
    SIZE_BELOW_MINIMUM = 1008
    SIZE_ABOVE_MAXIMUM = 1009
    PRICE_OUT_OF_RANGE = 1010
    PRICE_OFF_TICK = 1011
    DUPLICATE_ORDER_ID = 1012
    UNKNOWN_ORDER_ID = 1013
    INVALID_OP = 1014
    INVALID_FLAGS = 1015
    UNKNOWN_ACCOUNT = 1016
    UNKNOWN_MARKET = 1017
    UNKNOWN_WITHDRAWAL = 1018
    RESERVED_ORDER_ID = 1019

    # 2xxx: margin and balances (the command is well formed but the account cannot afford it)
    INSUFFICIENT_AVAILABLE = 2001
    BELOW_INITIAL_MARGIN = 2002
    REDUCE_ONLY_WOULD_INCREASE = 2003
    WITHDRAWAL_NOT_DUE = 2004
    WITHDRAWAL_BELOW_INITIAL_MARGIN = 2005
    WITHDRAWAL_DEFERRED_STALE_MARK = 2006
    REDUCE_ONLY_BEYOND_BANKRUPTCY = 2007

    # 3xxx: matching (the command is well formed but the book refuses it; nothing changed)
    POST_ONLY_WOULD_CROSS = 3001
    FOK_NOT_FILLABLE = 3002

    # 4xxx: liquidation outcomes (reasons in the liquidation engine's events, not call results)
    LIQUIDATION_DEFERRED_STALE_MARK = 4001
    LIQUIDATION_DEFERRED_NOTIONAL_CAP = 4002
    LIQUIDATION_DEFERRED_INSURANCE_CAP = 4003
    LIQUIDATION_NOTHING_FILLED = 4004

    # 5xxx: the market's lifecycle refuses the command (well formed, wrong phase; nothing changed)
    MARKET_NOT_TRADING = 5001
    MARKET_REDUCE_ONLY = 5002
    MARKET_NOT_ACTIVE = 5003

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Code.OK: "accepted",
    Code.INVALID_SIDE: "side must be Side.BUY (0) or Side.SELL (1)",
    Code.INVALID_TIME_IN_FORCE: "unknown time in force",
    Code.INVALID_STP: "unknown self-trade prevention mode",
    Code.INVALID_ORDER_ID: "order id must be a positive integer",
    Code.INVALID_ACCOUNT: "account id must be a non-negative integer",
    Code.SIZE_NOT_POSITIVE: "size must be positive",
    Code.SIZE_OFF_LOT: "size must be a multiple of the market's lot",
    Code.SIZE_BELOW_MINIMUM: "size is below the market's minimum order size",
    Code.SIZE_ABOVE_MAXIMUM: "size is above the market's maximum order size",
    Code.PRICE_OUT_OF_RANGE: "price must lie strictly inside (0, 1_000_000) ppm",
    Code.PRICE_OFF_TICK: "price must be a multiple of the market's tick",
    Code.DUPLICATE_ORDER_ID: "an order with this id is already live in the book",
    Code.UNKNOWN_ORDER_ID: "no live order has this id",
    Code.INVALID_OP: "unknown batch command op",
    Code.INVALID_FLAGS: "unknown bits set in the command flags",
    Code.UNKNOWN_ACCOUNT: "no account with this id has ever deposited",
    Code.UNKNOWN_MARKET: "no market with this id is listed",
    Code.UNKNOWN_WITHDRAWAL: "no pending withdrawal has this id",
    Code.RESERVED_ORDER_ID: "order ids from 2**62 up are the exchange's own (its liquidation orders)",
    Code.INSUFFICIENT_AVAILABLE: "available collateral cannot cover the amount to lock or withdraw",
    Code.BELOW_INITIAL_MARGIN: "filled in full, the order would leave the account below initial margin",
    Code.REDUCE_ONLY_WOULD_INCREASE: "a reduce-only order may only shrink an open position",
    Code.WITHDRAWAL_NOT_DUE: "the withdrawal's delay has not elapsed yet",
    Code.WITHDRAWAL_BELOW_INITIAL_MARGIN:
        "paying the withdrawal would leave the account below its initial requirements; rejected",
    Code.WITHDRAWAL_DEFERRED_STALE_MARK:
        "a market the account holds a position in has a stale mark; the withdrawal stays pending",
    Code.REDUCE_ONLY_BEYOND_BANKRUPTCY:
        "a reduce-only order's limit lies beyond the position's bankruptcy price: filled there, its "
        "loss would exceed the position margin",
    Code.LIQUIDATION_DEFERRED_STALE_MARK:
        "the market's mark is stale: liquidation waits for a fresh mark",
    Code.LIQUIDATION_DEFERRED_NOTIONAL_CAP:
        "the account's liquidation notional for this block is used up: the rest waits a block",
    Code.LIQUIDATION_DEFERRED_INSURANCE_CAP:
        "the market's insurance draws for this block are used up: the rest waits a block",
    Code.LIQUIDATION_NOTHING_FILLED:
        "the book had nothing at or better than the fillable price",
    Code.MARKET_NOT_TRADING: "the market is not trading in its phase (Draft, Resolved, Settled)",
    Code.MARKET_REDUCE_ONLY: "the market is resolving: only reduce-only orders are accepted",
    Code.MARKET_NOT_ACTIVE: "only an Active market takes this command (funding, a direct mark)",
    Code.POST_ONLY_WOULD_CROSS: "post-only order would cross the book",
    Code.FOK_NOT_FILLABLE: "fill-or-kill order cannot be filled in full",
}


def describe(code: int) -> str:
    """Human-readable meaning of a result code (``'unknown code N'`` for a number not listed)."""
    try:
        return Code(code).description
    except ValueError:
        return f"unknown code {code}"
