"""pytest-benchmark suite of the funding sampler: the per-block sampling cost, native and reference.

One block's sample sweeps the impact notional (2,500 USDC, dYdX's test tier) through each side of
the book, takes the impact mid and records the clamped premium; every 60 blocks the minute is
closed (its median), as a market with one-second blocks would. Two books, each built with the
native ``OrderBook`` and the pure-Python ``ReferenceOrderBook`` from the same commands: a deep book
of 50,000 resting orders (25,000 a side over 499 price levels) and the book left by the seeded
synthetic flow of 200,000 events (``perpcore.workload``). The native sampler reads the native book
at C level; the reference sampler reads the reference book through ``impact_price``. Each case
records samples/s in ``extra_info``, and the native run is checked sample for sample against the
reference, so a fast wrong sampler fails here.
"""

import os
import random

import pytest

from perpcore import FundingParams, FundingSampler, OrderBook, Side
from perpcore.reference import ReferenceOrderBook
from perpcore.reference import funding as reference
from perpcore.workload import FlowSpec, generate_flow

N_BLOCKS = int(os.environ.get("PERPCORE_BENCH_FUNDING_BLOCKS", "20000"))
N_REFERENCE_BLOCKS = max(1, N_BLOCKS // 10)  # the reference is slow; its rate is what matters
DEEP_ORDERS = 50_000
FLOW_EVENTS = 200_000
BLOCKS_PER_MINUTE = 60
FIELDS = dict(impact_notional_qq=2_500_000_000, sample_clamp_ppm=50_000,
              blocks_per_minute=BLOCKS_PER_MINUTE, minutes_per_period=60, base_imf_ppm=100_000,
              mmf_ppm=50_000)


def _deep_books():
    """25,000 bids on 1_000 .. 499_000 and 25,000 asks on 501_000 .. 999_000, sizes 1 .. 20."""
    rng = random.Random(20240602)
    books = [OrderBook(), ReferenceOrderBook()]
    for order_id in range(1, DEEP_ORDERS + 1):
        side = Side.BUY if order_id % 2 else Side.SELL
        level = rng.randint(1, 499) * 1_000
        price = level if side == Side.BUY else 1_000_000 - level
        size = rng.randint(1, 20)
        for book in books:
            assert book.place(order_id, order_id % 500, side, price, size).ok
    return books


def _flow_books():
    commands = generate_flow(FlowSpec(n_events=FLOW_EVENTS))
    books = [OrderBook(), ReferenceOrderBook()]
    for book in books:
        book.process(commands)
    return books


@pytest.fixture(scope="module", params=["deep", "flow"])
def books(request):
    """(name, native book, reference book) holding the same orders."""
    native_book, reference_book = _deep_books() if request.param == "deep" else _flow_books()
    assert native_book.snapshot() == reference_book.snapshot()
    return request.param, native_book, reference_book


def _indexes(book, n):
    """Seeded index prices within 3 % of the book's mid, so that samples vary in sign."""
    rng = random.Random(11)
    mid = (book.best_bid() + book.best_ask()) // 2
    return [min(max(mid + rng.randint(-30_000, 30_000), 0), 1_000_000) for _ in range(n)]


def run_blocks(sampler, book, indexes):
    """One sample per index, closing the minute every BLOCKS_PER_MINUTE blocks."""
    sample, close_minute = sampler.sample, sampler.close_minute
    out = []
    for i, index in enumerate(indexes, 1):
        out.append(sample(book, index))
        if i % BLOCKS_PER_MINUTE == 0:
            out.append(close_minute())
    return out


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_sampling_per_block(benchmark, books, impl):
    name, native_book, reference_book = books
    if impl == "native":
        book, n, make = native_book, N_BLOCKS, lambda: FundingSampler(FundingParams(**FIELDS))
    else:
        book, n = reference_book, N_REFERENCE_BLOCKS
        make = lambda: reference.ReferenceFundingSampler(reference.FundingParams(**FIELDS))  # noqa: E731
    indexes = _indexes(native_book, n)
    assert native_book.impact_price(Side.BUY, FIELDS["impact_notional_qq"]).enough_depth
    assert native_book.impact_price(Side.SELL, FIELDS["impact_notional_qq"]).enough_depth

    results = benchmark.pedantic(lambda: run_blocks(make(), book, indexes),
                                 rounds=5 if impl == "native" else 2, iterations=1)
    benchmark.extra_info["book"] = f"{name} ({len(book)} resting orders)"
    benchmark.extra_info["samples_per_s"] = n / benchmark.stats.stats.min
    benchmark.extra_info["ns_per_sample"] = benchmark.stats.stats.min / n * 1e9

    expected = run_blocks(reference.ReferenceFundingSampler(reference.FundingParams(**FIELDS)),
                          reference_book, indexes[:N_REFERENCE_BLOCKS])
    assert results[:len(expected)] == expected
    assert any(results) and len(set(results)) > 2, "the benchmark must sample real premiums"
