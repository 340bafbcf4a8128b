"""The records an exchange call returns: ``CallResult``, ``SubmitResult``, ``WithdrawalResult`` and
``ExchangeBatch``, shared by the native ``Exchange`` and the ``ReferenceExchange`` (both build
these very classes, so their results compare equal field by field).

They are native because the native exchange makes one per call: it allocates a record (outside the
cyclic garbage collector: a record holds a code, events and ints, so no reference cycle can pass
through one) and writes its C fields directly, with no Python integer made until a field is read.
They behave like frozen dataclasses: equality, hashing and repr by the fields named in ``_fields``,
``FrozenInstanceError`` on assignment, pickling. A record's events may arrive unbuilt: the native
exchange hands over a call's events as its own C records (inside the record when they are few,
else in memory the record keeps alive) with the function that builds them, which runs the first
time ``events`` is read (the reference passes the tuple itself). This module decides nothing and
knows neither implementation nor their record format.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int64_t
from libc.string cimport memcpy

cdef extern from *:
    """
    /* Free lists of the records every submit and cancel makes (SubmitResult, CallResult): Cython
       keeps free lists only for classes without a native base, so each type's own allocation
       slots do it. Only exact instances of the type, all of one size and outside the GC, are kept;
       anything else (a subclass's instance) is allocated and freed as before. */
    #define PC_FREE_RECORDS 64
    typedef struct {
        PyTypeObject* type;
        PyObject* items[PC_FREE_RECORDS];
        int n;
    } pc_free_records;
    static pc_free_records pc_free_submit_results, pc_free_call_results;

    static PyObject* pc_records_alloc(pc_free_records* f, PyTypeObject* t, Py_ssize_t nitems) {
        if (t == f->type && nitems == 0 && f->n > 0) {
            PyObject* o = f->items[--f->n];
            memset(o, 0, (size_t)t->tp_basicsize);
            return PyObject_INIT(o, t);
        }
        return PyType_GenericAlloc(t, nitems);
    }

    static void pc_records_free(pc_free_records* f, void* o) {
        if (Py_TYPE((PyObject*)o) == f->type && f->n < PC_FREE_RECORDS)
            f->items[f->n++] = (PyObject*)o;
        else
            PyObject_Free(o);
    }

    static PyObject* pc_submit_result_alloc(PyTypeObject* t, Py_ssize_t nitems) {
        return pc_records_alloc(&pc_free_submit_results, t, nitems);
    }
    static void pc_submit_result_free(void* o) { pc_records_free(&pc_free_submit_results, o); }
    static PyObject* pc_call_result_alloc(PyTypeObject* t, Py_ssize_t nitems) {
        return pc_records_alloc(&pc_free_call_results, t, nitems);
    }
    static void pc_call_result_free(void* o) { pc_records_free(&pc_free_call_results, o); }

    static void pc_keep_free_records(PyObject* submit_result, PyObject* call_result) {
        pc_free_submit_results.type = (PyTypeObject*)submit_result;
        pc_free_submit_results.type->tp_alloc = pc_submit_result_alloc;
        pc_free_submit_results.type->tp_free = pc_submit_result_free;
        pc_free_call_results.type = (PyTypeObject*)call_result;
        pc_free_call_results.type->tp_alloc = pc_call_result_alloc;
        pc_free_call_results.type->tp_free = pc_call_result_free;
    }
    """
    void pc_keep_free_records(object submit_result, object call_result)

import dataclasses

import numpy as np

from perpcore.codes import Code

__all__ = ["CallResult", "SubmitResult", "WithdrawalResult", "ExchangeBatch"]


@cython.no_gc
cdef class _Record:
    """Immutable record whose ``events`` may be built lazily (see the module doc); ``_fields``
    names the public fields in order."""

    _fields = ("events",)

    cdef int hold_events(self, const int64_t* words, int64_t n_words, int64_t n_events,
                         EventBuilder builder, object context, object owner) except -1:
        """Hold `n_events` unbuilt events (`n_words` words) for `builder` to build with `context`:
        in place in `owner`'s memory when an owner is given, else copied (inside the record when
        they fit)."""
        cdef bytes spill
        if owner is not None:
            self._words = words
            self._owner = owner
        elif n_words <= INLINE_EVENT_WORDS:
            memcpy(self._local, words, n_words * sizeof(int64_t))
            self._words = self._local
        else:
            spill = PyBytes_FromStringAndSize(<const char*>words, n_words * sizeof(int64_t))
            self._words = <const int64_t*>PyBytes_AS_STRING(spill)
            self._owner = spill
        self._n_unbuilt = n_events
        self._builder = builder
        self._context = context
        return 0

    @property
    def events(self):
        """The call's events as a tuple of perpcore.events records, in the order they happened."""
        if self._events is None:
            self._events = (self._builder(self._words, self._n_unbuilt, self._context)
                            if self._n_unbuilt else ())
            self._n_unbuilt = 0
            self._words = NULL
            self._owner = None
            self._context = None
        return self._events

    def _astuple(self):
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self):
        return hash(self._astuple())

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__name__}({fields})"

    def __setattr__(self, name, value):
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self):
        return self.__class__, self._astuple()


@cython.no_gc
cdef class CallResult(_Record):
    """What a call did: ``code`` 0 accepted (anything else: nothing changed) and its events."""

    _fields = ("code", "events")

    def __init__(self, code, events=()):
        self.code = code
        self._events = events

    @property
    def ok(self):
        return self.code == Code.OK


@cython.no_gc
@cython.final
cdef class SubmitResult(CallResult):
    """A submitted order's outcome: ``filled``/``resting``/``expired`` of the size that entered the
    book (``size``: a reduce-only order may be cut) and ``lock_qq``, what it locked on entry (0 for
    reduce-only orders and rejections)."""

    _fields = CallResult._fields + ("order_id", "filled", "resting", "expired", "lock_qq", "size")

    def __init__(self, code, events=(), order_id=0, int64_t filled=0, int64_t resting=0,
                 int64_t expired=0, int64_t lock_qq=0, int64_t size=0):
        CallResult.__init__(self, code, events)
        self.order_id = order_id
        self.filled = filled
        self.resting = resting
        self.expired = expired
        self.lock_qq = lock_qq
        self.size = size


@cython.no_gc
@cython.final
cdef class WithdrawalResult(CallResult):
    """A withdrawal call's outcome: the withdrawal's id and when it may be paid."""

    _fields = CallResult._fields + ("withdrawal_id", "due_at")

    def __init__(self, code, events=(), withdrawal_id=0, due_at=0):
        CallResult.__init__(self, code, events)
        self.withdrawal_id = withdrawal_id
        self.due_at = due_at


@cython.no_gc
@cython.final
cdef class ExchangeBatch(_Record):
    """Output of ``Exchange.process``: one EXCHANGE_RESULT_DTYPE row per command, and the events of
    all commands in order (command i emitted ``results['n_events'][i]`` of them)."""

    _fields = ("results", "events")

    def __init__(self, results, events):
        self.results = results
        self._events = events

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (np.array_equal(self.results, other.results)
                and self.results.dtype == other.results.dtype
                and self.events == other.events)

    def __hash__(self):  # holds a mutable array
        raise TypeError(f"unhashable type: {self.__class__.__name__!r}")


pc_keep_free_records(SubmitResult, CallResult)
