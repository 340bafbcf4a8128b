"""pytest-benchmark suite of the margin engine: a batch of margin queries, native and reference.

One query is what a risk check asks of a position: its equity at the mark, its OI-scaled initial
requirement and its maintenance requirement. Each benchmark answers 100,000 queries on seeded
random positions and records queries/s in ``extra_info``; the native run also checks a sample of
its answers against the reference, so a fast wrong engine fails here.
"""

import os
import random

import pytest

from perpcore import _margin as native
from perpcore.reference import margin as reference

N_QUERIES = int(os.environ.get("PERPCORE_BENCH_MARGIN_QUERIES", "100000"))
IMPLEMENTATIONS = {"native": native, "reference": reference}


@pytest.fixture(scope="module")
def queries():
    """[(collateral, size, open_notional, mark, funding, imf, mmf)] of seeded random positions."""
    rng = random.Random(20240601)
    out = []
    for _ in range(N_QUERIES):
        size = rng.randint(1, 1_000_000) * rng.choice((1, -1))
        open_notional = size * rng.randint(1_000, 999_000) + rng.randint(0, abs(size) - 1) * (
            1 if size > 0 else -1) // 2
        out.append((rng.randint(0, 10**12), size, open_notional, rng.randint(1_000, 999_000),
                    rng.randint(-10**6, 10**6), rng.choice((100_000, 200_000, 550_000)),
                    rng.choice((30_000, 50_000))))
    return out


def run_queries(m, queries):
    equity, initial = m.equity_qq, m.initial_requirement_qq
    maintenance = m.maintenance_requirement_qq
    return [(equity(c, s, on, mark, f), initial(s, mark, imf), maintenance(s, mark, mmf))
            for c, s, on, mark, f, imf, mmf in queries]


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
def test_margin_queries(benchmark, queries, impl):
    m = IMPLEMENTATIONS[impl]
    results = benchmark.pedantic(run_queries, args=(m, queries),
                                 rounds=5 if impl == "native" else 1, iterations=1)
    benchmark.extra_info["queries_per_s"] = len(queries) / benchmark.stats.stats.min

    sample = random.Random(7).sample(range(len(queries)), min(2_000, len(queries)))
    expected = run_queries(reference, [queries[i] for i in sample])
    assert [results[i] for i in sample] == expected
