// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarginOracle} from "./IMarginOracle.sol";

/// @title IPositionManager
/// @notice perpcore's on-chain positions. Per (market, account): a signed size in whole contracts, an open notional
/// in quote quantums (1e-6 USDC) and the market's funding index at the position's last touch; per market: a
/// cumulative funding index (in 1e-6 quote quantums per contract, perpcore's `idx`), the open interest (total long
/// contracts), a clearing pool (realised PnL paid out minus losses collected, negated: it may be negative while
/// positions are open, as in `perpcore.ledger`) and a funding pool. An account's cash is its available balance in
/// the CollateralVault. Trades arrive in batches signed by the off-chain engine (ENGINE_SIGNER) and sent by a
/// SUBMITTER, chained by sequence number and hash, applied atomically and margin-checked once per touched account
/// at the end (cross margin over all its markets). Funding settles lazily on every touch: the payer rounds up,
/// the receiver down, and the rounding surplus (dust) goes to the insurance fund in whole quantums. Resolved
/// markets settle at their resolution value; after `inactivityPeriod` without a batch anyone may turn on exit
/// mode, final, where every account closes at the latest mark and takes its cash out at once.
/// The events below rebuild every position and pool: `Filled` (both new positions and realised PnL),
/// `FundingSettled`, `PositionClosed`, `BadDebt`; the vault's and insurance fund's events rebuild the balances.
interface IPositionManager is IMarginOracle {
    /// @notice What a fill does. Normal: a trade from the book. Liquidation: the taker is liquidated (it must be
    /// liquidatable before the fill, the fill only reduces its position, it pays no trading fee and its maker no
    /// rebate; it then pays the liquidation fee, or the insurance fund covers its deficit). Deleverage: the taker
    /// is bankrupt (negative equity the market's insurance fund cannot cover) and closes against the maker's
    /// opposite position at the taker's bankruptcy price, both reducing, without fees.
    enum FillKind {
        Normal,
        Liquidation,
        Deleverage
    }

    /// @notice One fill of a batch: the taker trades `size` contracts (+ buys, - sells) with the maker at `pricePpm`.
    struct Fill {
        uint32 marketId;
        FillKind kind;
        address maker;
        address taker;
        int64 size;
        int64 pricePpm;
    }

    /// @notice A position: signed size (+ long YES), open notional, the funding index at its last touch.
    struct Position {
        int64 size;
        int64 openNotionalQq;
        int128 lastFundingIndex;
    }

    /// @notice A market's state here.
    struct MarketState {
        int128 fundingIndex; // cumulative, 1e-6 qq per contract
        uint64 openInterest; // total long contracts
        uint64 lastFundingAt; // time of the last applyFundingIndex (0 before the first)
        int128 clearingPoolQq; // losses collected - profits paid
        int128 fundingPoolQq; // funding collected - funding paid - dust swept to insurance
        uint64 fundingDustIdx; // settled funding's rounding surplus not yet swept, < 1e6
    }

    /// @notice What a fill did, as logged: fees (+ paid, - rebate), both positions after, both realised PnLs.
    struct FillRecord {
        FillKind kind;
        int64 size;
        int64 pricePpm;
        int64 takerFeeQq;
        int64 makerFeeQq;
        int64 takerSize;
        int64 takerOpenNotionalQq;
        int64 takerRealizedPnlQq;
        int64 makerSize;
        int64 makerOpenNotionalQq;
        int64 makerRealizedPnlQq;
    }

    /// @notice Batch `seq` (hash `batchHash`, chained to the previous one) with `fillCount` fills was applied.
    event BatchExecuted(uint64 indexed seq, bytes32 batchHash, uint256 fillCount);
    /// @notice A fill was applied in market `marketId` between `maker` and `taker`.
    event Filled(uint32 indexed marketId, address indexed maker, address indexed taker, FillRecord record);
    /// @notice `account` settled funding in market `marketId`: `amountQq` > 0 paid, < 0 received, up to `index`.
    event FundingSettled(uint32 indexed marketId, address indexed account, int256 amountQq, int128 index);
    /// @notice Market `marketId`'s funding index moved by `deltaIdx` to `index`.
    event FundingIndexApplied(uint32 indexed marketId, int128 deltaIdx, int128 index);
    /// @notice `account`'s position of `size` in market `marketId` closed at `pricePpm`, realising `realizedPnlQq`:
    /// at the resolution value (settlement) or, in exit mode, at the latest mark.
    event PositionClosed(
        uint32 indexed marketId, address indexed account, int64 size, int64 pricePpm, int64 realizedPnlQq, bool exit
    );
    /// @notice `account` could not pay `amountQq` it owed in market `marketId`: the clearing pool bears it.
    event BadDebt(uint32 indexed marketId, address indexed account, uint256 amountQq);
    /// @notice `account` paid a liquidation fee of `feeQq` (to insurance) or had a deficit `drawnQq` covered by it.
    event Liquidated(uint32 indexed marketId, address indexed account, uint256 feeQq, uint256 drawnQq);
    /// @notice The liquidation fee rate changed.
    event LiquidationFeeSet(int64 liquidationFeePpm);
    /// @notice Exit mode is on, for good: no batch since `lastBatchAt`.
    event ExitModeEntered(uint64 lastBatchAt);
    /// @notice Exit mode: `account` took out its cash, `amountQq` debited and `paidQq` transferred.
    event ExitWithdrawn(address indexed account, uint256 amountQq, uint256 paidQq);

    /// @notice A constructor address of zero.
    error ZeroAddress();
    /// @notice A constructor parameter of zero (inactivity period, funding bound).
    error ZeroParameter();
    /// @notice A sequence number other than `expected`.
    error BadSequence(uint64 expected, uint64 seq);
    /// @notice The batch's signer does not hold ENGINE_SIGNER.
    error BadSignature(address signer);
    /// @notice An empty batch.
    error EmptyBatch();
    /// @notice A fill with a zero size, a zero or equal maker and taker, or in market 2^32 - 1 (an account's market
    /// list, one storage word, cannot encode that id).
    error InvalidFill(uint256 index);
    /// @notice The market is not in a phase that allows the action.
    error MarketNotTradable(uint32 marketId);
    /// @notice Resolving: the fill would not reduce both positions.
    error NotReduceOnly(uint256 index);
    /// @notice The fill price is more than the tier's band from the mark.
    error PriceOutsideBand(uint256 index, int64 pricePpm, int64 markPpm, int64 bandPpm);
    /// @notice The account would end the batch below its initial requirement having grown its risk.
    error InsufficientMargin(address account, int256 equityQq, int256 initialRequirementQq);
    /// @notice A debit above the account's cash.
    error InsufficientCash(address account, int256 cashQq);
    /// @notice An account may hold positions in at most `MAX_MARKETS_PER_ACCOUNT` markets.
    error TooManyMarkets(address account);
    /// @notice A liquidation fill whose taker is not liquidatable, or that does not only reduce its position.
    error NotLiquidatable(uint256 index, address account);
    /// @notice A deleverage fill whose taker is not bankrupt beyond the insurance fund, or that does not reduce
    /// both positions.
    error NotDeleveragable(uint256 index, address account);
    /// @notice A deleverage fill not at the taker's bankruptcy price `expectedPpm`.
    error NotBankruptcyPrice(uint256 index, int64 expectedPpm, int64 pricePpm);
    /// @notice A funding delta above `maxFundingDeltaPerSecond` times the elapsed seconds.
    error FundingDeltaTooLarge(int128 deltaIdx, int256 maxIdx);
    /// @notice The market has no resolution value, or is not Resolved or Settled.
    error NotResolved(uint32 marketId);
    /// @notice No position to close.
    error NoPosition(uint32 marketId, address account);
    /// @notice Exit mode is on: trading and funding are over.
    error ExitModeOn();
    /// @notice Exit mode is off.
    error ExitModeOff();
    /// @notice Exit mode needs `inactivityPeriod` without a batch, until `availableAt`.
    error StillActive(uint64 availableAt);
    /// @notice Exit mode: close every position before taking the cash out.
    error OpenPositions(address account);
    /// @notice Nothing to take out.
    error NothingToWithdraw();
    /// @notice A liquidation fee rate outside [0, MAX_LIQUIDATION_FEE_PPM].
    error LiquidationFeeOutOfRange(int64 liquidationFeePpm);

    /// @notice Applies a batch of fills atomically. Only a SUBMITTER, not paused, not in exit mode. The batch must
    /// be `lastSeq() + 1` and signed (EIP-712 `Batch(uint64 seq,bytes32 prevHash,bytes32 fillsHash)`, fillsHash =
    /// keccak256(abi.encode(fills))) by an ENGINE_SIGNER. Each fill settles both accounts' funding, moves both
    /// positions (RiskMath.applyFill, realised PnL to cash), charges fees (taker pays, maker pays or is rebated out
    /// of what the taker paid; the tier's insurance share, rounded down, to the insurance fund, the rest to the fee
    /// recipient) and keeps open interest. At the end each touched account must have cash >= 0 and, unless its
    /// total maintenance requirement did not grow in the batch, equity >= its total initial requirement.
    /// @param seq The batch's sequence number.
    /// @param fills The fills, applied in order.
    /// @param signature The engine's signature over (seq, lastBatchHash(), keccak256(abi.encode(fills))).
    function executeTrade(uint64 seq, Fill[] calldata fills, bytes calldata signature) external;

    /// @notice Moves market `marketId`'s cumulative funding index by `deltaIdx` (positive: longs pay). Only a
    /// FUNDING_PUSHER, not paused, not in exit mode, market Active; |delta| at most `maxFundingDeltaPerSecond`
    /// times the seconds since the market's previous application (the first: since deployment).
    function applyFundingIndex(uint32 marketId, int128 deltaIdx) external;

    /// @notice Closes `account`'s position in a Resolved or Settled market at its resolution value, funding
    /// settled first, PnL to cash (what the account cannot pay is bad debt). Anyone; also while paused.
    function settlePosition(uint32 marketId, address account) external;

    /// @notice Turns exit mode on once no batch landed for `inactivityPeriod`. Anyone; final.
    function enterExitMode() external;

    /// @notice Exit mode: closes `account`'s position in `marketId` at the latest snapshot's mark whatever its
    /// age (a market with a resolution value at that value), funding settled, PnL to cash. Anyone.
    function exitClose(uint32 marketId, address account) external;

    /// @notice Exit mode: pays the caller's whole cash out through the vault at once (pro rata if the vault is
    /// short). The caller must hold no position. Returns the tokens transferred.
    function exitWithdraw() external returns (uint256 paidQq);

    /// @notice Sets the liquidation fee rate, in [0, MAX_LIQUIDATION_FEE_PPM]. Admin only.
    function setLiquidationFeePpm(int64 liquidationFeePpm) external;

    /// @notice Stops executeTrade and applyFundingIndex. PAUSER only.
    function pause() external;

    /// @notice Resumes them. Admin only.
    function unpause() external;

    /// @notice `account`'s position in `marketId`.
    function positionOf(uint32 marketId, address account) external view returns (Position memory);

    /// @notice Market `marketId`'s state.
    function marketStateOf(uint32 marketId) external view returns (MarketState memory);

    /// @notice The markets where `account` holds a position.
    function marketsOf(address account) external view returns (uint32[] memory);

    /// @notice `account`'s cross-margin view at fresh marks: equity (cash + unrealised PnL + unsettled funding)
    /// and total initial and maintenance requirements.
    function marginOf(address account)
        external
        view
        returns (int256 equityQq, int256 initialRequirementQq, int256 maintenanceRequirementQq);

    /// @notice The funding `account`'s position in `marketId` would pay (+) or receive (-) if settled now.
    function unsettledFundingOf(uint32 marketId, address account) external view returns (int256 amountQq);

    /// @notice The last applied batch's sequence number (0 before the first).
    function lastSeq() external view returns (uint64);

    /// @notice The last applied batch's hash (zero before the first).
    function lastBatchHash() external view returns (bytes32);

    /// @notice When the last batch landed (deployment time before the first).
    function lastBatchAt() external view returns (uint64);

    /// @notice Whether exit mode is on.
    function exitMode() external view returns (bool);

    /// @notice The liquidation fee rate, ppm of the liquidated notional.
    function liquidationFeePpm() external view returns (int64);
}
