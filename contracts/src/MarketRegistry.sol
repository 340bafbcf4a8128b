// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IMarketRegistry} from "./interfaces/IMarketRegistry.sol";
import {IOracleRegistry} from "./interfaces/IOracleRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title MarketRegistry
/// @notice Owns the list of perpcore's markets and each one's lifecycle phase. A phase only ever moves one step
/// forward along Draft → Active → Resolving → Resolved → Settled: the admin creates and activates, the resolver
/// does the rest, and Resolved waits for the OracleRegistry's resolution value. It holds no funds and knows
/// nothing of positions; the PositionManager reads `phaseOf` to decide what a market allows. See IMarketRegistry.
contract MarketRegistry is IMarketRegistry, AccessControl {
    /// @inheritdoc IMarketRegistry
    IOracleRegistry public immutable oracleRegistry;

    /// @inheritdoc IMarketRegistry
    mapping(uint32 marketId => Phase) public phaseOf;

    /// @param admin Receives the default admin role, which creates and activates markets and grants every role.
    /// @param oracleRegistry_ Where `markResolved` reads a market's resolution value.
    constructor(address admin, IOracleRegistry oracleRegistry_) {
        if (admin == address(0) || address(oracleRegistry_) == address(0)) revert ZeroAddress();
        oracleRegistry = oracleRegistry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IMarketRegistry
    function createMarket(uint32 marketId, bytes32 metadata) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (phaseOf[marketId] != Phase.None) revert MarketExists(marketId);
        phaseOf[marketId] = Phase.Draft;
        emit MarketCreated(marketId, metadata);
        emit PhaseChanged(marketId, Phase.None, Phase.Draft);
    }

    /// @inheritdoc IMarketRegistry
    function activate(uint32 marketId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _advance(marketId, _previousOf(marketId, Phase.Active), Phase.Active);
    }

    /// @inheritdoc IMarketRegistry
    function startResolving(uint32 marketId) external onlyRole(Roles.RESOLVER) {
        _advance(marketId, _previousOf(marketId, Phase.Resolving), Phase.Resolving);
    }

    /// @inheritdoc IMarketRegistry
    function markResolved(uint32 marketId) external onlyRole(Roles.RESOLVER) {
        Phase from = _previousOf(marketId, Phase.Resolved);
        (bool resolved,) = oracleRegistry.resolutionOf(marketId);
        if (!resolved) revert ResolutionValueMissing(marketId);
        _advance(marketId, from, Phase.Resolved);
    }

    /// @inheritdoc IMarketRegistry
    function markSettled(uint32 marketId) external onlyRole(Roles.RESOLVER) {
        _advance(marketId, _previousOf(marketId, Phase.Settled), Phase.Settled);
    }

    function _advance(uint32 marketId, Phase from, Phase to) internal {
        phaseOf[marketId] = to;
        emit PhaseChanged(marketId, from, to);
    }

    /// @dev The current phase of `marketId`, which must be the one just before `to`: the lifecycle's only move.
    function _previousOf(uint32 marketId, Phase to) internal view returns (Phase from) {
        from = phaseOf[marketId];
        if (from == Phase.None) revert UnknownMarket(marketId);
        if (uint8(from) + 1 != uint8(to)) revert IllegalTransition(marketId, from, to);
    }
}
