// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {RiskMath} from "../src/libraries/RiskMath.sol";
import {RiskMathHarness} from "./harness/RiskMathHarness.sol";
import {SharedVectors} from "./utils/SharedVectors.sol";

/// @notice RiskMath gives perpcore's integers on every shared test vector: the same results where the Python
/// reference returns, `Int64Overflow` where it raises OverflowError, an argument error where it raises
/// InvalidInput. The vectors (tests/vectors/risk_math.json) are written by tests/vectors/generate.py from
/// perpcore.reference.margin; a Python test fails when they drift from it.
contract RiskMathVectorsTest is SharedVectors {
    RiskMathHarness internal harness;

    function setUp() public {
        harness = new RiskMathHarness();
        _load("risk_math.json");
    }

    function test_atRiskNotional_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("atRiskNotional", RiskMathHarness.atRiskNotional.selector);
    }

    function test_imfPpmDown_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("imfPpmDown", RiskMathHarness.imfPpmDown.selector);
    }

    function test_initialRequirementUp_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("initialRequirementUp", RiskMathHarness.initialRequirementUp.selector);
    }

    function test_maintenanceRequirementUp_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("maintenanceRequirementUp", RiskMathHarness.maintenanceRequirementUp.selector);
    }

    function test_feeUp_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("feeUp", RiskMathHarness.feeUp.selector);
    }

    function test_unrealizedPnl_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("unrealizedPnl", RiskMathHarness.unrealizedPnl.selector);
    }

    function test_applyFill_matchesPerpcoreOnEveryVector() public view {
        _checkVectors("applyFill", RiskMathHarness.applyFill.selector);
    }

    function test_vectors_coverEveryFunctionWithResultsAndBothKindsOfError() public view {
        string[7] memory names = [
            "atRiskNotional",
            "imfPpmDown",
            "initialRequirementUp",
            "maintenanceRequirementUp",
            "feeUp",
            "unrealizedPnl",
            "applyFill"
        ];
        assertEq(vm.parseJsonKeys(json, ".functions").length, names.length, "one entry per RiskMath function");
        bool overflowSeen;
        for (uint256 i; i < names.length; ++i) {
            assertGt(_cases(names[i]).length, 0, names[i]);
            Revert[] memory reverts = _reverts(names[i]);
            bool invalidSeen;
            for (uint256 j; j < reverts.length; ++j) {
                bytes32 kind = keccak256(bytes(reverts[j].error));
                invalidSeen = invalidSeen || kind == keccak256("InvalidInput");
                overflowSeen = overflowSeen || kind == keccak256("OverflowError");
            }
            assertTrue(invalidSeen, string.concat(names[i], ": no InvalidInput vector"));
        }
        assertTrue(overflowSeen, "no OverflowError vector");
    }

    /// @dev Every case returns perpcore's results; every revert reverts with the matching kind of error.
    function _checkVectors(string memory name, bytes4 selector) internal view {
        _checkCases(address(harness), name, selector);
        Revert[] memory reverts = _reverts(name);
        for (uint256 i; i < reverts.length; ++i) {
            string memory label = string.concat(name, " revert ", vm.toString(i), ": ", _show(reverts[i].args));
            (bool ok, bytes memory returned) = address(harness).staticcall(_calldata(selector, reverts[i].args));
            assertFalse(ok, string.concat(label, " did not revert"));
            assertGe(returned.length, 4, string.concat(label, ": no error selector"));
            // casting to 'bytes4' is safe because it keeps the selector, the first 4 bytes, on purpose
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes4 error = bytes4(returned);
            if (keccak256(bytes(reverts[i].error)) == keccak256("OverflowError")) {
                assertEq(error, RiskMath.Int64Overflow.selector, label);
            } else {
                assertEq(reverts[i].error, "InvalidInput", label);
                assertTrue(_isArgumentError(error), string.concat(label, ": not an argument error"));
            }
        }
    }

    function _isArgumentError(bytes4 error) internal pure returns (bool) {
        return error == RiskMath.PriceOutOfRange.selector || error == RiskMath.FactorOutOfRange.selector
            || error == RiskMath.FeeOutOfRange.selector || error == RiskMath.NegativeAmount.selector
            || error == RiskMath.CapsInverted.selector || error == RiskMath.OpenNotionalOutOfRange.selector
            || error == RiskMath.ZeroFillSize.selector;
    }
}
