"""Seeded synthetic order flow: the workload the benchmarks, `perpcore bench` and `perpcore demo` replay.

Owns the generator of a realistic book flow (about 60 % passive limit adds near the touch, 30 %
cancels of live orders, 10 % marketable orders, the live book held around a target size) as a
COMMAND_DTYPE array, and its conversion to per-call argument rows. The flow is a pure function of
its parameters: the generator drives its own order book to know the touch and the live orders, and
draws every random number from one seeded numpy generator. It never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from perpcore._book import OrderBook
from perpcore.book_types import COMMAND_DTYPE, PRICE_SCALE_PPM, Op, Side, TimeInForce

__all__ = ["FlowSpec", "generate_flow", "call_rows"]


@dataclass(frozen=True)
class FlowSpec:
    """Parameters of a synthetic flow. Equal specs give byte-identical flows."""

    n_events: int = 1_000_000
    tick_ppm: int = 1000
    target_live: int = 5000
    n_accounts: int = 500
    seed: int = 7
    p_add: float = 0.60
    p_cancel: float = 0.30
    mean_offset_ppm: int = 8_000  # mean distance of passive adds behind the touch
    max_passive_size: int = 20


def _round_to_tick(price: int, tick: int) -> int:
    return min(max(price // tick * tick, tick), PRICE_SCALE_PPM - tick)


@lru_cache(maxsize=8)
def generate_flow(spec: FlowSpec = FlowSpec()) -> np.ndarray:
    """The flow as a read-only COMMAND_DTYPE array (cached per spec)."""
    rng = np.random.default_rng(spec.seed)
    n = spec.n_events
    tick = spec.tick_ppm
    cols = {name: [0] * n for name in ("op", "side", "tif", "order_id", "account", "price_ppm", "size")}
    col_op, col_side, col_tif = cols["op"], cols["side"], cols["tif"]
    col_id, col_acct, col_price, col_size = (cols["order_id"], cols["account"], cols["price_ppm"],
                                             cols["size"])
    book = OrderBook(tick_ppm=tick)
    place, cancel = book.place, book.cancel
    live: list[int] = []  # live order ids; position kept in `where` for O(1) removal
    where: dict[int, int] = {}

    def forget(order_id: int) -> None:
        i = where.pop(order_id)
        last = live.pop()
        if last != order_id:
            live[i] = last
            where[last] = i

    # all random draws up front, in fixed order
    u_kind = rng.random(n).tolist()
    u_side = rng.integers(0, 2, n).tolist()
    u_acct = rng.integers(0, spec.n_accounts, n).tolist()
    u_offset = rng.exponential(spec.mean_offset_ppm, n).astype(np.int64).tolist()
    u_inside = rng.random(n).tolist()
    u_size = rng.integers(1, spec.max_passive_size + 1, n).tolist()
    u_pick = rng.random(n).tolist()
    u_take = rng.integers(0, 4, n).tolist()
    u_tif = rng.random(n).tolist()

    next_id = 1
    mid = PRICE_SCALE_PPM // 2
    avg_size = (spec.max_passive_size + 1) / 2
    for i in range(n):
        side = u_side[i]
        bid, ask = book.best_bid(), book.best_ask()
        kind = u_kind[i]
        warming = len(live) < spec.target_live and i < spec.target_live * 2
        if warming or kind < spec.p_add or not live:
            # passive add behind (or, sometimes, inside) the touch of its own side
            ref_bid = bid if bid is not None else (ask - tick if ask is not None else mid - tick)
            ref_ask = ask if ask is not None else (bid + tick if bid is not None else mid + tick)
            if u_inside[i] < 0.15 and ref_ask - ref_bid > tick:
                price = _round_to_tick(ref_bid + int(u_pick[i] * (ref_ask - ref_bid)), tick)
                price = min(max(price, ref_bid + tick), ref_ask - tick)
            elif side == Side.BUY:
                price = _round_to_tick(ref_bid - int(u_offset[i]), tick)
            else:
                price = _round_to_tick(ref_ask + int(u_offset[i]) + tick - 1, tick)
            if side == Side.BUY and ask is not None and price >= ask:
                price = ask - tick
            if side == Side.SELL and bid is not None and price <= bid:
                price = bid + tick
            if not tick <= price < PRICE_SCALE_PPM:
                side = Side.SELL if side == Side.BUY else Side.BUY
                price = _round_to_tick(mid, tick)
            order_id, tif, size = next_id, TimeInForce.GTC, u_size[i]
            next_id += 1
            res = place(order_id, u_acct[i], side, price, size, tif)
        elif kind < spec.p_add + spec.p_cancel:
            order_id = live[int(u_pick[i] * len(live))]
            res = cancel(order_id)
            col_op[i], col_id[i] = Op.CANCEL, order_id
        else:
            # marketable: sweep a few orders at the touch; size follows the book size so that
            # the live book stays near its target
            pressure = min(max(len(live) / spec.target_live, 0.5), 2.0)
            size = max(1, int(avg_size * (1 + int(u_take[i])) * pressure * 1.5))
            opposite = ask if side == Side.BUY else bid
            if opposite is None:
                side = Side.SELL if side == Side.BUY else Side.BUY
                opposite = ask if side == Side.BUY else bid
            if u_tif[i] < 0.7 and opposite is not None:
                step = int(u_take[i]) * tick
                limit = opposite + step if side == Side.BUY else opposite - step
                tif, price = TimeInForce.IOC, _round_to_tick(limit, tick)
            else:
                tif, price = TimeInForce.MARKET, 0
            order_id = next_id
            next_id += 1
            res = place(order_id, u_acct[i], side, price, size, tif)
        if col_op[i] == Op.PLACE:
            col_id[i], col_acct[i], col_side[i], col_tif[i], col_price[i], col_size[i] = (
                order_id, u_acct[i], side, tif, price, size)
        for f in res.fills:
            if f.maker_remaining == 0:
                forget(f.maker_order_id)
        for x in res.cancelled:
            forget(x.order_id)
        if res.resting:
            where[res.order_id] = len(live)
            live.append(res.order_id)
        if bid is not None and ask is not None:
            mid = (bid + ask) // 2
    cmds = np.zeros(n, COMMAND_DTYPE)
    for name, values in cols.items():
        cmds[name] = values
    cmds.flags.writeable = False
    return cmds


def call_rows(cmds: np.ndarray) -> list[tuple]:
    """The flow as per-call rows: ``(op, order_id, account, side, price_ppm, size, tif)`` of ints."""
    return list(zip(cmds["op"].tolist(), cmds["order_id"].tolist(), cmds["account"].tolist(),
                    cmds["side"].tolist(), cmds["price_ppm"].tolist(), cmds["size"].tolist(),
                    cmds["tif"].tolist()))
