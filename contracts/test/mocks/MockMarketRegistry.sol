// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";

/// @notice IMarketRegistry's lifecycle without access control, for tests: the same legal transitions
/// (Draft → Active → Resolving → Resolved → Settled), callable by anyone.
contract MockMarketRegistry is IMarketRegistry {
    mapping(uint32 marketId => Phase) public phaseOf;

    function createMarket(uint32 marketId, bytes32 metadata) external {
        if (phaseOf[marketId] != Phase.None) revert MarketExists(marketId);
        phaseOf[marketId] = Phase.Draft;
        emit MarketCreated(marketId, metadata);
    }

    function activate(uint32 marketId) external {
        _move(marketId, Phase.Draft, Phase.Active);
    }

    function startResolving(uint32 marketId) external {
        _move(marketId, Phase.Active, Phase.Resolving);
    }

    function markResolved(uint32 marketId) external {
        _move(marketId, Phase.Resolving, Phase.Resolved);
    }

    function markSettled(uint32 marketId) external {
        _move(marketId, Phase.Resolved, Phase.Settled);
    }

    function _move(uint32 marketId, Phase from, Phase to) internal {
        Phase phase = phaseOf[marketId];
        if (phase == Phase.None) revert UnknownMarket(marketId);
        if (phase != from) revert IllegalTransition(marketId, phase, to);
        phaseOf[marketId] = to;
        emit PhaseChanged(marketId, from, to);
    }
}
