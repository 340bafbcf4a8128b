"""The ledger: every quote quantum perpcore holds, in exactly one place, moved only by transfers.

It owns the balance buckets of each account (``available``, ``locked_for_orders``,
``locked_for_withdraw`` and ``locked_for_positions`` per market) and three holders per market: the
insurance fund, the collected fees, the market's clearing pool (the counterparty of realised
PnL: it pays a closing winner before the open losers have paid, so it may be negative while
positions are open, and it is zero once every position is closed and every loss was paid) and its
funding pool (the same for funding: payers settle into it, receivers out of it, each on its own
next touch). Money
enters only by ``deposit``, leaves only by ``withdraw``, and otherwise only moves, so conservation

    Σ account buckets + Σ markets (insurance + fees + pool + funding) = deposits − withdrawals

holds after every call by construction, and ``check`` verifies it. A transfer that would drive a
bucket negative raises ``IntegrityError`` (the caller checks affordability first and turns an
expected shortfall into a result code). It is the ledger of ``perpcore.reference.ReferenceExchange``
(the native exchange keeps the same buckets and holders in C). This module never decides policy:
which moves happen, and when, is the exchange's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perpcore.errors import IntegrityError

__all__ = ["Ledger", "AccountBuckets", "MarketHolders"]

AVAILABLE = "available"
ORDERS = "locked_for_orders"
WITHDRAW = "locked_for_withdraw"


@dataclass(slots=True)
class AccountBuckets:
    available: int = 0
    locked_for_orders: int = 0
    locked_for_withdraw: int = 0
    locked_for_positions: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return (self.available + self.locked_for_orders + self.locked_for_withdraw
                + sum(self.locked_for_positions.values()))


@dataclass(slots=True)
class MarketHolders:
    insurance_fund: int = 0
    fees: int = 0
    pool: int = 0  # may be negative: see the module docstring
    funding: int = 0  # funding paid in, not yet paid out; may be negative like the pool


class Ledger:
    """Accounts' buckets and markets' holders; all amounts in quote quantums (int)."""

    def __init__(self) -> None:
        self.accounts: dict[int, AccountBuckets] = {}
        self.markets: dict[str, MarketHolders] = {}
        self.deposited = 0
        self.withdrawn = 0

    # ------------------------------------------------------------------ entry and exit

    def deposit(self, account: int, amount: int) -> None:
        buckets = self.accounts.get(account)
        if buckets is None:
            buckets = self.accounts[account] = AccountBuckets()
        buckets.available += amount
        self.deposited += amount

    def withdraw(self, account: int, amount: int) -> None:
        """Pay out ``amount`` from the account's ``locked_for_withdraw``."""
        self.move(account, WITHDRAW, None, amount)
        self.withdrawn += amount

    def add_market(self, market: str) -> None:
        self.markets[market] = MarketHolders()

    # ------------------------------------------------------------------ transfers

    def bucket(self, account: int, name: str) -> int:
        """The balance of bucket ``name``: a bucket name above, or a market for its positions."""
        b = self.accounts[account]
        if name == AVAILABLE:
            return b.available
        if name == ORDERS:
            return b.locked_for_orders
        if name == WITHDRAW:
            return b.locked_for_withdraw
        return b.locked_for_positions.get(name, 0)

    def _add(self, account: int, name: str, delta: int) -> None:
        b = self.accounts[account]
        new = self.bucket(account, name) + delta
        if new < 0:
            raise IntegrityError(f"bucket {name!r} of account {account} would become {new}")
        if name == AVAILABLE:
            b.available = new
        elif name == ORDERS:
            b.locked_for_orders = new
        elif name == WITHDRAW:
            b.locked_for_withdraw = new
        elif new:
            b.locked_for_positions[name] = new
        else:
            b.locked_for_positions.pop(name, None)

    def move(self, account: int, src: str | None, dst: str | None, amount: int) -> None:
        """Move ``amount`` (≥ 0) between two buckets of one account (None: outside the account)."""
        if amount < 0:
            raise IntegrityError(f"negative transfer {amount}")
        if amount == 0:
            return
        if src is not None and self.bucket(account, src) < amount:
            raise IntegrityError(f"bucket {src!r} of account {account} holds "
                                 f"{self.bucket(account, src)}, cannot move {amount}")
        if src is not None:
            self._add(account, src, -amount)
        if dst is not None:
            self._add(account, dst, amount)

    def pay_from_pool(self, account: int, market: str, amount: int, pool: str = "pool") -> None:
        """The market's clearing pool (or its ``"funding"`` pool) pays ``amount`` into the
        account's position margin there."""
        holders = self.markets[market]
        setattr(holders, pool, getattr(holders, pool) - amount)
        self._add(account, market, amount)

    def collect(self, account: int, market: str, amount: int, to: str) -> int:
        """Take up to ``amount`` from the account's position margin in ``market`` into the market's
        ``to`` holder ("pool", "fees" or "insurance_fund"); returns what was actually collected."""
        taken = min(amount, self.bucket(account, market))
        self._add(account, market, -taken)
        holders = self.markets[market]
        setattr(holders, to, getattr(holders, to) + taken)
        return taken

    def fund_insurance(self, account: int, market: str, amount: int) -> None:
        """The account's ``available`` pays ``amount`` into the market's insurance fund."""
        self.move(account, AVAILABLE, None, amount)
        self.markets[market].insurance_fund += amount

    def insurance_to_margin(self, account: int, market: str, amount: int) -> None:
        """The market's insurance fund pays ``amount`` into the account's position margin there
        (a liquidation fill below the bankruptcy value)."""
        holders = self.markets[market]
        if not 0 <= amount <= holders.insurance_fund:
            raise IntegrityError(f"insurance fund of {market} holds {holders.insurance_fund}, "
                                 f"cannot pay {amount}")
        holders.insurance_fund -= amount
        self._add(account, market, amount)

    def pay_rebate(self, account: int, market: str, amount: int) -> None:
        """Collected fees pay a maker's rebate into its position margin."""
        holders = self.markets[market]
        if holders.fees < amount:
            raise IntegrityError(f"fees of {market} hold {holders.fees}, cannot rebate {amount}")
        holders.fees -= amount
        self._add(account, market, amount)

    def to_insurance(self, market: str, amount: int, source: str = "fees") -> None:
        """Move ``amount`` of the market's ``source`` holder (fees, or funding dust from the
        funding pool) into its insurance fund."""
        holders = self.markets[market]
        setattr(holders, source, getattr(holders, source) - amount)
        holders.insurance_fund += amount

    # ------------------------------------------------------------------ checks

    def check(self) -> int:
        """Verify conservation and that no bucket is negative; returns the net deposits."""
        held = 0
        for account, b in self.accounts.items():
            if min(b.available, b.locked_for_orders, b.locked_for_withdraw,
                   *b.locked_for_positions.values(), 0) < 0:
                raise IntegrityError(f"account {account} has a negative bucket: {b}")
            held += b.total()
        for market, h in self.markets.items():
            if h.insurance_fund < 0 or h.fees < 0:
                raise IntegrityError(f"market {market} holds a negative fund: {h}")
            held += h.insurance_fund + h.fees + h.pool + h.funding
        net = self.deposited - self.withdrawn
        if held != net:
            raise IntegrityError(f"conservation broken: {held} held, {net} deposited net")
        return net
