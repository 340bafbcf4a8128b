// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {CollateralVault} from "../../src/CollateralVault.sol";
import {MockMarginOracle} from "../mocks/MockMarginOracle.sol";
import {MockUSDC} from "../mocks/MockUSDC.sol";
import {Test} from "./Test.sol";

/// @notice A vault with a one-day delay, its roles granted to named accounts, the mock oracle set, and two
/// funded users who approved the vault.
abstract contract VaultFixture is Test {
    uint64 internal constant DELAY = 1 days;
    uint256 internal constant FUNDS = 1_000_000e6; // one million USDC in quote quantums

    MockUSDC internal usdc;
    MockMarginOracle internal oracle;
    CollateralVault internal vault;

    address internal admin = makeAddr("admin");
    address internal guard = makeAddr("guard");
    address internal pauser = makeAddr("pauser");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal keeper = makeAddr("keeper");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usdc = new MockUSDC();
        oracle = new MockMarginOracle();
        vault = new CollateralVault(usdc, DELAY, admin);
        vm.startPrank(admin);
        vault.grantRole(vault.WITHDRAWAL_GUARD_ROLE(), guard);
        vault.grantRole(vault.PAUSER_ROLE(), pauser);
        vault.setMarginOracle(oracle);
        vm.stopPrank();
        _fund(alice);
        _fund(bob);
    }

    function _fund(address account) internal {
        usdc.mint(account, FUNDS);
        vm.prank(account);
        usdc.approve(address(vault), type(uint256).max);
    }

    function _deposit(address account, uint256 amount) internal returns (uint256 depositId) {
        vm.prank(account);
        return vault.deposit(amount);
    }

    function _request(address account, uint256 amount) internal returns (uint256 withdrawalId) {
        vm.prank(account);
        return vault.requestWithdrawal(amount);
    }
}
