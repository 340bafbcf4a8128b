// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";

/// @notice IMarketRiskRegistry without access control or move bounds, for tests: tiers by market, snapshots with
/// prices in [0, 1e6] and strictly increasing timestamps (not in the future), and `freshSnapshot`'s staleness
/// check.
contract MockMarketRiskRegistry is IMarketRiskRegistry {
    uint64 public immutable maxSnapshotAge;
    int64 public constant maxMovePpmPerSecond = 1_000_000;

    mapping(uint32 marketId => RiskTier) internal _tiers;
    mapping(uint32 marketId => bool) internal _hasTier;
    mapping(uint32 marketId => Snapshot) internal _snapshots;

    constructor(uint64 maxSnapshotAge_) {
        maxSnapshotAge = maxSnapshotAge_;
    }

    function setRiskTier(uint32 marketId, RiskTier calldata tier) external {
        _tiers[marketId] = tier;
        _hasTier[marketId] = true;
        emit RiskTierSet(marketId, tier);
    }

    function pushSnapshot(
        uint32 marketId,
        int64 indexPricePpm,
        int64 markPricePpm,
        uint64 timestamp,
        IMarketRegistry.Phase phase
    ) external {
        if (indexPricePpm < 0 || indexPricePpm > 1_000_000) revert PriceOutOfRange(indexPricePpm);
        if (markPricePpm < 0 || markPricePpm > 1_000_000) revert PriceOutOfRange(markPricePpm);
        uint64 previous = _snapshots[marketId].timestamp;
        if (timestamp <= previous || timestamp > block.timestamp) revert NonMonotonicTimestamp(previous, timestamp);
        _snapshots[marketId] = Snapshot(indexPricePpm, markPricePpm, timestamp, phase);
        emit SnapshotPushed(marketId, indexPricePpm, markPricePpm, timestamp, phase);
    }

    function riskTierOf(uint32 marketId) external view returns (RiskTier memory) {
        if (!_hasTier[marketId]) revert NoRiskTier(marketId);
        return _tiers[marketId];
    }

    function latestSnapshot(uint32 marketId) public view returns (Snapshot memory s) {
        s = _snapshots[marketId];
        if (s.timestamp == 0) revert NoSnapshot(marketId);
    }

    function freshSnapshot(uint32 marketId) external view returns (Snapshot memory s) {
        s = latestSnapshot(marketId);
        if (block.timestamp - s.timestamp > maxSnapshotAge) revert StaleSnapshot(marketId, s.timestamp, maxSnapshotAge);
    }
}
