"""Fixtures of the order book unit tests (each runs on the native and the reference book)."""

from contextlib import contextmanager

import pytest


@pytest.fixture
def book(book_cls):
    """An empty book with the default market: tick 1000 ppm, lot 1, sizes 1 .. 1e9."""
    return book_cls()


def _assert_unchanged_ctx(book):
    @contextmanager
    def ctx():
        snap, digest, n = book.snapshot(), book.state_hash(), len(book)
        bid, ask = book.best_bid(), book.best_ask()
        yield
        assert book.snapshot() == snap
        assert book.state_hash() == digest
        assert len(book) == n
        assert (book.best_bid(), book.best_ask()) == (bid, ask)
        book.check_integrity()

    return ctx()


@pytest.fixture
def unchanged():
    """``with unchanged(book): ...`` asserts the block left the book exactly as it was."""
    return _assert_unchanged_ctx


@pytest.fixture
def assert_rejected():
    """Check a Result is a rejection with the given code that reports no activity at all."""

    def check(result, code):
        assert result.code == code
        assert not result.ok
        assert (result.filled, result.resting, result.expired) == (0, 0, 0)
        assert result.fills == () and result.trades == ()
        assert result.cancelled == () and result.deltas == ()
        assert result.n_fills == 0

    return check
