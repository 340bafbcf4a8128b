// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {InsuranceFund} from "../../src/InsuranceFund.sol";
import {InsuranceReasons} from "../../src/interfaces/IInsuranceFund.sol";
import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";
import {MarketRegistry} from "../../src/MarketRegistry.sol";
import {MarketRiskRegistry} from "../../src/MarketRiskRegistry.sol";
import {OracleRegistry} from "../../src/OracleRegistry.sol";
import {SnapshotRules} from "../utils/SnapshotRules.sol";
import {SurpriseLog} from "./SurpriseLog.sol";

/// @notice What the three registry handlers share: named callers, and their outcomes recorded against the prediction
/// (SurpriseLog).
abstract contract RegistriesHandlerBase is SurpriseLog {
    int64 internal constant ONE = 1_000_000;

    address public immutable admin;
    address public immutable resolver;
    address public immutable stranger;


    constructor(address admin_, address resolver_, address stranger_) {
        admin = admin_;
        resolver = resolver_;
        stranger = stranger_;
    }

    /// @dev Records the outcome of an action: `accepted` must equal `expected`.
    function _outcome(bool expected, bool accepted, string memory action) internal {
        if (accepted) ++successes[action];
        if (expected != accepted) {
            string memory verdict = accepted ? " accepted against the rules" : " refused against the rules";
            _check(false, string.concat(action, verdict));
        }
    }

    /// @dev One of the market ids 1 to `count`.
    function _marketOf(uint256 seed, uint32 count) internal pure returns (uint32) {
        return SafeCast.toUint32(seed % count) + 1;
    }
}

/// @notice Drives four markets through random creations, transitions (from any phase, towards any phase, by the
/// right role or not) and resolution records, and keeps a ghost model of each market's phase and resolution.
/// After every action it observes every market's phase in the MarketRegistry and counts in `illegalMoves` any
/// change other than one step forward.
contract LifecycleHandler is RegistriesHandlerBase {
    uint32 public constant MARKETS = 4;

    MarketRegistry public immutable markets;
    OracleRegistry public immutable oracles;

    mapping(uint32 marketId => IMarketRegistry.Phase) public ghostPhase;
    mapping(uint32 marketId => bool) public ghostResolved;
    mapping(uint32 marketId => int64) public ghostResolution;
    mapping(uint32 marketId => IMarketRegistry.Phase) internal _observed;
    uint256 public illegalMoves;

    constructor(MarketRegistry markets_, OracleRegistry oracles_, address admin_, address resolver_, address stranger_)
        RegistriesHandlerBase(admin_, resolver_, stranger_)
    {
        markets = markets_;
        oracles = oracles_;
    }

    function createMarket(uint256 marketSeed, uint256 callerSeed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        address caller = _caller(callerSeed, admin);
        bool expected = caller == admin && ghostPhase[marketId] == IMarketRegistry.Phase.None;
        vm.prank(caller);
        try markets.createMarket(marketId, bytes32(marketSeed)) {
            _outcome(expected, true, "createMarket");
            ghostPhase[marketId] = IMarketRegistry.Phase.Draft;
        } catch {
            _outcome(expected, false, "createMarket");
        }
        _observe();
    }

    /// @dev Three times in four towards the market's next phase, else towards any phase from Active on.
    function transition(uint256 marketSeed, uint256 toSeed, uint256 callerSeed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        IMarketRegistry.Phase from = ghostPhase[marketId];
        uint8 to = toSeed % 4 != 0 && from >= IMarketRegistry.Phase.Draft && from < IMarketRegistry.Phase.Settled
            ? uint8(from) + 1
            : uint8(bound(toSeed >> 2, uint8(IMarketRegistry.Phase.Active), uint8(IMarketRegistry.Phase.Settled)));
        address allowed = to == uint8(IMarketRegistry.Phase.Active) ? admin : resolver;
        address caller = _caller(callerSeed, allowed);
        bool expected = caller == allowed && from != IMarketRegistry.Phase.None && uint8(from) + 1 == to
            && (to != uint8(IMarketRegistry.Phase.Resolved) || ghostResolved[marketId]);
        bool accepted = _tryTransition(marketId, IMarketRegistry.Phase(to), caller);
        _outcome(expected, accepted, "transition");
        if (accepted) ghostPhase[marketId] = IMarketRegistry.Phase(to);
        _observe();
    }

    function recordResolution(uint256 marketSeed, int256 valueSeed, bool asResolver) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        int64 value = SafeCast.toInt64(bound(valueSeed, -2, ONE + 2));
        bool expected = asResolver && value >= 0 && value <= ONE && !ghostResolved[marketId];
        vm.prank(asResolver ? resolver : admin);
        try oracles.recordResolution(marketId, value) {
            _outcome(expected, true, "recordResolution");
            (ghostResolved[marketId], ghostResolution[marketId]) = (true, value);
        } catch {
            _outcome(expected, false, "recordResolution");
        }
        _observe();
    }

    /// @dev Calls, as `caller`, the function whose target phase is `to`; whether it went through.
    function _tryTransition(uint32 marketId, IMarketRegistry.Phase to, address caller) internal returns (bool) {
        vm.prank(caller);
        if (to == IMarketRegistry.Phase.Active) {
            try markets.activate(marketId) {
                return true;
            } catch {
                return false;
            }
        }
        if (to == IMarketRegistry.Phase.Resolving) {
            try markets.startResolving(marketId) {
                return true;
            } catch {
                return false;
            }
        }
        if (to == IMarketRegistry.Phase.Resolved) {
            try markets.markResolved(marketId) {
                return true;
            } catch {
                return false;
            }
        }
        try markets.markSettled(marketId) {
            return true;
        } catch {
            return false;
        }
    }

    /// @dev Every market's phase is where it was or one step further; anything else is an illegal move.
    function _observe() internal {
        for (uint32 marketId = 1; marketId <= MARKETS; ++marketId) {
            IMarketRegistry.Phase phase = markets.phaseOf(marketId);
            IMarketRegistry.Phase previous = _observed[marketId];
            if (phase != previous && uint8(phase) != uint8(previous) + 1) ++illegalMoves;
            _observed[marketId] = phase;
        }
    }

    /// @dev `allowed` three times in four, else the other role holder or a stranger.
    function _caller(uint256 seed, address allowed) internal view returns (address) {
        if (seed % 4 != 0) return allowed;
        if (seed % 8 == 0) return stranger;
        return allowed == admin ? resolver : admin;
    }
}

/// @notice Pushes random snapshots (SnapshotRules.candidate: on both sides of every rule) to two markets and one
/// never created, moves the markets' phases forward and lets time pass. It predicts each push's outcome with
/// SnapshotRules.isLegal, keeps the last accepted snapshot of each market as the ghost, and counts in
/// `nonIncreasingAccepted` any accepted push that did not move the stored timestamp forward and in
/// `changedByRejection` any rejected push after which the stored snapshot differs.
contract SnapshotHandler is RegistriesHandlerBase {
    uint32 public constant MARKETS = 3; // market 3 is never created

    MarketRiskRegistry public immutable risk;
    MarketRegistry public immutable markets;
    OracleRegistry public immutable oracles;
    address public immutable pusher;

    mapping(uint32 marketId => IMarketRiskRegistry.Snapshot) internal _ghost;
    uint256 public nonIncreasingAccepted;
    uint256 public changedByRejection;

    constructor(
        MarketRiskRegistry risk_,
        OracleRegistry oracles_,
        address admin_,
        address resolver_,
        address pusher_,
        address stranger_
    ) RegistriesHandlerBase(admin_, resolver_, stranger_) {
        risk = risk_;
        markets = MarketRegistry(address(risk_.marketRegistry()));
        oracles = oracles_;
        pusher = pusher_;
    }

    /// @dev By the pusher fifteen times in sixteen, else by a stranger.
    function push(uint256 marketSeed, uint256 seed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        IMarketRiskRegistry.Snapshot memory before = SnapshotRules.stored(risk, marketId);
        IMarketRegistry.Phase actual = markets.phaseOf(marketId);
        IMarketRiskRegistry.Snapshot memory next =
            SnapshotRules.candidate(before, seed >> 4, block.timestamp, risk.maxMovePpmPerSecond(), actual);
        bool asPusher = seed % 16 != 0;
        bool expected =
            asPusher && SnapshotRules.isLegal(before, next, block.timestamp, risk.maxMovePpmPerSecond(), actual);
        vm.prank(asPusher ? pusher : stranger);
        try risk.pushSnapshot(marketId, next.indexPricePpm, next.markPricePpm, next.timestamp, next.phase) {
            _outcome(expected, true, "pushSnapshot");
            if (SnapshotRules.stored(risk, marketId).timestamp <= before.timestamp) ++nonIncreasingAccepted;
            _ghost[marketId] = next;
        } catch {
            _outcome(expected, false, "pushSnapshot");
            if (keccak256(abi.encode(SnapshotRules.stored(risk, marketId))) != keccak256(abi.encode(before))) {
                ++changedByRejection;
            }
        }
    }

    /// @dev Moves a created market one phase forward (recording its resolution on the way to Resolved).
    function advance(uint256 marketSeed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS - 1);
        IMarketRegistry.Phase phase = markets.phaseOf(marketId);
        if (phase == IMarketRegistry.Phase.Draft) {
            vm.prank(admin);
            markets.activate(marketId);
        } else if (phase == IMarketRegistry.Phase.Active) {
            vm.prank(resolver);
            markets.startResolving(marketId);
        } else if (phase == IMarketRegistry.Phase.Resolving) {
            vm.startPrank(resolver);
            oracles.recordResolution(marketId, ONE);
            markets.markResolved(marketId);
            vm.stopPrank();
        } else if (phase == IMarketRegistry.Phase.Resolved) {
            vm.prank(resolver);
            markets.markSettled(marketId);
        }
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 3 * risk.maxSnapshotAge()));
    }

    function ghostSnapshot(uint32 marketId) external view returns (IMarketRiskRegistry.Snapshot memory) {
        return _ghost[marketId];
    }
}

/// @notice Credits and draws random amounts (draws mostly within what the fund allows, sometimes above it) on
/// three markets, lets time pass and changes the draw cap. It keeps a ghost of every market's credits, draws and
/// draw window, and `capCeiling`: the highest cap in force since each market's window opened.
contract InsuranceHandler is RegistriesHandlerBase {
    uint32 public constant MARKETS = 3;

    InsuranceFund public immutable fund;
    address public immutable positionManager;
    uint256 public immutable baseCap;
    uint64 public immutable baseWindow;

    mapping(uint32 marketId => uint256) public ghostCredited;
    mapping(uint32 marketId => uint256) public ghostDrawn;
    mapping(uint32 marketId => uint64) public ghostWindowOpenedAt;
    mapping(uint32 marketId => uint256) public ghostWindowDrawn;
    mapping(uint32 marketId => uint256) public capCeiling;
    uint256 public ghostCap;
    uint64 public ghostWindow;

    constructor(InsuranceFund fund_, address admin_, address positionManager_, address stranger_)
        RegistriesHandlerBase(admin_, admin_, stranger_)
    {
        fund = fund_;
        positionManager = positionManager_;
        (baseCap, baseWindow) = (fund_.maxDrawPerWindow(), fund_.drawWindow());
        (ghostCap, ghostWindow) = (baseCap, baseWindow);
    }

    /// @dev By the PositionManager seven times in eight, else by the admin; one of the four reasons.
    function credit(uint256 marketSeed, uint256 amount, uint256 callerSeed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        amount = bound(amount, 0, 2 * baseCap);
        bool asManager = callerSeed % 8 != 0;
        bytes32[4] memory reasons = [
            InsuranceReasons.FEE_SHARE,
            InsuranceReasons.LIQUIDATION_FEE,
            InsuranceReasons.FUNDING_DUST,
            InsuranceReasons.DEPOSIT
        ];
        vm.prank(asManager ? positionManager : admin);
        try fund.credit(marketId, amount, reasons[(callerSeed >> 3) % 4]) {
            _outcome(asManager && amount > 0, true, "credit");
            ghostCredited[marketId] += amount;
        } catch {
            _outcome(asManager && amount > 0, false, "credit");
        }
    }

    /// @dev An amount up to a quarter above what the ghost says is drawable, so most draws fit and some do not.
    function draw(uint256 marketSeed, uint256 amount, uint256 callerSeed) external {
        uint32 marketId = _marketOf(marketSeed, MARKETS);
        uint256 balance = ghostCredited[marketId] - ghostDrawn[marketId];
        (uint64 openedAt, uint256 drawn) = ghostWindowOf(marketId);
        uint256 remaining = ghostCap > drawn ? ghostCap - drawn : 0;
        uint256 drawable = balance < remaining ? balance : remaining;
        amount = bound(amount, 0, drawable + drawable / 4 + 2);
        bool asManager = callerSeed % 8 != 0;
        bool expected = asManager && amount > 0 && amount <= balance && amount <= remaining;
        vm.prank(asManager ? positionManager : admin);
        try fund.draw(marketId, amount) {
            _outcome(expected, true, "draw");
            ghostDrawn[marketId] += amount;
            if (drawn == 0) (openedAt, capCeiling[marketId]) = (SafeCast.toUint64(block.timestamp), ghostCap);
            (ghostWindowOpenedAt[marketId], ghostWindowDrawn[marketId]) = (openedAt, drawn + amount);
        } catch {
            _outcome(expected, false, "draw");
        }
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 2 * ghostWindow));
    }

    function setDrawCap(uint256 cap, uint256 window) external {
        cap = bound(cap, 0, 2 * baseCap);
        uint64 window64 = SafeCast.toUint64(bound(window, 1, 2 * baseWindow));
        vm.prank(admin);
        try fund.setDrawCap(cap, window64) {
            _outcome(true, true, "setDrawCap");
            (ghostCap, ghostWindow) = (cap, window64);
            for (uint32 marketId = 1; marketId <= MARKETS; ++marketId) {
                if (cap > capCeiling[marketId]) capCeiling[marketId] = cap;
            }
        } catch {
            _outcome(true, false, "setDrawCap");
        }
    }

    /// @dev The ghost's open window of `marketId`, (0, 0) if none: open while it has drawn and `ghostWindow`
    /// seconds have not passed since its first draw.
    function ghostWindowOf(uint32 marketId) public view returns (uint64 openedAt, uint256 drawn) {
        drawn = ghostWindowDrawn[marketId];
        openedAt = ghostWindowOpenedAt[marketId];
        if (drawn == 0 || block.timestamp >= uint256(openedAt) + ghostWindow) return (0, 0);
    }
}
