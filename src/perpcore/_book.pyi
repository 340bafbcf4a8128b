"""Type stub of the native order book ``perpcore._book`` (hand-written; see _book.pyx).

tests/unit/test_stubs.py checks that the public names, member kinds and parameter names here match
the compiled module, and that every annotation resolves, so this file cannot drift silently.

Integer arguments accept ``int`` (including IntEnum members such as ``Side.BUY``) and numpy
integer scalars; ``bool`` and ``float`` are refused with ``perpcore.InvalidType`` at run time.
"""

from collections.abc import Callable
from typing import Any, Final, TypeAlias, TypedDict, final

import numpy as np
from numpy.typing import NDArray

from perpcore.book_types import (
    BatchResult,
    BookDelta,
    CancelledOrder,
    Depth,
    ExpireReason,
    Fill,
    ImpactPrice,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

_Int: TypeAlias = int | np.integer[Any]
"""An integer argument: a Python int (or IntEnum member) or a numpy integer scalar."""

_Snapshot: TypeAlias = bytes | bytearray | memoryview

DEBUG_BUILD: Final[bool]
"""True when the extension was built with PERPCORE_DEBUG=1 (integrity checked after every call)."""

MAX_ORDER_SIZE_LIMIT: Final[int]
"""Upper bound of ``max_size`` (2**32 - 1): an open size fits the order node's 32 bits."""

SNAPSHOT_MAGIC: Final[bytes]
SNAPSHOT_VERSION: Final[int]

class _OrderInfo(TypedDict):
    """What ``OrderBook.order`` returns for a live order (a plain dict; stub-only name)."""

    order_id: int
    account: int
    side: Side
    price_ppm: int
    size: int
    post_only: bool
    reduce_only: bool
    stp: SelfTradePrevention

@final
class Result:
    """What one call did. ``code`` 0 means accepted; any other code means nothing changed."""

    @property
    def code(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def order_id(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def resting(self) -> int: ...
    @property
    def expired(self) -> int: ...
    @property
    def expire_reason(self) -> ExpireReason: ...
    @property
    def n_fills(self) -> int: ...
    @property
    def fills(self) -> tuple[Fill, ...]: ...
    @property
    def trades(self) -> tuple[Trade, ...]: ...
    @property
    def cancelled(self) -> tuple[CancelledOrder, ...]: ...
    @property
    def deltas(self) -> tuple[BookDelta, ...]: ...

@final
class BatchBuffers:
    """Reusable output storage for ``OrderBook.process(commands, out=buffers)``.

    The BatchResult of such a call holds views of this storage, overwritten by the next call that
    is passed the same buffers.
    """

    def __init__(self) -> None: ...
    def nbytes(self) -> int: ...

@final
class OrderBook:
    """A price-time priority limit order book for one market."""

    @property
    def tick_ppm(self) -> int: ...
    @property
    def lot(self) -> int: ...
    @property
    def min_size(self) -> int: ...
    @property
    def max_size(self) -> int: ...
    def __init__(
        self,
        tick_ppm: _Int = 1000,
        lot: _Int = 1,
        min_size: _Int = 1,
        max_size: _Int = 1_000_000_000,
    ) -> None: ...

    # commands
    def place(
        self,
        order_id: _Int,
        account: _Int,
        side: Side | _Int,
        price_ppm: _Int,
        size: _Int,
        tif: TimeInForce | _Int = 0,
        stp: SelfTradePrevention | _Int = 0,
        reduce_only: bool = False,
    ) -> Result: ...
    def check_place(
        self,
        order_id: _Int,
        account: _Int,
        side: Side | _Int,
        price_ppm: _Int,
        size: _Int,
        tif: TimeInForce | _Int = 0,
        stp: SelfTradePrevention | _Int = 0,
        reduce_only: bool = False,
    ) -> int: ...
    def cancel(self, order_id: _Int) -> Result: ...
    def amend(self, order_id: _Int, size: _Int, price_ppm: _Int | None = None) -> Result: ...
    def cancel_all(self, account: _Int) -> Result: ...
    def process(
        self,
        commands: NDArray[np.void],
        *,
        deltas: bool = False,
        out: BatchBuffers | None = None,
    ) -> BatchResult: ...

    # market data
    def best_bid(self) -> int | None: ...
    def best_ask(self) -> int | None: ...
    def depth(self, n: _Int = 10) -> Depth: ...
    def impact_price(self, side: Side | _Int, notional_qq: _Int) -> ImpactPrice: ...
    def order(self, order_id: _Int) -> _OrderInfo | None: ...
    def __len__(self) -> int: ...
    def __contains__(self, order_id: _Int) -> bool: ...

    # introspection
    def memory_bytes(self) -> int: ...
    def check_integrity(self) -> None: ...

    # snapshots
    def snapshot(self) -> bytes: ...
    @staticmethod
    def restore(data: _Snapshot) -> OrderBook: ...
    def state_hash(self) -> str: ...
    def __reduce__(self) -> tuple[Callable[[_Snapshot], OrderBook], tuple[bytes]]: ...
