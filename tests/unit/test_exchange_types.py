"""The exchange's public records behave like frozen dataclasses on both implementations: equality
field by field (events included, however they were stored), hashing, repr, immutability and
pickling; and the native exchange's events are built only when first read, then kept."""

import pickle
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from perpcore import (
    COMMAND_DTYPE, CallResult, Exchange, ExchangeBatch, Op, RiskTier, Side, SubmitResult,
    WithdrawalResult,
)
from perpcore.events import OrderCreated
from perpcore.reference import ReferenceExchange

USDC = 1_000_000


def _traded(cls):
    ex = cls(withdrawal_delay=3)
    ex.add_market("M", risk=RiskTier())
    for account in (1, 2):
        ex.deposit(account, 1000 * USDC)
    ex.submit("M", 1, 1, Side.SELL, 500_000, 10)
    return ex, ex.submit("M", 2, 2, Side.BUY, 500_000, 4)


def test_the_same_call_gives_equal_results_with_equal_hashes_and_reprs():
    (_, native), (_, reference) = _traded(Exchange), _traded(ReferenceExchange)

    assert type(native) is type(reference) is SubmitResult
    assert native == reference and hash(native) == hash(reference)
    assert repr(native) == repr(reference)
    assert native.filled == 4 and [e.kind for e in native.events][:2] == ["order_created",
                                                                          "order_filled"]


def test_native_events_are_built_on_first_read_and_then_kept():
    ex, r = _traded(Exchange)  # a fill: more event words than a record keeps inside itself
    resting = ex.submit("M", 3, 2, Side.BUY, 400_000, 1)  # three events: kept inside

    for result, n in ((r, 7), (resting, 3)):
        assert result._events is None
        events = result.events
        assert isinstance(events, tuple) and len(events) == n
        assert result.events is events and result._events is events
    assert ex.cancel("M", 99).events == ()


@pytest.mark.parametrize("cls", [Exchange, ReferenceExchange], ids=["native", "reference"])
def test_results_are_immutable_and_pickle(cls):
    ex, r = _traded(cls)
    with pytest.raises(FrozenInstanceError):
        r.code = 1
    with pytest.raises(FrozenInstanceError):
        del r.filled
    w = ex.request_withdrawal(1, USDC, now=0)

    for result in (r, w, ex.deposit(1, 5), ex.cancel("M", 1)):
        assert pickle.loads(pickle.dumps(result)) == result


def test_records_of_different_kinds_never_compare_equal():
    assert CallResult(0) != SubmitResult(0)
    assert CallResult(0) == CallResult(0, ())
    assert WithdrawalResult(0, (), 1, 2) != WithdrawalResult(0, (), 1, 3)
    assert CallResult(0, (OrderCreated("M", 1, 1, Side.BUY, 1, 1, 0, False, 0),)) != CallResult(0)


@pytest.mark.parametrize("cls", [Exchange, ReferenceExchange], ids=["native", "reference"])
def test_a_batch_compares_its_rows_and_its_events(cls):
    ex = cls()
    ex.add_market("M")
    ex.deposit(1, 1000 * USDC)
    cmds = np.zeros(2, COMMAND_DTYPE)
    cmds[0] = (Op.PLACE, Side.BUY, 0, 0, 0, 1, 1, 400_000, 5)
    cmds[1] = (Op.CANCEL, 0, 0, 0, 0, 1, 0, 0, 0)

    batch = ex.process("M", cmds)

    assert batch == ExchangeBatch(batch.results.copy(), tuple(batch.events))
    assert batch != ExchangeBatch(batch.results[:1].copy(), tuple(batch.events))
    assert [e.kind for e in batch.events] == ["order_created", "order_accepted",
                                              "balance_updated", "order_cancelled",
                                              "balance_updated"]
    with pytest.raises(TypeError):
        hash(batch)


def test_records_recycled_by_the_free_lists_come_back_empty_and_subclasses_are_untouched():
    class Annotated(CallResult):  # a user's subclass: allocated and freed the ordinary way
        pass

    ex, _ = _traded(Exchange)
    kept = []
    for i in range(300):  # more than a free list holds, so records are reused and released
        kept.append(ex.submit("M", 100 + i, 1, Side.BUY, 400_000, 1))
        ex.cancel("M", 100 + i)
        sub = Annotated(i, ())
        sub_w = WithdrawalResult(i, (), i, i)
        assert (sub.code, sub.events, sub_w.withdrawal_id) == (i, (), i)
        if i % 3:
            kept.pop()
    for r in kept:
        assert r.size == 1 and r.resting == 1 and [e.kind for e in r.events] == [
            "order_created", "order_accepted", "balance_updated"]
        assert r.events[0].order_id == r.order_id
    fresh = ex.cancel("M", 12345)
    assert fresh.events == () and fresh._events == ()
    ex.check_integrity()
