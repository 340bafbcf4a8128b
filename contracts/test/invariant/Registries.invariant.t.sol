// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";
import {RegistriesFixture} from "../utils/RegistriesFixture.sol";
import {SnapshotRules} from "../utils/SnapshotRules.sol";
import {InsuranceHandler, LifecycleHandler, SnapshotHandler} from "./RegistriesHandlers.sol";

/// @notice Whatever creations, transitions (legal or not, by the right role or not) and resolution records: a
/// market's phase only ever moves one step forward, never back, Resolved and Settled markets have a resolution
/// value, and no action was accepted or refused against the rules (see LifecycleHandler).
contract LifecycleInvariantTest is RegistriesFixture {
    LifecycleHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new LifecycleHandler(markets, oracles, admin, resolver, stranger);
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = LifecycleHandler.createMarket.selector;
        selectors[1] = LifecycleHandler.transition.selector;
        selectors[2] = LifecycleHandler.transition.selector; // three times: a market needs four steps to settle
        selectors[3] = LifecycleHandler.transition.selector;
        selectors[4] = LifecycleHandler.recordResolution.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_lifecycle_phaseOnlyEverMovesOneStepForward() public view {
        assertEq(handler.illegalMoves(), 0);
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            assertEq(uint8(markets.phaseOf(marketId)), uint8(handler.ghostPhase(marketId)));
        }
    }

    function invariant_lifecycle_resolvedImpliesARecordedResolutionValue() public view {
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            if (markets.phaseOf(marketId) < IMarketRegistry.Phase.Resolved) continue;
            (bool resolved, int64 valuePpm) = oracles.resolutionOf(marketId);
            assertTrue(resolved);
            assertEq(valuePpm, handler.ghostResolution(marketId));
        }
    }

    function invariant_lifecycle_noActionWasAcceptedOrRefusedAgainstTheRules() public view {
        assertEq(handler.unexpectedOutcomes(), 0, handler.lastSurprise());
    }
}

/// @notice Whatever pushes (legal or not), phase changes and time: the stored snapshot's timestamp strictly
/// increases across accepted pushes and is never ahead of the block, prices stay in [0, 1e6], rejected pushes change
/// nothing, freshness holds exactly up to the maximum age, and no push was accepted or refused against the rules
/// (see SnapshotHandler).
contract SnapshotInvariantTest is RegistriesFixture {
    SnapshotHandler internal handler;

    function setUp() public override {
        super.setUp();
        _marketIn(1, IMarketRegistry.Phase.Active);
        _marketIn(2, IMarketRegistry.Phase.Draft);
        handler = new SnapshotHandler(risk, oracles, admin, resolver, pusher, stranger);
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = SnapshotHandler.push.selector;
        selectors[1] = SnapshotHandler.push.selector; // four times: pushes are what is under test
        selectors[2] = SnapshotHandler.push.selector;
        selectors[3] = SnapshotHandler.push.selector;
        selectors[4] = SnapshotHandler.advance.selector;
        selectors[5] = SnapshotHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_snapshots_timestampStrictlyIncreasesAcrossAcceptedPushes() public view {
        assertEq(handler.nonIncreasingAccepted(), 0);
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            IMarketRiskRegistry.Snapshot memory stored = SnapshotRules.stored(risk, marketId);
            assertEq(abi.encode(stored), abi.encode(handler.ghostSnapshot(marketId)));
            assertLe(stored.timestamp, block.timestamp);
        }
    }

    function invariant_snapshots_pricesStayInRange() public view {
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            IMarketRiskRegistry.Snapshot memory stored = SnapshotRules.stored(risk, marketId);
            assertTrue(SnapshotRules.inRange(stored.indexPricePpm), "index");
            assertTrue(SnapshotRules.inRange(stored.markPricePpm), "mark");
        }
    }

    function invariant_snapshots_rejectedPushesChangeNothing() public view {
        assertEq(handler.changedByRejection(), 0);
    }

    function invariant_snapshots_freshExactlyUpToTheMaximumAge() public view {
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            uint64 timestamp = SnapshotRules.stored(risk, marketId).timestamp;
            bool fresh = timestamp != 0 && block.timestamp - timestamp <= MAX_AGE;
            try risk.freshSnapshot(marketId) returns (IMarketRiskRegistry.Snapshot memory snapshot) {
                assertTrue(fresh, "a stale snapshot was served");
                assertEq(snapshot.timestamp, timestamp);
            } catch {
                assertFalse(fresh, "a fresh snapshot was refused");
            }
        }
    }

    function invariant_snapshots_noPushWasAcceptedOrRefusedAgainstTheRules() public view {
        assertEq(handler.unexpectedOutcomes(), 0, handler.lastSurprise());
    }
}

/// @notice Whatever credits, draws (within the limits or above them), cap changes and time: every market's balance
/// is its credits minus its draws, the total is the sum of the balances, a window never draws more than the highest
/// cap in force since it opened, `drawableOf` is min(balance, cap - drawn), and no credit or draw was accepted or
/// refused against the rules (see InsuranceHandler).
contract InsuranceInvariantTest is RegistriesFixture {
    InsuranceHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new InsuranceHandler(fund, admin, positionManager, stranger);
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = InsuranceHandler.credit.selector;
        selectors[1] = InsuranceHandler.credit.selector;
        selectors[2] = InsuranceHandler.draw.selector;
        selectors[3] = InsuranceHandler.draw.selector; // three times: draws are what the cap is about
        selectors[4] = InsuranceHandler.draw.selector;
        selectors[5] = InsuranceHandler.warp.selector;
        selectors[6] = InsuranceHandler.setDrawCap.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function invariant_insurance_balanceIsCreditsMinusDraws() public view {
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            assertEq(fund.balanceOf(marketId), handler.ghostCredited(marketId) - handler.ghostDrawn(marketId));
        }
    }

    function invariant_insurance_totalIsTheSumOfBalances() public view {
        uint256 sum;
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            sum += fund.balanceOf(marketId);
        }
        assertEq(fund.totalBalance(), sum);
    }

    function invariant_insurance_drawnInWindowNeverExceedsTheCap() public view {
        for (uint32 marketId = 1; marketId <= handler.MARKETS(); ++marketId) {
            (uint64 openedAt, uint256 drawn) = fund.drawWindowOf(marketId);
            (uint64 ghostOpenedAt, uint256 ghostDrawn) = handler.ghostWindowOf(marketId);
            assertEq(openedAt, ghostOpenedAt, "window opened at");
            assertEq(drawn, ghostDrawn, "drawn in window");
            assertLe(drawn, handler.capCeiling(marketId), "drawn above every cap in force since the window opened");
            uint256 cap = fund.maxDrawPerWindow();
            uint256 remaining = cap > drawn ? cap - drawn : 0;
            uint256 balance = fund.balanceOf(marketId);
            assertEq(fund.drawableOf(marketId), balance < remaining ? balance : remaining, "drawable");
        }
    }

    function invariant_insurance_noCreditOrDrawWasAcceptedOrRefusedAgainstTheRules() public view {
        assertEq(handler.unexpectedOutcomes(), 0, handler.lastSurprise());
    }
}
