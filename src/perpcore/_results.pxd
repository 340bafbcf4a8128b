# The exchange's call records (see _results.pyx): their C fields, which the native exchange writes
# directly into a record it allocates with __new__, and the events a record may hold unbuilt.

from libc.stdint cimport int64_t


# Builds a call's events, held as `n_events` C records in `words`, into a tuple of perpcore.events
# records; `context` is what its maker handed over with them.
ctypedef object (*EventBuilder)(const int64_t* words, int64_t n_events, object context)

cdef enum:
    INLINE_EVENT_WORDS = 18   # words of unbuilt events a record keeps inside itself


cdef class _Record:
    cdef readonly object _events       # the events as a tuple; None while held unbuilt
    cdef EventBuilder _builder         # how to build the held events, and with what
    cdef object _context
    cdef const int64_t* _words         # the held events: n_unbuilt records, in _local or _owner
    cdef int64_t _n_unbuilt
    cdef object _owner                 # keeps _words alive when they are not in _local
    cdef int64_t _local[INLINE_EVENT_WORDS]

    cdef int hold_events(self, const int64_t* words, int64_t n_words, int64_t n_events,
                         EventBuilder builder, object context, object owner) except -1


cdef class CallResult(_Record):
    cdef readonly object code


cdef class SubmitResult(CallResult):
    cdef readonly object order_id
    cdef readonly int64_t filled
    cdef readonly int64_t resting
    cdef readonly int64_t expired
    cdef readonly int64_t lock_qq
    cdef readonly int64_t size


cdef class WithdrawalResult(CallResult):
    cdef readonly object withdrawal_id
    cdef readonly object due_at


cdef class ExchangeBatch(_Record):
    cdef readonly object results
