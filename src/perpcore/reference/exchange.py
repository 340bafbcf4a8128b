"""The reference exchange: markets sharing accounts, orders → margin locks → fills → positions, and
withdrawals, in plain Python over a ``Ledger`` — the slow, obviously-correct twin of the native
``perpcore.Exchange`` (``perpcore._engine``), which must behave identically call for call.

``ReferenceExchange`` hosts several markets (one ``ReferenceOrderBook`` and one ``RiskTier`` each)
over one ``Ledger`` of balances. It owns the green path of the spec: an order is validated,
margin-checked ("filled in full at its worst price, would the account stay at or above initial
margin, with open interest as it would then be?"), its initial margin locked in
``locked_for_orders``, then matched; every fill updates both positions (average entry as open
notional, realised PnL through the market's clearing pool), moves the filled share of each order's
lock into ``locked_for_positions``, charges fees (taker, maker or rebate; a share to the insurance
fund), updates open interest and releases what a reduction frees. Cancels and expiries release
locks exactly. Margin is isolated per market: a market's losses are paid from that market's
position margin only; what it cannot pay is recorded as the market's bad debt (the liquidation
engine's business). Every change is reported as an event (``perpcore.events``) in the call's
result, a record of ``perpcore.exchange_types``. The risk arithmetic itself lives in
``perpcore._margin``; this module decides which of it applies when, and never rounds by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from perpcore._funding import FundingParams
from perpcore._margin import RiskTier, apply_fill, entry_price_ppm, unrealized_pnl_qq
from perpcore.book_types import (
    COMMAND_DTYPE,
    FLAG_REDUCE_ONLY,
    PRICE_SCALE_PPM,
    CancelReason,
    Op,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from perpcore.codes import Code
from perpcore.errors import IntegrityError, InvalidInput, InvalidType
from perpcore.events import (
    BalanceUpdated,
    Deposited,
    Event,
    FundingSettled,
    InsuranceCredited,
    MarginAdded,
    OrderAccepted,
    OrderCancelled,
    OrderCreated,
    OrderFilled,
    OrderRejected,
    MarketPhaseChanged,
    PositionStatus,
    PositionUpdated,
    SettlementStatus,
    WithdrawalExecuted,
    WithdrawalRejected,
    WithdrawalRequested,
)
from perpcore.exchange_types import (
    EXCHANGE_ORDER_ID_FIRST,
    EXCHANGE_RESULT_DTYPE,
    LIQUIDATION_ORDER_ID_FIRST,
    Balances,
    CallResult,
    ExchangeBatch,
    MarginView,
    PositionView,
    SubmitResult,
    WithdrawalResult,
)
from perpcore.ledger import AVAILABLE, ORDERS, WITHDRAW, Ledger
from perpcore.liquidation import LiquidationBlock, Liquidator
from perpcore.lifecycle import MarketPhase
from perpcore.mark import MarkParams
from perpcore.market_services import DEFAULT_FUNDING, MarketServices
from perpcore.reference import funding as reference_funding
from perpcore.reference.funding import funding_dust_idx, funding_payment_qq
from perpcore.reference._args import as_i64, as_price, ceil_div
from perpcore.reference.book import ReferenceOrderBook

__all__ = ["ReferenceExchange"]

BUY, SELL = Side.BUY, Side.SELL
IDX_PER_QQ = 1_000_000  # funding index units (idx) per quote quantum and contract


# ------------------------------------------------------------------------------- internal state

@dataclass(slots=True)
class _Position:
    size: int = 0
    open_notional: int = 0
    realized_pnl: int = 0
    status: PositionStatus = PositionStatus.CLOSED
    settlement_status: SettlementStatus = SettlementStatus.SYNCHRONIZED
    funding_index: int = 0  # the market's cumulative funding index at its last touch
    funding_paid: int = 0  # funding settled so far (+ paid, - received)
    liquidating: bool = False  # under liquidation (status LIQUIDATING while it has contracts)


_NO_POSITION = _Position()


@dataclass(slots=True)
class _Order:
    account: int
    side: int
    remaining: int
    lock: int
    reduce_only: bool


@dataclass(slots=True)
class _Withdrawal:
    account: int
    amount: int
    due_at: int


@dataclass(slots=True)
class _Market:
    name: str
    book: ReferenceOrderBook
    risk: RiskTier
    mark_ppm: int
    services: MarketServices
    open_interest: int = 0
    bad_debt: int = 0  # realised losses position margin could not pay
    funding_bad_debt: int = 0  # funding payments position margin could not pay
    funding_dust: int = 0  # rounding surplus of settled funding not yet swept, in idx (< 1e6)
    positions: dict[int, _Position] = field(default_factory=dict)
    orders: dict[int, _Order] = field(default_factory=dict)
    reduce_only: dict[int, set[int]] = field(default_factory=dict)  # account -> order ids
    changed: dict[int, None] = field(default_factory=dict)  # positions/margins changed since the
    #                                                          liquidation engine last asked

    def position(self, account: int) -> _Position:
        p = self.positions.get(account)
        if p is None:
            p = self.positions[account] = _Position()
        return p

    @property
    def funding_index(self) -> int:
        return self.services.sampler.cumulative_index

    def reducible(self, order_id: int, side: int) -> int:
        """The book's reduce-only guard: how much the owner of order ``order_id`` may trade on
        ``side`` before its position (as it stands before the command) would open exposure."""
        p = self.positions.get(self.orders[order_id].account)
        size = p.size if p is not None else 0
        return max(-size, 0) if side == BUY else max(size, 0)

    def oi_notional(self, open_interest: int | None = None) -> int:
        return (self.open_interest if open_interest is None else open_interest) * self.mark_ppm


class _Call:
    """Events and touched accounts of one call, turned into balance/position events at the end.

    ``balances`` maps each touched account to the market whose position margin it reports (None:
    no market); ``positions`` lists accounts whose position in ``market`` changed, in order, and
    ``reduced`` those among them whose position shrank or flipped.
    """

    __slots__ = ("market", "events", "balances", "positions", "reduced", "liquidation")

    def __init__(self, market: _Market | None = None, liquidation: bool = False) -> None:
        self.market = market
        self.liquidation = liquidation  # a liquidation order's call: its fills' fee rules
        self.events: list[Event] = []
        self.balances: dict[int, str | None] = {}
        self.positions: dict[int, None] = {}
        self.reduced: dict[int, None] = {}  # accounts whose position shrank or flipped


def _status(p: _Position) -> PositionStatus:
    if not p.size:
        return PositionStatus.CLOSED
    return PositionStatus.LIQUIDATING if p.liquidating else PositionStatus.OPEN


# ------------------------------------------------------------------------------- validation

def _as_market_name(value) -> str:
    if not isinstance(value, str):
        raise InvalidType(f"market must be a str, not {type(value).__name__}")
    return value


class ReferenceExchange:
    """Markets, accounts and positions, driven by commands with explicit times (no wall clock).

    ``withdrawal_delay`` is in the units of the ``now`` arguments (e.g. seconds or blocks).
    """

    def __init__(self, *, withdrawal_delay: int = 0) -> None:
        self.withdrawal_delay = as_i64(withdrawal_delay, "withdrawal_delay")
        if self.withdrawal_delay < 0:
            raise InvalidInput("withdrawal_delay must be non-negative")
        self.ledger = Ledger()
        self._markets: dict[str, _Market] = {}
        self._withdrawals: dict[int, _Withdrawal] = {}
        self._next_withdrawal_id = 1
        self._next_liquidation_order_id = LIQUIDATION_ORDER_ID_FIRST
        self._liquidator = None

    # ------------------------------------------------------------------ markets

    def add_market(self, market: str, *, tick_ppm: int = 1000, lot: int = 1, min_size: int = 1,
                   max_size: int = 1_000_000_000, risk: RiskTier | None = None,
                   mark_ppm: int = 500_000, mark_params: MarkParams | None = None,
                   funding: FundingParams | None = None, active: bool = True) -> None:
        """List a market: its book's grid and sizes, its risk tier, its initial mark (and index),
        the guards of its mark service, its funding parameters (default: DEFAULT_FUNDING with the
        tier's factors) and its phase: Active, or Draft until ``activate``."""
        market = _as_market_name(market)
        if not market or market in self._markets:
            raise InvalidInput(f"market name {market!r} is empty or already listed")
        if risk is None:
            risk = RiskTier()
        elif not isinstance(risk, RiskTier):
            raise InvalidType("risk must be a perpcore.RiskTier")
        if funding is None:
            funding = FundingParams.for_tier(risk, **DEFAULT_FUNDING)
        elif not isinstance(funding, FundingParams):
            raise InvalidType("funding must be a perpcore.FundingParams")
        if not isinstance(active, (bool, np.bool_)):
            raise InvalidType("active must be a bool")
        book = ReferenceOrderBook(tick_ppm=tick_ppm, lot=lot, min_size=min_size,
                                  max_size=max_size)
        mark = self._valid_mark(mark_ppm)
        sampler = reference_funding.ReferenceFundingSampler(
            reference_funding.FundingParams(**funding.as_dict()))
        services = MarketServices(market, mark, mark_params, funding, sampler,
                                  active=bool(active))
        m = _Market(market, book, risk, services.mark.mark_ppm, services)
        book.reducible = m.reducible
        self._markets[market] = m
        self.ledger.add_market(market)

    @property
    def markets(self) -> tuple[str, ...]:
        return tuple(self._markets)

    def book(self, market: str) -> ReferenceOrderBook:
        """The market's order book (read it; trade through the exchange)."""
        return self._market(market).book

    def risk(self, market: str) -> RiskTier:
        return self._market(market).risk

    def set_mark(self, market: str, price_ppm: int) -> CallResult:
        """Set a trusted mark (ppm, strictly inside (0, 1_000_000)), which is also the index,
        bypassing the oracle guards (backtests); risk reads it from now on. Draft or Active only
        (MARKET_NOT_ACTIVE)."""
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        price = self._valid_mark(price_ppm)
        if m.services.phase > MarketPhase.ACTIVE:
            return CallResult(Code.MARKET_NOT_ACTIVE)
        m.services.trusted_mark(price)
        m.mark_ppm = price
        return CallResult(Code.OK)

    def update_oracle(self, market: str, raw_ppm: int, source_ts: int, now: int) -> CallResult:
        """Feed one oracle reading through the market's mark service (bounds, deviation clamp,
        smoothing, staleness); the mark risk uses becomes the service's mark at ``now``. While
        the market resolves, readings are ignored and the mark follows its interpolation."""
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        event = m.services.oracle(raw_ppm, source_ts, now)
        m.mark_ppm = event.mark_ppm
        return CallResult(Code.OK, (event,))

    def refresh_mark(self, market: str, now: int) -> CallResult:
        """Recompute the mark at ``now`` without a reading (a resolving market's interpolation)."""
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        event = m.services.mark.event(as_i64(now, "now"), False)
        m.mark_ppm = event.mark_ppm
        return CallResult(Code.OK, (event,))

    def mark(self, market: str) -> int:
        return self._market(market).mark_ppm

    def index(self, market: str) -> int:
        """The market's index (funding's reference price), ppm."""
        return self._market(market).services.mark.index_ppm

    def mark_stale(self, market: str, now: int) -> bool:
        """Whether the market's oracle-fed prices are stale at ``now`` (a trusted mark never is)."""
        return self._market(market).services.stale(as_i64(now, "now"))

    def phase(self, market: str) -> MarketPhase:
        return self._market(market).services.phase

    # ------------------------------------------------------------------ funding

    def sample_funding(self, market: str) -> int | None:
        """Take this block's premium sample from the book against the index (Active only; None
        in any other phase, which runs no funding)."""
        m = self._market(market)
        if m.services.phase is not MarketPhase.ACTIVE:
            return None
        return m.services.sampler.sample(m.book, m.services.mark.index_ppm)

    def close_funding_minute(self, market: str) -> int | None:
        """Close the open minute (its padded median); None outside Active."""
        m = self._market(market)
        if m.services.phase is not MarketPhase.ACTIVE:
            return None
        return m.services.sampler.close_minute()

    def close_funding_period(self, market: str, now: int) -> CallResult:
        """Close the funding period at the current mark: the capped rate moves the cumulative
        index (``FundingIndexUpdated`` on ``funding.event``). Positions settle it on their next
        touch. MARKET_NOT_ACTIVE outside Active."""
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        now = as_i64(now, "now")
        if m.services.phase is not MarketPhase.ACTIVE:
            return CallResult(Code.MARKET_NOT_ACTIVE)
        period = m.services.sampler.close_period(m.mark_ppm)
        return CallResult(Code.OK, (m.services.period_event(period, now),))

    def funding_index(self, market: str) -> int:
        """The market's cumulative funding index, idx (1e-6 qq per contract)."""
        return self._market(market).funding_index

    def funding_pool(self, market: str) -> int:
        """Funding paid in and not yet paid out (see ``perpcore.ledger``)."""
        return self.ledger.markets[self._market(market).name].funding

    # ------------------------------------------------------------------ lifecycle

    def activate(self, market: str, now: int) -> CallResult:
        """Draft → Active: trading and funding start."""
        m = self._market(market)
        return CallResult(Code.OK, (m.services.advance(MarketPhase.ACTIVE, as_i64(now, "now")),))

    def begin_resolution(self, market: str, resolved_ppm: int, now: int,
                         window_s: int) -> CallResult:
        """Active → Resolving: the outcome is ``resolved_ppm`` (0 and 1_000_000 included). Orders
        that could add exposure (all but reduce-only ones) are cancelled, only reduce-only orders
        are taken from now on, funding stops and the mark moves linearly to the resolved value
        over ``window_s``."""
        m = self._market(market)
        value = as_price(resolved_ppm, "resolved_ppm")
        now = as_i64(now, "now")
        window = as_i64(window_s, "window_s")
        if window < 0:
            raise InvalidInput("window_s must be non-negative")
        call = _Call(m)
        call.events.append(m.services.advance(MarketPhase.RESOLVING, now))
        self._cancel_orders(m, call, lambda o: not o.reduce_only, CancelReason.REDUCE_ONLY)
        event = m.services.mark.begin_resolution(value, now, window)
        m.mark_ppm = event.mark_ppm
        call.events.append(event)
        return CallResult(Code.OK, self._finish(call))

    def resolve(self, market: str, now: int) -> CallResult:
        """Resolving → Resolved: trading closes (every resting order is cancelled, reason
        MARKET_CLOSED) and the mark is the resolved value."""
        m = self._market(market)
        now = as_i64(now, "now")
        call = _Call(m)
        call.events.append(m.services.advance(MarketPhase.RESOLVED, now))
        self._cancel_orders(m, call, lambda o: True, CancelReason.MARKET_CLOSED)
        m.mark_ppm = m.services.mark.resolved_ppm
        return CallResult(Code.OK, self._finish(call))

    def settle(self, market: str, now: int) -> CallResult:
        """Resolved → Settled: every position settles its funding and closes at the resolved
        value through the clearing pool; all position margin returns to ``available`` and open
        interest is 0."""
        m = self._market(market)
        now = as_i64(now, "now")
        call = _Call(m)
        call.events.append(m.services.advance(MarketPhase.SETTLED, now))
        price = m.services.mark.resolved_ppm
        for account in sorted(m.positions):
            p = m.positions[account]
            self._settle_funding(m, account, p, call)
            if p.size:
                self._close_at(m, account, p, price, call)
        for account in sorted(self.ledger.accounts):
            margin = self.ledger.bucket(account, m.name)
            if margin:
                self.ledger.move(account, m.name, AVAILABLE, margin)
                call.balances[account] = m.name
        return CallResult(Code.OK, self._finish(call))

    # ------------------------------------------------------------------ money in and out

    def deposit(self, account: int, amount_qq: int) -> CallResult:
        """Credit ``amount_qq`` (> 0) to the account's ``available``; the first deposit opens it."""
        account = self._valid_account(account)
        amount = as_i64(amount_qq, "amount_qq")
        if amount <= 0:
            raise InvalidInput(f"deposit amount_qq={amount} must be positive")
        self.ledger.deposit(account, amount)
        call = _Call()
        call.events.append(Deposited(account, amount))
        call.balances[account] = None
        return CallResult(Code.OK, self._finish(call))

    def add_margin(self, account: int, market: str, amount_qq: int) -> CallResult:
        """Move ``available`` into the account's position margin in ``market``."""
        account = self._valid_account(account)
        amount = as_i64(amount_qq, "amount_qq")
        if amount <= 0:
            raise InvalidInput(f"amount_qq={amount} must be positive")
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        if not m.services.phase.allows_trading:
            return CallResult(Code.MARKET_NOT_TRADING)
        refusal = self._available_refusal(account, amount)
        if refusal is not None:
            return CallResult(refusal)
        self.ledger.move(account, AVAILABLE, m.name, amount)
        call = _Call()
        call.events.append(MarginAdded(account, m.name, amount))
        call.balances[account] = m.name
        return CallResult(Code.OK, self._finish(call))

    def fund_insurance(self, account: int, market: str, amount_qq: int) -> CallResult:
        """Move ``available`` of ``account`` into the market's insurance fund (an operator's
        top-up); it never comes back except through the fund's draws."""
        account = self._valid_account(account)
        amount = as_i64(amount_qq, "amount_qq")
        if amount <= 0:
            raise InvalidInput(f"amount_qq={amount} must be positive")
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        refusal = self._available_refusal(account, amount)
        if refusal is not None:
            return CallResult(refusal)
        self.ledger.fund_insurance(account, m.name, amount)
        call = _Call()
        call.events.append(InsuranceCredited(m.name, account, amount,
                                             self.ledger.markets[m.name].insurance_fund))
        call.balances[account] = None
        return CallResult(Code.OK, self._finish(call))

    def request_withdrawal(self, account: int, amount_qq: int, now: int) -> WithdrawalResult:
        """Set ``amount_qq`` of ``available`` aside; it may be paid from ``now + withdrawal_delay``."""
        account = self._valid_account(account)
        amount = as_i64(amount_qq, "amount_qq")
        now = as_i64(now, "now")
        if amount <= 0:
            raise InvalidInput(f"withdrawal amount_qq={amount} must be positive")
        refusal = self._available_refusal(account, amount)
        if refusal is not None:
            return WithdrawalResult(refusal)
        self.ledger.move(account, AVAILABLE, WITHDRAW, amount)
        wid = self._next_withdrawal_id
        self._next_withdrawal_id += 1
        due = now + self.withdrawal_delay
        self._withdrawals[wid] = _Withdrawal(account, amount, due)
        call = _Call()
        call.events.append(WithdrawalRequested(wid, account, amount, due))
        call.balances[account] = None
        return WithdrawalResult(Code.OK, self._finish(call), wid, due)

    def process_withdrawal(self, withdrawal_id: int, now: int) -> WithdrawalResult:
        """Pay a due withdrawal, or reject it if paying would leave the account below its initial
        requirements (the funds then return to ``available``; the result carries
        WITHDRAWAL_BELOW_INITIAL_MARGIN and the withdrawal is over either way)."""
        wid = as_i64(withdrawal_id, "withdrawal_id")
        now = as_i64(now, "now")
        w = self._withdrawals.get(wid)
        if w is None:
            return WithdrawalResult(Code.UNKNOWN_WITHDRAWAL, withdrawal_id=wid)
        if now < w.due_at:
            return WithdrawalResult(Code.WITHDRAWAL_NOT_DUE, withdrawal_id=wid, due_at=w.due_at)
        if any(m.services.stale(now) and m.positions.get(w.account, _NO_POSITION).size
               for m in self._markets.values()):
            return WithdrawalResult(Code.WITHDRAWAL_DEFERRED_STALE_MARK, withdrawal_id=wid,
                                    due_at=w.due_at)
        del self._withdrawals[wid]
        call = _Call()
        call.balances[w.account] = None
        if self._below_initial_without_withdrawals(w.account):
            self.ledger.move(w.account, WITHDRAW, AVAILABLE, w.amount)
            code = Code.WITHDRAWAL_BELOW_INITIAL_MARGIN
            call.events.append(WithdrawalRejected(wid, w.account, w.amount, int(code)))
        else:
            self.ledger.withdraw(w.account, w.amount)
            code = Code.OK
            call.events.append(WithdrawalExecuted(wid, w.account, w.amount))
        return WithdrawalResult(code, self._finish(call), wid, w.due_at)

    def pending_withdrawals(self, account: int | None = None) -> dict[int, tuple[int, int, int]]:
        """Pending withdrawals as ``{id: (account, amount_qq, due_at)}``, optionally of one account."""
        return {wid: (w.account, w.amount, w.due_at) for wid, w in self._withdrawals.items()
                if account is None or w.account == account}

    # ------------------------------------------------------------------ orders

    def submit(self, market: str, order_id: int, account: int, side: int, price_ppm: int,
               size: int, tif: int = TimeInForce.GTC,
               stp: int = SelfTradePrevention.EXPIRE_MAKER,
               reduce_only: bool = False) -> SubmitResult:
        """Validate, margin-check, lock, match and apply the fills of one order.

        ``price_ppm`` is the limit (for TimeInForce.MARKET the protection price, 0 for none). A
        reduce-only order locks nothing, must shrink the position, and is cut so that the account's
        resting reduce-only orders never exceed its position.
        """
        order_id = as_i64(order_id, "order_id")
        account = as_i64(account, "account")
        side = as_i64(side, "side")
        price = as_i64(price_ppm, "price_ppm")
        size = as_i64(size, "size")
        tif = as_i64(tif, "tif")
        stp = as_i64(stp, "stp")
        if not isinstance(reduce_only, (bool, np.bool_)):
            raise InvalidType("reduce_only must be a bool")
        reduce_only = bool(reduce_only)
        m = self._market_or_none(market)
        if m is None:
            return SubmitResult(Code.UNKNOWN_MARKET, order_id=order_id)
        phase = m.services.phase
        if not phase.allows_trading:
            return self._rejected(m, order_id, account, Code.MARKET_NOT_TRADING)
        if not reduce_only and not phase.allows_new_exposure:
            return self._rejected(m, order_id, account, Code.MARKET_REDUCE_ONLY)
        code = m.book.check_place(order_id, account, side, price, size, tif, stp, reduce_only)
        if code == Code.OK and order_id >= EXCHANGE_ORDER_ID_FIRST:
            code = Code.RESERVED_ORDER_ID
        if code == Code.OK and account not in self.ledger.accounts:
            code = Code.UNKNOWN_ACCOUNT
        if code != Code.OK:
            return self._rejected(m, order_id, account, code)
        pos = m.position(account)
        signed = size if side == BUY else -size
        if reduce_only:
            code, size = self._reduce_only_size(m, account, side, size)
            if code == Code.OK:
                code, price = self._reduce_only_price(m, account, pos, size, tif, price)
            if code != Code.OK:
                return self._rejected(m, order_id, account, code)
            lock = 0
        else:
            worst = self._worst_price(m, side, price, tif)
            lock, code = self._order_lock(m, account, pos, signed, worst)
            if code != Code.OK:
                return self._rejected(m, order_id, account, code)
        # take the lock, then match; a book rejection (post-only cross, FOK) undoes the lock
        self.ledger.move(account, AVAILABLE, ORDERS, lock)
        m.orders[order_id] = _Order(account, side, size, lock, reduce_only)
        r = m.book.place(order_id, account, side, price, size, tif, stp, reduce_only)
        if r.code != Code.OK:
            del m.orders[order_id]
            self.ledger.move(account, ORDERS, AVAILABLE, lock)
            return self._rejected(m, order_id, account, r.code)
        call = _Call(m)
        call.events.append(OrderCreated(m.name, order_id, account, Side(side), price, size,
                                        TimeInForce(tif), reduce_only, lock))
        call.balances[account] = m.name
        self._apply_book_result(m, r, call)
        order = m.orders.get(order_id)
        if order is not None and r.resting == 0:
            self._drop_order(m, order_id, call)  # filled in full or expired: free what remains
        elif order is not None and reduce_only:
            m.reduce_only.setdefault(account, set()).add(order_id)
        call.events.append(OrderAccepted(m.name, order_id, account, r.filled, r.resting, r.expired))
        self._trim_reduce_only(m, call)
        return SubmitResult(Code.OK, self._finish(call), order_id, r.filled, r.resting, r.expired,
                            lock, size)

    def cancel(self, market: str, order_id: int) -> CallResult:
        """Cancel a live order; its remaining lock returns to ``available``."""
        order_id = as_i64(order_id, "order_id")
        return self._cancel_through_book(market, lambda book: book.cancel(order_id))

    def cancel_all(self, market: str, account: int) -> CallResult:
        """Cancel every live order of ``account`` in ``market``."""
        account = as_i64(account, "account")
        return self._cancel_through_book(market, lambda book: book.cancel_all(account))

    def _cancel_through_book(self, market: str, book_call) -> CallResult:
        m = self._market_or_none(market)
        if m is None:
            return CallResult(Code.UNKNOWN_MARKET)
        r = book_call(m.book)
        if r.code != Code.OK:
            return CallResult(r.code)
        call = _Call(m)
        self._apply_book_result(m, r, call)
        return CallResult(Code.OK, self._finish(call))

    def process(self, market: str, commands: np.ndarray) -> ExchangeBatch:
        """Run a numpy array of COMMAND_DTYPE commands (PLACE, CANCEL, CANCEL_ALL) through one
        market, command by command with the same semantics as the per-call methods (AMEND gets
        INVALID_OP: amending a margined order is not offered yet)."""
        if not isinstance(commands, np.ndarray) or commands.dtype != COMMAND_DTYPE:
            raise InvalidType("commands must be a numpy array of COMMAND_DTYPE")
        if commands.ndim != 1:
            raise InvalidInput("commands must be one-dimensional")
        out = np.zeros(len(commands), EXCHANGE_RESULT_DTYPE)
        events: list[Event] = []
        rows = zip(commands["op"].tolist(), commands["side"].tolist(), commands["tif"].tolist(),
                   commands["stp"].tolist(), commands["flags"].tolist(),
                   commands["order_id"].tolist(), commands["account"].tolist(),
                   commands["price_ppm"].tolist(), commands["size"].tolist())
        for i, (op, side, tif, stp, flags, oid, account, price, size) in enumerate(rows):
            if op == Op.PLACE:
                if flags & ~FLAG_REDUCE_ONLY:
                    r = SubmitResult(Code.INVALID_FLAGS, order_id=oid)
                else:
                    r = self.submit(market, oid, account, side, price, size, tif=tif, stp=stp,
                                    reduce_only=bool(flags & FLAG_REDUCE_ONLY))
                out[i] = (r.code, len(r.events), oid, r.filled, r.resting, r.expired, r.lock_qq)
            else:
                if op == Op.CANCEL:
                    r = self.cancel(market, oid)
                elif op == Op.CANCEL_ALL:
                    r = self.cancel_all(market, account)
                else:
                    r = CallResult(Code.INVALID_OP)
                out[i] = (r.code, len(r.events), oid, 0, 0, 0, 0)
            events.extend(r.events)
        return ExchangeBatch(out, tuple(events))

    # ------------------------------------------------------------------ liquidation

    def liquidate(self, now: int) -> LiquidationBlock:
        """Run one block of the liquidation engine over every market (see
        ``perpcore.liquidation``): liquidatable positions close through the book at or better
        than their fillable price, the insurance fund pays or collects the difference to their
        bankruptcy value, and insolvent remainders the fund cannot cover are deleveraged."""
        if self._liquidator is None:
            self._liquidator = Liquidator(self)
        return self._liquidator.run_block(as_i64(now, "now"))

    # The liquidation engine's hooks: each is one call of its own, returning its events.

    def _liquidation_changes(self, market: str) -> list[int]:
        """Accounts whose position or position margin in ``market`` changed since the last ask."""
        m = self._market(market)
        out = list(m.changed)
        m.changed.clear()
        return out

    def _liquidation_set_status(self, market: str, account: int,
                                liquidating: bool) -> tuple[Event, ...]:
        """Enter (True) or leave (False) liquidation: the position's status LIQUIDATING/OPEN."""
        m = self._market(market)
        p = m.position(account)
        p.liquidating = bool(liquidating) and p.size != 0
        p.status = _status(p)
        call = _Call(m)
        call.positions[account] = None
        return self._finish(call)

    def _liquidation_cancel_orders(self, market: str, account: int) -> tuple[Event, ...]:
        """Cancel the account's live orders in ``market`` (CancelReason.LIQUIDATION)."""
        m = self._market(market)
        call = _Call(m)
        self._cancel_orders(m, call, lambda o: o.account == account, CancelReason.LIQUIDATION)
        return self._finish(call)

    def _liquidation_trade(self, market: str, account: int, side: int, size: int,
                           price_ppm: int) -> tuple[int, tuple[Event, ...]]:
        """An IOC order of the exchange's own (no margin check, no lock) for ``account`` at limit
        ``price_ppm``, which must only shrink its position; the account pays no trading fee and
        its makers no rebate. Returns (contracts filled, events)."""
        m = self._market(market)
        p = m.position(account)
        if p.size == 0 or (side == BUY) != (p.size < 0) or not 0 < size <= abs(p.size):
            raise IntegrityError(f"liquidation order of {size} on side {side} does not reduce "
                                 f"position {p.size}")
        order_id = self._next_liquidation_order_id
        self._next_liquidation_order_id -= 1
        m.orders[order_id] = _Order(account, side, size, 0, False)
        r = m.book.place(order_id, account, side, price_ppm, size, TimeInForce.IOC,
                         SelfTradePrevention.EXPIRE_TAKER, False)
        if r.code != Code.OK:
            del m.orders[order_id]
            raise IntegrityError(f"the book refused liquidation order {order_id}: {r.code}")
        call = _Call(m, liquidation=True)
        self._apply_book_result(m, r, call)
        if order_id in m.orders:
            self._drop_order(m, order_id, call)
        self._trim_reduce_only(m, call)
        return r.filled, self._finish(call)

    def _liquidation_insurance(self, market: str, account: int,
                               amount_qq: int) -> tuple[Event, ...]:
        """The market's insurance fund pays ``amount_qq`` (> 0) into the account's position
        margin, or collects −``amount_qq`` (< 0) from it."""
        m = self._market(market)
        if amount_qq > 0:
            self.ledger.insurance_to_margin(account, m.name, amount_qq)
        elif amount_qq < 0:
            if self.ledger.bucket(account, m.name) < -amount_qq:  # checked first: nothing moves
                raise IntegrityError(f"position margin of {account} cannot pay {-amount_qq}")
            self.ledger.collect(account, m.name, -amount_qq, "insurance_fund")
        call = _Call(m)
        call.balances[account] = m.name
        return self._finish(call)

    def _liquidation_deleverage(self, market: str, account: int, counterparty: int, size: int,
                                price_ppm: int) -> tuple[Event, ...]:
        """Close ``size`` contracts of ``account`` against the opposite position of
        ``counterparty`` at ``price_ppm`` (in [0, 1e6]), off the book and without fees."""
        m = self._market(market)
        p, q = m.position(account), m.position(counterparty)
        if (account == counterparty or p.size == 0 or q.size == 0 or (p.size > 0) == (q.size > 0)
                or not 0 < size <= min(abs(p.size), abs(q.size))
                or not 0 <= price_ppm <= PRICE_SCALE_PPM):
            raise IntegrityError(f"cannot deleverage {size} of {p.size} against {q.size} at "
                                 f"{price_ppm}")
        call = _Call(m)
        oi_delta = 0
        for acct, pos in ((account, p), (counterparty, q)):
            self._settle_funding(m, acct, pos, call)
            before = pos.size
            self._position_trade(m, acct, pos, -size if before > 0 else size, price_ppm)
            oi_delta += max(pos.size, 0) - max(before, 0)
            call.reduced[acct] = None
            call.balances[acct] = m.name
            call.positions[acct] = None
        m.open_interest += oi_delta
        for acct in call.reduced:
            self._release_freed_margin(m, acct)
        self._trim_reduce_only(m, call)
        return self._finish(call)

    # ------------------------------------------------------------------ queries

    def balances(self, account: int) -> Balances:
        account = as_i64(account, "account")
        b = self.ledger.accounts.get(account)
        if b is None:
            return Balances(0, 0, 0, MappingProxyType({}))
        return Balances(b.available, b.locked_for_orders, b.locked_for_withdraw,
                        MappingProxyType(dict(b.locked_for_positions)))

    def position(self, account: int, market: str) -> PositionView:
        account = as_i64(account, "account")
        p = self._market(market).positions.get(account) or _Position()
        return PositionView(p.size, p.open_notional, entry_price_ppm(p.size, p.open_notional),
                            p.realized_pnl, p.status, p.settlement_status, p.funding_paid)

    def margin(self, account: int, market: str) -> MarginView:
        """Equity, requirements and health of ``account`` in ``market`` at the mark."""
        account = as_i64(account, "account")
        m = self._market(market)
        p = m.positions.get(account) or _Position()
        collateral = self.ledger.bucket(account, m.name) if account in self.ledger.accounts else 0
        upnl = unrealized_pnl_qq(p.size, p.open_notional, m.mark_ppm)
        funding = self._unsettled_funding(m, p)
        equity = collateral + upnl + funding
        im = m.risk.initial_requirement_qq(p.size, m.mark_ppm, m.oi_notional())
        mm = m.risk.maintenance_requirement_qq(p.size, m.mark_ppm)
        health = equity * PRICE_SCALE_PPM // mm if mm > 0 else None  # floor
        return MarginView(collateral, upnl, funding, equity, im, mm, equity - im, health,
                          mm > 0 and equity <= mm)

    def open_interest(self, market: str) -> int:
        """Open interest in contracts: the sum of long position sizes."""
        return self._market(market).open_interest

    def insurance_fund(self, market: str) -> int:
        return self.ledger.markets[self._market(market).name].insurance_fund

    def fees_collected(self, market: str) -> int:
        return self.ledger.markets[self._market(market).name].fees

    def clearing_pool(self, market: str) -> int:
        """The market's clearing pool: −Σ open notional − bad debt (see ``perpcore.ledger``)."""
        return self.ledger.markets[self._market(market).name].pool

    def bad_debt(self, market: str) -> int:
        """Losses and funding payments of this market's accounts that their position margin
        could not pay."""
        m = self._market(market)
        return m.bad_debt + m.funding_bad_debt

    def order_lock(self, market: str, order_id: int) -> int | None:
        """The margin still locked by a live order (None if the order is not live)."""
        o = self._market(market).orders.get(as_i64(order_id, "order_id"))
        return None if o is None else o.lock

    def check_conservation(self) -> int:
        """Raise IntegrityError unless every quantum is accounted for; returns net deposits."""
        return self.ledger.check()

    def check_integrity(self) -> None:
        """Verify every invariant the exchange keeps (conservation, locks, positions, open
        interest, the clearing pools, the books); raise IntegrityError on the first broken one."""
        self.ledger.check()
        locked = {a: 0 for a in self.ledger.accounts}
        for m in self._markets.values():
            m.book.check_integrity()
            if len(m.book) != len(m.orders):
                raise IntegrityError(f"{m.name}: {len(m.book)} orders in the book, "
                                     f"{len(m.orders)} tracked")
            for oid, o in m.orders.items():
                info = m.book.order(oid)
                if info is None or info["size"] != o.remaining or info["account"] != o.account:
                    raise IntegrityError(f"{m.name}: order {oid} disagrees with the book")
                if o.lock < 0 or (o.reduce_only and o.lock):
                    raise IntegrityError(f"{m.name}: order {oid} has lock {o.lock}")
                locked[o.account] += o.lock
            longs = sum(p.size for p in m.positions.values() if p.size > 0)
            shorts = -sum(p.size for p in m.positions.values() if p.size < 0)
            if longs != shorts or longs != m.open_interest:
                raise IntegrityError(f"{m.name}: longs {longs}, shorts {shorts}, "
                                     f"open interest {m.open_interest}")
            open_notional = sum(p.open_notional for p in m.positions.values())
            if self.ledger.markets[m.name].pool + m.bad_debt != -open_notional:
                raise IntegrityError(f"{m.name}: clearing pool {self.ledger.markets[m.name].pool}"
                                     f" + bad debt {m.bad_debt} != -open notional "
                                     f"{open_notional}")
            unsettled = sum(p.size * (m.funding_index - p.funding_index)
                            for p in m.positions.values())
            funding_pool = self.ledger.markets[m.name].funding
            if ((funding_pool + m.funding_bad_debt) * IDX_PER_QQ != m.funding_dust - unsettled
                    or not 0 <= m.funding_dust < IDX_PER_QQ):
                raise IntegrityError(f"{m.name}: funding pool {funding_pool} does not match the "
                                     f"unsettled funding {unsettled} and dust {m.funding_dust}")
            for account, oids in m.reduce_only.items():
                p = m.positions.get(account) or _Position()
                total = sum(m.orders[oid].remaining for oid in oids)
                if oids and (total > abs(p.size) or any(
                        (m.orders[oid].side == BUY) != (p.size < 0) for oid in oids)):
                    raise IntegrityError(f"{m.name}: reduce-only orders of {account} exceed or "
                                         f"do not reduce its position")
        for account, b in self.ledger.accounts.items():
            if b.locked_for_orders != locked[account]:
                raise IntegrityError(f"account {account}: locked_for_orders "
                                     f"{b.locked_for_orders} != sum of its orders' locks "
                                     f"{locked[account]}")
        wd = {a: 0 for a in self.ledger.accounts}
        for w in self._withdrawals.values():
            wd[w.account] += w.amount
        for account, b in self.ledger.accounts.items():
            if b.locked_for_withdraw != wd[account]:
                raise IntegrityError(f"account {account}: locked_for_withdraw does not match its "
                                     "pending withdrawals")

    # ------------------------------------------------------------------ internals: checks

    def _market_or_none(self, market) -> _Market | None:
        return self._markets.get(_as_market_name(market))

    def _market(self, market) -> _Market:
        m = self._market_or_none(market)
        if m is None:
            raise InvalidInput(f"no market named {market!r}")
        return m

    @staticmethod
    def _valid_account(account) -> int:
        account = as_i64(account, "account")
        if account < 0:
            raise InvalidInput(f"account={account} must be a non-negative integer")
        return account

    @staticmethod
    def _valid_mark(price_ppm) -> int:
        price = as_i64(price_ppm, "mark price_ppm")
        if not 0 < price < PRICE_SCALE_PPM:
            raise InvalidInput(f"mark price_ppm={price} must lie strictly inside (0, 1_000_000)")
        return price

    @staticmethod
    def _worst_price(m: _Market, side: int, price: int, tif: int) -> int:
        """The least favourable price the order can fill at (market orders: the grid's edge)."""
        if tif == TimeInForce.MARKET and price == 0:
            return PRICE_SCALE_PPM - m.book.tick_ppm if side == BUY else m.book.tick_ppm
        return price

    def _order_lock(self, m: _Market, account: int, pos: _Position, signed: int,
                    worst: int) -> tuple[int, int]:
        """The lock of a new order and its pre-trade verdict (OK, BELOW_INITIAL_MARGIN or
        INSUFFICIENT_AVAILABLE). The lock is the order's initial requirement at its worst price
        with open interest as it would then be, a reserve for the taker fee at the highest
        possible notional, and the loss against the mark of filling at the worst price. Open
        interest "as it would then be" is its worst case: this account's long change, plus, for a
        sell, buyers who open as many new longs."""
        risk, mark, q = m.risk, m.mark_ppm, abs(signed)
        oi_after = (m.open_interest + max(pos.size + signed, 0) - max(pos.size, 0)
                    + (q if signed < 0 else 0))
        gap = max(0, (worst - mark) if signed > 0 else (mark - worst))
        lock = (risk.initial_requirement_qq(signed, worst, m.oi_notional(oi_after))
                + q * max(risk.taker_fee_ppm, 0) + q * gap)
        # filled in full at the worst price, would the account stay at or above initial margin?
        new_size, new_on, realized = apply_fill(pos.size, pos.open_notional, signed, worst)
        collateral = (self.ledger.bucket(account, m.name) + lock + realized
                      - risk.taker_fee_qq(q * worst) + self._unsettled_funding(m, pos))
        equity = collateral + unrealized_pnl_qq(new_size, new_on, mark)
        if equity < risk.initial_requirement_qq(new_size, mark, m.oi_notional(oi_after)):
            return lock, Code.BELOW_INITIAL_MARGIN
        if self.ledger.bucket(account, AVAILABLE) < lock:
            return lock, Code.INSUFFICIENT_AVAILABLE
        return lock, Code.OK

    def _reduce_only_size(self, m: _Market, account: int, side: int, size: int) -> tuple[int, int]:
        """A reduce-only order's size, cut so resting reduce-only orders never exceed |position|."""
        pos = m.position(account).size
        if pos == 0 or (side == BUY) != (pos < 0):
            return Code.REDUCE_ONLY_WOULD_INCREASE, 0
        resting = sum(m.orders[oid].remaining for oid in m.reduce_only.get(account, ()))
        room = (abs(pos) - resting) // m.book.lot * m.book.lot
        if room <= 0:
            return Code.REDUCE_ONLY_WOULD_INCREASE, 0
        size = min(size, room)
        if size < m.book.min_size:
            return Code.SIZE_BELOW_MINIMUM, 0
        return Code.OK, size

    def _reduce_only_price(self, m: _Market, account: int, pos: _Position, size: int, tif: int,
                           price: int) -> tuple[int, int]:
        """Keep a reduce-only order's fills at or inside the price where closing its ``size``
        contracts would take the whole position margin (funding settled, ``kept``), so that no
        fill of it loses more than the position margin: a long sells at p >= ceil((ceil(open
        notional * size / |position|) - kept) / size), a short buys at p <= floor((floor(|open
        notional| * size / |position|) + kept) / size), on the tick grid against the account. An
        unprotected market order takes that bound as its protection price; a limit beyond it, or
        an order with no acceptable price on the grid, is REDUCE_ONLY_BEYOND_BANKRUPTCY."""
        tick, q, top = m.book.tick_ppm, abs(pos.size), PRICE_SCALE_PPM - m.book.tick_ppm
        kept = self.ledger.bucket(account, m.name) + self._unsettled_funding(m, pos)
        if pos.size > 0:
            need = ceil_div(pos.open_notional * size, q) - kept
            if need <= size * tick:
                return Code.OK, price  # every price on the grid
            if need > size * top:
                return Code.REDUCE_ONLY_BEYOND_BANKRUPTCY, price
            bound, selling = ceil_div(ceil_div(need, size), tick) * tick, True
        else:
            need = -pos.open_notional * size // q + kept
            if need >= size * top:
                return Code.OK, price
            if need < size * tick:
                return Code.REDUCE_ONLY_BEYOND_BANKRUPTCY, price
            bound, selling = need // size // tick * tick, False
        if tif == TimeInForce.MARKET and price == 0:
            return Code.OK, bound
        if price < bound if selling else price > bound:
            return Code.REDUCE_ONLY_BEYOND_BANKRUPTCY, price
        return Code.OK, price

    def _available_refusal(self, account: int, amount: int) -> Code | None:
        """Why ``amount`` cannot leave the account's ``available``, or None."""
        if account not in self.ledger.accounts:
            return Code.UNKNOWN_ACCOUNT
        if self.ledger.bucket(account, AVAILABLE) < amount:
            return Code.INSUFFICIENT_AVAILABLE
        return None

    def _below_initial_without_withdrawals(self, account: int) -> bool:
        """Would the account, without its pending withdrawals, be below its initial requirements
        (free money + equity in every market < Σ initial requirements)?"""
        b = self.ledger.accounts[account]
        equity = b.available + b.locked_for_orders
        required = 0
        for m in self._markets.values():
            v = self.margin(account, m.name)
            equity += v.equity_qq
            required += v.initial_requirement_qq
        return equity < required

    def _rejected(self, m: _Market, order_id: int, account: int, code: int) -> SubmitResult:
        return SubmitResult(int(code), (OrderRejected(m.name, order_id, account, int(code)),),
                            order_id)

    # ------------------------------------------------------------------ internals: fills

    def _apply_book_result(self, m: _Market, r, call: _Call) -> None:
        for f in r.fills:
            self._apply_fill(m, f, call)
        # Release what reductions freed only now, not per fill: a taker's later fills bring their
        # own lock shares, but the open-interest scaling of the requirement is not linear in
        # size, so a surplus released mid-sweep could be missing by the end.
        for account in call.reduced:
            self._release_freed_margin(m, account)
        for c in r.cancelled:
            o = m.orders[c.order_id]
            released = o.lock
            self._drop_order(m, c.order_id, call)
            call.events.append(OrderCancelled(m.name, c.order_id, c.account, c.size, c.reason,
                                              released))

    def _apply_fill(self, m: _Market, f, call: _Call) -> None:
        risk, q, price = m.risk, f.size, f.price_ppm
        notional = q * price
        taker_side = int(f.taker_side)
        oi_delta = 0
        taker_signed = q if taker_side == BUY else -q
        for account, oid, signed in ((f.taker_account, f.taker_order_id, taker_signed),
                                     (f.maker_account, f.maker_order_id, -taker_signed)):
            o = m.orders[oid]
            moved = -(-o.lock * q // o.remaining)  # the filled share, rounded up: ≤ o.lock
            o.lock -= moved
            o.remaining -= q
            self.ledger.move(account, ORDERS, m.name, moved)
            p = m.position(account)
            self._settle_funding(m, account, p, call)
            before = p.size
            self._position_trade(m, account, p, signed, price)
            oi_delta += max(p.size, 0) - max(before, 0)
            if abs(p.size) < abs(before) or (before != 0 and (p.size < 0) != (before < 0)):
                call.reduced[account] = None
            call.balances[account] = m.name
            call.positions[account] = None
        # fees: the taker's first, so a rebate is paid out of fees actually collected
        taker_fee = risk.taker_fee_qq(notional)
        maker_fee = risk.maker_fee_qq(notional)
        if call.liquidation:  # the liquidated account pays no trading fee, its maker no rebate
            taker_fee, maker_fee = 0, max(maker_fee, 0)
        collected = self.ledger.collect(f.taker_account, m.name, taker_fee, "fees")
        if maker_fee >= 0:
            collected += self.ledger.collect(f.maker_account, m.name, maker_fee, "fees")
        else:
            rebate = min(-maker_fee, collected)
            self.ledger.pay_rebate(f.maker_account, m.name, rebate)
            collected -= rebate
        self.ledger.to_insurance(m.name, risk.insurance_share_qq(collected))
        m.open_interest += oi_delta
        call.events.append(OrderFilled(m.name, f.taker_order_id, f.taker_account,
                                       f.maker_order_id, f.maker_account, Side(taker_side),
                                       price, q, taker_fee, maker_fee))
        if f.maker_remaining == 0:
            self._drop_order(m, f.maker_order_id, call)

    def _release_freed_margin(self, m: _Market, account: int) -> None:
        """After a reduction, return to ``available`` the position margin above the initial
        requirement (never more than the equity above it)."""
        v = self.margin(account, m.name)
        release = max(0, min(v.collateral_qq - v.initial_requirement_qq, v.free_collateral_qq))
        self.ledger.move(account, m.name, AVAILABLE, release)

    @staticmethod
    def _unsettled_funding(m: _Market, p: _Position) -> int:
        """What the position would receive (+) or pay (-) if it settled funding now."""
        return -funding_payment_qq(p.size, m.funding_index, p.funding_index)

    def _settle_funding(self, m: _Market, account: int, p: _Position, call: _Call) -> None:
        """Settle the funding a position owes or is owed since its last touch: the payer rounds
        up, the receiver down, through the market's funding pool; the rounding surplus (dust)
        goes to the insurance fund in whole quantums. A payment the position margin cannot cover
        is funding bad debt."""
        index = m.funding_index
        if p.funding_index == index:
            return
        if p.size:
            amount, m.funding_dust, swept = funding_dust_idx(p.size, index, p.funding_index,
                                                             m.funding_dust)
            if amount > 0:
                m.funding_bad_debt += amount - self.ledger.collect(account, m.name, amount,
                                                                   "funding")
            elif amount < 0:
                self.ledger.pay_from_pool(account, m.name, -amount, "funding")
            if swept:
                self.ledger.to_insurance(m.name, swept, "funding")
            p.funding_paid += amount
            if amount:
                call.events.append(FundingSettled(m.name, account, amount, index))
                call.balances[account] = m.name
        p.funding_index = index

    def _position_trade(self, m: _Market, account: int, p: _Position, signed: int,
                        price: int) -> None:
        """A position buys (+) or sells (-) at ``price``: it changes and realises PnL through the
        clearing pool, which pays a profit; a loss is collected from the position margin and what
        it cannot pay is bad debt."""
        p.size, p.open_notional, realized = apply_fill(p.size, p.open_notional, signed, price)
        p.realized_pnl += realized
        p.liquidating = p.liquidating and p.size != 0
        p.status = _status(p)
        p.settlement_status = SettlementStatus.PENDING_SETTLE
        if realized > 0:
            self.ledger.pay_from_pool(account, m.name, realized)
        elif realized < 0:
            m.bad_debt += -realized - self.ledger.collect(account, m.name, -realized, "pool")

    def _close_at(self, m: _Market, account: int, p: _Position, price: int, call: _Call) -> None:
        """Close a position at ``price`` against the clearing pool (settlement)."""
        before = p.size
        self._position_trade(m, account, p, -p.size, price)
        m.open_interest -= max(before, 0)
        call.balances[account] = m.name
        call.positions[account] = None

    def _cancel_orders(self, m: _Market, call: _Call, which, reason: CancelReason) -> None:
        """Cancel the live orders ``which(order)`` selects, in order id order."""
        for oid in sorted(oid for oid, o in m.orders.items() if which(o)):
            self._cancel_order(m, oid, reason, call)

    def _cancel_order(self, m: _Market, order_id: int, reason: CancelReason, call: _Call) -> None:
        """Take one live order out of the book on the exchange's own initiative: its lock returns
        to ``available`` and an OrderCancelled with ``reason`` is recorded."""
        o = m.orders[order_id]
        remaining, released = o.remaining, o.lock
        r = m.book.cancel(order_id)
        if r.code != Code.OK:
            raise IntegrityError(f"book refused to cancel order {order_id}: {r.code}")
        self._drop_order(m, order_id, call)
        call.events.append(OrderCancelled(m.name, order_id, o.account, remaining, reason,
                                          released))

    def _drop_order(self, m: _Market, order_id: int, call: _Call) -> None:
        """Forget an order that left the book; its remaining lock returns to ``available``."""
        o = m.orders.pop(order_id)
        self.ledger.move(o.account, ORDERS, AVAILABLE, o.lock)
        o.lock = 0
        if o.reduce_only:
            oids = m.reduce_only.get(o.account)
            if oids is not None:
                oids.discard(order_id)
                if not oids:
                    del m.reduce_only[o.account]
        call.balances[o.account] = m.name

    def _trim_reduce_only(self, m: _Market, call: _Call) -> None:
        """Cancel or shrink resting reduce-only orders of touched accounts that would no longer
        only reduce (largest-priced last: the orders nearest the touch keep their size)."""
        for account in list(call.positions):
            oids = m.reduce_only.get(account)
            if not oids:
                continue
            pos = m.position(account).size
            room = abs(pos)
            for oid in sorted(oids, key=lambda i: (m.book.order(i)["price_ppm"], i),
                              reverse=pos < 0):
                o = m.orders[oid]
                wrong_side = pos == 0 or (o.side == BUY) != (pos < 0)
                keep = 0 if wrong_side else min(o.remaining, room) // m.book.lot * m.book.lot
                room -= keep
                if keep == o.remaining:
                    continue
                if keep == 0:  # a reduce-only order locks nothing: nothing is released
                    self._cancel_order(m, oid, CancelReason.REDUCE_ONLY, call)
                    continue
                r = m.book.amend(oid, keep)
                if r.code != Code.OK:
                    raise IntegrityError(f"book refused to trim reduce-only order {oid}: {r.code}")
                o.remaining = keep

    def _finish(self, call: _Call) -> tuple[Event, ...]:
        m = call.market
        for account, market in call.balances.items():
            if market is not None:
                self._markets[market].changed[account] = None
        for account in call.positions:
            m.changed[account] = None
            p = m.positions[account]
            call.events.append(PositionUpdated(m.name, account, p.size, p.open_notional,
                                               p.realized_pnl, p.status, p.settlement_status))
        for account, market in call.balances.items():
            b = self.ledger.accounts[account]
            lfp = b.locked_for_positions.get(market, 0) if market is not None else 0
            call.events.append(BalanceUpdated(account, b.available, b.locked_for_orders,
                                              b.locked_for_withdraw, market, lfp))
        return tuple(call.events)
