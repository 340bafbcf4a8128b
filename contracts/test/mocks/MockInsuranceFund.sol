// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IInsuranceFund} from "../../src/interfaces/IInsuranceFund.sol";

/// @notice IInsuranceFund's accounting for tests: credits and draws by one position manager (set once by the
/// deployer), a draw never above the market's balance nor the draw cap per window.
contract MockInsuranceFund is IInsuranceFund {
    address public positionManager;
    uint256 public totalBalance;
    uint256 public maxDrawPerWindow = type(uint256).max;
    uint64 public drawWindow = 1 days;
    mapping(uint32 marketId => uint256) public balanceOf;
    mapping(uint32 marketId => uint256) internal _windowStart;
    mapping(uint32 marketId => uint256) internal _drawnInWindow;

    error NotPositionManager(address caller);

    function setPositionManager(address positionManager_) external {
        if (positionManager != address(0)) revert NotPositionManager(msg.sender);
        positionManager = positionManager_;
    }

    function credit(uint32 marketId, uint256 amount, bytes32 reason) external {
        _onlyPositionManager();
        if (amount == 0) revert ZeroAmount();
        balanceOf[marketId] += amount;
        totalBalance += amount;
        emit Credited(marketId, amount, reason);
    }

    function draw(uint32 marketId, uint256 amount) external {
        _onlyPositionManager();
        if (amount == 0) revert ZeroAmount();
        if (amount > balanceOf[marketId]) revert InsufficientFund(marketId, balanceOf[marketId], amount);
        uint256 remaining = drawableOf(marketId);
        if (amount > remaining) revert DrawCapExceeded(marketId, remaining, amount);
        if (block.timestamp >= _windowStart[marketId] + drawWindow) {
            _windowStart[marketId] = block.timestamp;
            _drawnInWindow[marketId] = 0;
        }
        _drawnInWindow[marketId] += amount;
        balanceOf[marketId] -= amount;
        totalBalance -= amount;
        emit Drawn(marketId, amount);
    }

    function setDrawCap(uint256 maxDrawPerWindow_, uint64 drawWindow_) external {
        maxDrawPerWindow = maxDrawPerWindow_;
        drawWindow = drawWindow_;
        emit DrawCapSet(maxDrawPerWindow_, drawWindow_);
    }

    function drawableOf(uint32 marketId) public view returns (uint256) {
        if (block.timestamp >= _windowStart[marketId] + drawWindow) return maxDrawPerWindow;
        return maxDrawPerWindow - _drawnInWindow[marketId];
    }

    function _onlyPositionManager() internal view {
        if (msg.sender != positionManager) revert NotPositionManager(msg.sender);
    }
}
