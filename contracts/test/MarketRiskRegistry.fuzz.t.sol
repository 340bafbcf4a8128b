// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMarketRegistry} from "../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../src/interfaces/IMarketRiskRegistry.sol";
import {RegistriesFixture} from "./utils/RegistriesFixture.sol";
import {SnapshotRules} from "./utils/SnapshotRules.sol";

contract MarketRiskRegistryFuzzTest is RegistriesFixture {
    IMarketRegistry.Phase internal constant ACTIVE = IMarketRegistry.Phase.Active;
    uint256 internal constant PUSHES = 12;

    function setUp() public override {
        super.setUp();
        _marketIn(MARKET, ACTIVE);
    }

    // ------------------------------------------------------------------------------------------------
    // risk tiers

    /// @dev Each field is drawn within its range (itself relative to the fields it depends on) most of the time,
    /// near an edge of it give or take 2 a quarter of the time and anywhere in int64 one time in sixteen, so that
    /// valid and invalid tiers both come up often; the contract must agree with `_isValidTier` on every one.
    function testFuzz_setRiskTier_acceptsExactlyTheTiersThePredicateAccepts(int64[8] memory raw) public {
        IMarketRiskRegistry.RiskTier memory tier;
        tier.baseImfPpm = _near(raw[0], 1, ONE);
        tier.mmfPpm = _near(raw[1], 0, tier.baseImfPpm);
        tier.oiLowerCapQq = _near(raw[2], 0, 20);
        tier.oiUpperCapQq = _near(raw[3], tier.oiLowerCapQq, 20);
        tier.takerFeePpm = _near(raw[4], -ONE, ONE);
        tier.makerFeePpm =
            _near(raw[5], tier.takerFeePpm < 0 && tier.takerFeePpm >= -ONE ? -tier.takerFeePpm : -ONE, ONE);
        tier.insuranceSharePpm = _near(raw[6], 0, ONE);
        tier.priceBandPpm = _near(raw[7], 1, ONE);
        vm.prank(admin);
        if (_isValidTier(tier)) {
            risk.setRiskTier(MARKET, tier);
            assertEq(abi.encode(risk.riskTierOf(MARKET)), abi.encode(tier));
        } else {
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.InvalidRiskTier.selector, MARKET));
            risk.setRiskTier(MARKET, tier);
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.NoRiskTier.selector, MARKET));
            risk.riskTierOf(MARKET);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // snapshots

    /// @dev A sequence of pushes, each a little before or after the previous one, moving a little less or more
    /// than the bound, now and then out of range, in the future or in the wrong phase (SnapshotRules.candidate):
    /// the contract accepts exactly the pushes the rules allow, every accepted push moved time forward within
    /// range and bound, and every rejected push left the stored snapshot as it was.
    function testFuzz_pushSnapshot_acceptsExactlyTheLegalPushesAndRejectedOnesChangeNothing(uint256 seed) public {
        for (uint256 i; i < PUSHES; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            vm.warp(block.timestamp + r % 20);
            IMarketRiskRegistry.Snapshot memory before = SnapshotRules.stored(risk, MARKET);
            IMarketRiskRegistry.Snapshot memory next =
                SnapshotRules.candidate(before, r >> 8, block.timestamp, MAX_MOVE, ACTIVE);
            bool legal = SnapshotRules.isLegal(before, next, block.timestamp, MAX_MOVE, ACTIVE);

            vm.prank(pusher);
            try risk.pushSnapshot(MARKET, next.indexPricePpm, next.markPricePpm, next.timestamp, next.phase) {
                assertTrue(legal, "an illegal push was accepted");
            } catch {
                assertFalse(legal, "a legal push was rejected");
            }

            IMarketRiskRegistry.Snapshot memory stored = SnapshotRules.stored(risk, MARKET);
            assertEq(abi.encode(stored), abi.encode(legal ? next : before));
            if (legal) {
                assertGt(stored.timestamp, before.timestamp);
                assertLe(stored.timestamp, block.timestamp);
                assertTrue(SnapshotRules.inRange(stored.indexPricePpm) && SnapshotRules.inRange(stored.markPricePpm));
                assertTrue(before.timestamp == 0 || SnapshotRules.withinMoveBound(before, stored, MAX_MOVE));
            }
        }
    }

    function testFuzz_freshSnapshot_servesUpToTheMaximumAgeAndRevertsAfter(uint64 age) public {
        age = uint64(bound(age, 0, 10 * MAX_AGE));
        _push(MARKET, 300_000, 310_000, START, ACTIVE);
        vm.warp(START + age);
        if (age > MAX_AGE) {
            vm.expectRevert(abi.encodeWithSelector(IMarketRiskRegistry.StaleSnapshot.selector, MARKET, START, MAX_AGE));
            risk.freshSnapshot(MARKET);
        } else {
            assertEq(risk.freshSnapshot(MARKET).markPricePpm, 310_000);
        }
    }

    // ------------------------------------------------------------------------------------------------

    /// @dev The rules for a tier, stated apart from the contract.
    function _isValidTier(IMarketRiskRegistry.RiskTier memory t) internal pure returns (bool) {
        if (t.baseImfPpm <= 0 || t.baseImfPpm > ONE) return false;
        if (t.mmfPpm < 0 || t.mmfPpm > t.baseImfPpm) return false;
        if (t.makerFeePpm < -ONE || t.makerFeePpm > ONE || t.takerFeePpm < -ONE || t.takerFeePpm > ONE) return false;
        if (t.makerFeePpm + t.takerFeePpm < 0) return false; // both within ±1e6 here: no overflow
        if (t.insuranceSharePpm < 0 || t.insuranceSharePpm > ONE) return false;
        if (t.oiLowerCapQq < 0 || t.oiUpperCapQq < 0) return false;
        if (t.oiUpperCapQq != 0 && t.oiLowerCapQq > t.oiUpperCapQq) return false;
        return t.priceBandPpm > 0 && t.priceBandPpm <= ONE;
    }

    /// @dev `raw` itself one time in sixteen, an edge of [lo, hi] give or take 2 one time in four (always when a
    /// caller's lo lies above hi), else `raw` bounded to [lo, hi]. An edge at the end of int64 is kept inside it.
    function _near(int64 raw, int64 lo, int64 hi) internal pure returns (int64) {
        uint256 r = uint256(keccak256(abi.encode(raw, lo, hi)));
        if (r % 16 == 0) return raw;
        if (r % 16 < 5 || lo > hi) {
            int256 edge = int256((r >> 8) % 2 == 0 ? lo : hi) + int256((r >> 16) % 5) - 2;
            return SafeCast.toInt64(bound(edge, type(int64).min, type(int64).max));
        }
        return SafeCast.toInt64(bound(int256(raw), lo, hi));
    }
}
