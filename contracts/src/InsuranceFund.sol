// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title InsuranceFund
/// @notice Owns the accounting of each market's insurance balance and its draw window; the USDC behind it sits in
/// the CollateralVault and never passes through here. Only the PositionManager credits and draws, and a draw
/// never exceeds the market's balance nor what its window still allows: a window opens at a market's first draw
/// after the previous window ended and lasts `drawWindow` seconds. See IInsuranceFund.
contract InsuranceFund is IInsuranceFund, AccessControl {
    /// @dev A market's balance and its current (or last) draw window. A window is open while it has drawn something
    /// (every draw is > 0) and `drawWindow` seconds have not passed since it opened.
    struct Fund {
        uint256 balance;
        uint64 windowOpenedAt;
        uint192 drawnInWindow; // at most the cap in force at each draw, itself below 2**192
    }

    /// @inheritdoc IInsuranceFund
    uint256 public totalBalance;
    /// @inheritdoc IInsuranceFund
    uint64 public drawWindow;
    uint192 internal _maxDrawPerWindow; // shares drawWindow's slot: a draw reads both with one load

    mapping(uint32 marketId => Fund) internal _funds;

    /// @param admin Receives the default admin role, which sets the draw cap and grants the PositionManager role.
    /// @param maxDrawPerWindow_ The most a market may draw within one window, below 2**192.
    /// @param drawWindow_ A window's length in seconds, above 0.
    constructor(address admin, uint256 maxDrawPerWindow_, uint64 drawWindow_) {
        if (admin == address(0)) revert ZeroAddress();
        _setDrawCap(maxDrawPerWindow_, drawWindow_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IInsuranceFund
    function credit(uint32 marketId, uint256 amount, bytes32 reason) external onlyRole(Roles.POSITION_MANAGER) {
        if (amount == 0) revert ZeroAmount();
        _funds[marketId].balance += amount;
        totalBalance += amount;
        emit Credited(marketId, amount, reason);
    }

    /// @inheritdoc IInsuranceFund
    function draw(uint32 marketId, uint256 amount) external onlyRole(Roles.POSITION_MANAGER) {
        if (amount == 0) revert ZeroAmount();
        Fund storage fund = _funds[marketId];
        uint256 balance = fund.balance;
        if (amount > balance) revert InsufficientFund(marketId, balance, amount);
        (uint64 openedAt, uint256 drawn) = _windowOf(fund);
        if (drawn == 0) openedAt = uint64(block.timestamp);
        uint256 remaining = _remaining(drawn);
        if (amount > remaining) revert DrawCapExceeded(marketId, remaining, amount);
        fund.balance = balance - amount;
        fund.windowOpenedAt = openedAt;
        // drawn + amount <= the cap, which _setDrawCap keeps below 2**192
        // forge-lint: disable-next-line(unsafe-typecast)
        fund.drawnInWindow = uint192(drawn + amount);
        totalBalance -= amount;
        emit Drawn(marketId, amount);
    }

    /// @inheritdoc IInsuranceFund
    function setDrawCap(uint256 maxDrawPerWindow_, uint64 drawWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDrawCap(maxDrawPerWindow_, drawWindow_);
    }

    /// @inheritdoc IInsuranceFund
    function balanceOf(uint32 marketId) external view returns (uint256) {
        return _funds[marketId].balance;
    }

    /// @inheritdoc IInsuranceFund
    function drawableOf(uint32 marketId) external view returns (uint256) {
        Fund storage fund = _funds[marketId];
        (, uint256 drawn) = _windowOf(fund);
        uint256 remaining = _remaining(drawn);
        return fund.balance < remaining ? fund.balance : remaining;
    }

    /// @inheritdoc IInsuranceFund
    function maxDrawPerWindow() external view returns (uint256) {
        return _maxDrawPerWindow;
    }

    /// @inheritdoc IInsuranceFund
    function drawWindowOf(uint32 marketId) external view returns (uint64 openedAt, uint256 drawn) {
        return _windowOf(_funds[marketId]);
    }

    function _setDrawCap(uint256 maxDrawPerWindow_, uint64 drawWindow_) internal {
        if (drawWindow_ == 0 || maxDrawPerWindow_ > type(uint192).max) {
            revert InvalidDrawCap(maxDrawPerWindow_, drawWindow_);
        }
        // checked just above
        // forge-lint: disable-next-line(unsafe-typecast)
        (_maxDrawPerWindow, drawWindow) = (uint192(maxDrawPerWindow_), drawWindow_);
        emit DrawCapSet(maxDrawPerWindow_, drawWindow_);
    }

    /// @dev The fund's open window, (0, 0) if none: a window lasts `drawWindow` seconds from its first draw.
    function _windowOf(Fund storage fund) internal view returns (uint64 openedAt, uint256 drawn) {
        openedAt = fund.windowOpenedAt;
        drawn = fund.drawnInWindow;
        if (drawn == 0 || block.timestamp >= uint256(openedAt) + drawWindow) return (0, 0);
    }

    /// @dev What a window that has drawn `drawn` still allows; 0 once a lowered cap is below what it drew.
    function _remaining(uint256 drawn) internal view returns (uint256) {
        uint256 cap = _maxDrawPerWindow;
        return cap > drawn ? cap - drawn : 0;
    }
}
