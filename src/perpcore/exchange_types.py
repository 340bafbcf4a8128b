"""The exchange's public records, shared by the native ``Exchange`` and the ``ReferenceExchange``.

Owns what an exchange call returns or a query reports: ``Balances``, ``PositionView``,
``MarginView``, the call results (``CallResult``, ``SubmitResult``, ``WithdrawalResult``),
``ExchangeBatch`` and the numpy dtype of the batch results. Both implementations build these very
classes, so their results compare equal field by field. The records are immutable. A result's
``events`` may arrive unbuilt: the native exchange stores a call's events as C records and hands
over an object whose ``build()`` turns them into the ``perpcore.events`` records the first time
``events`` is read (the reference passes the tuple itself). This module decides nothing and
depends on neither implementation.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from perpcore.codes import Code
from perpcore.events import Event, PositionStatus, SettlementStatus

__all__ = [
    "EXCHANGE_ORDER_ID_FIRST",
    "LIQUIDATION_ORDER_ID_FIRST",
    "EXCHANGE_RESULT_DTYPE",
    "Balances",
    "PositionView",
    "MarginView",
    "CallResult",
    "SubmitResult",
    "WithdrawalResult",
    "ExchangeBatch",
]

# Order ids from 2**62 up belong to the exchange: its liquidation orders count down from 2**63 - 1,
# and a user order carrying one is refused with Code.RESERVED_ORDER_ID, so the two never collide.
EXCHANGE_ORDER_ID_FIRST = 2**62
LIQUIDATION_ORDER_ID_FIRST = 2**63 - 1

EXCHANGE_RESULT_DTYPE = np.dtype(
    [
        ("code", "<i4"),
        ("n_events", "<i4"),
        ("order_id", "<i8"),
        ("filled", "<i8"),
        ("resting", "<i8"),
        ("expired", "<i8"),
        ("lock_qq", "<i8"),
    ],
    align=True,
)
"""One row per command of ``Exchange.process``: its outcome and how many events it emitted."""


@dataclass(frozen=True, slots=True)
class Balances:
    """An account's buckets in quote quantums; ``locked_for_positions`` maps market → margin."""

    available: int
    locked_for_orders: int
    locked_for_withdraw: int
    locked_for_positions: Mapping[str, int]

    @property
    def total(self) -> int:
        return (self.available + self.locked_for_orders + self.locked_for_withdraw
                + sum(self.locked_for_positions.values()))


@dataclass(frozen=True, slots=True)
class PositionView:
    """One account's position in one market (size > 0 long, < 0 short)."""

    size: int
    open_notional_qq: int
    entry_price_ppm: int
    realized_pnl_qq: int
    status: PositionStatus
    settlement_status: SettlementStatus
    funding_paid_qq: int = 0
    """Funding settled so far (+ paid, - received)."""


@dataclass(frozen=True, slots=True)
class MarginView:
    """Risk of one account in one market at the current mark and open interest.

    ``health_ppm`` is equity / maintenance in ppm (rounded down), None without a requirement.
    """

    collateral_qq: int
    unrealized_pnl_qq: int
    unsettled_funding_qq: int
    """Funding accrued since the position's last touch (+ to receive, - to pay), in equity."""
    equity_qq: int
    initial_requirement_qq: int
    maintenance_requirement_qq: int
    free_collateral_qq: int
    health_ppm: int | None
    liquidatable: bool


def _built_events(record: Any) -> tuple[Event, ...]:
    """``record._events`` as a tuple, building (once) what the native exchange left unbuilt."""
    events = record._events
    if events.__class__ is not tuple:
        events = events.build()
        object.__setattr__(record, "_events", events)
    return events


class _Record:
    """Immutable record with slots whose ``events`` may be built lazily (see the module doc).

    ``_fields`` names the public fields in order: equality, hashing and repr use them, like a
    frozen dataclass's.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _astuple(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._astuple() == other._astuple()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, self._astuple()


class CallResult(_Record):
    """What a call did: ``code`` 0 accepted (anything else: nothing changed) and its events."""

    __slots__ = ("code", "_events")
    _fields = ("code", "events")

    def __init__(self, code: int, events: tuple[Event, ...] = ()) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "_events", events)

    @property
    def events(self) -> tuple[Event, ...]:
        return _built_events(self)

    @property
    def ok(self) -> bool:
        return self.code == Code.OK


class SubmitResult(CallResult):
    """A submitted order's outcome: ``filled``/``resting``/``expired`` of the size that entered the
    book (``size``: a reduce-only order may be cut) and ``lock_qq``, what it locked on entry (0 for
    reduce-only orders and rejections)."""

    __slots__ = ("order_id", "filled", "resting", "expired", "lock_qq", "size")
    _fields = CallResult._fields + ("order_id", "filled", "resting", "expired", "lock_qq", "size")

    def __init__(self, code: int, events: tuple[Event, ...] = (), order_id: int = 0,
                 filled: int = 0, resting: int = 0, expired: int = 0, lock_qq: int = 0,
                 size: int = 0) -> None:
        super().__init__(code, events)
        for name, value in zip(self._fields[2:], (order_id, filled, resting, expired, lock_qq,
                                                  size)):
            object.__setattr__(self, name, value)


class WithdrawalResult(CallResult):
    __slots__ = ("withdrawal_id", "due_at")
    _fields = CallResult._fields + ("withdrawal_id", "due_at")

    def __init__(self, code: int, events: tuple[Event, ...] = (), withdrawal_id: int = 0,
                 due_at: int = 0) -> None:
        super().__init__(code, events)
        object.__setattr__(self, "withdrawal_id", withdrawal_id)
        object.__setattr__(self, "due_at", due_at)


class ExchangeBatch(_Record):
    """Output of ``Exchange.process``: one EXCHANGE_RESULT_DTYPE row per command, and the events of
    all commands in order (command i emitted ``results['n_events'][i]`` of them)."""

    __slots__ = ("results", "_events")
    _fields = ("results", "events")

    def __init__(self, results: np.ndarray, events: tuple[Event, ...]) -> None:
        object.__setattr__(self, "results", results)
        object.__setattr__(self, "_events", events)

    @property
    def events(self) -> tuple[Event, ...]:
        return _built_events(self)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (np.array_equal(self.results, other.results)  # type: ignore[attr-defined]
                and self.results.dtype == other.results.dtype  # type: ignore[attr-defined]
                and self.events == other.events)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # holds a mutable array
