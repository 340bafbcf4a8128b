"""pytest-benchmark suites of the exchange core: end-to-end submit (margin check, lock, match, fills
applied to both positions) per call and batched, on the native ``Exchange`` and the
``ReferenceExchange``, next to the bare book on the same seeded flow, and the margin query.

The flow is the book benchmark's (several hundred accounts, each funded far beyond its needs by
``perpcore.bench.funded_exchange``, so every order the book accepts the exchange accepts too);
every run must end with the bare book's state, and the native and reference exchanges with equal
states. Each exchange benchmark records ``events_per_s`` and ``ratio_to_book``: its rate over the
bare book's rate for the same API (per call or batch), measured in the same run; the native
per-call one also records its per-call latency (p50/p99/p99.9, net of the timer) next to the bare
book's. ``PERPCORE_BENCH_EXCHANGE_EVENTS`` sets the flow's length (default 200,000).
"""

import os
import time

import numpy as np
import pytest

from perpcore import Exchange, OrderBook
from perpcore.bench import (
    BENCH_MARKET, call_plan, funded_exchange, latency_percentiles_ns, run_batch, run_calls,
)
from perpcore.reference import ReferenceExchange
from perpcore.workload import FlowSpec, generate_flow

N_EVENTS = int(os.environ.get("PERPCORE_BENCH_EXCHANGE_EVENTS", "200000"))
N_ACCOUNTS = 400
IMPLEMENTATIONS = {"native": Exchange, "reference": ReferenceExchange}
ROUNDS = {"native": 3, "reference": 1}


@pytest.fixture(scope="module")
def cmds():
    return generate_flow(FlowSpec(n_events=N_EVENTS, n_accounts=N_ACCOUNTS))


def _exchange(cls, cmds):
    return funded_exchange(cmds, 1000, cls)


def _best_seconds(run, make, rounds=3):
    best = float("inf")
    for _ in range(rounds):
        subject = make()
        start = time.perf_counter()
        run(subject)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module")
def bare_book(cmds):
    """The bare book's rates (events/s, best of 3) per call and batched, its per-call latency
    percentiles, and its final state."""
    book = OrderBook(tick_ppm=1000)
    book.process(cmds)
    p50, p99, p999, _ = latency_percentiles_ns(call_plan(OrderBook(tick_ppm=1000), cmds))
    return {
        "per_call": len(cmds) / _best_seconds(
            run_calls, lambda: call_plan(OrderBook(tick_ppm=1000), cmds)),
        "batch": len(cmds) / _best_seconds(lambda b: run_batch(b, cmds),
                                           lambda: OrderBook(tick_ppm=1000)),
        "latency_ns": {"p50": p50, "p99": p99, "p99.9": p999},
        "state_hash": book.state_hash(),
    }


@pytest.fixture(scope="module")
def final_states():
    """The state each implementation ended a run in, by API: native and reference must agree."""
    return {}


def _state(ex):
    return (ex.book(BENCH_MARKET).state_hash(), ex.open_interest(BENCH_MARKET),
            ex.fees_collected(BENCH_MARKET), ex.insurance_fund(BENCH_MARKET),
            ex.clearing_pool(BENCH_MARKET),
            [ex.balances(a) for a in range(N_ACCOUNTS)],
            [ex.position(a, BENCH_MARKET) for a in range(N_ACCOUNTS)])


def _record(benchmark, n, book_rate):
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info["events_per_s"] = rate
    benchmark.extra_info["book_events_per_s"] = book_rate
    benchmark.extra_info["ratio_to_book"] = rate / book_rate


def test_book_per_call(benchmark, cmds, bare_book):
    books = []

    def setup():
        books.append(OrderBook(tick_ppm=1000))
        return (call_plan(books[-1], cmds),), {}

    benchmark.pedantic(run_calls, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    benchmark.extra_info.update({f"{k}_ns": v for k, v in bare_book["latency_ns"].items()})
    assert books[-1].state_hash() == bare_book["state_hash"]


def test_book_batch(benchmark, cmds, bare_book):
    books = []

    def setup():
        books.append(OrderBook(tick_ppm=1000))
        return (books[-1], cmds), {}

    benchmark.pedantic(run_batch, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    assert books[-1].state_hash() == bare_book["state_hash"]


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_exchange_submit_per_call(benchmark, cmds, bare_book, final_states, impl):
    exchanges = []

    def setup():
        exchanges.append(_exchange(IMPLEMENTATIONS[impl], cmds))
        return (call_plan(exchanges[-1], cmds, BENCH_MARKET),), {}

    benchmark.pedantic(run_calls, setup=setup, rounds=ROUNDS[impl], iterations=1)
    _record(benchmark, len(cmds), bare_book["per_call"])
    ex = exchanges[-1]
    assert ex.book(BENCH_MARKET).state_hash() == bare_book["state_hash"]
    assert ex.open_interest(BENCH_MARKET) > 0
    ex.check_integrity()
    state = final_states.setdefault("per_call", _state(ex))
    assert _state(ex) == state
    if impl == "native":
        p50, p99, p999, _ = latency_percentiles_ns(
            call_plan(_exchange(Exchange, cmds), cmds, BENCH_MARKET))
        benchmark.extra_info.update({"p50_ns": p50, "p99_ns": p99, "p99.9_ns": p999})
        benchmark.extra_info.update(
            {f"book_{k}_ns": v for k, v in bare_book["latency_ns"].items()})
        assert 0 < p50 <= p99 <= p999


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_exchange_submit_batch(benchmark, cmds, bare_book, final_states, impl):
    exchanges = []

    def setup():
        exchanges.append(_exchange(IMPLEMENTATIONS[impl], cmds))
        return (exchanges[-1], cmds), {"market": BENCH_MARKET}

    benchmark.pedantic(run_batch, setup=setup, rounds=ROUNDS[impl], iterations=1)
    _record(benchmark, len(cmds), bare_book["batch"])
    ex = exchanges[-1]
    assert ex.book(BENCH_MARKET).state_hash() == bare_book["state_hash"]
    state = final_states.setdefault("batch", _state(ex))
    assert _state(ex) == state


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_margin_query(benchmark, cmds, impl):
    ex = _exchange(IMPLEMENTATIONS[impl], cmds)
    run_calls(call_plan(ex, cmds[:20_000], BENCH_MARKET))
    holders = [a for a in range(N_ACCOUNTS) if ex.position(a, BENCH_MARKET).size]
    account = holders[len(holders) // 2]
    margin = ex.margin
    benchmark.pedantic(margin, args=(account, BENCH_MARKET), rounds=20_000, iterations=1)
    data = np.sort(np.asarray(benchmark.stats.stats.data))
    benchmark.extra_info["p50_us"] = float(data[len(data) // 2] * 1e6)
    benchmark.extra_info["p99_us"] = float(data[int(len(data) * 0.99)] * 1e6)
    v = margin(account, BENCH_MARKET)
    assert v.equity_qq == v.collateral_qq + v.unrealized_pnl_qq
