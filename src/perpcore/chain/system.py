"""perpcore's contracts deployed together: ``System`` lists them in deployment order, one field each, and
``deploy_system`` deploys them, wires their constructor arguments, links libraries, runs each component's
wiring step and grants the roles.

A new contract joins with one field on ``System``: its wrapper class as the type and ``component(...)``
giving its constructor arguments (from the admin, the ``DeployParams`` and the contracts deployed before it),
the roles it checks and, if it needs one, a wiring step run right after it is deployed. A linked library is
a field like any other, deployed before the contracts that link it; they are linked to it by its binding's
name. This module decides nothing about a contract beyond that table.
"""

import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from eth_utils import keccak
from web3 import Web3

from perpcore.chain.artifacts import binding
from perpcore.chain.contract import BoundContract
from perpcore.chain.contracts import (
    CollateralVault,
    DevUSDC,
    InsuranceFund,
    MarketRegistry,
    MarketRiskRegistry,
    OracleRegistry,
    PositionManager,
    PositionMath,
)
from perpcore.chain.naming import snake_case
from perpcore.errors import InvalidInput

__all__ = ["DeployParams", "System", "deploy_system", "role_id"]


@dataclass(frozen=True)
class DeployParams:
    """Deployment settings: the contracts' constructor parameters that are not contracts of the system."""

    withdrawal_delay_s: int = 3600
    """Seconds between a withdrawal request and its earliest execution (at most 7 days)."""
    max_snapshot_age_s: int = 3600
    """How old a price snapshot may be when the PositionManager uses it."""
    max_move_ppm_per_second: int = 1_000_000
    """The most a snapshot's prices may move per second since the previous one (default: any move)."""
    max_insurance_draw_per_window_qq: int = 10**15
    """The most one market's insurance fund pays out within one draw window."""
    insurance_draw_window_s: int = 3600
    """The insurance draw window's length."""
    inactivity_period_s: int = 3 * 86_400
    """Seconds without a trade batch after which anyone may turn exit mode on."""
    max_funding_delta_per_second_idx: int = 10**9
    """The most a market's funding index may move per second since its previous application, idx."""
    fee_recipient: str | None = None
    """The account credited with trading fees net of the insurance share (None: the admin)."""


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


def component(args: Callable[[_Context], tuple[Any, ...]], roles: tuple[str, ...] = (),
              wire: Callable[[_Context, Any], None] | None = None) -> Any:
    """A ``System`` field: ``args`` gives the constructor arguments, ``roles`` the Roles.sol names (without
    ``_ROLE``) that the contract checks and ``deploy_system`` may grant on it, ``wire`` what the admin does
    with it and the components before it once it is deployed."""
    return field(metadata={"args": args, "roles": roles, "wire": wire})


def _wire_position_manager(d: _Context, positions: PositionManager) -> None:
    """The PositionManager moves the vault's balances and the insurance fund's accounting, and is the
    margin oracle that justifies the withdrawal guard's rejections."""
    d.vault.grant_role(role_id("POSITION_MANAGER"), positions)
    d.insurance.grant_role(role_id("POSITION_MANAGER"), positions)
    d.vault.set_margin_oracle(positions)


@dataclass(frozen=True)
class System:
    """perpcore's deployed contracts, in deployment order, all sending from the admin."""

    usdc: DevUSDC = component(lambda d: ())
    vault: CollateralVault = component(lambda d: (d.usdc, d.params.withdrawal_delay_s, d.admin),
                                       roles=("WITHDRAWAL_GUARD", "PAUSER"))
    oracles: OracleRegistry = component(lambda d: (d.admin,), roles=("RESOLVER",))
    markets: MarketRegistry = component(lambda d: (d.admin, d.oracles), roles=("RESOLVER",))
    risk: MarketRiskRegistry = component(
        lambda d: (d.admin, d.markets, d.params.max_snapshot_age_s, d.params.max_move_ppm_per_second),
        roles=("PRICE_PUSHER",))
    insurance: InsuranceFund = component(
        lambda d: (d.admin, d.params.max_insurance_draw_per_window_qq, d.params.insurance_draw_window_s))
    position_math: PositionMath = component(lambda d: ())
    positions: PositionManager = component(
        lambda d: (d.admin, d.vault, d.markets, d.risk, d.oracles, d.insurance, d.params.fee_recipient or d.admin,
                   d.params.inactivity_period_s, d.params.max_funding_delta_per_second_idx),
        roles=("SUBMITTER", "ENGINE_SIGNER", "FUNDING_PUSHER", "PAUSER"), wire=_wire_position_manager)


def role_id(name: str) -> bytes:
    """A Roles.sol role id: keccak256 of ``<NAME>_ROLE`` (``DEFAULT_ADMIN`` is OpenZeppelin's zero id)."""
    return bytes(32) if name == "DEFAULT_ADMIN" else keccak(text=f"{name}_ROLE")


def deploy_system(w3: Web3, admin: str, *, params: DeployParams = DeployParams(),
                  roles: Mapping[str, Iterable[str]] | None = None) -> System:
    """Deploys every ``System`` component from ``admin`` (who holds each contract's admin role), linking
    each to the libraries deployed before it and wiring it, then grants each role in ``roles`` (Roles.sol
    name → accounts) on every component that checks it. InvalidInput, before anything is deployed, for a
    role no component checks."""
    roles = {name: list(holders) for name, holders in (roles or {}).items()}
    checked = {r for f in fields(System) for r in f.metadata["roles"]}
    unknown = sorted(set(roles) - checked)
    if unknown:
        raise InvalidInput(f"no component checks {unknown}; known roles: {sorted(checked)}")
    hints = typing.get_type_hints(System)
    deployed: dict[str, BoundContract] = {}
    by_binding: dict[str, BoundContract] = {}
    for f in fields(System):
        cls = hints[f.name]
        context = _Context(Web3.to_checksum_address(admin), params, deployed)
        links = binding(cls.CONTRACT).link_references
        if not set(links) <= set(by_binding):
            raise InvalidInput(f"{cls.CONTRACT} links {sorted(links)}: System must deploy them before it")
        libraries = {snake_case(name): by_binding[name] for name in links}
        deployed[f.name] = by_binding[cls.CONTRACT] = cls.deploy(w3, admin, *f.metadata["args"](context),
                                                                **libraries)
        if f.metadata["wire"] is not None:
            f.metadata["wire"](context, deployed[f.name])
    for f in fields(System):
        for role in f.metadata["roles"]:
            for holder in roles.get(role, ()):
                deployed[f.name].grant_role(role_id(role), holder)
    return System(**deployed)

