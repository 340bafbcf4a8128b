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
    /// @notice The zero address where an admin is needed.
    error ZeroAddress();
    /// @notice A draw window of 0 seconds, or a cap above 2**192 - 1 (the cap shares a slot with the window).
    error InvalidDrawCap(uint256 maxDrawPerWindow, uint64 drawWindow);

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
    /// @notice The most a market may draw within one window.
    function maxDrawPerWindow() external view returns (uint256);
    /// @notice A window's length in seconds.
    function drawWindow() external view returns (uint64);
    /// @notice Market `marketId`'s open window: when its first draw happened and how much it has drawn so far;
    /// (0, 0) when no window is open (none yet, or the last one has ended).
    function drawWindowOf(uint32 marketId) external view returns (uint64 openedAt, uint256 drawn);
}

/// @title InsuranceReasons
/// @notice The `reason` tags of `IInsuranceFund.Credited` (interfaces cannot hold constants). Each is its own name
/// as left-aligned ASCII, so an indexer reads the indexed topic as text.
library InsuranceReasons {
    /// @notice The market's insurance share of trading fees (`RiskTier.insuranceSharePpm`).
    bytes32 internal constant FEE_SHARE = "FEE_SHARE";
    /// @notice A liquidation's fee, or the residual left after closing at the fillable price.
    bytes32 internal constant LIQUIDATION_FEE = "LIQUIDATION_FEE";
    /// @notice Funding rounding dust: what payers paid (rounded up) beyond what receivers got (rounded down).
    bytes32 internal constant FUNDING_DUST = "FUNDING_DUST";
    /// @notice A direct top-up of the fund from an account's available collateral.
    bytes32 internal constant DEPOSIT = "DEPOSIT";
}
