// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IMarginOracle} from "./IMarginOracle.sol";

/// @title ICollateralVault
/// @notice USDC custody for perpcore. Each account's quote quantums (1e-6 USDC, the token's own unit) sit in one
/// of three places: its available balance, a pending withdrawal, or its claimable balance. A deposit credits the
/// available balance; a withdrawal request moves an amount into a pending withdrawal, which after the delay
/// anyone may execute into the claimable balance, and `claim` transfers it out. During the delay the withdrawal
/// guard may reject the withdrawal, returning the amount to the available balance, and only when the margin
/// oracle confirms that the withdrawal would leave the account below its initial requirement. Pausing stops
/// deposits only: requests, executions and claims are never paused. The events below rebuild every balance:
/// available = deposits - requests + rejections, pending = requests - executions - rejections, claimable =
/// executions - claims. The PositionManager (POSITION_MANAGER role) moves available balances for trading PnL,
/// fees, funding and insurance (`creditAvailable`, `debitAvailable`), and in exit mode pays an account's available
/// balance out at once (`exitPayout`); with those, available = deposits - requests + rejections + credits - debits
/// - exit debits. `totalOwed` is the sum of every account's available, pending and claimable balances.
interface ICollateralVault {
    /// @notice Where a withdrawal stands. `None` is an id never issued.
    enum WithdrawalStatus {
        None,
        Pending,
        Executed,
        Rejected
    }

    /// @notice A withdrawal request: whose, how much, from when it may execute, and where it stands.
    struct Withdrawal {
        address account;
        uint64 unlockAt;
        WithdrawalStatus status;
        uint256 amount;
    }

    /// @notice `payer` paid `amount` into the vault, credited to `account`'s available balance.
    event Deposited(uint256 indexed depositId, address indexed account, address indexed payer, uint256 amount);
    /// @notice `amount` left `account`'s available balance for a pending withdrawal executable from `unlockAt`.
    event WithdrawalRequested(uint256 indexed withdrawalId, address indexed account, uint256 amount, uint64 unlockAt);
    /// @notice A pending withdrawal was executed: `amount` moved into `account`'s claimable balance.
    event WithdrawalExecuted(uint256 indexed withdrawalId, address indexed account, uint256 amount);
    /// @notice `guard` rejected a pending withdrawal: `amount` went back to `account`'s available balance.
    event WithdrawalRejected(
        uint256 indexed withdrawalId, address indexed account, uint256 amount, address indexed guard
    );
    /// @notice `account`'s whole claimable balance, `amount`, was transferred to it.
    event Claimed(address indexed account, uint256 amount);
    /// @notice The PositionManager credited `amount` to `account`'s available balance; `reason` names the source.
    event AvailableCredited(address indexed account, uint256 amount, bytes32 indexed reason);
    /// @notice The PositionManager debited `amount` from `account`'s available balance; `reason` names the use.
    event AvailableDebited(address indexed account, uint256 amount, bytes32 indexed reason);
    /// @notice Exit mode: `account`'s available balance `amount` was debited and `paid` tokens (less than `amount`
    /// only when the vault held less than it owed) were transferred to it.
    event ExitPaid(address indexed account, uint256 amount, uint256 paid);
    /// @notice The margin oracle consulted before a rejection changed from `previous` to `current`.
    event MarginOracleSet(IMarginOracle indexed previous, IMarginOracle indexed current);

    /// @notice An amount of zero.
    error ZeroAmount();
    /// @notice The zero address where an account, token, admin or oracle is needed.
    error ZeroAddress();
    /// @notice A withdrawal delay above `MAX_WITHDRAWAL_DELAY`.
    error WithdrawalDelayTooLong(uint64 delay, uint64 maxDelay);
    /// @notice A withdrawal request above the available balance.
    error InsufficientBalance(uint256 available, uint256 amount);
    /// @notice The withdrawal is not pending: never requested, already executed or rejected.
    error WithdrawalNotPending(uint256 withdrawalId);
    /// @notice The withdrawal's delay has not passed yet.
    error WithdrawalLocked(uint256 withdrawalId, uint64 unlockAt);
    /// @notice The withdrawal's delay has passed: it can no longer be rejected.
    error RejectionWindowClosed(uint256 withdrawalId, uint64 unlockAt);
    /// @notice No margin oracle is set, so nothing can justify a rejection.
    error MarginOracleUnset();
    /// @notice The margin oracle says the withdrawal leaves the account at or above its initial requirement.
    error RejectionNotJustified(uint256 withdrawalId);
    /// @notice No claimable balance.
    error NothingToClaim();

    /// @notice Deposits `amount` quote quantums from the caller (who must have approved the vault) into the
    /// caller's available balance. Reverts while paused.
    /// @param amount The amount, in quote quantums; not zero.
    /// @return depositId The deposit's id: 1 for the first deposit, then +1 per deposit.
    function deposit(uint256 amount) external returns (uint256 depositId);

    /// @notice Deposits `amount` quote quantums from the caller into `account`'s available balance. Reverts
    /// while paused.
    /// @param account The account credited; not the zero address.
    /// @param amount The amount, in quote quantums; not zero.
    /// @return depositId The deposit's id, from the same sequence as `deposit`.
    function depositFor(address account, uint256 amount) external returns (uint256 depositId);

    /// @notice Moves `amount` from the caller's available balance into a new pending withdrawal, executable
    /// from `block.timestamp + withdrawalDelay()`. Works while paused.
    /// @param amount The amount, in quote quantums; not zero, at most the available balance.
    /// @return withdrawalId The withdrawal's id: 1 for the first request, then +1 per request.
    function requestWithdrawal(uint256 amount) external returns (uint256 withdrawalId);

    /// @notice Executes a pending withdrawal whose delay has passed, crediting its amount to the account's
    /// claimable balance; callable by anyone, also while paused. No token moves here, so the account's own
    /// transfer troubles (a blocked address) cannot make it revert.
    /// @param withdrawalId The withdrawal to execute.
    function executeWithdrawal(uint256 withdrawalId) external;

    /// @notice Rejects a pending withdrawal before its delay has passed, returning the amount to the account's
    /// available balance. Only the withdrawal guard, and only when the margin oracle confirms that the
    /// withdrawal would leave the account below its initial requirement.
    /// @param withdrawalId The withdrawal to reject.
    function rejectWithdrawal(uint256 withdrawalId) external;

    /// @notice Transfers the caller's whole claimable balance to the caller. Works while paused. Only the
    /// caller's own transfer can fail here (a blacklisted address), never anyone else's; the funds then stay
    /// claimable: the vault never routes them around the token's own blacklist.
    /// @return amount The amount transferred, in quote quantums.
    function claim() external returns (uint256 amount);

    /// @notice Credits `amount` to `account`'s available balance. Only the PositionManager.
    /// @param account The account credited.
    /// @param amount The amount, in quote quantums; not zero.
    /// @param reason What the credit is for (PnL, funding, fee rebate, insurance draw, ...), for indexers.
    function creditAvailable(address account, uint256 amount, bytes32 reason) external;

    /// @notice Debits `amount` from `account`'s available balance; reverts `InsufficientBalance` above it.
    /// Only the PositionManager.
    /// @param account The account debited.
    /// @param amount The amount, in quote quantums; not zero.
    /// @param reason What the debit is for (PnL, funding, fee, insurance, ...), for indexers.
    function debitAvailable(address account, uint256 amount, bytes32 reason) external;

    /// @notice Exit mode: debits `amount` from `account`'s available balance and transfers it to the account at
    /// once, without delay or guard, scaled down pro rata (rounded down) if the vault holds fewer tokens than
    /// `totalOwed`. Only the PositionManager, which alone knows that exit mode is on.
    /// @param account The account paid.
    /// @param amount The amount debited, in quote quantums; not zero, at most the available balance.
    /// @return paid The tokens transferred: amount * min(1, balance / totalOwed), rounded down.
    function exitPayout(address account, uint256 amount) external returns (uint256 paid);

    /// @notice Sets the margin oracle consulted before a rejection. Only the admin.
    /// @param oracle The new oracle; not the zero address.
    function setMarginOracle(IMarginOracle oracle) external;

    /// @notice Stops deposits. Only a pauser. Never stops withdrawals or claims.
    function pause() external;

    /// @notice Resumes deposits. Only the admin (a pauser can stop, never resume).
    function unpause() external;

    /// @notice The token held: USDC, 6 decimals.
    function token() external view returns (IERC20);

    /// @notice The seconds between a withdrawal request and its earliest execution.
    function withdrawalDelay() external view returns (uint64);

    /// @notice The margin oracle consulted before a rejection; the zero address until the admin sets one, and
    /// while it is unset no withdrawal can be rejected.
    function marginOracle() external view returns (IMarginOracle);

    /// @notice `account`'s available balance, in quote quantums.
    function availableOf(address account) external view returns (uint256);

    /// @notice `account`'s claimable balance, in quote quantums.
    function claimableOf(address account) external view returns (uint256);

    /// @notice The sum of every account's available, pending and claimable balances, in quote quantums.
    function totalOwed() external view returns (uint256);

    /// @notice A withdrawal by id (all zero for an id never issued).
    function withdrawal(uint256 withdrawalId) external view returns (Withdrawal memory);

    /// @notice The id of the latest deposit; 0 before the first.
    function lastDepositId() external view returns (uint256);

    /// @notice The id of the latest withdrawal request; 0 before the first.
    function lastWithdrawalId() external view returns (uint256);
}
