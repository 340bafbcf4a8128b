// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IOracleAdapter} from "./interfaces/IOracleRegistry.sol";
import {IPushedOracleAdapter} from "./interfaces/IPushedOracleAdapter.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title PushedOracleAdapter
/// @notice Owns one market's latest pushed probability and its source time, both in one slot. Only the price
/// pusher writes it, forward in time and within [0, 1e6] ppm; it judges neither freshness nor plausibility,
/// which are its readers' business. See IPushedOracleAdapter.
contract PushedOracleAdapter is IPushedOracleAdapter, AccessControl {
    int64 internal constant ONE_PPM = 1_000_000;

    int64 internal _valuePpm;
    uint64 internal _timestamp;

    /// @param admin Receives the default admin role, which grants the price pusher role.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IPushedOracleAdapter
    function push(int64 valuePpm, uint64 timestamp) external onlyRole(Roles.PRICE_PUSHER) {
        if (valuePpm < 0 || valuePpm > ONE_PPM) revert ValueOutOfRange(valuePpm);
        uint64 previous = _timestamp;
        if (timestamp <= previous || timestamp > block.timestamp) revert NonMonotonicTimestamp(previous, timestamp);
        (_valuePpm, _timestamp) = (valuePpm, timestamp);
        emit ValuePushed(valuePpm, timestamp);
    }

    /// @inheritdoc IOracleAdapter
    function latest() external view returns (int64 valuePpm, uint64 timestamp) {
        return (_valuePpm, _timestamp);
    }
}
