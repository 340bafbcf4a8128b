"""pytest-benchmark suites of the exchange core: end-to-end submit (margin check, lock, match, fills
applied to both positions) per call and batched, next to the bare book on the same seeded flow,
and the margin query.

The flow is the book benchmark's (several hundred accounts, each funded far beyond its needs, so
every order the book accepts the exchange accepts too); both runs must end with the same book.
``PERPCORE_BENCH_EXCHANGE_EVENTS`` sets its length (default 200,000).
"""

import os

import numpy as np
import pytest

from perpcore import Exchange, Op, OrderBook, RiskTier
from perpcore.workload import FlowSpec, call_rows, generate_flow

N_EVENTS = int(os.environ.get("PERPCORE_BENCH_EXCHANGE_EVENTS", "200000"))
N_ACCOUNTS = 400
MARKET = "BENCH"


@pytest.fixture(scope="module")
def cmds():
    return generate_flow(FlowSpec(n_events=N_EVENTS, n_accounts=N_ACCOUNTS))


@pytest.fixture(scope="module")
def rows(cmds):
    return call_rows(cmds)


def _exchange():
    ex = Exchange()
    ex.add_market(MARKET, tick_ppm=1000, risk=RiskTier(), mark_ppm=500_000)
    for account in range(N_ACCOUNTS):
        ex.deposit(account, 10**15)
    return ex


def run_exchange(ex, rows):
    submit, cancel = ex.submit, ex.cancel
    for op, oid, account, side, price, size, tif in rows:
        if op == Op.PLACE:
            submit(MARKET, oid, account, side, price, size, tif=tif)
        else:
            cancel(MARKET, oid)


def run_book(book, rows):
    place, cancel = book.place, book.cancel
    for op, oid, account, side, price, size, tif in rows:
        if op == Op.PLACE:
            place(oid, account, side, price, size, tif)
        else:
            cancel(oid)


def test_book_per_call(benchmark, rows):
    books = []

    def setup():
        books.append(OrderBook(tick_ppm=1000))
        return (books[-1], rows), {}

    benchmark.pedantic(run_book, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["events_per_s"] = len(rows) / benchmark.stats.stats.min


def test_exchange_submit_per_call(benchmark, rows):
    exchanges = []

    def setup():
        exchanges.append(_exchange())
        return (exchanges[-1], rows), {}

    benchmark.pedantic(run_exchange, setup=setup, rounds=2, iterations=1)
    benchmark.extra_info["events_per_s"] = len(rows) / benchmark.stats.stats.min
    ex = exchanges[-1]
    book = OrderBook(tick_ppm=1000)
    run_book(book, rows)
    assert ex.book(MARKET).state_hash() == book.state_hash()
    assert ex.open_interest(MARKET) > 0
    ex.check_integrity()


def test_exchange_submit_batch(benchmark, cmds):
    exchanges = []

    def setup():
        exchanges.append(_exchange())
        return (exchanges[-1], cmds), {}

    benchmark.pedantic(lambda ex, c: ex.process(MARKET, c), setup=setup, rounds=2, iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    book = OrderBook(tick_ppm=1000)
    book.process(cmds)
    assert exchanges[-1].book(MARKET).state_hash() == book.state_hash()


def test_margin_query(benchmark, rows):
    ex = _exchange()
    run_exchange(ex, rows[:20_000])
    holders = [a for a in range(N_ACCOUNTS) if ex.position(a, MARKET).size]
    account = holders[len(holders) // 2]
    margin = ex.margin
    benchmark.pedantic(margin, args=(account, MARKET), rounds=20_000, iterations=1)
    data = np.sort(np.asarray(benchmark.stats.stats.data))
    benchmark.extra_info["p50_us"] = float(data[len(data) // 2] * 1e6)
    benchmark.extra_info["p99_us"] = float(data[int(len(data) * 0.99)] * 1e6)
    v = margin(account, MARKET)
    assert v.equity_qq == v.collateral_qq + v.unrealized_pnl_qq
