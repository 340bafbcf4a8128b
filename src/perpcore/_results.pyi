"""Type stub of the exchange's call records ``perpcore._results`` (hand-written; see _results.pyx).

tests/unit/test_stubs.py checks that the public names, member kinds and parameter names here match
the compiled module, and that every annotation resolves, so this file cannot drift silently.

Every record is immutable (assignment raises ``dataclasses.FrozenInstanceError``), compares equal
to a record of the same class with equal fields (events included, however they were stored), and
pickles. Money is in quote quantums (qq, 1e-6 USDC), sizes in contracts.
"""

from typing import Any, final

import numpy as np

from perpcore.events import Event

class _Record:
    """Immutable record whose ``events`` may be built on first read (stub-only base)."""

    @property
    def events(self) -> tuple[Event, ...]:
        """The call's events as ``perpcore.events`` records, in the order they happened."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

class CallResult(_Record):
    """What a call did: ``code`` 0 accepted (anything else: nothing changed) and its events."""

    def __init__(self, code: int, events: tuple[Event, ...] = ()) -> None: ...
    @property
    def code(self) -> int:
        """0 (``Code.OK``) if accepted, else the ``perpcore.Code`` of the refusal."""
    @property
    def ok(self) -> bool:
        """``code == Code.OK``."""

@final
class SubmitResult(CallResult):
    """A submitted order's outcome: ``filled``/``resting``/``expired`` of the size that entered the
    book (``size``: a reduce-only order may be cut) and ``lock_qq``, what it locked on entry (0 for
    reduce-only orders and rejections)."""

    def __init__(self, code: int, events: tuple[Event, ...] = (), order_id: int = 0,
                 filled: int = 0, resting: int = 0, expired: int = 0, lock_qq: int = 0,
                 size: int = 0) -> None: ...
    @property
    def order_id(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def resting(self) -> int: ...
    @property
    def expired(self) -> int: ...
    @property
    def lock_qq(self) -> int: ...
    @property
    def size(self) -> int: ...

@final
class WithdrawalResult(CallResult):
    """A withdrawal call's outcome: the withdrawal's id and when it may be paid."""

    def __init__(self, code: int, events: tuple[Event, ...] = (), withdrawal_id: int = 0,
                 due_at: int = 0) -> None: ...
    @property
    def withdrawal_id(self) -> int: ...
    @property
    def due_at(self) -> int: ...

@final
class ExchangeBatch(_Record):
    """Output of ``Exchange.process``: one EXCHANGE_RESULT_DTYPE row per command, and the events of
    all commands in order (command i emitted ``results['n_events'][i]`` of them)."""

    def __init__(self, results: np.ndarray[Any, np.dtype[Any]],
                 events: tuple[Event, ...]) -> None: ...
    @property
    def results(self) -> np.ndarray[Any, np.dtype[Any]]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int:
        """Raises TypeError: a batch holds a mutable array."""
