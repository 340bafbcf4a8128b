// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../src/interfaces/IMarketRiskRegistry.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {MarketRiskRegistry} from "../src/MarketRiskRegistry.sol";
import {RegistriesFixture} from "./utils/RegistriesFixture.sol";

contract MarketRiskRegistryTest is RegistriesFixture {
    IMarketRegistry.Phase internal constant ACTIVE = IMarketRegistry.Phase.Active;

    function setUp() public override {
        super.setUp();
        _marketIn(MARKET, ACTIVE);
    }

    // ------------------------------------------------------------------------------------------------
    // construction

    function test_constructor_setsTheRegistryTheBoundsAndTheAdminOnly() public view {
        assertEq(address(risk.marketRegistry()), address(markets));
        assertEq(risk.maxSnapshotAge(), MAX_AGE);
        assertEq(risk.maxMovePpmPerSecond(), MAX_MOVE);
        assertTrue(risk.hasRole(risk.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(risk.hasRole(Roles.PRICE_PUSHER, admin));
    }

    function test_RevertWhen_constructedWithAZeroAdminOrMarketRegistry() public {
        vm.expectRevert(IMarketRiskRegistry.ZeroAddress.selector);
        new MarketRiskRegistry(address(0), markets, MAX_AGE, MAX_MOVE);
        vm.expectRevert(IMarketRiskRegistry.ZeroAddress.selector);
        new MarketRiskRegistry(admin, IMarketRegistry(address(0)), MAX_AGE, MAX_MOVE);
    }

    function test_RevertWhen_constructedWithAZeroAgeOrAMoveBoundOutsideTheRange() public {
        _expectBadBounds(0, MAX_MOVE);
        new MarketRiskRegistry(admin, markets, 0, MAX_MOVE);
        int64[3] memory moves = [int64(0), -1, ONE + 1];
        for (uint256 i; i < moves.length; ++i) {
            _expectBadBounds(MAX_AGE, moves[i]);
            new MarketRiskRegistry(admin, markets, MAX_AGE, moves[i]);
        }
    }

    function test_constructor_acceptsTheExtremeBounds() public {
        MarketRiskRegistry loose = new MarketRiskRegistry(admin, markets, type(uint64).max, ONE);
        assertEq(loose.maxSnapshotAge(), type(uint64).max);
        assertEq(loose.maxMovePpmPerSecond(), ONE);
        assertEq(new MarketRiskRegistry(admin, markets, 1, 1).maxMovePpmPerSecond(), 1);
    }

    // ------------------------------------------------------------------------------------------------
    // risk tiers

    function test_setRiskTier_storesAndEmitsTheTier() public {
        IMarketRiskRegistry.RiskTier memory tier = _tier();
        vm.expectEmit(address(risk));
        emit IMarketRiskRegistry.RiskTierSet(MARKET, tier);
        vm.prank(admin);
        risk.setRiskTier(MARKET, tier);
        assertEq(abi.encode(risk.riskTierOf(MARKET)), abi.encode(tier));

        tier.takerFeePpm = 700; // a later tier replaces the earlier one
        vm.prank(admin);
        risk.setRiskTier(MARKET, tier);
        assertEq(risk.riskTierOf(MARKET).takerFeePpm, 700);
    }

    function test_setRiskTier_worksInEveryPhaseOfAnExistingMarket() public {
        for (uint8 p = uint8(IMarketRegistry.Phase.Draft); p <= uint8(IMarketRegistry.Phase.Settled); ++p) {
            _marketIn(100 + p, IMarketRegistry.Phase(p));
            vm.prank(admin);
            risk.setRiskTier(100 + p, _tier());
            assertEq(risk.riskTierOf(100 + p).baseImfPpm, _tier().baseImfPpm);
        }
    }

    function test_setRiskTier_acceptsEveryBoundaryOfTheRanges() public {
        IMarketRiskRegistry.RiskTier[6] memory tiers;
        for (uint256 i; i < tiers.length; ++i) {
            tiers[i] = _tier();
        }
        (tiers[0].baseImfPpm, tiers[0].mmfPpm) = (1, 0); // smallest factors
        (tiers[1].baseImfPpm, tiers[1].mmfPpm) = (ONE, ONE); // fully collateralised, mmf == imf
        (tiers[2].makerFeePpm, tiers[2].takerFeePpm) = (-ONE, ONE); // a rebate equal to the taker fee
        (tiers[3].makerFeePpm, tiers[3].takerFeePpm) = (ONE, -ONE); // a taker rebate paid for by the maker fee
        (tiers[4].oiLowerCapQq, tiers[4].oiUpperCapQq) = (type(int64).max, 0); // scaling off whatever the lower cap
        (tiers[5].oiLowerCapQq, tiers[5].oiUpperCapQq, tiers[5].insuranceSharePpm, tiers[5].priceBandPpm) =
        (5, 5, ONE, ONE); // equal caps, everything to insurance, the widest band
        for (uint256 i; i < tiers.length; ++i) {
            vm.prank(admin);
            risk.setRiskTier(MARKET, tiers[i]);
            assertEq(abi.encode(risk.riskTierOf(MARKET)), abi.encode(tiers[i]));
        }
    }

    function test_RevertWhen_setRiskTier_anyFieldIsOutOfRange() public {
        IMarketRiskRegistry.RiskTier[16] memory tiers;
        for (uint256 i; i < tiers.length; ++i) {
            tiers[i] = _tier();
        }
        tiers[0].baseImfPpm = 0;
        tiers[1].baseImfPpm = ONE + 1;
        tiers[2].baseImfPpm = -1;
        tiers[3].mmfPpm = -1;
        tiers[4].mmfPpm = tiers[4].baseImfPpm + 1;
        tiers[5].makerFeePpm = -ONE - 1;
        tiers[6].takerFeePpm = ONE + 1;
        (tiers[7].makerFeePpm, tiers[7].takerFeePpm) = (-501, 500); // rebate above the taker fee
        tiers[8].insuranceSharePpm = -1;
        tiers[9].insuranceSharePpm = ONE + 1;
        tiers[10].oiLowerCapQq = -1;
        tiers[11].oiUpperCapQq = -1;
        (tiers[12].oiLowerCapQq, tiers[12].oiUpperCapQq) = (6, 5);
        tiers[13].priceBandPpm = 0;
        tiers[14].priceBandPpm = ONE + 1;
        tiers[15].priceBandPpm = -1;
        for (uint256 i; i < tiers.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.InvalidRiskTier.selector, MARKET));
            vm.prank(admin);
            risk.setRiskTier(MARKET, tiers[i]);
        }
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NoRiskTier.selector, MARKET));
        risk.riskTierOf(MARKET);
    }

    function test_RevertWhen_setRiskTier_marketWasNeverCreated() public {
        vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.UnknownMarket.selector, MARKET + 1));
        vm.prank(admin);
        risk.setRiskTier(MARKET + 1, _tier());
    }

    function test_RevertWhen_setRiskTier_callerIsNotTheAdmin() public {
        _expectUnauthorized(pusher, risk.DEFAULT_ADMIN_ROLE());
        vm.prank(pusher);
        risk.setRiskTier(MARKET, _tier());
    }

    function test_RevertWhen_riskTierOf_noTierWasSet() public {
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NoRiskTier.selector, MARKET));
        risk.riskTierOf(MARKET);
    }

    // ------------------------------------------------------------------------------------------------
    // snapshots

    function test_pushSnapshot_storesAndEmitsTheFirstSnapshotWhateverItsPrices() public {
        vm.expectEmit(address(risk));
        emit IMarketRiskRegistry.SnapshotPushed(MARKET, 0, ONE, START - 30, ACTIVE);
        _push(MARKET, 0, ONE, START - 30, ACTIVE);
        _assertSnapshot(0, ONE, START - 30);
    }

    function test_pushSnapshot_acceptsAMoveOfExactlyTheBound() public {
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        int64 bound = MAX_MOVE * 10;
        _push(MARKET, 500_000 + bound, 500_000 - bound, START, ACTIVE);
        _assertSnapshot(500_000 + bound, 500_000 - bound, START);
    }

    function test_pushSnapshot_writesIntoOneStorageSlot() public {
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        vm.record();
        _push(MARKET, 501_000, 499_000, START, ACTIVE);
        (, bytes32[] memory writes) = vm.accesses(address(risk));
        assertGt(writes.length, 0);
        for (uint256 i; i < writes.length; ++i) {
            assertEq(writes[i], writes[0]); // the optimizer may store twice, but always into the same slot
        }
    }

    function test_pushSnapshot_keepsEachMarketApart() public {
        _marketIn(MARKET + 1, IMarketRegistry.Phase.Draft);
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        _push(MARKET + 1, 0, ONE, START - 20, IMarketRegistry.Phase.Draft); // its own first snapshot: free
        _assertSnapshot(500_000, 500_000, START - 10);
        IMarketRiskRegistry.Snapshot memory other = risk.latestSnapshot(MARKET + 1);
        assertEq(other.markPricePpm, ONE);
        assertEq(uint8(other.phase), uint8(IMarketRegistry.Phase.Draft));
    }

    function test_pushSnapshot_followsTheMarketIntoItsNextPhase() public {
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        vm.prank(resolver);
        markets.startResolving(MARKET);
        vm.expectRevert(
            abi.encodeWithSelector(IMarketRiskRegistry.PhaseMismatch.selector, ACTIVE, IMarketRegistry.Phase.Resolving)
        );
        _push(MARKET, 500_000, 500_000, START - 5, ACTIVE);
        _push(MARKET, 500_000, 500_000, START - 5, IMarketRegistry.Phase.Resolving);
        assertEq(uint8(risk.latestSnapshot(MARKET).phase), uint8(IMarketRegistry.Phase.Resolving));
    }

    function test_RevertWhen_pushSnapshot_aPriceIsOutsideTheRange() public {
        int64[4] memory bad = [int64(-1), ONE + 1, type(int64).min, type(int64).max];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.PriceOutOfRange.selector, bad[i]));
            _push(MARKET, bad[i], 500_000, START, ACTIVE);
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.PriceOutOfRange.selector, bad[i]));
            _push(MARKET, 500_000, bad[i], START, ACTIVE);
        }
        _expectNoSnapshot();
    }

    function test_RevertWhen_pushSnapshot_timestampIsNotAfterThePreviousOrInTheFuture() public {
        _expectNonMonotonic(0, 0);
        _push(MARKET, 500_000, 500_000, 0, ACTIVE);
        _expectNonMonotonic(0, START + 1);
        _push(MARKET, 500_000, 500_000, START + 1, ACTIVE);
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        uint64[3] memory bad = [START - 10, START - 11, START + 1];
        for (uint256 i; i < bad.length; ++i) {
            _expectNonMonotonic(START - 10, bad[i]);
            _push(MARKET, 500_000, 500_000, bad[i], ACTIVE);
        }
        _assertSnapshot(500_000, 500_000, START - 10);
    }

    function test_RevertWhen_pushSnapshot_theIndexOrTheMarkMovesOneAboveTheBound() public {
        _push(MARKET, 500_000, 500_000, START - 10, ACTIVE);
        int64 over = 500_000 + MAX_MOVE * 10 + 1;
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.MoveTooLarge.selector, 500_000, over, 10));
        _push(MARKET, over, 500_000, START, ACTIVE);
        int64 under = 500_000 - MAX_MOVE * 10 - 1;
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.MoveTooLarge.selector, 500_000, under, 10));
        _push(MARKET, 500_000, under, START, ACTIVE);
        _assertSnapshot(500_000, 500_000, START - 10);
    }

    function test_pushSnapshot_aLongGapAllowsAnyMove() public {
        _push(MARKET, 0, ONE, 1, ACTIVE);
        _push(MARKET, ONE, 0, START, ACTIVE); // (START - 1) × MAX_MOVE is far above 1e6
        _assertSnapshot(ONE, 0, START);
    }

    function test_RevertWhen_pushSnapshot_phaseDiffersFromTheMarketRegistry() public {
        for (uint8 p; p <= uint8(IMarketRegistry.Phase.Settled); ++p) {
            if (p == uint8(ACTIVE)) continue;
            vm.expectRevert(
                abi.encodeWithSelector(IMarketRiskRegistry.PhaseMismatch.selector, IMarketRegistry.Phase(p), ACTIVE)
            );
            _push(MARKET, 500_000, 500_000, START, IMarketRegistry.Phase(p));
        }
        _expectNoSnapshot();
    }

    function test_RevertWhen_pushSnapshot_marketWasNeverCreatedEvenWithPhaseNone() public {
        vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.UnknownMarket.selector, MARKET + 1));
        _push(MARKET + 1, 500_000, 500_000, START, IMarketRegistry.Phase.None);
    }

    function test_RevertWhen_pushSnapshot_callerIsNotThePricePusher() public {
        _expectUnauthorized(admin, Roles.PRICE_PUSHER);
        vm.prank(admin);
        risk.pushSnapshot(MARKET, 500_000, 500_000, START, ACTIVE);
    }

    // ------------------------------------------------------------------------------------------------
    // reading snapshots

    function test_RevertWhen_latestOrFreshSnapshot_noneWasPushed() public {
        _expectNoSnapshot();
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NoSnapshot.selector, MARKET));
        risk.freshSnapshot(MARKET);
    }

    function test_freshSnapshot_servesTheSnapshotUntilExactlyTheMaximumAge() public {
        _push(MARKET, 400_000, 450_000, START - 1, ACTIVE);
        vm.warp(START - 1 + MAX_AGE);
        IMarketRiskRegistry.Snapshot memory snapshot = risk.freshSnapshot(MARKET);
        assertEq(snapshot.indexPricePpm, 400_000);
        assertEq(snapshot.markPricePpm, 450_000);
        assertEq(snapshot.timestamp, START - 1);
        assertEq(uint8(snapshot.phase), uint8(ACTIVE));
    }

    function test_RevertWhen_freshSnapshot_isOneSecondOlderThanTheMaximumAge() public {
        _push(MARKET, 400_000, 450_000, START - 1, ACTIVE);
        vm.warp(START + MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.StaleSnapshot.selector, MARKET, START - 1, MAX_AGE));
        risk.freshSnapshot(MARKET);
        assertEq(risk.latestSnapshot(MARKET).timestamp, START - 1); // exit mode still reads it
    }

    // ------------------------------------------------------------------------------------------------

    function _assertSnapshot(int64 indexPpm, int64 markPpm, uint64 timestamp) internal view {
        IMarketRiskRegistry.Snapshot memory snapshot = risk.latestSnapshot(MARKET);
        assertEq(snapshot.indexPricePpm, indexPpm, "index");
        assertEq(snapshot.markPricePpm, markPpm, "mark");
        assertEq(snapshot.timestamp, timestamp, "timestamp");
        assertEq(uint8(snapshot.phase), uint8(ACTIVE), "phase");
    }

    function _expectNoSnapshot() internal {
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NoSnapshot.selector, MARKET));
        risk.latestSnapshot(MARKET);
    }

    function _expectNonMonotonic(uint64 previous, uint64 timestamp) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NonMonotonicTimestamp.selector, previous, timestamp));
    }

    function _expectBadBounds(uint64 maxAge, int64 maxMove) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.InvalidSnapshotBounds.selector, maxAge, maxMove));
    }
}
