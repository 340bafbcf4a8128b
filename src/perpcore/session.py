"""A seeded market session on the exchange: many accounts trading one market through its whole life.

Owns the demo's exchange workload. The event's probability follows a seeded random walk; an oracle
reports it every few blocks through the market's mark guards. Accounts deposit, quote passively
around the mark, cancel, take liquidity and close with reduce-only orders; every block samples
funding from the book, minutes and funding periods close on schedule, and runs the liquidation
engine. At the end the market
resolves (the outcome drawn with the final probability), trades reduce-only while the mark glides
to 0 or 1, stops trading and settles every position at its terminal value. Every random number
comes from one seeded numpy generator, so equal arguments give the same session (and the same
final state). It returns a summary of what happened; printing is the CLI's business.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from perpcore import Exchange
from perpcore._funding import FundingParams
from perpcore._margin import RiskTier
from perpcore.book_types import PRICE_SCALE_PPM, Side, TimeInForce
from perpcore.codes import Code
from perpcore.mark import MarkParams

__all__ = ["SessionSummary", "run_session", "format_session"]

MARKET = "WILL-IT-RAIN"
BLOCKS_PER_MINUTE = 20  # one block per second of session time, 20 s "minutes"
MINUTES_PER_PERIOD = 50  # a funding period every 1,000 blocks
ORACLE_EVERY = 5  # blocks between oracle readings
SETTLING_WINDOW = 600  # blocks over which the mark glides to the outcome


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
    periods: list  # the FundingIndexUpdated events, in order
    last_probability_ppm: int
    outcome_ppm: int
    open_interest_at_resolution: int
    payouts_qq: dict[int, int]  # what settlement paid each account (+) or took (-)
    pnl_by_account: dict[int, int]  # final balance minus what it deposited
    liquidation: Counter  # event kinds of the liquidation engine, and contracts per outcome


def run_session(*, n_accounts: int = 200, n_steps: int = 20_000, seed: int = 7) -> SessionSummary:
    rng = np.random.default_rng(seed)
    ex = Exchange(withdrawal_delay=600)
    tick = 1000
    risk = RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, oi_lower_cap_qq=10**11,
                    oi_upper_cap_qq=10**12, taker_fee_ppm=500, maker_fee_ppm=100,
                    insurance_share_ppm=200_000)
    ex.add_market(MARKET, tick_ppm=tick, mark_ppm=400_000, risk=risk, active=False,
                  mark_params=MarkParams(epsilon_ppm=10_000, max_deviation_ppm=30_000,
                                         ema_time_constant_s=20, stale_after_s=60),
                  funding=FundingParams.for_tier(
                      risk, impact_notional_qq=500_000_000, sample_clamp_ppm=50_000,
                      blocks_per_minute=BLOCKS_PER_MINUTE, minutes_per_period=MINUTES_PER_PERIOD,
                      rate_scale_ppm=125_000))
    ex.activate(MARKET, 0)
    deposits = (rng.integers(1_000, 10_000, n_accounts) * 1_000_000).tolist()
    for account, amount in enumerate(deposits):
        ex.deposit(account, amount)
    live: dict[int, list[int]] = {a: [] for a in range(n_accounts)}
    codes: Counter = Counter()
    liquidation: Counter = Counter()
    periods = []
    fills = volume = 0
    total = n_steps + SETTLING_WINDOW
    u_kind = rng.random(total).tolist()
    u_acct = rng.integers(0, n_accounts, total).tolist()
    u_side = rng.integers(0, 2, total).tolist()
    u_off = rng.integers(1, 12, total).tolist()
    u_size = rng.integers(1, 60, total).tolist()
    u_walk = rng.normal(0, 3_000, total).astype(np.int64).tolist()
    next_id = 1
    probability = 400_000
    outcome = oi_at_resolution = None
    for now in range(total):
        if now == n_steps:  # the event happens: the market resolves and settles reduce-only
            outcome = PRICE_SCALE_PPM if rng.random() * PRICE_SCALE_PPM < probability else 0
            oi_at_resolution = ex.open_interest(MARKET)
            ex.close_funding_minute(MARKET)
            ex.begin_resolution(MARKET, outcome, now, SETTLING_WINDOW)
        resolving = now >= n_steps
        if now % ORACLE_EVERY == 0:
            probability = min(max(probability + u_walk[now], 20_000), 980_000)
            ex.update_oracle(MARKET, probability, now, now)
        if not resolving:
            ex.sample_funding(MARKET)
            if now % BLOCKS_PER_MINUTE == BLOCKS_PER_MINUTE - 1:
                ex.close_funding_minute(MARKET)
            if now % (BLOCKS_PER_MINUTE * MINUTES_PER_PERIOD) == \
                    BLOCKS_PER_MINUTE * MINUTES_PER_PERIOD - 1:
                periods.extend(ex.close_funding_period(MARKET, now).events)
        for e in ex.liquidate(now).events:
            liquidation[e.kind] += 1
            if e.kind == "liquidation_started" and (e.kind, e.account) not in liquidation:
                liquidation[e.kind, e.account] = 1
                liquidation["positions"] += 1
            if e.kind == "liquidation_filled":
                liquidation["closed contracts"] += e.size
            elif e.kind == "deleveraging_filled":
                liquidation["deleveraged contracts"] += e.size
            elif e.kind == "insurance_drawn":
                liquidation["drawn qq"] += e.amount_qq
            elif e.kind == "insurance_credited":
                liquidation["credited qq"] += e.amount_qq
        mark = ex.mark(MARKET)
        account, side, kind = u_acct[now], u_side[now], u_kind[now]
        touch = min(max(mark // tick * tick, tick), PRICE_SCALE_PPM - tick)
        if kind < 0.25 and live[account]:
            oid = live[account].pop(int(u_off[now]) % len(live[account]))
            codes[Code(ex.cancel(MARKET, oid).code).name] += 1
            continue
        oid, next_id = next_id, next_id + 1
        if resolving or kind >= 0.95:  # close what it holds with a reduce-only market order
            size = ex.position(account, MARKET).size
            if size == 0:
                continue
            r = ex.submit(MARKET, oid, account, Side.SELL if size > 0 else Side.BUY, 0,
                          abs(size), tif=TimeInForce.MARKET, reduce_only=True)
        elif kind < 0.80:  # passive quote behind the touch
            price = touch - u_off[now] * tick if side == Side.BUY else touch + u_off[now] * tick
            price = min(max(price, tick), PRICE_SCALE_PPM - tick)
            r = ex.submit(MARKET, oid, account, side, price, u_size[now], tif=TimeInForce.GTC)
        else:  # take: IOC a few ticks through the touch
            price = touch + 15 * tick if side == Side.BUY else touch - 15 * tick
            price = min(max(price, tick), PRICE_SCALE_PPM - tick)
            r = ex.submit(MARKET, oid, account, side, price, u_size[now], tif=TimeInForce.IOC)
        codes[Code(r.code).name] += 1
        for e in r.events:
            if e.kind == "order_filled":
                fills += 1
                volume += e.size
        if r.resting:
            live[account].append(oid)
        if now % 500 == 499:  # forget orders that filled or were cancelled since
            for a, oids in live.items():
                live[a] = [o for o in oids if ex.order_lock(MARKET, o) is not None]
    ex.resolve(MARKET, total)
    before = {a: ex.balances(a).total for a in range(n_accounts)}
    ex.settle(MARKET, total)
    net = ex.check_conservation()
    ex.check_integrity()
    payouts = {a: ex.balances(a).total - before[a] for a in range(n_accounts)}
    pnl = {a: ex.balances(a).total - amount for a, amount in enumerate(deposits)}
    return SessionSummary(ex, MARKET, n_accounts, n_steps, codes, fills, volume, sum(deposits),
                          net, periods, probability, outcome, oi_at_resolution, payouts, pnl,
                          liquidation)


def format_session(s: SessionSummary) -> list[str]:
    """The session as report lines (USDC with 2 decimals, prices as probabilities)."""
    ex, m = s.exchange, s.market
    usdc = lambda qq: f"{qq / 1e6:,.2f}"  # noqa: E731  display only
    prob = lambda ppm: f"{ppm / PRICE_SCALE_PPM:.3f}"  # noqa: E731  display only
    accounts = range(s.n_accounts)
    paid = [ex.position(a, m).funding_paid_qq for a in accounts]
    capped = sum(e.capped for e in s.periods)
    lines = [
        f"exchange session: {s.n_accounts} accounts, {s.n_steps:,} blocks Active + "
        f"{SETTLING_WINDOW} resolving, market {m}",
        "results: " + ", ".join(f"{k} {v:,}" for k, v in sorted(s.codes.items())),
        f"fills {s.fills:,}, volume {s.volume:,} contracts; open interest at resolution "
        f"{s.open_interest_at_resolution:,} contracts, after settlement {ex.open_interest(m)}",
        f"funding: {len(s.periods)} periods ({capped} capped), cumulative index "
        f"{ex.funding_index(m) / 1e6:+,.0f} qq/contract; rates per period (qq/contract): "
        + " ".join(f"{e.rate_idx / 1e6:+.0f}" for e in s.periods[:12])
        + (" ..." if len(s.periods) > 12 else ""),
        f"funding paid {usdc(sum(p for p in paid if p > 0))} USDC, received "
        f"{usdc(-sum(p for p in paid if p < 0))} USDC, rounding dust to insurance "
        f"{sum(paid):,} qq",
        f"lifecycle: ACTIVE -> RESOLVING at block {s.n_steps:,} (last probability "
        f"{prob(s.last_probability_ppm)}, outcome {prob(s.outcome_ppm)}) -> RESOLVED -> "
        f"{ex.phase(m).name}; final mark {prob(ex.mark(m))}",
        f"settlement paid {usdc(sum(p for p in s.payouts_qq.values() if p > 0))} USDC to "
        f"{sum(p > 0 for p in s.payouts_qq.values())} accounts and took "
        f"{usdc(-sum(p for p in s.payouts_qq.values() if p < 0))} USDC from "
        f"{sum(p < 0 for p in s.payouts_qq.values())}",
        f"liquidations: {s.liquidation['positions']:,} accounts' positions under maintenance, "
        f"{s.liquidation['liquidation_started']:,} block attempts, "
        f"{s.liquidation['liquidation_filled']:,} fills closing "
        f"{s.liquidation['closed contracts']:,} contracts, "
        f"{s.liquidation['deleveraging_filled']:,} ADL fills closing "
        f"{s.liquidation['deleveraged contracts']:,}, {s.liquidation['liquidation_deferred']:,} "
        f"deferred; insurance drew {usdc(s.liquidation['drawn qq'])} USDC and took in "
        f"{usdc(s.liquidation['credited qq'])} USDC of liquidation fees",
        f"fees collected {usdc(ex.fees_collected(m))} USDC, insurance fund "
        f"{usdc(ex.insurance_fund(m))} USDC, bad debt {usdc(ex.bad_debt(m))} USDC",
    ]
    ranked = sorted(s.pnl_by_account.items(), key=lambda kv: (-kv[1], kv[0]))
    lines.append("best and worst accounts (final PnL, USDC): "
                 + ", ".join(f"#{a} {usdc(p)}" for a, p in ranked[:3]) + " ... "
                 + ", ".join(f"#{a} {usdc(p)}" for a, p in ranked[-3:]))
    total = sum(ex.balances(a).total for a in accounts)
    available = sum(ex.balances(a).available for a in accounts)
    pool, funding = ex.clearing_pool(m), ex.funding_pool(m)
    lines.append(f"all balances available: {available == total}; conservation OK: accounts "
                 f"{usdc(total)} + fees {usdc(ex.fees_collected(m))} + insurance "
                 f"{usdc(ex.insurance_fund(m))} + clearing pool {usdc(pool)} + funding pool "
                 f"{usdc(funding)} = net deposits {usdc(s.net_deposits_qq)} USDC")
    return lines
