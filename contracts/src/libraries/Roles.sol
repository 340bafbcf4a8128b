// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title Roles
/// @notice The one list of perpcore's AccessControl roles, shared by every contract (OpenZeppelin's
/// DEFAULT_ADMIN_ROLE, 0x00, is the admin). Each constant is keccak256 of its own name, so a role has the
/// same id in every contract that checks it.
library Roles {
    /// @notice Sends trade batches to the PositionManager.
    bytes32 internal constant SUBMITTER = keccak256("SUBMITTER_ROLE");
    /// @notice The off-chain engine key whose signature every trade batch must carry (never a sender).
    bytes32 internal constant ENGINE_SIGNER = keccak256("ENGINE_SIGNER_ROLE");
    /// @notice Pushes index/mark snapshots to the MarketRiskRegistry and values to pushed oracle adapters.
    bytes32 internal constant PRICE_PUSHER = keccak256("PRICE_PUSHER_ROLE");
    /// @notice Applies funding index deltas on the PositionManager.
    bytes32 internal constant FUNDING_PUSHER = keccak256("FUNDING_PUSHER_ROLE");
    /// @notice Moves markets into Resolving/Resolved/Settled and records resolution values.
    bytes32 internal constant RESOLVER = keccak256("RESOLVER_ROLE");
    /// @notice May reject a pending withdrawal that the on-chain margin check confirms is unsafe.
    bytes32 internal constant WITHDRAWAL_GUARD = keccak256("WITHDRAWAL_GUARD_ROLE");
    /// @notice May pause trading and deposits; pausing never blocks withdrawals, settlement or exits.
    bytes32 internal constant PAUSER = keccak256("PAUSER_ROLE");
    /// @notice A contract (the PositionManager) allowed to move balances in the vault and the insurance fund.
    bytes32 internal constant POSITION_MANAGER = keccak256("POSITION_MANAGER_ROLE");
}
