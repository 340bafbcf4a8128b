"""Integrity: the book's invariants hold through a long mixed session, seen from outside and in."""

import random

import pytest

import perpcore
from perpcore import Code, SelfTradePrevention, Side, TimeInForce

N_OPS = 1500
TICK = 1000


def random_session(book, seed, n_ops=N_OPS):
    """Drive a seeded mix of every call.

    Yields ``(size, result, live)`` after each call: the size an order or amend asked for (None for
    cancels), the Result, and the live orders ``{id: remaining}`` that the results imply.
    """
    rng = random.Random(seed)
    live = {}  # order id -> remaining size, tracked from results only
    next_id = 1
    for _ in range(n_ops):
        u = rng.random()
        account = rng.randrange(5)
        if u < 0.55 or not live:
            side = rng.choice(list(Side))
            price = rng.randrange(480, 521) * TICK
            tif = rng.choices(list(TimeInForce), weights=[6, 2, 1, 2, 1])[0]
            if tif == TimeInForce.MARKET and rng.random() < 0.5:
                price = 0
            size = rng.randrange(1, 30)
            r = book.place(next_id, account, side, price, size, tif=tif,
                           stp=rng.choice(list(SelfTradePrevention)),
                           reduce_only=rng.random() < 0.2)
            next_id += 1
        elif u < 0.75:
            size, r = None, book.cancel(rng.choice(sorted(live)))
        elif u < 0.93:
            oid = rng.choice(sorted(live))
            price = None if rng.random() < 0.5 else rng.randrange(480, 521) * TICK
            size = rng.randrange(1, 30)
            r = book.amend(oid, size, price)
            if r.ok:
                del live[oid]
        else:
            size, r = None, book.cancel_all(account)
        for f in r.fills:
            if f.maker_remaining:
                live[f.maker_order_id] = f.maker_remaining
            else:
                del live[f.maker_order_id]
        for c in r.cancelled:
            del live[c.order_id]
        if r.resting:
            live[r.order_id] = r.resting
        yield size, r, live


def test_a_fresh_book_passes_its_integrity_check(book):
    assert book.check_integrity() is None


@pytest.mark.parametrize("seed", [1, 2])
def test_invariants_hold_after_every_call_of_a_mixed_session(book, seed):
    codes = set()
    for i, (size, r, live) in enumerate(random_session(book, seed)):
        codes.add(r.code)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, "the book is crossed"
        assert len(book) == len(live)
        if r.code == Code.OK and size is not None:
            assert r.filled + r.resting + r.expired == size
        assert r.filled == sum(f.size for f in r.fills)
        if i % 100 == 0:
            book.check_integrity()
            for oid, remaining in live.items():
                assert book.order(oid)["size"] == remaining
            d = book.depth(1000)
            assert sum(d.bid_orders) + sum(d.ask_orders) == len(live)
            assert sum(d.bid_size) + sum(d.ask_size) == sum(live.values())
            assert list(d.bid_price) == sorted(d.bid_price, reverse=True)
            assert list(d.ask_price) == sorted(d.ask_price)
    book.check_integrity()
    assert {Code.OK, Code.POST_ONLY_WOULD_CROSS, Code.FOK_NOT_FILLABLE} <= codes


def test_a_rejected_call_in_a_session_never_changes_the_book(book):
    hashes = [book.state_hash()]
    for _, r, _ in random_session(book, seed=3, n_ops=600):
        digest = book.state_hash()
        if r.code != Code.OK:
            assert digest == hashes[-1]
        hashes.append(digest)
    assert len(set(hashes)) > 100


def test_the_same_session_gives_the_same_book_on_both_runs(book_cls):
    a, b = book_cls(), book_cls()
    for _ in random_session(a, seed=4, n_ops=800):
        pass
    for _ in random_session(b, seed=4, n_ops=800):
        pass

    assert a.snapshot() == b.snapshot() and len(a) > 0


def test_a_book_restored_mid_session_passes_its_integrity_check(book):
    for _ in random_session(book, seed=5, n_ops=700):
        pass

    restored = type(book).restore(book.snapshot())

    restored.check_integrity()
    assert len(restored) == len(book) > 0
    for before, after in zip(book.depth(1000), restored.depth(1000)):
        assert before.tolist() == after.tolist()
