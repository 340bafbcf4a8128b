"""A market's lifecycle: Draft → Active → Resolving → Resolved → Settled, and nothing else.

Owns the phase of one market and the legal transitions between phases (each one a
``market.event``); any other transition raises ``IllegalTransition``. It also answers what a phase
allows: new exposure only while Active, reduce-only trading while Resolving, funding only while
Active, no trading once Resolved. Acting on those answers (rejecting orders, closing positions) is
the exchange's business; this module never touches money.
"""

from __future__ import annotations

from enum import IntEnum

from perpcore.errors import IllegalTransition

__all__ = ["MarketPhase", "MarketLifecycle"]


class MarketPhase(IntEnum):
    DRAFT = 0
    ACTIVE = 1
    RESOLVING = 2
    RESOLVED = 3
    SETTLED = 4

    @property
    def allows_new_exposure(self) -> bool:
        return self is MarketPhase.ACTIVE

    @property
    def allows_trading(self) -> bool:
        """Active: any order; Resolving: orders that only reduce exposure."""
        return self in (MarketPhase.ACTIVE, MarketPhase.RESOLVING)

    @property
    def runs_funding(self) -> bool:
        return self is MarketPhase.ACTIVE


_NEXT = {
    MarketPhase.DRAFT: MarketPhase.ACTIVE,
    MarketPhase.ACTIVE: MarketPhase.RESOLVING,
    MarketPhase.RESOLVING: MarketPhase.RESOLVED,
    MarketPhase.RESOLVED: MarketPhase.SETTLED,
}


class MarketLifecycle:
    """The phase of one market; ``advance(to, now)`` moves it one legal step."""

    def __init__(self, market: str, phase: MarketPhase = MarketPhase.DRAFT) -> None:
        self.market = market
        self.phase = MarketPhase(phase)

    def advance(self, to: MarketPhase, now: int):
        """Move to ``to`` (the next phase only) and return the ``MarketPhaseChanged`` event."""
        from perpcore.events import MarketPhaseChanged

        to = MarketPhase(to)
        if _NEXT.get(self.phase) is not to:
            raise IllegalTransition(f"market {self.market!r} cannot go from {self.phase.name} to "
                                    f"{to.name}")
        frm, self.phase = self.phase, to
        return MarketPhaseChanged(self.market, frm, to, now)
