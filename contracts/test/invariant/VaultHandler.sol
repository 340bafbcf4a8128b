// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CollateralVault} from "../../src/CollateralVault.sol";
import {ICollateralVault} from "../../src/interfaces/ICollateralVault.sol";
import {MockMarginOracle} from "../mocks/MockMarginOracle.sol";
import {MockUSDC} from "../mocks/MockUSDC.sol";
import {SurpriseLog} from "./SurpriseLog.sol";

/// @notice Drives the vault with random deposits, requests, executions, rejections, claims, pauses, blacklistings
/// and time, and keeps a ghost model of every balance. Each action is attempted whatever the state; the handler
/// predicts from its model whether the vault must accept or refuse it and counts every surprise in
/// `unexpectedOutcomes` (a withdrawal executed early or twice, a rejection without the margin check, an exit
/// refused while paused, ...). It never reverts itself, so the invariant run can fail on any revert.
contract VaultHandler is SurpriseLog {
    struct GhostWithdrawal {
        address account;
        uint256 amount;
        uint64 unlockAt;
        ICollateralVault.WithdrawalStatus status;
    }

    uint256 internal constant MAX_AMOUNT = 1e12; // a million USDC per action

    CollateralVault public immutable vault;
    MockUSDC public immutable usdc;
    MockMarginOracle public immutable oracle;
    address public immutable admin;
    address public immutable guard;
    address public immutable pauser;

    address[] public actors;
    mapping(address => int256) public ghostAvailable;
    mapping(address => int256) public ghostClaimable;
    GhostWithdrawal[] internal _ghostWithdrawals; // index = withdrawal id - 1
    uint256 public ghostDeposited;
    uint256 public ghostPaidOut;
    uint256 public ghostPending;
    GhostWithdrawal internal _neverIssued; // what _ghost returns for an id the vault never issued

    constructor(
        CollateralVault vault_,
        MockUSDC usdc_,
        MockMarginOracle oracle_,
        address admin_,
        address guard_,
        address pauser_
    ) {
        vault = vault_;
        usdc = usdc_;
        oracle = oracle_;
        admin = admin_;
        guard = guard_;
        pauser = pauser_;
        for (uint256 i; i < 4; ++i) {
            address actor = vm.addr(0xA11CE + i);
            actors.push(actor);
            usdc.mint(actor, 1e18);
            vm.prank(actor);
            usdc.approve(address(vault), type(uint256).max);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // actions

    function deposit(uint256 actorSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        amount = bound(amount, 0, MAX_AMOUNT);
        bool expected = amount > 0 && !vault.paused() && !usdc.isBlacklisted(actor);
        vm.prank(actor);
        try vault.deposit(amount) {
            _credit(actor, amount, expected, "deposit");
        } catch {
            _expectRefusal(expected, "deposit refused");
        }
    }

    function depositFor(uint256 payerSeed, uint256 accountSeed, uint256 amount) external {
        address payer = _actor(payerSeed);
        address account = _actor(accountSeed);
        amount = bound(amount, 0, MAX_AMOUNT);
        bool expected = amount > 0 && !vault.paused() && !usdc.isBlacklisted(payer);
        vm.prank(payer);
        try vault.depositFor(account, amount) {
            _credit(account, amount, expected, "depositFor");
        } catch {
            _expectRefusal(expected, "depositFor refused");
        }
    }

    function requestWithdrawal(uint256 actorSeed, uint256 amount) external {
        address actor = _actorHolding(actorSeed, ghostAvailable);
        uint256 available = SafeCast.toUint256(ghostAvailable[actor]);
        amount = bound(amount, 0, available + available / 8 + 1); // mostly valid, sometimes too much
        bool expected = amount > 0 && amount <= available; // paused or not
        vm.prank(actor);
        try vault.requestWithdrawal(amount) returns (uint256 id) {
            _check(expected && id == _ghostWithdrawals.length + 1, "request accepted");
            ghostAvailable[actor] -= SafeCast.toInt256(amount);
            ghostPending += amount;
            uint64 unlockAt = uint64(block.timestamp) + vault.withdrawalDelay();
            _ghostWithdrawals.push(GhostWithdrawal(actor, amount, unlockAt, ICollateralVault.WithdrawalStatus.Pending));
            ++successes["requestWithdrawal"];
        } catch {
            _expectRefusal(expected, "request refused");
        }
    }

    function executeWithdrawal(uint256 idSeed, uint256 callerSeed) external {
        uint256 id = _id(idSeed);
        GhostWithdrawal storage w = _ghost(id);
        bool expected = w.status == ICollateralVault.WithdrawalStatus.Pending && block.timestamp >= w.unlockAt;
        vm.prank(vm.addr(bound(callerSeed, 1, 2 ** 128))); // anyone
        try vault.executeWithdrawal(id) {
            _check(expected, "execution accepted (early, twice, or after a rejection)");
            w.status = ICollateralVault.WithdrawalStatus.Executed;
            ghostPending -= w.amount;
            ghostClaimable[w.account] += SafeCast.toInt256(w.amount);
            ++successes["executeWithdrawal"];
        } catch {
            _expectRefusal(expected, "execution refused");
        }
    }

    function rejectWithdrawal(uint256 idSeed, bool below, bool asGuard) external {
        uint256 id = _id(idSeed);
        GhostWithdrawal storage w = _ghost(id);
        if (w.account != address(0)) oracle.setBelowInitialAfter(w.account, w.amount, below);
        bool expected =
            asGuard && below && w.status == ICollateralVault.WithdrawalStatus.Pending && block.timestamp < w.unlockAt;
        vm.prank(asGuard ? guard : pauser);
        try vault.rejectWithdrawal(id) {
            _check(expected, "rejection accepted (not the guard, not justified, late or not pending)");
            w.status = ICollateralVault.WithdrawalStatus.Rejected;
            ghostPending -= w.amount;
            ghostAvailable[w.account] += SafeCast.toInt256(w.amount);
            ++successes["rejectWithdrawal"];
        } catch {
            _expectRefusal(expected, "justified rejection refused");
        }
    }

    function claim(uint256 actorSeed) external {
        address actor = _actorHolding(actorSeed, ghostClaimable);
        uint256 amount = SafeCast.toUint256(ghostClaimable[actor]);
        bool expected = amount > 0 && !usdc.isBlacklisted(actor); // paused or not
        vm.prank(actor);
        try vault.claim() returns (uint256 paid) {
            _check(expected && paid == amount, "claim accepted");
            ghostClaimable[actor] = 0;
            ghostPaidOut += amount;
            ++successes["claim"];
        } catch {
            _expectRefusal(expected, "claim refused");
        }
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 2 * vault.withdrawalDelay()));
    }

    /// @dev Paused a quarter of the time.
    function setPaused(uint256 seed) external {
        bool paused = seed % 4 == 0;
        if (paused == vault.paused()) return;
        vm.prank(paused ? pauser : admin);
        if (paused) vault.pause();
        else vault.unpause();
    }

    /// @dev Each actor blacklisted a quarter of the time.
    function setBlacklisted(uint256 actorSeed, uint256 seed) external {
        usdc.setBlacklisted(_actor(actorSeed), seed % 4 == 0);
    }

    // ------------------------------------------------------------------------------------------------
    // views for the invariants

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function ghostWithdrawal(uint256 id) external view returns (GhostWithdrawal memory) {
        return _ghostWithdrawals[id - 1];
    }

    function withdrawalCount() external view returns (uint256) {
        return _ghostWithdrawals.length;
    }

    // ------------------------------------------------------------------------------------------------

    function _credit(address account, uint256 amount, bool expected, string memory action) internal {
        _check(expected, string.concat(action, " accepted"));
        ghostAvailable[account] += SafeCast.toInt256(amount);
        ghostDeposited += amount;
        ++successes[action];
    }

    function _expectRefusal(bool expected, string memory what) internal {
        _check(!expected, what);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    /// @dev The first actor from the seed's on with a positive balance in `ghost`, else the seed's actor.
    function _actorHolding(uint256 seed, mapping(address => int256) storage ghost) internal view returns (address) {
        for (uint256 i; i < actors.length; ++i) {
            address actor = actors[(seed % actors.length + i) % actors.length];
            if (ghost[actor] > 0) return actor;
        }
        return _actor(seed);
    }

    /// @dev Three times in four a pending withdrawal (if any), else any id up to one never issued.
    function _id(uint256 seed) internal view returns (uint256) {
        uint256 count = _ghostWithdrawals.length;
        if (seed % 4 != 0) {
            for (uint256 i; i < count; ++i) {
                uint256 id = (seed / 4 + i) % count + 1;
                if (_ghostWithdrawals[id - 1].status == ICollateralVault.WithdrawalStatus.Pending) return id;
            }
        }
        return bound(seed, 1, count + 1);
    }

    function _ghost(uint256 id) internal view returns (GhostWithdrawal storage) {
        return id > _ghostWithdrawals.length ? _neverIssued : _ghostWithdrawals[id - 1];
    }
}
