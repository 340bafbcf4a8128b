// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IMarketRiskRegistry} from "../interfaces/IMarketRiskRegistry.sol";
import {RiskMath} from "./RiskMath.sol";

/// @title PositionMath
/// @notice The PositionManager's per-position arithmetic on top of RiskMath: one position's contribution to cross
/// margin, a fill's trading fees, and funding payments. Its external functions are a linked library so that the
/// PositionManager stays under the 24,576-byte code limit; it holds no state and never rounds by itself except
/// where named (funding: `fundingPaymentUp`).
library PositionMath {
    using SafeCast for int256;

    /// @notice 100 %, probability 1, and the funding index units (idx) per quote quantum and contract.
    int256 internal constant ONE = 1_000_000;
    uint256 internal constant UNSIGNED_ONE = 1_000_000;

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
        external
        pure
        returns (int64 takerFeeQq, int64 makerFeeQq, uint256 insuranceQq, uint256 recipientQq)
    {
        int64 notional = ((size < 0 ? -int256(size) : int256(size)) * pricePpm).toInt64();
        takerFeeQq = liquidation ? int64(0) : RiskMath.feeUp(notional, tier.takerFeePpm);
        makerFeeQq = RiskMath.feeUp(notional, tier.makerFeePpm);
        if (makerFeeQq < 0) makerFeeQq = liquidation ? int64(0) : -SafeCast.toInt64(_min(-int256(makerFeeQq), takerFeeQq));
        int256 collected = int256(takerFeeQq) + makerFeeQq; // >= 0: a rebate never exceeds the taker's fee
        insuranceQq = (collected * tier.insuranceSharePpm / ONE).toUint256();
        recipientQq = collected.toUint256() - insuranceQq;
    }

    /// @notice RiskMath.applyFill, linked rather than inlined.
    function applyFill(int64 size, int64 openNotionalQq, int64 fillSize, int64 pricePpm)
        external
        pure
        returns (int64 newSize, int64 newOpenNotionalQq, int64 realizedPnlQq)
    {
        return RiskMath.applyFill(size, openNotionalQq, fillSize, pricePpm);
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
        external
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
