# Interface of the native order book (bodies in _book.pyx). Other native modules cimport this to
# drive a book at C level: place_c / cancel_c / amend_c / cancel_all_c return a result code and
# append what happened to the book's output buffers (fills, cancels, deltas), which the caller reads
# and resets. Prices inside the book are tick indices (price_ppm // tick_ppm); records that leave
# the book carry ppm.

cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


# A resting order (32 bytes) and an id-table bucket (8 bytes); their C layouts are in _book.h.
cdef extern from "_book.h":
    ctypedef struct OrderNode "pc_order_node":
        int64_t order_id
        int64_t account
        uint32_t remaining
        int32_t prev
        int32_t next
        uint32_t level         # tick index of its price
        uint32_t side
        uint32_t flags         # NODE_POST_ONLY | NODE_REDUCE_ONLY | stp << NODE_STP_SHIFT

    ctypedef struct IdEntry "pc_id_entry":
        uint32_t tag           # top 32 bits of the id's hash
        int32_t slot           # -1: empty bucket


# The reduce-only guard an exchange installs on its book (NULL on a bare book): how much the
# account of the resting reduce-only order in node `slot` may trade on `side` through it, judged on
# its position before the current command. The book subtracts what the account's other makers
# already filled in that command.
ctypedef int64_t (*ReducibleFn)(void* ctx, int32_t slot, int side) noexcept


# One price level: a FIFO queue of slots and its aggregates.
cdef struct Level:
    int32_t head
    int32_t tail
    int32_t count
    int64_t total


# Hierarchical bitset over tick indices (64-ary, up to 4 tiers): non-empty levels of one side.
cdef struct LevelBits:
    uint64_t* words[4]
    int32_t nwords[4]
    int32_t depth


# Output records. Layouts equal book_types' numpy dtypes (checked at import). The node slots at
# their ends lie in what the dtypes leave as padding: a book that reports slots (report_slots, set by
# the exchange that owns it) writes there the slot of the order the record is about, so its owner
# can keep per-order state indexed by slot; elsewhere they stay zero.
cdef struct FillRec:
    int64_t cmd
    int64_t taker_order_id
    int64_t taker_account
    int64_t maker_order_id
    int64_t maker_account
    int64_t price_ppm
    int64_t size
    int64_t maker_remaining
    uint8_t taker_side
    uint8_t taker_reduce_only
    uint8_t maker_reduce_only
    int32_t maker_slot        # padding in FILL_DTYPE (see above)


cdef struct CancelRec:
    int64_t cmd
    int64_t order_id
    int64_t account
    int64_t price_ppm
    int64_t size
    uint8_t side
    uint8_t reason
    int32_t slot              # padding in CANCEL_DTYPE (see above)


cdef struct DeltaRec:
    int64_t cmd
    int64_t price_ppm
    int64_t size
    uint8_t side


cdef struct CommandRec:
    uint8_t op
    uint8_t side
    uint8_t tif
    uint8_t stp
    uint8_t flags
    int64_t order_id
    int64_t account
    int64_t price_ppm
    int64_t size


cdef struct ResultRec:
    int32_t code
    uint8_t expire_reason
    int64_t order_id
    int64_t filled
    int64_t resting
    int64_t expired
    int32_t n_fills
    int32_t n_cancels


@cython.final
cdef class OrderBook:
    cdef readonly int64_t tick_ppm
    cdef readonly int64_t lot
    cdef readonly int64_t min_size
    cdef readonly int64_t max_size
    cdef int32_t n_levels                 # tick indices 1 .. n_levels - 1 are valid prices
    cdef Level* levels
    cdef LevelBits bits[2]                # per side
    cdef int32_t best[2]                  # best level per side, -1 when the side is empty

    cdef OrderNode* nodes                 # slot pool
    cdef int32_t nodes_cap
    cdef int32_t nodes_used               # high-water mark of slots ever handed out
    cdef int32_t free_head                # free slots chained through `next`
    cdef int32_t n_live
    cdef IdEntry* table                   # open addressing (linear probing), order id -> slot
    cdef uint64_t table_mask
    cdef int table_shift

    # output buffers of the current call or batch
    cdef FillRec* fills
    cdef int64_t n_fills, fills_cap
    cdef CancelRec* cancels
    cdef int64_t n_cancels, cancels_cap
    cdef DeltaRec* deltas
    cdef int64_t n_deltas, deltas_cap
    cdef int64_t delta_floor              # first delta of the current command (coalescing bound)
    cdef bint want_deltas
    cdef object batch_out                 # the BatchBuffers of the running process(), else None
    cdef int64_t cur_cmd
    # outcome of the last place / amend
    cdef int64_t out_filled
    cdef int64_t out_resting
    cdef int64_t out_expired
    cdef uint8_t out_expire_reason
    cdef int64_t debug_ops                # operations since construction (debug-build check schedule)
    cdef ReducibleFn reducible            # reduce-only guard, or NULL (see ReducibleFn)
    cdef bint report_slots                # fills and cancels carry node slots (see FillRec)
    cdef int32_t out_slot                 # the node the last place_c rested its order in
    cdef void* reducible_ctx              # borrowed: its owner clears the guard before it dies
    cdef int64_t* scan                    # FOK check under a guard: (account, take) pairs
    cdef int64_t scan_cap                 # in pairs

    cdef void _prefetch_bucket(self, uint64_t h) noexcept
    cdef void _prefetch_order(self, uint64_t h) noexcept
    cdef void* _grow_output(self, void* ptr, int64_t* cap, size_t item, int kind) except NULL
    cdef void reset_outputs(self) noexcept
    cdef void begin_command(self, int64_t cmd) noexcept
    cdef int _validate_place(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                             int flags, int64_t price_ppm, int64_t size, int32_t* limit,
                             uint64_t* pos) noexcept
    cdef int _validate_place_h(self, int64_t order_id, uint64_t h, int64_t account, int side,
                               int tif, int stp, int flags, int64_t price_ppm, int64_t size,
                               int32_t* limit, uint64_t* pos) noexcept
    cdef int place_c(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                     int flags, int64_t price_ppm, int64_t size) except -1
    cdef int _place(self, int64_t order_id, uint64_t h, int64_t account, int side, int tif,
                    int stp, int flags, int64_t price_ppm, int64_t size) except -1
    cdef int place_valid_c(self, int64_t order_id, int64_t account, int side, int tif, int stp,
                           int flags, int64_t size, int32_t limit, uint64_t pos) except -1
    cdef int _place_valid(self, int64_t order_id, uint64_t h, int64_t account, int side, int tif,
                          int stp, int flags, int64_t size, int32_t limit,
                          uint64_t pos) except -1
    cdef int cancel_c(self, int64_t order_id) except -1
    cdef int _cancel(self, int64_t order_id, uint64_t h) except -1
    cdef int amend_c(self, int64_t order_id, int64_t size, int64_t price_ppm) except -1
    cdef int cancel_all_c(self, int64_t account) except -1
    cdef bint impact_c(self, int side, int64_t notional_qq, int64_t* price_ppm) except -1
    cdef int check_integrity_c(self) except -1
    cdef int _debug_check_after_op(self) except -1

    cdef int32_t _lookup(self, int64_t order_id, uint64_t* pos) noexcept
    cdef int32_t _lookup_h(self, int64_t order_id, uint64_t h, uint64_t* pos) noexcept
    cdef void _table_delete_at(self, uint64_t pos) noexcept
    cdef int _grow_table(self) except -1
    cdef int32_t _alloc_slot(self) except -1
    cdef bint _crosses(self, int side, int32_t level, int32_t limit) noexcept
    cdef int _validate_size(self, int64_t size) noexcept
    cdef int _validate_price(self, int64_t price_ppm, int32_t* level) noexcept
    cdef int _match(self, int64_t order_id, int64_t account, int side, int stp, int node_flags,
                    int32_t limit, int64_t size, int64_t* remaining) except -1
    cdef int _fok_fillable(self, int64_t account, int side, int stp, int32_t limit,
                           int64_t size) except -1
    cdef int64_t _reducible_now(self, int32_t slot, int64_t fill_floor) noexcept
    cdef int _rest(self, int64_t order_id, uint64_t h, int64_t account, int side, int node_flags,
                   int32_t level, int64_t size, int64_t table_pos) except -1
    cdef void _unlink(self, int32_t slot, int64_t table_pos) noexcept
    cdef int32_t _find(self, int64_t order_id) noexcept
    cdef int _emit_fill(self, int32_t slot, int64_t taker_order_id, int64_t taker_account,
                        int taker_side, int taker_flags, int64_t price_ppm,
                        int64_t size) except -1
    cdef int _emit_cancel(self, int32_t slot, int reason) except -1
    cdef int _emit_delta(self, int side, int32_t level) except -1
