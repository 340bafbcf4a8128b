# The exchange's call records (see _results.pyx): their C fields, which the native exchange writes
# directly into a record it allocates with __new__.

from libc.stdint cimport int64_t


cdef class _Record:
    cdef readonly object _events


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
