// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "./IMarketRegistry.sol";

/// @title IMarketRiskRegistry
/// @notice Each market's risk tier (the on-chain mirror of `perpcore.RiskTier`'s margin and fee fields, the
/// inputs of RiskMath) and its latest price snapshot. Snapshots come from the price pusher: timestamps
/// strictly increase, prices lie in [0, 1e6] ppm, each price moves at most `maxMovePpmPerSecond` times the
/// seconds since the previous snapshot (the first snapshot of a market is free), and the phase must equal the
/// market's phase in the MarketRegistry. Every user of a snapshot reads it through `freshSnapshot`, which
/// reverts once it is older than `maxSnapshotAge`.
interface IMarketRiskRegistry {
    /// @notice A market's risk parameters, in RiskMath's units (ppm, quote quantums; int64 like perpcore).
    struct RiskTier {
        int64 baseImfPpm; // initial margin factor below the OI lower cap
        int64 mmfPpm; // maintenance margin factor
        int64 oiLowerCapQq; // open interest notional where IMF scaling starts
        int64 oiUpperCapQq; // open interest notional where IMF reaches 100 % (0 disables scaling)
        int64 makerFeePpm; // may be negative: a rebate
        int64 takerFeePpm;
        int64 insuranceSharePpm; // share of fees credited to the market's insurance fund
        int64 priceBandPpm; // the most a fill price may differ from the latest mark, absolute ppm
    }

    /// @notice A price snapshot: index (funding reference) and mark (risk), source time and market phase.
    struct Snapshot {
        int64 indexPricePpm;
        int64 markPricePpm;
        uint64 timestamp;
        IMarketRegistry.Phase phase;
    }

    /// @notice Market `marketId`'s risk tier was set.
    event RiskTierSet(uint32 indexed marketId, RiskTier tier);
    /// @notice A snapshot was pushed for market `marketId`.
    event SnapshotPushed(
        uint32 indexed marketId, int64 indexPricePpm, int64 markPricePpm, uint64 timestamp, IMarketRegistry.Phase phase
    );

    /// @notice A risk tier field out of range (factors in [0, 1e6], fees in [-1e6, 1e6], caps inverted, ...).
    error InvalidRiskTier(uint32 marketId);
    /// @notice No risk tier set for the market.
    error NoRiskTier(uint32 marketId);
    /// @notice A price outside [0, 1e6] ppm.
    error PriceOutOfRange(int64 pricePpm);
    /// @notice A snapshot timestamp not after the previous one, or in the future.
    error NonMonotonicTimestamp(uint64 previous, uint64 timestamp);
    /// @notice A price moved more than the bound allows since the previous snapshot.
    error MoveTooLarge(int64 previousPpm, int64 pricePpm, uint64 elapsed);
    /// @notice The pushed phase differs from the market's phase in the MarketRegistry.
    error PhaseMismatch(IMarketRegistry.Phase pushed, IMarketRegistry.Phase actual);
    /// @notice No snapshot pushed yet for the market.
    error NoSnapshot(uint32 marketId);
    /// @notice The latest snapshot is older than `maxSnapshotAge`.
    error StaleSnapshot(uint32 marketId, uint64 timestamp, uint64 maxAge);
    /// @notice The zero address where an admin or the MarketRegistry is needed.
    error ZeroAddress();
    /// @notice A snapshot age bound of 0 or a move bound outside (0, 1e6] ppm per second.
    error InvalidSnapshotBounds(uint64 maxSnapshotAge, int64 maxMovePpmPerSecond);

    /// @notice Sets market `marketId`'s risk tier. Admin only; the market must exist in the MarketRegistry.
    function setRiskTier(uint32 marketId, RiskTier calldata tier) external;
    /// @notice Pushes a snapshot for market `marketId`. Price pusher only.
    function pushSnapshot(
        uint32 marketId,
        int64 indexPricePpm,
        int64 markPricePpm,
        uint64 timestamp,
        IMarketRegistry.Phase phase
    ) external;

    /// @notice Market `marketId`'s risk tier; reverts `NoRiskTier` if unset.
    function riskTierOf(uint32 marketId) external view returns (RiskTier memory);
    /// @notice The latest snapshot whatever its age; reverts `NoSnapshot` if none (exit mode uses this).
    function latestSnapshot(uint32 marketId) external view returns (Snapshot memory);
    /// @notice The latest snapshot; reverts `NoSnapshot` or `StaleSnapshot`.
    function freshSnapshot(uint32 marketId) external view returns (Snapshot memory);
    /// @notice How old a snapshot may be when used, in seconds.
    function maxSnapshotAge() external view returns (uint64);
    /// @notice The most a price may move per second between snapshots, in ppm.
    function maxMovePpmPerSecond() external view returns (int64);
    /// @notice The MarketRegistry whose markets and phases the tiers and snapshots must match.
    function marketRegistry() external view returns (IMarketRegistry);
}
