"""pytest-benchmark suite of the liquidation engine on the native exchange: the scan's cost per
block with 10,000 and 100,000 open positions when the mark barely moved, next to a naive full scan
(every position's margin checked, what the index avoids) measured in the same run, and a cascade.

Positions are opened in pairs through ``Exchange.process`` at spread-out prices, so their
liquidation prices spread over the grid. A scan block is ``set_mark`` one tick away and
``liquidate(now)``: nothing is due, so it measures the index refresh and peek. The cascade shocks
the mark by 0.25 with a thin book (bids of well-margined shorts) and a 200 USDC insurance fund:
5,000 longs are due in one block; the book takes a few (the fund paying their gap to bankruptcy),
those whose deficit the rest of the fund cannot cover are deleveraged, the others wait for the book. Each case records per-block time (p50/p99 where it has many rounds) in ``extra_info``.
"""

import numpy as np
import pytest

from perpcore import COMMAND_DTYPE, Exchange, Op, RiskTier, Side

MARKET = "M"
USDC = 1_000_000


def _market(n_positions):
    """An exchange with n_positions open positions (half long, half short) in one market."""
    ex = Exchange()
    ex.add_market(MARKET, tick_ppm=1000, risk=RiskTier(taker_fee_ppm=0, maker_fee_ppm=0),
                  mark_ppm=500_000)
    rng = np.random.default_rng(20261123)
    for account in range(n_positions):
        ex.deposit(account, 1000 * USDC)
    pairs = n_positions // 2
    cmds = np.zeros(2 * pairs, COMMAND_DTYPE)
    price = rng.integers(300, 700, pairs) * 1000
    size = rng.integers(100, 2000, pairs)
    cmds["op"] = Op.PLACE
    cmds["order_id"] = np.arange(1, 2 * pairs + 1)
    cmds["account"] = np.arange(2 * pairs)
    cmds["side"][0::2] = Side.SELL
    cmds["side"][1::2] = Side.BUY
    cmds["price_ppm"][0::2] = price
    cmds["price_ppm"][1::2] = price
    cmds["size"][0::2] = size
    cmds["size"][1::2] = size
    out = ex.process(MARKET, cmds)
    assert (out.results["code"] == 0).all()
    assert ex.open_interest(MARKET) == int(size.sum())
    ex.liquidate(0)  # builds the index: every position is new
    return ex


@pytest.fixture(scope="module", params=[10_000, 100_000], ids=lambda n: f"{n}pos")
def market(request):
    return request.param, _market(request.param)


def test_scan_block_when_the_mark_barely_moves(benchmark, market):
    n, ex = market
    marks = iter(500_000 + 1000 * (i % 2) for i in range(10**9))

    def block():
        ex.set_mark(MARKET, next(marks))
        return ex.liquidate(1)

    result = benchmark.pedantic(block, rounds=2000, iterations=1, warmup_rounds=10)
    assert result.candidates == 0 and result.events == ()
    data = np.sort(np.asarray(benchmark.stats.stats.data))
    benchmark.extra_info["positions"] = n
    benchmark.extra_info["p50_us"] = float(data[len(data) // 2] * 1e6)
    benchmark.extra_info["p99_us"] = float(data[int(len(data) * 0.99)] * 1e6)


def test_naive_full_scan_for_comparison(benchmark, market):
    """What a block would cost checking every position's margin (the yardstick, same run)."""
    n, ex = market
    margin = ex.margin

    def full_scan():
        return [a for a in range(n) if margin(a, MARKET).liquidatable]

    due = benchmark.pedantic(full_scan, rounds=3, iterations=1)
    assert due == []
    benchmark.extra_info["positions"] = n


def test_cascade(benchmark):
    """A 0.25 drop with a thin bid side: every long near its liquidation price is due at once."""
    def setup():
        ex = _market(10_000)
        ex.deposit(10**6, 10**6 * USDC)
        ex.fund_insurance(10**6, MARKET, 200 * USDC)
        for i in range(50):  # bids of shorts (even accounts), which the drop leaves well margined
            ex.submit(MARKET, 10**9 + i, 10_000 - 2 - 2 * i, Side.BUY, 250_000 - 1000 * i, 200)
        ex.set_mark(MARKET, 250_000)
        return (ex,), {}

    blocks = []
    benchmark.pedantic(lambda ex: blocks.append((ex, ex.liquidate(1))), setup=setup, rounds=3,
                       iterations=1)
    ex, block = blocks[-1]
    assert block.candidates > 100 and block.liquidated and block.deleveraged and block.deferred
    assert any(e.kind == "liquidation_filled" for e in block.events)
    assert ex.bad_debt(MARKET) == 0
    ex.check_integrity()
    benchmark.extra_info["candidates"] = block.candidates
    benchmark.extra_info["liquidated"] = len(block.liquidated)
    benchmark.extra_info["deleveraged"] = len(block.deleveraged)
    benchmark.extra_info["deferred"] = len(block.deferred)
