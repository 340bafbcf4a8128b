// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IOracleAdapter} from "./IOracleRegistry.sol";

/// @title IPushedOracleAdapter
/// @notice An oracle adapter whose value the price pusher writes: a probability in [0, 1e6] ppm with the source
/// time it was observed at, strictly later than the previous one and never in the future.
interface IPushedOracleAdapter is IOracleAdapter {
    /// @notice `valuePpm`, observed at source time `timestamp`, became the latest value.
    event ValuePushed(int64 valuePpm, uint64 timestamp);

    /// @notice The zero address where an admin is needed.
    error ZeroAddress();
    /// @notice A value outside [0, 1e6] ppm.
    error ValueOutOfRange(int64 valuePpm);
    /// @notice A source time not after the latest one, or after the current block's.
    error NonMonotonicTimestamp(uint64 previous, uint64 timestamp);

    /// @notice Makes `valuePpm`, observed at `timestamp`, the latest value. Price pusher only.
    function push(int64 valuePpm, uint64 timestamp) external;
}
