# Interface of perpcore's native exchange (bodies in _engine.pyx): the C state of accounts,
# positions, margin locks, funding settlement, market phases and events, and the cdef kernels of a
# submit, a cancel and a cancel-all, which drive each market's OrderBook through its own cdef
# interface (_book.pxd), its risk math through _margin.pxd and its funding payments through
# _funding.pxd. Accounts live in dense slots (an id table maps an account id to its slot); each
# market keeps one Pos per account slot and one XOrder per node slot of its book: the book owns the
# order ids, and its fills and cancels name the slot of the order they are about.
# A market's time-driven services (lifecycle, mark service, funding sampler) are the shared Python
# MarketServices; the phase and the cumulative funding index the hot path reads are mirrored in C.
# A call's events are C records (EventRec) until a Python reader asks for them. Units: sizes in
# contracts, prices in ppm, money in quote quantums (qq), the funding index in idx (1e-6 qq per
# contract).

cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from perpcore._book cimport CancelRec, FillRec, OrderBook
from perpcore._funding cimport FundingSampler
from perpcore._results cimport ExchangeBatch, _Record


# One event as C data; `kind` says which perpcore.events class it becomes and how v / b0..b2 map
# to its fields (see _engine.pyx, _build_event). `market` indexes the exchange's markets, -1: none.
# Records lie back to back in int64 words: the 8-byte header, then only the values its kind has
# (EVENT_VALUES in _engine.pyx), so `v` is a view that may extend past a record's end.
cdef struct EventRec:
    uint8_t kind
    uint8_t b0
    uint8_t b1
    uint8_t b2
    int32_t market
    int64_t v[8]


# Open-addressing id table (linear probing, no deletion): int64 key -> int32 slot.
cdef struct IdBucket:
    int64_t key
    int32_t slot              # -1: empty bucket


cdef struct IdTable:
    IdBucket* buckets
    uint64_t mask
    int shift
    int64_t count


# An account's buckets outside any market, and the calls that last touched it (event dedup).
cdef struct Acct:
    int64_t account
    int64_t available_qq
    int64_t orders_qq         # locked_for_orders
    int64_t withdraw_qq       # locked_for_withdraw
    int64_t balance_call      # id of the last call that reported its balances
    int64_t position_call     # id of the last call that reported its position


# One account's position and position margin in one market.
cdef struct Pos:
    int64_t size
    int64_t open_notional_qq
    int64_t realized_pnl_qq
    int64_t margin_qq         # locked_for_positions in this market
    int64_t margin_key        # when margin_qq last became non-zero: the key order of Balances
    int64_t ro_remaining      # sum of the remaining sizes of its resting reduce-only orders
    int32_t ro_head           # their list through XOrder.ro_prev / ro_next (valid if ro_count)
    int32_t ro_count
    int32_t live_orders       # its live orders in this market (any kind)
    int64_t reduced_call      # id of the last call that shrank or flipped it (margin release)
    uint8_t traded            # ever filled: settlement status PENDING_SETTLE
    uint8_t liquidating       # under liquidation: status LIQUIDATING while size != 0
    uint8_t changed           # in its market's `changed` list (the liquidation engine's scan)
    int64_t funding_index_idx # the market's cumulative funding index at its last touch
    int64_t funding_paid_qq   # funding settled so far (+ paid, - received)


# A live order as the exchange sees it: what it still locks and what it is.
cdef struct XOrder:
    int64_t order_id
    int64_t lock_qq
    int64_t remaining
    int64_t price_ppm
    int32_t account           # account slot
    int32_t ro_prev           # neighbours (node slots) in its position's reduce-only list
    int32_t ro_next
    uint8_t side
    uint8_t reduce_only
    uint8_t ro_linked         # in its position's reduce-only list
    uint8_t live              # an order rests in the book's node of this slot


# One row of EXCHANGE_RESULT_DTYPE (layout checked at import).
cdef struct ResultRow:
    int32_t code
    int32_t n_events
    int64_t order_id
    int64_t filled
    int64_t resting
    int64_t expired
    int64_t lock_qq


cdef struct SubmitOut:
    int64_t filled
    int64_t resting
    int64_t expired
    int64_t lock_qq
    int64_t size


@cython.final
cdef class _Market:
    cdef readonly str name
    cdef int32_t index
    cdef OrderBook book
    cdef object risk                       # the RiskTier, as given
    cdef int64_t base_imf_ppm
    cdef int64_t mmf_ppm
    cdef int64_t oi_lower_cap_qq
    cdef int64_t oi_upper_cap_qq
    cdef int64_t taker_fee_ppm
    cdef int64_t maker_fee_ppm
    cdef int64_t insurance_share_ppm
    cdef int64_t tick_ppm
    cdef int64_t lot
    cdef int64_t min_size
    cdef int64_t mark_ppm
    cdef int64_t open_interest             # contracts: the sum of long sizes
    cdef int64_t bad_debt_qq
    cdef int64_t insurance_fund_qq
    cdef int64_t fees_qq
    cdef int64_t pool_qq                   # clearing pool: -sum(open notional) - bad debt
    cdef object services                   # the MarketServices: lifecycle, mark service, sampler
    cdef FundingSampler sampler            # services.sampler
    cdef int phase                         # services.phase, as a C int (copied on every change)
    cdef int64_t funding_index_idx         # sampler.index_idx, copied whenever a period closes
    cdef int64_t funding_pool_qq           # funding paid in, not yet paid out (may be negative)
    cdef int64_t funding_bad_debt_qq       # funding payments position margin could not pay
    cdef int64_t funding_dust_idx          # rounding surplus not yet swept to insurance, [0, 1e6)
    cdef Pos* pos                          # by account slot (capacity: Exchange.accounts_cap)
    cdef XOrder* orders                    # by the book's node slot (live: an order rests there)
    cdef int32_t orders_cap                # grown to the book's node capacity as it grows
    cdef XOrder taker                      # the order of the running submit, until it rests
    cdef int32_t* changed                  # account slots whose position or position margin
    cdef int64_t n_changed                 # changed since the liquidation engine last asked,
    cdef int64_t changed_cap               # in first-change order (Pos.changed: listed once)

    cdef int32_t find_order(self, int64_t order_id) noexcept
    cdef XOrder* new_taker(self, int64_t order_id, int32_t account) noexcept
    cdef XOrder* rest_taker(self) except NULL


@cython.final
cdef class Exchange:
    cdef readonly int64_t withdrawal_delay
    cdef dict by_name                      # name -> _Market
    cdef object last_name                  # the name object last resolved, and its market
    cdef _Market last_market
    cdef list market_list                  # _Market by index
    cdef list names                        # market name by index (events refer to it)
    cdef Acct* accts
    cdef int32_t n_accounts
    cdef int64_t accounts_cap              # capacity of accts and of every market's pos
    cdef IdTable account_ids               # account id -> slot
    cdef int64_t deposited_qq
    cdef int64_t withdrawn_qq
    cdef int64_t margin_keys               # last Pos.margin_key handed out
    cdef dict withdrawals                  # id -> (account, amount_qq, due_at), in id order
    cdef int64_t next_withdrawal_id
    cdef int64_t debug_ops                 # calls since construction (debug-build check schedule)
    # the running call: its id, the market its balance events report, whom it touched, its events
    cdef int64_t call_id
    cdef int32_t call_market
    cdef int32_t* touched_balances
    cdef int64_t n_touched_balances
    cdef int64_t touched_balances_cap
    cdef int32_t* touched_positions
    cdef int64_t n_touched_positions
    cdef int64_t touched_positions_cap
    cdef int64_t* events                   # EventRec records, back to back (in words)
    cdef int64_t n_event_words
    cdef int64_t events_cap                # in words
    cdef int64_t n_events                  # records
    cdef int32_t* ro_order                 # scratch: reduce-only slots being trimmed, sorted
    cdef int64_t ro_order_cap
    cdef bint call_liquidation             # the running call fills a liquidation order: no
    #                                        taker fee, no maker rebate
    cdef int64_t next_liquidation_order_id # the exchange's own IOC orders count down from 2**63-1
    cdef object liquidator                 # perpcore.liquidation.Liquidator, made on first use

    cdef _Market _market_or_none(self, object market)
    cdef _Market _market(self, object market)
    cdef int32_t _open_account(self, int64_t account) except -1
    cdef int _grow_accounts(self) except -1
    cdef object _available_refusal(self, int64_t acct, int64_t amount, int32_t* slot)
    cdef int _begin_call(self, int32_t market) except -1
    cdef int _reset_events(self) except -1
    cdef inline EventRec* _event(self, int kind, int32_t market) except NULL
    cdef int _touch_balance(self, int32_t a) except -1
    cdef int _touch_position(self, int32_t a) except -1
    cdef int _finish(self, _Market m) except -1
    cdef int _mark_changed(self, _Market m, int32_t a) except -1
    cdef object _hand_events(self, _Record r)
    cdef object _hand_batch_events(self, ExchangeBatch batch)
    cdef int _margin_add(self, Pos* p, int64_t delta_qq) except -1
    cdef int _reject(self, _Market m, int64_t order_id, int64_t account, int code) except -1
    cdef int _order_lock(self, _Market m, Acct* acct, Pos* p, int64_t signed_size,
                         int64_t worst_ppm, int64_t* lock_qq) except -1
    cdef int _reduce_only_size(self, _Market m, Pos* p, int side, int64_t* size) noexcept
    cdef int _reduce_only_price(self, _Market m, const Pos* p, int64_t size, int tif,
                                int64_t* price_ppm) except -1
    cdef int _settle_funding(self, _Market m, int32_t a, Pos* p) except -1
    cdef int _close_at(self, _Market m, int32_t a, int64_t price_ppm) except -1
    cdef int _cancel_for_phase(self, _Market m, bint all_orders, int reason) except -1
    cdef int _cancel_order(self, _Market m, int32_t slot, int reason) except -1
    cdef int32_t _liquidation_slot(self, object account) except? -2
    cdef int _book_quiet(self, _Market m, int op, int64_t key, int64_t size) except -1
    cdef tuple _built_events(self)
    cdef int _fill_side(self, _Market m, XOrder* o, int64_t signed_size, int64_t price_ppm,
                        int64_t* oi_delta) except -1
    cdef int _position_trade(self, _Market m, Pos* p, int64_t signed_size,
                             int64_t price_ppm) except -1
    cdef int _apply_fill(self, _Market m, const FillRec* f, XOrder* taker) except -1
    cdef int _apply_cancel(self, _Market m, const CancelRec* c) except -1
    cdef int _release_freed_margin(self, _Market m, int32_t a) except -1
    cdef int _release_reduced(self, _Market m) except -1
    cdef int _drop_order(self, _Market m, XOrder* o) except -1
    cdef int _trim_reduce_only(self, _Market m) except -1
    cdef int _apply_book_cancels(self, _Market m) except -1
    cdef int submit_c(self, _Market m, int64_t order_id, int64_t account, int side,
                      int64_t price_ppm, int64_t size, int tif, int stp, int flags,
                      SubmitOut* out) except -1
    cdef int cancel_c(self, _Market m, int64_t order_id) except -1
    cdef int cancel_all_c(self, _Market m, int64_t account) except -1
    cdef int _cancel_in_book(self, _Market m, bint all_of_account, int64_t key) except -1
    cdef bint _below_initial_without_withdrawals(self, int32_t a) except -1
    cdef int check_integrity_c(self) except -1
    cdef object _conservation(self)
    cdef int _debug_check_after_call(self) except -1
