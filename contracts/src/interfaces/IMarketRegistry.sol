// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IOracleRegistry} from "./IOracleRegistry.sol";

/// @title IMarketRegistry
/// @notice perpcore's markets and their lifecycle, the same state machine as `perpcore.lifecycle`:
/// Draft → Active → Resolving → Resolved → Settled, nothing else. The admin creates and activates a market;
/// the resolver starts resolution, records it once the OracleRegistry holds the market's resolution value,
/// and marks it settled. Every transition emits `PhaseChanged`; an illegal one reverts with `IllegalTransition`.
interface IMarketRegistry {
    /// @notice A market's phase. `None` is a market id never created.
    enum Phase {
        None,
        Draft,
        Active,
        Resolving,
        Resolved,
        Settled
    }

    /// @notice Market `marketId` was created in Draft; `metadata` identifies its question off chain.
    event MarketCreated(uint32 indexed marketId, bytes32 metadata);
    /// @notice Market `marketId` moved from `from` to `to`.
    event PhaseChanged(uint32 indexed marketId, Phase from, Phase to);

    /// @notice A market id that already exists.
    error MarketExists(uint32 marketId);
    /// @notice A market id never created.
    error UnknownMarket(uint32 marketId);
    /// @notice A transition the lifecycle does not allow.
    error IllegalTransition(uint32 marketId, Phase from, Phase to);
    /// @notice Resolved asked for before the OracleRegistry holds the market's resolution value.
    error ResolutionValueMissing(uint32 marketId);
    /// @notice The zero address where an admin or the OracleRegistry is needed.
    error ZeroAddress();

    /// @notice Creates market `marketId` in Draft. Admin only.
    function createMarket(uint32 marketId, bytes32 metadata) external;
    /// @notice Draft → Active. Admin only.
    function activate(uint32 marketId) external;
    /// @notice Active → Resolving (reduce-only, no funding). Resolver only.
    function startResolving(uint32 marketId) external;
    /// @notice Resolving → Resolved, once the OracleRegistry holds the resolution value. Resolver only.
    function markResolved(uint32 marketId) external;
    /// @notice Resolved → Settled. Resolver only.
    function markSettled(uint32 marketId) external;

    /// @notice The phase of `marketId` (`None` if never created).
    function phaseOf(uint32 marketId) external view returns (Phase);
    /// @notice The OracleRegistry whose resolution values gate `markResolved`.
    function oracleRegistry() external view returns (IOracleRegistry);
}
