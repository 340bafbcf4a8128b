// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {PositionMathHarness} from "./harness/PositionMathHarness.sol";
import {SharedVectors} from "./utils/SharedVectors.sol";

/// @notice PositionMath settles funding exactly as perpcore does on every shared vector: the payment (payer
/// rounds up, receiver down), the market's dust after it and the whole quantums swept to insurance. The
/// vectors (tests/vectors/funding.json) are written by tests/vectors/generate.py from perpcore.reference.funding;
/// a Python test fails when they drift from it.
contract PositionMathVectorsTest is SharedVectors {
    PositionMathHarness internal harness;

    function setUp() public {
        harness = new PositionMathHarness();
        _load("funding.json");
    }

    function test_fundingPaymentUp_matchesPerpcoreOnEveryVector() public view {
        _checkCases(address(harness), "fundingPaymentUp", PositionMathHarness.fundingPaymentUp.selector);
    }

    function test_settleFunding_matchesPerpcoreOnEveryVector() public view {
        _checkCases(address(harness), "settleFunding", PositionMathHarness.settleFunding.selector);
    }

    function test_vectors_coverBothFunctions() public view {
        assertEq(vm.parseJsonKeys(json, ".functions").length, 2, "one entry per function");
    }
}
