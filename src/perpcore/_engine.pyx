"""The native exchange: markets sharing accounts, orders → margin locks → fills → positions,
funding settlement, the market lifecycle's effects and withdrawals, with exactly the observable
behaviour of ``perpcore.reference.ReferenceExchange``.

Owns every balance (accounts' buckets, each market's position margins, insurance fund, fees,
clearing pool and funding pool), positions (with the funding each settled), order locks,
reduce-only bookkeeping, pending withdrawals and the events of each call. State lives in C:
accounts in dense slots found through an id table, one position record per account slot and
market, and each live order's lock and kind at the node slot its market's book keeps it in (the
book's own id table finds an order; its fills and cancels name the slot). A submit validates and
margin-checks at C level (the kernels of ``_margin.pxd``), drives the market's ``OrderBook``
through ``place_c``/``cancel_c``/``cancel_all_c`` and reads the fills and cancellations from the
book's C output buffers; each side of a fill first settles the funding its position owes since its
last touch (``_funding.pxd``'s payment kernel). Each market's lifecycle, mark service and funding
sampler (the native ``FundingSampler``) are the shared ``perpcore.market_services.MarketServices``;
the phase and the cumulative funding index the hot path reads are mirrored in C. Lifecycle, mark
and funding calls are rare: they take their events from those services as Python records and
splice them with the C events of the cancels, settlements and closes they cause. Hot-path events
are recorded as C records and become ``perpcore.events`` records only when a reader asks
(``result.events``). Every formula and rounding is the reference's, in the same order; it never
uses floats, never wraps an int64 (overflow raises), and never looks at a clock.
"""

cimport cython
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from perpcore._book cimport CancelRec, CommandRec, FillRec, OrderBook
from perpcore._convert cimport _as_i64
from perpcore._fixedpoint cimport (
    PC_OK, checked, pc_add, pc_i128, pc_mul, pc_mul_div_down, pc_mul_div_up, pc_narrow, pc_sub,
    pc_wide, pc_wide_add, pc_wide_le, pc_wide_lt, pc_wide_mul, pc_wide_sub, mul_div_down,
    mul_div_up, wide_div_down, wide_div_up,
)
from perpcore._funding cimport FundingParams, FundingSampler, funding_payment_qq_c
from perpcore._margin cimport (
    RiskTier, apply_fill_c, entry_price_ppm_c, fee_qq_c, imf_ppm_c, requirement_qq_c,
    unrealized_pnl_qq_c,
)
from perpcore._results cimport CallResult, ExchangeBatch, SubmitResult, WithdrawalResult, _Record

from types import MappingProxyType, MemberDescriptorType

import numpy as np

from perpcore.book_types import (
    COMMAND_DTYPE, FLAG_REDUCE_ONLY, PRICE_SCALE_PPM, CancelReason, Op, SelfTradePrevention, Side,
    TimeInForce,
)
from perpcore.codes import Code
from perpcore.errors import IntegrityError, InvalidInput, InvalidType
from perpcore.events import (
    BalanceUpdated, Deposited, FundingSettled, InsuranceCredited, MarginAdded, OrderAccepted,
    OrderCancelled,
    OrderCreated, OrderFilled, OrderRejected, PositionStatus, PositionUpdated, SettlementStatus,
    WithdrawalExecuted, WithdrawalRejected, WithdrawalRequested,
)
from perpcore.exchange_types import (
    EXCHANGE_ORDER_ID_FIRST, EXCHANGE_RESULT_DTYPE, LIQUIDATION_ORDER_ID_FIRST, Balances,
    MarginView, PositionView,
)
from perpcore.lifecycle import MarketPhase
from perpcore.market_services import DEFAULT_FUNDING as _DEFAULT_FUNDING
from perpcore.market_services import MarketServices as _MarketServices

cdef extern from *:
    """
    #ifndef PERPCORE_DEBUG
    #define PERPCORE_DEBUG 0
    #endif
    """
    const bint PERPCORE_DEBUG


# ---------------------------------------------------------------------------------------------
# Constants, read once from the Python vocabulary so that each number is defined in one place.

cdef int BUY = Side.BUY
cdef int TIF_GTC = TimeInForce.GTC
cdef int TIF_MARKET = TimeInForce.MARKET
cdef int TIF_IOC = TimeInForce.IOC
cdef int STP_EXPIRE_MAKER = SelfTradePrevention.EXPIRE_MAKER
cdef int STP_EXPIRE_TAKER = SelfTradePrevention.EXPIRE_TAKER
cdef int OP_PLACE = Op.PLACE
cdef int OP_CANCEL = Op.CANCEL
cdef int OP_CANCEL_ALL = Op.CANCEL_ALL
cdef int OP_AMEND = Op.AMEND
cdef int CMD_REDUCE_ONLY = FLAG_REDUCE_ONLY
cdef int CANCEL_REDUCE_ONLY = CancelReason.REDUCE_ONLY
cdef int CANCEL_MARKET_CLOSED = CancelReason.MARKET_CLOSED
cdef int CANCEL_LIQUIDATION = CancelReason.LIQUIDATION
cdef int PHASE_ACTIVE = MarketPhase.ACTIVE
cdef int PHASE_RESOLVING = MarketPhase.RESOLVING
cdef int POSITION_OPEN = PositionStatus.OPEN
cdef int POSITION_LIQUIDATING = PositionStatus.LIQUIDATING
cdef int POSITION_CLOSED = PositionStatus.CLOSED
cdef int SETTLE_PENDING = SettlementStatus.PENDING_SETTLE
cdef int SETTLE_SYNCHRONIZED = SettlementStatus.SYNCHRONIZED
cdef int64_t SCALE = PRICE_SCALE_PPM
cdef int64_t IDX_PER_QQ = 1_000_000  # funding index units (idx) per quote quantum and contract
cdef int64_t FIRST_EXCHANGE_ORDER_ID = EXCHANGE_ORDER_ID_FIRST  # users' order ids stay below
cdef int64_t FIRST_LIQUIDATION_ORDER_ID = LIQUIDATION_ORDER_ID_FIRST  # counts down

cdef int OK = Code.OK
cdef int E_OP = Code.INVALID_OP
cdef int E_FLAGS = Code.INVALID_FLAGS
cdef int E_SIZE_BELOW_MIN = Code.SIZE_BELOW_MINIMUM
cdef int E_UNKNOWN_ACCOUNT = Code.UNKNOWN_ACCOUNT
cdef int E_RESERVED_ORDER_ID = Code.RESERVED_ORDER_ID
cdef int E_BEYOND_BANKRUPTCY = Code.REDUCE_ONLY_BEYOND_BANKRUPTCY
cdef int E_UNKNOWN_MARKET = Code.UNKNOWN_MARKET
cdef int E_INSUFFICIENT = Code.INSUFFICIENT_AVAILABLE
cdef int E_BELOW_INITIAL = Code.BELOW_INITIAL_MARGIN
cdef int E_REDUCE_ONLY = Code.REDUCE_ONLY_WOULD_INCREASE
cdef int E_WITHDRAWAL_BELOW_INITIAL = Code.WITHDRAWAL_BELOW_INITIAL_MARGIN
cdef int E_MARKET_NOT_TRADING = Code.MARKET_NOT_TRADING
cdef int E_MARKET_REDUCE_ONLY = Code.MARKET_REDUCE_ONLY

# The reference reports some codes as Code members and book / margin rejections as plain ints.
cdef object _CODE_OK = Code.OK  # typed: read on every call without a dict lookup
_UNKNOWN_MARKET = Code.UNKNOWN_MARKET
_UNKNOWN_ACCOUNT = Code.UNKNOWN_ACCOUNT
_MARKET_NOT_TRADING = Code.MARKET_NOT_TRADING
_INSUFFICIENT_AVAILABLE = Code.INSUFFICIENT_AVAILABLE
_UNKNOWN_WITHDRAWAL = Code.UNKNOWN_WITHDRAWAL
_WITHDRAWAL_NOT_DUE = Code.WITHDRAWAL_NOT_DUE
_WITHDRAWAL_BELOW_INITIAL_MARGIN = Code.WITHDRAWAL_BELOW_INITIAL_MARGIN
_WITHDRAWAL_DEFERRED_STALE_MARK = Code.WITHDRAWAL_DEFERRED_STALE_MARK
_MARKET_NOT_ACTIVE = Code.MARKET_NOT_ACTIVE
_ACTIVE = MarketPhase.ACTIVE
_RESOLVING = MarketPhase.RESOLVING
_RESOLVED = MarketPhase.RESOLVED
_SETTLED = MarketPhase.SETTLED
cdef object _TIF_GTC = TimeInForce.GTC  # the defaults of submit, recognised by identity
cdef object _STP_EXPIRE_MAKER = SelfTradePrevention.EXPIRE_MAKER
_NO_NAME = object()  # what Exchange.last_name holds before any market was resolved
_SIDES = tuple(Side)
_TIFS = tuple(TimeInForce)
_CANCEL_REASONS = tuple(CancelReason)
_POSITION_STATUSES = tuple(PositionStatus)
_SETTLEMENT_STATUSES = tuple(SettlementStatus)

# event kinds: which perpcore.events class an EventRec becomes (see _build_event)
cdef enum:
    EV_DEPOSITED = 0
    EV_WITHDRAWAL_REQUESTED = 1
    EV_WITHDRAWAL_EXECUTED = 2
    EV_WITHDRAWAL_REJECTED = 3
    EV_MARGIN_ADDED = 4
    EV_ORDER_CREATED = 5
    EV_ORDER_REJECTED = 6
    EV_ORDER_ACCEPTED = 7
    EV_ORDER_FILLED = 8
    EV_ORDER_CANCELLED = 9
    EV_BALANCE_UPDATED = 10
    EV_POSITION_UPDATED = 11
    EV_FUNDING_SETTLED = 12
    N_EVENT_KINDS = 13

# how many values follow the header of each kind of event record
cdef int64_t EVENT_VALUES[N_EVENT_KINDS]
EVENT_VALUES[:] = [2, 4, 3, 4, 2, 5, 3, 5, 8, 4, 5, 4, 3]

cdef enum:
    MAX_EVENT_WORDS = 9        # the largest event record: header + 8 values
    FIRST_ACCOUNTS = 64
    FIRST_EVENT_WORDS = 2048
    BATCH_EVENT_WORDS = 24     # words reserved per batch command up front (grown if needed)
    FIRST_TABLE_SHIFT = 8

# debug builds: the work the full integrity check may cost per call, amortised (see
# Exchange._debug_check_after_call); in accounts x markets + orders + book sizes
cdef int64_t DEBUG_CHECK_BUDGET = 8192


cdef int _check_vocabulary() except -1:
    """The enums index tuples by value, and the result rows match EXCHANGE_RESULT_DTYPE."""
    cdef ResultRow r
    cdef list fields = [
        ("code", <char*>&r.code - <char*>&r), ("n_events", <char*>&r.n_events - <char*>&r),
        ("order_id", <char*>&r.order_id - <char*>&r), ("filled", <char*>&r.filled - <char*>&r),
        ("resting", <char*>&r.resting - <char*>&r), ("expired", <char*>&r.expired - <char*>&r),
        ("lock_qq", <char*>&r.lock_qq - <char*>&r),
    ]
    for enum in (Side, TimeInForce, CancelReason, PositionStatus, SettlementStatus):
        if [int(member) for member in enum] != list(range(len(enum))):
            raise ImportError(f"perpcore._engine indexes {enum.__name__} by value: 0, 1, ...")
    if EXCHANGE_RESULT_DTYPE.itemsize != sizeof(ResultRow) or \
            [n for n, _ in fields] != list(EXCHANGE_RESULT_DTYPE.names):
        raise ImportError("perpcore._engine: ResultRow does not match EXCHANGE_RESULT_DTYPE")
    for name, offset in fields:
        if EXCHANGE_RESULT_DTYPE.fields[name][1] != offset:
            raise ImportError(f"perpcore._engine: field {name} of ResultRow is misplaced")
    return 0


_check_vocabulary()


# ---------------------------------------------------------------------------------------------
# Checked int64 arithmetic: a result outside int64 raises OverflowError.

cdef inline int64_t _plus(int64_t a, int64_t b) except? -1:
    cdef int64_t out = 0
    cdef int status = pc_add(a, b, &out)
    return checked(status, out)


cdef inline int64_t _minus(int64_t a, int64_t b) except? -1:
    cdef int64_t out = 0
    cdef int status = pc_sub(a, b, &out)
    return checked(status, out)


cdef inline int64_t _times(int64_t a, int64_t b) except? -1:
    cdef int64_t out = 0
    cdef int status = pc_mul(a, b, &out)
    return checked(status, out)


cdef inline int64_t _abs(int64_t v) noexcept:
    return -v if v < 0 else v


cdef inline int64_t _pos_part(int64_t v) noexcept:
    return v if v > 0 else 0


# ---------------------------------------------------------------------------------------------
# The account id table: splitmix64 finaliser, linear probing; accounts are never removed.

@cython.overflowcheck(False)  # arithmetic modulo 2**64 is the point of a hash
cdef inline uint64_t _mix(int64_t key) noexcept:
    cdef uint64_t z = <uint64_t>key
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef int _table_init(IdTable* t, int shift) except -1:
    cdef uint64_t i
    t.shift = shift
    t.mask = (<uint64_t>1 << shift) - 1
    t.count = 0
    t.buckets = <IdBucket*>malloc((t.mask + 1) * sizeof(IdBucket))
    if t.buckets == NULL:
        raise MemoryError()
    for i in range(t.mask + 1):
        t.buckets[i].slot = -1
    return 0


cdef inline int32_t _table_find(const IdTable* t, int64_t key) noexcept:
    """The slot stored under `key`, or -1."""
    cdef uint64_t i = _mix(key) >> (64 - t.shift)
    cdef const IdBucket* b
    while True:
        b = &t.buckets[i]
        if b.slot == -1 or b.key == key:
            return b.slot
        i = (i + 1) & t.mask


cdef int _table_grow(IdTable* t) except -1:
    cdef IdTable bigger
    cdef uint64_t k, i
    if t.shift >= 40:
        raise MemoryError("id table is full")
    _table_init(&bigger, t.shift + 1)
    for k in range(t.mask + 1):
        if t.buckets[k].slot != -1:
            i = _mix(t.buckets[k].key) >> (64 - bigger.shift)
            while bigger.buckets[i].slot != -1:
                i = (i + 1) & bigger.mask
            bigger.buckets[i] = t.buckets[k]
    bigger.count = t.count
    free(t.buckets)
    t[0] = bigger
    return 0


cdef int _table_insert(IdTable* t, int64_t key, int32_t slot) except -1:
    """Store `slot` under `key`, which the table does not hold (load factor kept <= 5/8)."""
    cdef uint64_t i
    if (<uint64_t>t.count + 1) * 8 > (t.mask + 1) * 5:
        _table_grow(t)
    i = _mix(key) >> (64 - t.shift)
    while t.buckets[i].slot != -1:
        i = (i + 1) & t.mask
    t.buckets[i].key = key
    t.buckets[i].slot = slot
    t.count += 1
    return 0


cdef void* _grow_array(void* ptr, int64_t* cap, size_t item, int64_t first) except NULL:
    """Double a malloc'd array (to `first` items if empty), keeping its contents."""
    cdef int64_t new_cap = cap[0] * 2 if cap[0] > 0 else first
    cdef void* p = realloc(ptr, new_cap * item)
    if p == NULL:
        raise MemoryError()
    cap[0] = new_cap
    return p


# ---------------------------------------------------------------------------------------------
# Query views handed to Python. PositionView and MarginView are slotted, frozen dataclasses; their
# __init__ only stores its arguments in the slots. On the hot path this module does the same
# without interpreted code: it allocates the instance (zeroed: every slot empty) and stores each
# field straight into its slot, at the offset CPython's own slot descriptor reads it from. The
# offsets are taken at import from the classes' member descriptors, which must be plain object
# slots (T_OBJECT_EX, writable) of the class, so a record that changes shape fails the import
# instead of being written wrongly.

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject* cls, Py_ssize_t nitems)
    void PyObject_GC_UnTrack(object o)
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
        int flags
    int T_OBJECT_EX
    int READONLY

cdef enum:
    MAX_RECORD_FIELDS = 9


cdef struct RecordLayout:
    PyTypeObject* cls
    Py_ssize_t offset[MAX_RECORD_FIELDS]


cdef int _layout(RecordLayout* layout, object cls, tuple fields) except -1:
    """Where each of `fields` lives in an instance of `cls` (see above)."""
    cdef PyMemberDef* member
    cdef Py_ssize_t i
    if len(fields) > MAX_RECORD_FIELDS or type(cls) is not type:
        raise ImportError(f"perpcore._engine cannot build {cls!r} records")
    layout.cls = <PyTypeObject*>cls
    for i, name in enumerate(fields):
        descr = getattr(cls, name)
        if type(descr) is not MemberDescriptorType or descr.__objclass__ not in cls.__mro__:
            raise ImportError(f"perpcore._engine: {cls.__name__}.{name} is not a slot")
        member = (<PyMemberDescrObject*>descr).d_member
        if member.type != T_OBJECT_EX or member.flags & READONLY:
            raise ImportError(f"perpcore._engine: {cls.__name__}.{name} is not a writable slot")
        layout.offset[i] = member.offset
    return 0


cdef inline object _new_record(const RecordLayout* layout):
    """An instance of the layout's class with every slot still empty, not tracked by the cyclic
    garbage collector: the records are immutable and hold only ints, enums, None and event data
    made here, so no reference cycle can ever pass through one."""
    cdef object r = PyType_GenericAlloc(layout.cls, 0)
    PyObject_GC_UnTrack(r)
    return r


cdef inline void _put(object record, const RecordLayout* layout, int field,
                      object value) noexcept:
    """Store `value` in an empty slot of a new record (the record takes a reference)."""
    Py_INCREF(value)
    (<PyObject**>(<char*><PyObject*>record + layout.offset[field]))[0] = <PyObject*>value


cdef RecordLayout POSITION_VIEW, MARGIN_VIEW
_layout(&POSITION_VIEW, PositionView, ("size", "open_notional_qq", "entry_price_ppm",
                                       "realized_pnl_qq", "status", "settlement_status",
                                       "funding_paid_qq"))
_layout(&MARGIN_VIEW, MarginView, ("collateral_qq", "unrealized_pnl_qq", "unsettled_funding_qq",
                                   "equity_qq", "initial_requirement_qq",
                                   "maintenance_requirement_qq", "free_collateral_qq", "health_ppm",
                                   "liquidatable"))


# The call results are native records (perpcore._results): made without __init__, C fields set.
# A rare call passes its events built (a tuple); the hot ones hand theirs over unbuilt (None here,
# then Exchange._hand_events).

cdef CallResult _call_result(object code, object events):
    cdef CallResult r = CallResult.__new__(CallResult)
    r.code = code
    r._events = events
    return r


cdef SubmitResult _submit_result(object code, object order_id, const SubmitOut* out):
    cdef SubmitResult r = SubmitResult.__new__(SubmitResult)
    r.code = code
    r.order_id = order_id
    r.filled = out.filled
    r.resting = out.resting
    r.expired = out.expired
    r.lock_qq = out.lock_qq
    r.size = out.size
    return r


cdef WithdrawalResult _withdrawal_result(object code, object events, int64_t withdrawal_id,
                                         int64_t due_at):
    cdef WithdrawalResult r = WithdrawalResult.__new__(WithdrawalResult)
    r.code = code
    r._events = events
    r.withdrawal_id = withdrawal_id
    r.due_at = due_at
    return r


cdef object _build_event(const EventRec* e, list names):
    """The perpcore.events record an EventRec stands for."""
    cdef int kind = e.kind
    if kind >= N_EVENT_KINDS:
        raise IntegrityError(f"unknown event record kind {kind}")
    cdef object market = names[e.market] if e.market >= 0 else None
    if kind == EV_ORDER_CREATED:
        return OrderCreated(market, e.v[0], e.v[1], _SIDES[e.b0], e.v[2], e.v[3], _TIFS[e.b1],
                            e.b2 != 0, e.v[4])
    if kind == EV_ORDER_REJECTED:
        return OrderRejected(market, e.v[0], e.v[1], e.v[2])
    if kind == EV_ORDER_ACCEPTED:
        return OrderAccepted(market, e.v[0], e.v[1], e.v[2], e.v[3], e.v[4])
    if kind == EV_ORDER_FILLED:
        return OrderFilled(market, e.v[0], e.v[1], e.v[2], e.v[3], _SIDES[e.b0], e.v[4], e.v[5],
                           e.v[6], e.v[7])
    if kind == EV_ORDER_CANCELLED:
        return OrderCancelled(market, e.v[0], e.v[1], e.v[2], _CANCEL_REASONS[e.b0], e.v[3])
    if kind == EV_BALANCE_UPDATED:
        return BalanceUpdated(e.v[0], e.v[1], e.v[2], e.v[3], market, e.v[4])
    if kind == EV_POSITION_UPDATED:
        return PositionUpdated(market, e.v[0], e.v[1], e.v[2], e.v[3], _POSITION_STATUSES[e.b0],
                               _SETTLEMENT_STATUSES[e.b1])
    if kind == EV_FUNDING_SETTLED:
        return FundingSettled(market, e.v[0], e.v[1], e.v[2])
    if kind == EV_DEPOSITED:
        return Deposited(e.v[0], e.v[1])
    if kind == EV_WITHDRAWAL_REQUESTED:
        return WithdrawalRequested(e.v[0], e.v[1], e.v[2], e.v[3])
    if kind == EV_WITHDRAWAL_EXECUTED:
        return WithdrawalExecuted(e.v[0], e.v[1], e.v[2])
    if kind == EV_WITHDRAWAL_REJECTED:
        return WithdrawalRejected(e.v[0], e.v[1], e.v[2], e.v[3])
    if kind == EV_MARGIN_ADDED:
        return MarginAdded(e.v[0], market, e.v[1])
    raise IntegrityError(f"unknown event record kind {kind}")


cdef object _build_events(const int64_t* words, int64_t n, object names):
    """The n event records in `words` as a tuple of perpcore.events records, in order (an
    EventBuilder of perpcore._results: the context is the exchange's list of market names)."""
    cdef int64_t i, at = 0
    cdef const EventRec* e
    cdef list out = []
    for i in range(n):
        e = <const EventRec*>&words[at]
        out.append(_build_event(e, names))
        at += 1 + EVENT_VALUES[e.kind]
    return tuple(out)


@cython.final
@cython.no_gc
cdef class _EventBuffer:
    """Owns the malloc'd buffer (`cap` words) of a ``process`` batch's event records, which its
    ExchangeBatch holds unbuilt; it becomes the spare when the batch goes."""

    cdef int64_t* words
    cdef int64_t cap

    def __dealloc__(self):
        _keep_spare_events(self.words, self.cap)


# One spare batch event buffer per process: a batch whose events are gone (its ExchangeBatch was
# dropped) leaves its buffer for the next batch, whose events then land on pages already faulted
# in instead of tens of MB of fresh ones. Only the largest buffer up to SPARE_EVENTS_MAX_WORDS is
# kept; a batch takes it only when it is large enough.
cdef int64_t SPARE_EVENTS_MAX_WORDS = (256 << 20) // sizeof(int64_t)
cdef int64_t* _spare_events = NULL
cdef int64_t _spare_events_cap = 0


cdef int64_t* _take_spare_events(int64_t need, int64_t* cap) except NULL:
    """A buffer of at least `need` words (its size in `cap`): the spare if it is large enough."""
    global _spare_events, _spare_events_cap
    cdef int64_t* words
    if _spare_events != NULL and _spare_events_cap >= need:
        words, cap[0] = _spare_events, _spare_events_cap
        _spare_events, _spare_events_cap = NULL, 0
        return words
    cap[0] = need // 2
    return <int64_t*>_grow_array(NULL, cap, sizeof(int64_t), FIRST_EVENT_WORDS)


cdef void _keep_spare_events(int64_t* words, int64_t cap) noexcept:
    """Keep a batch's event buffer as the spare (a larger one replaces it), or free it."""
    global _spare_events, _spare_events_cap
    if cap > _spare_events_cap and cap <= SPARE_EVENTS_MAX_WORDS:
        free(_spare_events)
        _spare_events, _spare_events_cap = words, cap
    else:
        free(words)


# ---------------------------------------------------------------------------------------------
# A market: its book, risk parameters, holders, positions and live orders.

cdef int64_t _reducible(void* ctx, int32_t slot, int side) noexcept:
    """The book's reduce-only guard (ReducibleFn): how much the owner of the reduce-only order in
    node `slot` may trade on `side` before its position would open exposure."""
    cdef _Market m = <_Market>ctx
    cdef int64_t size = m.pos[m.orders[slot].account].size
    if side == BUY:
        return -size if size < 0 else 0
    return size if size > 0 else 0


@cython.final
@cython.no_gc_clear  # __dealloc__ reads `book`
cdef class _Market:
    """One listed market (internal): see _engine.pxd for its fields."""

    def __dealloc__(self):
        if self.book is not None:
            self.book.reducible = NULL  # the book may outlive its market: drop the borrowed guard
        free(self.pos)
        free(self.orders)
        free(self.changed)

    cdef int32_t find_order(self, int64_t order_id) noexcept:
        """The slot of live order `order_id`, or -1 (the book's id table)."""
        return self.book._find(order_id)

    cdef XOrder* new_taker(self, int64_t order_id, int32_t account) noexcept:
        """The running submit's order, zeroed, of the account in slot `account` (it counts among
        the position's live orders until dropped)."""
        cdef XOrder* o = &self.taker
        memset(o, 0, sizeof(XOrder))
        o.order_id = order_id
        o.account = account
        o.ro_prev = -1
        o.ro_next = -1
        self.pos[account].live_orders += 1
        return o

    cdef XOrder* rest_taker(self) except NULL:
        """Move the running submit's order to the node slot the book rested it in. Called after
        the command's fills and cancels are applied: the book may have reused a slot one of them
        freed."""
        cdef int32_t slot = self.book.out_slot, cap = self.book.nodes_cap
        cdef XOrder* grown
        if slot >= self.orders_cap:  # the book grew its node pool: follow it
            grown = <XOrder*>realloc(self.orders, cap * sizeof(XOrder))
            if grown == NULL:
                raise MemoryError()
            memset(&grown[self.orders_cap], 0, (cap - self.orders_cap) * sizeof(XOrder))
            self.orders = grown
            self.orders_cap = cap
        if self.orders[slot].live:
            raise IntegrityError(f"{self.name}: node slot {slot} is already taken")
        self.orders[slot] = self.taker
        self.orders[slot].live = 1
        return &self.orders[slot]


cdef int64_t _oi_notional(_Market m, int64_t open_interest) except? -1:
    """Open interest notional at the mark; like the reference's RiskTier call, one beyond int64 is
    invalid input."""
    cdef int64_t out = 0
    if pc_mul(open_interest, m.mark_ppm, &out) != PC_OK:
        raise InvalidInput(f"oi_notional_qq={open_interest * <object>m.mark_ppm} does not fit in a "
                           f"signed 64-bit integer")
    return out


cdef inline int64_t _requirement(int64_t size, int64_t price_ppm, int64_t factor_ppm) except? -1:
    cdef int64_t out = 0
    cdef int status = requirement_qq_c(size, price_ppm, factor_ppm, &out)
    return checked(status, out)


cdef inline int64_t _fee(int64_t notional_qq, int64_t fee_ppm) except? -1:
    cdef int64_t out = 0
    cdef int status = fee_qq_c(notional_qq, fee_ppm, &out)
    return checked(status, out)


cdef inline int64_t _upnl(int64_t size, int64_t open_notional_qq, int64_t mark_ppm) except? -1:
    cdef int64_t out = 0
    cdef int status = unrealized_pnl_qq_c(size, open_notional_qq, mark_ppm, &out)
    return checked(status, out)


cdef inline int64_t _funding_payment(int64_t size, int64_t index_now_idx,
                                     int64_t index_then_idx) except? -1:
    """ceil(size * (now - then) / 1e6): what a position owes (+) or receives (-) for the index
    move since its last touch."""
    cdef int64_t out = 0
    cdef int status = funding_payment_qq_c(size, index_now_idx, index_then_idx, &out)
    return checked(status, out)


cdef inline int64_t _unsettled_funding(_Market m, const Pos* p) except? -1:
    """What the position would receive (+) or pay (-) if it settled funding now (0 when it is
    flat or already stands at the market's index: the payment of no move is 0)."""
    if p.size == 0 or p.funding_index_idx == m.funding_index_idx:
        return 0
    return _minus(0, _funding_payment(p.size, m.funding_index_idx, p.funding_index_idx))


cdef inline int _within_bound(int tif, int64_t* price_ppm, int64_t bound, bint selling) noexcept:
    """A reduce-only order against its bankruptcy bound: an unprotected market order takes the
    bound as its protection price; a limit beyond it (below for a sell, above for a buy) is
    E_BEYOND_BANKRUPTCY."""
    if tif == TIF_MARKET and price_ppm[0] == 0:
        price_ppm[0] = bound
        return OK
    if price_ppm[0] < bound if selling else price_ppm[0] > bound:
        return E_BEYOND_BANKRUPTCY
    return OK


cdef inline int _position_status(const Pos* p) noexcept:
    """CLOSED when flat, else LIQUIDATING under liquidation, else OPEN."""
    if p.size == 0:
        return POSITION_CLOSED
    return POSITION_LIQUIDATING if p.liquidating else POSITION_OPEN


cdef inline int _enum_arg(int64_t v) noexcept:
    """An enum argument as a C int; anything out of byte range becomes 255 (invalid), as the
    book's own conversion does."""
    return <int>v if 0 <= v <= 255 else 255


cdef inline int _reduce_only_flag(object reduce_only) except -1:
    if reduce_only is True:
        return CMD_REDUCE_ONLY
    if reduce_only is False:
        return 0
    if isinstance(reduce_only, np.bool_):
        return CMD_REDUCE_ONLY if reduce_only else 0
    raise InvalidType("reduce_only must be a bool")


cdef int64_t _valid_account(object account) except? -1:
    cdef int64_t a = _as_i64(account, "account")
    if a < 0:
        raise InvalidInput(f"account={a} must be a non-negative integer")
    return a


cdef int64_t _valid_mark(object price_ppm) except? -1:
    cdef int64_t price = _as_i64(price_ppm, "mark price_ppm")
    if not 0 < price < SCALE:
        raise InvalidInput(f"mark price_ppm={price} must lie strictly inside (0, 1_000_000)")
    return price


@cython.cdivision(True)  # v >= 0 and lot > 0: C division is the floor
cdef inline int64_t _floor_to_lot(int64_t v, int64_t lot) noexcept:
    return v // lot * lot


cdef list _live_slots_by_id(_Market m, int32_t account, bint skip_reduce_only):
    """The slots of the market's live orders (of the account in slot `account` only, unless -1;
    reduce-only orders left out if asked), in order id order."""
    cdef int32_t s
    cdef list found = []
    for s in range(m.orders_cap):
        if m.orders[s].live and (account == -1 or m.orders[s].account == account) and not (
                skip_reduce_only and m.orders[s].reduce_only):
            found.append((m.orders[s].order_id, s))
    found.sort()
    return [s for _, s in found]


cdef inline bint _ro_before(_Market m, int32_t s, int32_t t) noexcept:
    """Order of reduce-only orders when trimming: by price, then by order id."""
    return m.orders[s].price_ppm < m.orders[t].price_ppm or (
        m.orders[s].price_ppm == m.orders[t].price_ppm and
        m.orders[s].order_id < m.orders[t].order_id)


cdef object _unknown_market(object market):
    """UNKNOWN_MARKET for a name that is not listed; InvalidType for a name that is not a str."""
    if not PyUnicode_Check(market):
        raise InvalidType(f"market must be a str, not {type(market).__name__}")
    return E_UNKNOWN_MARKET


# ---------------------------------------------------------------------------------------------

@cython.final
cdef class Exchange:
    """Markets, accounts and positions, driven by commands with explicit times (no wall clock).

    ``withdrawal_delay`` is in the units of the ``now`` arguments (e.g. seconds or blocks).
    """

    def __cinit__(self, *, withdrawal_delay=0):
        cdef int64_t delay = _as_i64(withdrawal_delay, "withdrawal_delay")
        if delay < 0:
            raise InvalidInput("withdrawal_delay must be non-negative")
        self.withdrawal_delay = delay
        self.by_name = {}
        self.last_name = _NO_NAME
        self.market_list = []
        self.names = []
        self.withdrawals = {}
        self.next_withdrawal_id = 1
        self.call_market = -1
        self.next_liquidation_order_id = FIRST_LIQUIDATION_ORDER_ID
        self.accts = <Acct*>_grow_array(NULL, &self.accounts_cap, sizeof(Acct), FIRST_ACCOUNTS)
        self.events = <int64_t*>_grow_array(NULL, &self.events_cap, sizeof(int64_t),
                                            FIRST_EVENT_WORDS)
        _table_init(&self.account_ids, FIRST_TABLE_SHIFT)

    def __dealloc__(self):
        free(self.accts)
        free(self.account_ids.buckets)
        free(self.touched_balances)
        free(self.touched_positions)
        free(self.events)
        free(self.ro_order)

    # ------------------------------------------------------------------ lookups and accounts

    cdef _Market _market_or_none(self, object market):
        cdef _Market m
        if market is self.last_name:  # the same name object as last time: no lookup
            return self.last_market
        if not PyUnicode_Check(market):
            raise InvalidType(f"market must be a str, not {type(market).__name__}")
        m = self.by_name.get(market)
        if m is not None:
            self.last_name = market
            self.last_market = m
        return m

    cdef _Market _market(self, object market):
        cdef _Market m = self._market_or_none(market)
        if m is None:
            raise InvalidInput(f"no market named {market!r}")
        return m

    cdef int _grow_accounts(self) except -1:
        """Double the account capacity: the account array and every market's positions."""
        cdef int64_t old_cap = self.accounts_cap, cap
        cdef _Market m
        cdef Pos* p
        if old_cap >= 0x3FFFFFFF:
            raise MemoryError("too many accounts")
        for m in self.market_list:
            cap = old_cap
            p = <Pos*>_grow_array(m.pos, &cap, sizeof(Pos), FIRST_ACCOUNTS)
            memset(p + old_cap, 0, (cap - old_cap) * sizeof(Pos))
            m.pos = p
        self.accts = <Acct*>_grow_array(self.accts, &self.accounts_cap, sizeof(Acct),
                                        FIRST_ACCOUNTS)
        return 0

    cdef int32_t _open_account(self, int64_t account) except -1:
        """The account's slot, opening one (all buckets and positions zero) on first sight."""
        cdef int32_t a = _table_find(&self.account_ids, account)
        if a >= 0:
            return a
        if self.n_accounts == self.accounts_cap:
            self._grow_accounts()
        a = self.n_accounts
        memset(&self.accts[a], 0, sizeof(Acct))
        self.accts[a].account = account
        _table_insert(&self.account_ids, account, a)
        self.n_accounts += 1
        return a

    # ------------------------------------------------------------------ the running call

    cdef int _begin_call(self, int32_t market) except -1:
        """Start a call whose balance events report `market` (-1: none). Its events append to
        `events` (a per-call wrapper empties it first; a batch keeps appending)."""
        self.call_id += 1
        self.call_market = market
        self.n_touched_balances = 0
        self.n_touched_positions = 0
        return 0

    cdef int _reset_events(self) except -1:
        self.n_events = 0
        self.n_event_words = 0
        return 0

    cdef inline EventRec* _event(self, int kind, int32_t market) except NULL:
        """Append an event record of `kind` (its values are the caller's to write)."""
        cdef EventRec* e
        if self.n_event_words + MAX_EVENT_WORDS > self.events_cap:
            self.events = <int64_t*>_grow_array(self.events, &self.events_cap, sizeof(int64_t),
                                                FIRST_EVENT_WORDS)
        e = <EventRec*>&self.events[self.n_event_words]
        self.n_event_words += 1 + EVENT_VALUES[kind]
        self.n_events += 1
        e.kind = <uint8_t>kind
        e.market = market
        return e

    cdef int _touch_balance(self, int32_t a) except -1:
        """Report the account's balances at the end of the call (once, in first-touch order)."""
        if self.accts[a].balance_call == self.call_id:
            return 0
        self.accts[a].balance_call = self.call_id
        if self.n_touched_balances == self.touched_balances_cap:
            self.touched_balances = <int32_t*>_grow_array(
                self.touched_balances, &self.touched_balances_cap, sizeof(int32_t), 16)
        self.touched_balances[self.n_touched_balances] = a
        self.n_touched_balances += 1
        return 0

    cdef int _touch_position(self, int32_t a) except -1:
        """Report the account's position in the call's market at the end of the call."""
        if self.accts[a].position_call == self.call_id:
            return 0
        self.accts[a].position_call = self.call_id
        if self.n_touched_positions == self.touched_positions_cap:
            self.touched_positions = <int32_t*>_grow_array(
                self.touched_positions, &self.touched_positions_cap, sizeof(int32_t), 16)
        self.touched_positions[self.n_touched_positions] = a
        self.n_touched_positions += 1
        return 0

    cdef int _finish(self, _Market m) except -1:
        """Position events of the touched positions, then balance events of the touched
        accounts, each with the state at the end of the call; `m` is the call's market (None for
        calls outside any market). In a market, the touched accounts join its `changed` list
        unless already in it: those with balances in first-touch order, then those with only a
        position touched (rare: a status change), in their order."""
        cdef int64_t i
        cdef int32_t a, mi = self.call_market
        cdef bint position_only = False
        cdef Pos* p
        cdef Acct* acct
        cdef EventRec* e
        for i in range(self.n_touched_positions):
            a = self.touched_positions[i]
            p = &m.pos[a]
            if not p.changed and self.accts[a].balance_call != self.call_id:
                position_only = True  # listed after the balance loop below
            e = self._event(EV_POSITION_UPDATED, mi)
            e.v[0] = self.accts[a].account
            e.v[1] = p.size
            e.v[2] = p.open_notional_qq
            e.v[3] = p.realized_pnl_qq
            e.b0 = <uint8_t>_position_status(p)
            e.b1 = <uint8_t>(SETTLE_PENDING if p.traded else SETTLE_SYNCHRONIZED)
        for i in range(self.n_touched_balances):
            a = self.touched_balances[i]
            acct = &self.accts[a]
            e = self._event(EV_BALANCE_UPDATED, mi)
            e.v[0] = acct.account
            e.v[1] = acct.available_qq
            e.v[2] = acct.orders_qq
            e.v[3] = acct.withdraw_qq
            if mi >= 0:
                p = &m.pos[a]
                e.v[4] = p.margin_qq
                if not p.changed:
                    self._mark_changed(m, a)
            else:
                e.v[4] = 0
        if position_only:
            for i in range(self.n_touched_positions):
                a = self.touched_positions[i]
                if not m.pos[a].changed:
                    self._mark_changed(m, a)
        if PERPCORE_DEBUG:
            self._debug_check_after_call()
        return 0

    cdef int _mark_changed(self, _Market m, int32_t a) except -1:
        """Append the account slot to the market's `changed` list (the caller saw it absent)."""
        if m.n_changed == m.changed_cap:
            m.changed = <int32_t*>_grow_array(m.changed, &m.changed_cap, sizeof(int32_t), 16)
        m.changed[m.n_changed] = a
        m.n_changed += 1
        m.pos[a].changed = 1
        return 0

    cdef object _hand_events(self, _Record r):
        """Give the running call's events to its result, unbuilt (copied: the buffer empties);
        returns the result."""
        if self.n_events == 0:
            r._events = ()
        else:
            r.hold_events(self.events, self.n_event_words, self.n_events, _build_events,
                          self.names, None)
            self._reset_events()
        return r

    cdef int _margin_add(self, Pos* p, int64_t delta_qq) except -1:
        """Change a position margin; a margin that becomes non-zero moves to the end of the
        account's Balances.locked_for_positions (the reference's dict insertion order)."""
        cdef int64_t new = _plus(p.margin_qq, delta_qq)
        if new < 0:
            raise IntegrityError(f"position margin would become {new}")
        if p.margin_qq == 0 and new != 0:
            self.margin_keys += 1
            p.margin_key = self.margin_keys
        p.margin_qq = new
        return 0

    # ------------------------------------------------------------------ submit

    cdef int _reject(self, _Market m, int64_t order_id, int64_t account, int code) except -1:
        cdef EventRec* e = self._event(EV_ORDER_REJECTED, m.index)
        e.v[0] = order_id
        e.v[1] = account
        e.v[2] = code
        return code

    cdef int _order_lock(self, _Market m, Acct* acct, Pos* p, int64_t signed_size,
                         int64_t worst_ppm, int64_t* lock_qq) except -1:
        """The lock of a new order and its pre-trade verdict (OK, BELOW_INITIAL_MARGIN or
        INSUFFICIENT_AVAILABLE): the initial requirement at the worst price with open interest as
        it could then be (this account's long change, plus for a sell as many new longs of its
        buyers), a taker-fee reserve, and the loss against the mark of filling at the worst price;
        accepted if, filled in full there (its unsettled funding counted), the account stays at or
        above initial margin and `available` covers the lock."""
        cdef int64_t q = _abs(signed_size), mark = m.mark_ppm
        cdef int64_t oi_after, imf, gap, lock, new_size = 0, new_on = 0, realized = 0
        cdef int64_t collateral, equity
        cdef int status
        oi_after = _plus(_minus(_plus(m.open_interest, _pos_part(_plus(p.size, signed_size))),
                                _pos_part(p.size)), q if signed_size < 0 else 0)
        imf = imf_ppm_c(m.base_imf_ppm, _oi_notional(m, oi_after), m.oi_lower_cap_qq,
                        m.oi_upper_cap_qq)
        gap = worst_ppm - mark if signed_size > 0 else mark - worst_ppm
        if gap < 0:
            gap = 0
        lock = _plus(_plus(_requirement(signed_size, worst_ppm, imf),
                           _times(q, _pos_part(m.taker_fee_ppm))), _times(q, gap))
        status = apply_fill_c(p.size, p.open_notional_qq, signed_size, worst_ppm, &new_size,
                              &new_on, &realized)
        checked(status, 0)
        collateral = _plus(_minus(_plus(_plus(p.margin_qq, lock), realized),
                                  _fee(_times(q, worst_ppm), m.taker_fee_ppm)),
                           _unsettled_funding(m, p))
        equity = _plus(collateral, _upnl(new_size, new_on, mark))
        lock_qq[0] = lock
        if equity < _requirement(new_size, mark, imf):
            return E_BELOW_INITIAL
        if acct.available_qq < lock:
            return E_INSUFFICIENT
        return OK

    cdef int _reduce_only_price(self, _Market m, const Pos* p, int64_t size, int tif,
                                int64_t* price_ppm) except -1:
        """Keep a reduce-only order's fills at or inside the price where closing its `size`
        contracts would take the whole position margin (funding settled, `kept`): a long sells at
        p >= ceil((ceil(open notional * size / |position|) - kept) / size), a short buys at
        p <= floor((floor(|open notional| * size / |position|) + kept) / size), on the tick grid
        against the account, so that no fill of it loses more than the position margin. An
        unprotected market order takes that bound as its protection price; a limit beyond it is
        E_BEYOND_BANKRUPTCY, as is an order with no acceptable price on the grid."""
        cdef int64_t q = _abs(p.size), tick = m.tick_ppm, bound
        cdef int64_t kept = _plus(p.margin_qq, _unsettled_funding(m, p))
        cdef pc_i128 need
        if p.size > 0:  # sells at p >= bound: size * p >= the notional it closes - kept
            need = pc_wide_sub(pc_wide(mul_div_up(p.open_notional_qq, size, q)), pc_wide(kept))
            if pc_wide_le(need, pc_wide_mul(size, tick)):
                return OK  # every price on the grid
            if pc_wide_lt(pc_wide_mul(size, SCALE - tick), need):
                return E_BEYOND_BANKRUPTCY  # none
            bound = wide_div_up(need, pc_wide(size))
            return _within_bound(tif, price_ppm, (bound + tick - 1) // tick * tick, True)
        need = pc_wide_add(pc_wide(mul_div_down(_minus(0, p.open_notional_qq), size, q)),
                           pc_wide(kept))  # buys at p <= bound: size * p <= that
        if not pc_wide_lt(need, pc_wide_mul(size, SCALE - tick)):
            return OK
        if pc_wide_lt(need, pc_wide_mul(size, tick)):
            return E_BEYOND_BANKRUPTCY
        bound = wide_div_down(need, pc_wide(size))
        return _within_bound(tif, price_ppm, bound // tick * tick, False)

    cdef int _reduce_only_size(self, _Market m, Pos* p, int side, int64_t* size) noexcept:
        """Cut a reduce-only order so that the account's resting reduce-only orders never exceed
        its position; the verdict (OK, REDUCE_ONLY_WOULD_INCREASE or SIZE_BELOW_MINIMUM)."""
        cdef int64_t room = _abs(p.size) - p.ro_remaining
        if p.size == 0 or (side == BUY) != (p.size < 0):
            return E_REDUCE_ONLY
        if room <= 0:
            return E_REDUCE_ONLY
        room = _floor_to_lot(room, m.lot)
        if room <= 0:
            return E_REDUCE_ONLY
        if size[0] > room:
            size[0] = room
        if size[0] < m.min_size:
            return E_SIZE_BELOW_MIN
        return OK

    cdef int submit_c(self, _Market m, int64_t order_id, int64_t account, int side,
                      int64_t price_ppm, int64_t size, int tif, int stp, int flags,
                      SubmitOut* out) except -1:
        """Validate, margin-check, lock, match and apply the fills of one order; returns its code.
        The caller began the call."""
        cdef OrderBook book = m.book
        cdef int32_t limit = 0, a, slot
        cdef uint64_t table_pos = 0
        cdef int code
        cdef int64_t lock = 0, worst, i
        cdef Pos* p
        cdef XOrder* o
        cdef EventRec* e
        memset(out, 0, sizeof(SubmitOut))
        if m.phase != PHASE_ACTIVE:  # the lifecycle first: Resolving takes reduce-only orders only
            if m.phase != PHASE_RESOLVING:
                return self._reject(m, order_id, account, E_MARKET_NOT_TRADING)
            if not flags & CMD_REDUCE_ONLY:
                return self._reject(m, order_id, account, E_MARKET_REDUCE_ONLY)
        code = book._validate_place(order_id, account, side, tif, stp, flags, price_ppm, size,
                                    &limit, &table_pos)
        if code == OK and order_id >= FIRST_EXCHANGE_ORDER_ID:
            code = E_RESERVED_ORDER_ID
        if code != OK:
            return self._reject(m, order_id, account, code)
        a = _table_find(&self.account_ids, account)
        if a < 0:
            return self._reject(m, order_id, account, E_UNKNOWN_ACCOUNT)
        p = &m.pos[a]
        if flags & CMD_REDUCE_ONLY:
            code = self._reduce_only_size(m, p, side, &size)
            if code == OK:
                code = self._reduce_only_price(m, p, size, tif, &price_ppm)
        else:
            worst = price_ppm
            if tif == TIF_MARKET and price_ppm == 0:  # unprotected: the grid's edge
                worst = SCALE - m.tick_ppm if side == BUY else m.tick_ppm
            code = self._order_lock(m, &self.accts[a], p, size if side == BUY else -size, worst,
                                    &lock)
        if code != OK:
            return self._reject(m, order_id, account, code)
        book.reset_outputs()
        book.begin_command(0)
        book.want_deltas = False
        try:
            if flags & CMD_REDUCE_ONLY:  # its size or price may have changed since validation
                code = book.place_c(order_id, account, side, tif, stp, flags, price_ppm, size)
            else:
                code = book.place_valid_c(order_id, account, side, tif, stp, flags, size, limit,
                                          table_pos)
        finally:
            book.want_deltas = True
        if code != OK:  # post-only cross or FOK: nothing happened
            return self._reject(m, order_id, account, code)
        self.accts[a].available_qq -= lock  # covered: checked above
        self.accts[a].orders_qq += lock
        o = m.new_taker(order_id, a)
        o.lock_qq = lock
        o.remaining = size
        o.price_ppm = price_ppm
        o.side = <uint8_t>side
        o.reduce_only = (flags & CMD_REDUCE_ONLY) != 0
        e = self._event(EV_ORDER_CREATED, m.index)
        e.v[0] = order_id
        e.v[1] = account
        e.v[2] = price_ppm
        e.v[3] = size
        e.v[4] = lock
        e.b0 = <uint8_t>side
        e.b1 = <uint8_t>tif
        e.b2 = o.reduce_only
        self._touch_balance(a)
        for i in range(book.n_fills):
            self._apply_fill(m, &book.fills[i], o)
        self._release_reduced(m)
        self._apply_book_cancels(m)
        out.filled = book.out_filled
        out.resting = book.out_resting
        out.expired = book.out_expired
        if out.resting == 0:
            self._drop_order(m, o)  # filled in full or expired: free what remains
        else:
            o = m.rest_taker()
        if out.resting != 0 and o.reduce_only:
            slot = book.out_slot
            p = &m.pos[a]
            o.ro_linked = 1
            o.ro_prev = -1
            o.ro_next = p.ro_head if p.ro_count else -1
            if p.ro_count:
                m.orders[p.ro_head].ro_prev = slot
            p.ro_head = slot
            p.ro_count += 1
            p.ro_remaining += o.remaining
        e = self._event(EV_ORDER_ACCEPTED, m.index)
        e.v[0] = order_id
        e.v[1] = account
        e.v[2] = out.filled
        e.v[3] = out.resting
        e.v[4] = out.expired
        self._trim_reduce_only(m)
        self._finish(m)
        out.lock_qq = lock
        out.size = size
        return OK

    # ------------------------------------------------------------------ fills and cancels

    cdef int _fill_side(self, _Market m, XOrder* o, int64_t signed_size, int64_t price_ppm,
                        int64_t* oi_delta) except -1:
        """One side of a fill: the order's lock share moves into position margin, the position
        settles the funding it owes since its last touch, then changes and realises PnL through
        the clearing pool. A position that shrank or changed sign is marked for the margin release
        at the end of the call."""
        cdef int32_t a = o.account
        cdef Pos* p = &m.pos[a]
        cdef int64_t q = _abs(signed_size), moved = 0, before = p.size
        pc_mul_div_up(o.lock_qq, q, o.remaining, &moved)  # the filled share, ceil: <= lock
        o.lock_qq -= moved
        o.remaining -= q
        if o.ro_linked:
            p.ro_remaining -= q
        self.accts[a].orders_qq -= moved
        self._margin_add(p, moved)
        if p.funding_index_idx != m.funding_index_idx:
            self._settle_funding(m, a, p)
        self._position_trade(m, p, signed_size, price_ppm)
        oi_delta[0] += _pos_part(p.size) - _pos_part(before)
        self._touch_balance(a)
        self._touch_position(a)
        if _abs(p.size) < _abs(before) or (before != 0 and (p.size < 0) != (before < 0)):
            p.reduced_call = self.call_id
        return 0

    cdef int _position_trade(self, _Market m, Pos* p, int64_t signed_size,
                             int64_t price_ppm) except -1:
        """A position buys (+) or sells (-) at `price_ppm`: it changes and realises PnL through
        the clearing pool, which pays a profit; a loss is collected from the position margin and
        what it cannot pay is bad debt."""
        cdef int64_t new_size = 0, new_on = 0, realized = 0, taken
        checked(apply_fill_c(p.size, p.open_notional_qq, signed_size, price_ppm, &new_size,
                             &new_on, &realized), 0)
        p.size = new_size
        p.open_notional_qq = new_on
        p.realized_pnl_qq = _plus(p.realized_pnl_qq, realized)
        p.traded = 1
        if new_size == 0:
            p.liquidating = 0
        if realized > 0:
            m.pool_qq = _minus(m.pool_qq, realized)
            self._margin_add(p, realized)
        elif realized < 0:
            taken = -realized if -realized < p.margin_qq else p.margin_qq
            self._margin_add(p, -taken)
            m.pool_qq = _plus(m.pool_qq, taken)
            m.bad_debt_qq = _plus(m.bad_debt_qq, -realized - taken)
        return 0

    cdef int _apply_fill(self, _Market m, const FillRec* f, XOrder* taker) except -1:
        cdef XOrder* maker = &m.orders[f.maker_slot]
        cdef int64_t q = f.size, price = f.price_ppm, notional = f.size * f.price_ppm
        cdef int64_t taker_signed = q if f.taker_side == BUY else -q
        cdef int64_t oi_delta = 0, taker_fee, maker_fee, collected, taken, rebate, share = 0
        cdef int32_t ta, ma
        cdef EventRec* e
        self._fill_side(m, taker, taker_signed, price, &oi_delta)
        self._fill_side(m, maker, -taker_signed, price, &oi_delta)
        ta = taker.account
        ma = maker.account
        # fees: the taker's first, so a rebate is paid out of fees actually collected
        taker_fee = _fee(notional, m.taker_fee_ppm)
        maker_fee = _fee(notional, m.maker_fee_ppm)
        if self.call_liquidation:  # the liquidated account pays no trading fee, its maker no rebate
            taker_fee = 0
            if maker_fee < 0:
                maker_fee = 0
        collected = taker_fee if taker_fee < m.pos[ta].margin_qq else m.pos[ta].margin_qq
        self._margin_add(&m.pos[ta], -collected)
        m.fees_qq = _plus(m.fees_qq, collected)
        if maker_fee >= 0:
            taken = maker_fee if maker_fee < m.pos[ma].margin_qq else m.pos[ma].margin_qq
            self._margin_add(&m.pos[ma], -taken)
            m.fees_qq = _plus(m.fees_qq, taken)
            collected += taken
        else:
            rebate = -maker_fee if -maker_fee < collected else collected
            m.fees_qq -= rebate
            self._margin_add(&m.pos[ma], rebate)
            collected -= rebate
        if collected > 0:
            pc_mul_div_down(collected, m.insurance_share_ppm, 1_000_000, &share)  # <= collected
            m.fees_qq -= share
            m.insurance_fund_qq = _plus(m.insurance_fund_qq, share)
        m.open_interest = _plus(m.open_interest, oi_delta)
        e = self._event(EV_ORDER_FILLED, m.index)
        e.v[0] = f.taker_order_id
        e.v[1] = f.taker_account
        e.v[2] = f.maker_order_id
        e.v[3] = f.maker_account
        e.v[4] = price
        e.v[5] = q
        e.v[6] = taker_fee
        e.v[7] = maker_fee
        e.b0 = f.taker_side
        if f.maker_remaining == 0:
            self._drop_order(m, maker)
        return 0

    cdef int _settle_funding(self, _Market m, int32_t a, Pos* p) except -1:
        """Settle the funding a position owes or is owed since its last touch: the payer rounds
        up, the receiver down, through the market's funding pool; the rounding surplus (dust, in
        idx) goes to the insurance fund in whole quantums. A payment the position margin cannot
        cover is funding bad debt. FundingSettled (and the account's balances) when it moved
        money."""
        cdef int64_t index = m.funding_index_idx, then = p.funding_index_idx
        cdef int64_t amount, dust = 0, taken, swept
        cdef pc_i128 owed_idx
        cdef EventRec* e
        if then == index:
            return 0
        if p.size != 0:
            amount = _funding_payment(p.size, index, then)
            owed_idx = pc_wide_sub(pc_wide_mul(p.size, index), pc_wide_mul(p.size, then))
            checked(pc_narrow(pc_wide_sub(pc_wide_mul(amount, IDX_PER_QQ), owed_idx), &dust), 0)
            if dust < 0 or dust >= IDX_PER_QQ:
                raise IntegrityError(f"funding dust {dust} of one settlement is outside [0, 1e6)")
            if amount > 0:  # collected from position margin; the rest is funding bad debt
                taken = amount if amount < p.margin_qq else p.margin_qq
                self._margin_add(p, -taken)
                m.funding_pool_qq = _plus(m.funding_pool_qq, taken)
                m.funding_bad_debt_qq = _plus(m.funding_bad_debt_qq, amount - taken)
            elif amount < 0:  # the funding pool pays
                m.funding_pool_qq = _plus(m.funding_pool_qq, amount)
                self._margin_add(p, _minus(0, amount))
            m.funding_dust_idx += dust  # both below 1e6
            if m.funding_dust_idx >= IDX_PER_QQ:
                swept = m.funding_dust_idx // IDX_PER_QQ
                m.funding_pool_qq = _minus(m.funding_pool_qq, swept)
                m.insurance_fund_qq = _plus(m.insurance_fund_qq, swept)
                m.funding_dust_idx -= swept * IDX_PER_QQ
            p.funding_paid_qq = _plus(p.funding_paid_qq, amount)
            if amount != 0:
                e = self._event(EV_FUNDING_SETTLED, m.index)
                e.v[0] = self.accts[a].account
                e.v[1] = amount
                e.v[2] = index
                self._touch_balance(a)
        p.funding_index_idx = index
        return 0

    cdef int _close_at(self, _Market m, int32_t a, int64_t price_ppm) except -1:
        """Close the account's position at `price_ppm` against the clearing pool (settlement)."""
        cdef Pos* p = &m.pos[a]
        cdef int64_t before = p.size
        self._position_trade(m, p, _minus(0, p.size), price_ppm)
        m.open_interest = _minus(m.open_interest, _pos_part(before))
        self._touch_balance(a)
        self._touch_position(a)
        return 0

    cdef int _cancel_for_phase(self, _Market m, bint all_orders, int reason) except -1:
        """Cancel the market's live orders (all of them, or all but the reduce-only ones) in
        order id order with `reason`, releasing their locks; the caller began the call."""
        cdef int32_t s
        for s in _live_slots_by_id(m, -1, not all_orders):
            self._cancel_order(m, s, reason)
        return 0

    cdef int _cancel_order(self, _Market m, int32_t slot, int reason) except -1:
        """Take one live order out of the book on the exchange's own initiative: its lock returns
        to `available` and an OrderCancelled with `reason` is recorded."""
        cdef XOrder* o = &m.orders[slot]
        cdef int64_t order_id = o.order_id, remaining = o.remaining, released = o.lock_qq
        cdef int64_t account = self.accts[o.account].account
        cdef EventRec* e
        cdef int code = self._book_quiet(m, OP_CANCEL, order_id, 0)
        if code != OK:
            raise IntegrityError(f"book refused to cancel order {order_id}: {code}")
        self._drop_order(m, o)
        e = self._event(EV_ORDER_CANCELLED, m.index)
        e.v[0] = order_id
        e.v[1] = account
        e.v[2] = remaining
        e.v[3] = released
        e.b0 = <uint8_t>reason
        return 0

    cdef int _book_quiet(self, _Market m, int op, int64_t key, int64_t size) except -1:
        """One book command (cancel or amend of order `key`, or cancel-all of account `key`) with
        fresh output buffers and no L2 deltas; returns the book's code."""
        m.book.reset_outputs()
        m.book.begin_command(0)
        m.book.want_deltas = False
        try:
            if op == OP_CANCEL:
                return m.book.cancel_c(key)
            if op == OP_CANCEL_ALL:
                return m.book.cancel_all_c(key)
            return m.book.amend_c(key, size, 0)  # same price, smaller: in place
        finally:
            m.book.want_deltas = True

    cdef tuple _built_events(self):
        """The running call's events so far as perpcore.events records (the buffer empties): a
        rare call splices them with the Python events of the market's services."""
        cdef tuple out = _build_events(self.events, self.n_events, self.names)
        self._reset_events()
        return out

    cdef int _release_reduced(self, _Market m) except -1:
        """After all fills of a call: release what each shrunk or flipped position frees. Not
        per fill: a taker's later fills bring their own lock shares, but the open-interest
        scaling of the requirement is not linear in size, so a surplus released mid-sweep could
        be missing by the end."""
        cdef int64_t i
        cdef int32_t a
        for i in range(self.n_touched_positions):
            a = self.touched_positions[i]
            if m.pos[a].reduced_call == self.call_id:
                self._release_freed_margin(m, a)
        return 0

    cdef int _release_freed_margin(self, _Market m, int32_t a) except -1:
        """After a reduction, return to `available` the position margin above the initial
        requirement (never more than the equity above it)."""
        cdef Pos* p = &m.pos[a]
        cdef int64_t collateral = p.margin_qq, equity, im, release
        equity = _plus(collateral, _upnl(p.size, p.open_notional_qq, m.mark_ppm))
        im = _requirement(p.size, m.mark_ppm,
                          imf_ppm_c(m.base_imf_ppm, _oi_notional(m, m.open_interest),
                                    m.oi_lower_cap_qq, m.oi_upper_cap_qq))
        release = collateral - im
        if equity < collateral:
            release = _minus(equity, im)
        if release > 0:
            self._margin_add(p, -release)
            self.accts[a].available_qq = _plus(self.accts[a].available_qq, release)
        return 0

    cdef int _drop_order(self, _Market m, XOrder* o) except -1:
        """Forget an order that left the book (or never rested); its remaining lock returns to
        `available`."""
        cdef int32_t a = o.account
        cdef Pos* p
        self.accts[a].available_qq = _plus(self.accts[a].available_qq, o.lock_qq)
        self.accts[a].orders_qq -= o.lock_qq
        o.lock_qq = 0
        if o.ro_linked:
            p = &m.pos[a]
            if o.ro_prev != -1:
                m.orders[o.ro_prev].ro_next = o.ro_next
            else:
                p.ro_head = o.ro_next
            if o.ro_next != -1:
                m.orders[o.ro_next].ro_prev = o.ro_prev
            p.ro_count -= 1
            p.ro_remaining -= o.remaining
            o.ro_linked = 0
        self._touch_balance(a)
        m.pos[a].live_orders -= 1
        o.live = 0
        return 0

    cdef int _apply_cancel(self, _Market m, const CancelRec* c) except -1:
        cdef XOrder* o = &m.orders[c.slot]
        cdef int64_t released = o.lock_qq
        cdef EventRec* e
        self._drop_order(m, o)
        e = self._event(EV_ORDER_CANCELLED, m.index)
        e.v[0] = c.order_id
        e.v[1] = c.account
        e.v[2] = c.size
        e.v[3] = released
        e.b0 = c.reason
        return 0

    cdef int _apply_book_cancels(self, _Market m) except -1:
        cdef int64_t i
        for i in range(m.book.n_cancels):
            self._apply_cancel(m, &m.book.cancels[i])
        return 0

    cdef int _trim_reduce_only(self, _Market m) except -1:
        """Cancel or shrink resting reduce-only orders of the call's touched positions that would
        no longer only reduce (largest-priced last: the orders nearest the touch keep their size;
        for a short, the other way round)."""
        cdef int64_t i, k, n, room, keep
        cdef int32_t a, s, t
        cdef Pos* p
        cdef XOrder* o
        cdef int code
        for i in range(self.n_touched_positions):
            a = self.touched_positions[i]
            p = &m.pos[a]
            if p.ro_count == 0:
                continue
            n = p.ro_count
            while self.ro_order_cap < n:
                self.ro_order = <int32_t*>_grow_array(self.ro_order, &self.ro_order_cap,
                                                      sizeof(int32_t), 16)
            s = p.ro_head
            for k in range(n):  # insertion sort by (price, order id)
                t = <int32_t>k
                while t > 0 and _ro_before(m, s, self.ro_order[t - 1]):
                    self.ro_order[t] = self.ro_order[t - 1]
                    t -= 1
                self.ro_order[t] = s
                s = m.orders[s].ro_next
            room = _abs(p.size)
            for k in range(n):
                s = self.ro_order[n - 1 - k] if p.size < 0 else self.ro_order[k]
                o = &m.orders[s]
                if p.size == 0 or (o.side == BUY) != (p.size < 0):
                    keep = 0
                else:
                    keep = _floor_to_lot(o.remaining if o.remaining < room else room, m.lot)
                room -= keep
                if keep == o.remaining:
                    continue
                if keep == 0:  # a reduce-only order locks nothing: nothing is released
                    self._cancel_order(m, s, CANCEL_REDUCE_ONLY)
                    continue
                code = self._book_quiet(m, OP_AMEND, o.order_id, keep)
                if code != OK:
                    raise IntegrityError(f"book refused to trim reduce-only order "
                                         f"{o.order_id}: {code}")
                p.ro_remaining -= o.remaining - keep
                o.remaining = keep
        return 0

    cdef int cancel_c(self, _Market m, int64_t order_id) except -1:
        """Cancel a live order; the caller began the call."""
        return self._cancel_in_book(m, False, order_id)

    cdef int cancel_all_c(self, _Market m, int64_t account) except -1:
        """Cancel every live order of an account in one market; the caller began the call."""
        return self._cancel_in_book(m, True, account)

    cdef int _cancel_in_book(self, _Market m, bint all_of_account, int64_t key) except -1:
        """Run one book cancel (by order id, or of every order of the account ``key``) without L2
        deltas, then release what it cancelled."""
        cdef int code = self._book_quiet(m, OP_CANCEL_ALL if all_of_account else OP_CANCEL, key, 0)
        if code != OK:
            return code
        self._apply_book_cancels(m)
        self._finish(m)
        return OK

    # ------------------------------------------------------------------ checks

    cdef bint _below_initial_without_withdrawals(self, int32_t a) except -1:
        """Would the account, without its pending withdrawals, be below its initial requirements
        (free money + equity, unsettled funding included, in every market < sum of initial
        requirements)? Exact ints."""
        cdef _Market m
        cdef Pos* p
        cdef object equity = <object>self.accts[a].available_qq + self.accts[a].orders_qq
        cdef object required = 0
        for m in self.market_list:
            p = &m.pos[a]
            equity += (p.margin_qq + <object>_upnl(p.size, p.open_notional_qq, m.mark_ppm)
                       + _unsettled_funding(m, p))
            required += _requirement(p.size, m.mark_ppm,
                                     imf_ppm_c(m.base_imf_ppm, _oi_notional(m, m.open_interest),
                                               m.oi_lower_cap_qq, m.oi_upper_cap_qq))
        return equity < required

    cdef int _debug_check_after_call(self) except -1:
        """Debug builds: keep the full integrity check's cost near DEBUG_CHECK_BUDGET per call
        (checked after call 1, 1 + k, 1 + 2k, ... with k = cost // budget + 1)."""
        cdef int64_t cost = <int64_t>self.n_accounts * (len(self.market_list) + 1)
        cdef _Market m
        for m in self.market_list:
            cost += m.book.n_live + m.book.n_levels + m.book.nodes_used
        if self.debug_ops % (cost // DEBUG_CHECK_BUDGET + 1) == 0:
            self.check_integrity_c()
        self.debug_ops += 1
        return 0

    cdef int check_integrity_c(self) except -1:
        cdef _Market m
        cdef int32_t a, s, t
        cdef int64_t k, n, total, longs, shorts
        cdef object open_notional, unsettled
        cdef set listed
        cdef Pos* p
        cdef XOrder* o
        cdef OrderBook book
        cdef list locked = [0] * self.n_accounts
        cdef list withdrawing = [0] * self.n_accounts
        cdef list live
        self._conservation()
        if self.account_ids.count != self.n_accounts:
            raise IntegrityError("account table and account slots disagree")
        for a in range(self.n_accounts):
            if _table_find(&self.account_ids, self.accts[a].account) != a:
                raise IntegrityError(f"account {self.accts[a].account} is not found by its id")
        for m in self.market_list:
            book = m.book
            book.check_integrity_c()
            live = [0] * self.n_accounts  # live orders per account slot in m
            n = 0
            if m.orders_cap < book.nodes_used:
                raise IntegrityError(f"{m.name}: order state for {m.orders_cap} of "
                                     f"{book.nodes_used} node slots")
            for s in range(m.orders_cap):
                o = &m.orders[s]
                if not o.live:
                    continue
                n += 1
                if book._find(o.order_id) != s or book.nodes[s].remaining != o.remaining or \
                        book.nodes[s].account != self.accts[o.account].account:
                    raise IntegrityError(f"{m.name}: order {o.order_id} disagrees with the book")
                if o.lock_qq < 0 or (o.reduce_only and o.lock_qq) or o.ro_linked != o.reduce_only:
                    raise IntegrityError(f"{m.name}: order {o.order_id} has lock {o.lock_qq}")
                locked[o.account] += o.lock_qq
                live[o.account] += 1
            if n != book.n_live:  # each live order at its own node: the same orders
                raise IntegrityError(f"{m.name}: {book.n_live} orders in the book, {n} tracked")
            longs = shorts = 0
            open_notional = 0
            unsettled = 0  # in idx
            listed = set()
            for k in range(m.n_changed):
                a = m.changed[k]
                if not 0 <= a < self.n_accounts or not m.pos[a].changed or a in listed:
                    raise IntegrityError(f"{m.name}: the changed list is broken at slot {a}")
                listed.add(a)
            for a in range(self.n_accounts):
                p = &m.pos[a]
                if p.live_orders != live[a]:
                    raise IntegrityError(f"{m.name}: account {self.accts[a].account} counts "
                                         f"{p.live_orders} live orders, holds {live[a]}")
                if p.changed != (a in listed) or (p.liquidating and p.size == 0):
                    raise IntegrityError(f"{m.name}: account {self.accts[a].account}: changed flag "
                                         f"{p.changed} or liquidating flag {p.liquidating} is "
                                         f"wrong")
                longs += _pos_part(p.size)
                shorts += _pos_part(-p.size)
                open_notional += p.open_notional_qq
                if p.size != 0 and p.funding_index_idx != m.funding_index_idx:
                    unsettled += <object>p.size * (<object>m.funding_index_idx
                                                    - p.funding_index_idx)
                n = 0
                total = 0
                s = p.ro_head
                while n < p.ro_count:
                    if s == -1 or not m.orders[s].ro_linked or m.orders[s].account != a:
                        raise IntegrityError(f"{m.name}: reduce-only list of account "
                                             f"{self.accts[a].account} is broken")
                    if p.size == 0 or (m.orders[s].side == BUY) != (p.size < 0):
                        raise IntegrityError(f"{m.name}: a reduce-only order of "
                                             f"{self.accts[a].account} does not reduce")
                    total += m.orders[s].remaining
                    n += 1
                    s = m.orders[s].ro_next
                if s != -1 and p.ro_count or total != p.ro_remaining or total > _abs(p.size):
                    raise IntegrityError(f"{m.name}: reduce-only orders of "
                                         f"{self.accts[a].account} exceed its position")
            if longs != shorts or longs != m.open_interest:
                raise IntegrityError(f"{m.name}: longs {longs}, shorts {shorts}, "
                                     f"open interest {m.open_interest}")
            if m.pool_qq + <object>m.bad_debt_qq != -open_notional:
                raise IntegrityError(f"{m.name}: clearing pool {m.pool_qq} + bad debt "
                                     f"{m.bad_debt_qq} != -open notional {open_notional}")
            if m.funding_index_idx != m.sampler.index_idx or m.phase != m.services.phase:
                raise IntegrityError(f"{m.name}: funding index {m.funding_index_idx} or phase "
                                     f"{m.phase} disagrees with its services")
            if ((m.funding_pool_qq + <object>m.funding_bad_debt_qq) * IDX_PER_QQ
                    != m.funding_dust_idx - unsettled
                    or not 0 <= m.funding_dust_idx < IDX_PER_QQ):
                raise IntegrityError(f"{m.name}: funding pool {m.funding_pool_qq} does not match "
                                     f"the unsettled funding {unsettled} and dust "
                                     f"{m.funding_dust_idx}")
        for wid, (account, amount, due_at) in self.withdrawals.items():
            withdrawing[_table_find(&self.account_ids, account)] += amount
        for a in range(self.n_accounts):
            if self.accts[a].orders_qq != locked[a]:
                raise IntegrityError(f"account {self.accts[a].account}: locked_for_orders "
                                     f"{self.accts[a].orders_qq} != sum of its orders' locks "
                                     f"{locked[a]}")
            if self.accts[a].withdraw_qq != withdrawing[a]:
                raise IntegrityError(f"account {self.accts[a].account}: locked_for_withdraw does "
                                     f"not match its pending withdrawals")
        return 0

    cdef object _conservation(self):
        """Verify that no bucket is negative and every quantum is accounted for; net deposits."""
        cdef int32_t a
        cdef _Market m
        cdef Acct* acct
        cdef object held = 0
        for a in range(self.n_accounts):
            acct = &self.accts[a]
            if acct.available_qq < 0 or acct.orders_qq < 0 or acct.withdraw_qq < 0:
                raise IntegrityError(f"account {acct.account} has a negative bucket")
            held += <object>acct.available_qq + acct.orders_qq + acct.withdraw_qq
        for m in self.market_list:
            if m.insurance_fund_qq < 0 or m.fees_qq < 0:
                raise IntegrityError(f"market {m.name} holds a negative fund")
            held += <object>m.insurance_fund_qq + m.fees_qq + m.pool_qq + m.funding_pool_qq
            for a in range(self.n_accounts):
                if m.pos[a].margin_qq < 0:
                    raise IntegrityError(f"account {self.accts[a].account} has a negative "
                                         f"position margin in {m.name}")
                held += m.pos[a].margin_qq
        if held != <object>self.deposited_qq - self.withdrawn_qq:
            raise IntegrityError(f"conservation broken: {held} held, "
                                 f"{self.deposited_qq - self.withdrawn_qq} deposited net")
        return self.deposited_qq - self.withdrawn_qq

    # ================================================================== Python API: markets

    def add_market(self, market, *, tick_ppm=1000, lot=1, min_size=1, max_size=1_000_000_000,
                   risk=None, mark_ppm=500_000, mark_params=None, funding=None, active=True):
        """List a market: its book's grid and sizes, its risk tier, its initial mark (and index),
        the guards of its mark service, its funding parameters (default: DEFAULT_FUNDING with the
        tier's factors) and its phase: Active, or Draft until ``activate``."""
        cdef _Market m
        cdef RiskTier tier
        if not PyUnicode_Check(market):
            raise InvalidType(f"market must be a str, not {type(market).__name__}")
        if not market or market in self.by_name:
            raise InvalidInput(f"market name {market!r} is empty or already listed")
        if risk is None:
            risk = RiskTier()
        elif not isinstance(risk, RiskTier):
            raise InvalidType("risk must be a perpcore.RiskTier")
        if funding is None:
            funding = FundingParams.for_tier(risk, **_DEFAULT_FUNDING)
        elif not isinstance(funding, FundingParams):
            raise InvalidType("funding must be a perpcore.FundingParams")
        if not isinstance(active, (bool, np.bool_)):
            raise InvalidType("active must be a bool")
        book = OrderBook(tick_ppm=tick_ppm, lot=lot, min_size=min_size, max_size=max_size)
        mark = _valid_mark(mark_ppm)
        sampler = FundingSampler(funding)
        services = _MarketServices(market, mark, mark_params, funding, sampler, active=bool(active))
        tier = risk
        m = _Market.__new__(_Market)
        m.name = market
        m.index = <int32_t>len(self.market_list)
        m.book = book
        m.book.reducible = _reducible
        m.book.reducible_ctx = <void*>m
        m.risk = tier
        m.base_imf_ppm = tier.base_imf_ppm
        m.mmf_ppm = tier.mmf_ppm
        m.oi_lower_cap_qq = tier.oi_lower_cap_qq
        m.oi_upper_cap_qq = tier.oi_upper_cap_qq
        m.taker_fee_ppm = tier.taker_fee_ppm
        m.maker_fee_ppm = tier.maker_fee_ppm
        m.insurance_share_ppm = tier.insurance_share_ppm
        m.tick_ppm = m.book.tick_ppm
        m.lot = m.book.lot
        m.min_size = m.book.min_size
        m.mark_ppm = services.mark.mark_ppm  # the service's bounded value
        m.services = services
        m.sampler = sampler
        m.phase = services.phase
        m.funding_index_idx = m.sampler.index_idx
        m.book.report_slots = True
        m.pos = <Pos*>calloc(self.accounts_cap, sizeof(Pos))
        if m.pos == NULL:
            raise MemoryError()
        self.by_name[market] = m
        self.market_list.append(m)
        self.names.append(market)

    @property
    def markets(self):
        """The listed markets' names, in listing order."""
        return tuple(self.names)

    def book(self, market):
        """The market's order book (read it; trade through the exchange)."""
        return self._market(market).book

    def risk(self, market):
        return self._market(market).risk

    def set_mark(self, market, price_ppm):
        """Set a trusted mark (ppm, strictly inside (0, 1_000_000)), which is also the index,
        bypassing the oracle guards (backtests); risk reads it from now on. Draft or Active only
        (MARKET_NOT_ACTIVE)."""
        cdef _Market m = self._market_or_none(market)
        cdef int64_t price
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        price = _valid_mark(price_ppm)
        if m.phase > PHASE_ACTIVE:
            return _call_result(_MARKET_NOT_ACTIVE, ())
        m.services.trusted_mark(price)
        m.mark_ppm = price
        return _call_result(_CODE_OK, ())

    def update_oracle(self, market, raw_ppm, source_ts, now):
        """Feed one oracle reading through the market's mark service (bounds, deviation clamp,
        smoothing, staleness); the mark risk uses becomes the service's mark at ``now``. While
        the market resolves, readings are ignored and the mark follows its interpolation."""
        cdef _Market m = self._market_or_none(market)
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        event = m.services.oracle(raw_ppm, source_ts, now)
        m.mark_ppm = event.mark_ppm
        return _call_result(_CODE_OK, (event,))

    def refresh_mark(self, market, now):
        """Recompute the mark at ``now`` without a reading (a resolving market's interpolation)."""
        cdef _Market m = self._market_or_none(market)
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        event = m.services.mark.event(_as_i64(now, "now"), False)
        m.mark_ppm = event.mark_ppm
        return _call_result(_CODE_OK, (event,))

    def mark(self, market):
        return self._market(market).mark_ppm

    def index(self, market):
        """The market's index (funding's reference price), ppm."""
        return self._market(market).services.mark.index_ppm

    def mark_stale(self, market, now):
        """Whether the market's oracle-fed prices are stale at ``now`` (a trusted mark never is)."""
        cdef _Market m = self._market(market)
        return m.services.stale(_as_i64(now, "now"))

    def phase(self, market):
        """The market's lifecycle phase (a perpcore.MarketPhase)."""
        return self._market(market).services.phase

    # ================================================================== funding

    def sample_funding(self, market):
        """Take this block's premium sample from the book against the index (Active only; None
        in any other phase, which runs no funding)."""
        cdef _Market m = self._market(market)
        if m.phase != PHASE_ACTIVE:
            return None
        return m.sampler.sample(m.book, m.services.mark.index_ppm)

    def close_funding_minute(self, market):
        """Close the open minute (its padded median); None outside Active."""
        cdef _Market m = self._market(market)
        if m.phase != PHASE_ACTIVE:
            return None
        return m.sampler.close_minute_c()

    def close_funding_period(self, market, now):
        """Close the funding period at the current mark: the capped rate moves the cumulative
        index (``FundingIndexUpdated`` on ``funding.event``). Positions settle it on their next
        touch. MARKET_NOT_ACTIVE outside Active."""
        cdef _Market m = self._market_or_none(market)
        cdef int64_t t
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        t = _as_i64(now, "now")
        if m.phase != PHASE_ACTIVE:
            return _call_result(_MARKET_NOT_ACTIVE, ())
        period = m.sampler.close_period(m.mark_ppm)
        m.funding_index_idx = m.sampler.index_idx
        return _call_result(_CODE_OK, (m.services.period_event(period, t),))

    def funding_index(self, market):
        """The market's cumulative funding index, idx (1e-6 qq per contract)."""
        return self._market(market).funding_index_idx

    def funding_pool(self, market):
        """Funding paid in and not yet paid out (see ``perpcore.ledger``)."""
        return self._market(market).funding_pool_qq

    # ================================================================== lifecycle

    def activate(self, market, now):
        """Draft → Active: trading and funding start."""
        cdef _Market m = self._market(market)
        event = m.services.advance(_ACTIVE, _as_i64(now, "now"))
        m.phase = m.services.phase
        return _call_result(_CODE_OK, (event,))

    def begin_resolution(self, market, resolved_ppm, now, window_s):
        """Active → Resolving: the outcome is ``resolved_ppm`` (0 and 1_000_000 included). Orders
        that could add exposure (all but reduce-only ones) are cancelled, only reduce-only orders
        are taken from now on, funding stops and the mark moves linearly to the resolved value
        over ``window_s``."""
        cdef _Market m = self._market(market)
        cdef int64_t value = _as_i64(resolved_ppm, "resolved_ppm")
        cdef int64_t t, window
        if not 0 <= value <= SCALE:
            raise InvalidInput(f"resolved_ppm={value} must be in [0, {SCALE}] (ppm of probability)")
        t = _as_i64(now, "now")
        window = _as_i64(window_s, "window_s")
        if window < 0:
            raise InvalidInput("window_s must be non-negative")
        changed = m.services.advance(_RESOLVING, t)  # IllegalTransition: nothing changed
        m.phase = m.services.phase
        self._reset_events()
        self._begin_call(m.index)
        self._cancel_for_phase(m, False, CANCEL_REDUCE_ONLY)
        cancelled = self._built_events()
        marked = m.services.mark.begin_resolution(value, t, window)
        m.mark_ppm = marked.mark_ppm
        self._finish(m)
        return _call_result(_CODE_OK, (changed,) + cancelled + (marked,) + self._built_events())

    def resolve(self, market, now):
        """Resolving → Resolved: trading closes (every resting order is cancelled, reason
        MARKET_CLOSED) and the mark is the resolved value."""
        cdef _Market m = self._market(market)
        cdef int64_t t = _as_i64(now, "now")
        changed = m.services.advance(_RESOLVED, t)  # IllegalTransition: nothing changed
        m.phase = m.services.phase
        self._reset_events()
        self._begin_call(m.index)
        self._cancel_for_phase(m, True, CANCEL_MARKET_CLOSED)
        m.mark_ppm = m.services.mark.resolved_ppm
        self._finish(m)
        return _call_result(_CODE_OK, (changed,) + self._built_events())

    def settle(self, market, now):
        """Resolved → Settled: every position settles its funding and closes at the resolved
        value through the clearing pool; all position margin returns to ``available`` and open
        interest is 0."""
        cdef _Market m = self._market(market)
        cdef int64_t t = _as_i64(now, "now")
        cdef int64_t price, margin
        cdef int32_t a
        cdef Pos* p
        cdef list open_positions = [], margined = []
        changed = m.services.advance(_SETTLED, t)  # IllegalTransition: nothing changed
        m.phase = m.services.phase
        self._reset_events()
        self._begin_call(m.index)
        price = m.services.mark.resolved_ppm
        for a in range(self.n_accounts):
            if m.pos[a].size != 0:
                open_positions.append((self.accts[a].account, a))
            else:  # a flat position settles no funding: it only moves to the index
                m.pos[a].funding_index_idx = m.funding_index_idx
        open_positions.sort()
        for _, a in open_positions:
            p = &m.pos[a]
            self._settle_funding(m, a, p)
            self._close_at(m, a, price)
        for a in range(self.n_accounts):
            if m.pos[a].margin_qq != 0:
                margined.append((self.accts[a].account, a))
        margined.sort()
        for _, a in margined:
            margin = m.pos[a].margin_qq
            self._margin_add(&m.pos[a], -margin)
            self.accts[a].available_qq = _plus(self.accts[a].available_qq, margin)
            self._touch_balance(a)
        self._finish(m)
        return _call_result(_CODE_OK, (changed,) + self._built_events())

    # ================================================================== money in and out

    def deposit(self, account, amount_qq):
        """Credit ``amount_qq`` (> 0) to the account's ``available``; the first deposit opens it."""
        cdef int64_t acct = _valid_account(account)
        cdef int64_t amount = _as_i64(amount_qq, "amount_qq")
        cdef int64_t deposited
        cdef int32_t a
        cdef EventRec* e
        if amount <= 0:
            raise InvalidInput(f"deposit amount_qq={amount} must be positive")
        deposited = _plus(self.deposited_qq, amount)
        a = self._open_account(acct)
        self.accts[a].available_qq = _plus(self.accts[a].available_qq, amount)
        self.deposited_qq = deposited
        self._reset_events()
        self._begin_call(-1)
        e = self._event(EV_DEPOSITED, -1)
        e.v[0] = acct
        e.v[1] = amount
        self._touch_balance(a)
        self._finish(None)
        return self._hand_events(_call_result(_CODE_OK, None))

    cdef object _available_refusal(self, int64_t acct, int64_t amount, int32_t* slot):
        """Why `amount` cannot leave `acct`'s available (UNKNOWN_ACCOUNT, INSUFFICIENT_AVAILABLE),
        or None with the account's slot in `slot`."""
        cdef int32_t a = _table_find(&self.account_ids, acct)
        if a < 0:
            return _UNKNOWN_ACCOUNT
        if self.accts[a].available_qq < amount:
            return _INSUFFICIENT_AVAILABLE
        slot[0] = a
        return None

    def add_margin(self, account, market, amount_qq):
        """Move ``available`` into the account's position margin in ``market``."""
        cdef int64_t acct = _valid_account(account)
        cdef int64_t amount = _as_i64(amount_qq, "amount_qq")
        cdef _Market m
        cdef int32_t a
        cdef EventRec* e
        if amount <= 0:
            raise InvalidInput(f"amount_qq={amount} must be positive")
        m = self._market_or_none(market)
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        if not m.services.phase.allows_trading:
            return _call_result(_MARKET_NOT_TRADING, ())
        refusal = self._available_refusal(acct, amount, &a)
        if refusal is not None:
            return _call_result(refusal, ())
        self._margin_add(&m.pos[a], amount)
        self.accts[a].available_qq -= amount
        self._reset_events()
        self._begin_call(m.index)
        e = self._event(EV_MARGIN_ADDED, m.index)
        e.v[0] = acct
        e.v[1] = amount
        self._touch_balance(a)
        self._finish(m)
        return self._hand_events(_call_result(_CODE_OK, None))

    def fund_insurance(self, account, market, amount_qq):
        """Move ``available`` of ``account`` into the market's insurance fund (an operator's
        top-up); it never comes back except through the fund's draws."""
        cdef int64_t acct = _valid_account(account)
        cdef int64_t amount = _as_i64(amount_qq, "amount_qq")
        cdef _Market m
        cdef int32_t a
        cdef int64_t fund
        if amount <= 0:
            raise InvalidInput(f"amount_qq={amount} must be positive")
        m = self._market_or_none(market)
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        refusal = self._available_refusal(acct, amount, &a)
        if refusal is not None:
            return _call_result(refusal, ())
        fund = _plus(m.insurance_fund_qq, amount)
        self.accts[a].available_qq -= amount
        m.insurance_fund_qq = fund
        self._reset_events()
        self._begin_call(-1)
        self._touch_balance(a)
        self._finish(None)
        return _call_result(_CODE_OK, (InsuranceCredited(m.name, acct, amount, fund),)
                            + self._built_events())

    def request_withdrawal(self, account, amount_qq, now):
        """Set ``amount_qq`` of ``available`` aside; it may be paid from ``now + withdrawal_delay``."""
        cdef int64_t acct = _valid_account(account)
        cdef int64_t amount = _as_i64(amount_qq, "amount_qq")
        cdef int64_t t = _as_i64(now, "now")
        cdef int64_t due, wid
        cdef int32_t a
        cdef EventRec* e
        if amount <= 0:
            raise InvalidInput(f"withdrawal amount_qq={amount} must be positive")
        refusal = self._available_refusal(acct, amount, &a)
        if refusal is not None:
            return _withdrawal_result(refusal, (), 0, 0)
        due = _plus(t, self.withdrawal_delay)
        self.accts[a].available_qq -= amount
        self.accts[a].withdraw_qq += amount
        wid = self.next_withdrawal_id
        self.next_withdrawal_id += 1
        self.withdrawals[wid] = (acct, amount, due)
        self._reset_events()
        self._begin_call(-1)
        e = self._event(EV_WITHDRAWAL_REQUESTED, -1)
        e.v[0] = wid
        e.v[1] = acct
        e.v[2] = amount
        e.v[3] = due
        self._touch_balance(a)
        self._finish(None)
        return self._hand_events(_withdrawal_result(_CODE_OK, None, wid, due))

    def process_withdrawal(self, withdrawal_id, now):
        """Pay a due withdrawal, or reject it if paying would leave the account below its initial
        requirements (the funds then return to ``available``; the result carries
        WITHDRAWAL_BELOW_INITIAL_MARGIN and the withdrawal is over either way)."""
        cdef int64_t wid = _as_i64(withdrawal_id, "withdrawal_id")
        cdef int64_t t = _as_i64(now, "now")
        cdef int64_t acct, amount, due
        cdef int32_t a
        cdef _Market m
        cdef EventRec* e
        w = self.withdrawals.get(wid)
        if w is None:
            return _withdrawal_result(_UNKNOWN_WITHDRAWAL, (), wid, 0)
        acct, amount, due = w
        if t < due:
            return _withdrawal_result(_WITHDRAWAL_NOT_DUE, (), wid, due)
        a = _table_find(&self.account_ids, acct)
        for m in self.market_list:  # a stale mark defers it: equity cannot be trusted there
            if m.pos[a].size != 0 and m.services.stale(t):
                return _withdrawal_result(_WITHDRAWAL_DEFERRED_STALE_MARK, (), wid, due)
        del self.withdrawals[wid]
        self._reset_events()
        self._begin_call(-1)
        if self._below_initial_without_withdrawals(a):
            self.accts[a].withdraw_qq -= amount
            self.accts[a].available_qq = _plus(self.accts[a].available_qq, amount)
            code = _WITHDRAWAL_BELOW_INITIAL_MARGIN
            e = self._event(EV_WITHDRAWAL_REJECTED, -1)
            e.v[3] = E_WITHDRAWAL_BELOW_INITIAL
        else:
            self.accts[a].withdraw_qq -= amount
            self.withdrawn_qq += amount
            code = _CODE_OK
            e = self._event(EV_WITHDRAWAL_EXECUTED, -1)
        e.v[0] = wid
        e.v[1] = acct
        e.v[2] = amount
        self._touch_balance(a)
        self._finish(None)
        return self._hand_events(_withdrawal_result(code, None, wid, due))

    def pending_withdrawals(self, account=None):
        """Pending withdrawals as ``{id: (account, amount_qq, due_at)}``, optionally of one account."""
        return {wid: w for wid, w in self.withdrawals.items()
                if account is None or w[0] == account}

    # ================================================================== orders

    def submit(self, market, order_id, account, side, price_ppm, size, tif=TimeInForce.GTC,
               stp=SelfTradePrevention.EXPIRE_MAKER, reduce_only=False):
        """Validate, margin-check, lock, match and apply the fills of one order.

        ``price_ppm`` is the limit (for TimeInForce.MARKET the protection price, 0 for none). A
        reduce-only order locks nothing, must shrink the position, and is cut so that the account's
        resting reduce-only orders never exceed its position.
        """
        cdef int64_t oid = _as_i64(order_id, "order_id")
        cdef int64_t acct = _as_i64(account, "account")
        cdef int side_ = _enum_arg(_as_i64(side, "side"))
        cdef int64_t price = _as_i64(price_ppm, "price_ppm")
        cdef int64_t size_ = _as_i64(size, "size")
        cdef int tif_ = TIF_GTC if tif is _TIF_GTC else _enum_arg(_as_i64(tif, "tif"))
        cdef int stp_ = STP_EXPIRE_MAKER if stp is _STP_EXPIRE_MAKER else _enum_arg(
            _as_i64(stp, "stp"))
        cdef int flags = _reduce_only_flag(reduce_only)
        cdef _Market m = self._market_or_none(market)
        cdef SubmitOut out
        cdef int code
        cdef SubmitResult r
        if m is None:
            memset(&out, 0, sizeof(SubmitOut))
            r = _submit_result(_UNKNOWN_MARKET, order_id if type(order_id) is int else oid, &out)
            r._events = ()
            return r
        self._reset_events()
        self._begin_call(m.index)
        code = self.submit_c(m, oid, acct, side_, price, size_, tif_, stp_, flags, &out)
        # the result carries the caller's order id object itself when it is an exact int
        return self._hand_events(_submit_result(_CODE_OK if code == OK else code,
                                                order_id if type(order_id) is int else oid, &out))

    def cancel(self, market, order_id):
        """Cancel a live order; its remaining lock returns to ``available``."""
        cdef int64_t oid = _as_i64(order_id, "order_id")
        cdef _Market m = self._market_or_none(market)
        cdef int code
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        self._reset_events()
        self._begin_call(m.index)
        code = self.cancel_c(m, oid)
        return self._hand_events(_call_result(_CODE_OK if code == OK else code, None))

    def cancel_all(self, market, account):
        """Cancel every live order of ``account`` in ``market``."""
        cdef int64_t acct = _as_i64(account, "account")
        cdef _Market m = self._market_or_none(market)
        cdef int code
        if m is None:
            return _call_result(_UNKNOWN_MARKET, ())
        self._reset_events()
        self._begin_call(m.index)
        code = self.cancel_all_c(m, acct)
        return self._hand_events(_call_result(_CODE_OK if code == OK else code, None))

    def process(self, market, commands):
        """Run a numpy array of COMMAND_DTYPE commands (PLACE, CANCEL, CANCEL_ALL) through one
        market, command by command with the same semantics as the per-call methods (AMEND gets
        INVALID_OP: amending a margined order is not offered yet)."""
        if not isinstance(commands, np.ndarray) or commands.dtype != COMMAND_DTYPE:
            raise InvalidType("commands must be a numpy array of COMMAND_DTYPE")
        if commands.ndim != 1:
            raise InvalidInput("commands must be one-dimensional")
        cdef object arr = np.ascontiguousarray(commands)
        cdef Py_ssize_t n = arr.shape[0], i
        cdef object results = np.empty(n, EXCHANGE_RESULT_DTYPE)
        cdef const uint8_t[::1] raw_in = arr.view(np.uint8) if n else None
        cdef uint8_t[::1] raw_out = results.view(np.uint8) if n else None
        cdef const CommandRec* cmd = <const CommandRec*>&raw_in[0] if n else NULL
        cdef ResultRow* row = <ResultRow*>&raw_out[0] if n else NULL
        cdef _Market m = self.by_name.get(market) if PyUnicode_Check(market) else None
        cdef SubmitOut out
        cdef int64_t first_event
        cdef int code
        memset(&out, 0, sizeof(SubmitOut))
        self._reset_events()
        if n * BATCH_EVENT_WORDS > self.events_cap:  # untouched pages cost nothing
            free(self.events)
            self.events = NULL
            self.events = _take_spare_events(n * BATCH_EVENT_WORDS, &self.events_cap)
        for i in range(n):
            first_event = self.n_events
            out.filled = out.resting = out.expired = out.lock_qq = 0
            if cmd.op == OP_PLACE:
                if cmd.flags & ~CMD_REDUCE_ONLY:
                    code = E_FLAGS
                elif m is None:
                    code = _unknown_market(market)
                else:
                    self._begin_call(m.index)
                    code = self.submit_c(m, cmd.order_id, cmd.account, cmd.side, cmd.price_ppm,
                                         cmd.size, cmd.tif, cmd.stp, cmd.flags, &out)
            elif cmd.op == OP_CANCEL or cmd.op == OP_CANCEL_ALL:
                if m is None:
                    code = _unknown_market(market)
                else:
                    self._begin_call(m.index)
                    if cmd.op == OP_CANCEL:
                        code = self.cancel_c(m, cmd.order_id)
                    else:
                        code = self.cancel_all_c(m, cmd.account)
            else:
                code = E_OP
            row.code = code
            row.n_events = <int32_t>(self.n_events - first_event)
            row.order_id = cmd.order_id
            row.filled = out.filled
            row.resting = out.resting
            row.expired = out.expired
            row.lock_qq = out.lock_qq
            cmd += 1
            row += 1
        return self._hand_batch_events(ExchangeBatch(results, None))

    cdef object _hand_batch_events(self, ExchangeBatch batch):
        """Give the batch's whole event buffer to its result, unbuilt (not copied); start a fresh
        one. Returns the batch."""
        cdef _EventBuffer owner
        cdef int64_t* fresh
        cdef int64_t cap = 0
        if self.n_events == 0:
            batch._events = ()
            return batch
        fresh = <int64_t*>_grow_array(NULL, &cap, sizeof(int64_t), FIRST_EVENT_WORDS)
        owner = _EventBuffer.__new__(_EventBuffer)
        owner.words = self.events  # untrimmed: the pages it never wrote cost nothing
        owner.cap = self.events_cap
        self.events = fresh
        self.events_cap = cap
        batch.hold_events(owner.words, self.n_event_words, self.n_events, _build_events,
                          self.names, owner)
        self._reset_events()
        return batch

    # ================================================================== liquidation

    def liquidate(self, now):
        """Run one block of the liquidation engine over every market (see
        ``perpcore.liquidation``): liquidatable positions close through the book at or better
        than their fillable price, the insurance fund pays or collects the difference to their
        bankruptcy value, and insolvent remainders the fund cannot cover are deleveraged."""
        cdef int64_t t = _as_i64(now, "now")
        if self.liquidator is None:
            from perpcore.liquidation import Liquidator  # imports this module's package
            self.liquidator = Liquidator(self)
        return self.liquidator.run_block(t)

    # The liquidation engine's hooks: each is one call of its own, returning its events.

    cdef int32_t _liquidation_slot(self, object account) except? -2:
        """The account's slot, or -1 if it never deposited."""
        return _table_find(&self.account_ids, _as_i64(account, "account"))

    def _liquidation_changes(self, market):
        """Accounts whose position or position margin in ``market`` changed since the last ask."""
        cdef _Market m = self._market(market)
        cdef int64_t i
        cdef int32_t a
        cdef list out = []
        for i in range(m.n_changed):
            a = m.changed[i]
            m.pos[a].changed = 0
            out.append(self.accts[a].account)
        m.n_changed = 0
        return out

    def _liquidation_set_status(self, market, account, liquidating):
        """Enter (True) or leave (False) liquidation: the position's status LIQUIDATING/OPEN."""
        cdef _Market m = self._market(market)
        cdef int32_t a = self._liquidation_slot(account)
        cdef Pos* p
        if a < 0:
            raise IntegrityError(f"account {account} holds no position in {m.name}")
        p = &m.pos[a]
        p.liquidating = 1 if (bool(liquidating) and p.size != 0) else 0
        self._reset_events()
        self._begin_call(m.index)
        self._touch_position(a)
        self._finish(m)
        return self._built_events()

    def _liquidation_cancel_orders(self, market, account):
        """Cancel the account's live orders in ``market`` (CancelReason.LIQUIDATION)."""
        cdef _Market m = self._market(market)
        cdef int32_t a = self._liquidation_slot(account), s
        self._reset_events()
        self._begin_call(m.index)
        if a >= 0 and m.pos[a].live_orders:  # most liquidated accounts rest nothing: no scan
            for s in _live_slots_by_id(m, a, False):
                self._cancel_order(m, s, CANCEL_LIQUIDATION)
        self._finish(m)
        return self._built_events()

    def _liquidation_trade(self, market, account, side, size, price_ppm):
        """An IOC order of the exchange's own (no margin check, no lock) for ``account`` at limit
        ``price_ppm``, which must only shrink its position; the account pays no trading fee and
        its makers no rebate. Returns (contracts filled, events)."""
        cdef _Market m = self._market(market)
        cdef int32_t a = self._liquidation_slot(account)
        cdef int side_ = _enum_arg(_as_i64(side, "side"))
        cdef int64_t size_ = _as_i64(size, "size")
        cdef int64_t price = _as_i64(price_ppm, "price_ppm")
        cdef int64_t held = m.pos[a].size if a >= 0 else 0
        cdef int64_t order_id, filled, i
        cdef OrderBook book = m.book
        cdef XOrder* o
        cdef int code
        if held == 0 or (side_ == BUY) != (held < 0) or not 0 < size_ <= _abs(held):
            raise IntegrityError(f"liquidation order of {size} on side {side} does not reduce "
                                 f"position {held}")
        order_id = self.next_liquidation_order_id
        self.next_liquidation_order_id -= 1
        self._reset_events()
        self._begin_call(m.index)
        book.reset_outputs()
        book.begin_command(0)
        book.want_deltas = False
        try:
            code = book.place_c(order_id, self.accts[a].account, side_, TIF_IOC, STP_EXPIRE_TAKER,
                                0, price, size_)
        finally:
            book.want_deltas = True
        if code != OK:
            raise IntegrityError(f"the book refused liquidation order {order_id}: {code}")
        o = m.new_taker(order_id, a)
        o.remaining = size_
        o.price_ppm = price
        o.side = <uint8_t>side_
        self.call_liquidation = True
        try:
            for i in range(book.n_fills):
                self._apply_fill(m, &book.fills[i], o)
        finally:
            self.call_liquidation = False
        self._release_reduced(m)
        self._apply_book_cancels(m)
        filled = book.out_filled
        self._drop_order(m, o)  # IOC: it never rests
        self._trim_reduce_only(m)
        self._finish(m)
        return filled, self._built_events()

    def _liquidation_insurance(self, market, account, amount_qq):
        """The market's insurance fund pays ``amount_qq`` (> 0) into the account's position
        margin, or collects -``amount_qq`` (< 0) from it."""
        cdef _Market m = self._market(market)
        cdef int32_t a = self._liquidation_slot(account)
        cdef int64_t amount = _as_i64(amount_qq, "amount_qq"), owed
        cdef Pos* p
        if a < 0:
            raise IntegrityError(f"unknown account {account}")
        p = &m.pos[a]
        if amount > 0:
            if amount > m.insurance_fund_qq:
                raise IntegrityError(f"insurance fund of {m.name} holds {m.insurance_fund_qq}, "
                                     f"cannot pay {amount}")
            m.insurance_fund_qq -= amount
            self._margin_add(p, amount)
        elif amount < 0:
            owed = _minus(0, amount)
            if owed > p.margin_qq:  # checked first: nothing moves on an error
                raise IntegrityError(f"position margin of {account} cannot pay {owed}")
            self._margin_add(p, -owed)
            m.insurance_fund_qq = _plus(m.insurance_fund_qq, owed)
        self._reset_events()
        self._begin_call(m.index)
        self._touch_balance(a)
        self._finish(m)
        return self._built_events()

    def _liquidation_deleverage(self, market, account, counterparty, size, price_ppm):
        """Close ``size`` contracts of ``account`` against the opposite position of
        ``counterparty`` at ``price_ppm`` (in [0, 1e6]), off the book and without fees."""
        cdef _Market m = self._market(market)
        cdef int64_t acct = _as_i64(account, "account")
        cdef int64_t other = _as_i64(counterparty, "counterparty")
        cdef int64_t size_ = _as_i64(size, "size")
        cdef int64_t price = _as_i64(price_ppm, "price_ppm")
        cdef int32_t a = _table_find(&self.account_ids, acct)
        cdef int32_t c = _table_find(&self.account_ids, other)
        cdef int64_t ps = m.pos[a].size if a >= 0 else 0
        cdef int64_t qs = m.pos[c].size if c >= 0 else 0
        cdef int64_t oi_delta = 0, before
        cdef int32_t x
        cdef Pos* p
        if (acct == other or ps == 0 or qs == 0 or (ps > 0) == (qs > 0)
                or not 0 < size_ <= min(_abs(ps), _abs(qs)) or not 0 <= price <= SCALE):
            raise IntegrityError(f"cannot deleverage {size} of {ps} against {qs} at {price_ppm}")
        self._reset_events()
        self._begin_call(m.index)
        for x in (a, c):
            p = &m.pos[x]
            if p.funding_index_idx != m.funding_index_idx:
                self._settle_funding(m, x, p)
            before = p.size
            self._position_trade(m, p, -size_ if before > 0 else size_, price)
            oi_delta += _pos_part(p.size) - _pos_part(before)
            self._touch_balance(x)
            self._touch_position(x)
        m.open_interest = _plus(m.open_interest, oi_delta)
        self._release_freed_margin(m, a)
        self._release_freed_margin(m, c)
        self._trim_reduce_only(m)
        self._finish(m)
        return self._built_events()

    # ================================================================== queries

    def balances(self, account):
        cdef int64_t acct = _as_i64(account, "account")
        cdef int32_t a = _table_find(&self.account_ids, acct)
        cdef _Market m
        if a < 0:
            return Balances(0, 0, 0, MappingProxyType({}))
        held = sorted([(m.pos[a].margin_key, m.name, m.pos[a].margin_qq)
                       for m in self.market_list if m.pos[a].margin_qq != 0])
        return Balances(self.accts[a].available_qq, self.accts[a].orders_qq,
                        self.accts[a].withdraw_qq,
                        MappingProxyType({name: amount for _, name, amount in held}))

    def position(self, account, market):
        cdef int64_t acct = _as_i64(account, "account")
        cdef _Market m = self._market(market)
        cdef int32_t a = _table_find(&self.account_ids, acct)
        cdef Pos empty
        cdef Pos* p = &m.pos[a] if a >= 0 else &empty
        cdef object r = _new_record(&POSITION_VIEW)
        if a < 0:
            memset(&empty, 0, sizeof(Pos))
        _put(r, &POSITION_VIEW, 0, p.size)
        _put(r, &POSITION_VIEW, 1, p.open_notional_qq)
        _put(r, &POSITION_VIEW, 2, entry_price_ppm_c(p.size, p.open_notional_qq))
        _put(r, &POSITION_VIEW, 3, p.realized_pnl_qq)
        _put(r, &POSITION_VIEW, 4, _POSITION_STATUSES[_position_status(p)])
        _put(r, &POSITION_VIEW, 5,
             _SETTLEMENT_STATUSES[SETTLE_PENDING if p.traded else SETTLE_SYNCHRONIZED])
        _put(r, &POSITION_VIEW, 6, p.funding_paid_qq)
        return r

    def margin(self, account, market):
        """Equity, requirements and health of ``account`` in ``market`` at the mark."""
        cdef int64_t acct = _as_i64(account, "account")
        cdef _Market m = self._market(market)
        cdef int32_t a = _table_find(&self.account_ids, acct)
        cdef int64_t size = 0, open_notional = 0, collateral = 0, funding = 0
        cdef int64_t upnl, equity, im, mm, free, health_ppm = 0
        cdef object health
        cdef object r
        if a >= 0:
            size = m.pos[a].size
            open_notional = m.pos[a].open_notional_qq
            collateral = m.pos[a].margin_qq
            funding = _unsettled_funding(m, &m.pos[a])
        upnl = _upnl(size, open_notional, m.mark_ppm)
        equity = _plus(_plus(collateral, upnl), funding)
        im = _requirement(size, m.mark_ppm,
                          imf_ppm_c(m.base_imf_ppm, _oi_notional(m, m.open_interest),
                                    m.oi_lower_cap_qq, m.oi_upper_cap_qq))
        mm = _requirement(size, m.mark_ppm, m.mmf_ppm)
        free = _minus(equity, im)
        if mm <= 0:
            health = None
        elif pc_mul_div_down(equity, 1_000_000, mm, &health_ppm) == PC_OK:  # floor
            health = health_ppm
        else:
            health = <object>equity * 1_000_000 // mm
        r = _new_record(&MARGIN_VIEW)
        _put(r, &MARGIN_VIEW, 0, collateral)
        _put(r, &MARGIN_VIEW, 1, upnl)
        _put(r, &MARGIN_VIEW, 2, funding)
        _put(r, &MARGIN_VIEW, 3, equity)
        _put(r, &MARGIN_VIEW, 4, im)
        _put(r, &MARGIN_VIEW, 5, mm)
        _put(r, &MARGIN_VIEW, 6, free)
        _put(r, &MARGIN_VIEW, 7, health)
        _put(r, &MARGIN_VIEW, 8, mm > 0 and equity <= mm)
        return r

    def open_interest(self, market):
        """Open interest in contracts: the sum of long position sizes."""
        return self._market(market).open_interest

    def insurance_fund(self, market):
        return self._market(market).insurance_fund_qq

    def fees_collected(self, market):
        return self._market(market).fees_qq

    def clearing_pool(self, market):
        """The market's clearing pool: -sum(open notional) - bad debt (see ``perpcore.ledger``)."""
        return self._market(market).pool_qq

    def bad_debt(self, market):
        """Losses and funding payments of this market's accounts that their position margin
        could not pay."""
        cdef _Market m = self._market(market)
        return m.bad_debt_qq + <object>m.funding_bad_debt_qq

    def order_lock(self, market, order_id):
        """The margin still locked by a live order (None if the order is not live)."""
        cdef _Market m = self._market(market)
        cdef int32_t s = m.find_order(_as_i64(order_id, "order_id"))
        return None if s == -1 else m.orders[s].lock_qq

    def check_conservation(self):
        """Raise IntegrityError unless every quantum is accounted for; returns net deposits."""
        return self._conservation()

    def check_integrity(self):
        """Verify every invariant the exchange keeps (conservation, locks, positions, open
        interest, the clearing and funding pools, the books, its own tables); raise
        IntegrityError on the first broken one."""
        self.check_integrity_c()
