"""The native order book: one instance per market, price-time priority on an integer tick grid.

Owns resting orders, matching (GTC, IOC, FOK, post-only, market with protection price),
self-trade prevention, cancel/amend, the L2 view, impact prices, the batch loop, snapshots and the
state hash. No Python object exists per resting order: orders live in a C slot pool indexed by an
open-addressing hash, levels in an array over the tick grid with a hierarchical bitset to find the
next non-empty level. It never looks at a clock, a random source or float arithmetic, and a
rejected command (non-zero code) leaves the book exactly as it was. An exchange that owns the book
may install a reduce-only guard (``ReducibleFn`` in _book.pxd): resting reduce-only orders then
fill only what still reduces their account's position and are cancelled past it.
"""

cimport cython
from libc.stdint cimport INT64_MAX, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from perpcore._convert cimport _as_i64
from perpcore._fixedpoint cimport (
    pc_i128, pc_wide, pc_wide_add, pc_wide_le, pc_wide_mul, pc_wide_sub, wide_div_down, wide_div_up,
)

import hashlib

import numpy as np

from perpcore.book_types import (
    CANCEL_DTYPE, COMMAND_DTYPE, DELTA_DTYPE, FILL_DTYPE, PRICE_SCALE_PPM, RESULT_DTYPE,
    BatchResult, BookDelta, CancelledOrder, CancelReason, Depth, ExpireReason, Fill, ImpactPrice,
    Op, SelfTradePrevention, Side, TimeInForce, Trade,
)
from perpcore.book_types import FLAG_REDUCE_ONLY as _FLAG_REDUCE_ONLY
from perpcore.codes import Code
from perpcore.errors import IntegrityError, InvalidInput, InvalidType, SnapshotError

cdef extern from *:
    """
    #ifndef PERPCORE_DEBUG
    #define PERPCORE_DEBUG 0
    #endif
    static inline int pc_ctz64(uint64_t x) { return __builtin_ctzll(x); }
    static inline void pc_prefetch(const void* p) { __builtin_prefetch(p, 1, 3); }
    static inline int pc_msb64(uint64_t x) { return 63 - __builtin_clzll(x); }

    /* Memory of a batch output block (release with free). Plain malloc: asking for transparent
     * huge pages (MADV_HUGEPAGE) made Linux compact memory synchronously on the first faults,
     * which cost a fresh batch several times its matching (337 ms instead of 78 ms for the first
     * 1,000,000 events here); repeated batches reuse their storage instead (the spare buffers). */
    static void* pc_block_alloc(size_t n) {
        return malloc(n > 0 ? n : 1);
    }
    """
    const bint PERPCORE_DEBUG
    int pc_ctz64(uint64_t x) nogil
    void pc_prefetch(const void* p) nogil
    int pc_msb64(uint64_t x) nogil
    void* pc_block_alloc(size_t n) nogil

DEBUG_BUILD = bool(PERPCORE_DEBUG)

# ---------------------------------------------------------------------------------------------
# Constants: C mirrors of the Python vocabulary, compile-time constants so that the C compiler
# folds them into the hot paths. The Python enums stay the definition: _check_constants
# refuses to import a module whose mirror disagrees with them (the per-side arrays are indexed
# by Side: BUY=0, SELL=1).

cdef enum:
    BUY = 0
    SELL = 1
    TIF_GTC = 0
    TIF_IOC = 1
    TIF_FOK = 2
    TIF_POST_ONLY = 3
    TIF_MARKET = 4
    N_TIF = 5
    STP_EXPIRE_MAKER = 0
    STP_EXPIRE_TAKER = 1
    STP_EXPIRE_BOTH = 2
    N_STP = 3
    OP_PLACE = 0
    OP_CANCEL = 1
    OP_AMEND = 2
    OP_CANCEL_ALL = 3
    EXPIRE_NONE = 0
    EXPIRE_UNFILLED_IOC = 1
    EXPIRE_SELF_TRADE = 2
    CANCEL_USER = 0
    CANCEL_SELF_TRADE = 1
    CANCEL_REDUCE_ONLY = 2
    CMD_REDUCE_ONLY = 1
    OK = 0
    E_SIDE = 1001
    E_TIF = 1002
    E_STP = 1003
    E_ORDER_ID = 1004
    E_ACCOUNT = 1005
    E_SIZE_NOT_POSITIVE = 1006
    E_SIZE_OFF_LOT = 1007
    E_SIZE_BELOW_MIN = 1008
    E_SIZE_ABOVE_MAX = 1009
    E_PRICE_RANGE = 1010
    E_PRICE_TICK = 1011
    E_DUPLICATE = 1012
    E_UNKNOWN = 1013
    E_OP = 1014
    E_FLAGS = 1015
    E_POST_ONLY_CROSS = 3001
    E_FOK = 3002
    SCALE = 1000000


cdef int _check_constants() except -1:
    """Each C constant must equal the Python value it mirrors."""
    cdef list mirrors = [
        (BUY, Side.BUY, "BUY"),
        (SELL, Side.SELL, "SELL"),
        (TIF_GTC, TimeInForce.GTC, "TIF_GTC"),
        (TIF_IOC, TimeInForce.IOC, "TIF_IOC"),
        (TIF_FOK, TimeInForce.FOK, "TIF_FOK"),
        (TIF_POST_ONLY, TimeInForce.POST_ONLY, "TIF_POST_ONLY"),
        (TIF_MARKET, TimeInForce.MARKET, "TIF_MARKET"),
        (N_TIF, len(TimeInForce), "N_TIF"),
        (STP_EXPIRE_MAKER, SelfTradePrevention.EXPIRE_MAKER, "STP_EXPIRE_MAKER"),
        (STP_EXPIRE_TAKER, SelfTradePrevention.EXPIRE_TAKER, "STP_EXPIRE_TAKER"),
        (STP_EXPIRE_BOTH, SelfTradePrevention.EXPIRE_BOTH, "STP_EXPIRE_BOTH"),
        (N_STP, len(SelfTradePrevention), "N_STP"),
        (OP_PLACE, Op.PLACE, "OP_PLACE"),
        (OP_CANCEL, Op.CANCEL, "OP_CANCEL"),
        (OP_AMEND, Op.AMEND, "OP_AMEND"),
        (OP_CANCEL_ALL, Op.CANCEL_ALL, "OP_CANCEL_ALL"),
        (EXPIRE_NONE, ExpireReason.NONE, "EXPIRE_NONE"),
        (EXPIRE_UNFILLED_IOC, ExpireReason.UNFILLED_IOC, "EXPIRE_UNFILLED_IOC"),
        (EXPIRE_SELF_TRADE, ExpireReason.SELF_TRADE, "EXPIRE_SELF_TRADE"),
        (CANCEL_USER, CancelReason.USER, "CANCEL_USER"),
        (CANCEL_SELF_TRADE, CancelReason.SELF_TRADE, "CANCEL_SELF_TRADE"),
        (CANCEL_REDUCE_ONLY, CancelReason.REDUCE_ONLY, "CANCEL_REDUCE_ONLY"),
        (CMD_REDUCE_ONLY, _FLAG_REDUCE_ONLY, "CMD_REDUCE_ONLY"),
        (OK, Code.OK, "OK"),
        (E_SIDE, Code.INVALID_SIDE, "E_SIDE"),
        (E_TIF, Code.INVALID_TIME_IN_FORCE, "E_TIF"),
        (E_STP, Code.INVALID_STP, "E_STP"),
        (E_ORDER_ID, Code.INVALID_ORDER_ID, "E_ORDER_ID"),
        (E_ACCOUNT, Code.INVALID_ACCOUNT, "E_ACCOUNT"),
        (E_SIZE_NOT_POSITIVE, Code.SIZE_NOT_POSITIVE, "E_SIZE_NOT_POSITIVE"),
        (E_SIZE_OFF_LOT, Code.SIZE_OFF_LOT, "E_SIZE_OFF_LOT"),
        (E_SIZE_BELOW_MIN, Code.SIZE_BELOW_MINIMUM, "E_SIZE_BELOW_MIN"),
        (E_SIZE_ABOVE_MAX, Code.SIZE_ABOVE_MAXIMUM, "E_SIZE_ABOVE_MAX"),
        (E_PRICE_RANGE, Code.PRICE_OUT_OF_RANGE, "E_PRICE_RANGE"),
        (E_PRICE_TICK, Code.PRICE_OFF_TICK, "E_PRICE_TICK"),
        (E_DUPLICATE, Code.DUPLICATE_ORDER_ID, "E_DUPLICATE"),
        (E_UNKNOWN, Code.UNKNOWN_ORDER_ID, "E_UNKNOWN"),
        (E_OP, Code.INVALID_OP, "E_OP"),
        (E_FLAGS, Code.INVALID_FLAGS, "E_FLAGS"),
        (E_POST_ONLY_CROSS, Code.POST_ONLY_WOULD_CROSS, "E_POST_ONLY_CROSS"),
        (E_FOK, Code.FOK_NOT_FILLABLE, "E_FOK"),
        (SCALE, PRICE_SCALE_PPM, "SCALE"),
    ]
    for c_value, py_value, name in mirrors:
        if c_value != py_value:
            raise ImportError(f"perpcore._book: constant {name} is {c_value} in C but {py_value} "
                              f"in the Python vocabulary")
    return 0


_check_constants()

# resting-order flag bits (internal: the node's own encoding)
cdef enum:
    NODE_POST_ONLY = 1
    NODE_REDUCE_ONLY = 2
    NODE_STP_SHIFT = 2
    NODE_STP_MASK = 12  # 3 << NODE_STP_SHIFT, as a literal: debug builds overflow-check enums
    NODE_FLAGS_ALL = 15

# hard limits: an order's open size fits the node's 32 bits, and every sum stays inside int64
# (2**31 slots times 2**32 contracts < 2**63)
MAX_ORDER_SIZE_LIMIT = (1 << 32) - 1
cdef int32_t MAX_SLOTS = 0x7FFFFFF0
# debug builds: the work the full integrity check may cost per operation, amortised (see
# OrderBook._debug_check_after_op); in levels + table buckets + slots
cdef int64_t DEBUG_CHECK_BUDGET = 8192
cdef enum:
    PREFETCH_FAR = 12
    PREFETCH_NEAR = 5
    HASH_RING = 16  # the batch loop's ring of id hashes: a power of two above PREFETCH_FAR

SNAPSHOT_MAGIC = b"PCBK"
SNAPSHOT_VERSION = 1
cdef Py_ssize_t SNAP_HEADER = 48
cdef Py_ssize_t SNAP_RECORD = 34

_SIDES = (Side.BUY, Side.SELL)
_EXPIRE_REASONS = tuple(ExpireReason)
_CANCEL_REASONS = tuple(CancelReason)


cdef Py_ssize_t _off(void* base, void* field) noexcept:
    return <char*>field - <char*>base


cdef int _check_layouts() except -1:
    """The C records must be byte-identical to book_types' numpy dtypes."""
    cdef CommandRec c
    cdef ResultRec r
    cdef FillRec f
    cdef CancelRec x
    cdef DeltaRec d
    cdef list checks = [
        (COMMAND_DTYPE, sizeof(CommandRec), [
            ("op", _off(&c, &c.op)), ("side", _off(&c, &c.side)), ("tif", _off(&c, &c.tif)),
            ("stp", _off(&c, &c.stp)), ("flags", _off(&c, &c.flags)),
            ("order_id", _off(&c, &c.order_id)), ("account", _off(&c, &c.account)),
            ("price_ppm", _off(&c, &c.price_ppm)), ("size", _off(&c, &c.size))]),
        (RESULT_DTYPE, sizeof(ResultRec), [
            ("code", _off(&r, &r.code)), ("expire_reason", _off(&r, &r.expire_reason)),
            ("order_id", _off(&r, &r.order_id)), ("filled", _off(&r, &r.filled)),
            ("resting", _off(&r, &r.resting)), ("expired", _off(&r, &r.expired)),
            ("n_fills", _off(&r, &r.n_fills)), ("n_cancels", _off(&r, &r.n_cancels))]),
        (FILL_DTYPE, sizeof(FillRec), [
            ("cmd", _off(&f, &f.cmd)), ("taker_order_id", _off(&f, &f.taker_order_id)),
            ("taker_account", _off(&f, &f.taker_account)),
            ("maker_order_id", _off(&f, &f.maker_order_id)),
            ("maker_account", _off(&f, &f.maker_account)), ("price_ppm", _off(&f, &f.price_ppm)),
            ("size", _off(&f, &f.size)), ("maker_remaining", _off(&f, &f.maker_remaining)),
            ("taker_side", _off(&f, &f.taker_side)),
            ("taker_reduce_only", _off(&f, &f.taker_reduce_only)),
            ("maker_reduce_only", _off(&f, &f.maker_reduce_only))]),
        (CANCEL_DTYPE, sizeof(CancelRec), [
            ("cmd", _off(&x, &x.cmd)), ("order_id", _off(&x, &x.order_id)),
            ("account", _off(&x, &x.account)), ("price_ppm", _off(&x, &x.price_ppm)),
            ("size", _off(&x, &x.size)), ("side", _off(&x, &x.side)),
            ("reason", _off(&x, &x.reason))]),
        (DELTA_DTYPE, sizeof(DeltaRec), [
            ("cmd", _off(&d, &d.cmd)), ("price_ppm", _off(&d, &d.price_ppm)),
            ("size", _off(&d, &d.size)), ("side", _off(&d, &d.side))]),
    ]
    for dtype, size, fields in checks:
        if dtype.itemsize != size or [n for n, _ in fields] != list(dtype.names):
            raise ImportError(f"perpcore._book: C record does not match {dtype}")
        for name, offset in fields:
            if dtype.fields[name][1] != offset:
                raise ImportError(f"perpcore._book: field {name} of {dtype} is misplaced")
    return 0


_check_layouts()


# ---------------------------------------------------------------------------------------------
# Argument conversion at the Python boundary (int64 arguments: _as_i64 from _convert.pxd).

cdef inline int _enum_arg(int64_t v) noexcept:
    """An enum argument as a C int; anything out of byte range becomes 255 (invalid)."""
    return <int>v if 0 <= v <= 255 else 255


cdef inline int _as_flag(object value, str name) except -1:
    if value is True:
        return 1
    if value is False:
        return 0
    cdef int64_t v = _as_i64(value, name)
    if v != 0 and v != 1:
        raise InvalidInput(f"{name} must be a bool")
    return <int>v


cdef struct PlaceArgs:
    int64_t order_id
    int64_t account
    int64_t price_ppm
    int64_t size
    int side
    int tif
    int stp
    int flags


cdef inline int _place_args(PlaceArgs* a, object order_id, object account, object side,
                            object price_ppm, object size, object tif, object stp,
                            object reduce_only) except -1:
    """The arguments of a place, converted in their documented order (which error wins)."""
    a.order_id = _as_i64(order_id, "order_id")
    a.account = _as_i64(account, "account")
    a.side = _enum_arg(_as_i64(side, "side"))
    a.price_ppm = _as_i64(price_ppm, "price_ppm")
    a.size = _as_i64(size, "size")
    a.tif = _enum_arg(_as_i64(tif, "tif"))
    a.stp = _enum_arg(_as_i64(stp, "stp"))
    a.flags = _as_flag(reduce_only, "reduce_only")
    return 0


# ---------------------------------------------------------------------------------------------
# Hierarchical bitset

cdef int _bits_init(LevelBits* b, int32_t n) except -1:
    cdef int d = 0
    cdef int64_t words = n
    memset(b, 0, sizeof(LevelBits))
    while True:
        words = (words + 63) // 64
        b.words[d] = <uint64_t*>calloc(words, sizeof(uint64_t))
        if b.words[d] == NULL:
            raise MemoryError()
        b.nwords[d] = <int32_t>words
        d += 1
        if words == 1:
            break
    b.depth = d
    return 0


cdef void _bits_free(LevelBits* b) noexcept:
    cdef int d
    for d in range(4):
        free(b.words[d])
        b.words[d] = NULL


@cython.overflowcheck(False)  # bit masks, not arithmetic: shifts that drop bits are the point
cdef inline void _bits_set(LevelBits* b, int32_t i) noexcept:
    cdef int d
    cdef uint64_t old
    for d in range(b.depth):
        old = b.words[d][i >> 6]
        b.words[d][i >> 6] = old | ((<uint64_t>1) << (i & 63))
        if old != 0:
            return
        i >>= 6


@cython.overflowcheck(False)  # bit masks, not arithmetic: shifts that drop bits are the point
cdef inline void _bits_clear(LevelBits* b, int32_t i) noexcept:
    cdef int d
    cdef uint64_t w
    for d in range(b.depth):
        w = b.words[d][i >> 6] & ~((<uint64_t>1) << (i & 63))
        b.words[d][i >> 6] = w
        if w != 0:
            return
        i >>= 6


cdef inline bint _bits_test(LevelBits* b, int32_t i) noexcept:
    return (b.words[0][i >> 6] >> (i & 63)) & 1


@cython.overflowcheck(False)  # bit masks, not arithmetic: shifts that drop bits are the point
cdef int32_t _bits_next(LevelBits* b, int32_t i) noexcept:
    """Smallest set index >= i, or -1."""
    cdef int d = 0
    cdef int32_t w
    cdef uint64_t m
    if i < 0:
        i = 0
    while d < b.depth:
        w = i >> 6
        if w >= b.nwords[d]:
            return -1
        m = b.words[d][w] & ((~(<uint64_t>0)) << (i & 63))
        if m != 0:
            i = (w << 6) | pc_ctz64(m)
            break
        i = w + 1
        d += 1
    else:
        return -1
    while d > 0:
        d -= 1
        i = (i << 6) | pc_ctz64(b.words[d][i])
    return i


@cython.overflowcheck(False)  # bit masks, not arithmetic: shifts that drop bits are the point
cdef int32_t _bits_prev(LevelBits* b, int32_t i) noexcept:
    """Largest set index <= i, or -1."""
    cdef int d = 0
    cdef int32_t w
    cdef uint64_t m
    if i < 0:
        return -1
    while d < b.depth:
        w = i >> 6
        if w >= b.nwords[d]:
            w = b.nwords[d] - 1
            i = (w << 6) | 63
        m = b.words[d][w] & ((~(<uint64_t>0)) >> (63 - (i & 63)))
        if m != 0:
            i = (w << 6) | pc_msb64(m)
            break
        if w == 0:
            return -1
        i = w - 1
        d += 1
    else:
        return -1
    while d > 0:
        d -= 1
        i = (i << 6) | pc_msb64(b.words[d][i])
    return i


# ---------------------------------------------------------------------------------------------
# Order id hash: splitmix64 finaliser, linear probing, backward-shift deletion (no tombstones).

@cython.overflowcheck(False)  # arithmetic modulo 2**64 is the point of a hash
cdef inline uint64_t _mix(int64_t key) noexcept:
    cdef uint64_t z = <uint64_t>key
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline void _put_i64(uint8_t* p, int64_t v) noexcept:
    cdef uint64_t u = <uint64_t>v
    cdef int k
    for k in range(8):
        p[k] = <uint8_t>(u >> (8 * k))


@cython.overflowcheck(False)  # bit masks, not arithmetic: shifts that drop bits are the point
cdef inline int64_t _get_i64(const uint8_t* p) noexcept:
    cdef uint64_t u = 0
    cdef int k
    for k in range(8):
        u |= (<uint64_t>p[k]) << (8 * k)
    return <int64_t>u


cdef void* _grow(void* ptr, int64_t* cap, size_t item) except NULL:
    cdef int64_t new_cap = cap[0] * 2 if cap[0] > 0 else 64
    cdef void* p = realloc(ptr, new_cap * item)
    if p == NULL:
        raise MemoryError()
    cap[0] = new_cap
    return p


# ---------------------------------------------------------------------------------------------
# Per-call result

@cython.freelist(64)
@cython.final
cdef class Result:
    """What one call did. ``code`` 0 means accepted; any other code means nothing changed.

    ``filled`` / ``resting`` / ``expired`` account for the incoming order's size (place, amend);
    ``fills``, ``cancelled`` (resting orders removed without filling), ``deltas`` (L2 changes) and
    ``trades`` (public prints) list everything the call caused, in order.
    """

    cdef readonly int code
    cdef readonly int64_t order_id
    cdef readonly int64_t filled
    cdef readonly int64_t resting
    cdef readonly int64_t expired
    cdef uint8_t _expire_reason
    cdef int32_t _n_fills
    cdef int32_t _n_cancels
    cdef int32_t _n_deltas
    cdef FillRec* _fills
    cdef CancelRec* _cancels
    cdef DeltaRec* _deltas
    cdef void* _block
    cdef CancelRec _cancel0
    cdef DeltaRec _delta0

    def __dealloc__(self):
        if self._block != NULL:
            free(self._block)
            self._block = NULL

    @property
    def ok(self):
        return self.code == 0

    @property
    def expire_reason(self):
        return _EXPIRE_REASONS[self._expire_reason]

    @property
    def n_fills(self):
        return self._n_fills

    @property
    def fills(self):
        cdef int32_t i
        cdef FillRec* f
        out = []
        for i in range(self._n_fills):
            f = &self._fills[i]
            out.append(Fill(f.taker_order_id, f.taker_account, f.maker_order_id, f.maker_account,
                            _SIDES[f.taker_side], f.price_ppm, f.size, f.maker_remaining,
                            bool(f.taker_reduce_only), bool(f.maker_reduce_only)))
        return tuple(out)

    @property
    def trades(self):
        cdef int32_t i
        return tuple([Trade(self._fills[i].price_ppm, self._fills[i].size,
                            _SIDES[self._fills[i].taker_side]) for i in range(self._n_fills)])

    @property
    def cancelled(self):
        cdef int32_t i
        cdef CancelRec* c
        out = []
        for i in range(self._n_cancels):
            c = &self._cancels[i]
            out.append(CancelledOrder(c.order_id, c.account, _SIDES[c.side], c.price_ppm, c.size,
                                      _CANCEL_REASONS[c.reason]))
        return tuple(out)

    @property
    def deltas(self):
        cdef int32_t i
        return tuple([BookDelta(_SIDES[self._deltas[i].side], self._deltas[i].price_ppm,
                                self._deltas[i].size) for i in range(self._n_deltas)])

    def __repr__(self):
        return (f"Result(code={Code(self.code).name}, order_id={self.order_id}, "
                f"filled={self.filled}, resting={self.resting}, expired={self.expired}, "
                f"expire_reason={self.expire_reason.name}, fills={self._n_fills}, "
                f"cancelled={self._n_cancels}, deltas={self._n_deltas})")


cdef Result _make_result(OrderBook book, int code, int64_t order_id):
    cdef Result r = Result.__new__(Result)
    cdef int64_t nf = book.n_fills, nc = book.n_cancels, nd = book.n_deltas
    cdef char* p
    r.code = code
    r.order_id = order_id
    r.filled = book.out_filled
    r.resting = book.out_resting
    r.expired = book.out_expired
    r._expire_reason = book.out_expire_reason
    r._n_fills = <int32_t>nf
    r._n_cancels = <int32_t>nc
    r._n_deltas = <int32_t>nd
    if nf == 0 and nc <= 1 and nd <= 1:
        if nc:
            r._cancel0 = book.cancels[0]
        if nd:
            r._delta0 = book.deltas[0]
        r._cancels = &r._cancel0
        r._deltas = &r._delta0
        return r
    p = <char*>malloc(nf * sizeof(FillRec) + nc * sizeof(CancelRec) + nd * sizeof(DeltaRec) + 1)
    if p == NULL:
        raise MemoryError()
    r._block = p
    r._fills = <FillRec*>p
    memcpy(p, book.fills, nf * sizeof(FillRec))
    p += nf * sizeof(FillRec)
    r._cancels = <CancelRec*>p
    memcpy(p, book.cancels, nc * sizeof(CancelRec))
    p += nc * sizeof(CancelRec)
    r._deltas = <DeltaRec*>p
    memcpy(p, book.deltas, nd * sizeof(DeltaRec))
    return r


# ---------------------------------------------------------------------------------------------

@cython.final
cdef class OrderBook:
    """A price-time priority limit order book for one market.

    Prices are integer ppm of probability on the grid ``tick_ppm`` (which must divide 1_000_000),
    strictly inside (0, 1_000_000); sizes are integer contracts, multiples of ``lot``, at least
    ``min_size`` and at most ``max_size`` per order. Trades print at the maker's price.
    """

    def __cinit__(self, tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000_000):
        cdef int64_t tick = _as_i64(tick_ppm, "tick_ppm")
        cdef int64_t lot_ = _as_i64(lot, "lot")
        cdef int64_t min_ = _as_i64(min_size, "min_size")
        cdef int64_t max_ = _as_i64(max_size, "max_size")
        if tick <= 0 or SCALE % tick != 0 or tick > SCALE // 2:
            raise InvalidInput(f"tick_ppm={tick} must be positive, at most 500_000 and divide "
                               f"1_000_000")
        if lot_ <= 0:
            raise InvalidInput(f"lot={lot_} must be positive")
        if min_ < lot_ or min_ % lot_ != 0:
            raise InvalidInput(f"min_size={min_} must be a positive multiple of lot={lot_}")
        if max_ < min_ or max_ > MAX_ORDER_SIZE_LIMIT:
            raise InvalidInput(f"max_size={max_} must lie in [min_size, 2**32 - 1]")
        self.tick_ppm = tick
        self.lot = lot_
        self.min_size = min_
        self.max_size = max_
        self.n_levels = <int32_t>(SCALE // tick)
        self.levels = <Level*>calloc(self.n_levels, sizeof(Level))
        if self.levels == NULL:
            raise MemoryError()
        cdef int32_t i
        for i in range(self.n_levels):
            self.levels[i].head = -1
            self.levels[i].tail = -1
        _bits_init(&self.bits[0], self.n_levels)
        _bits_init(&self.bits[1], self.n_levels)
        self.best[0] = -1
        self.best[1] = -1
        self.nodes_cap = 1024
        self.nodes = <OrderNode*>malloc(self.nodes_cap * sizeof(OrderNode))
        self.table_shift = 11
        self.table_mask = (1 << self.table_shift) - 1
        self.table = <IdEntry*>malloc((self.table_mask + 1) * sizeof(IdEntry))
        if self.nodes == NULL or self.table == NULL:
            raise MemoryError()
        memset(self.table, 0xFF, (self.table_mask + 1) * sizeof(IdEntry))
        self.free_head = -1
        self.fills = <FillRec*>_grow(NULL, &self.fills_cap, sizeof(FillRec))
        self.cancels = <CancelRec*>_grow(NULL, &self.cancels_cap, sizeof(CancelRec))
        self.deltas = <DeltaRec*>_grow(NULL, &self.deltas_cap, sizeof(DeltaRec))
        self.want_deltas = True

    def __dealloc__(self):
        free(self.levels)
        _bits_free(&self.bits[0])
        _bits_free(&self.bits[1])
        free(self.nodes)
        free(self.table)
        free(self.fills)
        free(self.cancels)
        free(self.deltas)
        free(self.scan)

    # ------------------------------------------------------------------ slots and the id table

    cdef int32_t _find(self, int64_t order_id) noexcept:
        cdef uint64_t pos
        return self._lookup(order_id, &pos)

    cdef int32_t _lookup(self, int64_t order_id, uint64_t* pos) noexcept:
        """Slot of a live order, or -1; `pos` receives its bucket, or the empty bucket that ends
        the probe (where the id would be inserted)."""
        return self._lookup_h(order_id, _mix(order_id), pos)

    cdef inline int32_t _lookup_h(self, int64_t order_id, uint64_t h, uint64_t* pos) noexcept:
        """_lookup with the id's hash `h` (_mix(order_id)) already computed."""
        cdef uint32_t tag = <uint32_t>(h >> 32)
        cdef uint64_t i = h >> (64 - self.table_shift)
        cdef IdEntry* e
        while True:
            e = &self.table[i]
            if e.slot == -1 or (e.tag == tag and self.nodes[e.slot].order_id == order_id):
                pos[0] = i
                return e.slot
            i = (i + 1) & self.table_mask

    cdef void _table_delete_at(self, uint64_t pos) noexcept:
        """Empty bucket `pos`, shifting later members of its cluster back (no tombstones)."""
        cdef uint64_t mask = self.table_mask
        cdef uint64_t i = pos, j = pos, home
        cdef int shift = 32 - self.table_shift
        while True:
            j = (j + 1) & mask
            if self.table[j].slot == -1:
                break
            home = self.table[j].tag >> shift
            # the entry at j may move back to the hole at i unless its home lies in (i, j]
            if (i <= j and (i < home <= j)) or (i > j and (home > i or home <= j)):
                continue
            self.table[i] = self.table[j]
            i = j
        self.table[i].slot = -1

    cdef int _grow_table(self) except -1:
        cdef IdEntry* old = self.table
        cdef uint64_t old_size = self.table_mask + 1, k, i
        cdef IdEntry* t = <IdEntry*>malloc(old_size * 2 * sizeof(IdEntry))
        if t == NULL:
            raise MemoryError()
        if self.table_shift >= 31:
            free(t)
            raise MemoryError("order id table is full")
        memset(t, 0xFF, old_size * 2 * sizeof(IdEntry))
        self.table = t
        self.table_shift += 1
        self.table_mask = old_size * 2 - 1
        for k in range(old_size):
            if old[k].slot != -1:
                i = old[k].tag >> (32 - self.table_shift)
                while t[i].slot != -1:
                    i = (i + 1) & self.table_mask
                t[i] = old[k]
        free(old)
        return 0

    cdef int32_t _alloc_slot(self) except -1:
        cdef int32_t s
        cdef int64_t new_cap
        cdef OrderNode* p
        if self.free_head != -1:
            s = self.free_head
            self.free_head = self.nodes[s].next
            return s
        if self.nodes_used == self.nodes_cap:
            new_cap = self.nodes_cap + self.nodes_cap // 2
            if new_cap > MAX_SLOTS:
                raise MemoryError("order book is full")
            p = <OrderNode*>realloc(self.nodes, new_cap * sizeof(OrderNode))
            if p == NULL:
                raise MemoryError()
            self.nodes = p
            self.nodes_cap = <int32_t>new_cap
        s = self.nodes_used
        self.nodes_used += 1
        return s

    # ------------------------------------------------------------------ batch prefetching
    # The batch loop knows the commands ahead: it hashes each command's id once, PREFETCH_FAR
    # commands early, asks for the id's hash bucket then and, once that bucket is likely cached,
    # for the live order a cancel or amend names and its level PREFETCH_NEAR commands early, so
    # lookups and unlinks find their lines in cache.

    cdef inline void _prefetch_bucket(self, uint64_t h) noexcept:
        pc_prefetch(&self.table[h >> (64 - self.table_shift)])

    cdef inline void _prefetch_order(self, uint64_t h) noexcept:
        cdef IdEntry* e = &self.table[h >> (64 - self.table_shift)]
        cdef OrderNode* n
        if e.slot != -1 and e.tag == <uint32_t>(h >> 32):
            n = &self.nodes[e.slot]
            pc_prefetch(n)
            pc_prefetch(&self.levels[n.level])

    # ------------------------------------------------------------------ output buffers

    cdef void* _grow_output(self, void* ptr, int64_t* cap, size_t item, int kind) except NULL:
        """Double an output buffer: the book's own between calls, the batch's blocks in process."""
        if self.batch_out is None:
            return _grow(ptr, cap, item)
        return (<BatchBuffers>self.batch_out).grow(kind, cap, item)

    cdef void reset_outputs(self) noexcept:
        self.n_fills = 0
        self.n_cancels = 0
        self.n_deltas = 0
        self.delta_floor = 0
        self.cur_cmd = 0

    cdef void begin_command(self, int64_t cmd) noexcept:
        self.cur_cmd = cmd
        self.delta_floor = self.n_deltas
        self.out_filled = 0
        self.out_resting = 0
        self.out_expired = 0
        self.out_expire_reason = EXPIRE_NONE

    cdef int _emit_fill(self, int32_t slot, int64_t taker_order_id, int64_t taker_account,
                        int taker_side, int taker_flags, int64_t price_ppm,
                        int64_t size) except -1:
        """Record a fill against the maker in node `slot`."""
        cdef OrderNode* maker = &self.nodes[slot]
        cdef FillRec* f
        if self.n_fills == self.fills_cap:
            self.fills = <FillRec*>self._grow_output(self.fills, &self.fills_cap,
                                                    sizeof(FillRec), KIND_FILLS)
        f = &self.fills[self.n_fills]
        self.n_fills += 1
        memset(f, 0, sizeof(FillRec))  # padding too: output rows compare bytewise
        f.cmd = self.cur_cmd
        f.taker_order_id = taker_order_id
        f.taker_account = taker_account
        f.maker_order_id = maker.order_id
        f.maker_account = maker.account
        f.price_ppm = price_ppm
        f.size = size
        f.maker_remaining = maker.remaining
        f.taker_side = <uint8_t>taker_side
        f.taker_reduce_only = (taker_flags & NODE_REDUCE_ONLY) != 0
        f.maker_reduce_only = (maker.flags & NODE_REDUCE_ONLY) != 0
        if self.report_slots:
            f.maker_slot = slot
        return 0

    cdef int _emit_cancel(self, int32_t slot, int reason) except -1:
        """Record that the order in node `slot` leaves the book unfilled."""
        cdef OrderNode* node = &self.nodes[slot]
        cdef CancelRec* c
        if self.n_cancels == self.cancels_cap:
            self.cancels = <CancelRec*>self._grow_output(self.cancels, &self.cancels_cap,
                                                    sizeof(CancelRec), KIND_CANCELS)
        c = &self.cancels[self.n_cancels]
        self.n_cancels += 1
        memset(c, 0, sizeof(CancelRec))
        c.cmd = self.cur_cmd
        c.order_id = node.order_id
        c.account = node.account
        c.price_ppm = node.level * self.tick_ppm
        c.size = node.remaining
        c.side = node.side
        c.reason = <uint8_t>reason
        if self.report_slots:
            c.slot = slot
        return 0

    cdef int _emit_delta(self, int side, int32_t level) except -1:
        cdef DeltaRec* d
        cdef int64_t price = level * self.tick_ppm
        if not self.want_deltas:
            return 0
        if self.n_deltas > self.delta_floor:
            d = &self.deltas[self.n_deltas - 1]
            if d.side == side and d.price_ppm == price:
                d.size = self.levels[level].total
                return 0
        if self.n_deltas == self.deltas_cap:
            self.deltas = <DeltaRec*>self._grow_output(self.deltas, &self.deltas_cap,
                                                    sizeof(DeltaRec), KIND_DELTAS)
        d = &self.deltas[self.n_deltas]
        self.n_deltas += 1
        memset(d, 0, sizeof(DeltaRec))
        d.cmd = self.cur_cmd
        d.side = <uint8_t>side
        d.price_ppm = price
        d.size = self.levels[level].total
        return 0

    # ------------------------------------------------------------------ queue mechanics

    cdef int _rest(self, int64_t order_id, uint64_t h, int64_t account, int side, int node_flags,
                   int32_t level, int64_t size, int64_t table_pos) except -1:
        """Queue a new order at the back of `level`; `h` is _mix(order_id). `table_pos` is the
        id's empty bucket from a `_lookup` with no table change since, or -1 to probe for it."""
        cdef int32_t s
        cdef OrderNode* n
        cdef Level* L = &self.levels[level]
        cdef uint64_t pos
        if (<uint64_t>(self.n_live + 1)) * 8 > (self.table_mask + 1) * 5:  # load factor <= 5/8
            self._grow_table()
            table_pos = -1
        s = self._alloc_slot()
        if table_pos < 0:
            pos = h >> (64 - self.table_shift)
            while self.table[pos].slot != -1:
                pos = (pos + 1) & self.table_mask
        else:
            pos = <uint64_t>table_pos
        self.table[pos].tag = <uint32_t>(h >> 32)
        self.table[pos].slot = s
        n = &self.nodes[s]
        n.order_id = order_id
        n.account = account
        n.remaining = <uint32_t>size
        n.level = <uint32_t>level
        n.side = <uint32_t>side
        n.flags = <uint32_t>node_flags
        n.next = -1
        n.prev = L.tail
        if L.tail != -1:
            self.nodes[L.tail].next = s
        else:
            L.head = s
            _bits_set(&self.bits[side], level)
            if side == BUY:
                if level > self.best[BUY]:
                    self.best[BUY] = level
            elif self.best[SELL] == -1 or level < self.best[SELL]:
                self.best[SELL] = level
        L.tail = s
        L.count += 1
        L.total += size
        self.n_live += 1
        self.out_resting = size
        self.out_slot = s
        self._emit_delta(side, level)
        return 0

    cdef void _unlink(self, int32_t slot, int64_t table_pos) noexcept:
        """Remove a live order from its queue, the id table and the pool (no records emitted).
        `table_pos` is its bucket if known, else -1."""
        cdef OrderNode* n = &self.nodes[slot]
        cdef uint64_t pos
        cdef int32_t level = n.level
        cdef int side = n.side
        cdef Level* L = &self.levels[level]
        if n.prev != -1:
            self.nodes[n.prev].next = n.next
        else:
            L.head = n.next
        if n.next != -1:
            self.nodes[n.next].prev = n.prev
        else:
            L.tail = n.prev
        L.count -= 1
        L.total -= n.remaining
        if table_pos < 0:
            self._lookup(n.order_id, &pos)
        else:
            pos = <uint64_t>table_pos
        self._table_delete_at(pos)
        n.next = self.free_head
        self.free_head = slot
        self.n_live -= 1
        if L.count == 0:
            _bits_clear(&self.bits[side], level)
            if self.best[side] == level:
                if side == BUY:
                    self.best[BUY] = _bits_prev(&self.bits[BUY], level - 1)
                else:
                    self.best[SELL] = _bits_next(&self.bits[SELL], level + 1)

    # ------------------------------------------------------------------ matching

    cdef bint _crosses(self, int side, int32_t level, int32_t limit) noexcept:
        return level <= limit if side == BUY else level >= limit

    cdef int _fok_fillable(self, int64_t account, int side, int stp, int32_t limit,
                           int64_t size) except -1:
        """1 if matching would fill `size` in full, else 0: own orders count per the STP mode and,
        under a reduce-only guard, a reduce-only maker only up to what _match would let it fill."""
        cdef int opp = 1 - side
        cdef int32_t level = self.best[opp]
        cdef int32_t s
        cdef OrderNode* n
        cdef int64_t need = size, take, used, k, n_scan = 0
        cdef void* p
        while level != -1 and self._crosses(side, level, limit):
            s = self.levels[level].head
            while s != -1:
                n = &self.nodes[s]
                if n.account == account:
                    if stp != STP_EXPIRE_MAKER:
                        return 0
                else:
                    take = n.remaining
                    if self.reducible != NULL:
                        if n.flags & NODE_REDUCE_ONLY:
                            used = 0  # what this account's earlier makers in the sweep took
                            for k in range(n_scan):
                                if self.scan[2 * k] == n.account:
                                    used += self.scan[2 * k + 1]
                            take = min(take, max(
                                self.reducible(self.reducible_ctx, s, opp) - used, 0))
                        if n_scan == self.scan_cap:
                            p = _grow(self.scan, &self.scan_cap, 2 * sizeof(int64_t))
                            self.scan = <int64_t*>p
                        self.scan[2 * n_scan] = n.account
                        self.scan[2 * n_scan + 1] = take
                        n_scan += 1
                    need -= take
                    if need <= 0:
                        return 1
                s = n.next
            if opp == SELL:
                level = _bits_next(&self.bits[SELL], level + 1)
            else:
                level = _bits_prev(&self.bits[BUY], level - 1)
        return 0

    cdef int64_t _reducible_now(self, int32_t slot, int64_t fill_floor) noexcept:
        """What the reduce-only maker in node `slot` may fill now: its account's reducible size
        before the command, less what the account's makers have filled since `fill_floor` (never
        negative)."""
        cdef OrderNode* maker = &self.nodes[slot]
        cdef int64_t k, left = self.reducible(self.reducible_ctx, slot, maker.side)
        for k in range(fill_floor, self.n_fills):
            if self.fills[k].maker_account == maker.account:
                left -= self.fills[k].size
        return left if left > 0 else 0

    cdef int _match(self, int64_t order_id, int64_t account, int side, int stp, int node_flags,
                    int32_t limit, int64_t size, int64_t* remaining) except -1:
        """Take liquidity up to `limit`; returns 1 if self-trade prevention stopped the taker."""
        cdef int opp = 1 - side
        cdef int32_t level, s, nxt
        cdef Level* L
        cdef OrderNode* m
        cdef int64_t rem = size, q, price, left, fill_floor = self.n_fills
        cdef bint changed, taker_stopped = False, cut
        while rem > 0:
            level = self.best[opp]
            if level == -1 or not self._crosses(side, level, limit):
                break
            L = &self.levels[level]
            price = level * self.tick_ppm
            changed = False
            s = L.head
            while s != -1 and rem > 0:
                m = &self.nodes[s]
                nxt = m.next
                if m.account == account:
                    if stp == STP_EXPIRE_TAKER:
                        taker_stopped = True
                        break
                    self._emit_cancel(s, CANCEL_SELF_TRADE)
                    self._unlink(s, -1)
                    changed = True
                    if stp == STP_EXPIRE_BOTH:
                        taker_stopped = True
                        break
                    s = nxt
                    continue
                q = m.remaining if m.remaining < rem else rem
                cut = False
                if self.reducible != NULL and m.flags & NODE_REDUCE_ONLY:
                    left = self._reducible_now(s, fill_floor)
                    if left < q:  # it would open exposure: fill what still reduces, drop the rest
                        q = left
                        cut = True
                changed = True
                if q > 0:
                    m.remaining -= q
                    L.total -= q
                    rem -= q
                    self._emit_fill(s, order_id, account, side, node_flags, price, q)
                if cut:
                    self._emit_cancel(s, CANCEL_REDUCE_ONLY)
                    self._unlink(s, -1)
                elif m.remaining == 0:
                    self._unlink(s, -1)
                s = nxt
            if changed:
                self._emit_delta(opp, level)
            if taker_stopped:
                break
        self.out_filled += size - rem
        remaining[0] = rem
        return 1 if taker_stopped else 0

    @cython.cdivision(True)  # operands are positive once the sign checks above them pass
    cdef int _validate_size(self, int64_t size) noexcept:
        if size <= 0:
            return E_SIZE_NOT_POSITIVE
        if self.lot != 1 and size % self.lot != 0:
            return E_SIZE_OFF_LOT
        if size < self.min_size:
            return E_SIZE_BELOW_MIN
        if size > self.max_size:
            return E_SIZE_ABOVE_MAX
        return OK

    @cython.cdivision(True)
    cdef int _validate_price(self, int64_t price_ppm, int32_t* level) noexcept:
        """Code for a limit price; on OK `level` receives its tick index."""
        if price_ppm <= 0 or price_ppm >= SCALE:
            return E_PRICE_RANGE
        level[0] = <int32_t>(price_ppm / self.tick_ppm)
        if level[0] * self.tick_ppm != price_ppm:
            return E_PRICE_TICK
        return OK

    cdef int _validate_place(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                             int flags, int64_t price_ppm, int64_t size, int32_t* limit,
                             uint64_t* pos) noexcept:
        """The 1xxx checks of a place, in order; on OK, ``limit`` is the limit's tick index and
        ``pos`` the id table position where the new order goes."""
        return self._validate_place_h(order_id, _mix(order_id), account, side, tif, stp, flags,
                                      price_ppm, size, limit, pos)

    cdef inline int _validate_place_h(self, int64_t order_id, uint64_t h, int64_t account,
                                      int side, int tif, int stp, int flags, int64_t price_ppm,
                                      int64_t size, int32_t* limit, uint64_t* pos) noexcept:
        """_validate_place with the id's hash `h` (_mix(order_id)) already computed."""
        cdef int code
        if side != BUY and side != SELL:
            return E_SIDE
        if tif < 0 or tif >= N_TIF:
            return E_TIF
        if stp < 0 or stp >= N_STP:
            return E_STP
        if flags & ~CMD_REDUCE_ONLY:
            return E_FLAGS
        if order_id <= 0:
            return E_ORDER_ID
        if account < 0:
            return E_ACCOUNT
        code = self._validate_size(size)
        if code != OK:
            return code
        if tif == TIF_MARKET and price_ppm == 0:
            limit[0] = self.n_levels if side == BUY else 0
        else:
            code = self._validate_price(price_ppm, limit)
            if code != OK:
                return code
        if self._lookup_h(order_id, h, pos) != -1:
            return E_DUPLICATE
        return OK

    cdef int place_c(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                     int flags, int64_t price_ppm, int64_t size) except -1:
        return self._place(order_id, _mix(order_id), account, side, tif, stp, flags, price_ppm,
                           size)

    cdef int _place(self, int64_t order_id, uint64_t h, int64_t account, int side, int tif,
                    int stp, int flags, int64_t price_ppm, int64_t size) except -1:
        """place_c with the id's hash `h` (_mix(order_id)) already computed."""
        cdef int code
        cdef int32_t limit = 0
        cdef uint64_t pos
        code = self._validate_place_h(order_id, h, account, side, tif, stp, flags, price_ppm,
                                      size, &limit, &pos)
        if code != OK:
            return code
        return self._place_valid(order_id, h, account, side, tif, stp, flags, size, limit, pos)

    cdef int place_valid_c(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                           int flags, int64_t size, int32_t limit, uint64_t pos) except -1:
        """place_c of an order _validate_place just accepted, giving `limit` and `pos`, with no
        change to the book since: the checks are not run twice."""
        return self._place_valid(order_id, _mix(order_id), account, side, tif, stp, flags, size,
                                 limit, pos)

    cdef int _place_valid(self, int64_t order_id, uint64_t h, int64_t account, int side, int tif,
                          int stp, int flags, int64_t size, int32_t limit,
                          uint64_t pos) except -1:
        """Match and rest a validated order (see place_valid_c)."""
        cdef int node_flags, stopped = 0
        cdef int32_t best_opp, live_before
        cdef int64_t rem = size
        cdef bint crosses
        node_flags = stp << NODE_STP_SHIFT
        if flags & CMD_REDUCE_ONLY:
            node_flags |= NODE_REDUCE_ONLY
        best_opp = self.best[1 - side]
        crosses = best_opp != -1 and self._crosses(side, best_opp, limit)
        if tif == TIF_POST_ONLY:
            node_flags |= NODE_POST_ONLY
            if crosses:
                return E_POST_ONLY_CROSS
        elif tif == TIF_FOK:
            if self._fok_fillable(account, side, stp, limit, size) == 0:
                return E_FOK
        if crosses:
            live_before = self.n_live
            stopped = self._match(order_id, account, side, stp, node_flags, limit, size, &rem)
            if self.n_live != live_before:
                pos = <uint64_t>-1  # orders left the table: the probe must run again
        if rem > 0:
            if stopped:
                self.out_expired = rem
                self.out_expire_reason = EXPIRE_SELF_TRADE
            elif tif == TIF_GTC or tif == TIF_POST_ONLY:
                self._rest(order_id, h, account, side, node_flags, limit, rem, <int64_t>pos)
            else:
                self.out_expired = rem
                self.out_expire_reason = EXPIRE_UNFILLED_IOC
        if PERPCORE_DEBUG:
            self._debug_check_after_op()
        return OK

    cdef int cancel_c(self, int64_t order_id) except -1:
        return self._cancel(order_id, _mix(order_id))

    cdef int _cancel(self, int64_t order_id, uint64_t h) except -1:
        """cancel_c with the id's hash `h` (_mix(order_id)) already computed."""
        cdef uint64_t pos
        cdef int32_t s = self._lookup_h(order_id, h, &pos)
        cdef int side
        cdef int32_t level
        if s == -1:
            return E_UNKNOWN
        side = self.nodes[s].side
        level = self.nodes[s].level
        self._emit_cancel(s, CANCEL_USER)
        self._unlink(s, <int64_t>pos)
        self._emit_delta(side, level)
        if PERPCORE_DEBUG:
            self._debug_check_after_op()
        return OK

    cdef int amend_c(self, int64_t order_id, int64_t size, int64_t price_ppm) except -1:
        cdef uint64_t pos
        cdef int32_t s = self._lookup(order_id, &pos)
        cdef int32_t level, new_level = 0
        cdef OrderNode* n
        cdef int code, side, node_flags, stopped
        cdef int64_t account, rem
        if s == -1:
            return E_UNKNOWN
        n = &self.nodes[s]
        code = self._validate_size(size)
        if code != OK and code != E_SIZE_BELOW_MIN:  # the minimum binds only a re-queued order
            return code
        level = n.level
        if price_ppm == 0:
            new_level = level
        else:
            code = self._validate_price(price_ppm, &new_level)
            if code != OK:
                return code
        side = n.side
        if new_level == level and size <= n.remaining:
            # same price, not larger: shrink in place and keep queue priority
            self.levels[level].total -= n.remaining - size
            if size != n.remaining:
                n.remaining = <uint32_t>size
                self._emit_delta(side, level)
            self.out_resting = size
            if PERPCORE_DEBUG:
                self._debug_check_after_op()
            return OK
        # a new price or a larger size: the order loses its place and is submitted again
        if size < self.min_size:
            return E_SIZE_BELOW_MIN
        node_flags = n.flags
        if (node_flags & NODE_POST_ONLY) and self.best[1 - side] != -1 and \
                self._crosses(side, self.best[1 - side], new_level):
            return E_POST_ONLY_CROSS
        account = n.account
        self._unlink(s, <int64_t>pos)
        self._emit_delta(side, level)
        stopped = self._match(order_id, account, side, (node_flags & NODE_STP_MASK) >> NODE_STP_SHIFT,
                              node_flags, new_level, size, &rem)
        if rem > 0:
            if stopped:
                self.out_expired = rem
                self.out_expire_reason = EXPIRE_SELF_TRADE
            else:
                self._rest(order_id, _mix(order_id), account, side, node_flags, new_level, rem,
                           -1)
        if PERPCORE_DEBUG:
            self._debug_check_after_op()
        return OK

    cdef int cancel_all_c(self, int64_t account) except -1:
        cdef int side
        cdef int32_t level, s, nxt
        cdef bint changed
        if account < 0:
            return E_ACCOUNT
        for side in range(2):
            level = self.best[side]
            while level != -1:
                changed = False
                s = self.levels[level].head
                while s != -1:
                    nxt = self.nodes[s].next
                    if self.nodes[s].account == account:
                        self._emit_cancel(s, CANCEL_USER)
                        self._unlink(s, -1)
                        changed = True
                    s = nxt
                if changed:
                    self._emit_delta(side, level)
                if side == BUY:
                    level = _bits_prev(&self.bits[BUY], level - 1)
                else:
                    level = _bits_next(&self.bits[SELL], level + 1)
        if PERPCORE_DEBUG:
            self._debug_check_after_op()
        return OK

    cdef bint impact_c(self, int side, int64_t notional_qq, int64_t* price_ppm) except -1:
        """Average price of sweeping `notional_qq` through book side `side`.

        The last level may be consumed in part (a fraction of a contract counts). Bids round the
        average down and asks round it up: the sweeping taker's side of every rounding. Returns
        False (price untouched) when the side holds less than the notional.
        """
        cdef int32_t level = self.best[side]
        cdef int64_t p
        cdef int64_t contracts = 0  # < 2**63: at most 2**31 orders of at most 2**32 each
        cdef pc_i128 need = pc_wide(notional_qq), swept = pc_wide(0)
        cdef pc_i128 level_notional, rest, num, den
        if level == -1:
            return False
        if notional_qq == 0:
            price_ppm[0] = level * self.tick_ppm
            return True
        while level != -1:
            p = level * self.tick_ppm
            level_notional = pc_wide_mul(self.levels[level].total, p)
            rest = pc_wide_sub(need, swept)
            if pc_wide_le(rest, level_notional):
                # average = notional / (contracts + rest / p) = notional * p / (contracts * p + rest)
                num = pc_wide_mul(notional_qq, p)
                den = pc_wide_add(pc_wide_mul(contracts, p), rest)
                price_ppm[0] = wide_div_down(num, den) if side == BUY else wide_div_up(num, den)
                return True
            swept = pc_wide_add(swept, level_notional)
            contracts += self.levels[level].total
            if side == BUY:
                level = _bits_prev(&self.bits[BUY], level - 1)
            else:
                level = _bits_next(&self.bits[SELL], level + 1)
        return False

    # ------------------------------------------------------------------ integrity

    cdef int _debug_check_after_op(self) except -1:
        """Debug builds: keep the full integrity check's cost near DEBUG_CHECK_BUDGET per operation.

        The full check walks every level, table bucket and slot, so on a large book (a fine tick
        grid, 100k resting orders) checking after every operation would make the suite quadratic.
        Books within the budget are checked after every operation; larger ones after operation
        1, 1 + k, 1 + 2k, ... with k = cost // budget + 1, which bounds the amortised cost.
        """
        cdef int64_t cost = self.n_levels + <int64_t>self.table_mask + 1 + self.nodes_used
        cdef int64_t period = cost // DEBUG_CHECK_BUDGET + 1
        if self.debug_ops % period == 0:
            self.check_integrity_c()
        self.debug_ops += 1
        return 0

    cdef int check_integrity_c(self) except -1:
        cdef int side
        cdef int32_t level, s, prev, found_best
        cdef int64_t total, live = 0, free_count = 0
        cdef int32_t count
        cdef OrderNode* n
        cdef uint64_t k
        cdef int64_t table_entries = 0
        for side in range(2):
            found_best = -1
            for level in range(self.n_levels):
                s = self.levels[level].head
                if s == -1 or self.nodes[s].side != side:
                    if _bits_test(&self.bits[side], level):
                        raise IntegrityError(f"bitset marks empty level {level} on side {side}")
                    continue
                if not _bits_test(&self.bits[side], level):
                    raise IntegrityError(f"bitset misses non-empty level {level}")
                if level == 0:
                    raise IntegrityError("an order rests at price 0")
                if side == BUY or found_best == -1:
                    found_best = level
                total = 0
                count = 0
                prev = -1
                while s != -1:
                    n = &self.nodes[s]
                    if n.prev != prev or n.level != level or n.side != side:
                        raise IntegrityError(f"queue links broken at level {level}")
                    if n.remaining == 0 or n.remaining % self.lot != 0:
                        raise IntegrityError(f"order {n.order_id} has remaining {n.remaining}")
                    if n.order_id <= 0 or n.account < 0 or n.flags & ~NODE_FLAGS_ALL:
                        raise IntegrityError(f"order {n.order_id} has invalid fields")
                    if self._find(n.order_id) != s:
                        raise IntegrityError(f"order {n.order_id} is not found by its id")
                    total += n.remaining
                    count += 1
                    prev = s
                    s = n.next
                if self.levels[level].tail != prev or self.levels[level].count != count or \
                        self.levels[level].total != total:
                    raise IntegrityError(f"level {level} aggregates disagree with its queue")
                live += count
            if found_best != self.best[side]:
                raise IntegrityError(f"best level of side {side} is {self.best[side]}, "
                                     f"expected {found_best}")
        for level in range(self.n_levels):
            if self.levels[level].head == -1 and (self.levels[level].count != 0 or
                                                   self.levels[level].total != 0 or
                                                   self.levels[level].tail != -1):
                raise IntegrityError(f"empty level {level} has stale aggregates")
        if self.best[BUY] != -1 and self.best[SELL] != -1 and self.best[BUY] >= self.best[SELL]:
            raise IntegrityError("the book is crossed")
        if live != self.n_live:
            raise IntegrityError(f"{live} orders in queues but n_live is {self.n_live}")
        for k in range(self.table_mask + 1):
            if self.table[k].slot != -1:
                table_entries += 1
        if table_entries != live:
            raise IntegrityError(f"id table holds {table_entries} entries for {live} orders")
        s = self.free_head
        while s != -1:
            free_count += 1
            if free_count > self.nodes_used:
                raise IntegrityError("free list has a cycle")
            s = self.nodes[s].next
        if free_count + live != self.nodes_used:
            raise IntegrityError("slot pool leaks: free + live != used")
        return 0

    # ================================================================== Python API

    def place(self, order_id, account, side, price_ppm, size, tif=0, stp=0, reduce_only=False):
        """Submit an order; returns a Result.

        ``side``: Side; ``price_ppm``: limit price on the tick grid (for TimeInForce.MARKET the
        protection price, or 0 for none); ``tif``: TimeInForce; ``stp``: SelfTradePrevention;
        ``reduce_only`` is carried through to fills (the exchange layer enforces it).
        """
        cdef PlaceArgs a
        _place_args(&a, order_id, account, side, price_ppm, size, tif, stp, reduce_only)
        self.reset_outputs()
        self.begin_command(0)
        return _make_result(self, self.place_c(a.order_id, a.account, a.side, a.tif, a.stp,
                                               a.flags, a.price_ppm, a.size), a.order_id)

    def check_place(self, order_id, account, side, price_ppm, size, tif=0, stp=0,
                    reduce_only=False):
        """The code ``place`` would return for these arguments before meeting the book: 0 if the
        order is valid for this market (a 3xxx outcome such as a post-only cross can still follow),
        else its 1xxx code. Changes nothing; lets a caller run its own checks in between."""
        cdef PlaceArgs a
        cdef int32_t limit = 0
        cdef uint64_t pos
        _place_args(&a, order_id, account, side, price_ppm, size, tif, stp, reduce_only)
        return self._validate_place(a.order_id, a.account, a.side, a.tif, a.stp, a.flags,
                                    a.price_ppm, a.size, &limit, &pos)

    def cancel(self, order_id):
        """Cancel a live order by id; UNKNOWN_ORDER_ID if none is live."""
        cdef int64_t oid = _as_i64(order_id, "order_id")
        self.reset_outputs()
        self.begin_command(0)
        return _make_result(self, self.cancel_c(oid), oid)

    def amend(self, order_id, size, price_ppm=None):
        """Change a live order's open size and/or price.

        A smaller size at the same price keeps queue priority; a new price or a larger size
        re-queues the order at the back of its (new) level, and a new price that crosses trades at
        once like a fresh GTC order (a post-only order that would cross is rejected unchanged).
        ``price_ppm=None`` keeps the price.
        """
        cdef int64_t oid = _as_i64(order_id, "order_id")
        cdef int64_t sz = _as_i64(size, "size")
        cdef int64_t price = 0
        if price_ppm is not None:
            price = _as_i64(price_ppm, "price_ppm")
            if price == 0:
                price = -1  # 0 is the batch encoding of "keep"; here it is out of range
        self.reset_outputs()
        self.begin_command(0)
        return _make_result(self, self.amend_c(oid, sz, price), oid)

    def cancel_all(self, account):
        """Cancel every live order of an account (bids best first, then asks best first)."""
        cdef int64_t acct = _as_i64(account, "account")
        self.reset_outputs()
        self.begin_command(0)
        return _make_result(self, self.cancel_all_c(acct), 0)

    def process(self, commands, *, deltas=False, out=None):
        """Run a numpy array of COMMAND_DTYPE commands through the book in one C loop.

        Same semantics as the per-call methods, command by command. Returns a BatchResult: one
        RESULT_DTYPE row per command, and the fills, cancellations and (if ``deltas``) L2 deltas
        of the whole batch, each row tagged with its command index. With ``out`` (BatchBuffers)
        the arrays are views of that reusable storage instead of fresh allocations; without it,
        the storage of an earlier call whose arrays are all gone is reused (never storage an
        array still views).
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
        cdef object arr = np.ascontiguousarray(commands)
        cdef Py_ssize_t n = arr.shape[0], i
        cdef const uint8_t[::1] raw_in = arr.view(np.uint8) if n else None
        cdef const CommandRec* cmds = <const CommandRec*>&raw_in[0] if n else NULL
        cdef const CommandRec* cmd
        cdef BatchBuffers buffers = _take_spare_buffers() if out is None else out
        cdef ResultRec* res = <ResultRec*>buffers.reserve(KIND_RESULTS, n, sizeof(ResultRec))
        cdef int code
        cdef int64_t f0, c0
        cdef uint64_t h
        cdef uint64_t hashes[HASH_RING]  # hashes[k % HASH_RING]: _mix(cmds[k].order_id)
        cdef FillRec* own_fills = self.fills
        cdef CancelRec* own_cancels = self.cancels
        cdef DeltaRec* own_deltas = self.deltas
        cdef int64_t own_fills_cap = self.fills_cap, own_cancels_cap = self.cancels_cap
        cdef int64_t own_deltas_cap = self.deltas_cap
        # outputs go straight into the batch's blocks, sized generously up front: pages that are
        # never written are never faulted in, so a large reservation costs nothing
        self.fills = <FillRec*>buffers.reserve(KIND_FILLS, n + 64, sizeof(FillRec))
        self.fills_cap = buffers.capacity(KIND_FILLS, sizeof(FillRec))
        self.cancels = <CancelRec*>buffers.reserve(KIND_CANCELS, n + 64, sizeof(CancelRec))
        self.cancels_cap = buffers.capacity(KIND_CANCELS, sizeof(CancelRec))
        self.deltas = <DeltaRec*>buffers.reserve(KIND_DELTAS, 2 * n + 64 if deltas else 64,
                                                 sizeof(DeltaRec))
        self.deltas_cap = buffers.capacity(KIND_DELTAS, sizeof(DeltaRec))
        self.batch_out = buffers
        self.reset_outputs()
        self.want_deltas = bool(deltas)
        for i in range(min(n, PREFETCH_FAR)):
            hashes[i] = _mix(cmds[i].order_id)
        try:
            for i in range(n):
                cmd = cmds + i
                if i + PREFETCH_FAR < n:
                    h = _mix(cmd[PREFETCH_FAR].order_id)
                    hashes[(i + PREFETCH_FAR) & (HASH_RING - 1)] = h
                    self._prefetch_bucket(h)
                if i + PREFETCH_NEAR < n and cmd[PREFETCH_NEAR].op != OP_PLACE:  # a live id
                    self._prefetch_order(hashes[(i + PREFETCH_NEAR) & (HASH_RING - 1)])
                h = hashes[i & (HASH_RING - 1)]
                self.begin_command(i)
                f0 = self.n_fills
                c0 = self.n_cancels
                if cmd.op == OP_PLACE:
                    code = self._place(cmd.order_id, h, cmd.account, cmd.side, cmd.tif, cmd.stp,
                                       cmd.flags, cmd.price_ppm, cmd.size)
                elif cmd.op == OP_CANCEL:
                    code = self._cancel(cmd.order_id, h)
                elif cmd.op == OP_AMEND:
                    code = self.amend_c(cmd.order_id, cmd.size, cmd.price_ppm)
                elif cmd.op == OP_CANCEL_ALL:
                    code = self.cancel_all_c(cmd.account)
                else:
                    code = E_OP
                memset(res, 0, sizeof(ResultRec))  # padding bytes too: rows compare bytewise
                res.code = code
                res.expire_reason = self.out_expire_reason
                res.order_id = cmd.order_id
                res.filled = self.out_filled
                res.resting = self.out_resting
                res.expired = self.out_expired
                res.n_fills = <int32_t>(self.n_fills - f0)
                res.n_cancels = <int32_t>(self.n_cancels - c0)
                res += 1
            batch = BatchResult(
                buffers.view(KIND_RESULTS, RESULT_DTYPE, n),
                buffers.view(KIND_FILLS, FILL_DTYPE, self.n_fills),
                buffers.view(KIND_CANCELS, CANCEL_DTYPE, self.n_cancels),
                buffers.view(KIND_DELTAS, DELTA_DTYPE, self.n_deltas) if deltas else None,
            )
        finally:
            if out is None:
                _keep_spare_buffers(buffers)
            self.want_deltas = True
            self.batch_out = None
            self.fills, self.fills_cap = own_fills, own_fills_cap
            self.cancels, self.cancels_cap = own_cancels, own_cancels_cap
            self.deltas, self.deltas_cap = own_deltas, own_deltas_cap
            self.reset_outputs()
        return batch

    # ------------------------------------------------------------------ market data

    def best_bid(self):
        """Highest bid price in ppm, or None when there are no bids."""
        return None if self.best[BUY] == -1 else self.best[BUY] * self.tick_ppm

    def best_ask(self):
        """Lowest ask price in ppm, or None when there are no asks."""
        return None if self.best[SELL] == -1 else self.best[SELL] * self.tick_ppm

    def depth(self, n=10):
        """L2 depth of up to ``n`` levels per side, best first, as a Depth of int64 arrays."""
        cdef int64_t want = _as_i64(n, "n")
        if want < 0:
            raise InvalidInput(f"n={want} must be non-negative")
        cdef int side, k
        cdef int32_t level
        cdef int64_t[:, ::1] v
        out = []
        for side in range(2):
            count = 0
            level = self.best[side]
            while level != -1 and count < want:
                count += 1
                level = (_bits_prev(&self.bits[BUY], level - 1) if side == BUY
                         else _bits_next(&self.bits[SELL], level + 1))
            arr = np.empty((3, count), np.int64)
            v = arr
            level = self.best[side]
            for k in range(count):
                v[0, k] = level * self.tick_ppm
                v[1, k] = self.levels[level].total
                v[2, k] = self.levels[level].count
                level = (_bits_prev(&self.bits[BUY], level - 1) if side == BUY
                         else _bits_next(&self.bits[SELL], level + 1))
            out.extend([arr[0], arr[1], arr[2]])
        return Depth(*out)

    def impact_price(self, side, notional_qq):
        """Average price of sweeping ``notional_qq`` (quote quantums) through one book side.

        ``side`` names the book side swept: Side.BUY walks the bids (the impact bid, rounded
        down), Side.SELL the asks (the impact ask, rounded up). Returns ImpactPrice; when the side
        holds less notional than asked, ``enough_depth`` is False and ``price_ppm`` is 0. A
        notional of 0 gives the best price.
        """
        cdef int64_t s = _as_i64(side, "side")
        cdef int64_t notional = _as_i64(notional_qq, "notional_qq")
        cdef int64_t price = 0
        if s != BUY and s != SELL:
            raise InvalidInput(f"side={s} must be Side.BUY or Side.SELL")
        if notional < 0:
            raise InvalidInput(f"notional_qq={notional} must be non-negative")
        if self.impact_c(<int>s, notional, &price):
            return ImpactPrice(price, True)
        return ImpactPrice(0, False)

    def order(self, order_id):
        """The live order with this id as a dict, or None."""
        cdef int32_t s = self._find(_as_i64(order_id, "order_id"))
        cdef OrderNode* n
        if s == -1:
            return None
        n = &self.nodes[s]
        return {
            "order_id": n.order_id,
            "account": n.account,
            "side": _SIDES[n.side],
            "price_ppm": n.level * self.tick_ppm,
            "size": n.remaining,
            "post_only": bool(n.flags & NODE_POST_ONLY),
            "reduce_only": bool(n.flags & NODE_REDUCE_ONLY),
            "stp": SelfTradePrevention((n.flags & NODE_STP_MASK) >> NODE_STP_SHIFT),
        }

    def __len__(self):
        return self.n_live

    def __contains__(self, order_id):
        return self._find(_as_i64(order_id, "order_id")) != -1

    def memory_bytes(self):
        """Bytes of C memory the book holds (pools, tables, levels, bitsets, buffers)."""
        cdef int d, side
        cdef int64_t total = (self.nodes_cap * sizeof(OrderNode) +
                              (self.table_mask + 1) * sizeof(IdEntry) +
                              self.n_levels * sizeof(Level) +
                              self.fills_cap * sizeof(FillRec) +
                              self.cancels_cap * sizeof(CancelRec) +
                              self.deltas_cap * sizeof(DeltaRec))
        for side in range(2):
            for d in range(self.bits[side].depth):
                total += self.bits[side].nwords[d] * sizeof(uint64_t)
        return total

    def check_integrity(self):
        """Verify every internal invariant; raises IntegrityError naming the first one broken."""
        self.check_integrity_c()

    def __repr__(self):
        return (f"OrderBook(tick_ppm={self.tick_ppm}, lot={self.lot}, min_size={self.min_size}, "
                f"max_size={self.max_size}, orders={self.n_live}, best_bid={self.best_bid()}, "
                f"best_ask={self.best_ask()})")

    # ------------------------------------------------------------------ snapshots

    def snapshot(self):
        """Canonical bytes of the book: config, then every order, bids best first then asks best
        first, each level in queue order. Identical books give identical bytes on any machine."""
        cdef Py_ssize_t size = SNAP_HEADER + self.n_live * SNAP_RECORD
        cdef bytearray buf = bytearray(size)
        cdef uint8_t* p = buf
        cdef int side
        cdef int32_t level, s
        cdef OrderNode* n
        cdef bytes magic = SNAPSHOT_MAGIC
        memcpy(p, <const char*>magic, 4)
        p[4] = SNAPSHOT_VERSION & 0xFF
        p[5] = SNAPSHOT_VERSION >> 8
        p[6] = 0
        p[7] = 0
        _put_i64(p + 8, self.tick_ppm)
        _put_i64(p + 16, self.lot)
        _put_i64(p + 24, self.min_size)
        _put_i64(p + 32, self.max_size)
        _put_i64(p + 40, self.n_live)
        p += SNAP_HEADER
        for side in range(2):
            level = self.best[side]
            while level != -1:
                s = self.levels[level].head
                while s != -1:
                    n = &self.nodes[s]
                    _put_i64(p, n.order_id)
                    _put_i64(p + 8, n.account)
                    _put_i64(p + 16, level * self.tick_ppm)
                    _put_i64(p + 24, n.remaining)
                    p[32] = n.side
                    p[33] = n.flags
                    p += SNAP_RECORD
                    s = n.next
                level = (_bits_prev(&self.bits[BUY], level - 1) if side == BUY
                         else _bits_next(&self.bits[SELL], level + 1))
        return bytes(buf)

    @staticmethod
    def restore(data):
        """Rebuild the book a snapshot describes, queue priorities included.

        Raises SnapshotError for bytes that are truncated, of another version, or not a canonical
        snapshot of a valid book.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidType(f"snapshot must be bytes, not {type(data).__name__}")
        cdef bytes raw = bytes(data)
        cdef const uint8_t[::1] view = raw
        cdef Py_ssize_t size = view.shape[0], k
        cdef const uint8_t* p
        cdef int64_t n_orders, oid, account, price, remaining
        cdef int side, flags, prev_side = 0
        cdef int64_t prev_price = -1
        cdef int32_t level = 0
        cdef OrderBook book
        if size < SNAP_HEADER or raw[:4] != SNAPSHOT_MAGIC:
            raise SnapshotError("not a perpcore order book snapshot")
        p = &view[0]
        if p[4] | (p[5] << 8) != SNAPSHOT_VERSION or p[6] or p[7]:
            raise SnapshotError(f"unsupported snapshot version {p[4] | (p[5] << 8)}")
        n_orders = _get_i64(p + 40)
        if n_orders < 0 or n_orders > (size - SNAP_HEADER) // SNAP_RECORD or \
                size != SNAP_HEADER + n_orders * SNAP_RECORD:
            raise SnapshotError("snapshot length does not match its order count")
        try:
            book = OrderBook(_get_i64(p + 8), _get_i64(p + 16), _get_i64(p + 24), _get_i64(p + 32))
        except InvalidInput as exc:
            raise SnapshotError(f"snapshot holds an invalid market config: {exc}") from None
        book.reset_outputs()
        book.begin_command(0)
        p += SNAP_HEADER
        for k in range(n_orders):
            oid = _get_i64(p)
            account = _get_i64(p + 8)
            price = _get_i64(p + 16)
            remaining = _get_i64(p + 24)
            side = p[32]
            flags = p[33]
            p += SNAP_RECORD
            if side != BUY and side != SELL:
                raise SnapshotError(f"order {oid}: invalid side {side}")
            if oid <= 0 or account < 0 or flags & ~NODE_FLAGS_ALL or \
                    ((flags & NODE_STP_MASK) >> NODE_STP_SHIFT) >= N_STP:
                raise SnapshotError(f"order {oid}: invalid id, account or flags")
            if book._validate_price(price, &level) != OK:
                raise SnapshotError(f"order {oid}: invalid price {price}")
            if remaining <= 0 or remaining % book.lot != 0 or remaining > book.max_size:
                raise SnapshotError(f"order {oid}: invalid remaining size {remaining}")
            if side < prev_side or (side == prev_side and prev_price != -1 and
                                    (price > prev_price if side == BUY else price < prev_price)):
                raise SnapshotError("orders are not in canonical book order")
            if side == SELL and book.best[BUY] != -1 and price <= book.best[BUY] * book.tick_ppm:
                raise SnapshotError("snapshot describes a crossed book")
            if book._find(oid) != -1:
                raise SnapshotError(f"duplicate order id {oid}")
            if side != prev_side:
                prev_price = -1
            prev_side = side
            prev_price = price
            book._rest(oid, _mix(oid), account, side, flags, level, remaining, -1)
        book.reset_outputs()
        book.begin_command(0)
        return book

    def state_hash(self):
        """SHA-256 hex digest of the canonical snapshot: equal for equal books on any machine."""
        return hashlib.sha256(self.snapshot()).hexdigest()

    def __reduce__(self):
        return (OrderBook.restore, (self.snapshot(),))


cdef enum:
    KIND_RESULTS = 0
    KIND_FILLS = 1
    KIND_CANCELS = 2
    KIND_DELTAS = 3
    N_KINDS = 4


@cython.final
cdef class _Block:
    """One malloc'd output block, exported to numpy through the buffer protocol; the arrays
    viewing it keep it alive."""

    cdef char* data
    cdef Py_ssize_t nbytes
    cdef Py_ssize_t one
    cdef Py_ssize_t exports  # buffers handed out and not yet released: live numpy views

    def __getbuffer__(self, Py_buffer* view, int flags):
        self.exports += 1
        view.buf = self.data
        view.obj = self
        view.len = self.nbytes
        view.readonly = 0
        view.itemsize = 1
        view.format = "B"
        view.ndim = 1
        view.shape = &self.nbytes
        view.strides = &self.one
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer* view):
        self.exports -= 1

    def __dealloc__(self):
        free(self.data)


cdef _Block _new_block(Py_ssize_t nbytes):
    cdef _Block b = _Block.__new__(_Block)
    b.data = <char*>pc_block_alloc(nbytes)
    if b.data == NULL:
        raise MemoryError()
    b.nbytes = nbytes
    b.one = 1
    return b


@cython.final
cdef class BatchBuffers:
    """Reusable output storage for ``OrderBook.process(commands, out=buffers)``.

    A backtest replaying a long flow in chunks passes the same buffers to every call, so no fresh
    memory is faulted in per chunk. The BatchResult such a call returns holds *views* of this
    storage: they stay valid (memory-safe) forever, but their contents are overwritten when the
    buffers are passed to ``process`` again; copy what you keep. Storage grows as needed.
    """

    cdef list blocks

    def __cinit__(self):
        self.blocks = [None] * N_KINDS

    cdef void* reserve(self, int kind, Py_ssize_t count, size_t item) except NULL:
        """Block `kind` with room for at least `count` records of `item` bytes (contents lost)."""
        cdef _Block b = self.blocks[kind]
        if b is None or b.nbytes < count * <Py_ssize_t>item:
            b = _new_block(count * item)
            self.blocks[kind] = b
        return b.data

    cdef int64_t capacity(self, int kind, size_t item) noexcept:
        return (<_Block>self.blocks[kind]).nbytes // <Py_ssize_t>item

    cdef void* grow(self, int kind, int64_t* cap, size_t item) except NULL:
        """Double block `kind`, keeping its first `cap` records."""
        cdef _Block old = self.blocks[kind]
        cdef _Block b = _new_block(2 * cap[0] * item + 64 * item)
        memcpy(b.data, old.data, cap[0] * item)
        self.blocks[kind] = b
        cap[0] = b.nbytes // <Py_ssize_t>item
        return b.data

    cdef object view(self, int kind, object dtype, int64_t count):
        return np.frombuffer(self.blocks[kind], dtype=dtype, count=count)

    cdef bint unviewed(self):
        """No array views any of the storage: it may be written again without anyone noticing."""
        cdef object b
        for b in self.blocks:
            if b is not None and (<_Block>b).exports:
                return False
        return True

    def nbytes(self):
        """Bytes of storage currently held."""
        return sum([(<_Block>b).nbytes for b in self.blocks if b is not None])


# One spare set of batch storage per process: a process() call without ``out`` reuses the storage
# of an earlier such call once no array views it any more (its results were dropped), instead of
# faulting in tens of MB afresh; while a call runs the spare is taken, so no two calls share it.
# Sets above SPARE_BUFFERS_MAX_BYTES are not kept.
cdef Py_ssize_t SPARE_BUFFERS_MAX_BYTES = 256 << 20
cdef BatchBuffers _spare_buffers = None


cdef BatchBuffers _take_spare_buffers():
    global _spare_buffers
    cdef BatchBuffers b = _spare_buffers
    if b is not None and b.unviewed():
        _spare_buffers = None
        return b
    return BatchBuffers()


cdef void _keep_spare_buffers(BatchBuffers b):
    global _spare_buffers
    if b.nbytes() <= SPARE_BUFFERS_MAX_BYTES:
        _spare_buffers = b
