"""The compiled contracts perpcore ships: ``perpcore/bindings/<Contract>.json``, one file per deployable
contract under ``contracts/src``, written by ``contracts/tools/export_bindings.py`` from ``forge build``.

This module only reads them (ABI, creation bytecode, NatSpec, the hash of the sources that produced
them); it never compiles, and it never writes. The same files sit in the repository's ``bindings/`` and,
through the ``src/perpcore/bindings`` link, inside the installed package.
"""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from perpcore.errors import InvalidInput

__all__ = ["Binding", "binding", "binding_names"]


@dataclass(frozen=True)
class Binding:
    """One contract's artifact: its ABI, creation bytecode, NatSpec and the sources it was built from.

    ``source_hash`` is the SHA-256 over foundry.toml, package-lock.json and every one of our own source
    files the contract compiles from (``sources``, paths relative to ``contracts/``).
    """

    name: str
    source_path: str
    abi: tuple[dict[str, Any], ...]
    bytecode: str
    source_hash: str
    sources: tuple[str, ...]
    compiler: str
    evm_version: str
    devdoc: dict[str, Any]
    userdoc: dict[str, Any]


def _root():
    return resources.files("perpcore") / "bindings"


@cache
def binding_names() -> tuple[str, ...]:
    """The names of every shipped binding, sorted."""
    return tuple(sorted(p.name.removesuffix(".json") for p in _root().iterdir() if p.name.endswith(".json")))


@cache
def binding(name: str) -> Binding:
    """The binding of contract ``name`` (InvalidInput when perpcore ships none by that name)."""
    if name not in binding_names():
        raise InvalidInput(f"no binding named {name!r}; perpcore ships {', '.join(binding_names())}")
    raw = json.loads((_root() / f"{name}.json").read_text())
    return Binding(
        name=raw["contractName"],
        source_path=raw["sourcePath"],
        abi=tuple(raw["abi"]),
        bytecode=raw["bytecode"],
        source_hash=raw["sourceHash"],
        sources=tuple(raw["sources"]),
        compiler=raw["compiler"],
        evm_version=raw["evmVersion"],
        devdoc=raw["devdoc"],
        userdoc=raw["userdoc"],
    )
