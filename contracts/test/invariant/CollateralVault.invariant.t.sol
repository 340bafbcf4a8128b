// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CollateralVault} from "../../src/CollateralVault.sol";
import {ICollateralVault} from "../../src/interfaces/ICollateralVault.sol";
import {MockMarginOracle} from "../mocks/MockMarginOracle.sol";
import {MockUSDC} from "../mocks/MockUSDC.sol";
import {Test} from "../utils/Test.sol";
import {VaultHandler} from "./VaultHandler.sol";

/// @notice Whatever sequence of deposits, requests, executions, rejections, claims, pauses, blacklistings and
/// time passing: the vault holds exactly what it owes, every balance matches the ghost model and none is
/// negative, and no action was ever accepted or refused against the rules (see VaultHandler).
contract CollateralVaultInvariantTest is Test {
    CollateralVault internal vault;
    MockUSDC internal usdc;
    VaultHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        address admin = makeAddr("admin");
        address guard = makeAddr("guard");
        address pauser = makeAddr("pauser");
        usdc = new MockUSDC();
        MockMarginOracle oracle = new MockMarginOracle();
        vault = new CollateralVault(usdc, 1 days, admin);
        vm.startPrank(admin);
        vault.grantRole(vault.WITHDRAWAL_GUARD_ROLE(), guard);
        vault.grantRole(vault.PAUSER_ROLE(), pauser);
        vault.setMarginOracle(oracle);
        vm.stopPrank();
        handler = new VaultHandler(vault, usdc, oracle, admin, guard, pauser);

        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = VaultHandler.deposit.selector;
        selectors[1] = VaultHandler.depositFor.selector;
        selectors[2] = VaultHandler.requestWithdrawal.selector;
        selectors[3] = VaultHandler.requestWithdrawal.selector; // twice: requests feed everything after them
        selectors[4] = VaultHandler.executeWithdrawal.selector;
        selectors[5] = VaultHandler.rejectWithdrawal.selector;
        selectors[6] = VaultHandler.claim.selector;
        selectors[7] = VaultHandler.warp.selector;
        selectors[8] = VaultHandler.setPaused.selector;
        selectors[9] = VaultHandler.setBlacklisted.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @dev token balance of the vault == sum of available balances + pending withdrawals + claimable balances.
    function invariant_vaultHoldsExactlyWhatItOwes() public view {
        uint256 owed;
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            owed += vault.availableOf(actor) + vault.claimableOf(actor);
        }
        for (uint256 id = 1; id <= vault.lastWithdrawalId(); ++id) {
            ICollateralVault.Withdrawal memory w = vault.withdrawal(id);
            if (w.status == ICollateralVault.WithdrawalStatus.Pending) owed += w.amount;
        }
        assertEq(usdc.balanceOf(address(vault)), owed);
    }

    function invariant_tokensInMinusTokensOutIsWhatTheVaultHolds() public view {
        assertEq(handler.ghostDeposited() - handler.ghostPaidOut(), usdc.balanceOf(address(vault)));
    }

    function invariant_everyBalanceMatchesTheGhostModelAndNoneIsNegative() public view {
        for (uint256 i; i < handler.actorCount(); ++i) {
            address actor = handler.actors(i);
            int256 available = handler.ghostAvailable(actor);
            int256 claimable = handler.ghostClaimable(actor);
            assertGe(available, 0, "available");
            assertGe(claimable, 0, "claimable");
            assertEq(vault.availableOf(actor), SafeCast.toUint256(available), "available");
            assertEq(vault.claimableOf(actor), SafeCast.toUint256(claimable), "claimable");
        }
    }

    function invariant_everyWithdrawalMatchesTheGhostModel() public view {
        assertEq(vault.lastWithdrawalId(), handler.withdrawalCount());
        uint256 pending;
        for (uint256 id = 1; id <= handler.withdrawalCount(); ++id) {
            VaultHandler.GhostWithdrawal memory ghost = handler.ghostWithdrawal(id);
            ICollateralVault.Withdrawal memory w = vault.withdrawal(id);
            assertEq(w.account, ghost.account);
            assertEq(w.amount, ghost.amount);
            assertEq(w.unlockAt, ghost.unlockAt);
            assertEq(uint8(w.status), uint8(ghost.status));
            if (w.status == ICollateralVault.WithdrawalStatus.Pending) pending += w.amount;
        }
        assertEq(pending, handler.ghostPending());
    }

    /// @dev Never executed before its time or twice, never rejected unless the guard asked inside the window and
    /// the margin check confirmed, never a request, execution or claim refused because of a pause.
    function invariant_noActionWasAcceptedOrRefusedAgainstTheRules() public view {
        assertEq(handler.unexpectedOutcomes(), 0, handler.lastSurprise());
    }
}
