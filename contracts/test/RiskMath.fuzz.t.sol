// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {RiskMath} from "../src/libraries/RiskMath.sol";
import {RiskMathHarness} from "./harness/RiskMathHarness.sol";
import {Test} from "./utils/Test.sol";

/// @notice Properties of RiskMath over random inputs, beside the exact shared vectors: YES/NO symmetry, each
/// rounding going the named way by less than one unit, and fills conserving money.
contract RiskMathFuzzTest is Test {
    int64 internal constant ONE = 1_000_000;
    int64 internal constant MAX_SIZE = 1e12; // keeps every product of these tests inside int64

    RiskMathHarness internal harness = new RiskMathHarness();

    function testFuzz_atRiskNotional_ofALongAtPEqualsAShortAtOneMinusP(int64 size, int64 pricePpm) public pure {
        size = _size(size);
        pricePpm = _price(pricePpm);
        assertEq(RiskMath.atRiskNotional(size, pricePpm), RiskMath.atRiskNotional(-size, ONE - pricePpm));
        assertGe(RiskMath.atRiskNotional(size, pricePpm), 0);
    }

    function testFuzz_requirementUp_isTheLeastIntegerCoveringTheExactRequirement(
        int64 size,
        int64 pricePpm,
        int64 factorPpm
    ) public pure {
        size = _size(size);
        pricePpm = _price(pricePpm);
        factorPpm = int64(bound(factorPpm, 0, ONE));
        int256 exactTimesOne = int256(RiskMath.atRiskNotional(size, pricePpm)) * factorPpm;
        int256 requirement = RiskMath.maintenanceRequirementUp(size, pricePpm, factorPpm);
        assertGe(requirement * ONE, exactTimesOne, "covers the exact requirement");
        assertLt((requirement - 1) * ONE, exactTimesOne, "by less than one quantum");
        assertLe(requirement, RiskMath.atRiskNotional(size, pricePpm), "never above the most it can lose");
        assertEq(requirement, RiskMath.initialRequirementUp(size, pricePpm, factorPpm), "one formula for both");
    }

    function testFuzz_imfPpmDown_risesFromBaseToOneWithOpenInterest(
        int64 baseImfPpm,
        int64 oiQq,
        int64 moreOiQq,
        int64 lowerCapQq,
        int64 upperCapQq
    ) public pure {
        baseImfPpm = int64(bound(baseImfPpm, 0, ONE));
        lowerCapQq = int64(bound(lowerCapQq, 0, 1e15));
        upperCapQq = int64(bound(upperCapQq, lowerCapQq, 2e15));
        oiQq = int64(bound(oiQq, 0, 3e15));
        moreOiQq = int64(bound(moreOiQq, oiQq, 3e15));
        int64 imf = RiskMath.imfPpmDown(baseImfPpm, oiQq, lowerCapQq, upperCapQq);
        assertGe(imf, baseImfPpm);
        assertLe(imf, ONE);
        assertLe(imf, RiskMath.imfPpmDown(baseImfPpm, moreOiQq, lowerCapQq, upperCapQq), "monotone");
        if (oiQq <= lowerCapQq || upperCapQq == 0) assertEq(imf, baseImfPpm);
        else if (oiQq >= upperCapQq) assertEq(imf, ONE);
    }

    function testFuzz_feeUp_chargesAtLeastAndRebatesAtMostTheExactAmount(int64 notionalQq, int64 feePpm) public pure {
        notionalQq = int64(bound(notionalQq, 0, type(int64).max));
        feePpm = int64(bound(feePpm, -ONE, ONE));
        int256 exactTimesOne = int256(notionalQq) * feePpm;
        int256 fee = RiskMath.feeUp(notionalQq, feePpm);
        assertGe(fee * ONE, exactTimesOne);
        assertLt((fee - 1) * ONE, exactTimesOne);
    }

    function testFuzz_applyFill_conservesMoneyAndThePnlAtTheFillPrice(
        int64 size,
        int64 entryPpm,
        int64 fillSize,
        int64 pricePpm
    ) public pure {
        size = _size(size);
        int64 openNotionalQq = _openNotional(size, entryPpm);
        fillSize = _size(fillSize);
        vm.assume(fillSize != 0);
        pricePpm = _price(pricePpm);
        (int64 newSize, int64 newOn, int64 realized) = RiskMath.applyFill(size, openNotionalQq, fillSize, pricePpm);
        assertEq(newSize, size + fillSize);
        assertEq(int256(newOn) - realized, int256(openNotionalQq) + int256(fillSize) * pricePpm, "money conserved");
        assertEq(
            int256(realized) + RiskMath.unrealizedPnl(newSize, newOn, pricePpm),
            RiskMath.unrealizedPnl(size, openNotionalQq, pricePpm),
            "PnL at the fill price unchanged"
        );
    }

    function testFuzz_applyFill_reducingRealizesAtMostTheExactShare(
        int64 size,
        int64 entryPpm,
        int64 closeSize,
        int64 pricePpm
    ) public pure {
        size = _size(size);
        vm.assume(size != 0);
        int64 openNotionalQq = _openNotional(size, entryPpm);
        int64 absSize = size > 0 ? size : -size;
        closeSize = int64(bound(closeSize, 1, absSize));
        int64 fillSize = size > 0 ? -closeSize : closeSize;
        pricePpm = _price(pricePpm);
        (, int64 newOn, int64 realized) = RiskMath.applyFill(size, openNotionalQq, fillSize, pricePpm);
        // exact realized PnL * |size| = (-fill * price) * |size| - ON * closed
        int256 exactTimesSize = -int256(fillSize) * pricePpm * absSize - int256(openNotionalQq) * closeSize;
        assertLe(int256(realized) * absSize, exactTimesSize, "rounded against the account");
        assertGt((int256(realized) + 1) * absSize, exactTimesSize, "by less than one quantum");
        RiskMath.unrealizedPnl(size + fillSize, newOn, pricePpm); // the rest is a valid position
    }

    function testFuzz_applyFill_revertsOnAZeroFill(int64 size, int64 entryPpm, int64 pricePpm) public {
        size = _size(size);
        int64 openNotionalQq = _openNotional(size, entryPpm);
        vm.expectRevert(RiskMath.ZeroFillSize.selector);
        harness.applyFill(size, openNotionalQq, 0, _price(pricePpm));
    }

    function testFuzz_prices_outsideZeroToOneRevert(int64 size, int64 pricePpm) public {
        vm.assume(pricePpm < 0 || pricePpm > ONE);
        vm.expectRevert(abi.encodeWithSelector(RiskMath.PriceOutOfRange.selector, pricePpm));
        harness.atRiskNotional(size, pricePpm);
    }

    function _size(int64 size) internal pure returns (int64) {
        return int64(bound(size, -MAX_SIZE, MAX_SIZE));
    }

    function _price(int64 pricePpm) internal pure returns (int64) {
        return int64(bound(pricePpm, 0, ONE));
    }

    function _openNotional(int64 size, int64 entryPpm) internal pure returns (int64) {
        return size * _price(entryPpm);
    }
}
