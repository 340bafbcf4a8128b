"""The hand-written stubs src/perpcore/_book.pyi, _margin.pyi, _funding.pyi, _results.pyi and
_engine.pyi must describe the compiled modules exactly.

Checked: each stub's public names equal the runtime module's own public names and the public
attributes of its classes (OrderBook, Result, BatchBuffers, RiskTier, FundingParams,
FundingSampler, the call records, Exchange); each member is the same kind
(property, method, staticmethod); functions and methods take the same parameters with the same
defaults; every annotation resolves; and the values the native modules really return conform to
the stubs' return annotations.
"""

import __future__
import ast
import collections.abc
import functools
import inspect
import pickle
import sys
import types
import typing
from pathlib import Path

import numpy as np
import pytest

import perpcore
from perpcore import (
    _book, _engine, _funding, _margin, _results, book_types, codes, errors, events,
    exchange_types, funding_types,
)

STUB_SUFFIX = "_stub_under_test"
CLASSES = ("OrderBook", "Result", "BatchBuffers")
RECORDS = ("CallResult", "SubmitResult", "WithdrawalResult", "ExchangeBatch")  # only properties
# (runtime module, class) of every native class the stubs describe
ALL_CLASSES = [(_book, name) for name in CLASSES] + [
    (_margin, "RiskTier"), (_funding, "FundingParams"), (_funding, "FundingSampler"),
    (_engine, "Exchange")] + [(_results, name) for name in RECORDS]
CLASS_IDS = [name for _, name in ALL_CLASSES]
# protocol methods that, when the runtime class defines them, the stub must declare
PROTOCOL_DUNDERS = {"__len__", "__contains__", "__iter__", "__getitem__", "__reduce__", "__eq__",
                    "__hash__", "__bool__", "__enter__", "__exit__", "__call__"}


# ------------------------------------------------------------------------------ the stub's view

def _stub_path(module):
    return Path(module.__file__).with_name(module.__name__.rpartition(".")[2] + ".pyi")


def _stub_tree(module=_book):
    path = _stub_path(module)
    return ast.parse(path.read_text(), filename=str(path))


def _stub_module_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def _decorators(fn):
    return {d.id if isinstance(d, ast.Name) else ast.unparse(d) for d in fn.decorator_list}


def _stub_members(tree, class_name):
    """{name: (kind, FunctionDef or None)} of a stub class, with what it inherits from classes of
    the same stub; kind: property/staticmethod/method."""
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    members = {}
    stub_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in stub_classes:
            members.update(_stub_members(tree, base.id))
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            decorators = _decorators(node)
            if "property" in decorators:
                kind = "property"
            elif "staticmethod" in decorators:
                kind = "staticmethod"
            else:
                kind = "method"
            members[node.name] = (kind, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members[node.target.id] = ("property", None)
    return members


def _stub_params(fn):
    """[(name, kind, default)] of a stub function; default is inspect.Parameter.empty if none."""
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(a.defaults)) + [
        ast.literal_eval(d) for d in a.defaults]
    for arg, default in zip(positional, defaults):
        kind = "positional_only" if arg in a.posonlyargs else "positional_or_keyword"
        out.append((arg.arg, kind, default))
    if a.vararg is not None:
        out.append((a.vararg.arg, "var_positional", inspect.Parameter.empty))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "keyword_only",
                    inspect.Parameter.empty if default is None else ast.literal_eval(default)))
    if a.kwarg is not None:
        out.append((a.kwarg.arg, "var_keyword", inspect.Parameter.empty))
    return out


@functools.cache
def _load_stub(module=_book):
    """Execute the stub as a module so that its annotations can be resolved.

    Annotations in a stub are never evaluated eagerly (a method may name its own class), so the
    stub is compiled with postponed evaluation and resolved afterwards by get_type_hints.
    """
    path = _stub_path(module)
    stub = types.ModuleType(module.__name__ + STUB_SUFFIX)
    sys.modules[stub.__name__] = stub  # get_type_hints resolves TypedDict fields through it
    code = compile(path.read_text(), str(path), "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    exec(code, stub.__dict__)
    return stub


# ---------------------------------------------------------------------------- the runtime view

def _runtime_module_names(module=_book):
    """Public names the module defines itself (not modules, not names re-exported from the
    vocabulary modules it imports)."""
    own = set()
    for name in dir(module):
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            continue
        if getattr(value, "__module__", None) == module.__name__:
            own.add(name)  # defined here, whoever re-exports it
            continue
        if any(getattr(m, name, object()) is value
               for m in (book_types, codes, errors, events, exchange_types, funding_types,
                         types)):
            continue
        own.add(name)
    return own


def _runtime_kind(cls, name):
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return "property"
    assert callable(raw), f"{cls.__name__}.{name} is neither a property nor callable"
    return "method"


def _runtime_params(cls, name):
    raw = inspect.getattr_static(cls, name)
    fn = raw.__func__ if isinstance(raw, staticmethod) else raw
    return [(p.name, p.kind.name.lower(), p.default)
            for p in inspect.signature(fn).parameters.values()]


def _user_defined_dunders(cls):
    """The protocol methods the class or one of its bases (but object) defines."""
    out = set()
    for klass in cls.__mro__[:-1]:
        for name, value in vars(klass).items():
            if name in PROTOCOL_DUNDERS and getattr(value, "__name__", name) == name:
                out.add(name)  # Cython's auto-generated __reduce_cython__ is not the class's own
    return out


# ------------------------------------------------------------------------------------ tests

def test_the_stub_declares_exactly_the_modules_own_public_names():
    assert _stub_module_names(_stub_tree()) == _runtime_module_names()
    assert {"OrderBook", "Result", "DEBUG_BUILD"} <= _runtime_module_names()


def test_the_engine_stub_declares_exactly_the_modules_own_public_names():
    assert _stub_module_names(_stub_tree(_engine)) == _runtime_module_names(_engine) == {"Exchange"}


def test_the_results_stub_declares_exactly_the_modules_own_public_names():
    assert _stub_module_names(_stub_tree(_results)) == _runtime_module_names(_results) == set(
        RECORDS)


def test_every_annotation_in_the_results_stub_resolves():
    stub = _load_stub(_results)
    for class_name in ("_Record",) + RECORDS:
        for name, value in vars(getattr(stub, class_name)).items():
            fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(fn):
                assert "return" in typing.get_type_hints(fn), f"{class_name}.{name} return type"


def test_the_margin_stub_declares_exactly_the_modules_own_public_names():
    assert _stub_module_names(_stub_tree(_margin)) == _runtime_module_names(_margin)
    assert {"RiskTier", "apply_fill", "fillable_price_ppm"} <= _runtime_module_names(_margin)


@pytest.mark.parametrize(("module", "class_name"), ALL_CLASSES, ids=CLASS_IDS)
def test_the_stub_declares_exactly_the_public_attributes_of_the_class(module, class_name):
    cls = getattr(module, class_name)
    stub = {n for n in _stub_members(_stub_tree(module), class_name) if not n.startswith("_")}
    runtime = {n for n in dir(cls) if not n.startswith("_")}

    assert stub == runtime


@pytest.mark.parametrize(("module", "class_name"), ALL_CLASSES, ids=CLASS_IDS)
def test_the_stub_declares_the_protocol_methods_the_class_defines(module, class_name):
    cls = getattr(module, class_name)
    stub_dunders = {n for n in _stub_members(_stub_tree(module), class_name)
                    if n.startswith("__") and n != "__init__"}

    assert stub_dunders == _user_defined_dunders(cls)


@pytest.mark.parametrize(("module", "class_name"), ALL_CLASSES, ids=CLASS_IDS)
def test_every_member_has_the_same_kind_in_stub_and_module(module, class_name):
    cls = getattr(module, class_name)
    for name, (kind, _) in _stub_members(_stub_tree(module), class_name).items():
        if name == "__init__":
            continue
        assert kind == _runtime_kind(cls, name), f"{class_name}.{name}"


@pytest.mark.parametrize(("module", "class_name"), ALL_CLASSES, ids=CLASS_IDS)
def test_methods_take_the_same_parameters_with_the_same_defaults(module, class_name):
    cls = getattr(module, class_name)
    checked = 0
    for name, (kind, fn) in _stub_members(_stub_tree(module), class_name).items():
        if kind == "property" or name.startswith("__"):
            continue  # slot wrappers (__len__, ...) carry no parameter names at run time
        assert _stub_params(fn) == _runtime_params(cls, name), f"{class_name}.{name}"
        checked += 1
    assert checked > 0 or class_name == "Result" or class_name in RECORDS


def test_batch_buffers_conform_to_the_stub():
    stub = _load_stub()
    buffers = _book.BatchBuffers()
    empty = buffers.nbytes()
    _sample_book().process(np.zeros(3, perpcore.COMMAND_DTYPE), out=buffers)

    for value in (empty, buffers.nbytes()):
        assert _conforms(value, _return_hint(stub.BatchBuffers, "nbytes"))
    assert buffers.nbytes() > empty


def test_the_constructor_parameters_and_defaults_match_the_stub():
    members = _stub_members(_stub_tree(), "OrderBook")
    params = _stub_params(members["__init__"][1])[1:]  # without self
    defaults = {name: default for name, _, default in params}

    book = _book.OrderBook()
    assert {n: getattr(book, n) for n in defaults} == defaults
    # each parameter is accepted by keyword and by position, in the stub's order
    keyword = _book.OrderBook(**defaults)
    positional = _book.OrderBook(*defaults.values())
    assert keyword.snapshot() == positional.snapshot() == book.snapshot()


def test_every_annotation_in_the_stub_resolves():
    stub = _load_stub()
    hints = typing.get_type_hints(stub)
    assert set(hints) >= {"DEBUG_BUILD", "MAX_ORDER_SIZE_LIMIT", "SNAPSHOT_MAGIC",
                          "SNAPSHOT_VERSION"}
    for class_name in CLASSES:
        for name, value in vars(getattr(stub, class_name)).items():
            fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(fn):
                assert "return" in typing.get_type_hints(fn), f"{class_name}.{name} return type"


# ----------------------------------------------------------- runtime values vs annotations

def _conforms(value, hint):
    if hint is typing.Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Final:
        return _conforms(value, args[0])
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(_conforms(v, a) for v, a in zip(value, args))
    if origin is collections.abc.Callable:
        return callable(value)
    if origin is np.ndarray:
        scalar = typing.get_args(args[1])[0]
        return isinstance(value, np.ndarray) and issubclass(value.dtype.type, scalar)
    if typing.is_typeddict(hint):
        fields = typing.get_type_hints(hint)
        return (isinstance(value, dict) and set(value) == set(fields)
                and all(_conforms(value[k], t) for k, t in fields.items()))
    if origin is dict:
        return isinstance(value, dict) and all(
            _conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items())
    assert isinstance(hint, type), f"unhandled annotation {hint!r}"
    if hint.__module__.endswith(STUB_SUFFIX):  # a class of the stub: the runtime class it describes
        hint = getattr(sys.modules[hint.__module__.removesuffix(STUB_SUFFIX)], hint.__name__)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _sample_book():
    book = _book.OrderBook()
    book.place(1, 1, perpcore.Side.SELL, 500_000, 2)
    book.place(2, 2, perpcore.Side.SELL, 500_000, 3, reduce_only=True)
    book.place(3, 2, perpcore.Side.BUY, 400_000, 3)
    return book


def _returned_values():
    """(member name, value) for every public OrderBook member, from real calls."""
    book = _sample_book()
    cmds = np.zeros(1, perpcore.COMMAND_DTYPE)
    cmds[0] = (perpcore.Op.CANCEL, 0, 0, 0, 0, 3, 0, 0, 0)
    yield "tick_ppm", book.tick_ppm
    yield "lot", book.lot
    yield "min_size", book.min_size
    yield "max_size", book.max_size
    yield "check_place", book.check_place(10, 3, perpcore.Side.BUY, 500_000, 4)
    yield "place", book.place(10, 3, perpcore.Side.BUY, 500_000, 4)
    yield "amend", book.amend(2, 1)
    yield "cancel", book.cancel(99)
    yield "cancel_all", book.cancel_all(1)
    yield "process", book.process(cmds)
    yield "process", book.process(cmds, deltas=True)
    yield "process", book.process(cmds, deltas=True, out=_book.BatchBuffers())
    yield "best_bid", book.best_bid()
    yield "best_ask", book.best_ask()
    yield "best_bid", _book.OrderBook().best_bid()
    yield "depth", book.depth()
    yield "impact_price", book.impact_price(perpcore.Side.SELL, 1)
    assert book.order(2) is not None, "sample a live order too"
    yield "order", book.order(2)
    yield "order", book.order(99)
    yield "__len__", len(book)
    yield "__contains__", 2 in book
    yield "memory_bytes", book.memory_bytes()
    yield "check_integrity", book.check_integrity()
    yield "snapshot", book.snapshot()
    yield "restore", _book.OrderBook.restore(book.snapshot())
    yield "state_hash", book.state_hash()
    yield "__reduce__", book.__reduce__()


def _return_hint(stub_cls, name):
    value = vars(stub_cls)[name]
    fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
    return typing.get_type_hints(fn)["return"]


def test_what_the_order_book_returns_conforms_to_the_stub():
    stub = _load_stub()
    seen = set()
    for name, value in _returned_values():
        seen.add(name)
        hint = _return_hint(stub.OrderBook, name)
        assert _conforms(value, hint), f"OrderBook.{name} returned {value!r}, stub says {hint}"
    stub_public = {n for n in _stub_members(_stub_tree(), "OrderBook") if n != "__init__"}
    assert seen == stub_public, "every OrderBook member must be sampled"


def test_what_a_result_reports_conforms_to_the_stub():
    stub = _load_stub()
    book = _sample_book()
    book.place(4, 2, perpcore.Side.BUY, 390_000, 1)
    results = [
        book.place(10, 2, perpcore.Side.BUY, 500_000, 7, tif=perpcore.TimeInForce.IOC),
        book.place(11, 2, perpcore.Side.BUY, 0, 1),
        book.cancel(4),
    ]
    assert results[0].fills and results[0].cancelled and results[0].deltas
    for result in results:
        for name in {n for n in _stub_members(_stub_tree(), "Result") if not n.startswith("_")}:
            value = getattr(result, name)
            hint = _return_hint(stub.Result, name)
            assert _conforms(value, hint), f"Result.{name} is {value!r}, stub says {hint}"


def test_module_constants_conform_to_the_stub():
    hints = typing.get_type_hints(_load_stub())
    for name, hint in hints.items():
        if not name.startswith("_"):
            assert _conforms(getattr(_book, name), hint), name


def test_a_pickled_book_uses_the_reduce_the_stub_describes():
    book = _sample_book()
    restore, (snap,) = book.__reduce__()

    assert restore(snap).snapshot() == book.snapshot()
    assert pickle.loads(pickle.dumps(book)).snapshot() == book.snapshot()


# ------------------------------------------------------------------------ the margin engine

def _stub_functions(module):
    return {n.name: n for n in _stub_tree(module).body
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def test_margin_functions_take_the_same_parameters_with_the_same_defaults():
    functions = _stub_functions(_margin)
    assert len(functions) == 12
    for name, fn in functions.items():
        assert _stub_params(fn) == _runtime_params(_margin, name), name


def test_every_annotation_in_the_margin_stub_resolves():
    stub = _load_stub(_margin)
    for name in _stub_functions(_margin):
        assert "return" in typing.get_type_hints(getattr(stub, name)), name
    for name, value in vars(stub.RiskTier).items():
        fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if inspect.isfunction(fn):
            assert "return" in typing.get_type_hints(fn), f"RiskTier.{name} return type"


def _margin_returned_values():
    """(name, value) for every public function of _margin, from real calls."""
    m = _margin
    yield "at_risk_notional_qq", m.at_risk_notional_qq(-3, 400_000)
    yield "imf_ppm", m.imf_ppm(100_000, 5, 0, 10)
    yield "initial_requirement_qq", m.initial_requirement_qq(3, 400_000, 100_000)
    yield "maintenance_requirement_qq", m.maintenance_requirement_qq(3, 400_000, 50_000)
    yield "fee_qq", m.fee_qq(1_000, -100)
    yield "unrealized_pnl_qq", m.unrealized_pnl_qq(3, 1_200_000, 500_000)
    yield "equity_qq", m.equity_qq(500, 3, 1_200_000, 500_000, -7)
    yield "apply_fill", m.apply_fill(3, 1_200_000, -5, 500_000)
    yield "entry_price_ppm", m.entry_price_ppm(3, 1_200_000)
    yield "bankruptcy_price_ppm", m.bankruptcy_price_ppm(3, 1, 500_000, 100_000, 50_000)
    yield "fillable_price_ppm", m.fillable_price_ppm(3, 500_000, 10, 75_000, 1_000_000, 100_000,
                                                     1_000)
    yield "liquidation_price_ppm", m.liquidation_price_ppm(3, 1_200_000, 100_000, 50_000)


def _risk_tier_returned_values():
    tier = _margin.RiskTier(oi_lower_cap_qq=10, oi_upper_cap_qq=20, maker_fee_ppm=-100)
    yield "base_imf_ppm", tier.base_imf_ppm
    yield "mmf_ppm", tier.mmf_ppm
    yield "oi_lower_cap_qq", tier.oi_lower_cap_qq
    yield "oi_upper_cap_qq", tier.oi_upper_cap_qq
    yield "taker_fee_ppm", tier.taker_fee_ppm
    yield "maker_fee_ppm", tier.maker_fee_ppm
    yield "insurance_share_ppm", tier.insurance_share_ppm
    for name in ("liquidation_fee_ppm", "bankruptcy_adjustment_ppm", "spread_to_mmr_ppm",
                 "liquidation_portion_ppm", "liquidation_min_notional_qq",
                 "liquidation_max_notional_qq", "insurance_max_draw_qq"):
        yield name, getattr(tier, name)
    yield "imf_ppm", tier.imf_ppm(15)
    yield "initial_requirement_qq", tier.initial_requirement_qq(-3, 400_000, 15)
    yield "maintenance_requirement_qq", tier.maintenance_requirement_qq(-3, 400_000)
    yield "taker_fee_qq", tier.taker_fee_qq(1_000)
    yield "maker_fee_qq", tier.maker_fee_qq(1_000)
    yield "insurance_share_qq", tier.insurance_share_qq(1_000)
    yield "as_dict", tier.as_dict()
    yield "__eq__", tier == _margin.RiskTier()
    yield "__hash__", hash(tier)
    yield "__reduce__", tier.__reduce__()


def test_what_the_margin_functions_return_conforms_to_the_stub():
    stub = _load_stub(_margin)
    seen = set()
    for name, value in _margin_returned_values():
        seen.add(name)
        hint = typing.get_type_hints(getattr(stub, name))["return"]
        assert _conforms(value, hint), f"{name} returned {value!r}, stub says {hint}"
    assert seen == set(_stub_functions(_margin)), "every function must be sampled"


def test_what_a_risk_tier_returns_conforms_to_the_stub():
    stub = _load_stub(_margin)
    seen = set()
    for name, value in _risk_tier_returned_values():
        seen.add(name)
        hint = _return_hint(stub.RiskTier, name)
        assert _conforms(value, hint), f"RiskTier.{name} returned {value!r}, stub says {hint}"
    assert seen == set(_stub_members(_stub_tree(_margin), "RiskTier")) - {"__init__"}


def test_the_risk_tier_constructor_is_keyword_only_with_the_stubs_defaults():
    members = _stub_members(_stub_tree(_margin), "RiskTier")
    params = _stub_params(members["__init__"][1])[1:]  # without self
    defaults = {name: default for name, _, default in params}

    assert {kind for _, kind, _ in params} == {"keyword_only"}
    assert _margin.RiskTier().as_dict() == defaults
    assert _margin.RiskTier(**defaults) == _margin.RiskTier()
    with pytest.raises(TypeError):
        _margin.RiskTier(*defaults.values())


def test_a_pickled_risk_tier_uses_the_reduce_the_stub_describes():
    tier = _margin.RiskTier(base_imf_ppm=200_000, oi_upper_cap_qq=5)
    restore, (fields,) = tier.__reduce__()

    assert restore(fields) == tier
    assert pickle.loads(pickle.dumps(tier)) == tier


# --------------------------------------------------------------------------- the funding sampler

FUNDING_FIELDS = dict(impact_notional_qq=10_000_000, sample_clamp_ppm=50_000, blocks_per_minute=2,
                      minutes_per_period=2, base_imf_ppm=100_000, mmf_ppm=50_000)


def test_the_funding_stub_declares_exactly_the_modules_own_public_names():
    assert _stub_module_names(_stub_tree(_funding)) == _runtime_module_names(_funding)
    assert {"FundingParams", "FundingSampler", "median_padded"} <= _runtime_module_names(_funding)


def test_funding_functions_take_the_same_parameters_with_the_same_defaults():
    functions = _stub_functions(_funding)
    assert len(functions) == 4
    for name, fn in functions.items():
        assert _stub_params(fn) == _runtime_params(_funding, name), name


def test_every_annotation_in_the_funding_stub_resolves():
    stub = _load_stub(_funding)
    for name in _stub_functions(_funding):
        assert "return" in typing.get_type_hints(getattr(stub, name)), name
    for class_name in ("FundingParams", "FundingSampler"):
        for name, value in vars(getattr(stub, class_name)).items():
            fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(fn):
                hints = typing.get_type_hints(fn)
                assert "return" in hints, f"{class_name}.{name} return type"


def _funding_book():
    book = _book.OrderBook()
    book.place(1, 1, perpcore.Side.BUY, 490_000, 100)
    book.place(2, 2, perpcore.Side.SELL, 510_000, 100)
    return book


def _funding_returned_values():
    f = _funding
    yield "median_padded", f.median_padded([3, -1], 3)
    yield "average_padded", f.average_padded([3, -1], 3)
    yield "funding_cap_idx", f.funding_cap_idx(400_000, 100_000, 50_000)
    yield "funding_payment_qq", f.funding_payment_qq(-3, 10**6, 0)


def _funding_params_returned_values():
    params = _funding.FundingParams(**FUNDING_FIELDS)
    for name in params.as_dict():
        yield name, getattr(params, name)
    yield "for_tier", _funding.FundingParams.for_tier(
        _margin.RiskTier(), **{k: v for k, v in FUNDING_FIELDS.items() if "mf" not in k})
    yield "cap_idx", params.cap_idx(400_000)
    yield "as_dict", params.as_dict()
    yield "__eq__", params == _funding.FundingParams(**FUNDING_FIELDS)
    yield "__hash__", hash(params)
    yield "__reduce__", params.__reduce__()


def _funding_sampler_returned_values():
    from perpcore.reference import ReferenceOrderBook

    sampler = _funding.FundingSampler(_funding.FundingParams(**FUNDING_FIELDS))
    reference_book = ReferenceOrderBook()
    reference_book.place(1, 1, perpcore.Side.BUY, 490_000, 100)
    reference_book.place(2, 2, perpcore.Side.SELL, 510_000, 100)
    yield "params", sampler.params
    yield "sample", sampler.sample(_funding_book(), 480_000)
    yield "sample", sampler.sample(reference_book, 480_000)
    yield "samples_in_minute", sampler.samples_in_minute
    yield "close_minute", sampler.close_minute()
    yield "minutes_in_period", sampler.minutes_in_period
    yield "close_period", sampler.close_period(500_000)
    yield "cumulative_index", sampler.cumulative_index
    yield "check_integrity", sampler.check_integrity()


def test_what_the_funding_functions_return_conforms_to_the_stub():
    stub = _load_stub(_funding)
    seen = set()
    for name, value in _funding_returned_values():
        seen.add(name)
        hint = typing.get_type_hints(getattr(stub, name))["return"]
        assert _conforms(value, hint), f"{name} returned {value!r}, stub says {hint}"
    assert seen == set(_stub_functions(_funding)), "every function must be sampled"


@pytest.mark.parametrize(("class_name", "values"), [
    ("FundingParams", _funding_params_returned_values),
    ("FundingSampler", _funding_sampler_returned_values),
])
def test_what_the_funding_classes_return_conforms_to_the_stub(class_name, values):
    stub = _load_stub(_funding)
    seen = set()
    for name, value in values():
        seen.add(name)
        hint = _return_hint(getattr(stub, class_name), name)
        assert _conforms(value, hint), f"{class_name}.{name} returned {value!r}, stub says {hint}"
    assert seen == set(_stub_members(_stub_tree(_funding), class_name)) - {"__init__"}


def test_the_funding_constructors_match_the_stub():
    members = _stub_members(_stub_tree(_funding), "FundingParams")
    params = _stub_params(members["__init__"][1])[1:]  # without self
    defaults = {name: d for name, _, d in params if d is not inspect.Parameter.empty}

    assert {kind for _, kind, _ in params} == {"keyword_only"}
    names = [name for name, _, _ in params]
    assert names == list(_funding.FundingParams(**FUNDING_FIELDS).as_dict())
    assert defaults == {"rate_scale_ppm": 125_000}
    assert _funding.FundingParams(**FUNDING_FIELDS).rate_scale_ppm == 125_000
    with pytest.raises(TypeError):
        _funding.FundingParams(*FUNDING_FIELDS.values())

    sampler_params = _stub_params(_stub_members(_stub_tree(_funding), "FundingSampler")
                                  ["__init__"][1])[1:]
    assert sampler_params == [("params", "positional_or_keyword", inspect.Parameter.empty),
                              ("cumulative_index", "keyword_only", 0)]
    assert _funding.FundingSampler(_funding.FundingParams(**FUNDING_FIELDS)).cumulative_index == 0


def test_pickled_funding_params_use_the_reduce_the_stub_describes():
    params = _funding.FundingParams(**FUNDING_FIELDS)
    restore, (fields,) = params.__reduce__()

    assert restore(fields) == params
    assert pickle.loads(pickle.dumps(params)) == params


# ------------------------------------------------------------------------------- the exchange

def _exchange_returned_values():
    """(member name, value) for every public Exchange member, from real calls."""
    ex = _engine.Exchange(withdrawal_delay=5)
    ex.add_market("M", risk=_margin.RiskTier())
    cmds = np.zeros(2, perpcore.COMMAND_DTYPE)
    cmds[0] = (perpcore.Op.PLACE, 0, 0, 0, 0, 7, 1, 400_000, 3)
    cmds[1] = (perpcore.Op.CANCEL, 0, 0, 0, 0, 7, 0, 0, 0)
    yield "withdrawal_delay", ex.withdrawal_delay
    yield "add_market", ex.add_market("N")
    yield "markets", ex.markets
    yield "book", ex.book("M")
    yield "risk", ex.risk("M")
    yield "set_mark", ex.set_mark("M", 510_000)
    yield "mark", ex.mark("M")
    yield "deposit", ex.deposit(1, 10**9)
    yield "deposit", ex.deposit(2, 10**9)
    yield "add_margin", ex.add_margin(1, "M", 10**6)
    w = ex.request_withdrawal(1, 10**6, now=0)
    yield "request_withdrawal", w
    yield "pending_withdrawals", ex.pending_withdrawals()
    yield "pending_withdrawals", ex.pending_withdrawals(1)
    yield "process_withdrawal", ex.process_withdrawal(w.withdrawal_id, now=5)
    yield "submit", ex.submit("M", 1, 1, perpcore.Side.SELL, 500_000, 10)
    yield "submit", ex.submit("M", 2, 2, perpcore.Side.BUY, 500_000, 4, tif=perpcore.TimeInForce.IOC)
    yield "submit", ex.submit("M", 3, 1, perpcore.Side.BUY, 400_000, 1, reduce_only=np.bool_(True))
    yield "cancel", ex.cancel("M", 99)
    yield "cancel_all", ex.cancel_all("M", 1)
    yield "process", ex.process("M", cmds)
    yield "balances", ex.balances(1)
    yield "position", ex.position(2, "M")
    yield "margin", ex.margin(2, "M")
    yield "margin", ex.margin(3, "M")
    yield "open_interest", ex.open_interest("M")
    yield "insurance_fund", ex.insurance_fund("M")
    yield "fees_collected", ex.fees_collected("M")
    yield "clearing_pool", ex.clearing_pool("M")
    yield "bad_debt", ex.bad_debt("M")
    ex.submit("M", 4, 1, perpcore.Side.SELL, 600_000, 1)
    yield "order_lock", ex.order_lock("M", 4)
    yield "order_lock", ex.order_lock("M", 99)
    yield "check_conservation", ex.check_conservation()
    yield "check_integrity", ex.check_integrity()
    yield "update_oracle", ex.update_oracle("M", 520_000, 10, 10)
    yield "index", ex.index("M")
    yield "mark_stale", ex.mark_stale("M", 11)
    yield "phase", ex.phase("M")
    yield "sample_funding", ex.sample_funding("M")
    yield "close_funding_minute", ex.close_funding_minute("M")
    yield "close_funding_period", ex.close_funding_period("M", 12)
    yield "funding_index", ex.funding_index("M")
    yield "funding_pool", ex.funding_pool("M")
    yield "fund_insurance", ex.fund_insurance(1, "M", 1)
    yield "liquidate", ex.liquidate(12)
    yield "begin_resolution", ex.begin_resolution("M", 1_000_000, 13, 10)
    yield "refresh_mark", ex.refresh_mark("M", 18)
    yield "sample_funding", ex.sample_funding("M")
    yield "close_funding_minute", ex.close_funding_minute("M")
    yield "resolve", ex.resolve("M", 23)
    yield "settle", ex.settle("M", 24)
    ex.add_market("D", active=False)
    yield "activate", ex.activate("D", 25)


def test_every_annotation_in_the_engine_stub_resolves():
    stub = _load_stub(_engine)
    for name, value in vars(stub.Exchange).items():
        fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if inspect.isfunction(fn):
            assert "return" in typing.get_type_hints(fn), f"Exchange.{name} return type"


def test_what_the_exchange_returns_conforms_to_the_stub():
    stub = _load_stub(_engine)
    seen = set()
    for name, value in _exchange_returned_values():
        seen.add(name)
        hint = _return_hint(stub.Exchange, name)
        assert _conforms(value, hint), f"Exchange.{name} returned {value!r}, stub says {hint}"
    assert seen == set(_stub_members(_stub_tree(_engine), "Exchange")) - {"__init__"}
