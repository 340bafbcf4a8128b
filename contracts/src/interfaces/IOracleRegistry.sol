// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title IOracleAdapter
/// @notice One source of a market's probability, in ppm of probability [0, 1e6], with its source timestamp.
interface IOracleAdapter {
    /// @notice The latest value and the source time it was observed at (0, 0 before any value).
    function latest() external view returns (int64 valuePpm, uint64 timestamp);
}

/// @title IOracleRegistry
/// @notice Which oracle adapter serves each market, and each market's resolution value once the question
/// is decided (a probability in [0, 1e6] ppm, usually 0 or 1e6). The admin sets adapters; the resolver
/// records the resolution value once, and it never changes afterwards.
interface IOracleRegistry {
    /// @notice Market `marketId`'s adapter changed from `previous` to `current`.
    event AdapterSet(uint32 indexed marketId, IOracleAdapter previous, IOracleAdapter current);
    /// @notice Market `marketId` resolved to `valuePpm`.
    event ResolutionRecorded(uint32 indexed marketId, int64 valuePpm);

    /// @notice The zero address where an adapter is needed.
    error ZeroAdapter();
    /// @notice A value outside [0, 1e6] ppm.
    error ValueOutOfRange(int64 valuePpm);
    /// @notice The market's resolution value was already recorded.
    error AlreadyResolved(uint32 marketId);
    /// @notice No adapter set for the market.
    error NoAdapter(uint32 marketId);
    /// @notice The zero address where an admin is needed.
    error ZeroAddress();

    /// @notice Sets market `marketId`'s adapter. Admin only.
    function setAdapter(uint32 marketId, IOracleAdapter adapter) external;
    /// @notice Records market `marketId`'s resolution value, once. Resolver only.
    function recordResolution(uint32 marketId, int64 valuePpm) external;

    /// @notice Market `marketId`'s adapter (zero if none).
    function adapterOf(uint32 marketId) external view returns (IOracleAdapter);
    /// @notice The latest value of market `marketId`'s adapter; reverts `NoAdapter` without one.
    function latestOf(uint32 marketId) external view returns (int64 valuePpm, uint64 timestamp);
    /// @notice Whether market `marketId` has a resolution value, and the value (0 when not).
    function resolutionOf(uint32 marketId) external view returns (bool resolved, int64 valuePpm);
}
