"""Properties of the liquidation engine over random books, positions and price shocks (hypothesis),
on the native exchange and the reference: after every block conservation and every invariant of
the exchange hold; only accounts at or below maintenance when the block began are liquidated, each
at most once per market; no cap is exceeded (account notional, insurance draws, liquidation fee);
ADL runs only when the fund could not cover the deficit; ADL never makes bad debt; and a position
left with negative equity is one the fund can still cover, one whose liquidation was deferred, or
one no opposite position could take over and stay solvent."""

from collections import defaultdict

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from perpcore import Code, RiskTier, Side, apply_fill, bankruptcy_price_ppm

M = "M"
USDC = 1_000_000
ONE = 1_000_000
ACCOUNTS = range(1, 7)

shock = st.integers(20_000, 980_000)
order = st.tuples(st.sampled_from(list(ACCOUNTS)), st.sampled_from([Side.BUY, Side.SELL]),
                  st.integers(1, 99).map(lambda t: t * 10_000), st.integers(1, 400))
tiers = st.builds(
    RiskTier, base_imf_ppm=st.sampled_from([100_000, 200_000, 500_000]),
    mmf_ppm=st.sampled_from([50_000, 100_000]), taker_fee_ppm=st.just(500),
    maker_fee_ppm=st.sampled_from([0, 100, -100]), insurance_share_ppm=st.sampled_from([0, ONE]),
    liquidation_fee_ppm=st.sampled_from([0, 5_000, 50_000]),
    spread_to_mmr_ppm=st.sampled_from([100_000, 1_000_000]),
    liquidation_portion_ppm=st.sampled_from([100_000, 500_000, 1_000_000]),
    liquidation_min_notional_qq=st.sampled_from([0, 10 * USDC, 1000 * USDC]),
    liquidation_max_notional_qq=st.sampled_from([50 * USDC, 10**14]),
    insurance_max_draw_qq=st.sampled_from([1 * USDC, 10**14]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                        HealthCheck.function_scoped_fixture])
@given(risk=tiers, deposits=st.lists(st.integers(20, 400), min_size=6, max_size=6),
       orders=st.lists(order, min_size=5, max_size=40), shocks=st.lists(shock, min_size=1,
                                                                         max_size=4),
       fund=st.sampled_from([0, 5, 500]), quotes=st.lists(order, max_size=15))
def test_liquidation_blocks_keep_every_promise(exchange_cls, risk, deposits, orders, shocks,
                                               fund, quotes):
    ex = _funded_market(exchange_cls, risk, deposits, fund)
    oid = _submit_all(ex, orders, 1)  # positions, and whatever rests
    for now, mark in enumerate(shocks, start=1):
        ex.set_mark(M, mark)
        oid = _submit_all(ex, quotes, oid)  # fresh liquidity around the shock
        before = {a: ex.margin(a, M) for a in ACCOUNTS}
        fund = ex.insurance_fund(M)
        block = ex.liquidate(now)
        ex.check_integrity()
        _check_block(ex, risk, mark, before, fund, block)
        for kind in {e.kind for e in block.events if e.kind.startswith(("liq", "ins", "del"))}:
            event(kind)


def _deleveraging_price(ex, account, events, risk):
    """The price the account's deleveraging used: its fills' price, or with none the price it
    would have used (the mark unless its equity is negative, then its bankruptcy price)."""
    prices = {e.price_ppm for e in events if e.kind == "deleveraging_filled" and e.account == account}
    assert len(prices) <= 1
    if prices:
        return prices.pop()
    p, v = ex.position(account, M), ex.margin(account, M)
    if v.equity_qq >= 0:
        return ex.mark(M)
    price = bankruptcy_price_ppm(p.size, abs(p.size), ex.mark(M), v.equity_qq, risk.mmf_ppm)
    return min(max(price, 0), ONE)


def _fund_when_finished(account, events, fund_before):
    """The insurance fund as the account's liquidation finished (the fund events report it)."""
    fund = fund_before
    for e in events:
        if e.kind in ("insurance_drawn", "insurance_credited"):
            fund = e.fund_qq
        elif e.kind == "liquidation_finished" and e.account == account:
            return fund
    raise AssertionError(f"{account} was not liquidated")


def _could_take_over(ex, account, events, risk):
    """Opposite positions with positive equity that could take over one more contract of the
    account's position at its deleveraging price and stay solvent; those the block touched after
    the account's liquidation are left out, since their state then is not the one it met."""
    finished = max(i for i, e in enumerate(events)
                   if e.kind == "liquidation_finished" and e.account == account)
    later = {getattr(e, name) for e in events[finished + 1:]
             for name in ("account", "counterparty") if hasattr(e, name)}
    price = _deleveraging_price(ex, account, events, risk)
    long = ex.position(account, M).size > 0
    return [a for a in ACCOUNTS if a not in later and ex.position(a, M).size
            and (ex.position(a, M).size > 0) != long and ex.margin(a, M).equity_qq > 0
            and _solvent_after_one_more(ex, a, price)]


def _solvent_after_one_more(ex, account, price):
    """Whether the account could take over one more contract against its position at ``price``
    with its position margin covering the realised PnL and its equity staying non-negative."""
    p, v = ex.position(account, M), ex.margin(account, M)
    cash = v.collateral_qq + v.unsettled_funding_qq
    size, on, realized = apply_fill(p.size, p.open_notional_qq, 1 if p.size < 0 else -1, price)
    return cash + realized >= 0 and cash + realized + size * ex.mark(M) - on >= 0


def _funded_market(exchange_cls, risk, deposits, fund):
    """One market at 0.5 with the accounts funded, and ``fund`` USDC in its insurance fund."""
    ex = exchange_cls()
    ex.add_market(M, tick_ppm=10_000, risk=risk, mark_ppm=500_000)
    for account, usdc in zip(ACCOUNTS, deposits):
        ex.deposit(account, usdc * USDC)
    ex.deposit(99, 10**6 * USDC)
    if fund:
        ex.fund_insurance(99, M, fund * USDC)
    return ex


def _submit_all(ex, orders, oid):
    """Submit the orders with ids from ``oid`` on; returns the next free id."""
    for account, side, price, size in orders:
        ex.submit(M, oid, account, side, price, size)
        oid += 1
    return oid


def _check_block(ex, risk, mark, before, fund_before, block):
    started = [e for e in block.events if e.kind == "liquidation_started"]
    accounts = [e.account for e in started]
    assert len(accounts) == len(set(accounts)), "one liquidation per position per block"
    for e in started:
        assert before[e.account].liquidatable, f"{e.account} was above maintenance"
    closed = defaultdict(int)
    drawn = 0
    fund = None
    deferred = set()
    for e in block.events:
        if e.kind == "liquidation_filled":
            closed[e.account] += e.size
        elif e.kind == "insurance_drawn":
            drawn += e.amount_qq
            fund = e.fund_qq
        elif e.kind == "insurance_credited":
            assert e.amount_qq >= 0
            fund = e.fund_qq
        elif e.kind == "liquidation_deferred":
            deferred.add(e.account)
        elif e.kind == "deleveraging_filled":  # solvent after, or nobody could take the rest
            assert (before[e.account].equity_qq < 0 or ex.margin(e.account, M).equity_qq >= 0
                    or not _could_take_over(ex, e.account, block.events, risk)), e
    for e in block.events:
        if e.kind == "liquidation_filled":
            credits = [c for c in block.events if c.kind == "insurance_credited"
                       and c.account == e.account]
            for c in credits:
                assert c.amount_qq <= sum(f.size * f.price_ppm for f in block.events
                                          if f.kind == "liquidation_filled"
                                          and f.account == e.account) * risk.liquidation_fee_ppm \
                    // ONE
    assert drawn <= risk.insurance_max_draw_qq
    for account, size in closed.items():
        # the account's budget, plus at most one lot's rounding of the minimum slice
        assert size * mark <= max(risk.liquidation_max_notional_qq, mark), account
    assert ex.insurance_fund(M) >= 0
    for account in {e.account for e in block.events if e.kind == "deleveraging_filled"}:
        assert account not in deferred
    for account in ACCOUNTS:
        v = ex.margin(account, M)
        if ex.position(account, M).size and v.equity_qq < 0 and account in accounts:
            # the fund could cover it when its turn came, or it waits for the book, or nobody
            # can take it over
            assert (-v.equity_qq <= _fund_when_finished(account, block.events, fund_before)
                    or account in deferred
                    or not _could_take_over(ex, account, block.events, risk)), account


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                        HealthCheck.function_scoped_fixture])
@given(risk=tiers, deposits=st.lists(st.integers(20, 400), min_size=6, max_size=6),
       orders=st.lists(order, min_size=5, max_size=40), shock=shock,
       fund=st.sampled_from([0, 5, 500]), outcome=st.sampled_from([0, ONE]),
       window=st.integers(1, 6), quotes=st.lists(order, max_size=15))
def test_a_resolving_market_settles_liquidated_losses_by_final_deleveraging(
        exchange_cls, risk, deposits, orders, shock, fund, outcome, window, quotes):
    """While a market resolves (reduce-only: no new liquidity), a liquidated position its book
    cannot close is deleveraged, so resolving blocks never add bad debt, and a position is left
    open after its liquidation only when no opposite position with positive equity could take one
    more lot at the deleveraging price and stay solvent."""
    ex = _funded_market(exchange_cls, risk, deposits, fund)
    _submit_all(ex, orders + quotes, 1)
    ex.set_mark(M, shock)
    ex.begin_resolution(M, outcome, 1, window)
    for now in range(1, window + 2):
        debt = ex.bad_debt(M)
        before = {a: ex.margin(a, M) for a in ACCOUNTS}
        block = ex.liquidate(now)
        ex.check_integrity()
        assert ex.bad_debt(M) <= debt
        for kind in {e.kind for e in block.events if e.kind.startswith(("ins", "del"))}:
            event(kind)
        for e in block.events:
            if e.kind == "liquidation_started":
                assert before[e.account].liquidatable
            if e.kind == "liquidation_finished" and e.remaining:
                assert not _could_take_over(ex, e.account, block.events, risk), e
    ex.resolve(M, window + 2)
    ex.settle(M, window + 2)
    ex.check_integrity()
    assert ex.open_interest(M) == 0
