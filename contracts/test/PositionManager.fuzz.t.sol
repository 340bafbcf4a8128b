// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICollateralVault} from "../src/interfaces/ICollateralVault.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {SystemFixture} from "./utils/SystemFixture.sol";

/// @notice Fuzzed round trips through the PositionManager, and the vault hooks it relies on.
contract PositionManagerFuzzTest is SystemFixture {
    function setUp() public override {
        super.setUp();
        _fund(alice, CASH);
        _fund(bob, CASH);
    }

    /// @dev Open at one price, close at another: the two accounts' PnL cancels, fees go to insurance and the fee
    /// recipient, and nothing is created or lost.
    function testFuzz_roundTripConservesMoney(uint256 size, uint256 open, uint256 close) public {
        int64 s = int64(int256(bound(size, 1, 1_500)));
        int64 p0 = int64(int256(bound(open, 60_000, 940_000)));
        int64 p1 = SafeCast.toInt64(SafeCast.toInt256(close % 80_001)) + p0 - 40_000;
        _mark(M1, p0);
        _trade(M1, bob, alice, s, p0);
        _mark(M1, p1);
        _trade(M1, bob, alice, -s, p1);
        assertEq(_size(M1, alice), 0);
        assertEq(_size(M1, bob), 0);
        assertEq(pm.marketStateOf(M1).openInterest, 0);
        assertEq(pm.marketStateOf(M1).clearingPoolQq, 0);
        uint256 total = vault.availableOf(alice) + vault.availableOf(bob) + vault.availableOf(feeRecipient)
            + insurance.totalBalance();
        assertEq(total, 2 * CASH);
        assertEq(usdc.balanceOf(address(vault)), vault.totalOwed() + insurance.totalBalance());
        int256 pnl = int256(s) * (int256(p1) - p0);
        assertLe(SafeCast.toInt256(vault.availableOf(alice)), SafeCast.toInt256(CASH) + pnl); // fees only take away
    }

    /// @dev Funding between two opposite positions: what the long pays, the short receives, the dust goes to
    /// insurance, and the payer never pays less than the exact amount.
    function testFuzz_fundingConserves(uint256 size, int256 delta) public {
        int64 s = int64(int256(bound(size, 1, 1_500)));
        _trade(M1, bob, alice, s, MID);
        vm.warp(block.timestamp + 10_000);
        int128 d = int128(bound(delta, -100_000, 100_000));
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, d);
        int256 alicePays = pm.unsettledFundingOf(M1, alice);
        assertGe(alicePays * 1e6, int256(s) * d); // payer rounds up
        _mark(M1, MID);
        uint256 before = vault.availableOf(alice) + vault.availableOf(bob) + vault.availableOf(feeRecipient)
            + insurance.totalBalance();
        _trade(M1, bob, alice, -s, MID);
        uint256 afterwards = vault.availableOf(alice) + vault.availableOf(bob) + vault.availableOf(feeRecipient)
            + insurance.totalBalance();
        assertEq(SafeCast.toInt256(afterwards) - SafeCast.toInt256(before), -int256(pm.marketStateOf(M1).fundingPoolQq));
    }

    function test_RevertWhen_theVaultHooksAreCalledByAnotherAccount() public {
        bytes memory denied =
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.POSITION_MANAGER);
        vm.startPrank(alice);
        vm.expectRevert(denied);
        vault.creditAvailable(alice, 1, "");
        vm.expectRevert(denied);
        vault.debitAvailable(alice, 1, "");
        vm.expectRevert(denied);
        vault.exitPayout(alice, 1);
        vm.stopPrank();
    }

    function test_vaultHooks_creditDebitAndPayOutWithEvents() public {
        vm.startPrank(address(pm));
        vm.expectEmit(address(vault));
        emit ICollateralVault.AvailableCredited(alice, 5, "x");
        vault.creditAvailable(alice, 5, "x");
        vm.expectEmit(address(vault));
        emit ICollateralVault.AvailableDebited(alice, 7, "y");
        vault.debitAvailable(alice, 7, "y");
        assertEq(vault.availableOf(alice), CASH - 2);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.InsufficientBalance.selector, CASH - 2, CASH));
        vault.debitAvailable(alice, CASH, "y");
        vm.expectRevert(ICollateralVault.ZeroAmount.selector);
        vault.creditAvailable(alice, 0, "x");
        vm.expectEmit(address(vault));
        emit ICollateralVault.ExitPaid(bob, 10, 10);
        assertEq(vault.exitPayout(bob, 10), 10);
        vm.stopPrank();
        assertEq(usdc.balanceOf(bob), 10);
        assertEq(vault.totalOwed(), 2 * CASH - 2 - 10 + 5 - 5 + 0);
    }
}
