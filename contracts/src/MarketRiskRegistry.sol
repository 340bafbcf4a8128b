// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IMarketRegistry} from "./interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "./interfaces/IMarketRiskRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title MarketRiskRegistry
/// @notice Owns each market's risk tier and latest price snapshot. The admin sets tiers, checked field by field
/// before they are stored; the price pusher pushes snapshots, accepted only forward in time, in range, within
/// the move bound and in the market's current phase, each packed into one slot. It never computes margin:
/// RiskMath does, from what this contract hands out. See IMarketRiskRegistry.
contract MarketRiskRegistry is IMarketRiskRegistry, AccessControl {
    int64 internal constant ONE_PPM = 1_000_000;

    /// @inheritdoc IMarketRiskRegistry
    IMarketRegistry public immutable marketRegistry;
    /// @inheritdoc IMarketRiskRegistry
    uint64 public immutable maxSnapshotAge;
    /// @inheritdoc IMarketRiskRegistry
    int64 public immutable maxMovePpmPerSecond;

    mapping(uint32 marketId => RiskTier) internal _tiers; // baseImfPpm == 0: never set (a valid tier has it > 0)
    mapping(uint32 marketId => Snapshot) internal _snapshots; // timestamp == 0: none pushed (pushes need > 0)

    /// @param admin Receives the default admin role, which sets risk tiers and grants every role.
    /// @param marketRegistry_ Where markets and their phases are read.
    /// @param maxSnapshotAge_ How old a snapshot may be when used, in seconds; above 0.
    /// @param maxMovePpmPerSecond_ The most a price may move per second between snapshots; in (0, 1e6] ppm.
    constructor(address admin, IMarketRegistry marketRegistry_, uint64 maxSnapshotAge_, int64 maxMovePpmPerSecond_) {
        if (admin == address(0) || address(marketRegistry_) == address(0)) revert ZeroAddress();
        if (maxSnapshotAge_ == 0 || maxMovePpmPerSecond_ <= 0 || maxMovePpmPerSecond_ > ONE_PPM) {
            revert InvalidSnapshotBounds(maxSnapshotAge_, maxMovePpmPerSecond_);
        }
        marketRegistry = marketRegistry_;
        maxSnapshotAge = maxSnapshotAge_;
        maxMovePpmPerSecond = maxMovePpmPerSecond_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IMarketRiskRegistry
    function setRiskTier(uint32 marketId, RiskTier calldata tier) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_isValid(tier)) revert InvalidRiskTier(marketId);
        if (marketRegistry.phaseOf(marketId) == IMarketRegistry.Phase.None) {
            revert IMarketRegistry.UnknownMarket(marketId);
        }
        _tiers[marketId] = tier;
        emit RiskTierSet(marketId, tier);
    }

    /// @inheritdoc IMarketRiskRegistry
    function pushSnapshot(
        uint32 marketId,
        int64 indexPricePpm,
        int64 markPricePpm,
        uint64 timestamp,
        IMarketRegistry.Phase phase
    ) external onlyRole(Roles.PRICE_PUSHER) {
        _checkPrice(indexPricePpm);
        _checkPrice(markPricePpm);
        Snapshot memory previous = _snapshots[marketId];
        if (timestamp <= previous.timestamp || timestamp > block.timestamp) {
            revert NonMonotonicTimestamp(previous.timestamp, timestamp);
        }
        if (previous.timestamp != 0) {
            uint64 elapsed = timestamp - previous.timestamp;
            _checkMove(previous.indexPricePpm, indexPricePpm, elapsed);
            _checkMove(previous.markPricePpm, markPricePpm, elapsed);
        }
        IMarketRegistry.Phase actual = marketRegistry.phaseOf(marketId);
        if (actual == IMarketRegistry.Phase.None) revert IMarketRegistry.UnknownMarket(marketId);
        if (phase != actual) revert PhaseMismatch(phase, actual);
        _snapshots[marketId] = Snapshot(indexPricePpm, markPricePpm, timestamp, phase);
        emit SnapshotPushed(marketId, indexPricePpm, markPricePpm, timestamp, phase);
    }

    /// @inheritdoc IMarketRiskRegistry
    function riskTierOf(uint32 marketId) external view returns (RiskTier memory tier) {
        tier = _tiers[marketId];
        if (tier.baseImfPpm == 0) revert NoRiskTier(marketId);
    }

    /// @inheritdoc IMarketRiskRegistry
    function latestSnapshot(uint32 marketId) public view returns (Snapshot memory snapshot) {
        snapshot = _snapshots[marketId];
        if (snapshot.timestamp == 0) revert NoSnapshot(marketId);
    }

    /// @inheritdoc IMarketRiskRegistry
    function freshSnapshot(uint32 marketId) external view returns (Snapshot memory snapshot) {
        snapshot = latestSnapshot(marketId);
        // a stored timestamp is never after the block that stored it, so this cannot underflow
        if (block.timestamp - snapshot.timestamp > maxSnapshotAge) {
            revert StaleSnapshot(marketId, snapshot.timestamp, maxSnapshotAge);
        }
    }

    /// @dev A tier is valid when its factors lie in [0, 1e6] with 0 < baseImf and mmf <= baseImf;
    /// fees in [-1e6, 1e6] whose sum is not negative (a maker rebate never exceeds the taker fee); insurance
    /// share in [0, 1e6]; caps not negative, lower <= upper unless upper is 0 (scaling off); price band in
    /// (0, 1e6].
    function _isValid(RiskTier calldata tier) internal pure returns (bool) {
        bool factors =
            tier.baseImfPpm > 0 && tier.baseImfPpm <= ONE_PPM && tier.mmfPpm >= 0 && tier.mmfPpm <= tier.baseImfPpm;
        bool fees =
            _isFee(tier.makerFeePpm) && _isFee(tier.takerFeePpm) && int256(tier.makerFeePpm) + tier.takerFeePpm >= 0;
        bool share = tier.insuranceSharePpm >= 0 && tier.insuranceSharePpm <= ONE_PPM;
        bool caps = tier.oiLowerCapQq >= 0 && tier.oiUpperCapQq >= 0
            && (tier.oiUpperCapQq == 0 || tier.oiLowerCapQq <= tier.oiUpperCapQq);
        bool band = tier.priceBandPpm > 0 && tier.priceBandPpm <= ONE_PPM;
        return factors && fees && share && caps && band;
    }

    function _isFee(int64 feePpm) internal pure returns (bool) {
        return feePpm >= -ONE_PPM && feePpm <= ONE_PPM;
    }

    function _checkPrice(int64 pricePpm) internal pure {
        if (pricePpm < 0 || pricePpm > ONE_PPM) revert PriceOutOfRange(pricePpm);
    }

    /// @dev Compares in 256 bits, where neither the difference of two int64 nor the bound maxMovePpmPerSecond ×
    /// elapsed can overflow: a long gap saturates to "any move" instead of wrapping.
    function _checkMove(int64 previousPpm, int64 pricePpm, uint64 elapsed) internal view {
        int256 move = int256(pricePpm) - previousPpm;
        if (move < 0) move = -move;
        if (move > int256(maxMovePpmPerSecond) * int256(uint256(elapsed))) {
            revert MoveTooLarge(previousPpm, pricePpm, elapsed);
        }
    }
}
