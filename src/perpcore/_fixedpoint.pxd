# perpcore fixed-point arithmetic for the native modules: the C helpers of _fixedpoint.h (128-bit
# intermediates, rounding named "down" = floor and "up" = ceil, checked narrowing back to int64) and
# thin inline wrappers that raise OverflowError / ZeroDivisionError. Every native division of money
# or prices goes through here; nothing here keeps state.

from libc.stdint cimport int64_t

cdef extern from "_fixedpoint.h" nogil:
    ctypedef struct pc_i128:
        pass
    int PC_OK
    int PC_OVERFLOW
    int PC_DIV_ZERO
    pc_i128 pc_wide(int64_t a)
    pc_i128 pc_wide_mul(int64_t a, int64_t b)
    pc_i128 pc_wide_add(pc_i128 a, pc_i128 b)
    pc_i128 pc_wide_sub(pc_i128 a, pc_i128 b)
    bint pc_wide_lt(pc_i128 a, pc_i128 b)
    bint pc_wide_le(pc_i128 a, pc_i128 b)
    pc_i128 pc_wide_div_ceil(pc_i128 a, pc_i128 b)
    int pc_narrow(pc_i128 v, int64_t *out)
    int pc_wide_div_down(pc_i128 n, pc_i128 d, int64_t *out)
    int pc_wide_div_up(pc_i128 n, pc_i128 d, int64_t *out)
    int pc_mul_div_down(int64_t a, int64_t b, int64_t d, int64_t *out)
    int pc_mul_div_up(int64_t a, int64_t b, int64_t d, int64_t *out)
    int pc_add(int64_t a, int64_t b, int64_t *out)
    int pc_sub(int64_t a, int64_t b, int64_t *out)
    int pc_mul(int64_t a, int64_t b, int64_t *out)


cdef inline int64_t checked(int status, int64_t value) except? -1:
    """Turn a helper's status into the value or the matching Python exception."""
    if status == PC_OK:
        return value
    if status == PC_DIV_ZERO:
        raise ZeroDivisionError("perpcore fixed-point division by zero")
    raise OverflowError("perpcore fixed-point result does not fit in int64")


cdef inline int64_t mul_div_down(int64_t a, int64_t b, int64_t d) except? -1:
    """floor(a * b / d) with a 128-bit intermediate."""
    cdef int64_t out = 0
    cdef int status = pc_mul_div_down(a, b, d, &out)  # sequenced: C leaves argument order open
    return checked(status, out)


cdef inline int64_t mul_div_up(int64_t a, int64_t b, int64_t d) except? -1:
    """ceil(a * b / d) with a 128-bit intermediate."""
    cdef int64_t out = 0
    cdef int status = pc_mul_div_up(a, b, d, &out)  # sequenced: C leaves argument order open
    return checked(status, out)


cdef inline int64_t wide_div_down(pc_i128 n, pc_i128 d) except? -1:
    cdef int64_t out = 0
    cdef int status = pc_wide_div_down(n, d, &out)  # sequenced: C leaves argument order open
    return checked(status, out)


cdef inline int64_t wide_div_up(pc_i128 n, pc_i128 d) except? -1:
    cdef int64_t out = 0
    cdef int status = pc_wide_div_up(n, d, &out)  # sequenced: C leaves argument order open
    return checked(status, out)
