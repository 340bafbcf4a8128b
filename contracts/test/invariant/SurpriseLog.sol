// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice What every invariant handler keeps: how often each action succeeded, and every outcome that went against
/// the handler's prediction (an action accepted that the rules forbid, or refused that they allow), the last one by
/// name. Handlers try each action whatever the state and never revert themselves, so the invariant run can fail on
/// any revert; the invariant tests assert `unexpectedOutcomes == 0`.
abstract contract SurpriseLog is CommonBase, StdUtils {
    uint256 public unexpectedOutcomes;
    string public lastSurprise;
    mapping(string action => uint256) public successes;

    /// @dev Counts `what` as a surprise unless `ok`.
    function _check(bool ok, string memory what) internal {
        if (!ok) {
            ++unexpectedOutcomes;
            lastSurprise = what;
        }
    }
}
