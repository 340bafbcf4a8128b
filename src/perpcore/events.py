"""The events perpcore's exchange emits: immutable records, one class per kind, each naming its stream.

Every state change of the exchange is reported as one of these, collected per call in the call's
result (``result.events``). ``event.stream`` is the stable stream name of the spec
(``order.created``, ``stream-{market}-response``, ``vault.event``, ``balance.event``,
``position.event``); ``event.kind`` is the class's stable short name. Events carry plain integers,
strings and enums only, so they serialise as they are (``event.as_dict()``). This module defines
records; it never decides anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any, ClassVar

from perpcore.book_types import CancelReason, Side, TimeInForce
from perpcore.lifecycle import MarketPhase

__all__ = [
    "PositionStatus",
    "SettlementStatus",
    "Event",
    "Deposited",
    "WithdrawalRequested",
    "WithdrawalExecuted",
    "WithdrawalRejected",
    "MarginAdded",
    "OrderCreated",
    "OrderRejected",
    "OrderAccepted",
    "OrderFilled",
    "OrderCancelled",
    "BalanceUpdated",
    "PositionUpdated",
    "FundingSettled",
    "MarkPriceUpdated",
    "MarketPhaseChanged",
    "FundingIndexUpdated",
    "LiquidationStarted",
    "LiquidationFilled",
    "LiquidationDeferred",
    "LiquidationFinished",
    "InsuranceDrawn",
    "InsuranceCredited",
    "DeleveragingFilled",
]


class PositionStatus(IntEnum):
    """A position's lifecycle: OPEN while it has contracts, LIQUIDATING under liquidation, CLOSED."""

    OPEN = 0
    LIQUIDATING = 1
    CLOSED = 2


class SettlementStatus(IntEnum):
    """PENDING_SETTLE after any change until the settlement pipeline confirms it on chain."""

    PENDING_SETTLE = 0
    SYNCHRONIZED = 1


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event: ``stream`` and ``kind`` name it, ``as_dict()`` gives its fields."""

    kind: ClassVar[str] = "event"

    @property
    def stream(self) -> str:
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "kind": self.kind, **asdict(self)}


@dataclass(frozen=True, slots=True)
class _VaultEvent(Event):
    @property
    def stream(self) -> str:
        return "vault.event"


@dataclass(frozen=True, slots=True)
class _MarketResponse(Event):
    market: str

    @property
    def stream(self) -> str:
        return f"stream-{self.market}-response"


@dataclass(frozen=True, slots=True)
class Deposited(_VaultEvent):
    kind: ClassVar[str] = "deposited"
    account: int
    amount_qq: int


@dataclass(frozen=True, slots=True)
class WithdrawalRequested(_VaultEvent):
    kind: ClassVar[str] = "withdrawal_requested"
    withdrawal_id: int
    account: int
    amount_qq: int
    due_at: int


@dataclass(frozen=True, slots=True)
class WithdrawalExecuted(_VaultEvent):
    kind: ClassVar[str] = "withdrawal_executed"
    withdrawal_id: int
    account: int
    amount_qq: int


@dataclass(frozen=True, slots=True)
class WithdrawalRejected(_VaultEvent):
    kind: ClassVar[str] = "withdrawal_rejected"
    withdrawal_id: int
    account: int
    amount_qq: int
    code: int


@dataclass(frozen=True, slots=True)
class MarginAdded(_VaultEvent):
    kind: ClassVar[str] = "margin_added"
    account: int
    market: str
    amount_qq: int


@dataclass(frozen=True, slots=True)
class OrderCreated(Event):
    """An order passed validation and the margin check; its lock is taken (before matching)."""

    kind: ClassVar[str] = "order_created"
    market: str
    order_id: int
    account: int
    side: Side
    price_ppm: int
    size: int
    tif: TimeInForce
    reduce_only: bool
    lock_qq: int

    @property
    def stream(self) -> str:
        return "order.created"


@dataclass(frozen=True, slots=True)
class OrderRejected(_MarketResponse):
    kind: ClassVar[str] = "order_rejected"
    order_id: int
    account: int
    code: int


@dataclass(frozen=True, slots=True)
class OrderAccepted(_MarketResponse):
    """The outcome of an accepted order: what filled, what rests, what expired unfilled."""

    kind: ClassVar[str] = "order_accepted"
    order_id: int
    account: int
    filled: int
    resting: int
    expired: int


@dataclass(frozen=True, slots=True)
class OrderFilled(_MarketResponse):
    """One match, with the fee each side paid (a negative maker fee is a rebate)."""

    kind: ClassVar[str] = "order_filled"
    taker_order_id: int
    taker_account: int
    maker_order_id: int
    maker_account: int
    taker_side: Side
    price_ppm: int
    size: int
    taker_fee_qq: int
    maker_fee_qq: int


@dataclass(frozen=True, slots=True)
class OrderCancelled(_MarketResponse):
    """A live order left the book unfilled (user cancel, self-trade prevention, reduce-only)."""

    kind: ClassVar[str] = "order_cancelled"
    order_id: int
    account: int
    remaining: int
    reason: CancelReason
    released_qq: int


@dataclass(frozen=True, slots=True)
class BalanceUpdated(Event):
    """An account's buckets after a call (one event per touched account and market)."""

    kind: ClassVar[str] = "balance_updated"
    account: int
    available_qq: int
    locked_for_orders_qq: int
    locked_for_withdraw_qq: int
    market: str | None
    locked_for_positions_qq: int

    @property
    def stream(self) -> str:
        return "balance.event"


@dataclass(frozen=True, slots=True)
class PositionUpdated(Event):
    kind: ClassVar[str] = "position_updated"
    market: str
    account: int
    size: int
    open_notional_qq: int
    realized_pnl_qq: int
    status: PositionStatus
    settlement_status: SettlementStatus

    @property
    def stream(self) -> str:
        return "position.event"


@dataclass(frozen=True, slots=True)
class FundingSettled(Event):
    """A position settled the funding it owed since its last touch: ``amount_qq`` > 0 paid
    (rounded up), < 0 received (rounded down); ``cumulative_index_idx`` is where it now stands."""

    kind: ClassVar[str] = "funding_settled"
    market: str
    account: int
    amount_qq: int
    cumulative_index_idx: int

    @property
    def stream(self) -> str:
        return "position.event"


@dataclass(frozen=True, slots=True)
class MarkPriceUpdated(Event):
    """The mark service's output after an oracle reading (``accepted`` False: it changed nothing)."""

    kind: ClassVar[str] = "mark_price_updated"
    market: str
    mark_ppm: int
    index_ppm: int
    phase: MarketPhase
    stale: bool
    accepted: bool
    at: int

    @property
    def stream(self) -> str:
        return "mark_price.event"


@dataclass(frozen=True, slots=True)
class MarketPhaseChanged(Event):
    kind: ClassVar[str] = "market_phase_changed"
    market: str
    from_phase: MarketPhase
    to_phase: MarketPhase
    at: int

    @property
    def stream(self) -> str:
        return "market.event"


@dataclass(frozen=True, slots=True)
class FundingIndexUpdated(Event):
    """A funding period closed: its rate moved the market's cumulative index by
    ``index_delta_idx`` (idx = 1e-6 qq per contract; positive: longs pay). What the chain receives
    as ``applyFundingIndex(delta)``."""

    kind: ClassVar[str] = "funding_index_updated"
    market: str
    avg_premium_ppm: int
    rate_idx: int
    capped: bool
    index_delta_idx: int
    cumulative_index_idx: int
    n_minutes: int
    at: int

    @property
    def stream(self) -> str:
        return "funding.event"


@dataclass(frozen=True, slots=True)
class _LiquidationEvent(Event):
    @property
    def stream(self) -> str:
        return "liquidation.event"


@dataclass(frozen=True, slots=True)
class LiquidationStarted(_LiquidationEvent):
    """A position at or below maintenance enters liquidation (status LIQUIDATING): its state at
    the mark, the bankruptcy price of the slice to close and the fillable price limiting it."""

    kind: ClassVar[str] = "liquidation_started"
    market: str
    account: int
    size: int
    mark_ppm: int
    equity_qq: int
    maintenance_qq: int
    close_size: int
    bankruptcy_price_ppm: int
    fillable_price_ppm: int


@dataclass(frozen=True, slots=True)
class LiquidationFilled(_LiquidationEvent):
    """Part of a liquidation order filled at one price: ``bankruptcy_delta_qq`` is what the
    account received above (+) or below (−) the bankruptcy value of those contracts."""

    kind: ClassVar[str] = "liquidation_filled"
    market: str
    account: int
    price_ppm: int
    size: int
    bankruptcy_delta_qq: int


@dataclass(frozen=True, slots=True)
class LiquidationDeferred(_LiquidationEvent):
    """A liquidatable position waits for a later block; ``code`` (4xxx) says why."""

    kind: ClassVar[str] = "liquidation_deferred"
    market: str
    account: int
    code: int


@dataclass(frozen=True, slots=True)
class LiquidationFinished(_LiquidationEvent):
    """A liquidation's block is over: ``closed`` contracts left the position through the book,
    ``deleveraged`` through ADL; ``code`` 0, or the 4xxx reason it stopped early."""

    kind: ClassVar[str] = "liquidation_finished"
    market: str
    account: int
    closed: int
    deleveraged: int
    remaining: int
    status: PositionStatus
    code: int


@dataclass(frozen=True, slots=True)
class InsuranceDrawn(_LiquidationEvent):
    """The market's insurance fund paid ``amount_qq`` into a liquidated position's margin (a
    fill below its bankruptcy value); ``fund_qq`` is what the fund holds afterwards."""

    kind: ClassVar[str] = "insurance_drawn"
    market: str
    account: int
    amount_qq: int
    fund_qq: int


@dataclass(frozen=True, slots=True)
class InsuranceCredited(_LiquidationEvent):
    """A liquidation fee moved from a liquidated position's margin into the insurance fund."""

    kind: ClassVar[str] = "insurance_credited"
    market: str
    account: int
    amount_qq: int
    fund_qq: int


@dataclass(frozen=True, slots=True)
class DeleveragingFilled(_LiquidationEvent):
    """Auto-deleveraging: ``size`` contracts of a position closed against the opposite position
    of ``counterparty`` at ``price_ppm``: the insolvent account's bankruptcy price, or in a
    resolving market (final deleveraging of what its book could not close) the mark when the
    account's equity, topped up by the fund if need be, is not negative."""

    kind: ClassVar[str] = "deleveraging_filled"
    market: str
    account: int
    counterparty: int
    size: int
    price_ppm: int
