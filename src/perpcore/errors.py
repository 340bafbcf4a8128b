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
    "ChainError",
    "ChainStartError",
    "ContractRevert",
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


class ChainError(PerpcoreError, RuntimeError):
    """A chain, its node or a contract on it failed to do what perpcore asked."""


class ChainStartError(ChainError):
    """A local chain's node did not start or did not answer in time (its process is stopped)."""


class ContractRevert(ChainError):
    """A contract call or transaction reverted.

    ``error_name`` is the Solidity custom error's name (``"Error"`` for a ``require`` message,
    ``"Panic"`` for a panic code, None when the revert data matches no error perpcore knows),
    ``args`` its decoded arguments in order, ``fields`` the same keyed by their snake_case names,
    ``data`` the raw revert bytes. ``perpcore.chain.contracts`` holds one subclass per custom error
    of the bound contracts, so ``except InsufficientBalance as e: e.available`` works.
    """

    def __init__(self, error_name, args=(), fields=None, data=b""):
        super().__init__(*args)
        self.error_name = error_name
        self.fields = dict(fields or {})
        self.data = bytes(data)

    def __getattr__(self, name):
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def __str__(self):
        if self.error_name is None:
            return f"reverted with unknown data 0x{self.data.hex()}"
        shown = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"reverted with {self.error_name}({shown})"
