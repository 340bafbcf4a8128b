// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title IInsuranceFund
/// @notice Per-market insurance balances in quote quantums (1e-6 USDC). The USDC itself sits in the
/// CollateralVault; this contract keeps the accounting. Only the PositionManager credits (fee shares,
/// liquidation fees, funding dust) and draws (bad debt); a draw never exceeds the market's balance nor the
/// per-window cap (`maxDrawPerWindow` within any `drawWindow` seconds, counted from the window's first draw).
interface IInsuranceFund {
    /// @notice `amount` was credited to market `marketId`'s fund; `reason` names the source.
    event Credited(uint32 indexed marketId, uint256 amount, bytes32 indexed reason);
    /// @notice `amount` was drawn from market `marketId`'s fund.
    event Drawn(uint32 indexed marketId, uint256 amount);
    /// @notice The draw cap changed.
    event DrawCapSet(uint256 maxDrawPerWindow, uint64 drawWindow);

    /// @notice An amount of zero.
    error ZeroAmount();
    /// @notice A draw above the market's balance.
    error InsufficientFund(uint32 marketId, uint256 balance, uint256 amount);
    /// @notice A draw above what the current window still allows.
    error DrawCapExceeded(uint32 marketId, uint256 remaining, uint256 amount);

    /// @notice Credits `amount` to market `marketId`. PositionManager only.
    function credit(uint32 marketId, uint256 amount, bytes32 reason) external;
    /// @notice Draws `amount` from market `marketId`. PositionManager only.
    function draw(uint32 marketId, uint256 amount) external;
    /// @notice Sets the draw cap. Admin only.
    function setDrawCap(uint256 maxDrawPerWindow, uint64 drawWindow) external;

    /// @notice Market `marketId`'s balance.
    function balanceOf(uint32 marketId) external view returns (uint256);
    /// @notice The sum of all markets' balances.
    function totalBalance() external view returns (uint256);
    /// @notice How much market `marketId` may still draw in the current window.
    function drawableOf(uint32 marketId) external view returns (uint256);
}
