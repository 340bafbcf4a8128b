"""The `perpcore` command: `demo` replays a seeded market session, `bench` measures the book and the
exchange's end-to-end submit.

`demo` has two parts: the order book alone on the synthetic flow (throughput, fills, depth), then
an exchange session (accounts, margin, positions, fees, funding, the market's lifecycle to
settlement, conservation).

Owns argument parsing and what the commands print; the work itself lives in the library
(workload, bench). It needs no server and no configuration: every default is embedded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from perpcore import __version__
from perpcore._book import DEBUG_BUILD, OrderBook
from perpcore.book_types import PRICE_SCALE_PPM
from perpcore.codes import Code
from perpcore.workload import FlowSpec, generate_flow


def _pct(price_ppm: int | None) -> str:
    return "-" if price_ppm is None else f"{price_ppm / PRICE_SCALE_PPM:.4f}"


def demo(args: argparse.Namespace) -> int:
    spec = FlowSpec(n_events=args.events, tick_ppm=args.tick_ppm, seed=args.seed)
    print(f"perpcore {__version__} demo: one market, tick {spec.tick_ppm} ppm, seed {spec.seed}"
          f"{' (debug build)' if DEBUG_BUILD else ''}")
    t0 = time.perf_counter()
    cmds = generate_flow(spec)
    print(f"generated {len(cmds):,} events in {time.perf_counter() - t0:.1f}s "
          f"(about 60% passive adds, 30% cancels, 10% marketable)")
    book = OrderBook(tick_ppm=spec.tick_ppm)
    t0 = time.perf_counter()
    out = book.process(cmds)
    elapsed = time.perf_counter() - t0
    fills = out.fills
    codes, counts = np.unique(out.results["code"], return_counts=True)
    volume = int(fills["size"].sum())
    notional_qq = int((fills["size"] * fills["price_ppm"]).sum())
    print(f"replayed in {elapsed * 1e3:.1f} ms: {len(cmds) / elapsed / 1e6:.2f}M events/s "
          f"(batch API, one C loop)")
    print(f"fills {len(fills):,}, volume {volume:,} contracts, notional "
          f"{notional_qq / 1e6:,.2f} USDC, cancels {len(out.cancels):,}")
    print("results: " + ", ".join(f"{Code(int(c)).name} {int(k):,}" for c, k in zip(codes, counts)))
    if len(fills):
        vwap = notional_qq / volume / PRICE_SCALE_PPM
        print(f"last trade {_pct(int(fills['price_ppm'][-1]))}, VWAP {vwap:.4f}")
    print(f"resting orders {len(book):,}, best bid {_pct(book.best_bid())}, "
          f"best ask {_pct(book.best_ask())}")
    depth = book.depth(args.levels)
    print()
    print(f"{'bid orders':>10} {'bid size':>10} {'bid':>8} | {'ask':<8} {'ask size':<10} "
          f"{'ask orders':<10}")
    for i in range(max(len(depth.bid_price), len(depth.ask_price))):
        left = (f"{depth.bid_orders[i]:>10} {depth.bid_size[i]:>10} "
                f"{_pct(int(depth.bid_price[i])):>8}" if i < len(depth.bid_price)
                else " " * 30)
        right = (f"{_pct(int(depth.ask_price[i])):<8} {depth.ask_size[i]:<10} "
                 f"{depth.ask_orders[i]:<10}" if i < len(depth.ask_price) else "")
        print(f"{left} | {right}")
    print()
    impact = 1_000 * 1_000_000  # 1,000 USDC in quote quantums
    bid, ask = book.impact_price(0, impact), book.impact_price(1, impact)
    print(f"impact prices for 1,000 USDC: bid {_pct(bid.price_ppm if bid.enough_depth else None)}, "
          f"ask {_pct(ask.price_ppm if ask.enough_depth else None)}")
    book.check_integrity()
    print(f"integrity checked; state hash {book.state_hash()}")
    print()
    from perpcore.session import format_session, run_session

    t0 = time.perf_counter()
    session = run_session(n_accounts=args.accounts, n_steps=args.steps, seed=args.seed)
    elapsed = time.perf_counter() - t0
    for line in format_session(session):
        print(line)
    print(f"session ran in {elapsed:.2f}s ({args.steps / elapsed:,.0f} blocks/s through the "
          f"exchange); exchange state checked")
    return 0


def bench(args: argparse.Namespace) -> int:
    from perpcore.bench import check_budgets, format_table, measure

    ticks = tuple(args.tick_ppm) if args.tick_ppm else (1000, 100)
    report = measure(n_events=args.events, ticks=ticks, rounds=args.rounds,
                     progress=lambda msg: print(f"  measuring {msg} ...", file=sys.stderr))
    print(format_table(report))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report.as_dict(), fh, indent=2)
    if args.check:
        failures = check_budgets(report, args.check)
        if failures:
            print(f"\nbudgets in {args.check}: {len(failures)} missed")
            for f in failures:
                print(f"  MISSED {f}")
            return 1
        print(f"\nbudgets in {args.check}: all held")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perpcore",
        description="Trading core for perpetual futures on event probabilities.")
    parser.add_argument("--version", action="version", version=f"perpcore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="replay a seeded synthetic market session and report it")
    p.add_argument("--events", type=int, default=200_000, help="events to replay (200000)")
    p.add_argument("--tick-ppm", type=int, default=1000, help="tick size in ppm (1000)")
    p.add_argument("--seed", type=int, default=7, help="flow seed (7)")
    p.add_argument("--levels", type=int, default=10, help="depth levels to print (10)")
    p.add_argument("--accounts", type=int, default=200, help="exchange session accounts (200)")
    p.add_argument("--steps", type=int, default=20_000, help="exchange session steps (20000)")
    p.set_defaults(func=demo)
    p = sub.add_parser("bench", help="measure the book against the pure-Python reference, and the "
                                     "exchange's submit against the bare book")
    p.add_argument("--events", type=int, default=1_000_000, help="events per flow (1000000)")
    p.add_argument("--tick-ppm", type=int, action="append",
                   help="tick size(s) in ppm; repeatable (1000 and 100)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per measurement, best kept (3)")
    p.add_argument("--json", help="also write the report as JSON to this path")
    p.add_argument("--check", metavar="BUDGETS_TOML",
                   help="check the report against a budgets file; exit 1 if one is missed")
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
