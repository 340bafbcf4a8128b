// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CollateralVault} from "../../src/CollateralVault.sol";
import {IPositionManager} from "../../src/interfaces/IPositionManager.sol";
import {PositionManager} from "../../src/PositionManager.sol";
import {MarketRiskRegistry} from "../../src/MarketRiskRegistry.sol";
import {SurpriseLog} from "./SurpriseLog.sol";

/// @notice Signs a batch with the engine key (the invariant test, which holds the system fixture).
interface IBatchSigner {
    function signBatch(uint64 seq, bytes32 prevHash, IPositionManager.Fill[] memory fills)
        external
        view
        returns (bytes memory);
}

/// @notice Drives the PositionManager with random signed trades between four funded actors in two markets, mark
/// moves, funding pushes, withdrawals, pauses and time. Each action is attempted whatever the state; the handler
/// predicts what must be refused (a funding delta beyond the bound, a batch while paused, a replayed batch, a
/// withdrawal while paused that the rules allow) and counts every surprise in `unexpectedOutcomes`. Trades the
/// margin check refuses are legitimate refusals. It never reverts itself.
contract PositionHandler is SurpriseLog {
    uint32 internal constant MARKETS = 2;
    int64 internal constant BAND = 50_000;

    PositionManager public immutable pm;
    CollateralVault public immutable vault;
    MarketRiskRegistry public immutable risk;
    IBatchSigner public immutable signer;
    address public immutable submitter;
    address public immutable fundingPusher;
    address public immutable pauser;
    address public immutable admin;

    address[] public actors;
    mapping(uint32 marketId => int64) public markOf;
    mapping(uint32 marketId => int256) public ghostFundingIndex;
    uint64 public ghostBatches;

    constructor(
        PositionManager pm_,
        MarketRiskRegistry risk_,
        IBatchSigner signer_,
        address[] memory actors_,
        address[4] memory roles // submitter, funding pusher, pauser, admin
    ) {
        pm = pm_;
        vault = CollateralVault(address(pm_.vault()));
        risk = risk_;
        signer = signer_;
        actors = actors_;
        (submitter, fundingPusher, pauser, admin) = (roles[0], roles[1], roles[2], roles[3]);
        for (uint32 m = 1; m <= MARKETS; ++m) {
            markOf[m] = 500_000;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // actions

    function trade(uint256 makerSeed, uint256 takerSeed, uint256 marketSeed, int256 size, int256 offset) external {
        uint32 m = _market(marketSeed);
        address maker = _actor(makerSeed);
        uint256 n = actors.length;
        address taker = actors[(takerSeed % n + (makerSeed % n == takerSeed % n ? 1 : 0)) % n];
        int64 s = int64(bound(size, -3_000, 3_000));
        if (s == 0) s = 1;
        int64 price = markOf[m] + int64(bound(offset, -BAND, BAND));
        if (price < 0) price = 0;
        if (price > 1_000_000) price = 1_000_000;
        _refreshMarks();
        IPositionManager.Fill[] memory fills = new IPositionManager.Fill[](1);
        fills[0] = IPositionManager.Fill(m, IPositionManager.FillKind.Normal, maker, taker, s, price);
        uint64 seq = pm.lastSeq() + 1;
        bytes memory sig = signer.signBatch(seq, pm.lastBatchHash(), fills);
        bool paused = pm.paused();
        vm.prank(submitter);
        try pm.executeTrade(seq, fills, sig) {
            _check(!paused, "batch accepted while paused");
            ++ghostBatches;
            ++successes["trade"];
            vm.prank(submitter);
            try pm.executeTrade(seq, fills, sig) {
                _check(false, "replayed batch accepted");
            } catch {}
        } catch {
            // margin, cash or the pause: a refusal the rules allow
        }
    }

    function moveMark(uint256 marketSeed, int256 delta) external {
        uint32 m = _market(marketSeed);
        int256 mark = int256(markOf[m]) + bound(delta, -30_000, 30_000);
        markOf[m] = int64(bound(mark, 20_000, 980_000));
        _refreshMarks();
    }

    function applyFunding(uint256 marketSeed, int256 delta, uint256 seconds_) external {
        uint32 m = _market(marketSeed);
        vm.warp(block.timestamp + bound(seconds_, 1, 600));
        uint64 last = pm.marketStateOf(m).lastFundingAt;
        int256 maxIdx = int256(pm.maxFundingDeltaPerSecond()) * int256(block.timestamp - (last == 0 ? pm.deployedAt() : last));
        int128 d = int128(bound(delta, -2 * maxIdx, 2 * maxIdx));
        bool expected = !pm.paused() && d <= maxIdx && -d <= maxIdx;
        vm.prank(fundingPusher);
        try pm.applyFundingIndex(m, d) {
            _check(expected, "funding delta accepted beyond the bound or while paused");
            ghostFundingIndex[m] += d;
            ++successes["applyFunding"];
        } catch {
            _check(!expected, "funding delta within the bound refused");
        }
        _refreshMarks();
    }

    /// @dev Pausing never blocks a withdrawal request the balance allows.
    function requestWithdrawal(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        uint256 available = vault.availableOf(actor);
        amount = bound(amount, 0, available / 4);
        if (amount == 0) return;
        vm.prank(actor);
        try vault.requestWithdrawal(amount) {
            ++successes["requestWithdrawal"];
        } catch {
            _check(false, "withdrawal request refused");
        }
    }

    /// @dev Paused a quarter of the time.
    function setPaused(uint256 seed) external {
        bool paused = seed % 4 == 0;
        if (paused == pm.paused()) return;
        vm.prank(paused ? pauser : admin);
        if (paused) pm.pause();
        else pm.unpause();
    }

    // ------------------------------------------------------------------------------------------------

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function _refreshMarks() internal {
        vm.warp(block.timestamp + 1);
        for (uint32 m = 1; m <= MARKETS; ++m) {
            risk.pushSnapshot(m, markOf[m], markOf[m], uint64(block.timestamp), risk.latestSnapshot(m).phase);
        }
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _market(uint256 seed) internal pure returns (uint32) {
        return SafeCast.toUint32(seed % MARKETS) + 1;
    }
}
