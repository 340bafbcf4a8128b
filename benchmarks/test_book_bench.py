"""pytest-benchmark suites of the order book: per-call and batch APIs, native and reference.

Each benchmark replays the whole seeded flow once per round on a fresh book and records
events/s in ``extra_info``; each also checks the run's outcome against the other implementation,
so a fast wrong book fails here. `perpcore bench` prints the same measurements as one table.
"""

import pytest

from perpcore import BatchBuffers, OrderBook
from perpcore.bench import call_plan, run_batch, run_calls
from perpcore.reference import ReferenceOrderBook

IMPLEMENTATIONS = {"native": OrderBook, "reference": ReferenceOrderBook}


def _final_hash(tick, cmds):
    book = OrderBook(tick_ppm=tick)
    book.process(cmds)
    return book.state_hash()


def _rounds(impl):
    return 3 if impl == "native" else 1


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_batch_api(benchmark, flow, impl):
    tick, cmds = flow
    books = []

    def setup():
        books.append(IMPLEMENTATIONS[impl](tick_ppm=tick))
        return (books[-1], cmds), {}

    benchmark.pedantic(run_batch, setup=setup, rounds=_rounds(impl), iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    assert books[-1].state_hash() == _final_hash(tick, cmds)


def test_batch_api_reused_buffers(benchmark, flow):
    tick, cmds = flow
    buffers = BatchBuffers()
    books = []

    def setup():
        books.append(OrderBook(tick_ppm=tick))
        return (books[-1], cmds, buffers), {}

    benchmark.pedantic(run_batch, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    assert books[-1].state_hash() == _final_hash(tick, cmds)


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_per_call_api(benchmark, flow, impl):
    tick, cmds = flow
    books = []

    def setup():
        books.append(IMPLEMENTATIONS[impl](tick_ppm=tick))
        return (call_plan(books[-1], cmds),), {}

    benchmark.pedantic(run_calls, setup=setup, rounds=_rounds(impl), iterations=1)
    benchmark.extra_info["events_per_s"] = len(cmds) / benchmark.stats.stats.min
    assert books[-1].state_hash() == _final_hash(tick, cmds)
