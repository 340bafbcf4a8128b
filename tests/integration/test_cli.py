"""`perpcore demo` and `perpcore bench` as a user runs them."""

import re
import subprocess
import sys

import pytest

from perpcore import Op, OrderBook
from perpcore.bench import (
    BENCH_MARKET, BenchReport, TickReport, call_plan, check_budgets, format_table, funded_exchange,
    measure, run_calls,
)
from perpcore.cli import main
from perpcore.workload import FlowSpec, generate_flow


DEMO_EVENTS = "20000"


def test_demo_prints_rate_fills_top_of_book_depth_and_a_reproducible_hash(capsys):
    assert main(["demo", "--events", DEMO_EVENTS]) == 0
    first = capsys.readouterr().out
    assert re.search(r"[\d.]+M events/s", first)
    assert re.search(r"fills [\d,]+, volume [\d,]+ contracts", first)
    assert re.search(r"best bid 0\.\d{4}, best ask 0\.\d{4}", first)
    assert "bid orders" in first and "ask orders" in first
    digest = re.search(r"state hash ([0-9a-f]{64})", first).group(1)
    assert re.search(r"exchange session: 200 accounts", first)
    assert re.search(r"open interest at resolution [\d,]+ contracts, after settlement 0", first)
    assert re.search(r"funding: \d+ periods", first)
    assert re.search(r"funding paid [\d,.]+ USDC, received [\d,.]+ USDC", first)
    assert re.search(r"ACTIVE -> RESOLVING at block [\d,]+ .* -> RESOLVED -> SETTLED", first)
    assert re.search(r"settlement paid [\d,.]+ USDC to \d+ accounts", first)
    assert re.search(r"fees collected [\d,.]+ USDC, insurance fund [\d,.]+ USDC", first)
    assert "all balances available: True; conservation OK" in first
    session = first[first.index("exchange session"):]
    assert main(["demo", "--events", DEMO_EVENTS]) == 0
    second = capsys.readouterr().out
    assert re.search(r"state hash ([0-9a-f]{64})", second).group(1) == digest
    # the session is seeded: the same run prints the same report (timings aside)
    assert _untimed(second[second.index("exchange session"):]) == _untimed(session)


def _untimed(text):
    return re.sub(r"session ran in .*", "", text)


def test_console_entry_point_answers_help():
    out = subprocess.run([sys.executable, "-m", "perpcore.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "demo" in out and "bench" in out


def _tick(tick_ppm, per_call, ref_call, batch, ref_batch, p99=800, ex_call=None,
          ex_batch=3e6, ex_p99=1500):
    return TickReport(tick_ppm=tick_ppm, n_events=1000, live_orders=10, fills=5,
                      per_call=per_call, batch=batch, batch_reused=batch,
                      reference_per_call=ref_call, reference_batch=ref_batch,
                      p50_ns=300, p99_ns=p99, p999_ns=2 * p99, timer_floor_ns=50,
                      bytes_per_order_flow=50.0,
                      exchange_per_call=per_call / 2 if ex_call is None else ex_call,
                      exchange_batch=ex_batch, exchange_p50_ns=600, exchange_p99_ns=ex_p99,
                      exchange_p999_ns=2 * ex_p99)


def test_budget_check_passes_a_report_within_budget_and_names_each_miss(tmp_path):
    budgets = tmp_path / "budgets.toml"
    budgets.write_text(
        "[per_call]\nmin_ratio_to_reference = 4.0\nmin_events_per_s = 1000\n"
        "[batch]\nmin_ratio_to_reference = 20.0\nmin_events_per_s = 1000\n"
        "[latency]\np99_ns_max = 1000\np999_ns_max = 5000\n"
        "[memory]\nbytes_per_order_max = 64\n"
        "[grid]\nfine_tick_max_slowdown = 0.10\n"
        "[exchange]\nmin_per_call_ratio_to_book = 0.5\nmin_batch_events_per_s = 2000000\n"
        "p99_ns_max = 2000\n")
    good = BenchReport([_tick(1000, 4e6, 1e6, 2e7, 1e6), _tick(100, 3.9e6, 0.9e6, 1.9e7, 0.9e6)],
                       bytes_per_order_100k=60.0, bytes_per_order_1m=50.0)
    assert check_budgets(good, budgets) == []
    assert "per-call" in format_table(good) and "exchange end-to-end submit" in format_table(good)
    bad = BenchReport([_tick(1000, 4e6, 1e6, 2e7, 1e6, ex_call=1.6e6, ex_batch=1e6),
                       _tick(100, 2e6, 1e6, 1e7, 1e6, p99=3000, ex_p99=2500)],
                      bytes_per_order_100k=70.0, bytes_per_order_1m=50.0)
    misses = check_budgets(bad, budgets)
    assert any("per-call 2.00x" in m for m in misses)
    assert any("batch 10.00x" in m for m in misses)
    assert any("p99 3000" in m for m in misses)
    assert any("memory 70.0" in m for m in misses)
    assert any("slower than at tick 1000" in m for m in misses)
    assert any("tick 1000: exchange per-call 0.40x the book < 0.5x" in m for m in misses)
    assert any("tick 1000: exchange batch 1000000 ev/s < 2000000" in m for m in misses)
    assert any("tick 100: exchange p99 2500 ns > 2000 ns" in m for m in misses)
    assert not any("tick 100: exchange per-call" in m for m in misses)


@pytest.mark.slow
def test_measure_runs_every_kernel_on_a_small_flow():
    report = measure(n_events=20_000, ticks=(1000,), rounds=1)
    t = report.by_tick(1000)
    assert t.per_call > 0 and t.batch > 0 and t.reference_per_call > 0
    assert 0 < t.p50_ns <= t.p99_ns <= t.p999_ns
    assert t.fills > 0 and t.live_orders > 0
    assert t.exchange_per_call > 0 and t.exchange_batch > 0
    assert 0 < t.exchange_p50_ns <= t.exchange_p99_ns <= t.exchange_p999_ns


def test_the_exchange_call_plan_ends_where_the_batch_and_the_bare_book_end():
    cmds = generate_flow(FlowSpec(n_events=20_000))
    calls, batch = funded_exchange(cmds), funded_exchange(cmds)

    run_calls(call_plan(calls, cmds, BENCH_MARKET))
    batch.process(BENCH_MARKET, cmds)
    book = OrderBook(tick_ppm=1000)
    book.process(cmds)

    assert calls.book(BENCH_MARKET).state_hash() == batch.book(BENCH_MARKET).state_hash() \
        == book.state_hash()
    assert calls.open_interest(BENCH_MARKET) == batch.open_interest(BENCH_MARKET) > 0
    calls.check_integrity()


def test_an_exchange_call_plan_refuses_a_flow_with_amends():
    cmds = generate_flow(FlowSpec(n_events=100)).copy()
    cmds["op"][-1] = Op.AMEND

    with pytest.raises(ValueError, match="no amend"):
        call_plan(funded_exchange(cmds), cmds, BENCH_MARKET)
    assert len(call_plan(OrderBook(), cmds)) == len(cmds)
