"""The runtime under perpcore's typed contract wrappers: a contract bound to a Web3, an address and a
sender; calls, transactions sent and waited for, custom-error reverts raised as ``ContractRevert``
subclasses, and events decoded from receipts.

``perpcore.chain.contracts`` (generated from the bindings) holds one ``BoundContract`` subclass per
contract and one ``ContractRevert`` subclass per custom error; this module holds everything they share
and never names a contract. Python-facing names are snake_case (``perpcore.chain.naming``); Solidity
signatures travel unchanged to web3.
"""

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Any, Self

from eth_abi import decode as abi_decode
from eth_utils import keccak
from web3 import Web3
from web3._utils.abi import map_abi_data
from web3._utils.events import get_event_data
from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
from web3.exceptions import ContractLogicError, LogTopicError, MismatchedABI

from perpcore.chain.artifacts import binding, binding_names
from perpcore.chain.naming import snake_case
from perpcore.errors import ContractRevert, InvalidInput

__all__ = ["BoundContract", "Event", "Receipt", "decode_logs", "decode_revert", "revert_error"]

_STANDARD_ERRORS = {  # solc's own: require(cond, "message") and panics (overflow, division by zero, ...)
    keccak(text="Error(string)")[:4]: ("Error", ("string",), ("message",)),
    keccak(text="Panic(uint256)")[:4]: ("Panic", ("uint256",), ("code",)),
}
_ERROR_CLASSES: dict[bytes, type[ContractRevert]] = {}


def revert_error(cls: type[ContractRevert]) -> type[ContractRevert]:
    """Registers a generated ``ContractRevert`` subclass (``SIGNATURE``, ``TYPES``, ``FIELDS``) so that
    revert data carrying its selector is raised as it, whichever contract reverted."""
    _ERROR_CLASSES[keccak(text=cls.SIGNATURE)[:4]] = cls
    return cls


def decode_revert(data: bytes) -> ContractRevert:
    """The exception for revert ``data``: the registered custom error, ``Error``/``Panic``, or a bare
    ``ContractRevert`` with ``error_name`` None when the selector is unknown or the data malformed."""
    selector, body = data[:4], data[4:]
    if selector in _ERROR_CLASSES:
        cls = _ERROR_CLASSES[selector]
        name, types, fields = cls.SIGNATURE.partition("(")[0], cls.TYPES, cls.FIELDS
    elif selector in _STANDARD_ERRORS:
        cls = ContractRevert
        name, types, fields = _STANDARD_ERRORS[selector]
    else:
        return ContractRevert(None, data=data)
    try:
        values = abi_decode(list(types), body)
    except Exception:  # eth_abi raises several unrelated types for short or corrupt data
        return ContractRevert(None, data=data)
    values = tuple(map_abi_data(BASE_RETURN_NORMALIZERS, list(types), values))  # checksummed addresses
    return cls(name, values, dict(zip(fields, values)), data)


@dataclass(frozen=True)
class Event:
    """A decoded log: the event's Solidity name, its fields keyed by snake_case name, where it came from."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    log_index: int


@dataclass(frozen=True)
class Receipt:
    """A mined, successful transaction and the events of every bound contract it emitted, in log order."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    events: tuple[Event, ...]
    contract_address: str | None
    """The deployed contract's address for a deployment, else None."""

    def event(self, name: str) -> Event:
        """The one event called ``name`` (InvalidInput unless there is exactly one)."""
        found = [e for e in self.events if e.name == name]
        if len(found) != 1:
            raise InvalidInput(f"expected one {name} event, found {len(found)} among {[e.name for e in self.events]}")
        return found[0]


@cache
def _event_abis() -> dict[bytes, tuple[dict[str, Any], ...]]:
    table: dict[bytes, list[dict[str, Any]]] = {}
    for name in binding_names():
        for item in binding(name).abi:
            if item["type"] == "event" and not item.get("anonymous"):
                signature = f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"
                variants = table.setdefault(keccak(text=signature), [])
                if item not in variants:
                    variants.append(item)
    return {topic: tuple(items) for topic, items in table.items()}


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in item['components'])}){item['type'][5:]}"
    return item["type"]


def decode_logs(w3: Web3, logs: typing.Iterable[Any]) -> tuple[Event, ...]:
    """Every log that an event of a bound contract explains, decoded; other logs are left out."""
    decoded = []
    for log in logs:
        if not log["topics"]:
            continue
        for abi in _event_abis().get(bytes(log["topics"][0]), ()):
            try:
                data = get_event_data(w3.codec, abi, log)
            except (MismatchedABI, LogTopicError):  # same signature, other indexed fields
                continue
            decoded.append(Event(data["event"], {snake_case(k): v for k, v in data["args"].items()},
                                 data["address"], data["blockNumber"], data["logIndex"]))
            break
    return tuple(decoded)


def _revert_data(exc: ContractLogicError) -> bytes:
    data = exc.data
    return bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else b""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(value: Any, shape: Any) -> Any:
    """A decoded ABI value in its generated Python type: a struct as its NamedTuple, an enum as its
    IntEnum, several outputs as a tuple; anything else as web3 decoded it."""
    if shape is None:
        return value
    if isinstance(shape, tuple):
        return tuple(_convert(v, s) for v, s in zip(value, shape))
    if isinstance(shape, type) and issubclass(shape, IntEnum):
        return shape(value)
    if isinstance(shape, type) and issubclass(shape, tuple) and hasattr(shape, "_fields"):
        hints = _hints(shape)
        return shape(*(_convert(v, _shape_of(hints[f])) for v, f in zip(value, shape._fields)))
    return value


def _shape_of(hint: Any) -> Any:
    return hint if isinstance(hint, type) and (issubclass(hint, IntEnum) or hasattr(hint, "_fields")) else None


def _to_abi(value: Any) -> Any:
    if isinstance(value, BoundContract):
        return value.address
    if isinstance(value, tuple):
        return tuple(_to_abi(v) for v in value)
    if isinstance(value, list):
        return [_to_abi(v) for v in value]
    return value


class BoundContract:
    """A deployed contract at ``address`` on ``w3``; transactions go from ``sender`` (an account the node
    signs for, or one a web3 signing middleware holds the key of). ``using(other)`` rebinds the sender.

    Subclasses set ``CONTRACT`` (the binding's name) and add one typed method per external function.
    """

    CONTRACT: typing.ClassVar[str]

    def __init__(self, w3: Web3, address: str, sender: str) -> None:
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.sender = Web3.to_checksum_address(sender)
        self._contract = w3.eth.contract(address=self.address, abi=list(binding(self.CONTRACT).abi))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address}, sender={self.sender})"

    def using(self, sender: str) -> Self:
        """The same contract with transactions sent from ``sender``."""
        return type(self)(self.w3, self.address, sender)

    @classmethod
    def _deploy(cls, w3: Web3, sender: str, *args: Any, libraries: Mapping[str, Any] | None = None) -> Self:
        code = binding(cls.CONTRACT)
        linked = code.linked({name: _to_abi(address) for name, address in (libraries or {}).items()})
        factory = w3.eth.contract(abi=list(code.abi), bytecode=linked)
        receipt = _send(w3, lambda: factory.constructor(*_to_abi(args)).transact({"from": sender}))
        return cls(w3, receipt.contract_address, sender)

    def _call(self, signature: str, *args: Any, returns: Any = None) -> Any:
        fn = self._contract.get_function_by_signature(signature)
        try:
            value = fn(*_to_abi(args)).call({"from": self.sender})
        except ContractLogicError as exc:
            raise decode_revert(_revert_data(exc)) from exc
        return _convert(value, returns)

    def _transact(self, signature: str, *args: Any, value: int = 0) -> Receipt:
        fn = self._contract.get_function_by_signature(signature)
        params = {"from": self.sender, "value": value} if value else {"from": self.sender}
        return _send(self.w3, lambda: fn(*_to_abi(args)).transact(params))

    def events(self, name: str, from_block: int = 0, to_block: int | str = "latest") -> tuple[Event, ...]:
        """Every ``name`` event this contract emitted in the block range, decoded, in chain order."""
        event = self._contract.events[name]
        logs = self.w3.eth.get_logs({"address": self.address, "fromBlock": from_block, "toBlock": to_block,
                                     "topics": [event.topic]})
        return decode_logs(self.w3, logs)


def _send(w3: Web3, send: typing.Callable[[], bytes]) -> Receipt:
    """Sends a transaction (gas estimation first, so a revert surfaces before anything is mined), waits
    for its receipt and decodes its events; a revert raises the matching ``ContractRevert``."""
    try:
        tx_hash = send()
    except ContractLogicError as exc:
        raise decode_revert(_revert_data(exc)) from exc
    mined = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if mined["status"] != 1:
        raise ContractRevert(None, data=b"")
    return Receipt(bytes(tx_hash), mined["blockNumber"], mined["gasUsed"], decode_logs(w3, mined["logs"]),
                   mined.get("contractAddress"))
