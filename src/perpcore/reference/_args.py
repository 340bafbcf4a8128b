"""Argument conversion shared by the pure-Python reference modules: the twin of ``_convert.pxd``.

Exact ints pass; int subclasses (IntEnum members) and numpy integers become plain ints; bools,
floats and other non-integers raise ``InvalidType``; integers outside int64 raise ``InvalidInput``,
with the native modules' messages. It also holds the range checks and the int64 result check the
reference modules share. It converts and checks; it never decides anything.
"""

import operator

from perpcore.errors import InvalidInput, InvalidType

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def as_i64(value, name):
    """An integer argument as a plain int in int64."""
    if type(value) is not int:
        value = _slow_int(value, name)
    if I64_MIN <= value <= I64_MAX:
        return value
    raise InvalidInput(f"{name}={value} does not fit in a signed 64-bit integer")


def _slow_int(value, name):
    if value.__class__ is bool:
        raise InvalidType(f"{name} must be an integer, not bool")
    if isinstance(value, int):
        return int.__index__(value)  # an int subclass (IntEnum): its plain value
    if isinstance(value, float):
        raise InvalidType(f"{name} must be an integer, not float ({value!r}); prices and sizes are "
                          f"integers in ppm and contracts")
    try:
        value = operator.index(value)
    except TypeError:
        raise InvalidType(f"{name} must be an integer, not {type(value).__name__}") from None
    return int.__index__(value)


def as_flag(value, name):
    """A bool argument (or the integers 0 and 1) as 0 or 1."""
    if value is True:
        return 1
    if value is False:
        return 0
    v = as_i64(value, name)
    if v != 0 and v != 1:
        raise InvalidInput(f"{name} must be a bool")
    return v


def as_ranged(value, name, lo, hi, unit="ppm"):
    value = as_i64(value, name)
    if not lo <= value <= hi:
        raise InvalidInput(f"{name}={value} must be in [{lo}, {hi}] ({unit})")
    return value


def as_price(value, name):
    return as_ranged(value, name, 0, 1_000_000, "ppm of probability")


def as_at_least(value, name, lo):
    value = as_i64(value, name)
    if value < lo:
        raise InvalidInput(f"{name}={value} must be >= {lo}")
    return value


def result_i64(result):
    """A computed result, or OverflowError when it does not fit int64 (as the native modules)."""
    if not I64_MIN <= result <= I64_MAX:
        raise OverflowError("perpcore fixed-point result does not fit in int64")
    return result


def ceil_div(a, b):
    return -(-a // b)
