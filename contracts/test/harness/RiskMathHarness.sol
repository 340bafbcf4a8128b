// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {RiskMath} from "../../src/libraries/RiskMath.sol";

/// @notice RiskMath's internal functions as external calls, so that a test can catch their reverts.
contract RiskMathHarness {
    function atRiskNotional(int64 size, int64 pricePpm) external pure returns (int64) {
        return RiskMath.atRiskNotional(size, pricePpm);
    }

    function imfPpmDown(int64 baseImfPpm, int64 oiNotionalQq, int64 lowerCapQq, int64 upperCapQq)
        external
        pure
        returns (int64)
    {
        return RiskMath.imfPpmDown(baseImfPpm, oiNotionalQq, lowerCapQq, upperCapQq);
    }

    function initialRequirementUp(int64 size, int64 pricePpm, int64 imfPpm) external pure returns (int64) {
        return RiskMath.initialRequirementUp(size, pricePpm, imfPpm);
    }

    function maintenanceRequirementUp(int64 size, int64 pricePpm, int64 mmfPpm) external pure returns (int64) {
        return RiskMath.maintenanceRequirementUp(size, pricePpm, mmfPpm);
    }

    function feeUp(int64 notionalQq, int64 feePpm) external pure returns (int64) {
        return RiskMath.feeUp(notionalQq, feePpm);
    }

    function unrealizedPnl(int64 size, int64 openNotionalQq, int64 pricePpm) external pure returns (int64) {
        return RiskMath.unrealizedPnl(size, openNotionalQq, pricePpm);
    }

    function applyFill(int64 size, int64 openNotionalQq, int64 fillSize, int64 pricePpm)
        external
        pure
        returns (int64, int64, int64)
    {
        return RiskMath.applyFill(size, openNotionalQq, fillSize, pricePpm);
    }
}
