// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {PositionMath} from "../../src/libraries/PositionMath.sol";

/// @notice PositionMath's funding settlement as external calls, so that the shared vectors can drive it.
contract PositionMathHarness {
    function fundingPaymentUp(int64 size, int256 deltaIdx) external pure returns (int256) {
        return PositionMath.fundingPaymentUp(size, deltaIdx);
    }

    function settleFunding(int64 size, int256 deltaIdx, uint64 dustIdx)
        external
        pure
        returns (int256 amountQq, uint64 newDustIdx, uint256 sweptQq)
    {
        return PositionMath.settleFunding(size, deltaIdx, dustIdx);
    }
}
