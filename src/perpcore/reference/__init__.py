"""Pure-Python reference implementations: slow, obviously-correct twins of the native modules.

Each twin has the same public interface and observable behaviour as its native counterpart; the
differential and property tests drive both side by side, and the benchmarks use the twins as the
speed baseline.
"""

from perpcore.reference.book import ReferenceOrderBook, Result
from perpcore.reference.exchange import ReferenceExchange
from perpcore.reference.funding import ReferenceFundingSampler

__all__ = ["ReferenceOrderBook", "ReferenceExchange", "ReferenceFundingSampler", "Result"]
