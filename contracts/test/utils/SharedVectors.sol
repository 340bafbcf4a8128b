// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {Test} from "./Test.sol";

/// @notice Reading perpcore's shared test vectors (tests/vectors/*.json at the repository root, written by
/// tests/vectors/generate.py from perpcore's Python reference): each function's cases (arguments and the exact
/// results) and, where a document has them, its reverts (arguments and the kind of error the reference raises).
/// A test calls a harness with each case's arguments as ABI words and compares the returned words.
abstract contract SharedVectors is Test {
    /// @dev One case as the JSON holds it (forge decodes an object's keys in alphabetical order).
    struct Case {
        int256[] args;
        int256[] expect;
    }

    struct Revert {
        int256[] args;
        string error;
    }

    string internal json;

    /// @dev Loads `tests/vectors/<file>` (foundry.toml grants read access to that folder only).
    function _load(string memory file) internal {
        json = vm.readFile(string.concat(vm.projectRoot(), "/../tests/vectors/", file));
    }

    function _cases(string memory name) internal view returns (Case[] memory) {
        return abi.decode(vm.parseJson(json, string.concat(".functions.", name, ".cases")), (Case[]));
    }

    function _reverts(string memory name) internal view returns (Revert[] memory) {
        return abi.decode(vm.parseJson(json, string.concat(".functions.", name, ".reverts")), (Revert[]));
    }

    /// @dev Calls `target` with each case's arguments and compares the returned words with the expected results.
    function _checkCases(address target, string memory name, bytes4 selector) internal view {
        Case[] memory cases = _cases(name);
        assertGt(cases.length, 0, string.concat(name, ": no cases"));
        for (uint256 i; i < cases.length; ++i) {
            string memory label = string.concat(name, " case ", vm.toString(i), ": ", _show(cases[i].args));
            (bool ok, bytes memory returned) = target.staticcall(_calldata(selector, cases[i].args));
            assertTrue(ok, string.concat(label, " reverted"));
            assertEq(returned, abi.encodePacked(cases[i].expect), label);
        }
    }

    /// @dev Each argument as one ABI word: a sign-extended int256, the same word as any narrower signed type
    /// holding it (and as an unsigned type for a non-negative value).
    function _calldata(bytes4 selector, int256[] memory args) internal pure returns (bytes memory data) {
        data = abi.encodePacked(selector);
        for (uint256 i; i < args.length; ++i) {
            data = bytes.concat(data, abi.encode(args[i]));
        }
    }

    function _show(int256[] memory args) internal pure returns (string memory text) {
        text = "(";
        for (uint256 i; i < args.length; ++i) {
            text = string.concat(text, i == 0 ? "" : ", ", vm.toString(args[i]));
        }
        text = string.concat(text, ")");
    }
}
