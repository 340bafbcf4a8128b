// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarginOracle} from "../../src/interfaces/IMarginOracle.sol";

/// @notice A margin oracle whose answer the test sets per account; it only answers for the exact amount it was
/// told about, so a test also proves the vault asks about the right withdrawal.
contract MockMarginOracle is IMarginOracle {
    mapping(address account => mapping(uint256 amount => bool)) internal _below;

    function setBelowInitialAfter(address account, uint256 amount, bool below) external {
        _below[account][amount] = below;
    }

    function isBelowInitialAfter(address account, uint256 amount) external view returns (bool) {
        return _below[account][amount];
    }
}
