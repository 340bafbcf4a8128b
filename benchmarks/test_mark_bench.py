"""pytest-benchmark suite of mark price updates through the exchange, native and reference.

One update is an oracle reading fed to ``Exchange.update_oracle``: the mark service's guards
(bounds, deviation clamp, EMA smoothing, staleness) and the exchange taking the new mark for risk,
with its ``mark_price.event``. The readings are a seeded random walk of the probability with one
reading a second. Both exchanges run the same readings and must end on the same mark and index;
each case records updates/s and the p50/p99 latency of single updates in ``extra_info`` (the
reference's rate measured in the same run is the yardstick on this noisy machine).
"""

import os
import random
import time

import pytest

from perpcore import Exchange
from perpcore.reference import ReferenceExchange

N_UPDATES = int(os.environ.get("PERPCORE_BENCH_MARK_UPDATES", "50000"))
IMPLEMENTATIONS = {"native": Exchange, "reference": ReferenceExchange}
MARKET = "M"


def _readings():
    rng = random.Random(20261123)
    p, out = 500_000, []
    for t in range(1, N_UPDATES + 1):
        p = min(max(p + rng.randint(-8_000, 8_000), 1), 999_999)
        out.append((p, t))
    return out


READINGS = _readings()


def _exchange(cls):
    ex = cls()
    ex.add_market(MARKET, mark_ppm=500_000)
    return ex


def _run(ex):
    update = ex.update_oracle
    for raw, t in READINGS:
        update(MARKET, raw, t, t)
    return ex


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_mark_updates(benchmark, impl):
    cls = IMPLEMENTATIONS[impl]
    ex = benchmark.pedantic(lambda e: _run(e), setup=lambda: ((_exchange(cls),), {}),
                            rounds=3, iterations=1)
    other = _run(_exchange(IMPLEMENTATIONS["reference" if impl == "native" else "native"]))
    assert (ex.mark(MARKET), ex.index(MARKET)) == (other.mark(MARKET), other.index(MARKET))
    # single-update latency, net of nothing: perf_counter_ns around each call
    probe = _exchange(cls)
    lat = []
    for raw, t in READINGS[:20_000]:
        t0 = time.perf_counter_ns()
        probe.update_oracle(MARKET, raw, t, t)
        lat.append(time.perf_counter_ns() - t0)
    lat.sort()
    benchmark.extra_info.update(
        updates=N_UPDATES, updates_per_s=round(N_UPDATES / benchmark.stats.stats.min),
        p50_ns=lat[len(lat) // 2], p99_ns=lat[len(lat) * 99 // 100])
