// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SlotDerivation} from "@openzeppelin/contracts/utils/SlotDerivation.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";

import {ICollateralVault} from "./interfaces/ICollateralVault.sol";
import {IInsuranceFund, InsuranceReasons} from "./interfaces/IInsuranceFund.sol";
import {IMarginOracle} from "./interfaces/IMarginOracle.sol";
import {IMarketRegistry} from "./interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "./interfaces/IMarketRiskRegistry.sol";
import {IOracleRegistry} from "./interfaces/IOracleRegistry.sol";
import {IPositionManager} from "./interfaces/IPositionManager.sol";
import {PositionMath} from "./libraries/PositionMath.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title PositionManager
/// @notice Owns perpcore's on-chain positions, funding indices, open interest and clearing/funding pools, and is
/// the only contract that moves trading money between the vault's available balances and the insurance fund's
/// accounting. It never holds tokens and never computes margin arithmetic itself: RiskMath does, with perpcore's
/// integer results. See IPositionManager.
/// @dev A batch keeps each touched account's cash in memory (its vault balance at first touch plus every movement
/// since, found through a transient index) and writes one net credit or debit per account to the vault at the end,
/// after the margin check, which only an account whose maintenance requirement grew needs; market parameters
/// (phase, tier, mark) are read once per batch, and the market's funding pool and dust, the fee shares and the swept
/// funding dust are written or credited once at its end. Each fill is one PositionMath.fill call.
contract PositionManager is IPositionManager, AccessControl, Pausable, EIP712 {
    using SafeCast for int256;
    using SafeCast for uint256;
    using SlotDerivation for bytes32;
    using TransientSlot for bytes32;
    using TransientSlot for TransientSlot.Uint256Slot;

    /// @notice 100 %, probability 1, and the funding index units per quote quantum and contract.
    int256 internal constant ONE = 1_000_000;
    /// @notice An account holds positions in at most this many markets (bounds every cross-margin loop).
    uint256 public constant MAX_MARKETS_PER_ACCOUNT = PositionMath.MAX_MARKETS_PER_ACCOUNT;
    /// @notice The highest liquidation fee rate the admin may set (5 % of the liquidated notional).
    int64 public constant MAX_LIQUIDATION_FEE_PPM = 50_000;
    /// @notice EIP-712 type of a signed batch.
    bytes32 public constant BATCH_TYPEHASH = keccak256("Batch(uint64 seq,bytes32 prevHash,bytes32 fillsHash)");

    // the vault's reason tags
    bytes32 internal constant TRADE = keccak256("TRADE");
    bytes32 internal constant FEES = keccak256("FEES");
    bytes32 internal constant SETTLEMENT = keccak256("SETTLEMENT");
    bytes32 internal constant EXIT = keccak256("EXIT");
    uint256 internal constant MARKET_CACHE = 16;
    /// @dev The transient mapping account => its index in the batch's accounts + 1 (cleared at the batch's end).
    bytes32 internal constant BATCH_INDEX = keccak256("perpcore.PositionManager.batchIndex");

    /// @notice The vault whose available balances are the accounts' cash.
    ICollateralVault public immutable vault;
    /// @notice Market phases.
    IMarketRegistry public immutable marketRegistry;
    /// @notice Risk tiers and snapshots.
    IMarketRiskRegistry public immutable riskRegistry;
    /// @notice Resolution values.
    IOracleRegistry public immutable oracleRegistry;
    /// @notice Insurance accounting.
    IInsuranceFund public immutable insuranceFund;
    /// @notice The account credited with fees net of the insurance share.
    address public immutable feeRecipient;
    /// @notice Seconds without a batch after which anyone may turn on exit mode.
    uint64 public immutable inactivityPeriod;
    /// @notice The most the funding index may move per second, in 1e-6 quote quantums per contract.
    int128 public immutable maxFundingDeltaPerSecond;
    /// @notice Deployment time: the start of every market's first funding interval.
    uint64 public immutable deployedAt;

    /// @inheritdoc IPositionManager
    uint64 public lastSeq;
    /// @inheritdoc IPositionManager
    uint64 public lastBatchAt;
    /// @inheritdoc IPositionManager
    int64 public liquidationFeePpm;
    /// @inheritdoc IPositionManager
    bool public exitMode;
    /// @inheritdoc IPositionManager
    bytes32 public lastBatchHash;

    mapping(uint32 marketId => mapping(address account => Position)) internal _positions;
    mapping(uint32 marketId => MarketState) internal _markets;
    /// @dev The markets where an account holds a position, in one slot (PositionMath.laneCount: lane k holds the
    /// k-th market's id + 1, 0 is empty; a market id of 2^32 - 1 cannot be encoded: fills in it are invalid).
    mapping(address account => uint256 lanes) internal _accountMarkets;

    /// @dev An account inside a batch: its vault balance at first touch, its cash now, and how much its total
    /// maintenance requirement at the batch's marks grew since (the sum over its fills of the requirement after
    /// minus before, which telescopes to the total after minus the total before).
    struct Acct {
        address account;
        int256 startQq;
        int256 cashQq;
        int256 maintenanceGrowthQq;
    }

    /// @dev A market as a batch or a view sees it.
    struct Mkt {
        uint32 id;
        IMarketRegistry.Phase phase;
        bool terminal; // priced at its resolution value: no requirement
        int64 markPpm;
        IMarketRiskRegistry.RiskTier tier;
        uint256 insuranceShareQq; // fee shares owed to the market's fund, credited at the end of the batch
        uint256 dustQq; // funding dust swept to the market's fund, credited at the end of the batch
        bool funding; // the batch holds the market's funding pool and dust below, written at its end
        uint64 fundingDustIdx;
        int256 fundingPoolQq;
    }

    /// @dev Everything a batch (or a margin view) carries.
    struct Ctx {
        Acct[] accts;
        uint256 acctCount;
        Mkt[] mkts;
        uint256 mktCount;
        uint256 feesQq; // owed to the fee recipient
        bool exit; // price at the latest snapshot whatever its age
    }

    /// @param admin Receives the default admin role.
    /// @param vault_ The CollateralVault (this contract needs its POSITION_MANAGER role).
    /// @param marketRegistry_ The MarketRegistry.
    /// @param riskRegistry_ The MarketRiskRegistry.
    /// @param oracleRegistry_ The OracleRegistry.
    /// @param insuranceFund_ The InsuranceFund (this contract needs its POSITION_MANAGER role).
    /// @param feeRecipient_ The account credited with fees net of the insurance share.
    /// @param inactivityPeriod_ Seconds without a batch before exit mode may start; not zero.
    /// @param maxFundingDeltaPerSecond_ The funding bound, idx per second; above zero.
    constructor(
        address admin,
        ICollateralVault vault_,
        IMarketRegistry marketRegistry_,
        IMarketRiskRegistry riskRegistry_,
        IOracleRegistry oracleRegistry_,
        IInsuranceFund insuranceFund_,
        address feeRecipient_,
        uint64 inactivityPeriod_,
        int128 maxFundingDeltaPerSecond_
    ) EIP712("perpcore PositionManager", "1") {
        if (
            admin == address(0) || address(vault_) == address(0) || address(marketRegistry_) == address(0)
                || address(riskRegistry_) == address(0) || address(oracleRegistry_) == address(0)
                || address(insuranceFund_) == address(0) || feeRecipient_ == address(0)
        ) revert ZeroAddress();
        if (inactivityPeriod_ == 0 || maxFundingDeltaPerSecond_ <= 0) revert ZeroParameter();
        vault = vault_;
        marketRegistry = marketRegistry_;
        riskRegistry = riskRegistry_;
        oracleRegistry = oracleRegistry_;
        insuranceFund = insuranceFund_;
        feeRecipient = feeRecipient_;
        inactivityPeriod = inactivityPeriod_;
        maxFundingDeltaPerSecond = maxFundingDeltaPerSecond_;
        deployedAt = uint64(block.timestamp);
        lastBatchAt = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------
    // trading

    /// @inheritdoc IPositionManager
    function executeTrade(uint64 seq, Fill[] calldata fills, bytes calldata signature)
        external
        onlyRole(Roles.SUBMITTER)
        whenNotPaused
    {
        if (exitMode) revert ExitModeOn();
        if (seq != lastSeq + 1) revert BadSequence(lastSeq + 1, seq);
        if (fills.length == 0) revert EmptyBatch();
        bytes32 prevHash = lastBatchHash;
        bytes32 fillsHash = keccak256(abi.encode(fills));
        address signer = ECDSA.recover(
            _hashTypedDataV4(keccak256(abi.encode(BATCH_TYPEHASH, seq, prevHash, fillsHash))), signature
        );
        if (!hasRole(Roles.ENGINE_SIGNER, signer)) revert BadSignature(signer);
        bytes32 batchHash = keccak256(abi.encode(prevHash, seq, fillsHash));
        lastSeq = seq;
        lastBatchHash = batchHash;
        lastBatchAt = uint64(block.timestamp);

        Ctx memory c = _newCtx(2 * fills.length, false);
        for (uint256 i; i < fills.length; ++i) {
            _applyFill(c, i, fills[i]);
        }
        _finishBatch(c);
        emit BatchExecuted(seq, batchHash, fills.length);
    }

    /// @inheritdoc IPositionManager
    function applyFundingIndex(uint32 marketId, int128 deltaIdx) external onlyRole(Roles.FUNDING_PUSHER) whenNotPaused {
        if (exitMode) revert ExitModeOn();
        if (marketRegistry.phaseOf(marketId) != IMarketRegistry.Phase.Active) revert MarketNotTradable(marketId);
        MarketState storage ms = _markets[marketId];
        uint64 since = ms.lastFundingAt == 0 ? deployedAt : ms.lastFundingAt;
        int256 maxIdx = int256(maxFundingDeltaPerSecond) * int256(uint256(block.timestamp - since));
        if (deltaIdx > maxIdx || -int256(deltaIdx) > maxIdx) revert FundingDeltaTooLarge(deltaIdx, maxIdx);
        int128 index = ms.fundingIndex + deltaIdx;
        ms.fundingIndex = index;
        ms.lastFundingAt = uint64(block.timestamp);
        emit FundingIndexApplied(marketId, deltaIdx, index);
    }

    // ------------------------------------------------------------------------------------------------
    // settlement and exit

    /// @inheritdoc IPositionManager
    function settlePosition(uint32 marketId, address account) external {
        IMarketRegistry.Phase phase = marketRegistry.phaseOf(marketId);
        (bool resolved, int64 valuePpm) = oracleRegistry.resolutionOf(marketId);
        if (!resolved || (phase != IMarketRegistry.Phase.Resolved && phase != IMarketRegistry.Phase.Settled)) {
            revert NotResolved(marketId);
        }
        _closeAt(marketId, account, valuePpm, false);
    }

    /// @inheritdoc IPositionManager
    function enterExitMode() external {
        if (exitMode) revert ExitModeOn();
        uint64 availableAt = lastBatchAt + inactivityPeriod;
        if (block.timestamp < availableAt) revert StillActive(availableAt);
        exitMode = true;
        emit ExitModeEntered(lastBatchAt);
    }

    /// @inheritdoc IPositionManager
    function exitClose(uint32 marketId, address account) external {
        if (!exitMode) revert ExitModeOff();
        (bool resolved, int64 valuePpm) = oracleRegistry.resolutionOf(marketId);
        if (!resolved) valuePpm = riskRegistry.latestSnapshot(marketId).markPricePpm;
        _closeAt(marketId, account, valuePpm, true);
    }

    /// @inheritdoc IPositionManager
    function exitWithdraw() external returns (uint256 paidQq) {
        if (!exitMode) revert ExitModeOff();
        if (_accountMarkets[msg.sender] != 0) revert OpenPositions(msg.sender);
        uint256 amount = vault.availableOf(msg.sender);
        if (amount == 0) revert NothingToWithdraw();
        paidQq = vault.exitPayout(msg.sender, amount);
        emit ExitWithdrawn(msg.sender, amount, paidQq);
    }

    // ------------------------------------------------------------------------------------------------
    // administration

    /// @inheritdoc IPositionManager
    function setLiquidationFeePpm(int64 liquidationFeePpm_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (liquidationFeePpm_ < 0 || liquidationFeePpm_ > MAX_LIQUIDATION_FEE_PPM) {
            revert LiquidationFeeOutOfRange(liquidationFeePpm_);
        }
        liquidationFeePpm = liquidationFeePpm_;
        emit LiquidationFeeSet(liquidationFeePpm_);
    }

    /// @inheritdoc IPositionManager
    function pause() external onlyRole(Roles.PAUSER) {
        _pause();
    }

    /// @inheritdoc IPositionManager
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------------------------------------
    // views

    /// @inheritdoc IPositionManager
    function positionOf(uint32 marketId, address account) external view returns (Position memory) {
        return _positions[marketId][account];
    }

    /// @inheritdoc IPositionManager
    function marketStateOf(uint32 marketId) external view returns (MarketState memory) {
        return _markets[marketId];
    }

    /// @inheritdoc IPositionManager
    function marketsOf(address account) external view returns (uint32[] memory list) {
        uint256 lanes = _accountMarkets[account];
        list = new uint32[](PositionMath.laneCount(lanes));
        for (uint256 k; k < list.length; ++k) {
            list[k] = PositionMath.marketAt(lanes, k);
        }
    }

    /// @inheritdoc IPositionManager
    function marginOf(address account)
        external
        view
        returns (int256 equityQq, int256 initialRequirementQq, int256 maintenanceRequirementQq)
    {
        return _risk(_newCtx(0, false), account, int256(vault.availableOf(account)));
    }

    /// @inheritdoc IMarginOracle
    function isBelowInitialAfter(address account, uint256) external view returns (bool below) {
        // the amount already sits in a pending withdrawal, outside the available balance read here
        (int256 equity, int256 initial,) = _risk(_newCtx(0, false), account, int256(vault.availableOf(account)));
        return equity < initial;
    }

    /// @inheritdoc IPositionManager
    function unsettledFundingOf(uint32 marketId, address account) external view returns (int256 amountQq) {
        Position storage p = _positions[marketId][account];
        return PositionMath.fundingPaymentUp(p.size, _markets[marketId].fundingIndex - p.lastFundingIndex);
    }

    // ------------------------------------------------------------------------------------------------
    // a fill

    function _applyFill(Ctx memory c, uint256 i, Fill calldata f) internal {
        if (
            f.size == 0 || f.maker == address(0) || f.taker == address(0) || f.maker == f.taker
                || f.marketId == type(uint32).max
        ) revert InvalidFill(i);
        Mkt memory mk = _mkt(c, f.marketId);
        if (mk.phase != IMarketRegistry.Phase.Active && mk.phase != IMarketRegistry.Phase.Resolving) {
            revert MarketNotTradable(f.marketId);
        }
        if (f.kind != FillKind.Deleverage) {
            int64 band = mk.tier.priceBandPpm;
            if (f.pricePpm > mk.markPpm + band || f.pricePpm < mk.markPpm - band) {
                revert PriceOutsideBand(i, f.pricePpm, mk.markPpm, band);
            }
        }
        Acct memory taker = _touch(c, f.taker);
        Acct memory maker = _touch(c, f.maker);
        Position storage tp = _positions[f.marketId][f.taker];
        Position storage mp = _positions[f.marketId][f.maker];
        // funding is settled in _trade: the taker's equity below already counts it as unsettled, to the same amount
        bool takerReduces = _reduces(tp.size, f.size);
        bool makerReduces = _reduces(mp.size, -f.size);
        if (mk.phase == IMarketRegistry.Phase.Resolving && !(takerReduces && makerReduces)) revert NotReduceOnly(i);
        if (f.kind == FillKind.Liquidation) {
            (int256 equity,, int256 maintenance) = _risk(c, f.taker, taker.cashQq);
            if (maintenance == 0 || equity > maintenance || !takerReduces) revert NotLiquidatable(i, f.taker);
        } else if (f.kind == FillKind.Deleverage) {
            _checkDeleverage(c, i, f, mk, takerReduces && makerReduces, tp.size, taker.cashQq);
        }

        _trade(c, f, mk, taker, maker);
    }

    /// @dev A checked fill's effects (PositionMath.fill, which logs it) on the batch's cash, growth and fees.
    function _trade(Ctx memory c, Fill calldata f, Mkt memory mk, Acct memory taker, Acct memory maker) internal {
        MarketState storage ms = _markets[f.marketId];
        if (!mk.funding) {
            (mk.funding, mk.fundingPoolQq, mk.fundingDustIdx) = (true, ms.fundingPoolQq, ms.fundingDustIdx);
        }
        PositionMath.Moves memory m;
        (m.fundingPoolQq, m.fundingDustIdx) = (mk.fundingPoolQq, mk.fundingDustIdx);
        m = PositionMath.fill(f, mk.markPpm, mk.tier, _positions[f.marketId], ms, _accountMarkets, m);
        (mk.fundingPoolQq, mk.fundingDustIdx) = (m.fundingPoolQq, m.fundingDustIdx);
        taker.cashQq += m.takerCashQq;
        maker.cashQq += m.makerCashQq;
        taker.maintenanceGrowthQq += m.takerGrowthQq;
        maker.maintenanceGrowthQq += m.makerGrowthQq;
        mk.insuranceShareQq += m.insuranceQq;
        mk.dustQq += m.dustQq;
        c.feesQq += m.recipientQq;
        if (f.kind == FillKind.Liquidation) _liquidationFee(f.marketId, taker, f);
        else if (f.kind == FillKind.Deleverage && taker.cashQq < 0) _writeOff(ms, f.marketId, taker);
    }

    /// @dev A deleverage fill's taker has negative equity that the market's fund cannot cover, both positions only
    /// shrink, and the price is the taker's bankruptcy price for its whole position: the price at which closing it
    /// brings the equity to zero, mark -/+ ceil(-equity / |size|) for a long/short (the rounding leaves the taker
    /// at or above zero), clamped to [0, 1e6].
    function _checkDeleverage(
        Ctx memory c,
        uint256 i,
        Fill calldata f,
        Mkt memory mk,
        bool bothReduce,
        int64 takerSize,
        int256 takerCash
    ) internal view {
        (int256 equity,,) = _risk(c, f.taker, takerCash);
        // casting to 'uint256' is safe: the equity is negative when the cast runs
        // forge-lint: disable-next-line(unsafe-typecast)
        if (!bothReduce || equity >= 0 || insuranceFund.balanceOf(f.marketId) >= uint256(-equity)) {
            revert NotDeleveragable(i, f.taker);
        }
        int64 price = PositionMath.bankruptcyPricePpm(takerSize, mk.markPpm, equity);
        if (price != f.pricePpm) revert NotBankruptcyPrice(i, price, f.pricePpm);
    }

    /// @dev After a liquidation fill: a taker left with negative cash has its deficit drawn from the market's fund
    /// (reverting when the fund or its draw cap cannot pay); otherwise it pays the liquidation fee,
    /// floor(notional * rate / 1e6), capped by its cash, to the fund.
    function _liquidationFee(uint32 marketId, Acct memory taker, Fill calldata r) internal {
        if (taker.cashQq < 0) {
            uint256 drawn = uint256(-taker.cashQq);
            insuranceFund.draw(marketId, drawn);
            taker.cashQq = 0;
            emit Liquidated(marketId, taker.account, 0, drawn);
            return;
        }
        int256 notional = int256(r.size < 0 ? -int256(r.size) : int256(r.size)) * r.pricePpm;
        int256 fee = notional * liquidationFeePpm / ONE;
        if (fee > taker.cashQq) fee = taker.cashQq;
        if (fee > 0) {
            taker.cashQq -= fee;
            // casting to 'uint256' is safe because fee > 0
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 paid = uint256(fee);
            insuranceFund.credit(marketId, paid, InsuranceReasons.LIQUIDATION_FEE);
            emit Liquidated(marketId, taker.account, paid, 0);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // positions and money

    /// @dev Closes a whole position at `pricePpm` (settlement or exit): funding settled (PositionMath.close), PnL
    /// to cash; what the account cannot pay is bad debt, borne by the clearing pool.
    function _closeAt(uint32 marketId, address account, int64 pricePpm, bool exit) internal {
        Position storage p = _positions[marketId][account];
        int64 size = p.size;
        if (size == 0) revert NoPosition(marketId, account);
        (int256 cash, uint256 dust, int64 realized) =
            PositionMath.close(p, _markets[marketId], _accountMarkets, account, marketId, pricePpm);
        if (dust != 0) insuranceFund.credit(marketId, dust, InsuranceReasons.FUNDING_DUST);
        int256 available = int256(vault.availableOf(account));
        Acct memory a = Acct(account, available, available + cash, 0);
        if (a.cashQq < 0) _writeOff(_markets[marketId], marketId, a);
        emit PositionClosed(marketId, account, size, pricePpm, realized, exit);
        _commit(a, exit ? EXIT : SETTLEMENT);
    }

    /// @dev Brings negative cash back to zero at the clearing pool's expense.
    function _writeOff(MarketState storage ms, uint32 marketId, Acct memory a) internal {
        uint256 debt = uint256(-a.cashQq);
        a.cashQq = 0;
        ms.clearingPoolQq -= debt.toInt256().toInt128();
        emit BadDebt(marketId, a.account, debt);
    }

    /// @dev Writes an account's net cash movement to the vault.
    function _commit(Acct memory a, bytes32 reason) internal {
        if (a.cashQq > a.startQq) vault.creditAvailable(a.account, uint256(a.cashQq - a.startQq), reason);
        else if (a.cashQq < a.startQq) vault.debitAvailable(a.account, uint256(a.startQq - a.cashQq), reason);
    }

    // ------------------------------------------------------------------------------------------------
    // the end of a batch

    function _finishBatch(Ctx memory c) internal {
        for (uint256 k; k < c.mktCount; ++k) {
            Mkt memory mk = c.mkts[k];
            if (mk.insuranceShareQq != 0) insuranceFund.credit(mk.id, mk.insuranceShareQq, InsuranceReasons.FEE_SHARE);
            if (mk.dustQq != 0) insuranceFund.credit(mk.id, mk.dustQq, InsuranceReasons.FUNDING_DUST);
            if (mk.funding) {
                MarketState storage ms = _markets[mk.id];
                (ms.fundingPoolQq, ms.fundingDustIdx) = (mk.fundingPoolQq.toInt128(), mk.fundingDustIdx);
            }
        }
        if (c.feesQq != 0) vault.creditAvailable(feeRecipient, c.feesQq, FEES);
        for (uint256 k; k < c.acctCount; ++k) {
            Acct memory a = c.accts[k];
            address account = a.account;
            _batchIndex(account).tstore(0);
            if (a.cashQq < 0) revert InsufficientCash(account, a.cashQq);
            // an account whose maintenance requirement did not grow passes whatever its equity
            if (a.maintenanceGrowthQq > 0) {
                (int256 equity, int256 initial,) = _risk(c, account, a.cashQq);
                if (equity < initial) revert InsufficientMargin(account, equity, initial);
            }
            _commit(a, TRADE);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // margin

    /// @dev Cross margin at the context's marks: cash + Σ (unrealised PnL - unsettled funding) against Σ initial
    /// (OI-scaled at the current open interest) and Σ maintenance requirements; markets priced at their resolution
    /// value carry no requirement.
    function _risk(Ctx memory c, address account, int256 cash)
        internal
        view
        returns (int256 equity, int256 initial, int256 maintenance)
    {
        equity = cash;
        uint256 lanes = _accountMarkets[account];
        for (uint256 k; lanes >> (32 * k) != 0; ++k) {
            uint32 marketId = PositionMath.marketAt(lanes, k);
            Position storage p = _positions[marketId][account];
            MarketState storage ms = _markets[marketId];
            Mkt memory mk = _mkt(c, marketId);
            int64 size = p.size;
            (int256 pnl, int256 im, int256 mm) =
                PositionMath.positionRisk(size, p.openNotionalQq, mk.markPpm, ms.openInterest, mk.tier, mk.terminal);
            equity += pnl - PositionMath.fundingPaymentUp(size, int256(ms.fundingIndex) - p.lastFundingIndex);
            initial += im;
            maintenance += mm;
        }
    }

    /// @dev A market's phase, tier and mark, read once per context: the fresh snapshot's mark (the latest in exit
    /// mode), or the resolution value once the market is Resolved or Settled.
    function _mkt(Ctx memory c, uint32 marketId) internal view returns (Mkt memory) {
        for (uint256 k; k < c.mktCount; ++k) {
            if (c.mkts[k].id == marketId) return c.mkts[k];
        }
        Mkt memory mk;
        mk.id = marketId;
        mk.phase = marketRegistry.phaseOf(marketId);
        if (mk.phase == IMarketRegistry.Phase.Resolved || mk.phase == IMarketRegistry.Phase.Settled) {
            (, mk.markPpm) = oracleRegistry.resolutionOf(marketId);
            mk.terminal = true;
        } else if (mk.phase == IMarketRegistry.Phase.Active || mk.phase == IMarketRegistry.Phase.Resolving) {
            mk.tier = riskRegistry.riskTierOf(marketId);
            mk.markPpm = (c.exit ? riskRegistry.latestSnapshot(marketId) : riskRegistry.freshSnapshot(marketId))
                .markPricePpm;
        }
        if (c.mktCount < c.mkts.length) c.mkts[c.mktCount++] = mk;
        return mk;
    }

    /// @dev The batch's record of `account`, created at first touch with its vault balance and found again through
    /// the transient BATCH_INDEX mapping (_finishBatch clears it).
    function _touch(Ctx memory c, address account) internal returns (Acct memory) {
        TransientSlot.Uint256Slot slot = _batchIndex(account);
        uint256 index = slot.tload();
        if (index != 0) return c.accts[index - 1];
        int256 available = int256(vault.availableOf(account));
        Acct memory a = Acct(account, available, available, 0);
        c.accts[c.acctCount] = a;
        slot.tstore(++c.acctCount);
        return a;
    }

    function _batchIndex(address account) internal pure returns (TransientSlot.Uint256Slot) {
        return BATCH_INDEX.deriveMapping(account).asUint256();
    }

    function _newCtx(uint256 accounts, bool exit) internal pure returns (Ctx memory c) {
        c.accts = new Acct[](accounts);
        c.mkts = new Mkt[](MARKET_CACHE);
        c.exit = exit;
    }

    // ------------------------------------------------------------------------------------------------
    // arithmetic

    /// @dev Whether `signed` contracts only shrink a position of `size` (never open, grow or flip it).
    function _reduces(int64 size, int64 signed) internal pure returns (bool) {
        return size > 0 ? (signed < 0 && -int256(signed) <= size) : (size < 0 && signed > 0 && signed <= -int256(size));
    }
}
