// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMarketRiskRegistry} from "../interfaces/IMarketRiskRegistry.sol";
import {IPositionManager} from "../interfaces/IPositionManager.sol";
import {RiskMath} from "./RiskMath.sol";

/// @title PositionMath
/// @notice The PositionManager's per-position arithmetic on top of RiskMath (one position's contribution to cross
/// margin, a fill's trading fees, funding payments) and the per-fill bookkeeping it runs by delegatecall in the
/// PositionManager's storage (`fill`, `close`: funding settled, both positions moved, clearing pool, open interest,
/// the accounts' one-word market lists, the `FundingSettled` and `Filled` events). Its external functions are a
/// linked library so that the PositionManager stays well under the 24,576-byte code limit; it has no storage of its
/// own and never rounds by itself except where named (funding: `fundingPaymentUp`).
library PositionMath {
    using SafeCast for int256;
    using SafeCast for uint256;

    /// @notice 100 %, probability 1, and the funding index units (idx) per quote quantum and contract.
    int256 internal constant ONE = 1_000_000;
    uint256 internal constant UNSIGNED_ONE = 1_000_000;
    /// @notice The most markets a market list holds: 8 lanes of 32 bits.
    uint256 internal constant MAX_MARKETS_PER_ACCOUNT = 8;

    /// @notice One position's share of its account's cross margin at `markPpm`: unrealised PnL, and the initial
    /// (OI-scaled at `openInterest` long contracts valued at the mark) and maintenance requirements, rounded up.
    /// A terminal market (priced at its resolution value) carries no requirement.
    function positionRisk(
        int64 size,
        int64 openNotionalQq,
        int64 markPpm,
        uint64 openInterest,
        IMarketRiskRegistry.RiskTier memory tier,
        bool terminal
    ) external pure returns (int256 pnlQq, int256 initialQq, int256 maintenanceQq) {
        pnlQq = RiskMath.unrealizedPnl(size, openNotionalQq, markPpm);
        if (terminal) return (pnlQq, 0, 0);
        int64 oiNotional = (int256(uint256(openInterest)) * markPpm).toInt64();
        int64 imf = RiskMath.imfPpmDown(tier.baseImfPpm, oiNotional, tier.oiLowerCapQq, tier.oiUpperCapQq);
        initialQq = RiskMath.initialRequirementUp(size, markPpm, imf);
        maintenanceQq = RiskMath.maintenanceRequirementUp(size, markPpm, tier.mmfPpm);
    }

    /// @notice What a fill moves, for the PositionManager's batch (which keeps the market's funding pool and dust
    /// in memory and writes them once at its end): each account's cash (realised PnL minus fees minus funding paid)
    /// and the growth of its maintenance requirement at the mark, the fees' insurance share and the fee recipient's
    /// part.
    struct Moves {
        int256 takerCashQq;
        int256 makerCashQq;
        int256 takerGrowthQq;
        int256 makerGrowthQq;
        uint256 insuranceQq;
        uint256 recipientQq;
        uint256 dustQq; // funding dust swept, due to the market's insurance fund
        int256 fundingPoolQq; // the market's funding pool (in: before the fill, out: after)
        uint64 fundingDustIdx; // the market's unswept dust (in: before the fill, out: after)
    }

    /// @notice Applies a checked fill in the PositionManager's storage (by delegatecall): both accounts settle
    /// funding (`_settleFunding`), both positions of `positions` (the fill's market) move by RiskMath.applyFill
    /// (the maker's by the opposite size), the realised PnL leaves the clearing pool, open interest and both market
    /// lists follow, fees are charged unless the fill is a deleverage (`fillFees`), and `Filled` is logged.
    function fill(
        IPositionManager.Fill calldata f,
        int64 markPpm,
        IMarketRiskRegistry.RiskTier memory tier,
        mapping(address => IPositionManager.Position) storage positions,
        IPositionManager.MarketState storage ms,
        mapping(address => uint256) storage accountMarkets,
        Moves memory m
    ) external returns (Moves memory) {
        m.takerCashQq = -_settleFunding(positions[f.taker], ms, f.marketId, f.taker, m);
        m.makerCashQq = -_settleFunding(positions[f.maker], ms, f.marketId, f.maker, m);
        IPositionManager.FillRecord memory r;
        (r.kind, r.size, r.pricePpm) = (f.kind, f.size, f.pricePpm);
        if (f.kind != IPositionManager.FillKind.Deleverage) {
            (r.takerFeeQq, r.makerFeeQq, m.insuranceQq, m.recipientQq) =
                fillFees(f.size, f.pricePpm, tier, f.kind == IPositionManager.FillKind.Liquidation);
        }
        (int64 takerBefore, int64 makerBefore) = _moveBoth(f, positions, ms, accountMarkets, r);
        m.takerGrowthQq = _maintenanceGrowth(takerBefore, r.takerSize, markPpm, tier.mmfPpm);
        m.makerGrowthQq = _maintenanceGrowth(makerBefore, r.makerSize, markPpm, tier.mmfPpm);
        m.takerCashQq += int256(r.takerRealizedPnlQq) - r.takerFeeQq;
        m.makerCashQq += int256(r.makerRealizedPnlQq) - r.makerFeeQq;
        emit IPositionManager.Filled(f.marketId, f.maker, f.taker, r);
        return m;
    }

    /// @notice Closes a whole position at `pricePpm` in the PositionManager's storage (settlement or exit): funding
    /// settled first, then the realised PnL leaves the clearing pool, open interest and the market list follow.
    /// @return cashQq The account's cash movement: realised PnL minus funding paid.
    /// @return dustQq Funding dust swept, due to the market's insurance fund.
    /// @return realizedPnlQq The realised PnL.
    function close(
        IPositionManager.Position storage p,
        IPositionManager.MarketState storage ms,
        mapping(address => uint256) storage accountMarkets,
        address account,
        uint32 marketId,
        int64 pricePpm
    ) external returns (int256 cashQq, uint256 dustQq, int64 realizedPnlQq) {
        Moves memory m;
        (m.fundingPoolQq, m.fundingDustIdx) = (ms.fundingPoolQq, ms.fundingDustIdx);
        m.takerCashQq = -_settleFunding(p, ms, marketId, account, m);
        (ms.fundingPoolQq, ms.fundingDustIdx) = (m.fundingPoolQq.toInt128(), m.fundingDustIdx);
        (,,, realizedPnlQq) = _move(p, ms, accountMarkets, account, marketId, -p.size, pricePpm);
        return (m.takerCashQq + realizedPnlQq, m.dustQq, realizedPnlQq);
    }

    /// @dev Settles the funding a position owes or is owed since its last touch (perpcore's _settle_funding): the
    /// payer pays ceil(size * delta / 1e6), the receiver gets the floor of its share; payments go through the
    /// market's funding pool `m.fundingPoolQq`, and the rounding surplus accrues as dust `m.fundingDustIdx` whose
    /// whole quantums are swept (added to `m.dustQq`, out of the pool). Returns what the account pays (- receives).
    function _settleFunding(
        IPositionManager.Position storage p,
        IPositionManager.MarketState storage ms,
        uint32 marketId,
        address account,
        Moves memory m
    ) private returns (int256 amountQq) {
        int128 index = ms.fundingIndex;
        int128 last = p.lastFundingIndex;
        if (last == index) return 0;
        p.lastFundingIndex = index;
        int64 size = p.size;
        if (size == 0) return 0;
        (int256 amount, uint64 dust, uint256 swept) = settleFunding(size, int256(index) - last, m.fundingDustIdx);
        m.fundingPoolQq += amount - swept.toInt256();
        m.fundingDustIdx = dust;
        m.dustQq += swept;
        if (amount != 0) emit IPositionManager.FundingSettled(marketId, account, amount, index);
        return amount;
    }

    /// @dev Moves both positions of a fill (`_move`) into `r`; returns their sizes before.
    function _moveBoth(
        IPositionManager.Fill calldata f,
        mapping(address => IPositionManager.Position) storage positions,
        IPositionManager.MarketState storage ms,
        mapping(address => uint256) storage accountMarkets,
        IPositionManager.FillRecord memory r
    ) private returns (int64 takerBefore, int64 makerBefore) {
        (takerBefore, r.takerSize, r.takerOpenNotionalQq, r.takerRealizedPnlQq) =
            _move(positions[f.taker], ms, accountMarkets, f.taker, f.marketId, f.size, f.pricePpm);
        (makerBefore, r.makerSize, r.makerOpenNotionalQq, r.makerRealizedPnlQq) =
            _move(positions[f.maker], ms, accountMarkets, f.maker, f.marketId, -f.size, f.pricePpm);
    }

    /// @dev Moves one position from `before` by `signed` contracts at `pricePpm`, with the clearing pool, open
    /// interest and the account's market list.
    function _move(
        IPositionManager.Position storage p,
        IPositionManager.MarketState storage ms,
        mapping(address => uint256) storage accountMarkets,
        address account,
        uint32 marketId,
        int64 signed,
        int64 pricePpm
    ) private returns (int64 before, int64 size, int64 openNotionalQq, int64 realizedPnlQq) {
        before = p.size;
        (size, openNotionalQq, realizedPnlQq) = RiskMath.applyFill(before, p.openNotionalQq, signed, pricePpm);
        (p.size, p.openNotionalQq) = (size, openNotionalQq);
        if (realizedPnlQq != 0) ms.clearingPoolQq -= realizedPnlQq;
        if (_long(size) != _long(before)) {
            ms.openInterest = (int256(uint256(ms.openInterest)) + _long(size) - _long(before)).toUint256().toUint64();
        }
        if (before == 0) accountMarkets[account] = _withMarket(accountMarkets[account], account, marketId);
        else if (size == 0) accountMarkets[account] = _withoutMarket(accountMarkets[account], marketId);
    }

    /// @dev How much a position's maintenance requirement at `markPpm` grows from `before` to `size` contracts
    /// (each rounded up).
    function _maintenanceGrowth(int64 before, int64 size, int64 markPpm, int64 mmfPpm) private pure returns (int256) {
        return int256(RiskMath.maintenanceRequirementUp(size, markPpm, mmfPpm))
            - RiskMath.maintenanceRequirementUp(before, markPpm, mmfPpm);
    }

    /// @dev A market list with `marketId` appended (the first empty lane).
    function _withMarket(uint256 lanes, address account, uint32 marketId) private pure returns (uint256) {
        uint256 n = laneCount(lanes);
        if (n == MAX_MARKETS_PER_ACCOUNT) revert IPositionManager.TooManyMarkets(account);
        return lanes | (uint256(marketId) + 1) << (32 * n);
    }

    /// @dev A market list without `marketId` (which it holds): the last lane moves into its lane.
    function _withoutMarket(uint256 lanes, uint32 marketId) private pure returns (uint256) {
        uint256 last = laneCount(lanes) - 1;
        uint256 k;
        while (marketAt(lanes, k) != marketId) ++k;
        uint256 moved = lanes >> (32 * last) & type(uint32).max;
        lanes &= ~(uint256(type(uint32).max) << (32 * last));
        if (k != last) lanes = lanes & ~(uint256(type(uint32).max) << (32 * k)) | moved << (32 * k);
        return lanes;
    }

    /// @notice How many markets a market list holds: the index of its first empty lane. A list is one word whose
    /// lane k (bits 32k to 32k + 31) holds the k-th market's id + 1; 0 marks an empty lane and the lanes fill from
    /// lane 0 without gaps, so a list holds at most 8 markets (a market id of 2^32 - 1 cannot be encoded).
    function laneCount(uint256 lanes) internal pure returns (uint256 n) {
        while (lanes >> (32 * n) != 0) ++n;
    }

    /// @notice The market id in lane `k` of a market list (which must not be empty).
    function marketAt(uint256 lanes, uint256 k) internal pure returns (uint32) {
        return uint32((lanes >> (32 * k) & type(uint32).max) - 1);
    }

    function _long(int64 size) private pure returns (int256) {
        return size > 0 ? int256(size) : int256(0);
    }

    /// @notice A fill's fees, each RiskMath.feeUp of the notional |size| * price at the tier's rate, charged in
    /// perpcore's order: the taker's first, then the maker's, whose rebate (a negative rate) is paid only out of
    /// what was collected. In a liquidation the liquidated taker pays none and its maker gets no rebate. Of the
    /// net collected, the tier's insurance share (rounded down, perpcore's insurance_share_qq) goes to the fund and
    /// the rest to the fee recipient.
    /// @return takerFeeQq What the taker pays.
    /// @return makerFeeQq What the maker pays (- the rebate it receives).
    /// @return insuranceQq The insurance share.
    /// @return recipientQq The fee recipient's part.
    function fillFees(int64 size, int64 pricePpm, IMarketRiskRegistry.RiskTier memory tier, bool liquidation)
        internal
        pure
        returns (int64 takerFeeQq, int64 makerFeeQq, uint256 insuranceQq, uint256 recipientQq)
    {
        int64 notional = ((size < 0 ? -int256(size) : int256(size)) * pricePpm).toInt64();
        takerFeeQq = liquidation ? int64(0) : RiskMath.feeUp(notional, tier.takerFeePpm);
        makerFeeQq = RiskMath.feeUp(notional, tier.makerFeePpm);
        if (makerFeeQq < 0) {
            makerFeeQq = liquidation ? int64(0) : -SafeCast.toInt64(_min(-int256(makerFeeQq), takerFeeQq));
        }
        int256 collected = int256(takerFeeQq) + makerFeeQq; // >= 0: a rebate never exceeds the taker's fee
        insuranceQq = (collected * tier.insuranceSharePpm / ONE).toUint256();
        recipientQq = collected.toUint256() - insuranceQq;
    }

    /// @notice The price at which closing a whole position of `size` brings an account's (negative) equity
    /// `equityQq` at `markPpm` to zero: mark + ceil(-equity / |size|) for a long, mark - that for a short (the
    /// rounding leaves the account at or above zero), clamped to [0, 1e6].
    function bankruptcyPricePpm(int64 size, int64 markPpm, int256 equityQq) external pure returns (int64) {
        int256 move = divUp(-equityQq, size > 0 ? int256(size) : -int256(size));
        int256 price = size > 0 ? int256(markPpm) + move : int256(markPpm) - move;
        return (price < 0 ? int256(0) : (price > ONE ? ONE : price)).toInt64();
    }

    /// @notice Settling funding for an index move of `deltaIdx` on `size` contracts (perpcore's _settle_funding):
    /// the payment `amountQq` (fundingPaymentUp), the market's dust after adding this payment's rounding surplus
    /// amount * 1e6 - size * delta (in [0, 1e6)), and the whole quantums `sweptQq` of dust due to insurance.
    function settleFunding(int64 size, int256 deltaIdx, uint64 dustIdx)
        internal
        pure
        returns (int256 amountQq, uint64 newDustIdx, uint256 sweptQq)
    {
        amountQq = fundingPaymentUp(size, deltaIdx);
        uint256 dust = uint256(dustIdx) + (amountQq * ONE - int256(size) * deltaIdx).toUint256();
        sweptQq = dust / UNSIGNED_ONE;
        newDustIdx = SafeCast.toUint64(dust - sweptQq * UNSIGNED_ONE);
    }

    /// @notice What a position pays (+) or receives (-) for an index move of `deltaIdx`: ceil(size * delta / 1e6),
    /// so the payer rounds up and the receiver's amount rounds down (perpcore's funding_payment_qq).
    function fundingPaymentUp(int64 size, int256 deltaIdx) internal pure returns (int256) {
        return divUp(int256(size) * deltaIdx, ONE);
    }

    function _min(int256 a, int256 b) private pure returns (int256) {
        return a < b ? a : b;
    }

    /// @notice a / d rounded toward +infinity, for d > 0.
    function divUp(int256 a, int256 d) internal pure returns (int256 q) {
        q = a / d;
        if (a % d != 0 && a > 0) q += 1;
    }
}
