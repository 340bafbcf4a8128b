"""Shared fixtures of the benchmark suites: the seeded flows, generated once per session."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402

from perpcore.workload import FlowSpec, generate_flow  # noqa: E402

N_EVENTS = int(os.environ.get("PERPCORE_BENCH_EVENTS", "1000000"))


@pytest.fixture(scope="session", params=[1000, 100], ids=lambda t: f"tick{t}")
def flow(request):
    """``(tick_ppm, commands)`` of the seeded flow for one tick size."""
    return request.param, generate_flow(FlowSpec(n_events=N_EVENTS, tick_ppm=request.param))
