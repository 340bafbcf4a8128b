"""Type stub of the native exchange ``perpcore._engine`` (hand-written; see _engine.pyx).

tests/unit/test_stubs.py checks that the public names, member kinds and parameter names here match
the compiled module, that every annotation resolves, and that what the exchange really returns
conforms, so this file cannot drift silently. ``perpcore.reference.ReferenceExchange`` has the same
interface in plain Python.

Integer arguments accept ``int`` (including IntEnum members such as ``Side.BUY``) and numpy
integer scalars; ``bool``, ``float`` and the rest raise ``perpcore.InvalidType``, integers outside
int64 ``perpcore.InvalidInput``. Units: sizes in contracts, prices in ppm of probability, money in
quote quantums (qq, 1e-6 USDC); ``now`` and ``withdrawal_delay`` in the caller's time unit.
"""

from typing import Any, TypeAlias, final

import numpy as np

from perpcore._book import OrderBook
from perpcore._funding import FundingParams
from perpcore._margin import RiskTier
from perpcore.exchange_types import (
    Balances,
    CallResult,
    ExchangeBatch,
    MarginView,
    PositionView,
    SubmitResult,
    WithdrawalResult,
)
from perpcore.lifecycle import MarketPhase
from perpcore.liquidation import LiquidationBlock
from perpcore.mark import MarkParams

_Int: TypeAlias = int | np.integer[Any]
"""An integer argument: a Python int (or IntEnum member) or a numpy integer scalar."""

@final
class Exchange:
    """Markets, accounts and positions, driven by commands with explicit times (no wall clock)."""

    def __init__(self, *, withdrawal_delay: _Int = 0) -> None: ...
    @property
    def withdrawal_delay(self) -> int:
        """How long a requested withdrawal waits before it may be paid."""
    # ------------------------------------------------------------------ markets
    def add_market(self, market: str, *, tick_ppm: _Int = 1000, lot: _Int = 1,
                   min_size: _Int = 1, max_size: _Int = 1_000_000_000,
                   risk: RiskTier | None = None, mark_ppm: _Int = 500_000,
                   mark_params: MarkParams | None = None, funding: FundingParams | None = None,
                   active: bool | np.bool_ = True) -> None:
        """List a market: its book's grid and sizes, its risk tier, its initial mark (and index),
        the guards of its mark service, its funding parameters (default:
        ``perpcore.market_services.DEFAULT_FUNDING`` with the tier's factors) and its phase:
        Active, or Draft until ``activate``."""
    @property
    def markets(self) -> tuple[str, ...]:
        """The listed markets' names, in listing order."""
    def book(self, market: str) -> OrderBook:
        """The market's order book (read it; trade through the exchange)."""
    def risk(self, market: str) -> RiskTier: ...
    def set_mark(self, market: str, price_ppm: _Int) -> CallResult:
        """Set a trusted mark (strictly inside (0, 1_000_000) ppm), which is also the index,
        bypassing the oracle guards; Draft or Active only (MARKET_NOT_ACTIVE)."""
    def update_oracle(self, market: str, raw_ppm: _Int, source_ts: _Int,
                      now: _Int) -> CallResult:
        """Feed one oracle reading through the market's mark service; the mark becomes the
        service's mark at ``now`` (one MarkPriceUpdated event)."""
    def refresh_mark(self, market: str, now: _Int) -> CallResult:
        """Recompute the mark at ``now`` without a reading (a resolving market's interpolation)."""
    def mark(self, market: str) -> int: ...
    def index(self, market: str) -> int:
        """The market's index (funding's reference price), ppm."""
    def mark_stale(self, market: str, now: _Int) -> bool:
        """Whether the market's oracle-fed prices are stale at ``now`` (a trusted mark never is)."""
    def phase(self, market: str) -> MarketPhase: ...
    # ------------------------------------------------------------------ funding
    def sample_funding(self, market: str) -> int | None:
        """Take this block's premium sample from the book against the index (None outside
        Active)."""
    def close_funding_minute(self, market: str) -> int | None:
        """Close the open minute and return its padded median (None outside Active)."""
    def close_funding_period(self, market: str, now: _Int) -> CallResult:
        """Close the funding period at the current mark (one FundingIndexUpdated event);
        MARKET_NOT_ACTIVE outside Active."""
    def funding_index(self, market: str) -> int:
        """The market's cumulative funding index, idx (1e-6 qq per contract)."""
    def funding_pool(self, market: str) -> int:
        """Funding paid in and not yet paid out."""
    # ------------------------------------------------------------------ lifecycle
    def activate(self, market: str, now: _Int) -> CallResult:
        """Draft -> Active (perpcore.IllegalTransition from any other phase)."""
    def begin_resolution(self, market: str, resolved_ppm: _Int, now: _Int,
                         window_s: _Int) -> CallResult:
        """Active -> Resolving: cancel every order but the reduce-only ones, take reduce-only
        orders only, stop funding, move the mark to ``resolved_ppm`` over ``window_s``."""
    def resolve(self, market: str, now: _Int) -> CallResult:
        """Resolving -> Resolved: cancel every order (MARKET_CLOSED); the mark is the resolved
        value."""
    def settle(self, market: str, now: _Int) -> CallResult:
        """Resolved -> Settled: settle funding and close every position at the resolved value;
        all position margin returns to ``available``."""
    # ------------------------------------------------------------------ money in and out
    def deposit(self, account: _Int, amount_qq: _Int) -> CallResult:
        """Credit ``amount_qq`` (> 0) to ``available``; the first deposit opens the account."""
    def add_margin(self, account: _Int, market: str, amount_qq: _Int) -> CallResult:
        """Move ``available`` into the account's position margin in ``market``."""
    def fund_insurance(self, account: _Int, market: str, amount_qq: _Int) -> CallResult:
        """Move ``available`` of ``account`` into the market's insurance fund (an operator's
        top-up); it never comes back except through the fund's draws."""
    def request_withdrawal(self, account: _Int, amount_qq: _Int, now: _Int) -> WithdrawalResult:
        """Set ``amount_qq`` of ``available`` aside; payable from ``now + withdrawal_delay``."""
    def process_withdrawal(self, withdrawal_id: _Int, now: _Int) -> WithdrawalResult:
        """Pay a due withdrawal, or reject it if paying would leave the account below its initial
        requirements (WITHDRAWAL_BELOW_INITIAL_MARGIN: the funds return to ``available``)."""
    def pending_withdrawals(self, account: Any = None) -> dict[int, tuple[int, int, int]]:
        """Pending withdrawals as ``{id: (account, amount_qq, due_at)}``, optionally of one
        account."""
    # ------------------------------------------------------------------ orders
    def submit(self, market: str, order_id: _Int, account: _Int, side: _Int, price_ppm: _Int,
               size: _Int, tif: _Int = 0, stp: _Int = 0,
               reduce_only: bool | np.bool_ = False) -> SubmitResult:
        """Validate, margin-check, lock, match and apply the fills of one order (``tif`` a
        TimeInForce, default GTC; ``stp`` a SelfTradePrevention, default EXPIRE_MAKER)."""
    def cancel(self, market: str, order_id: _Int) -> CallResult:
        """Cancel a live order; its remaining lock returns to ``available``."""
    def cancel_all(self, market: str, account: _Int) -> CallResult:
        """Cancel every live order of ``account`` in ``market``."""
    def process(self, market: str, commands: np.ndarray[Any, np.dtype[np.void]]) -> ExchangeBatch:
        """Run COMMAND_DTYPE commands (PLACE, CANCEL, CANCEL_ALL) through one market with the
        per-call semantics: one EXCHANGE_RESULT_DTYPE row per command and all events in order."""
    # ------------------------------------------------------------------ liquidation
    def liquidate(self, now: _Int) -> LiquidationBlock:
        """Run one block of the liquidation engine over every market (see
        ``perpcore.liquidation``): liquidatable positions close through the book at or better
        than their fillable price, the insurance fund pays or collects the difference to their
        bankruptcy value, and insolvent remainders the fund cannot cover are deleveraged."""
    # ------------------------------------------------------------------ queries
    def balances(self, account: _Int) -> Balances: ...
    def position(self, account: _Int, market: str) -> PositionView: ...
    def margin(self, account: _Int, market: str) -> MarginView:
        """Equity, requirements and health of ``account`` in ``market`` at the mark."""
    def open_interest(self, market: str) -> int:
        """Open interest in contracts: the sum of long position sizes."""
    def insurance_fund(self, market: str) -> int: ...
    def fees_collected(self, market: str) -> int: ...
    def clearing_pool(self, market: str) -> int:
        """The market's clearing pool: -sum(open notional) - bad debt."""
    def bad_debt(self, market: str) -> int:
        """Losses and funding payments of this market's accounts that their position margin
        could not pay."""
    def order_lock(self, market: str, order_id: _Int) -> int | None:
        """The margin still locked by a live order (None if the order is not live)."""
    def check_conservation(self) -> int:
        """Raise IntegrityError unless every quantum is accounted for; returns net deposits."""
    def check_integrity(self) -> None:
        """Verify every invariant the exchange keeps; raise IntegrityError on the first broken."""
