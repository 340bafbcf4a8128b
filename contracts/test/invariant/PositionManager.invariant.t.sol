// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICollateralVault} from "../../src/interfaces/ICollateralVault.sol";
import {IPositionManager} from "../../src/interfaces/IPositionManager.sol";
import {Roles} from "../../src/libraries/Roles.sol";
import {SystemFixture} from "../utils/SystemFixture.sol";
import {IBatchSigner, PositionHandler} from "./PositionHandler.sol";

/// @notice Whatever sequence of signed trades, mark moves, funding pushes, withdrawals, pauses and time: the vault
/// holds exactly every balance, the insurance fund and the pools; sizes sum to zero and open interest is the sum
/// of longs in every market; batches count up by one and never replay; funding moves only within its bound; and
/// exit mode, once inactivity allows it, lets every account close and leave with its due.
/// forge-config: default.invariant.runs = 48
contract PositionManagerInvariantTest is SystemFixture, IBatchSigner {
    PositionHandler internal handler;
    address[] internal actors;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 4; ++i) {
            address actor = vm.addr(0xACC0 + i);
            actors.push(actor);
            _fund(actor, 2_000e6);
        }
        handler = new PositionHandler(pm, risk, this, actors, [submitter, fundingPusher, pauser, admin]);
        risk.grantRole(Roles.PRICE_PUSHER, address(handler));
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = PositionHandler.trade.selector;
        selectors[1] = PositionHandler.trade.selector;
        selectors[2] = PositionHandler.trade.selector; // trades feed everything else
        selectors[3] = PositionHandler.moveMark.selector;
        selectors[4] = PositionHandler.applyFunding.selector;
        selectors[5] = PositionHandler.requestWithdrawal.selector;
        selectors[6] = PositionHandler.setPaused.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function signBatch(uint64 seq, bytes32 prevHash, IPositionManager.Fill[] memory fills)
        external
        view
        returns (bytes memory)
    {
        return _sign(ENGINE_KEY, seq, prevHash, fills);
    }

    /// @dev USDC in the vault == Σ available + pending + claimable (the fee recipient is an account) + insurance
    /// + Σ markets (clearing pool + funding pool). The pools are what open positions owe or are owed (the clearing
    /// pool is minus the sum of open notionals), so the vault holds every account's equity.
    function invariant_vaultHoldsBalancesInsuranceAndPools() public view {
        uint256 owed = vault.availableOf(feeRecipient) + vault.claimableOf(feeRecipient);
        for (uint256 i; i < actors.length; ++i) {
            owed += vault.availableOf(actors[i]) + vault.claimableOf(actors[i]);
        }
        for (uint256 id = 1; id <= vault.lastWithdrawalId(); ++id) {
            ICollateralVault.Withdrawal memory w = vault.withdrawal(id);
            if (w.status == ICollateralVault.WithdrawalStatus.Pending) owed += w.amount;
        }
        assertEq(vault.totalOwed(), owed, "totalOwed");
        int256 pools;
        int256 openNotional;
        for (uint32 m = M1; m <= M2; ++m) {
            IPositionManager.MarketState memory s = pm.marketStateOf(m);
            pools += int256(s.clearingPoolQq) + s.fundingPoolQq;
            for (uint256 i; i < actors.length; ++i) {
                openNotional += pm.positionOf(m, actors[i]).openNotionalQq;
            }
            assertEq(int256(s.clearingPoolQq), -_openNotional(m), "clearing pool == -sum of open notionals");
        }
        assertEq(
            SafeCast.toInt256(usdc.balanceOf(address(vault))), SafeCast.toInt256(owed + insurance.totalBalance()) + pools
        );
    }

    function invariant_sizesSumToZeroAndOpenInterestIsTheSumOfLongs() public view {
        for (uint32 m = M1; m <= M2; ++m) {
            int256 sum;
            uint256 longs;
            for (uint256 i; i < actors.length; ++i) {
                int64 size = pm.positionOf(m, actors[i]).size;
                sum += size;
                if (size > 0) longs += SafeCast.toUint256(size);
            }
            assertEq(sum, 0, "sizes");
            assertEq(pm.marketStateOf(m).openInterest, longs, "open interest");
        }
    }

    function invariant_marketListsMatchPositions() public view {
        for (uint256 i; i < actors.length; ++i) {
            uint32[] memory list = pm.marketsOf(actors[i]);
            uint256 held;
            for (uint32 m = M1; m <= M2; ++m) {
                if (pm.positionOf(m, actors[i]).size != 0) ++held;
            }
            assertEq(list.length, held);
            for (uint256 k; k < list.length; ++k) {
                assertTrue(pm.positionOf(list[k], actors[i]).size != 0);
            }
        }
    }

    function invariant_batchesCountUpByOneAndNeverReplay() public view {
        assertEq(pm.lastSeq(), handler.ghostBatches());
    }

    function invariant_fundingMovesOnlyWithinItsBound() public view {
        for (uint32 m = M1; m <= M2; ++m) {
            assertEq(int256(pm.marketStateOf(m).fundingIndex), handler.ghostFundingIndex(m));
        }
    }

    function invariant_noActionWasAcceptedOrRefusedAgainstTheRules() public view {
        assertEq(handler.unexpectedOutcomes(), 0, handler.lastSurprise());
    }

    /// @dev From any state: after the inactivity period anyone turns exit mode on (paused or not), every position
    /// closes at the latest mark, and every account takes out its whole cash, in full when the vault is not short;
    /// the state is then restored for the run to continue.
    function invariant_exitModeLetsEveryAccountLeaveWithItsDue() public {
        uint256 snapshot = vm.snapshotState();
        vm.warp(uint256(pm.lastBatchAt()) + INACTIVITY);
        pm.enterExitMode();
        for (uint32 m = M1; m <= M2; ++m) {
            for (uint256 i; i < actors.length; ++i) {
                if (pm.positionOf(m, actors[i]).size != 0) pm.exitClose(m, actors[i]);
            }
            assertEq(pm.marketStateOf(m).openInterest, 0);
        }
        for (uint256 i; i < actors.length; ++i) {
            uint256 due = vault.availableOf(actors[i]);
            if (due == 0) continue;
            uint256 held = usdc.balanceOf(address(vault));
            uint256 owed = vault.totalOwed();
            vm.prank(actors[i]);
            uint256 paid = pm.exitWithdraw();
            assertEq(paid, held >= owed ? due : due * held / owed, "paid");
            assertEq(vault.availableOf(actors[i]), 0);
        }
        vm.revertToState(snapshot);
    }

    /// @dev Each run traded: the invariants above were checked against real positions, not an empty book.
    function afterInvariant() external view {
        assertGt(handler.successes("trade"), 0, "no trade landed");
    }

    function _openNotional(uint32 m) internal view returns (int256 sum) {
        for (uint256 i; i < actors.length; ++i) {
            sum += pm.positionOf(m, actors[i]).openNotionalQq;
        }
    }
}
