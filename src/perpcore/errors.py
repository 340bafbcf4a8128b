"""perpcore's exception hierarchy: the one place every error class is defined.

Expected rejections (post-only would cross, insufficient margin, ...) are not exceptions: they are
result codes (see ``perpcore.codes``). Exceptions are for bad input, broken invariants, overflow and
failures of stores or chains. Each class also subclasses the matching builtin, so callers may catch
either ``perpcore.PerpcoreError`` or the builtin they already expect.
"""

__all__ = [
    "PerpcoreError",
    "InvalidInput",
    "InvalidType",
    "SnapshotError",
    "IntegrityError",
    "IllegalTransition",
]


class PerpcoreError(Exception):
    """Base class of every exception perpcore raises on purpose."""


class InvalidInput(PerpcoreError, ValueError):
    """An argument has the right type but a value perpcore cannot accept."""


class InvalidType(PerpcoreError, TypeError):
    """An argument has the wrong type (for instance a float where an integer is required)."""


class SnapshotError(InvalidInput):
    """Snapshot bytes are truncated, corrupt, of another version or describe an impossible state."""


class IntegrityError(PerpcoreError, AssertionError):
    """A stateful structure found one of its own invariants broken (a bug, never a user error)."""



class IllegalTransition(PerpcoreError, ValueError):
    """A state machine was asked for a transition its rules do not allow (nothing changed)."""
