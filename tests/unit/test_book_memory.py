"""The native book keeps no Python object per resting order: orders live in C pools.

Measured on the release build (placing 50,000 orders one call at a time): Python-heap growth of
about 200 bytes in total, and ``memory_bytes() / len(book)`` of about 59.4 bytes per resting
order (32-byte order slots in a pool grown by 1.5x, 8-byte id-table buckets at a load factor of
at most 5/8, and the fixed level array and buffers).
"""

import gc
import tracemalloc


import perpcore

N_ORDERS = 50_000
MAX_BYTES_PER_ORDER = 64


def place_resting(book, n):
    """n resting orders: bids below 500_000, asks above, 100 accounts, 50 levels per side."""
    place = book.place
    for i in range(n):
        if i & 1:
            place(i + 1, i % 100, perpcore.Side.SELL, 600_000 + (i % 50) * 1000, 1)
        else:
            place(i + 1, i % 100, perpcore.Side.BUY, 400_000 - (i % 50) * 1000, 1)


def test_resting_orders_do_not_grow_the_python_heap():
    book = perpcore.OrderBook()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        place_resting(book, N_ORDERS)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert len(book) == N_ORDERS
    # one small Python object per order would be at least 16 bytes each: 800 KB here
    assert grown < 16 * 1024, f"the Python heap grew by {grown} bytes for {N_ORDERS} orders"


def test_the_book_holds_at_most_64_bytes_of_c_memory_per_resting_order():
    book = perpcore.OrderBook()
    empty = book.memory_bytes()

    place_resting(book, N_ORDERS)

    per_order = book.memory_bytes() / len(book)
    assert per_order <= MAX_BYTES_PER_ORDER, f"{per_order:.1f} bytes per resting order"
    # the orders really are in the C pools that memory_bytes() counts: 32-byte slots at least
    assert book.memory_bytes() - empty >= 32 * N_ORDERS


def test_cancelling_orders_frees_their_slots_for_reuse():
    book = perpcore.OrderBook()
    place_resting(book, 10_000)
    full = book.memory_bytes()

    for order_id in range(1, 10_001):
        book.cancel(order_id)
    place_resting(book, 10_000)

    assert len(book) == 10_000
    assert book.memory_bytes() == full
    book.check_integrity()
