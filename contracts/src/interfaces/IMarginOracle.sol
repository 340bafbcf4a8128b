// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title IMarginOracle
/// @notice The on-chain margin check the CollateralVault consults before its withdrawal guard may reject a
/// withdrawal. The PositionManager implements it from the positions it holds and the latest mark snapshots.
interface IMarginOracle {
    /// @notice Whether `account` would be below its initial margin requirement once `amount` quote quantums
    /// (1e-6 USDC) leave its collateral.
    /// @dev When the vault asks, `amount` already sits in a pending withdrawal, outside the account's
    /// available balance in the vault: an implementation that reads that balance must not subtract it again.
    /// @param account The account whose withdrawal is under review.
    /// @param amount The amount of the withdrawal, in quote quantums.
    /// @return below True when the withdrawal would leave the account below its initial requirement.
    function isBelowInitialAfter(address account, uint256 amount) external view returns (bool below);
}
