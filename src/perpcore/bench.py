"""Throughput, latency and memory of the order book, and of the exchange's end-to-end submit, on
the seeded synthetic flow.

Owns the measurement kernels that `perpcore bench`, the pytest-benchmark suites under
`benchmarks/` and the budget check all share, the budget file's checker, and the table they
print. Every number is taken against a reference measured in the same run, because on a shared
machine only ratios hold: the book against the pure-Python reference book, the exchange (margin
check, lock, match, fills applied to both positions, on a funded exchange that accepts every order
the book does) against the bare book. It never changes what it measures and never hides a result:
a budget that is missed is reported as missed.
"""

from __future__ import annotations

import gc
import os
import platform
import time
import tomllib
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from perpcore._book import BatchBuffers, OrderBook
from perpcore._engine import Exchange
from perpcore._margin import RiskTier
from perpcore.book_types import COMMAND_DTYPE, Op, Side
from perpcore.errors import IntegrityError
from perpcore.reference import ReferenceOrderBook
from perpcore.workload import FlowSpec, call_rows, generate_flow

__all__ = [
    "BenchReport",
    "TickReport",
    "BENCH_MARKET",
    "call_plan",
    "funded_exchange",
    "run_calls",
    "run_batch",
    "call_latencies_ns",
    "latency_percentiles_ns",
    "bytes_per_resting_order",
    "measure",
    "format_table",
    "check_budgets",
]

Plan = list[tuple[Callable, tuple]]
BENCH_MARKET = "BENCH"
"""The one market of the exchange the benchmarks drive."""


def call_plan(subject, cmds: np.ndarray, market: str | None = None) -> Plan:
    """The flow as one bound-method call per event, ``[(method, args), ...]``: on an order book
    (place, cancel, amend, cancel_all), or with ``market`` on an exchange (submit, cancel,
    cancel_all in that market; it offers no amend)."""
    if market is None:
        place, cancel, cancel_all = subject.place, subject.cancel, subject.cancel_all
        head: tuple = ()
    else:
        place, cancel, cancel_all = subject.submit, subject.cancel, subject.cancel_all
        head = (market,)
    plan: Plan = []
    stp = cmds["stp"].tolist()
    flags = cmds["flags"].tolist()
    for i, (op, oid, acct, side, price, size, tif) in enumerate(call_rows(cmds)):
        if op == Op.PLACE:
            if stp[i] or flags[i]:
                plan.append((place, head + (oid, acct, side, price, size, tif, stp[i],
                                            bool(flags[i]))))
            else:
                plan.append((place, head + (oid, acct, side, price, size, tif)))
        elif op == Op.CANCEL:
            plan.append((cancel, head + (oid,)))
        elif op == Op.AMEND:
            if market is not None:
                raise ValueError("the exchange offers no amend: the flow has one")
            plan.append((subject.amend, (oid, size, price or None)))
        else:
            plan.append((cancel_all, head + (acct,)))
    return plan


def funded_exchange(cmds: np.ndarray, tick_ppm: int = 1000, exchange_cls=Exchange):
    """An exchange listing BENCH_MARKET on the flow's grid (default risk tier, mark 0.5) in which
    every account of ``cmds`` holds 1e9 USDC, far beyond what it needs, so it accepts every order
    the bare book accepts and ends the flow with the bare book's state."""
    ex = exchange_cls()
    ex.add_market(BENCH_MARKET, tick_ppm=tick_ppm, risk=RiskTier(), mark_ppm=500_000)
    for account in np.unique(cmds["account"]).tolist():
        ex.deposit(account, 10**15)
    return ex


def run_calls(plan: Plan) -> float:
    """Replay a plan, one Python call per event; returns elapsed seconds."""
    t0 = time.perf_counter()
    for method, args in plan:
        method(*args)
    return time.perf_counter() - t0


def run_batch(subject, cmds: np.ndarray, out: BatchBuffers | None = None,
              market: str | None = None) -> float:
    """Run the flow through ``subject.process`` in one call: an order book's (into ``out`` when
    given), or with ``market`` an exchange's; returns elapsed seconds."""
    t0 = time.perf_counter()
    if market is not None:
        subject.process(market, cmds)
    elif out is None:
        subject.process(cmds)
    else:
        subject.process(cmds, out=out)
    return time.perf_counter() - t0


def call_latencies_ns(plan: Plan) -> tuple[np.ndarray, int]:
    """Per-call latency of each event in ns (timer included), and the timer's own floor."""
    clock = time.perf_counter_ns
    lat = array("q", bytes(8 * len(plan)))
    i = 0
    for method, args in plan:
        t0 = clock()
        method(*args)
        lat[i] = clock() - t0
        i += 1
    floor = array("q", bytes(8 * 10_000))
    for k in range(10_000):
        t0 = clock()
        floor[k] = clock() - t0
    return np.frombuffer(lat, np.int64), int(np.median(np.frombuffer(floor, np.int64)))


def bytes_per_resting_order(n_orders: int, tick_ppm: int = 1000) -> float:
    """C memory of a book holding ``n_orders`` resting orders, divided by that count."""
    book = OrderBook(tick_ppm=tick_ppm)
    cmds = np.zeros(n_orders, COMMAND_DTYPE)
    cmds["op"] = Op.PLACE
    cmds["order_id"] = np.arange(1, n_orders + 1)
    cmds["account"] = np.arange(n_orders) % 997
    cmds["side"] = np.where(np.arange(n_orders) % 2 == 0, Side.BUY, Side.SELL)
    levels = np.arange(n_orders) % 200
    cmds["price_ppm"] = np.where(cmds["side"] == Side.BUY, 400_000 - levels * tick_ppm,
                                 600_000 + levels * tick_ppm)
    cmds["size"] = 1 + np.arange(n_orders) % 20
    book.process(cmds)
    assert len(book) == n_orders
    return book.memory_bytes() / n_orders


@dataclass
class TickReport:
    """Every number measured for one tick size (rates in events/s, latencies in ns)."""

    tick_ppm: int
    n_events: int
    live_orders: int
    fills: int
    per_call: float
    batch: float
    batch_reused: float
    reference_per_call: float
    reference_batch: float
    p50_ns: int  # per-call latency net of the timer's own cost
    p99_ns: int
    p999_ns: int
    timer_floor_ns: int  # median cost of reading the clock twice
    bytes_per_order_flow: float
    # the exchange's end-to-end submit on the same flow (see funded_exchange)
    exchange_per_call: float
    exchange_batch: float
    exchange_p50_ns: int  # per-call latency net of the timer's own cost
    exchange_p99_ns: int
    exchange_p999_ns: int

    @property
    def per_call_ratio(self) -> float:
        return self.per_call / self.reference_per_call

    @property
    def batch_ratio(self) -> float:
        return self.batch / self.reference_batch

    @property
    def exchange_per_call_ratio(self) -> float:
        """The exchange's per-call rate over the bare book's, measured in the same rounds."""
        return self.exchange_per_call / self.per_call

    @property
    def exchange_batch_ratio(self) -> float:
        return self.exchange_batch / self.batch


@dataclass
class BenchReport:
    ticks: list[TickReport]
    bytes_per_order_100k: float
    bytes_per_order_1m: float
    # how much slower the finest tick is than the coarsest, per rate ("per_call", "batch"): the
    # median over rounds of the paired timings, which one load change between rounds cannot move
    paired_grid_slowdown: dict[str, float] = field(default_factory=dict)
    machine: str = field(default_factory=lambda: f"{platform.machine()} {os.cpu_count()} cpu, "
                                                  f"Python {platform.python_version()}")

    def by_tick(self, tick_ppm: int) -> TickReport:
        return next(t for t in self.ticks if t.tick_ppm == tick_ppm)

    def grid_slowdown(self, name: str) -> float:
        """How much slower the rate ``name`` is at the finest tick than at the coarsest (0.1 is
        10 % slower): paired per round when measured so, else from the best rates."""
        if name in self.paired_grid_slowdown:
            return self.paired_grid_slowdown[name]
        coarse, fine = self.ticks[0], self.ticks[-1]
        return getattr(coarse, name) / getattr(fine, name) - 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def _runs(cmds: np.ndarray, tick: int) -> dict[str, Callable[[], float]]:
    """One timed run (seconds over the whole flow) of each throughput measurement of a tick."""
    buffers = BatchBuffers()

    def calls_once(book_cls) -> float:
        return run_calls(call_plan(book_cls(tick_ppm=tick), cmds))

    return {
        "batch": lambda: run_batch(OrderBook(tick_ppm=tick), cmds),
        "batch_reused": lambda: run_batch(OrderBook(tick_ppm=tick), cmds, buffers),
        "per_call": lambda: calls_once(OrderBook),
        "reference_per_call": lambda: calls_once(ReferenceOrderBook),
        "reference_batch": lambda: run_batch(ReferenceOrderBook(tick_ppm=tick), cmds),
        "exchange_per_call": lambda: run_calls(call_plan(funded_exchange(cmds, tick), cmds,
                                                         BENCH_MARKET)),
        "exchange_batch": lambda: run_batch(funded_exchange(cmds, tick), cmds,
                                            market=BENCH_MARKET),
    }


def latency_percentiles_ns(plan: Plan) -> tuple[int, int, int, int]:
    """p50, p99 and p99.9 of the plan's per-call latencies net of the timer's own cost (ns), and
    that cost."""
    lat, floor = call_latencies_ns(plan)
    net = np.maximum(lat - floor, 0)
    p50, p99, p999 = (int(v) for v in np.percentile(net, [50, 99, 99.9]))
    return p50, p99, p999, floor


def _tick_report(tick: int, cmds: np.ndarray, seconds: dict[str, list[float]]) -> TickReport:
    """The tick's rates (each the fastest of its rounds: the least disturbed by other tenants),
    its per-call latencies and its memory."""
    n = len(cmds)
    book = OrderBook(tick_ppm=tick)
    p50, p99, p999, floor = latency_percentiles_ns(call_plan(book, cmds))
    ex = funded_exchange(cmds, tick)
    ex_p50, ex_p99, ex_p999, _ = latency_percentiles_ns(call_plan(ex, cmds, BENCH_MARKET))
    if ex.book(BENCH_MARKET).state_hash() != book.state_hash():
        raise IntegrityError("the funded exchange did not end the flow in the bare book's state")
    out = OrderBook(tick_ppm=tick).process(cmds)
    return TickReport(
        tick_ppm=tick, n_events=n, live_orders=len(book), fills=len(out.fills),
        **{name: n / min(times) for name, times in seconds.items()},
        p50_ns=p50, p99_ns=p99, p999_ns=p999, timer_floor_ns=floor,
        bytes_per_order_flow=book.memory_bytes() / max(len(book), 1),
        exchange_p50_ns=ex_p50, exchange_p99_ns=ex_p99, exchange_p999_ns=ex_p999,
    )


def measure(n_events: int = 1_000_000, ticks: Iterable[int] = (1000, 100), rounds: int = 3,
            progress: Callable[[str], None] = lambda msg: None) -> BenchReport:
    """Measure everything on seeded flows of ``n_events`` for each tick size. Every round runs
    every measurement of every tick once, so a change of load between rounds hits all ticks
    alike."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    ticks = list(ticks)
    flows = {t: generate_flow(FlowSpec(n_events=n_events, tick_ppm=t)) for t in ticks}
    runs = {t: _runs(flows[t], t) for t in ticks}
    seconds = {t: {name: [] for name in runs[t]} for t in ticks}
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # the book allocates no Python objects per order; keep the collector out of it
    try:
        for r in range(rounds):
            for t in ticks:
                progress(f"round {r + 1}/{rounds}: tick {t}")
                for name, run_once in runs[t].items():
                    seconds[t][name].append(run_once())
        del runs
        progress("latency and memory")
        reports = [_tick_report(t, flows[t], seconds[t]) for t in ticks]
    finally:
        if was_enabled:
            gc.enable()
    paired = {}
    if len(ticks) >= 2:
        coarse, fine = seconds[ticks[0]], seconds[ticks[-1]]
        paired = {name: float(np.median([f / c for f, c in zip(fine[name], coarse[name])])) - 1.0
                  for name in ("per_call", "batch")}
    return BenchReport(reports, bytes_per_resting_order(100_000),
                       bytes_per_resting_order(1_000_000), paired)


def _m(rate: float) -> str:
    return f"{rate / 1e6:6.2f}M"


def format_table(report: BenchReport) -> str:
    """The report as the plain-text table `perpcore bench` prints."""
    lines = [
        f"perpcore order book on the seeded synthetic flow ({report.machine})",
        "",
        "tick_ppm  events   live  fills  | per-call  ref/call  ratio | batch  batch(reuse)  "
        "ref batch  ratio | p50 ns  p99 ns  p99.9 ns  (timer ns)",
    ]
    for t in report.ticks:
        lines.append(
            f"{t.tick_ppm:8d} {t.n_events:7d} {t.live_orders:6d} {t.fills:6d}  | "
            f"{_m(t.per_call)}  {_m(t.reference_per_call)}  {t.per_call_ratio:5.1f}x | "
            f"{_m(t.batch)}  {_m(t.batch_reused):>12}  {_m(t.reference_batch):>9}  "
            f"{t.batch_ratio:5.1f}x | {t.p50_ns:6d}  {t.p99_ns:6d}  {t.p999_ns:8d}  "
            f"({t.timer_floor_ns})")
    if len(report.ticks) >= 2:
        coarse, fine = report.ticks[0], report.ticks[-1]
        lines.append("")
        lines.append(
            f"finer grid (tick {fine.tick_ppm} vs {coarse.tick_ppm}, median of paired rounds): "
            f"per-call {report.grid_slowdown('per_call'):+.1%}, batch "
            f"{report.grid_slowdown('batch'):+.1%} slower")
    lines.append(
        f"memory: {report.bytes_per_order_100k:.1f} B/order at 100k resting orders, "
        f"{report.bytes_per_order_1m:.1f} B/order at 1M; "
        + ", ".join(f"{t.bytes_per_order_flow:.0f} B/order at the end of the tick-{t.tick_ppm} "
                    f"flow ({t.live_orders} live, fixed level array included)"
                    for t in report.ticks))
    lines += [
        "",
        "exchange end-to-end submit (margin check, lock, match, fills applied to both positions) on "
        "the same flow, against the bare book in the same rounds",
        "tick_ppm | per-call  x book | batch    x book | p50 ns  p99 ns  p99.9 ns",
    ]
    for t in report.ticks:
        lines.append(
            f"{t.tick_ppm:8d} | {_m(t.exchange_per_call)}  {t.exchange_per_call_ratio:5.2f}x | "
            f"{_m(t.exchange_batch)}  {t.exchange_batch_ratio:5.2f}x | {t.exchange_p50_ns:6d}  "
            f"{t.exchange_p99_ns:6d}  {t.exchange_p999_ns:8d}")
    lines.append("rates are events/s, best of the rounds; latencies are per call, net of the timer's "
                 "own cost (shown in brackets)")
    return "\n".join(lines)


def check_budgets(report: BenchReport, budgets_path: str | Path) -> list[str]:
    """Violations of the budgets file (empty when every budget holds)."""
    budgets = tomllib.loads(Path(budgets_path).read_text())
    failures: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    for t in report.ticks:
        for key, label, rate, ratio in (("per_call", "per-call", t.per_call, t.per_call_ratio),
                                        ("batch", "batch", t.batch, t.batch_ratio)):
            b = budgets[key]
            need(ratio >= b["min_ratio_to_reference"],
                 f"tick {t.tick_ppm}: {label} {ratio:.2f}x reference < "
                 f"{b['min_ratio_to_reference']}x")
            need(rate >= b["min_events_per_s"],
                 f"tick {t.tick_ppm}: {label} {rate:.0f} ev/s < {b['min_events_per_s']}")
        b = budgets["latency"]
        need(t.p99_ns <= b["p99_ns_max"], f"tick {t.tick_ppm}: p99 {t.p99_ns} ns > "
                                          f"{b['p99_ns_max']} ns")
        need(t.p999_ns <= b["p999_ns_max"], f"tick {t.tick_ppm}: p99.9 {t.p999_ns} ns > "
                                            f"{b['p999_ns_max']} ns")
        b = budgets["exchange"]
        need(t.exchange_per_call_ratio >= b["min_per_call_ratio_to_book"],
             f"tick {t.tick_ppm}: exchange per-call {t.exchange_per_call_ratio:.2f}x the book < "
             f"{b['min_per_call_ratio_to_book']}x")
        need(t.exchange_batch >= b["min_batch_events_per_s"],
             f"tick {t.tick_ppm}: exchange batch {t.exchange_batch:.0f} ev/s < "
             f"{b['min_batch_events_per_s']}")
        need(t.exchange_p99_ns <= b["p99_ns_max"], f"tick {t.tick_ppm}: exchange p99 "
                                                   f"{t.exchange_p99_ns} ns > {b['p99_ns_max']} ns")
    b = budgets["memory"]
    need(report.bytes_per_order_100k <= b["bytes_per_order_max"],
         f"memory {report.bytes_per_order_100k:.1f} B/order > {b['bytes_per_order_max']}")
    if len(report.ticks) >= 2:
        b = budgets["grid"]
        coarse, fine = report.ticks[0], report.ticks[-1]
        for name in ("per_call", "batch"):
            slow = report.grid_slowdown(name)
            need(slow <= b["fine_tick_max_slowdown"],
                 f"{name} at tick {fine.tick_ppm} is {slow:.1%} slower than at tick "
                 f"{coarse.tick_ppm} (> {b['fine_tick_max_slowdown']:.0%})")
    return failures
