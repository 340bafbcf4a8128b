"""The exchange's public records, shared by the native ``Exchange`` and the ``ReferenceExchange``.

Owns what a query reports (``Balances``, ``PositionView``, ``MarginView``), the numpy dtype of the
batch results and the order id ranges, and gathers the call results (``CallResult``,
``SubmitResult``, ``WithdrawalResult``, ``ExchangeBatch``), which live in the native
``perpcore._results`` because the exchange makes one per call. Both implementations build these very
classes, so their results compare equal field by field. The records are immutable. This module
decides nothing and depends on neither implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from perpcore._results import CallResult, ExchangeBatch, SubmitResult, WithdrawalResult
from perpcore.events import PositionStatus, SettlementStatus

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
