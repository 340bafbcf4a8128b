// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Vm} from "forge-std/Vm.sol";

import {CollateralVault} from "../src/CollateralVault.sol";
import {ICollateralVault} from "../src/interfaces/ICollateralVault.sol";
import {IMarginOracle} from "../src/interfaces/IMarginOracle.sol";
import {MockMarginOracle} from "./mocks/MockMarginOracle.sol";
import {MockUSDC} from "./mocks/MockUSDC.sol";
import {VaultFixture} from "./utils/VaultFixture.sol";

contract CollateralVaultTest is VaultFixture {
    // ------------------------------------------------------------------------------------------------
    // construction and roles

    function test_constructor_setsTokenDelayAndAdminOnly() public view {
        assertEq(address(vault.token()), address(usdc));
        assertEq(vault.withdrawalDelay(), DELAY);
        assertTrue(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), address(this)));
        assertEq(vault.lastDepositId(), 0);
        assertEq(vault.lastWithdrawalId(), 0);
    }

    function test_constructor_revertsOnZeroTokenOrAdmin() public {
        vm.expectRevert(ICollateralVault.ZeroAddress.selector);
        new CollateralVault(IERC20(address(0)), DELAY, admin);
        vm.expectRevert(ICollateralVault.ZeroAddress.selector);
        new CollateralVault(usdc, DELAY, address(0));
    }

    function test_constructor_acceptsTheMaximumDelayAndRevertsAboveIt() public {
        uint64 max = vault.MAX_WITHDRAWAL_DELAY();
        assertEq(new CollateralVault(usdc, max, admin).withdrawalDelay(), max);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalDelayTooLong.selector, max + 1, max));
        new CollateralVault(usdc, max + 1, admin);
    }

    function test_setMarginOracle_setsAndEmits() public {
        MockMarginOracle next = new MockMarginOracle();
        vm.expectEmit(address(vault));
        emit ICollateralVault.MarginOracleSet(oracle, next);
        vm.prank(admin);
        vault.setMarginOracle(next);
        assertEq(address(vault.marginOracle()), address(next));
    }

    function test_setMarginOracle_revertsForNonAdmin() public {
        bytes32 role = vault.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guard, role));
        vm.prank(guard);
        vault.setMarginOracle(oracle);
    }

    function test_setMarginOracle_revertsOnZero() public {
        vm.expectRevert(ICollateralVault.ZeroAddress.selector);
        vm.prank(admin);
        vault.setMarginOracle(IMarginOracle(address(0)));
    }

    function test_roles_revokedGuardCanNoLongerReject() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 100e6);
        oracle.setBelowInitialAfter(alice, 100e6, true);
        bytes32 role = vault.WITHDRAWAL_GUARD_ROLE();
        vm.prank(admin);
        vault.revokeRole(role, guard);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guard, role));
        vm.prank(guard);
        vault.rejectWithdrawal(id);
    }

    // ------------------------------------------------------------------------------------------------
    // deposits

    function test_deposit_creditsTheCallerAndPullsTheTokens() public {
        vm.expectEmit(address(vault));
        emit ICollateralVault.Deposited(1, alice, alice, 250e6);
        uint256 id = _deposit(alice, 250e6);
        assertEq(id, 1);
        assertEq(vault.availableOf(alice), 250e6);
        assertEq(usdc.balanceOf(address(vault)), 250e6);
        assertEq(usdc.balanceOf(alice), FUNDS - 250e6);
    }

    function test_deposit_idsIncreaseByOneAcrossDepositAndDepositFor() public {
        assertEq(_deposit(alice, 1), 1);
        vm.prank(bob);
        assertEq(vault.depositFor(alice, 2), 2);
        assertEq(_deposit(bob, 3), 3);
        assertEq(vault.lastDepositId(), 3);
        assertEq(vault.availableOf(alice), 3);
        assertEq(vault.availableOf(bob), 3);
    }

    function test_deposit_revertsOnZeroAmount() public {
        vm.expectRevert(ICollateralVault.ZeroAmount.selector);
        _deposit(alice, 0);
    }

    function test_deposit_revertsWithoutAllowance() public {
        address carol = makeAddr("carol");
        usdc.mint(carol, 10e6);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(vault), 0, 10e6)
        );
        _deposit(carol, 10e6);
    }

    function test_deposit_revertsWhenPaused() public {
        vm.prank(pauser);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _deposit(alice, 1e6);
    }

    function test_depositFor_creditsTheAccountAndPullsFromThePayer() public {
        vm.expectEmit(address(vault));
        emit ICollateralVault.Deposited(1, alice, bob, 70e6);
        vm.prank(bob);
        uint256 id = vault.depositFor(alice, 70e6);
        assertEq(id, 1);
        assertEq(vault.availableOf(alice), 70e6);
        assertEq(vault.availableOf(bob), 0);
        assertEq(usdc.balanceOf(bob), FUNDS - 70e6);
        assertEq(usdc.balanceOf(alice), FUNDS);
    }

    function test_depositFor_revertsOnZeroAccount() public {
        vm.expectRevert(ICollateralVault.ZeroAddress.selector);
        vm.prank(bob);
        vault.depositFor(address(0), 1e6);
    }

    function test_depositFor_revertsWhenPaused() public {
        vm.prank(pauser);
        vault.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(bob);
        vault.depositFor(alice, 1e6);
    }

    // ------------------------------------------------------------------------------------------------
    // withdrawal requests

    function test_requestWithdrawal_movesTheAmountIntoAPendingWithdrawal() public {
        _deposit(alice, 100e6);
        uint64 unlockAt = uint64(block.timestamp) + DELAY;
        vm.expectEmit(address(vault));
        emit ICollateralVault.WithdrawalRequested(1, alice, 40e6, unlockAt);
        uint256 id = _request(alice, 40e6);
        assertEq(id, 1);
        assertEq(vault.availableOf(alice), 60e6);
        ICollateralVault.Withdrawal memory w = vault.withdrawal(id);
        assertEq(w.account, alice);
        assertEq(w.amount, 40e6);
        assertEq(w.unlockAt, unlockAt);
        assertEq(uint8(w.status), uint8(ICollateralVault.WithdrawalStatus.Pending));
        assertEq(usdc.balanceOf(address(vault)), 100e6, "no token moves on a request");
    }

    function test_requestWithdrawal_ofTheWholeBalanceIsAllowed() public {
        _deposit(alice, 100e6);
        _request(alice, 100e6);
        assertEq(vault.availableOf(alice), 0);
    }

    function test_requestWithdrawal_revertsAboveTheAvailableBalance() public {
        _deposit(alice, 100e6);
        _request(alice, 60e6);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.InsufficientBalance.selector, 40e6, 40e6 + 1));
        _request(alice, 40e6 + 1);
    }

    function test_requestWithdrawal_revertsOnZeroAmount() public {
        _deposit(alice, 100e6);
        vm.expectRevert(ICollateralVault.ZeroAmount.selector);
        _request(alice, 0);
    }

    function test_withdrawal_ofAnUnknownIdIsAllZero() public view {
        ICollateralVault.Withdrawal memory w = vault.withdrawal(7);
        assertEq(w.account, address(0));
        assertEq(w.amount, 0);
        assertEq(uint8(w.status), uint8(ICollateralVault.WithdrawalStatus.None));
    }

    // ------------------------------------------------------------------------------------------------
    // execution

    function test_executeWithdrawal_revertsOneSecondBeforeTheDelayEnds() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 100e6);
        uint64 unlockAt = vault.withdrawal(id).unlockAt;
        vm.warp(unlockAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalLocked.selector, id, unlockAt));
        vm.prank(keeper);
        vault.executeWithdrawal(id);
    }

    function test_executeWithdrawal_byAnyoneOnceTheDelayEndsCreditsTheClaimableBalance() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 30e6);
        vm.warp(vault.withdrawal(id).unlockAt);
        vm.expectEmit(address(vault));
        emit ICollateralVault.WithdrawalExecuted(id, alice, 30e6);
        vm.prank(keeper);
        vault.executeWithdrawal(id);
        assertEq(vault.claimableOf(alice), 30e6);
        assertEq(vault.availableOf(alice), 70e6);
        assertEq(uint8(vault.withdrawal(id).status), uint8(ICollateralVault.WithdrawalStatus.Executed));
        assertEq(usdc.balanceOf(address(vault)), 100e6, "execution moves no token");
    }

    function test_executeWithdrawal_revertsTheSecondTime() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 100e6);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(id);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalNotPending.selector, id));
        vault.executeWithdrawal(id);
        assertEq(vault.claimableOf(alice), 100e6);
    }

    function test_executeWithdrawal_revertsForAnIdNeverIssued() public {
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalNotPending.selector, 1));
        vault.executeWithdrawal(1);
    }

    function test_executeWithdrawal_revertsAfterARejection() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 100e6);
        oracle.setBelowInitialAfter(alice, 100e6, true);
        vm.prank(guard);
        vault.rejectWithdrawal(id);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalNotPending.selector, id));
        vault.executeWithdrawal(id);
    }

    function test_executeWithdrawal_withAZeroDelayWorksInTheSameBlock() public {
        CollateralVault instant = new CollateralVault(usdc, 0, admin);
        vm.startPrank(alice);
        usdc.approve(address(instant), 5e6);
        instant.deposit(5e6);
        uint256 id = instant.requestWithdrawal(5e6);
        instant.executeWithdrawal(id);
        instant.claim();
        vm.stopPrank();
        assertEq(usdc.balanceOf(alice), FUNDS);
    }

    // ------------------------------------------------------------------------------------------------
    // rejection

    function test_rejectWithdrawal_returnsTheAmountWhenTheMarginCheckConfirms() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 80e6);
        oracle.setBelowInitialAfter(alice, 80e6, true);
        vm.warp(vault.withdrawal(id).unlockAt - 1);
        vm.expectEmit(address(vault));
        emit ICollateralVault.WithdrawalRejected(id, alice, 80e6, guard);
        vm.prank(guard);
        vault.rejectWithdrawal(id);
        assertEq(vault.availableOf(alice), 100e6);
        assertEq(vault.claimableOf(alice), 0);
        assertEq(uint8(vault.withdrawal(id).status), uint8(ICollateralVault.WithdrawalStatus.Rejected));
    }

    function test_rejectWithdrawal_isRefusedWhenTheMarginCheckPasses() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 80e6);
        oracle.setBelowInitialAfter(alice, 79e6, true); // a different amount: not this withdrawal
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.RejectionNotJustified.selector, id));
        vm.prank(guard);
        vault.rejectWithdrawal(id);
        assertEq(uint8(vault.withdrawal(id).status), uint8(ICollateralVault.WithdrawalStatus.Pending));
    }

    function test_rejectWithdrawal_isRefusedOnceTheDelayEnds() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 80e6);
        oracle.setBelowInitialAfter(alice, 80e6, true);
        uint64 unlockAt = vault.withdrawal(id).unlockAt;
        vm.warp(unlockAt);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.RejectionWindowClosed.selector, id, unlockAt));
        vm.prank(guard);
        vault.rejectWithdrawal(id);
    }

    function test_rejectWithdrawal_isRefusedWithoutAMarginOracle() public {
        CollateralVault bare = new CollateralVault(usdc, DELAY, admin);
        bytes32 role = bare.WITHDRAWAL_GUARD_ROLE();
        vm.prank(admin);
        bare.grantRole(role, guard);
        vm.startPrank(alice);
        usdc.approve(address(bare), 5e6);
        bare.deposit(5e6);
        uint256 id = bare.requestWithdrawal(5e6);
        vm.stopPrank();
        vm.expectRevert(ICollateralVault.MarginOracleUnset.selector);
        vm.prank(guard);
        bare.rejectWithdrawal(id);
    }

    function test_rejectWithdrawal_revertsForAnyoneButTheGuard() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 80e6);
        oracle.setBelowInitialAfter(alice, 80e6, true);
        bytes32 role = vault.WITHDRAWAL_GUARD_ROLE();
        address[3] memory others = [admin, pauser, alice];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[i], role)
            );
            vm.prank(others[i]);
            vault.rejectWithdrawal(id);
        }
    }

    function test_rejectWithdrawal_revertsTheSecondTime() public {
        _deposit(alice, 100e6);
        uint256 id = _request(alice, 80e6);
        oracle.setBelowInitialAfter(alice, 80e6, true);
        vm.startPrank(guard);
        vault.rejectWithdrawal(id);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.WithdrawalNotPending.selector, id));
        vault.rejectWithdrawal(id);
        vm.stopPrank();
        assertEq(vault.availableOf(alice), 100e6, "credited back once");
    }

    // ------------------------------------------------------------------------------------------------
    // claims (pull payments)

    function test_claim_transfersTheWholeClaimableBalanceToTheCaller() public {
        _deposit(alice, 100e6);
        uint256 first = _request(alice, 30e6);
        uint256 second = _request(alice, 20e6);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(first);
        vault.executeWithdrawal(second);
        vm.expectEmit(address(vault));
        emit ICollateralVault.Claimed(alice, 50e6);
        vm.prank(alice);
        assertEq(vault.claim(), 50e6);
        assertEq(vault.claimableOf(alice), 0);
        assertEq(usdc.balanceOf(alice), FUNDS - 50e6);
        assertEq(usdc.balanceOf(address(vault)), 50e6);
    }

    function test_claim_revertsWithNothingToClaim() public {
        vm.expectRevert(ICollateralVault.NothingToClaim.selector);
        vm.prank(alice);
        vault.claim();
    }

    function test_blockedRecipient_cannotBlockAnyoneElse() public {
        _deposit(alice, 100e6);
        _deposit(bob, 100e6);
        uint256 aliceId = _request(alice, 100e6);
        uint256 bobId = _request(bob, 100e6);
        usdc.setBlacklisted(alice, true);
        vm.warp(block.timestamp + DELAY);

        vault.executeWithdrawal(aliceId); // credits, transfers nothing: cannot fail on alice's address
        vault.executeWithdrawal(bobId);

        vm.expectRevert(abi.encodeWithSelector(MockUSDC.Blacklisted.selector, alice));
        vm.prank(alice);
        vault.claim();
        assertEq(vault.claimableOf(alice), 100e6, "a failed claim keeps the balance");

        vm.prank(bob);
        vault.claim();
        assertEq(usdc.balanceOf(bob), FUNDS);

        usdc.setBlacklisted(alice, false);
        vm.prank(alice);
        vault.claim();
        assertEq(usdc.balanceOf(alice), FUNDS, "claimable again once unblocked");
    }

    // ------------------------------------------------------------------------------------------------
    // pausing

    function test_pause_neverBlocksRequestsExecutionsRejectionsOrClaims() public {
        _deposit(alice, 100e6);
        uint256 before = _request(alice, 10e6);
        vm.prank(pauser);
        vault.pause();
        assertTrue(vault.paused());

        uint256 during = _request(alice, 20e6);
        oracle.setBelowInitialAfter(alice, 20e6, true);
        vm.prank(guard);
        vault.rejectWithdrawal(during);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(before);
        vm.prank(alice);
        vault.claim();
        assertEq(usdc.balanceOf(alice), FUNDS - 90e6);
        assertEq(vault.availableOf(alice), 90e6);
    }

    function test_pause_revertsForAnyoneButAPauser() public {
        bytes32 role = vault.PAUSER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        vault.pause();
    }

    function test_unpause_onlyByTheAdminResumesDeposits() public {
        vm.prank(pauser);
        vault.pause();
        bytes32 role = vault.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, role));
        vm.prank(pauser);
        vault.unpause();
        vm.prank(admin);
        vault.unpause();
        assertEq(_deposit(alice, 1e6), 1);
    }

    // ------------------------------------------------------------------------------------------------
    // events

    function test_events_rebuildEveryBalance() public {
        vm.recordLogs();
        _deposit(alice, 100e6);
        vm.prank(bob);
        vault.depositFor(alice, 50e6);
        _deposit(bob, 70e6);
        uint256 a1 = _request(alice, 60e6);
        uint256 a2 = _request(alice, 40e6);
        uint256 b1 = _request(bob, 70e6);
        oracle.setBelowInitialAfter(alice, 40e6, true);
        vm.prank(guard);
        vault.rejectWithdrawal(a2);
        vm.warp(block.timestamp + DELAY);
        vault.executeWithdrawal(a1);
        vault.executeWithdrawal(b1);
        vm.prank(bob);
        vault.claim();

        Ledger memory ledger = _replay(vm.getRecordedLogs());
        address[2] memory accounts = [alice, bob];
        for (uint256 i; i < accounts.length; ++i) {
            assertEq(ledger.available[i], vault.availableOf(accounts[i]), "available");
            assertEq(ledger.claimable[i], vault.claimableOf(accounts[i]), "claimable");
        }
        assertEq(ledger.pending, 0);
        assertEq(ledger.held, usdc.balanceOf(address(vault)), "tokens held");
    }

    struct Ledger {
        uint256[2] available;
        uint256[2] claimable;
        uint256 pending;
        uint256 held;
    }

    /// @dev Rebuilds alice's (0) and bob's (1) balances from the vault's events alone.
    function _replay(Vm.Log[] memory logs) internal view returns (Ledger memory ledger) {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory log = logs[i];
            if (log.emitter != address(vault)) continue;
            bytes32 topic = log.topics[0];
            if (topic == ICollateralVault.Deposited.selector) {
                uint256 amount = abi.decode(log.data, (uint256));
                ledger.available[_index(log.topics[2])] += amount;
                ledger.held += amount;
            } else if (topic == ICollateralVault.WithdrawalRequested.selector) {
                (uint256 amount,) = abi.decode(log.data, (uint256, uint64));
                ledger.available[_index(log.topics[2])] -= amount;
                ledger.pending += amount;
            } else if (topic == ICollateralVault.WithdrawalRejected.selector) {
                uint256 amount = abi.decode(log.data, (uint256));
                ledger.available[_index(log.topics[2])] += amount;
                ledger.pending -= amount;
            } else if (topic == ICollateralVault.WithdrawalExecuted.selector) {
                uint256 amount = abi.decode(log.data, (uint256));
                ledger.claimable[_index(log.topics[2])] += amount;
                ledger.pending -= amount;
            } else if (topic == ICollateralVault.Claimed.selector) {
                uint256 amount = abi.decode(log.data, (uint256));
                ledger.claimable[_index(log.topics[1])] -= amount;
                ledger.held -= amount;
            }
        }
    }

    function _index(bytes32 accountTopic) internal view returns (uint256) {
        address account = address(uint160(uint256(accountTopic)));
        assertTrue(account == alice || account == bob, "an account of this test");
        return account == alice ? 0 : 1;
    }
}
