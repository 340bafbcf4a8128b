// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ICollateralVault} from "./interfaces/ICollateralVault.sol";
import {IMarginOracle} from "./interfaces/IMarginOracle.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title CollateralVault
/// @notice Holds perpcore's USDC. Tokens enter only through `deposit`/`depositFor` and leave only through
/// `claim`, after a withdrawal request has waited out the delay and been executed; the operator's only
/// power over a withdrawal is a rejection that the on-chain margin check must confirm. The PositionManager
/// (POSITION_MANAGER role) moves available balances for trading and pays accounts out in exit mode; the token
/// leaves through `claim` and `exitPayout` only. See ICollateralVault.
/// @dev Every function updates its balances before it moves tokens (checks-effects-interactions), and the
/// token is fixed at construction: a plain ERC-20 without transfer fees or hooks (USDC).
contract CollateralVault is ICollateralVault, AccessControl, Pausable {
    using SafeERC20 for IERC20;

    /// @notice May reject a pending withdrawal that the margin oracle confirms is unsafe.
    bytes32 public constant WITHDRAWAL_GUARD_ROLE = keccak256("WITHDRAWAL_GUARD_ROLE");
    /// @notice May pause deposits (never resume them).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Moves available balances for trading and pays accounts out in exit mode.
    bytes32 public constant POSITION_MANAGER_ROLE = Roles.POSITION_MANAGER;
    /// @notice The longest withdrawal delay a deployment may choose.
    uint64 public constant MAX_WITHDRAWAL_DELAY = 7 days;

    /// @inheritdoc ICollateralVault
    IERC20 public immutable token;
    /// @inheritdoc ICollateralVault
    uint64 public immutable withdrawalDelay;

    /// @inheritdoc ICollateralVault
    IMarginOracle public marginOracle;
    /// @inheritdoc ICollateralVault
    uint256 public lastDepositId;
    /// @inheritdoc ICollateralVault
    uint256 public lastWithdrawalId;
    /// @inheritdoc ICollateralVault
    mapping(address account => uint256) public availableOf;
    /// @inheritdoc ICollateralVault
    mapping(address account => uint256) public claimableOf;
    /// @inheritdoc ICollateralVault
    uint256 public totalOwed;

    mapping(uint256 withdrawalId => Withdrawal) internal _withdrawals;

    /// @param token_ The token held (USDC, 6 decimals).
    /// @param withdrawalDelay_ Seconds from a withdrawal request to its earliest execution, at most
    /// `MAX_WITHDRAWAL_DELAY`.
    /// @param admin Receives the default admin role, which grants and revokes every role.
    constructor(IERC20 token_, uint64 withdrawalDelay_, address admin) {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (withdrawalDelay_ > MAX_WITHDRAWAL_DELAY) {
            revert WithdrawalDelayTooLong(withdrawalDelay_, MAX_WITHDRAWAL_DELAY);
        }
        token = token_;
        withdrawalDelay = withdrawalDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICollateralVault
    function deposit(uint256 amount) external returns (uint256 depositId) {
        return _deposit(msg.sender, amount);
    }

    /// @inheritdoc ICollateralVault
    function depositFor(address account, uint256 amount) external returns (uint256 depositId) {
        if (account == address(0)) revert ZeroAddress();
        return _deposit(account, amount);
    }

    /// @inheritdoc ICollateralVault
    function requestWithdrawal(uint256 amount) external returns (uint256 withdrawalId) {
        if (amount == 0) revert ZeroAmount();
        uint256 available = availableOf[msg.sender];
        if (amount > available) revert InsufficientBalance(available, amount);
        availableOf[msg.sender] = available - amount;
        withdrawalId = ++lastWithdrawalId;
        uint64 unlockAt = uint64(block.timestamp) + withdrawalDelay;
        _withdrawals[withdrawalId] = Withdrawal(msg.sender, unlockAt, WithdrawalStatus.Pending, amount);
        emit WithdrawalRequested(withdrawalId, msg.sender, amount, unlockAt);
    }

    /// @inheritdoc ICollateralVault
    function executeWithdrawal(uint256 withdrawalId) external {
        Withdrawal storage w = _pending(withdrawalId);
        if (block.timestamp < w.unlockAt) revert WithdrawalLocked(withdrawalId, w.unlockAt);
        w.status = WithdrawalStatus.Executed;
        claimableOf[w.account] += w.amount;
        emit WithdrawalExecuted(withdrawalId, w.account, w.amount);
    }

    /// @inheritdoc ICollateralVault
    function rejectWithdrawal(uint256 withdrawalId) external onlyRole(WITHDRAWAL_GUARD_ROLE) {
        Withdrawal storage w = _pending(withdrawalId);
        if (block.timestamp >= w.unlockAt) revert RejectionWindowClosed(withdrawalId, w.unlockAt);
        IMarginOracle oracle = marginOracle;
        if (address(oracle) == address(0)) revert MarginOracleUnset();
        if (!oracle.isBelowInitialAfter(w.account, w.amount)) revert RejectionNotJustified(withdrawalId);
        w.status = WithdrawalStatus.Rejected;
        availableOf[w.account] += w.amount;
        emit WithdrawalRejected(withdrawalId, w.account, w.amount, msg.sender);
    }

    /// @inheritdoc ICollateralVault
    function claim() external returns (uint256 amount) {
        amount = claimableOf[msg.sender];
        if (amount == 0) revert NothingToClaim();
        claimableOf[msg.sender] = 0;
        totalOwed -= amount;
        emit Claimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICollateralVault
    function creditAvailable(address account, uint256 amount, bytes32 reason)
        external
        onlyRole(POSITION_MANAGER_ROLE)
    {
        if (amount == 0) revert ZeroAmount();
        availableOf[account] += amount;
        totalOwed += amount;
        emit AvailableCredited(account, amount, reason);
    }

    /// @inheritdoc ICollateralVault
    function debitAvailable(address account, uint256 amount, bytes32 reason) external onlyRole(POSITION_MANAGER_ROLE) {
        _debit(account, amount);
        emit AvailableDebited(account, amount, reason);
    }

    /// @inheritdoc ICollateralVault
    function exitPayout(address account, uint256 amount) external onlyRole(POSITION_MANAGER_ROLE) returns (uint256 paid) {
        uint256 held = token.balanceOf(address(this));
        uint256 owed = totalOwed;
        _debit(account, amount);
        // pro rata when short, rounded down (against the account): the ratio held / owed never rises for the rest
        paid = held >= owed ? amount : Math.mulDiv(amount, held, owed);
        emit ExitPaid(account, amount, paid);
        if (paid != 0) token.safeTransfer(account, paid);
    }

    /// @inheritdoc ICollateralVault
    function setMarginOracle(IMarginOracle oracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(oracle) == address(0)) revert ZeroAddress();
        emit MarginOracleSet(marginOracle, oracle);
        marginOracle = oracle;
    }

    /// @inheritdoc ICollateralVault
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ICollateralVault
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @inheritdoc ICollateralVault
    function withdrawal(uint256 withdrawalId) external view returns (Withdrawal memory) {
        return _withdrawals[withdrawalId];
    }

    function _deposit(address account, uint256 amount) internal whenNotPaused returns (uint256 depositId) {
        if (amount == 0) revert ZeroAmount();
        availableOf[account] += amount;
        totalOwed += amount;
        depositId = ++lastDepositId;
        emit Deposited(depositId, account, msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function _debit(address account, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        uint256 available = availableOf[account];
        if (amount > available) revert InsufficientBalance(available, amount);
        availableOf[account] = available - amount;
        totalOwed -= amount;
    }

    function _pending(uint256 withdrawalId) internal view returns (Withdrawal storage w) {
        w = _withdrawals[withdrawalId];
        if (w.status != WithdrawalStatus.Pending) revert WithdrawalNotPending(withdrawalId);
    }
}
