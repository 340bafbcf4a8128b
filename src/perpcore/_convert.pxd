# perpcore's argument conversion at the Python boundary, shared by every native module: a Python
# integer argument becomes a C int64 or a typed error naming the argument. Exact ints take the fast
# path; int subclasses (IntEnum members) and numpy integer scalars are accepted as their exact
# value; bool, float and every non-integer are perpcore.InvalidType; an integer outside int64 is
# perpcore.InvalidInput. It never rounds, never accepts a float that happens to be integral, and
# keeps no state. The error classes are imported on the error path only, so a module cimporting
# this needs no Python names of its own. Small exact ints (one internal digit, the common case of
# ids, prices and sizes) are read straight from the int object, without a call into the runtime.

from cpython.bool cimport PyBool_Check
from cpython.float cimport PyFloat_Check
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_Check, PyLong_CheckExact
from cpython.number cimport PyNumber_Index
from libc.stdint cimport int64_t

cdef extern from *:
    """
    /* 1 and the value in *out when `v` (an exact int) is compact: |v| < 2**30 on CPython. */
    static inline int pc_compact_i64(PyObject* v, int64_t* out) {
    #if PY_VERSION_HEX >= 0x030C0000
        if (PyUnstable_Long_IsCompact((PyLongObject*)v)) {
            *out = (int64_t)PyUnstable_Long_CompactValue((PyLongObject*)v);
            return 1;
        }
        return 0;
    #else
        Py_ssize_t size = Py_SIZE(v);
        if (size == 0) { *out = 0; return 1; }
        if (size == 1) { *out = (int64_t)((PyLongObject*)v)->ob_digit[0]; return 1; }
        if (size == -1) { *out = -(int64_t)((PyLongObject*)v)->ob_digit[0]; return 1; }
        return 0;
    #endif
    }
    """
    bint pc_compact_i64(object v, int64_t* out) noexcept


cdef inline int64_t _exact_i64(object value, str name) except? -1:
    """An int (exact or subclass) as int64, or InvalidInput when it does not fit."""
    cdef int overflow = 0
    cdef long long out = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow == 0:
        return out
    from perpcore.errors import InvalidInput
    raise InvalidInput(f"{name}={value} does not fit in a signed 64-bit integer")


cdef inline int64_t _slow_i64(object value, str name) except? -1:
    """Everything but an exact int: int subclasses and numpy integers pass, the rest is refused."""
    if PyLong_Check(value) and not PyBool_Check(value):  # an int subclass such as Side.BUY
        return _exact_i64(value, name)
    from perpcore.errors import InvalidType
    if PyBool_Check(value):
        raise InvalidType(f"{name} must be an integer, not bool")
    if PyFloat_Check(value):
        raise InvalidType(f"{name} must be an integer, not float ({value!r}); prices and sizes are "
                          f"integers in ppm and contracts")
    try:
        value = PyNumber_Index(value)  # numpy integers and other __index__ types, as an exact int
    except TypeError:
        raise InvalidType(f"{name} must be an integer, not {type(value).__name__}") from None
    return _exact_i64(value, name)


cdef inline int64_t _as_i64(object value, str name) except? -1:
    """The int64 value of an integer argument named `name` (see the module comment)."""
    cdef int64_t out
    if PyLong_CheckExact(value):
        if pc_compact_i64(value, &out):
            return out
        return _exact_i64(value, name)
    return _slow_i64(value, name)
