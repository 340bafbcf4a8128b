"""The batch API: ``process`` runs COMMAND_DTYPE rows with the per-call semantics."""

import numpy as np
import pytest

import perpcore
from perpcore import (
    CANCEL_DTYPE,
    COMMAND_DTYPE,
    DELTA_DTYPE,
    FILL_DTYPE,
    FLAG_REDUCE_ONLY,
    RESULT_DTYPE,
    BatchResult,
    CancelReason,
    Code,
    ExpireReason,
    Op,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from perpcore.workload import FlowSpec, generate_flow

BUY, SELL = Side.BUY, Side.SELL
GTC, IOC, FOK, POST_ONLY, MARKET = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
                                    TimeInForce.POST_ONLY, TimeInForce.MARKET)
ALICE, BOB, CAROL = 1, 2, 3


def place(order_id, account, side, price, size, tif=GTC, stp=0, flags=0):
    return dict(op=Op.PLACE, order_id=order_id, account=account, side=side, price_ppm=price,
                size=size, tif=tif, stp=stp, flags=flags)


def cancel(order_id):
    return dict(op=Op.CANCEL, order_id=order_id)


def amend(order_id, size, price=0):
    return dict(op=Op.AMEND, order_id=order_id, size=size, price_ppm=price)


def cancel_all(account):
    return dict(op=Op.CANCEL_ALL, account=account)


def commands(rows):
    arr = np.zeros(len(rows), COMMAND_DTYPE)
    for i, row in enumerate(rows):
        for name, value in row.items():
            arr[i][name] = value
    return arr


def run_per_call(book, cmds):
    """The per-call twin of ``process(cmds, deltas=True)``: rows, fills, cancels, deltas."""
    rows, fills, cancels, deltas = [], [], [], []
    for i, c in enumerate(cmds.tolist()):
        op, side, tif, stp, flags, order_id, account, price, size = c
        if op == Op.PLACE:
            r = book.place(order_id, account, side, price, size, tif=tif, stp=stp,
                           reduce_only=bool(flags & FLAG_REDUCE_ONLY))
        elif op == Op.CANCEL:
            r = book.cancel(order_id)
        elif op == Op.AMEND:
            r = book.amend(order_id, size, price if price else None)
        else:
            r = book.cancel_all(account)
        rows.append((r.code, int(r.expire_reason), r.filled, r.resting, r.expired, r.n_fills,
                     len(r.cancelled)))
        fills += [(i, f.taker_order_id, f.taker_account, f.maker_order_id, f.maker_account,
                   f.price_ppm, f.size, f.maker_remaining, int(f.taker_side),
                   int(f.taker_reduce_only), int(f.maker_reduce_only)) for f in r.fills]
        cancels += [(i, x.order_id, x.account, x.price_ppm, x.size, int(x.side), int(x.reason))
                    for x in r.cancelled]
        deltas += [(i, d.price_ppm, d.size, int(d.side)) for d in r.deltas]
    return rows, fills, cancels, deltas


def batch_rows(out):
    res = out.results
    return list(zip(res["code"].tolist(), res["expire_reason"].tolist(), res["filled"].tolist(),
                    res["resting"].tolist(), res["expired"].tolist(), res["n_fills"].tolist(),
                    res["n_cancels"].tolist()))


SCENARIO = [
    place(1, ALICE, SELL, 500_000, 2),
    place(2, BOB, SELL, 500_000, 3, flags=FLAG_REDUCE_ONLY),
    place(3, ALICE, SELL, 510_000, 4),
    place(4, CAROL, BUY, 490_000, 5, tif=POST_ONLY),
    place(5, CAROL, BUY, 505_000, 4),                                  # fills 1 and 1 of 2
    place(6, CAROL, BUY, 500_000, 1, tif=POST_ONLY),                   # would cross
    place(7, ALICE, BUY, 510_000, 9, tif=FOK),                         # not fillable
    place(8, ALICE, BUY, 510_000, 3, stp=SelfTradePrevention.EXPIRE_BOTH),
    place(9, BOB, BUY, 0, 1, tif=MARKET),
    place(10, BOB, BUY, 520_000, 10, tif=IOC, flags=FLAG_REDUCE_ONLY),
    place(4, BOB, BUY, 400_000, 1),                                    # duplicate id
    place(11, BOB, BUY, 400_500, 1),                                   # off tick
    place(12, BOB, 2, 400_000, 1),                                     # bad side
    place(13, ALICE, SELL, 600_000, 2),
    place(14, ALICE, SELL, 600_000, 2),
    amend(13, 1),                                                      # keeps priority
    amend(14, 5, 610_000),
    amend(4, 5, 600_000),                                              # crosses? post-only
    amend(99, 5),
    cancel(14),
    cancel(14),
    place(15, CAROL, BUY, 480_000, 2),
    place(16, CAROL, SELL, 700_000, 2),
    cancel_all(CAROL),
    place(17, ALICE, SELL, 0, 1, tif=MARKET),
    place(18, BOB, BUY, 600_000, 2, tif=MARKET),
    cancel_all(-1),
]


def test_process_has_the_same_semantics_as_the_per_call_methods(book_cls):
    cmds = commands(SCENARIO)
    per_call, batch = book_cls(), book_cls()

    rows, fills, cancels, deltas = run_per_call(per_call, cmds)
    out = batch.process(cmds, deltas=True)

    assert batch_rows(out) == rows
    assert out.fills.tolist() == fills
    assert out.cancels.tolist() == cancels
    assert out.deltas.tolist() == deltas
    assert batch.snapshot() == per_call.snapshot()
    # the scenario exercises what it claims to
    codes = {r[0] for r in rows}
    assert {Code.OK, Code.POST_ONLY_WOULD_CROSS, Code.FOK_NOT_FILLABLE, Code.DUPLICATE_ORDER_ID,
            Code.PRICE_OFF_TICK, Code.INVALID_SIDE, Code.UNKNOWN_ORDER_ID,
            Code.INVALID_ACCOUNT} <= codes
    assert fills and cancels and {CancelReason.SELF_TRADE, CancelReason.USER} == {
        c[-1] for c in cancels}


def test_process_of_a_generated_flow_matches_per_call_replay(book_cls):
    cmds = generate_flow(FlowSpec(n_events=3000, target_live=300, n_accounts=20, seed=11))
    per_call, batch = book_cls(), book_cls()

    rows, fills, cancels, deltas = run_per_call(per_call, cmds)
    out = batch.process(cmds, deltas=True)

    assert batch_rows(out) == rows
    assert out.fills.tolist() == fills
    assert out.cancels.tolist() == cancels
    assert out.deltas.tolist() == deltas
    assert batch.state_hash() == per_call.state_hash()
    assert len(fills) > 100


def test_process_returns_one_result_row_per_command(book):
    out = book.process(commands([
        place(1, ALICE, SELL, 500_000, 2),
        place(2, BOB, BUY, 500_000, 5, tif=IOC),
        cancel(1),
    ]))

    assert isinstance(out, BatchResult)
    assert out.results.dtype == RESULT_DTYPE and len(out.results) == 3
    assert out.results["code"].tolist() == [Code.OK, Code.OK, Code.UNKNOWN_ORDER_ID]
    assert out.results["order_id"].tolist() == [1, 2, 1]
    assert out.results["filled"].tolist() == [0, 2, 0]
    assert out.results["resting"].tolist() == [2, 0, 0]
    assert out.results["expired"].tolist() == [0, 3, 0]
    assert out.results["expire_reason"].tolist() == [
        ExpireReason.NONE, ExpireReason.UNFILLED_IOC, ExpireReason.NONE]
    assert out.results["n_fills"].tolist() == [0, 1, 0]
    assert out.results["n_cancels"].tolist() == [0, 0, 0]


def test_fills_and_cancels_are_tagged_with_their_command_index(book):
    out = book.process(commands([
        place(1, ALICE, SELL, 500_000, 1),
        place(2, BOB, SELL, 500_000, 1),
        place(3, ALICE, SELL, 510_000, 1),
        cancel(2),
        place(4, ALICE, BUY, 510_000, 3),   # EXPIRE_MAKER: cancels 1 and 3, rests 3
        place(5, BOB, SELL, 510_000, 2, flags=FLAG_REDUCE_ONLY),
    ]))

    assert out.fills.dtype == FILL_DTYPE and out.cancels.dtype == CANCEL_DTYPE
    assert out.cancels[["cmd", "order_id", "reason"]].tolist() == [
        (3, 2, CancelReason.USER), (4, 1, CancelReason.SELF_TRADE),
        (4, 3, CancelReason.SELF_TRADE)]
    assert out.fills[["cmd", "taker_order_id", "maker_order_id", "price_ppm", "size",
                      "maker_remaining", "taker_side", "taker_reduce_only"]].tolist() == [
        (5, 5, 4, 510_000, 2, 1, SELL, 1)]
    assert out.results["n_cancels"].tolist() == [0, 0, 0, 1, 2, 0]


def test_deltas_are_returned_only_when_asked_for(book_cls):
    cmds = commands([place(1, ALICE, SELL, 500_000, 1), place(2, BOB, BUY, 500_000, 2)])

    assert book_cls().process(cmds).deltas is None
    assert book_cls().process(cmds, deltas=False).deltas is None
    out = book_cls().process(cmds, deltas=True)
    assert out.deltas.dtype == DELTA_DTYPE
    assert out.deltas.tolist() == [(0, 500_000, 1, SELL), (1, 500_000, 0, SELL),
                                   (1, 500_000, 1, BUY)]


def test_deltas_are_coalesced_within_a_command_but_not_across_commands(book):
    out = book.process(commands([
        place(1, ALICE, SELL, 500_000, 1),
        place(2, ALICE, SELL, 500_000, 1),
        place(3, BOB, BUY, 500_000, 1),
        place(4, BOB, BUY, 500_000, 1),
    ]), deltas=True)

    assert out.deltas[["cmd", "size"]].tolist() == [(0, 1), (1, 2), (2, 1), (3, 0)]


def test_per_call_methods_still_report_deltas_after_a_batch_without_them(book):
    book.process(commands([place(1, ALICE, SELL, 500_000, 1)]), deltas=False)

    assert len(book.place(2, ALICE, SELL, 510_000, 1).deltas) == 1


def test_outputs_of_one_batch_do_not_leak_into_the_next_call(book):
    first = book.process(commands([place(1, ALICE, SELL, 500_000, 1),
                                   place(2, BOB, BUY, 500_000, 1)]), deltas=True)
    r = book.place(3, ALICE, BUY, 400_000, 1)
    second = book.process(commands([cancel(3)]), deltas=True)

    assert len(first.fills) == 1 and r.fills == () and len(r.deltas) == 1
    assert len(second.fills) == 0 and second.cancels["order_id"].tolist() == [3]
    assert second.deltas["cmd"].tolist() == [0]


def test_a_bad_op_code_is_rejected_and_the_batch_goes_on(book, unchanged):
    cmds = commands([place(1, ALICE, SELL, 500_000, 1), place(2, BOB, SELL, 510_000, 1)])
    bad = commands([dict(op=7, order_id=5, account=ALICE, side=BUY, price_ppm=500_000, size=1),
                    place(3, ALICE, SELL, 520_000, 1)])
    book.process(cmds)

    with unchanged(book):
        out = book.process(bad[:1])
    out2 = book.process(bad)

    assert out.results["code"].tolist() == [Code.INVALID_OP]
    assert out.fills.size == 0 and out.cancels.size == 0
    assert out2.results["code"].tolist() == [Code.INVALID_OP, Code.OK]
    assert 3 in book and 5 not in book


def test_amend_with_price_zero_in_a_batch_keeps_the_price(book):
    book.place(1, ALICE, BUY, 400_000, 5)

    out = book.process(commands([amend(1, 3, 0)]))

    assert out.results["code"].tolist() == [Code.OK]
    assert book.order(1)["price_ppm"] == 400_000 and book.order(1)["size"] == 3


def test_unknown_flag_bits_are_rejected(book, unchanged):
    with unchanged(book):
        out = book.process(commands([place(1, ALICE, BUY, 400_000, 1, flags=2)]))

    assert out.results["code"].tolist() == [Code.INVALID_FLAGS]


@pytest.mark.parametrize("field, value, code", [
    ("side", 2, Code.INVALID_SIDE),
    ("side", 255, Code.INVALID_SIDE),
    ("tif", 5, Code.INVALID_TIME_IN_FORCE),
    ("stp", 3, Code.INVALID_STP),
    ("order_id", 0, Code.INVALID_ORDER_ID),
    ("account", -1, Code.INVALID_ACCOUNT),
    ("size", 0, Code.SIZE_NOT_POSITIVE),
    ("price_ppm", 1_000_000, Code.PRICE_OUT_OF_RANGE),
    ("price_ppm", 400_001, Code.PRICE_OFF_TICK),
])
def test_invalid_fields_of_a_batch_command_get_their_code(book, unchanged, field, value, code):
    book.place(1, BOB, SELL, 500_000, 1)
    row = place(2, ALICE, BUY, 400_000, 1)
    row[field] = value

    with unchanged(book):
        out = book.process(commands([row]))

    assert out.results[["code", "filled", "resting", "expired", "n_fills", "n_cancels"]
                       ].tolist() == [(code, 0, 0, 0, 0, 0)]


def test_an_empty_batch_returns_empty_arrays_of_the_right_dtypes(book, unchanged):
    with unchanged(book):
        out = book.process(np.zeros(0, COMMAND_DTYPE), deltas=True)

    assert out.results.dtype == RESULT_DTYPE and out.results.shape == (0,)
    assert out.fills.dtype == FILL_DTYPE and out.fills.shape == (0,)
    assert out.cancels.dtype == CANCEL_DTYPE and out.cancels.shape == (0,)
    assert out.deltas.dtype == DELTA_DTYPE and out.deltas.shape == (0,)


def test_a_strided_or_read_only_command_array_is_accepted(book_cls):
    cmds = commands([place(i + 1, ALICE, SELL, 500_000 + 1000 * i, 1) for i in range(6)])
    strided = cmds[::2]
    frozen = cmds.copy()
    frozen.flags.writeable = False

    a, b = book_cls(), book_cls()
    assert a.process(strided).results["code"].tolist() == [0, 0, 0]
    assert sorted(a.depth().ask_price.tolist()) == [500_000, 502_000, 504_000]
    assert b.process(frozen).results["code"].tolist() == [0] * 6


@pytest.mark.parametrize("bad", [
    [],
    [(0, 0, 0, 0, 0, 1, 1, 500_000, 1)],
    "commands",
    None,
], ids=["empty-list", "list-of-tuples", "str", "None"])
def test_commands_that_are_not_a_numpy_array_raise_invalid_type(book, unchanged, bad):
    with unchanged(book), pytest.raises(perpcore.InvalidType):
        book.process(bad)


@pytest.mark.parametrize("dtype", [
    np.int64,
    np.dtype([(n, COMMAND_DTYPE.fields[n][0]) for n in COMMAND_DTYPE.names]),  # packed
    COMMAND_DTYPE.newbyteorder(">"),
], ids=["int64", "unaligned", "big-endian"])
def test_commands_of_another_dtype_raise_invalid_type(book, unchanged, dtype):
    with unchanged(book), pytest.raises(perpcore.InvalidType) as info:
        book.process(np.zeros(3, dtype))

    assert isinstance(info.value, TypeError)


def test_a_two_dimensional_command_array_raises_invalid_input(book, unchanged):
    with unchanged(book), pytest.raises(perpcore.InvalidInput) as info:
        book.process(np.zeros((2, 2), COMMAND_DTYPE))

    assert isinstance(info.value, ValueError)


def test_deltas_is_keyword_only(book):
    with pytest.raises(TypeError):
        book.process(np.zeros(0, COMMAND_DTYPE), True)


def test_a_batch_result_is_not_overwritten_by_later_calls(book):
    out = book.process(commands([place(1, ALICE, SELL, 500_000, 2),
                                 place(2, BOB, BUY, 500_000, 1),
                                 cancel(1)]), deltas=True)
    saved = [arr.tolist() for arr in out]

    book.process(commands([place(i, CAROL, SELL, 600_000, 1) for i in range(10, 200)]),
                 deltas=True)
    book.place(500, ALICE, BUY, 600_000, 100)

    assert [arr.tolist() for arr in out] == saved
    assert out.fills["maker_order_id"].tolist() == [1]


# ------------------------------------------------------------------ reusable output buffers

def _flow(n_events, seed):
    return generate_flow(FlowSpec(n_events=n_events, target_live=100, n_accounts=10, seed=seed))


def _lists(out):
    return [None if arr is None else arr.tolist() for arr in out]


def test_process_into_batch_buffers_gives_the_same_result(book_cls):
    cmds = commands(SCENARIO)

    fresh = book_cls().process(cmds, deltas=True)
    into = book_cls().process(cmds, deltas=True, out=perpcore.BatchBuffers())

    assert _lists(into) == _lists(fresh)


def test_one_batch_buffers_reused_chunk_after_chunk_gives_every_chunks_result(book_cls):
    cmds = _flow(1200, seed=3)
    chunks = [cmds[:500], cmds[500:520], cmds[520:], cmds[:0]]
    plain, reusing = book_cls(), book_cls()
    buffers = perpcore.BatchBuffers()

    for chunk in chunks:
        expected = _lists(plain.process(chunk, deltas=True))
        got = _lists(reusing.process(chunk, deltas=True, out=buffers))
        assert got == expected
    assert reusing.snapshot() == plain.snapshot()


def test_batch_outputs_are_byte_identical_for_identical_batches(book_cls):
    cmds = _flow(800, seed=5)
    buffers = perpcore.BatchBuffers()
    book_cls().process(_flow(900, seed=6), deltas=True, out=buffers)  # leave other rows behind

    a = book_cls().process(cmds, deltas=True)
    b = book_cls().process(cmds, deltas=True, out=buffers)

    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("bad", [bytearray(64), np.zeros(4, RESULT_DTYPE), "buffers"],
                         ids=["bytearray", "ndarray", "str"])
def test_out_must_be_batch_buffers(book, unchanged, bad):
    book.place(1, ALICE, BUY, 400_000, 1)

    with unchanged(book), pytest.raises(perpcore.InvalidType):
        book.process(commands([cancel(1)]), out=bad)


# BatchBuffers is the native book's storage; these two are about its memory behaviour

def test_batch_buffers_keep_their_storage_for_batches_of_the_same_size():
    book_cls = perpcore.OrderBook
    cmds = _flow(1000, seed=7)
    buffers = perpcore.BatchBuffers()
    assert buffers.nbytes() == 0

    book_cls().process(cmds, deltas=True, out=buffers)
    held = buffers.nbytes()
    for _ in range(3):
        book_cls().process(cmds, deltas=True, out=buffers)

    assert held > 0 and buffers.nbytes() == held


def test_views_of_reused_batch_buffers_stay_readable_after_the_storage_grows():
    book_cls = perpcore.OrderBook
    buffers = perpcore.BatchBuffers()
    small = book_cls().process(_flow(50, seed=8), deltas=True, out=buffers)
    lengths = [len(arr) for arr in small]

    book_cls().process(_flow(3000, seed=9), deltas=True, out=buffers)  # grows every block

    assert [len(arr) for arr in small] == lengths
    assert all(len(arr.tolist()) == n for arr, n in zip(small, lengths))


def _data_address(batch):
    return batch.results.__array_interface__["data"][0]


def test_a_fresh_batch_reuses_the_storage_of_an_earlier_one_whose_results_are_gone():
    cmds = _flow(1000, seed=7)
    first = perpcore.OrderBook().process(cmds, deltas=True)
    address = _data_address(first)
    del first  # no array views that storage any more

    second = perpcore.OrderBook().process(cmds, deltas=True)

    assert _data_address(second) == address


@pytest.mark.parametrize("keep", ["results", "a slice of the fills"])
def test_a_fresh_batch_never_writes_over_results_still_held(book_cls, keep):
    first = book_cls().process(_flow(1000, seed=7), deltas=True)
    held = first.results if keep == "results" else first.fills[10:20]
    before = held.copy()
    del first

    second = book_cls().process(_flow(1000, seed=8), deltas=True)

    assert np.array_equal(held, before)  # the held views were not written over
    assert len(second.results) == 1000
