"""The pure-Python reference order book: the slow, obviously-correct twin of ``perpcore.OrderBook``.

Owns a second, independent implementation of everything the native book does (validation and
result codes, price-time matching, self-trade prevention, FOK, post-only, market orders with a
protection price, amend, cancel_all, L2 deltas with per-command coalescing, impact prices, the
batch ``process`` API, snapshots, the state hash, integrity checks and the typed errors for bad
arguments), with the same public interface and the same observable behaviour, byte for byte where
bytes are exposed. Its data structures are the plain ones: per side a ``SortedDict`` from price to
a level holding a FIFO ``OrderedDict`` of orders, and one dict from order id to order. It must
never call into the native book (it is the yardstick the native book is checked against; it reads
only the constants the native module publishes: snapshot magic and version, the order-size cap,
and the BatchBuffers type that ``process(out=...)`` accepts), never use floats, clocks or
random numbers, never define vocabulary of its own (sides, codes, dtypes and errors come from
``book_types``, ``codes`` and ``errors``), and never change anything when it returns a non-zero
code.
"""

from __future__ import annotations

import hashlib
import struct
from collections import OrderedDict

import numpy as np
from sortedcontainers import SortedDict

from perpcore._book import BatchBuffers, MAX_ORDER_SIZE_LIMIT, SNAPSHOT_MAGIC, SNAPSHOT_VERSION
from perpcore.book_types import (
    CANCEL_DTYPE,
    COMMAND_DTYPE,
    DELTA_DTYPE,
    FILL_DTYPE,
    FLAG_REDUCE_ONLY,
    PRICE_SCALE_PPM,
    RESULT_DTYPE,
    BatchResult,
    BookDelta,
    CancelledOrder,
    CancelReason,
    Depth,
    ExpireReason,
    Fill,
    ImpactPrice,
    Op,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from perpcore.codes import Code
from perpcore.errors import IntegrityError, InvalidInput, InvalidType, SnapshotError
from perpcore.reference._args import as_flag, as_i64

__all__ = ["ReferenceOrderBook", "Result"]

# Plain-int aliases of the shared vocabulary (enum attribute lookups are slow on hot paths).
_BUY = int(Side.BUY)
_SELL = int(Side.SELL)
_GTC = int(TimeInForce.GTC)
_FOK = int(TimeInForce.FOK)
_POST_ONLY = int(TimeInForce.POST_ONLY)
_MARKET = int(TimeInForce.MARKET)
_N_TIF = len(TimeInForce)
_STP_EXPIRE_MAKER = int(SelfTradePrevention.EXPIRE_MAKER)
_STP_EXPIRE_TAKER = int(SelfTradePrevention.EXPIRE_TAKER)
_STP_EXPIRE_BOTH = int(SelfTradePrevention.EXPIRE_BOTH)
_N_STP = len(SelfTradePrevention)
_OP_PLACE = int(Op.PLACE)
_OP_CANCEL = int(Op.CANCEL)
_OP_AMEND = int(Op.AMEND)
_OP_CANCEL_ALL = int(Op.CANCEL_ALL)
_EXPIRE_NONE = int(ExpireReason.NONE)
_EXPIRE_UNFILLED_IOC = int(ExpireReason.UNFILLED_IOC)
_EXPIRE_SELF_TRADE = int(ExpireReason.SELF_TRADE)
_CANCEL_USER = int(CancelReason.USER)
_CANCEL_SELF_TRADE = int(CancelReason.SELF_TRADE)
_CANCEL_REDUCE_ONLY = int(CancelReason.REDUCE_ONLY)
_CMD_REDUCE_ONLY = int(FLAG_REDUCE_ONLY)
_SCALE = PRICE_SCALE_PPM

_OK = int(Code.OK)
_E_SIDE = int(Code.INVALID_SIDE)
_E_TIF = int(Code.INVALID_TIME_IN_FORCE)
_E_STP = int(Code.INVALID_STP)
_E_ORDER_ID = int(Code.INVALID_ORDER_ID)
_E_ACCOUNT = int(Code.INVALID_ACCOUNT)
_E_SIZE_NOT_POSITIVE = int(Code.SIZE_NOT_POSITIVE)
_E_SIZE_OFF_LOT = int(Code.SIZE_OFF_LOT)
_E_SIZE_BELOW_MIN = int(Code.SIZE_BELOW_MINIMUM)
_E_SIZE_ABOVE_MAX = int(Code.SIZE_ABOVE_MAXIMUM)
_E_PRICE_RANGE = int(Code.PRICE_OUT_OF_RANGE)
_E_PRICE_TICK = int(Code.PRICE_OFF_TICK)
_E_DUPLICATE = int(Code.DUPLICATE_ORDER_ID)
_E_UNKNOWN = int(Code.UNKNOWN_ORDER_ID)
_E_OP = int(Code.INVALID_OP)
_E_FLAGS = int(Code.INVALID_FLAGS)
_E_POST_ONLY_CROSS = int(Code.POST_ONLY_WOULD_CROSS)
_E_FOK = int(Code.FOK_NOT_FILLABLE)

_SIDES = (Side.BUY, Side.SELL)
_EXPIRE_REASONS = tuple(ExpireReason)
_CANCEL_REASONS = tuple(CancelReason)

# The snapshot wire format (the native module does not publish these; the differential tests pin
# the bytes equal). Header: magic, u16 version, u16 zero, tick, lot, min size, max size, order
# count. Record: order id, account, price (ppm), remaining, side, flags byte; all little-endian.
_HEADER = struct.Struct("<4sHH5q")
_RECORD = struct.Struct("<qqqqBB")
# The flags byte of a resting order in a snapshot: post-only, reduce-only, and its STP mode.
_NODE_POST_ONLY = 1
_NODE_REDUCE_ONLY = 2
_NODE_STP_SHIFT = 2
_NODE_STP_MASK = 3 << _NODE_STP_SHIFT
_NODE_FLAGS_ALL = 15


# ---------------------------------------------------------------------------------------------
# Argument conversion at the Python boundary: the same checks, in the same order, as the native
# book (reference._args).


def _place_args(order_id, account, side, price_ppm, size, tif, stp, reduce_only):
    """A place's arguments converted in their documented order (which error wins), returned in
    the order of ``_place``: (order_id, account, side, tif, stp, flags, price, size)."""
    oid = as_i64(order_id, "order_id")
    acct = as_i64(account, "account")
    s = as_i64(side, "side")
    price = as_i64(price_ppm, "price_ppm")
    sz = as_i64(size, "size")
    t = as_i64(tif, "tif")
    p = as_i64(stp, "stp")
    flags = as_flag(reduce_only, "reduce_only")
    return oid, acct, s, t, p, flags, price, sz


# ---------------------------------------------------------------------------------------------
# Book records


# A resting order is a list [order id, account, side, price_ppm, remaining, flags] indexed by these
# names (a list: creating one costs a fraction of an object's __init__); `flags` uses the snapshot's
# flags-byte encoding.
_O_ID, _O_ACCOUNT, _O_SIDE, _O_PRICE, _O_REMAINING, _O_FLAGS = range(6)


class _Level:
    """One price level: its orders in time priority (order id -> order) and their total size."""

    __slots__ = ("orders", "total")

    def __init__(self):
        self.orders = OrderedDict()
        self.total = 0


class Result:
    """What one call did (the twin of ``perpcore.Result``). ``code`` 0 means accepted.

    ``filled`` / ``resting`` / ``expired`` account for the incoming order's size (place, amend);
    ``fills``, ``cancelled``, ``deltas`` and ``trades`` list everything the call caused, in order.
    """

    __slots__ = ("_code", "_order_id", "_filled", "_resting", "_expired", "_expire_reason",
                 "_fills", "_cancels", "_deltas")

    def __init__(self, code, order_id, expire_reason, filled, resting, expired, fills, cancels,
                 deltas):
        self._code = code
        self._order_id = order_id
        self._expire_reason = expire_reason
        self._filled = filled
        self._resting = resting
        self._expired = expired
        self._fills = fills
        self._cancels = cancels
        self._deltas = deltas

    @property
    def code(self):
        return self._code

    @property
    def ok(self):
        return self._code == 0

    @property
    def order_id(self):
        return self._order_id

    @property
    def filled(self):
        return self._filled

    @property
    def resting(self):
        return self._resting

    @property
    def expired(self):
        return self._expired

    @property
    def expire_reason(self):
        return _EXPIRE_REASONS[self._expire_reason]

    @property
    def n_fills(self):
        return len(self._fills)

    @property
    def fills(self):
        # record layout: FILL_DTYPE's field order
        return tuple(Fill(f[1], f[2], f[3], f[4], _SIDES[f[8]], f[5], f[6], f[7], bool(f[9]),
                          bool(f[10])) for f in self._fills)

    @property
    def trades(self):
        return tuple(Trade(f[5], f[6], _SIDES[f[8]]) for f in self._fills)

    @property
    def cancelled(self):
        # record layout: CANCEL_DTYPE's field order
        return tuple(CancelledOrder(c[1], c[2], _SIDES[c[5]], c[3], c[4], _CANCEL_REASONS[c[6]])
                     for c in self._cancels)

    @property
    def deltas(self):
        # record layout: DELTA_DTYPE's field order
        return tuple(BookDelta(_SIDES[d[3]], d[1], d[2]) for d in self._deltas)

    def __repr__(self):
        return (f"Result(code={Code(self._code).name}, order_id={self._order_id}, "
                f"filled={self._filled}, resting={self._resting}, expired={self._expired}, "
                f"expire_reason={self.expire_reason.name}, fills={len(self._fills)}, "
                f"cancelled={len(self._cancels)}, deltas={len(self._deltas)})")


def _records(rows, dtype):
    """A structured array of ``dtype`` from row tuples/lists in the dtype's field order."""
    arr = np.zeros(len(rows), dtype)
    if rows:
        for name, column in zip(dtype.names, zip(*rows)):
            arr[name] = column
    return arr


# ---------------------------------------------------------------------------------------------


class ReferenceOrderBook:
    """A price-time priority limit order book for one market (pure Python).

    Prices are integer ppm of probability on the grid ``tick_ppm`` (which must divide 1_000_000),
    strictly inside (0, 1_000_000); sizes are integer contracts, multiples of ``lot``, at least
    ``min_size`` and at most ``max_size`` per order. Trades print at the maker's price.
    """

    __slots__ = ("_tick", "_lot", "_min", "_max", "_levels", "_best", "_orders", "_fills",
                 "_cancels", "_deltas", "_delta_floor", "_want_deltas", "_cmd", "reducible")

    def __init__(self, tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000_000):
        tick = as_i64(tick_ppm, "tick_ppm")
        lot_ = as_i64(lot, "lot")
        min_ = as_i64(min_size, "min_size")
        max_ = as_i64(max_size, "max_size")
        if tick <= 0 or _SCALE % tick != 0 or tick > _SCALE // 2:
            raise InvalidInput(f"tick_ppm={tick} must be positive, at most 500_000 and divide "
                               f"1_000_000")
        if lot_ <= 0:
            raise InvalidInput(f"lot={lot_} must be positive")
        if min_ < lot_ or min_ % lot_ != 0:
            raise InvalidInput(f"min_size={min_} must be a positive multiple of lot={lot_}")
        if max_ < min_ or max_ > MAX_ORDER_SIZE_LIMIT:
            raise InvalidInput(f"max_size={max_} must lie in [min_size, {MAX_ORDER_SIZE_LIMIT}]")
        self._tick = tick
        self._lot = lot_
        self._min = min_
        self._max = max_
        self._levels = (SortedDict(), SortedDict())  # per side: price_ppm -> _Level
        self._best = [None, None]  # best price per side, None when the side is empty
        self._orders = {}  # order id -> order record
        self._fills = []
        self._cancels = []
        self._deltas = []
        self._delta_floor = 0
        self._want_deltas = True
        self._cmd = 0
        # The reduce-only guard an exchange installs (the native book's is C-level): called as
        # reducible(order_id, side) for a resting reduce-only order, it says how much its account
        # may trade on `side` through it, judged on its position before the current command.
        # None on a bare book: the reduce-only flag is then only carried through.
        self.reducible = None

    tick_ppm = property(lambda self: self._tick)
    lot = property(lambda self: self._lot)
    min_size = property(lambda self: self._min)
    max_size = property(lambda self: self._max)

    # ------------------------------------------------------------------ book mechanics

    def _emit_delta(self, side, price, total):
        """Record that level (side, price) now holds `total`, merging into the previous delta of
        the same command when it is for the same level. Callers skip it when deltas are off."""
        deltas = self._deltas
        if len(deltas) > self._delta_floor:
            last = deltas[-1]
            if last[3] == side and last[1] == price:
                last[2] = total
                return
        deltas.append([self._cmd, price, total, side])

    def _drop_level(self, side, price):
        """Remove the (now empty) level and move the side's best price if it was the best."""
        levels = self._levels[side]
        del levels[price]
        if self._best[side] == price:
            if levels:
                self._best[side] = levels.keys()[-1 if side == _BUY else 0]
            else:
                self._best[side] = None

    def _unlink(self, order):
        """Remove a live order from its level and the id map (no records emitted); returns the
        level's new total."""
        side = order[_O_SIDE]
        price = order[_O_PRICE]
        level = self._levels[side][price]
        del level.orders[order[_O_ID]]
        del self._orders[order[_O_ID]]
        level.total -= order[_O_REMAINING]
        if not level.orders:
            self._drop_level(side, price)
        return level.total

    def _rest(self, order_id, account, side, node_flags, price, size):
        """Queue an order at the back of its level."""
        levels = self._levels[side]
        level = levels.get(price)
        if level is None:
            level = levels[price] = _Level()
            best = self._best[side]
            if best is None or (price > best if side == _BUY else price < best):
                self._best[side] = price
        order = [order_id, account, side, price, size, node_flags]
        level.orders[order_id] = order
        level.total += size
        self._orders[order_id] = order
        if self._want_deltas:
            self._emit_delta(side, price, level.total)

    def _fok_fillable(self, account, side, stp, limit, size):
        """Whether matching would fill `size` in full (own orders count per the STP mode; under a
        reduce-only guard a reduce-only maker counts only up to what _match would let it fill)."""
        opp = side ^ 1
        levels = self._levels[opp]
        if opp == _SELL:
            prices = levels.irange(maximum=limit)
        else:
            prices = levels.irange(minimum=limit, reverse=True)
        need = size
        taken = {}  # account -> what its makers met so far would fill
        for price in prices:
            for order in levels[price].orders.values():
                maker_account = order[_O_ACCOUNT]
                if maker_account == account:
                    if stp != _STP_EXPIRE_MAKER:
                        return False
                    continue
                take = order[_O_REMAINING]
                if self.reducible is not None and order[_O_FLAGS] & _NODE_REDUCE_ONLY:
                    left = self.reducible(order[_O_ID], opp) - taken.get(maker_account, 0)
                    take = min(take, max(left, 0))
                taken[maker_account] = taken.get(maker_account, 0) + take
                need -= take
                if need <= 0:
                    return True
        return False

    def _reducible_now(self, maker, fill_floor):
        """What a reduce-only maker may fill now: its account's reducible size before the command
        less what the account's makers filled since `fill_floor` (never negative)."""
        left = self.reducible(maker[_O_ID], maker[_O_SIDE])
        left -= sum(f[6] for f in self._fills[fill_floor:] if f[4] == maker[_O_ACCOUNT])
        return max(left, 0)

    def _match(self, order_id, account, side, stp, node_flags, limit, size):
        """Take liquidity up to price `limit`; returns (unfilled size, whether STP stopped it).

        Every step either removes the head of the best opposite queue (filled in full, or
        cancelled by self-trade prevention) or ends the match, so only heads are ever touched.
        """
        opp = side ^ 1
        levels = self._levels[opp]
        best = self._best
        by_id = self._orders
        fills = self._fills
        cmd = self._cmd
        taker_ro = 1 if node_flags & _NODE_REDUCE_ONLY else 0
        fill_floor = len(fills)
        rem = size
        stopped = False
        while rem > 0:
            price = best[opp]
            if price is None or (price > limit if side == _BUY else price < limit):
                break
            level = levels[price]
            queue = level.orders
            changed = False
            while queue:
                maker = next(iter(queue.values()))
                maker_id = maker[_O_ID]
                if maker[_O_ACCOUNT] == account:
                    if stp == _STP_EXPIRE_TAKER:
                        stopped = True
                        break
                    self._cancels.append((cmd, maker_id, account, price, maker[_O_REMAINING],
                                          opp, _CANCEL_SELF_TRADE))
                    del queue[maker_id]
                    del by_id[maker_id]
                    level.total -= maker[_O_REMAINING]
                    changed = True
                    if stp == _STP_EXPIRE_BOTH:
                        stopped = True
                        break
                    continue
                left = maker[_O_REMAINING]
                q = left if left < rem else rem
                maker_ro = 1 if maker[_O_FLAGS] & _NODE_REDUCE_ONLY else 0
                cut = False
                if maker_ro and self.reducible is not None:
                    allowed = self._reducible_now(maker, fill_floor)
                    if allowed < q:  # it would open exposure: fill what still reduces, drop the rest
                        q = allowed
                        cut = True
                changed = True
                if q > 0:
                    left -= q
                    maker[_O_REMAINING] = left
                    level.total -= q
                    rem -= q
                    fills.append((cmd, order_id, account, maker_id, maker[_O_ACCOUNT], price, q,
                                  left, side, taker_ro, maker_ro))
                if cut:
                    self._cancels.append((cmd, maker_id, maker[_O_ACCOUNT], price, left, opp,
                                          _CANCEL_REDUCE_ONLY))
                    level.total -= left
                    del queue[maker_id]
                    del by_id[maker_id]
                elif left == 0:
                    del queue[maker_id]
                    del by_id[maker_id]
                if rem == 0:
                    break
            if not queue:
                self._drop_level(opp, price)
            if changed and self._want_deltas:
                self._emit_delta(opp, price, level.total)
            if stopped:
                break
        return rem, stopped

    def _price_code(self, price):
        if price <= 0 or price >= _SCALE:
            return _E_PRICE_RANGE
        if price % self._tick != 0:
            return _E_PRICE_TICK
        return _OK

    # Each command returns (code, expire reason, filled, resting, expired) and appends what it
    # caused to the output lists. A non-zero code returns before anything is touched.

    def _validate_place(self, order_id, account, side, tif, stp, flags, price, size):
        """(code, limit): the 1xxx checks of a place, in the order that decides which code a bad
        command gets; ``limit`` is the price the order may trade up (down) to."""
        if side != _BUY and side != _SELL:
            return _E_SIDE, 0
        if tif < 0 or tif >= _N_TIF:
            return _E_TIF, 0
        if stp < 0 or stp >= _N_STP:
            return _E_STP, 0
        if flags & ~_CMD_REDUCE_ONLY:
            return _E_FLAGS, 0
        if order_id <= 0:
            return _E_ORDER_ID, 0
        if account < 0:
            return _E_ACCOUNT, 0
        if size <= 0:
            return _E_SIZE_NOT_POSITIVE, 0
        if size % self._lot != 0:
            return _E_SIZE_OFF_LOT, 0
        if size < self._min:
            return _E_SIZE_BELOW_MIN, 0
        if size > self._max:
            return _E_SIZE_ABOVE_MAX, 0
        if tif == _MARKET and price == 0:
            limit = _SCALE if side == _BUY else 0  # no protection: every level crosses
        else:
            if price <= 0 or price >= _SCALE:
                return _E_PRICE_RANGE, 0
            if price % self._tick != 0:
                return _E_PRICE_TICK, 0
            limit = price
        if order_id in self._orders:
            return _E_DUPLICATE, 0
        return _OK, limit

    def _place(self, order_id, account, side, tif, stp, flags, price, size):
        code, limit = self._validate_place(order_id, account, side, tif, stp, flags, price, size)
        if code != _OK:
            return (code, 0, 0, 0, 0)
        node_flags = stp << _NODE_STP_SHIFT
        if flags & _CMD_REDUCE_ONLY:
            node_flags |= _NODE_REDUCE_ONLY
        opp_best = self._best[side ^ 1]
        crosses = opp_best is not None and (opp_best <= limit if side == _BUY
                                            else opp_best >= limit)
        if tif == _POST_ONLY:
            node_flags |= _NODE_POST_ONLY
            if crosses:
                return (_E_POST_ONLY_CROSS, 0, 0, 0, 0)
        elif tif == _FOK:
            if not self._fok_fillable(account, side, stp, limit, size):
                return (_E_FOK, 0, 0, 0, 0)
        if crosses:
            rem, stopped = self._match(order_id, account, side, stp, node_flags, limit, size)
        else:
            rem, stopped = size, False
        if rem > 0:
            if stopped:
                return (_OK, _EXPIRE_SELF_TRADE, size - rem, 0, rem)
            if tif == _GTC or tif == _POST_ONLY:
                self._rest(order_id, account, side, node_flags, limit, rem)
                return (_OK, _EXPIRE_NONE, size - rem, rem, 0)
            return (_OK, _EXPIRE_UNFILLED_IOC, size - rem, 0, rem)
        return (_OK, _EXPIRE_NONE, size, 0, 0)

    def _cancel(self, order_id):
        order = self._orders.get(order_id)
        if order is None:
            return (_E_UNKNOWN, 0, 0, 0, 0)
        side = order[_O_SIDE]
        price = order[_O_PRICE]
        self._cancels.append((self._cmd, order_id, order[_O_ACCOUNT], price,
                              order[_O_REMAINING], side, _CANCEL_USER))
        total = self._unlink(order)
        if self._want_deltas:
            self._emit_delta(side, price, total)
        return (_OK, 0, 0, 0, 0)

    def _amend(self, order_id, size, price):
        """`price` 0 keeps the order's price."""
        order = self._orders.get(order_id)
        if order is None:
            return (_E_UNKNOWN, 0, 0, 0, 0)
        if size <= 0:
            return (_E_SIZE_NOT_POSITIVE, 0, 0, 0, 0)
        if size % self._lot != 0:
            return (_E_SIZE_OFF_LOT, 0, 0, 0, 0)
        if size > self._max:
            return (_E_SIZE_ABOVE_MAX, 0, 0, 0, 0)
        old_price = order[_O_PRICE]
        if price == 0:
            new_price = old_price
        else:
            code = self._price_code(price)
            if code:
                return (code, 0, 0, 0, 0)
            new_price = price
        side = order[_O_SIDE]
        remaining = order[_O_REMAINING]
        if new_price == old_price and size <= remaining:
            # same price, not larger: shrink in place and keep queue priority
            if size != remaining:
                level = self._levels[side][old_price]
                level.total -= remaining - size
                order[_O_REMAINING] = size
                if self._want_deltas:
                    self._emit_delta(side, old_price, level.total)
            return (_OK, _EXPIRE_NONE, 0, size, 0)
        # a new price or a larger size: the order loses its place and is submitted again
        if size < self._min:
            return (_E_SIZE_BELOW_MIN, 0, 0, 0, 0)
        node_flags = order[_O_FLAGS]
        opp_best = self._best[side ^ 1]
        crosses = opp_best is not None and (opp_best <= new_price if side == _BUY
                                            else opp_best >= new_price)
        if node_flags & _NODE_POST_ONLY and crosses:
            return (_E_POST_ONLY_CROSS, 0, 0, 0, 0)
        account = order[_O_ACCOUNT]
        total = self._unlink(order)
        if self._want_deltas:
            self._emit_delta(side, old_price, total)
        if crosses:
            rem, stopped = self._match(order_id, account, side,
                                       (node_flags & _NODE_STP_MASK) >> _NODE_STP_SHIFT,
                                       node_flags, new_price, size)
        else:
            rem, stopped = size, False
        if rem > 0:
            if stopped:
                return (_OK, _EXPIRE_SELF_TRADE, size - rem, 0, rem)
            self._rest(order_id, account, side, node_flags, new_price, rem)
            return (_OK, _EXPIRE_NONE, size - rem, rem, 0)
        return (_OK, _EXPIRE_NONE, size, 0, 0)

    def _cancel_all(self, account):
        if account < 0:
            return (_E_ACCOUNT, 0, 0, 0, 0)
        cmd = self._cmd
        cancels = self._cancels
        for side in (_BUY, _SELL):
            levels = self._levels[side]
            for price in list(self._prices_best_first(side)):
                mine = [o for o in levels[price].orders.values() if o[_O_ACCOUNT] == account]
                if not mine:
                    continue
                for order in mine:
                    cancels.append((cmd, order[_O_ID], account, price, order[_O_REMAINING], side,
                                    _CANCEL_USER))
                    total = self._unlink(order)
                if self._want_deltas:
                    self._emit_delta(side, price, total)
        return (_OK, 0, 0, 0, 0)

    # ================================================================== Python API

    def _begin_call(self):
        """Fresh output lists for one per-call command (the Result keeps them)."""
        self._fills = []
        self._cancels = []
        self._deltas = []
        self._cmd = 0
        self._delta_floor = 0

    def _result(self, outcome, order_id):
        return Result(outcome[0], order_id, outcome[1], outcome[2], outcome[3], outcome[4],
                      self._fills, self._cancels, self._deltas)

    def place(self, order_id, account, side, price_ppm, size, tif=0, stp=0, reduce_only=False):
        """Submit an order; returns a Result.

        ``side``: Side; ``price_ppm``: limit price on the tick grid (for TimeInForce.MARKET the
        protection price, or 0 for none); ``tif``: TimeInForce; ``stp``: SelfTradePrevention;
        ``reduce_only`` is carried through to fills (the exchange layer enforces it).
        """
        args = _place_args(order_id, account, side, price_ppm, size, tif, stp, reduce_only)
        self._begin_call()
        return self._result(self._place(*args), args[0])

    def check_place(self, order_id, account, side, price_ppm, size, tif=0, stp=0,
                    reduce_only=False):
        """The code ``place`` would return for these arguments before meeting the book: 0 if the
        order is valid for this market (a 3xxx outcome such as a post-only cross can still follow),
        else its 1xxx code. Changes nothing."""
        args = _place_args(order_id, account, side, price_ppm, size, tif, stp, reduce_only)
        return self._validate_place(*args)[0]

    def cancel(self, order_id):
        """Cancel a live order by id; UNKNOWN_ORDER_ID if none is live."""
        oid = as_i64(order_id, "order_id")
        self._begin_call()
        return self._result(self._cancel(oid), oid)

    def amend(self, order_id, size, price_ppm=None):
        """Change a live order's open size and/or price.

        A smaller size at the same price keeps queue priority; a new price or a larger size
        re-queues the order at the back of its (new) level, and a new price that crosses trades at
        once like a fresh GTC order (a post-only order that would cross is rejected unchanged).
        ``price_ppm=None`` keeps the price.
        """
        oid = as_i64(order_id, "order_id")
        sz = as_i64(size, "size")
        price = 0
        if price_ppm is not None:
            price = as_i64(price_ppm, "price_ppm")
            if price == 0:
                price = -1  # 0 is the batch encoding of "keep"; here it is out of range
        self._begin_call()
        return self._result(self._amend(oid, sz, price), oid)

    def cancel_all(self, account):
        """Cancel every live order of an account (bids best first, then asks best first)."""
        acct = as_i64(account, "account")
        self._begin_call()
        return self._result(self._cancel_all(acct), 0)

    def process(self, commands, *, deltas=False, out=None):
        """Run a numpy array of COMMAND_DTYPE commands through the book.

        Same semantics as the per-call methods, command by command. Returns a BatchResult: one
        RESULT_DTYPE row per command, and the fills, cancellations and (if ``deltas``) L2 deltas
        of the whole batch, each row tagged with its command index. ``out`` (BatchBuffers) is
        accepted and checked like the native book does, but the reference always returns fresh
        arrays: reusing storage is a memory optimisation, not behaviour.
        """
        if not isinstance(commands, np.ndarray):
            raise InvalidType(f"commands must be a numpy array of COMMAND_DTYPE, not "
                              f"{type(commands).__name__}")
        if commands.dtype != COMMAND_DTYPE:
            raise InvalidType(f"commands must have dtype perpcore.COMMAND_DTYPE, not "
                              f"{commands.dtype}")
        if commands.ndim != 1:
            raise InvalidInput("commands must be one-dimensional")
        if out is not None and not isinstance(out, BatchBuffers):
            raise InvalidType(f"out must be perpcore.BatchBuffers, not {type(out).__name__}")
        n = commands.shape[0]
        # tuples, not lists: the collector untracks tuples of ints instead of walking them
        columns = [tuple(commands[name].tolist()) for name in
                   ("op", "side", "tif", "stp", "flags", "order_id", "account", "price_ppm",
                    "size")]
        outcomes = []
        record = outcomes.append
        self._fills = []
        self._cancels = []
        self._deltas = deltas_out = []
        want = self._want_deltas = bool(deltas)
        place, cancel, amend, cancel_all = self._place, self._cancel, self._amend, self._cancel_all
        try:
            for i, (op, side, tif, stp, flags, oid, acct, price, size) in enumerate(zip(*columns)):
                self._cmd = i
                if want:
                    self._delta_floor = len(deltas_out)
                if op == _OP_PLACE:
                    record(place(oid, acct, side, tif, stp, flags, price, size))
                elif op == _OP_CANCEL:
                    record(cancel(oid))
                elif op == _OP_AMEND:
                    record(amend(oid, size, price))
                elif op == _OP_CANCEL_ALL:
                    record(cancel_all(acct))
                else:
                    record((_E_OP, 0, 0, 0, 0))
        finally:
            self._want_deltas = True
        fills = _records(self._fills, FILL_DTYPE)
        cancels = _records(self._cancels, CANCEL_DTYPE)
        delta_arr = _records(deltas_out, DELTA_DTYPE) if deltas else None
        results = np.zeros(n, RESULT_DTYPE)
        if n:
            code, reason, filled, resting, expired = zip(*outcomes)
            results["code"] = code
            results["expire_reason"] = reason
            results["order_id"] = columns[5]
            results["filled"] = filled
            results["resting"] = resting
            results["expired"] = expired
            # every fill and cancellation carries the index of the command that caused it
            results["n_fills"] = np.bincount(fills["cmd"], minlength=n)
            results["n_cancels"] = np.bincount(cancels["cmd"], minlength=n)
        self._fills = []
        self._cancels = []
        self._deltas = []
        self._cmd = 0
        self._delta_floor = 0
        return BatchResult(results, fills, cancels, delta_arr)

    # ------------------------------------------------------------------ market data

    def best_bid(self):
        """Highest bid price in ppm, or None when there are no bids."""
        return self._best[_BUY]

    def best_ask(self):
        """Lowest ask price in ppm, or None when there are no asks."""
        return self._best[_SELL]

    def _prices_best_first(self, side):
        levels = self._levels[side]
        return reversed(levels.keys()) if side == _BUY else iter(levels.keys())

    def depth(self, n=10):
        """L2 depth of up to ``n`` levels per side, best first, as a Depth of int64 arrays."""
        want = as_i64(n, "n")
        if want < 0:
            raise InvalidInput(f"n={want} must be non-negative")
        out = []
        for side in (_BUY, _SELL):
            levels = self._levels[side]
            prices, sizes, counts = [], [], []
            for price in self._prices_best_first(side):
                if len(prices) >= want:
                    break
                level = levels[price]
                prices.append(price)
                sizes.append(level.total)
                counts.append(len(level.orders))
            out.extend([np.array(prices, np.int64), np.array(sizes, np.int64),
                        np.array(counts, np.int64)])
        return Depth(*out)

    def impact_price(self, side, notional_qq):
        """Average price of sweeping ``notional_qq`` (quote quantums) through one book side.

        ``side`` names the book side swept: Side.BUY walks the bids (the impact bid, rounded
        down), Side.SELL the asks (the impact ask, rounded up). Returns ImpactPrice; when the side
        holds less notional than asked, ``enough_depth`` is False and ``price_ppm`` is 0. A
        notional of 0 gives the best price.
        """
        s = as_i64(side, "side")
        notional = as_i64(notional_qq, "notional_qq")
        if s != _BUY and s != _SELL:
            raise InvalidInput(f"side={s} must be Side.BUY or Side.SELL")
        if notional < 0:
            raise InvalidInput(f"notional_qq={notional} must be non-negative")
        best = self._best[s]
        if best is None:
            return ImpactPrice(0, False)
        if notional == 0:
            return ImpactPrice(best, True)
        levels = self._levels[s]
        swept = 0  # notional of the levels fully swept so far
        contracts = 0  # their size
        for price in self._prices_best_first(s):
            total = levels[price].total
            level_notional = total * price
            rest = notional - swept
            if rest <= level_notional:
                # average = notional / (contracts + rest / price), exactly; bids round down,
                # asks round up
                num = notional * price
                den = contracts * price + rest
                return ImpactPrice(num // den if s == _BUY else -(-num // den), True)
            swept += level_notional
            contracts += total
        return ImpactPrice(0, False)

    def order(self, order_id):
        """The live order with this id as a dict, or None."""
        o = self._orders.get(as_i64(order_id, "order_id"))
        if o is None:
            return None
        order_id, account, side, price, remaining, flags = o
        return {
            "order_id": order_id,
            "account": account,
            "side": _SIDES[side],
            "price_ppm": price,
            "size": remaining,
            "post_only": bool(flags & _NODE_POST_ONLY),
            "reduce_only": bool(flags & _NODE_REDUCE_ONLY),
            "stp": SelfTradePrevention((flags & _NODE_STP_MASK) >> _NODE_STP_SHIFT),
        }

    def __len__(self):
        return len(self._orders)

    def __contains__(self, order_id):
        return as_i64(order_id, "order_id") in self._orders

    def check_integrity(self):
        """Verify every internal invariant; raises IntegrityError naming the first one broken."""
        live = 0
        for side in (_BUY, _SELL):
            levels = self._levels[side]
            for price, level in levels.items():
                if self._price_code(price) != _OK:
                    raise IntegrityError(f"a level of side {side} sits at invalid price {price}")
                if not level.orders:
                    raise IntegrityError(f"empty level {price} on side {side} is kept")
                total = 0
                for key, o in level.orders.items():
                    if len(o) != 6:
                        raise IntegrityError(f"order {key} has a malformed record")
                    order_id, account, o_side, o_price, remaining, flags = o
                    if order_id != key or o_price != price or o_side != side:
                        raise IntegrityError(f"order {key} is filed at the wrong level")
                    if remaining <= 0 or remaining % self._lot != 0:
                        raise IntegrityError(f"order {order_id} has remaining {remaining}")
                    if (order_id <= 0 or account < 0 or flags & ~_NODE_FLAGS_ALL
                            or (flags & _NODE_STP_MASK) >> _NODE_STP_SHIFT >= _N_STP):
                        raise IntegrityError(f"order {order_id} has invalid fields")
                    if self._orders.get(order_id) is not o:
                        raise IntegrityError(f"order {order_id} is not found by its id")
                    total += remaining
                if total != level.total:
                    raise IntegrityError(f"level {price} aggregates disagree with its queue")
                live += len(level.orders)
            expected = None
            if levels:
                expected = levels.keys()[-1 if side == _BUY else 0]
            if self._best[side] != expected:
                raise IntegrityError(f"best price of side {side} is {self._best[side]}, "
                                     f"expected {expected}")
        bid, ask = self._best
        if bid is not None and ask is not None and bid >= ask:
            raise IntegrityError("the book is crossed")
        if live != len(self._orders):
            raise IntegrityError(f"{live} orders in queues but {len(self._orders)} by id")

    def __repr__(self):
        return (f"ReferenceOrderBook(tick_ppm={self._tick}, lot={self._lot}, "
                f"min_size={self._min}, max_size={self._max}, orders={len(self._orders)}, "
                f"best_bid={self.best_bid()}, best_ask={self.best_ask()})")

    # ------------------------------------------------------------------ snapshots

    def snapshot(self):
        """Canonical bytes of the book: config, then every order, bids best first then asks best
        first, each level in queue order. Identical books give identical bytes on any machine."""
        parts = [_HEADER.pack(SNAPSHOT_MAGIC, SNAPSHOT_VERSION, 0, self._tick, self._lot,
                              self._min, self._max, len(self._orders))]
        pack = _RECORD.pack
        for side in (_BUY, _SELL):
            levels = self._levels[side]
            for price in self._prices_best_first(side):
                for o in levels[price].orders.values():
                    parts.append(pack(o[_O_ID], o[_O_ACCOUNT], price, o[_O_REMAINING], side,
                                      o[_O_FLAGS]))
        return b"".join(parts)

    @staticmethod
    def restore(data):
        """Rebuild the book a snapshot describes, queue priorities included.

        Raises SnapshotError for bytes that are truncated, of another version, or not a canonical
        snapshot of a valid book.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidType(f"snapshot must be bytes, not {type(data).__name__}")
        raw = bytes(data)
        size = len(raw)
        if size < _HEADER.size or raw[:4] != SNAPSHOT_MAGIC:
            raise SnapshotError("not a perpcore order book snapshot")
        (_magic, version, pad, tick, lot, min_size, max_size,
         n_orders) = _HEADER.unpack_from(raw)
        if version != SNAPSHOT_VERSION or pad:
            raise SnapshotError(f"unsupported snapshot version {version}")
        if n_orders < 0 or size != _HEADER.size + n_orders * _RECORD.size:
            raise SnapshotError("snapshot length does not match its order count")
        try:
            book = ReferenceOrderBook(tick, lot, min_size, max_size)
        except InvalidInput as exc:
            raise SnapshotError(f"snapshot holds an invalid market config: {exc}") from None
        book._want_deltas = False
        prev_side = _BUY
        prev_price = None
        for oid, account, price, remaining, side, flags in _RECORD.iter_unpack(
                raw[_HEADER.size:]):
            if side != _BUY and side != _SELL:
                raise SnapshotError(f"order {oid}: invalid side {side}")
            if (oid <= 0 or account < 0 or flags & ~_NODE_FLAGS_ALL
                    or (flags & _NODE_STP_MASK) >> _NODE_STP_SHIFT >= _N_STP):
                raise SnapshotError(f"order {oid}: invalid id, account or flags")
            if book._price_code(price) != _OK:
                raise SnapshotError(f"order {oid}: invalid price {price}")
            if remaining <= 0 or remaining % lot != 0 or remaining > max_size:
                raise SnapshotError(f"order {oid}: invalid remaining size {remaining}")
            if side < prev_side or (side == prev_side and prev_price is not None and
                                    (price > prev_price if side == _BUY else price < prev_price)):
                raise SnapshotError("orders are not in canonical book order")
            best_bid = book._best[_BUY]
            if side == _SELL and best_bid is not None and price <= best_bid:
                raise SnapshotError("snapshot describes a crossed book")
            if oid in book._orders:
                raise SnapshotError(f"duplicate order id {oid}")
            prev_side = side
            prev_price = price
            book._rest(oid, account, side, flags, price, remaining)
        book._want_deltas = True
        return book

    def state_hash(self):
        """SHA-256 hex digest of the canonical snapshot: equal for equal books on any machine."""
        return hashlib.sha256(self.snapshot()).hexdigest()

    def __reduce__(self):
        return (ReferenceOrderBook.restore, (self.snapshot(),))
