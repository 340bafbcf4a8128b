"""The liquidation engine: which positions are liquidated in a block, how much of each, at what
price, who pays the difference, and auto-deleveraging when nobody can.

One ``Liquidator`` serves one exchange (native ``perpcore.Exchange`` or
``perpcore.reference.ReferenceExchange``; ``exchange.liquidate(now)`` runs a block) and drives it
only through the exchange's public views and its liquidation hooks (``_liquidation_*``), each of
which is one atomic call of the exchange. It owns:

- **the scan**: per market, the liquidation price of every position
  (``perpcore.liquidation_price_ppm``: a long is liquidatable at marks at or below it, a short at
  or above) in two heaps, refreshed only for positions the exchange reports changed (and for all
  when the funding index moved), so a block where nothing traded and the mark barely moved costs
  a heap peek per market, not a loop over positions. Candidates are confirmed with the exchange's
  own exact predicate (equity <= maintenance > 0, funding included) and taken most distressed first
  (equity / maintenance ascending, then account id).
- **execution**: the account's orders in the market are cancelled, the position turns LIQUIDATING,
  and a slice closes (at most ``liquidation_portion_ppm`` of its notional at the mark, at least
  ``liquidation_min_notional_qq``, whole below that, within the account's block budget
  ``liquidation_max_notional_qq`` across markets) through the book, one price level at a time, at
  prices no worse than the fillable price (``fillable_price_ppm``, the whole position's). Each
  level's fill is weighed against the bankruptcy price of those contracts (``bankruptcy_price_ppm``,
  from the state before the fill): a fill below the bankruptcy value is topped up from the market's
  insurance fund first (at most ``insurance_max_draw_qq`` per block; a level is cut to what the
  cap allows, and the rest waits for the next block); a fill above it pays a liquidation fee of at
  most ``liquidation_fee_ppm`` of its notional (and never more than the surplus) into the fund.
- **ADL**: a position left with negative equity that the fund's whole balance cannot cover is
  closed against opposite positions at its bankruptcy price (clamped to [0, 1e6]), most profitable
  and most levered first: score = (unrealized PnL / |open notional|) × (notional at the mark /
  equity), highest first, ties by account id; only counterparties with positive equity, and each
  takes over only as many lots as leave it solvent (its position margin covers the loss it
  realises, and its equity stays non-negative): like dYdX skipping a counterparty whose update
  would fail, so ADL never turns a solvent account's position into bad debt. What nobody can take
  stays open.
- **final deleveraging** while a market resolves: its book takes reduce-only orders only, so no
  new liquidity will come for a liquidatable position the book could not close. Its whole
  remainder is deleveraged at once against the same ranking: at the mark when its equity is not
  negative; when it is, the fund tops it up to zero first if it can (within the block's draw cap,
  then at the mark), else at the bankruptcy price. Its loss is settled while it is still within
  reach, rather than left to the terminal value as bad debt.

Liquidation runs in Active and Resolving markets and defers (LiquidationDeferred, code 4001) while
a market's mark is stale. Every block's events come back in a ``LiquidationBlock``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from fractions import Fraction

from perpcore._margin import (
    apply_fill, bankruptcy_price_ppm, fillable_price_ppm, liquidation_price_ppm, unrealized_pnl_qq,
)
from perpcore.book_types import PRICE_SCALE_PPM, Side
from perpcore.codes import Code
from perpcore.events import (
    DeleveragingFilled,
    Event,
    InsuranceCredited,
    InsuranceDrawn,
    LiquidationDeferred,
    LiquidationFilled,
    LiquidationFinished,
    LiquidationStarted,
    PositionStatus,
)
from perpcore.lifecycle import MarketPhase

__all__ = ["Liquidator", "LiquidationBlock"]

ONE = PRICE_SCALE_PPM
_LIQUIDATING_PHASES = (MarketPhase.ACTIVE, MarketPhase.RESOLVING)


@dataclass(frozen=True, slots=True)
class LiquidationBlock:
    """What one block of the liquidation engine did: its events in order, and per market the
    accounts liquidated (at least one contract closed or deleveraged), deferred and deleveraged."""

    events: tuple[Event, ...]
    liquidated: tuple[tuple[str, int], ...]
    deferred: tuple[tuple[str, int], ...]
    deleveraged: tuple[tuple[str, int], ...]
    candidates: int  # positions the scan confirmed liquidatable


@dataclass(slots=True)
class _Index:
    """One market's liquidation prices: longs in a max-heap, shorts in a min-heap; an entry is
    current only while ``price`` still maps its account to it (stale ones are skipped and, when
    they pile up, compacted away)."""

    price: dict[int, int] = field(default_factory=dict)  # account -> signed liquidation price
    longs: list[tuple[int, int]] = field(default_factory=list)  # (-price, account)
    shorts: list[tuple[int, int]] = field(default_factory=list)  # (price, account)
    funding_index: int | None = None

    def put(self, account: int, size: int, price: int) -> None:
        if size == 0:
            self.price.pop(account, None)
            return
        key = price if size > 0 else -price  # sign carries the side: distinct for long/short
        if self.price.get(account) == key:
            return
        self.price[account] = key
        if size > 0:
            heapq.heappush(self.longs, (-price, account))
        else:
            heapq.heappush(self.shorts, (price, account))

    def pop_due(self, mark: int) -> list[int]:
        """Accounts whose liquidation price the mark has reached (removed from the index)."""
        due = []
        while self.longs and -self.longs[0][0] >= mark:
            neg, account = heapq.heappop(self.longs)
            if self.price.get(account) == -neg:
                del self.price[account]
                due.append(account)
        while self.shorts and self.shorts[0][0] <= mark:
            price, account = heapq.heappop(self.shorts)
            if self.price.get(account) == -price:
                del self.price[account]
                due.append(account)
        if len(self.longs) + len(self.shorts) > 2 * len(self.price) + 64:
            self.longs = [(-k, a) for a, k in self.price.items() if k >= 0]
            self.shorts = [(-k, a) for a, k in self.price.items() if k < 0]
            heapq.heapify(self.longs)
            heapq.heapify(self.shorts)
        return due


def _most_lots(limit: int, lot: int, fits) -> int:
    """The largest whole number of lots, at most ``limit`` contracts, for which ``fits(contracts)``
    holds, by bisection: ``fits`` must hold for 0 and, once false, stay false for larger sizes."""
    lo, hi = 0, limit // lot  # in lots: fits(lo lots) holds
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid * lot):
            lo = mid
        else:
            hi = mid - 1
    return lo * lot


@dataclass(slots=True)
class _Block:
    events: list[Event] = field(default_factory=list)
    liquidated: list[tuple[str, int]] = field(default_factory=list)
    deferred: list[tuple[str, int]] = field(default_factory=list)
    deleveraged: list[tuple[str, int]] = field(default_factory=list)
    notional: dict[int, int] = field(default_factory=dict)  # account -> notional closed
    drawn: dict[str, int] = field(default_factory=dict)  # market -> insurance paid out
    adl_queue: dict[tuple[str, bool], list[int]] = field(default_factory=dict)  # (market, longs)
    # (market, counterparty) -> the price at which it could not take another lot this block
    adl_refused: dict[tuple[str, int], int] = field(default_factory=dict)
    candidates: int = 0


class Liquidator:
    """The liquidation engine of one exchange (see the module docstring)."""

    def __init__(self, exchange) -> None:
        self.ex = exchange
        self._index: dict[str, _Index] = {}

    # ------------------------------------------------------------------ the scan

    def refresh(self, market: str) -> _Index:
        """Bring the market's index up to date with what changed since the last refresh."""
        ex = self.ex
        idx = self._index.get(market)
        if idx is None:
            idx = self._index[market] = _Index()
        changed = ex._liquidation_changes(market)
        funding_index = ex.funding_index(market)
        if funding_index != idx.funding_index:  # every position's unsettled funding moved
            idx.funding_index = funding_index
            changed = list(dict.fromkeys([*idx.price, *changed]))
        mmf = ex.risk(market).mmf_ppm
        for account in changed:
            self._put(idx, market, account, mmf)
        return idx

    def _put(self, idx: _Index, market: str, account: int, mmf: int) -> None:
        p = self.ex.position(account, market)
        if p.size == 0:
            idx.put(account, 0, 0)
            return
        v = self.ex.margin(account, market)
        collateral = v.collateral_qq + v.unsettled_funding_qq
        idx.put(account, p.size,
                liquidation_price_ppm(p.size, p.open_notional_qq, collateral, mmf))

    def candidates(self, market: str) -> list[int]:
        """The market's liquidatable accounts at its mark now, most distressed first."""
        idx = self.refresh(market)
        due = idx.pop_due(self.ex.mark(market))
        mmf = self.ex.risk(market).mmf_ppm
        confirmed = []
        for account in due:
            v = self.ex.margin(account, market)
            if v.liquidatable:
                confirmed.append((Fraction(v.equity_qq, v.maintenance_requirement_qq), account))
            self._put(idx, market, account, mmf)  # back in the index whatever happens next
        confirmed.sort()
        return [account for _, account in confirmed]

    # ------------------------------------------------------------------ a block

    def run_block(self, now: int) -> LiquidationBlock:
        block = _Block()
        for market in self.ex.markets:
            if self.ex.phase(market) not in _LIQUIDATING_PHASES:
                continue
            due = self.candidates(market)
            block.candidates += len(due)
            if due and self.ex.mark_stale(market, now):
                for account in due:
                    block.events.append(LiquidationDeferred(
                        market, account, Code.LIQUIDATION_DEFERRED_STALE_MARK))
                    block.deferred.append((market, account))
                continue
            for account in due:
                self._liquidate(block, market, account)
            self.refresh(market)  # what the block itself changed
        return LiquidationBlock(tuple(block.events), tuple(block.liquidated),
                                tuple(block.deferred), tuple(block.deleveraged), block.candidates)

    def _liquidate(self, block: _Block, market: str, account: int) -> None:
        ex, events = self.ex, block.events
        risk = ex.risk(market)
        v = ex.margin(account, market)
        if not v.liquidatable:  # an earlier liquidation this block moved it (open interest, ADL)
            return
        events.extend(ex._liquidation_cancel_orders(market, account))
        events.extend(ex._liquidation_set_status(market, account, True))
        pos = ex.position(account, market)
        v = ex.margin(account, market)
        size, mark = pos.size, ex.mark(market)
        book = ex.book(market)
        notional = abs(size) * mark
        budget = risk.liquidation_max_notional_qq - block.notional.get(account, 0)
        cap = min(max(min(risk.liquidation_min_notional_qq, notional),
                      notional * risk.liquidation_portion_ppm // ONE), budget)
        if notional <= cap:
            close = abs(size)
        else:
            close = min(abs(size), max(cap // mark // book.lot * book.lot, book.lot))
        fillable = fillable_price_ppm(size, mark, v.equity_qq, v.maintenance_requirement_qq,
                                      risk.bankruptcy_adjustment_ppm, risk.spread_to_mmr_ppm,
                                      book.tick_ppm)
        events.append(LiquidationStarted(
            market, account, size, mark, v.equity_qq, v.maintenance_requirement_qq, close,
            bankruptcy_price_ppm(size, close, mark, v.equity_qq, risk.mmf_ppm), fillable))
        code = Code.OK
        closed = deleveraged = 0
        if budget <= 0:
            code = Code.LIQUIDATION_DEFERRED_NOTIONAL_CAP
        else:
            closed, code = self._close_through_book(block, market, account, close, fillable)
            block.notional[account] = block.notional.get(account, 0) + closed * mark
        pos = ex.position(account, market)
        final = code != Code.OK and ex.phase(market) is MarketPhase.RESOLVING
        if pos.size and (final or ex.margin(account, market).equity_qq < 0):
            deleveraged = self._deleverage(block, market, account, final)
        events.extend(ex._liquidation_set_status(market, account, False))
        pos = ex.position(account, market)
        if closed or deleveraged:
            block.liquidated.append((market, account))
        elif code != Code.OK:
            block.deferred.append((market, account))
            events.append(LiquidationDeferred(market, account, code))
        events.append(LiquidationFinished(
            market, account, closed, deleveraged, abs(pos.size),
            PositionStatus.OPEN if pos.size else PositionStatus.CLOSED, code))

    def _close_through_book(self, block: _Block, market: str, account: int, close: int,
                            fillable: int) -> tuple[int, int]:
        """Close up to ``close`` contracts level by level at prices no worse than ``fillable``;
        returns (contracts closed, 0 or the 4xxx reason it stopped early)."""
        ex, events = self.ex, block.events
        risk, book, mark = ex.risk(market), ex.book(market), ex.mark(market)
        long = ex.position(account, market).size > 0
        side = Side.SELL if long else Side.BUY
        closed = 0
        code = Code.LIQUIDATION_NOTHING_FILLED
        while closed < close:
            depth = book.depth(1)
            prices, sizes = (depth.bid_price, depth.bid_size) if long else (depth.ask_price,
                                                                          depth.ask_size)
            if not len(prices) or (prices[0] < fillable if long else prices[0] > fillable):
                break
            price, level = int(prices[0]), int(sizes[0])
            want = min(close - closed, level) // book.lot * book.lot
            if want < book.min_size:
                break
            pos, v = ex.position(account, market), ex.margin(account, market)

            def delta(q: int) -> int:  # received above (+) / below (-) the bankruptcy value
                bp = bankruptcy_price_ppm(pos.size, q, mark, v.equity_qq, risk.mmf_ppm)
                return q * (price - bp) if long else q * (bp - price)

            allowed = self._drawable(block, market)
            if -delta(want) > allowed:  # cut to what the fund may pay this block
                want = _most_lots(want, book.lot, lambda q: -delta(q) <= allowed)
                if want < book.min_size:
                    code = Code.LIQUIDATION_DEFERRED_INSURANCE_CAP
                    break
            need = max(-delta(want), 0)
            if need:
                events.extend(ex._liquidation_insurance(market, account, need))
            filled, fill_events = ex._liquidation_trade(market, account, side, want, price)
            events.extend(fill_events)
            paid = max(-delta(filled), 0) if filled else 0
            if need > paid:  # filled less than asked: the fund takes back what it overpaid
                events.extend(ex._liquidation_insurance(market, account, paid - need))
            if paid:
                block.drawn[market] = block.drawn.get(market, 0) + paid
                events.append(InsuranceDrawn(market, account, paid, ex.insurance_fund(market)))
            if filled == 0:
                after = book.depth(1)
                top = (after.bid_price, after.bid_size) if long else (after.ask_price,
                                                                      after.ask_size)
                if len(top[0]) and (int(top[0][0]), int(top[1][0])) == (price, level):
                    break  # the level did not move: stop rather than spin
                continue
            surplus = delta(filled)
            fee = min(filled * price * risk.liquidation_fee_ppm // ONE, max(surplus, 0),
                      ex.balances(account).locked_for_positions.get(market, 0))
            if fee > 0:
                events.extend(ex._liquidation_insurance(market, account, -fee))
                events.append(InsuranceCredited(market, account, fee, ex.insurance_fund(market)))
            events.append(LiquidationFilled(market, account, price, filled, surplus))
            closed += filled
            code = Code.OK
        return closed, code

    def _drawable(self, block: _Block, market: str) -> int:
        """What the market's insurance fund may still pay in this block."""
        return min(self.ex.insurance_fund(market),
                   self.ex.risk(market).insurance_max_draw_qq - block.drawn.get(market, 0))

    def _deleverage(self, block: _Block, market: str, account: int, final: bool) -> int:
        """ADL when the fund cannot cover the insolvent remainder, or (``final``, a resolving
        market's book could not close it) final deleveraging; returns contracts closed."""
        ex = self.ex
        v = ex.margin(account, market)
        size, mark = ex.position(account, market).size, ex.mark(market)
        deficit = max(-v.equity_qq, 0)
        price = mark
        if not final and deficit <= ex.insurance_fund(market):
            return 0  # the fund can cover it as the book takes the rest in later blocks
        if final and 0 < deficit <= self._drawable(block, market):
            block.events.extend(ex._liquidation_insurance(market, account, deficit))
            block.drawn[market] = block.drawn.get(market, 0) + deficit
            block.events.append(InsuranceDrawn(market, account, deficit,
                                               ex.insurance_fund(market)))
        elif deficit:
            price = bankruptcy_price_ppm(size, abs(size), mark, v.equity_qq,
                                         ex.risk(market).mmf_ppm)
            price = min(max(price, 0), ONE)
        left = abs(size)
        key = (market, size < 0)  # the opposite side: longs take over a short's remainder
        queue = block.adl_queue.get(key)
        if queue is None:  # ranked once per block and side, then consumed in order
            queue = block.adl_queue[key] = self._adl_ranking(market, size)[::-1]
        for i in range(len(queue) - 1, -1, -1):  # highest ranked first
            if not left:
                break
            counterparty = queue[i]
            refused = block.adl_refused.get((market, counterparty))
            # one that could not take a lot at a price as good for it is not asked again; at a
            # better price (another account's) it may take some
            if counterparty == account or refused is not None and (
                    price >= refused if size > 0 else price <= refused):
                continue
            held = ex.position(counterparty, market).size
            if held == 0 or (held > 0) == (size > 0):
                continue
            offered = min(left, abs(held))
            q = self._absorbable(market, counterparty, offered, price)
            if q:
                block.events.extend(ex._liquidation_deleverage(market, account, counterparty, q,
                                                               price))
                block.events.append(DeleveragingFilled(market, account, counterparty, q, price))
                left -= q
            if q < offered:
                block.adl_refused[(market, counterparty)] = price
        while queue and not ex.position(queue[-1], market).size:  # the top ones used up
            queue.pop()
        if left < abs(size):
            block.deleveraged.append((market, account))
        return abs(size) - left

    def _absorbable(self, market: str, counterparty: int, offered: int, price: int) -> int:
        """How many of ``offered`` contracts (in whole lots, or all of them) the counterparty can
        take over at ``price`` and stay solvent: its position margin (with its unsettled funding,
        settled first) covers the PnL the trade realises, and its equity at the mark stays
        non-negative. The loss grows with the size taken, so the largest such size is found by
        bisection."""
        ex = self.ex
        p, v = ex.position(counterparty, market), ex.margin(counterparty, market)
        cash, mark = v.collateral_qq + v.unsettled_funding_qq, ex.mark(market)
        fill = 1 if p.size < 0 else -1  # it trades back toward flat

        def solvent(q: int) -> bool:
            size, on, realized = apply_fill(p.size, p.open_notional_qq, fill * q, price)
            return cash + realized >= 0 and cash + realized + unrealized_pnl_qq(size, on, mark) >= 0

        if solvent(offered):
            return offered
        return _most_lots(offered, ex.book(market).lot, solvent)

    def _adl_ranking(self, market: str, size: int) -> list[int]:
        """Positions opposite to ``size`` with positive equity, most profitable × most levered
        first (ranked when a block first needs them: later ADL in the block keeps the order)."""
        ex = self.ex
        mark = ex.mark(market)
        scored = []
        for other in self._holders(market):
            p = ex.position(other, market)
            if p.size == 0 or (p.size > 0) == (size > 0):
                continue
            v = ex.margin(other, market)
            if v.equity_qq <= 0:
                continue
            profit = Fraction(v.unrealized_pnl_qq, max(abs(p.open_notional_qq), 1))
            leverage = Fraction(abs(p.size) * mark, v.equity_qq)
            scored.append((-(profit * leverage), other))
        scored.sort()
        return [other for _, other in scored]

    def _holders(self, market: str) -> list[int]:
        """Every account holding a position in the market (the index after a refresh)."""
        idx = self.refresh(market)
        return sorted(idx.price)
