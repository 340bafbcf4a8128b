"""The compiled contracts perpcore ships: ``perpcore/bindings/<Contract>.json``, one file per deployable
contract or linked library under ``contracts/src``, written by ``contracts/tools/export_bindings.py`` from
``forge build``.

This module only reads them (ABI, creation bytecode and where linked libraries' addresses go in it,
NatSpec, the hash of the sources that produced them) and links creation code; it never compiles, and it
never writes. The same files sit in the repository's ``bindings/`` and,
through the ``src/perpcore/bindings`` link, inside the installed package.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from perpcore.errors import InvalidInput

__all__ = ["Binding", "binding", "binding_names"]


@dataclass(frozen=True)
class Binding:
    """One contract's artifact: its ABI, creation bytecode, NatSpec and the sources it was built from.

    ``kind`` is ``"contract"`` or ``"library"`` (a linked library). ``link_references`` maps each library
    the creation code links against to the byte offsets of its 20-byte address placeholders
    (``linked`` fills them in). ``source_hash`` is the SHA-256 over foundry.toml, package-lock.json and
    every one of our own source files the contract compiles from (``sources``, paths relative to
    ``contracts/``).
    """

    name: str
    kind: str
    source_path: str
    abi: tuple[dict[str, Any], ...]
    bytecode: str
    link_references: Mapping[str, tuple[int, ...]]
    source_hash: str
    sources: tuple[str, ...]
    compiler: str
    evm_version: str
    devdoc: dict[str, Any]
    userdoc: dict[str, Any]

    def linked(self, libraries: Mapping[str, str]) -> str:
        """The creation code with each linked library's address (``libraries``: library name → address)
        in its placeholders; InvalidInput unless ``libraries`` names exactly the libraries linked."""
        if set(libraries) != set(self.link_references):
            raise InvalidInput(f"{self.name} links {sorted(self.link_references) or 'no library'}, "
                               f"given {sorted(libraries) or 'none'}")
        code = self.bytecode
        for library, starts in self.link_references.items():
            address = libraries[library].lower().removeprefix("0x")
            if len(address) != 40:
                raise InvalidInput(f"{library}'s address {libraries[library]!r} is not 20 bytes")
            for start in starts:
                at = 2 + 2 * start
                code = code[:at] + address + code[at + 40:]
        return code


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
        kind=raw["kind"],
        source_path=raw["sourcePath"],
        abi=tuple(raw["abi"]),
        bytecode=raw["bytecode"],
        link_references={library: tuple(starts) for library, starts in raw["linkReferences"].items()},
        source_hash=raw["sourceHash"],
        sources=tuple(raw["sources"]),
        compiler=raw["compiler"],
        evm_version=raw["evmVersion"],
        devdoc=raw["devdoc"],
        userdoc=raw["userdoc"],
    )
