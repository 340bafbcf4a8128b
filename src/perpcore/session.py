"""A seeded market session on the exchange: many accounts trading one market around a moving mark.

Owns the demo's exchange workload: accounts deposit, quote passively around the mark, cancel,
take liquidity and close with reduce-only orders while the mark random-walks; every random number
comes from one seeded numpy generator, so equal arguments give the same session (and the same
final state). It returns a summary of what happened; printing is the CLI's business.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from perpcore._margin import RiskTier
from perpcore.book_types import PRICE_SCALE_PPM, Side, TimeInForce
from perpcore.codes import Code
from perpcore import Exchange

__all__ = ["SessionSummary", "run_session"]

MARKET = "WILL-IT-RAIN"


@dataclass(frozen=True)
class SessionSummary:
    exchange: Exchange
    market: str
    n_accounts: int
    n_steps: int
    codes: Counter
    fills: int
    volume: int
    deposited_qq: int
    net_deposits_qq: int
    pnl_by_account: dict[int, int]  # total balance + unrealised PnL minus what it deposited


def run_session(*, n_accounts: int = 200, n_steps: int = 20_000, seed: int = 7) -> SessionSummary:
    rng = np.random.default_rng(seed)
    ex = Exchange(withdrawal_delay=600)
    tick = 1000
    ex.add_market(MARKET, tick_ppm=tick, mark_ppm=400_000,
                  risk=RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, oi_lower_cap_qq=10**11,
                                oi_upper_cap_qq=10**12, taker_fee_ppm=500, maker_fee_ppm=100,
                                insurance_share_ppm=200_000))
    deposits = (rng.integers(1_000, 10_000, n_accounts) * 1_000_000).tolist()
    for account, amount in enumerate(deposits):
        ex.deposit(account, amount)
    live: dict[int, list[int]] = {a: [] for a in range(n_accounts)}
    codes: Counter = Counter()
    fills = volume = 0
    u_kind = rng.random(n_steps).tolist()
    u_acct = rng.integers(0, n_accounts, n_steps).tolist()
    u_side = rng.integers(0, 2, n_steps).tolist()
    u_off = rng.integers(1, 12, n_steps).tolist()
    u_size = rng.integers(1, 60, n_steps).tolist()
    u_walk = rng.normal(0, 4_000, n_steps).astype(np.int64).tolist()
    next_id = 1
    mark = 400_000
    for i in range(n_steps):
        if i % 20 == 0:
            mark = min(max(mark + u_walk[i], 50_000), 950_000)
            ex.set_mark(MARKET, mark)
        account, side, kind = u_acct[i], u_side[i], u_kind[i]
        touch = mark // tick * tick
        if kind < 0.25 and live[account]:
            oid = live[account].pop(int(u_off[i]) % len(live[account]))
            codes[Code(ex.cancel(MARKET, oid).code).name] += 1
            continue
        oid, next_id = next_id, next_id + 1
        if kind < 0.80:  # passive quote behind the touch
            price = touch - u_off[i] * tick if side == Side.BUY else touch + u_off[i] * tick
            r = ex.submit(MARKET, oid, account, side, price, u_size[i], tif=TimeInForce.GTC)
        elif kind < 0.95:  # take: IOC a few ticks through the touch
            price = touch + 15 * tick if side == Side.BUY else touch - 15 * tick
            r = ex.submit(MARKET, oid, account, side, price, u_size[i], tif=TimeInForce.IOC)
        else:  # close what it holds with a reduce-only market order
            size = ex.position(account, MARKET).size
            if size == 0:
                continue
            r = ex.submit(MARKET, oid, account, Side.SELL if size > 0 else Side.BUY, 0,
                          abs(size), tif=TimeInForce.MARKET, reduce_only=True)
        codes[Code(r.code).name] += 1
        for e in r.events:
            if e.kind == "order_filled":
                fills += 1
                volume += e.size
        if r.resting:
            live[account].append(oid)
        if i % 500 == 499:  # forget orders that filled or were cancelled since
            for a, oids in live.items():
                live[a] = [o for o in oids if ex.order_lock(MARKET, o) is not None]
    net = ex.check_conservation()
    ex.check_integrity()
    pnl = {}
    for account, amount in enumerate(deposits):
        pnl[account] = (ex.balances(account).total + ex.margin(account, MARKET).unrealized_pnl_qq
                        - amount)
    return SessionSummary(ex, MARKET, n_accounts, n_steps, codes, fills, volume, sum(deposits),
                          net, pnl)


def format_session(s: SessionSummary) -> list[str]:
    """The session as report lines (USDC with 2 decimals, prices as probabilities)."""
    ex, m = s.exchange, s.market
    usdc = lambda qq: f"{qq / 1e6:,.2f}"  # noqa: E731  display only
    holders = [a for a in range(s.n_accounts) if ex.position(a, m).size]
    longs = sum(ex.position(a, m).size for a in holders if ex.position(a, m).size > 0)
    lines = [
        f"exchange session: {s.n_accounts} accounts, {s.n_steps:,} steps, market {m}, "
        f"mark {ex.mark(m) / PRICE_SCALE_PPM:.3f}",
        "results: " + ", ".join(f"{k} {v:,}" for k, v in sorted(s.codes.items())),
        f"fills {s.fills:,}, volume {s.volume:,} contracts, open positions {len(holders)}, "
        f"open interest {ex.open_interest(m):,} contracts (sum of longs {longs:,})",
        f"fees collected {usdc(ex.fees_collected(m))} USDC, insurance fund "
        f"{usdc(ex.insurance_fund(m))} USDC, bad debt {usdc(ex.bad_debt(m))} USDC",
        f"liquidatable accounts at the mark: "
        f"{sum(ex.margin(a, m).liquidatable for a in holders)}",
    ]
    ranked = sorted(s.pnl_by_account.items(), key=lambda kv: (-kv[1], kv[0]))
    lines.append("best and worst accounts (PnL incl. unrealised, USDC): "
                 + ", ".join(f"#{a} {usdc(p)}" for a, p in ranked[:3]) + " ... "
                 + ", ".join(f"#{a} {usdc(p)}" for a, p in ranked[-3:]))
    total = sum(ex.balances(a).total for a in range(s.n_accounts))
    pool = ex.clearing_pool(m)
    lines.append(f"conservation OK: accounts {usdc(total)} + fees {usdc(ex.fees_collected(m))} "
                 f"+ insurance {usdc(ex.insurance_fund(m))} + clearing pool {usdc(pool)} "
                 f"= net deposits {usdc(s.net_deposits_qq)} USDC")
    return lines
