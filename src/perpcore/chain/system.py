"""perpcore's contracts deployed together: ``System`` lists them in deployment order, one field each, and
``deploy_system`` deploys them, wires their constructor arguments and grants the roles.

A new contract joins with one field on ``System``: its wrapper class as the type and ``component(...)``
giving its constructor arguments (from the admin, the ``DeployParams`` and the contracts deployed before it)
and the roles it checks. This module decides nothing about a contract beyond that table.
"""

import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from eth_utils import keccak
from web3 import Web3

from perpcore.chain.contract import BoundContract
from perpcore.chain.contracts import CollateralVault, DevUSDC
from perpcore.errors import InvalidInput

__all__ = ["DeployParams", "System", "deploy_system", "role_id"]


@dataclass(frozen=True)
class DeployParams:
    """Deployment settings that are not addresses."""

    withdrawal_delay_s: int = 3600
    """Seconds between a withdrawal request and its earliest execution (at most 7 days)."""


@dataclass(frozen=True)
class _Context:
    """What a component's constructor arguments are computed from."""

    admin: str
    params: DeployParams
    deployed: Mapping[str, BoundContract]

    def __getattr__(self, name: str) -> BoundContract:
        if name in self.deployed:
            return self.deployed[name]
        raise AttributeError(f"{name} is not deployed before this component")


def component(args: Callable[[_Context], tuple[Any, ...]], roles: tuple[str, ...] = ()) -> Any:
    """A ``System`` field: ``args`` gives the constructor arguments, ``roles`` the Roles.sol names (without
    ``_ROLE``) that the contract checks and ``deploy_system`` may grant on it."""
    return field(metadata={"args": args, "roles": roles})


@dataclass(frozen=True)
class System:
    """perpcore's deployed contracts, in deployment order, all sending from the admin."""

    usdc: DevUSDC = component(lambda d: ())
    vault: CollateralVault = component(lambda d: (d.usdc, d.params.withdrawal_delay_s, d.admin),
                                       roles=("WITHDRAWAL_GUARD", "PAUSER"))


def role_id(name: str) -> bytes:
    """A Roles.sol role id: keccak256 of ``<NAME>_ROLE`` (``DEFAULT_ADMIN`` is OpenZeppelin's zero id)."""
    return bytes(32) if name == "DEFAULT_ADMIN" else keccak(text=f"{name}_ROLE")


def deploy_system(w3: Web3, admin: str, *, params: DeployParams = DeployParams(),
                  roles: Mapping[str, Iterable[str]] | None = None) -> System:
    """Deploys every ``System`` component from ``admin`` (who holds each contract's admin role), then
    grants each role in ``roles`` (Roles.sol name → accounts) on every component that checks it.
    InvalidInput, before anything is deployed, for a role no component checks."""
    roles = {name: list(holders) for name, holders in (roles or {}).items()}
    checked = {r for f in fields(System) for r in f.metadata["roles"]}
    unknown = sorted(set(roles) - checked)
    if unknown:
        raise InvalidInput(f"no component checks {unknown}; known roles: {sorted(checked)}")
    hints = typing.get_type_hints(System)
    deployed: dict[str, BoundContract] = {}
    for f in fields(System):
        context = _Context(Web3.to_checksum_address(admin), params, deployed)
        deployed[f.name] = hints[f.name].deploy(w3, admin, *f.metadata["args"](context))
    for f in fields(System):
        for role in f.metadata["roles"]:
            for holder in roles.get(role, ()):
                deployed[f.name].grant_role(role_id(role), holder)
    return System(**deployed)
