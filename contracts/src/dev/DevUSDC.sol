// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevUSDC
/// @notice A 6-decimal ERC-20 standing in for USDC on local chains (anvil, the in-process EVM): anyone may
/// mint any amount, so it must never be deployed where it could be taken for real USDC.
contract DevUSDC is ERC20 {
    constructor() ERC20("perpcore dev USDC", "dUSDC") {}

    /// @notice Creates `amount` quote quantums (1e-6 token) for `to`. Open to anyone: a local faucet.
    /// @param to The receiver; not the zero address.
    /// @param amount The amount created, in quote quantums.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice USDC's 6 decimals: one unit is one quote quantum.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
