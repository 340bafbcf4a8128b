// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {ICollateralVault} from "../src/interfaces/ICollateralVault.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";

contract CollateralVaultFuzzTest is VaultFixture {
    function testFuzz_depositRequestExecuteClaim_returnsExactlyTheAmount(uint256 deposited, uint256 withdrawn) public {
        deposited = bound(deposited, 1, FUNDS);
        withdrawn = bound(withdrawn, 1, deposited);
        _deposit(alice, deposited);
        uint256 id = _request(alice, withdrawn);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(id);
        vm.prank(alice);
        assertEq(vault.claim(), withdrawn);
        assertEq(usdc.balanceOf(alice), FUNDS - deposited + withdrawn);
        assertEq(vault.availableOf(alice), deposited - withdrawn);
        assertEq(usdc.balanceOf(address(vault)), deposited - withdrawn);
    }

    function testFuzz_requestWithdrawal_neverAboveTheAvailableBalance(uint256 deposited, uint256 requested) public {
        deposited = bound(deposited, 1, FUNDS);
        requested = bound(requested, deposited + 1, type(uint256).max);
        _deposit(alice, deposited);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.InsufficientBalance.selector, deposited, requested));
        _request(alice, requested);
    }

    function testFuzz_executeWithdrawal_succeedsExactlyFromUnlockTime(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3 * DELAY);
        _deposit(alice, 10e6);
        uint256 id = _request(alice, 10e6);
        uint64 unlockAt = vault.withdrawal(id).unlockAt;
        vm.warp(block.timestamp + elapsed);
        if (block.timestamp < unlockAt) {
            vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalLocked.selector, id, unlockAt));
        }
        vm.prank(keeper);
        vault.executeWithdrawal(id);
    }

    function testFuzz_rejectWithdrawal_succeedsOnlyInsideTheWindowWhenTheMarginCheckConfirms(
        uint256 elapsed,
        bool below
    ) public {
        elapsed = bound(elapsed, 0, 3 * DELAY);
        _deposit(alice, 10e6);
        uint256 id = _request(alice, 10e6);
        oracle.setBelowInitialAfter(alice, 10e6, below);
        uint64 unlockAt = vault.withdrawal(id).unlockAt;
        vm.warp(block.timestamp + elapsed);
        bool inWindow = block.timestamp < unlockAt;
        if (!inWindow) {
            vm.expectRevert(abi.encodeWithSelector(ICollateralVault.RejectionWindowClosed.selector, id, unlockAt));
        } else if (!below) {
            vm.expectRevert(abi.encodeWithSelector(ICollateralVault.RejectionNotJustified.selector, id));
        }
        vm.prank(guard);
        vault.rejectWithdrawal(id);
        assertEq(vault.availableOf(alice), inWindow && below ? 10e6 : 0);
    }

    function testFuzz_depositFor_anyPayerAnyAccountCreditsOnlyThatAccount(
        address payer,
        address account,
        uint256 amount
    ) public {
        vm.assume(payer != address(0) && account != address(0) && payer != address(vault));
        amount = bound(amount, 1, FUNDS);
        usdc.mint(payer, amount);
        vm.startPrank(payer);
        usdc.approve(address(vault), amount);
        uint256 id = vault.depositFor(account, amount);
        vm.stopPrank();
        assertEq(id, 1);
        assertEq(vault.availableOf(account), amount);
        if (payer != account) assertEq(vault.availableOf(payer), 0);
        assertEq(usdc.balanceOf(address(vault)), amount);
    }

    function testFuzz_claim_byAnyoneElseFindsNothing(address stranger) public {
        vm.assume(stranger != alice);
        _deposit(alice, 10e6);
        uint256 id = _request(alice, 10e6);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(id);
        vm.expectRevert(ICollateralVault.NothingToClaim.selector);
        vm.prank(stranger);
        vault.claim();
        assertEq(vault.claimableOf(alice), 10e6);
    }
}
