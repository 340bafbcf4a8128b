"""perpcore: the trading core of a perpetual-futures exchange on event probabilities.

Public API only; every name is defined in its own module.
"""

from perpcore._book import DEBUG_BUILD, BatchBuffers, OrderBook, Result
from perpcore.book_types import (
    CANCEL_DTYPE,
    COMMAND_DTYPE,
    DELTA_DTYPE,
    FILL_DTYPE,
    FLAG_REDUCE_ONLY,
    PRICE_SCALE_PPM,
    RESULT_DTYPE,
    BatchResult,
    BookDelta,
    CancelledOrder,
    CancelReason,
    Depth,
    ExpireReason,
    Fill,
    ImpactPrice,
    Op,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)
from perpcore.codes import Code, describe
from perpcore.errors import (
    IntegrityError,
    InvalidInput,
    InvalidType,
    PerpcoreError,
    SnapshotError,
)

__version__ = "0.1.0"

__all__ = [
    "DEBUG_BUILD",
    "OrderBook",
    "Result",
    "CANCEL_DTYPE",
    "COMMAND_DTYPE",
    "DELTA_DTYPE",
    "FILL_DTYPE",
    "FLAG_REDUCE_ONLY",
    "PRICE_SCALE_PPM",
    "RESULT_DTYPE",
    "BatchBuffers",
    "BatchResult",
    "BookDelta",
    "CancelledOrder",
    "CancelReason",
    "Depth",
    "ExpireReason",
    "Fill",
    "ImpactPrice",
    "Op",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Trade",
    "Code",
    "describe",
    "IntegrityError",
    "InvalidInput",
    "InvalidType",
    "PerpcoreError",
    "SnapshotError",
    "__version__",
]
