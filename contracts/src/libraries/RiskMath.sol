// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title RiskMath
/// @notice perpcore's margin arithmetic (`perpcore._margin`, reference `perpcore.reference.margin`) with the
/// same integer results: at-risk notional, the OI-scaled initial margin factor, requirements, fees, unrealized
/// PnL and how a fill changes a position. Prices are ppm of probability in [0, 1e6], sizes whole contracts
/// (signed: + long YES, - short YES), money quote quantums (1e-6 USDC), ratios ppm. Arguments and results are
/// int64 as in perpcore; intermediates are int256, so a product never wraps, and a result outside int64
/// reverts with `Int64Overflow` where perpcore raises OverflowError. An argument perpcore rejects with
/// InvalidInput reverts with one of the other errors below, checked before any arithmetic as perpcore does.
/// @dev Rounding always goes against the account: requirements and fees charged round up, a rebate's
/// magnitude rounds down, and a reduced position keeps the smaller share of its open notional. Solidity's
/// signed division truncates toward zero, which is the ceiling only for negative quotients: every division
/// that rounds up goes through `_divUp`; the one that rounds down (`imfPpmDown`) has no negative term.
library RiskMath {
    /// @notice 100 % in ppm, and probability 1 in ppm of probability.
    int64 internal constant ONE = 1_000_000;

    /// @notice A price outside [0, 1e6] ppm of probability.
    error PriceOutOfRange(int64 pricePpm);
    /// @notice A margin factor outside [0, 1e6] ppm.
    error FactorOutOfRange(int64 factorPpm);
    /// @notice A fee rate outside [-1e6, 1e6] ppm.
    error FeeOutOfRange(int64 feePpm);
    /// @notice A notional, open interest or cap below zero.
    error NegativeAmount(int64 amountQq);
    /// @notice An OI lower cap above a non-zero upper cap (an upper cap of 0 disables scaling).
    error CapsInverted(int64 lowerCapQq, int64 upperCapQq);
    /// @notice An open notional outside size * [0, 1e6], i.e. an entry price outside [0, 1e6].
    error OpenNotionalOutOfRange(int64 size, int64 openNotionalQq);
    /// @notice A fill of zero contracts.
    error ZeroFillSize();
    /// @notice A result that does not fit int64.
    error Int64Overflow(int256 value);

    /// @notice The most a position can lose: size * p for a long, |size| * (1e6 - p) for a short (a short
    /// YES at p is a long NO at 1e6 - p); 0 when flat. Exact, no rounding.
    function atRiskNotional(int64 size, int64 pricePpm) internal pure returns (int64 notionalQq) {
        _checkPrice(pricePpm);
        return _toInt64(_atRisk(size, pricePpm));
    }

    /// @notice The OI-scaled initial margin factor: `baseImfPpm` at or below the lower cap (or with an upper
    /// cap of 0), 1e6 at or above the upper cap, linear in between, rounded down.
    function imfPpmDown(int64 baseImfPpm, int64 oiNotionalQq, int64 lowerCapQq, int64 upperCapQq)
        internal
        pure
        returns (int64 imfPpm)
    {
        _checkFactor(baseImfPpm);
        _checkNonNegative(oiNotionalQq);
        _checkNonNegative(lowerCapQq);
        _checkNonNegative(upperCapQq);
        if (upperCapQq != 0 && lowerCapQq > upperCapQq) revert CapsInverted(lowerCapQq, upperCapQq);
        if (upperCapQq == 0 || oiNotionalQq <= lowerCapQq) return baseImfPpm;
        if (oiNotionalQq >= upperCapQq) return ONE;
        // lower < oi < upper: no term is negative, so the truncating division is the floor
        int256 stepDown = (ONE - baseImfPpm) * (int256(oiNotionalQq) - lowerCapQq) / (int256(upperCapQq) - lowerCapQq);
        return _toInt64(baseImfPpm + stepDown); // stepDown < 1e6 - base: always fits
    }

    /// @notice The initial margin requirement: ceil(at-risk notional * imfPpm / 1e6).
    function initialRequirementUp(int64 size, int64 pricePpm, int64 imfPpm)
        internal
        pure
        returns (int64 requirementQq)
    {
        return _requirementUp(size, pricePpm, imfPpm);
    }

    /// @notice The maintenance requirement: ceil(at-risk notional * mmfPpm / 1e6); never scaled by open interest.
    function maintenanceRequirementUp(int64 size, int64 pricePpm, int64 mmfPpm)
        internal
        pure
        returns (int64 requirementQq)
    {
        return _requirementUp(size, pricePpm, mmfPpm);
    }

    /// @notice The fee on a notional: ceil(notional * feePpm / 1e6). A negative rate is a rebate, whose
    /// magnitude therefore rounds down.
    function feeUp(int64 notionalQq, int64 feePpm) internal pure returns (int64 feeQq) {
        _checkNonNegative(notionalQq);
        if (feePpm < -ONE || feePpm > ONE) revert FeeOutOfRange(feePpm);
        return _toInt64(_divUp(int256(notionalQq) * feePpm, ONE));
    }

    /// @notice The unrealized PnL of a position at a price: size * price - open notional.
    function unrealizedPnl(int64 size, int64 openNotionalQq, int64 pricePpm) internal pure returns (int64 pnlQq) {
        _checkPosition(size, openNotionalQq);
        _checkPrice(pricePpm);
        return _toInt64(int256(size) * pricePpm - openNotionalQq);
    }

    /// @notice A fill of `fillSize` contracts (+ buy, - sell) at `pricePpm` on the position (size, open
    /// notional): open or increase (no PnL realized), reduce or close (the closed contracts remove their share
    /// of the open notional rounded toward +infinity, see `_closedShareUp`), or flip (close the whole position
    /// at the price, open the rest there). Always newOpenNotional - realized == openNotional + fillSize * price,
    /// so the two sides of a trade conserve money.
    function applyFill(int64 size, int64 openNotionalQq, int64 fillSize, int64 pricePpm)
        internal
        pure
        returns (int64 newSize, int64 newOpenNotionalQq, int64 realizedPnlQq)
    {
        _checkPosition(size, openNotionalQq);
        if (fillSize == 0) revert ZeroFillSize();
        _checkPrice(pricePpm);
        int256 rest = int256(size) + fillSize;
        int256 newOn;
        int256 realized;
        if (size == 0 || (size > 0) == (fillSize > 0)) {
            newOn = int256(openNotionalQq) + int256(fillSize) * pricePpm;
        } else if (rest == 0 || (rest > 0) == (size > 0)) {
            int256 removed = _closedShareUp(openNotionalQq, _abs(fillSize), _abs(size));
            newOn = openNotionalQq - removed;
            realized = -int256(fillSize) * pricePpm - removed;
        } else {
            realized = int256(size) * pricePpm - openNotionalQq;
            newOn = rest * pricePpm;
        }
        return (_toInt64(rest), _toInt64(newOn), _toInt64(realized));
    }

    /// @dev The open notional that `closed` of a position's `absSize` contracts (0 < closed <= absSize) take:
    /// ceil(openNotional * closed / absSize), a signed ceiling (toward +infinity), so closing costs a long more
    /// and credits a short less than the exact share.
    function _closedShareUp(int64 openNotionalQq, int256 closed, int256 absSize) private pure returns (int256) {
        return _divUp(int256(openNotionalQq) * closed, absSize);
    }

    function _requirementUp(int64 size, int64 pricePpm, int64 factorPpm) private pure returns (int64) {
        _checkPrice(pricePpm);
        _checkFactor(factorPpm);
        return _toInt64(_divUp(_atRisk(size, pricePpm) * factorPpm, ONE));
    }

    function _atRisk(int64 size, int64 pricePpm) private pure returns (int256) {
        return size >= 0 ? int256(size) * pricePpm : -int256(size) * (ONE - pricePpm);
    }

    function _abs(int64 value) private pure returns (int256) {
        return value >= 0 ? int256(value) : -int256(value);
    }

    /// @dev a / d rounded toward +infinity, for d > 0.
    function _divUp(int256 a, int256 d) private pure returns (int256 q) {
        q = a / d;
        if (a % d != 0 && a > 0) q += 1;
    }

    function _toInt64(int256 value) private pure returns (int64) {
        if (value < type(int64).min || value > type(int64).max) revert Int64Overflow(value);
        // casting to 'int64' is safe because the range was checked on the line above
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(value);
    }

    function _checkPrice(int64 pricePpm) private pure {
        if (pricePpm < 0 || pricePpm > ONE) revert PriceOutOfRange(pricePpm);
    }

    function _checkFactor(int64 factorPpm) private pure {
        if (factorPpm < 0 || factorPpm > ONE) revert FactorOutOfRange(factorPpm);
    }

    function _checkNonNegative(int64 amountQq) private pure {
        if (amountQq < 0) revert NegativeAmount(amountQq);
    }

    function _checkPosition(int64 size, int64 openNotionalQq) private pure {
        int256 full = int256(size) * ONE;
        (int256 lowest, int256 highest) = size >= 0 ? (int256(0), full) : (full, int256(0));
        if (openNotionalQq < lowest || openNotionalQq > highest) revert OpenNotionalOutOfRange(size, openNotionalQq);
    }
}
