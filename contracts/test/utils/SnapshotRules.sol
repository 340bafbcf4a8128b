// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";

/// @notice The snapshot rules stated apart from MarketRiskRegistry, for the fuzz and invariant tests to judge it by,
/// and a generator of candidate pushes that land on both sides of every rule.
library SnapshotRules {
    int64 internal constant ONE = 1_000_000;

    /// @dev Prices in [0, 1e6]; time after the previous snapshot and not after `time`; each price within `maxMove`
    /// per elapsed second of the previous one (a market's first push free); the market's own phase, never None.
    function isLegal(
        IMarketRiskRegistry.Snapshot memory before,
        IMarketRiskRegistry.Snapshot memory next,
        uint256 time,
        int64 maxMove,
        IMarketRegistry.Phase actual
    ) internal pure returns (bool) {
        if (!inRange(next.indexPricePpm) || !inRange(next.markPricePpm)) return false;
        if (next.timestamp <= before.timestamp || next.timestamp > time) return false;
        if (before.timestamp != 0 && !withinMoveBound(before, next, maxMove)) return false;
        return actual != IMarketRegistry.Phase.None && next.phase == actual;
    }

    function withinMoveBound(
        IMarketRiskRegistry.Snapshot memory before,
        IMarketRiskRegistry.Snapshot memory next,
        int64 maxMove
    ) internal pure returns (bool) {
        int256 bound = int256(maxMove) * int256(uint256(next.timestamp - before.timestamp));
        return abs(int256(next.indexPricePpm) - before.indexPricePpm) <= bound
            && abs(int256(next.markPricePpm) - before.markPricePpm) <= bound;
    }

    /// @dev A push to try after `before` at block time `time`: 1 in 8 in the future, else from 2 s before to 30 s
    /// after the previous timestamp (up to 32 s before `time` for a first push); each price within the move bound
    /// and 2 ppm of the previous one, often right at the bound's edge (anywhere in [-2, 1e6 + 2] for a first push;
    /// 1 in 16 a raw int64); 1 in 8 a random phase instead of `actual`.
    function candidate(
        IMarketRiskRegistry.Snapshot memory before,
        uint256 r,
        uint256 time,
        int64 maxMove,
        IMarketRegistry.Phase actual
    ) internal pure returns (IMarketRiskRegistry.Snapshot memory next) {
        uint64 step = SafeCast.toUint64(r % 33);
        uint64 now_ = SafeCast.toUint64(time);
        if (r % 8 == 0) next.timestamp = now_ + 1;
        else if (before.timestamp == 0) next.timestamp = now_ - step;
        else next.timestamp = before.timestamp + step < 2 ? 0 : before.timestamp + step - 2;
        int256 reach = ONE / 2 + 2;
        (int64 index, int64 mark) = (ONE / 2, ONE / 2);
        if (before.timestamp != 0) {
            reach = next.timestamp > before.timestamp
                ? int256(maxMove) * int256(uint256(next.timestamp - before.timestamp)) + 2
                : int256(2);
            if (reach > ONE + 2) reach = ONE + 2;
            (index, mark) = (before.indexPricePpm, before.markPricePpm);
        }
        next.indexPricePpm = _priceNear(index, reach, r >> 16);
        next.markPricePpm = _priceNear(mark, reach, r >> 80);
        next.phase = (r >> 144) % 8 == 0 ? IMarketRegistry.Phase((r >> 150) % 6) : actual;
    }

    /// @dev The stored snapshot of `marketId`, all zero when none was pushed.
    function stored(IMarketRiskRegistry risk, uint32 marketId)
        internal
        view
        returns (IMarketRiskRegistry.Snapshot memory snapshot)
    {
        try risk.latestSnapshot(marketId) returns (IMarketRiskRegistry.Snapshot memory s) {
            snapshot = s;
        } catch {}
    }

    function inRange(int64 pricePpm) internal pure returns (bool) {
        return pricePpm >= 0 && pricePpm <= ONE;
    }

    function abs(int256 x) internal pure returns (int256) {
        return x < 0 ? -x : x;
    }

    /// @dev A raw int64 one time in sixteen; `centrePpm` ± (reach - 2 + 0, 1 or 2), the move bound's own edges,
    /// a quarter of the time; else anywhere within `reach` of `centrePpm`; always clipped to [-2, 1e6 + 2].
    function _priceNear(int64 centrePpm, int256 reach, uint256 r) private pure returns (int64) {
        if (r % 16 == 0) return SafeCast.toInt64(SafeCast.toInt256((r >> 4) % 2 ** 64) + type(int64).min);
        int256 offset = r % 16 < 5
            ? reach - 2 + SafeCast.toInt256((r >> 4) % 3)
            : SafeCast.toInt256((r >> 4) % SafeCast.toUint256(reach + 1));
        int256 price = (r >> 8) % 2 == 0 ? centrePpm + offset : centrePpm - offset;
        if (price < -2) price = -2;
        if (price > ONE + 2) price = ONE + 2;
        return SafeCast.toInt64(price);
    }
}
