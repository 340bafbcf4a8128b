"""perpcore.chain against real EVMs: every vault scenario runs on an anvil node (the repository's
``contracts/node_modules/.bin/anvil``, installed by ``make test`` before pytest; skipped with the reason
when missing) and on the in-process py-evm chain, each on a fresh chain with a fresh deployment. Reverts
must arrive as the contracts' custom errors with their arguments, events with their fields."""

import os

import pytest
from eth_account import Account

from perpcore.chain import (
    CHAIN_ID,
    ChainStartError,
    ContractRevert,
    DeployParams,
    LocalChain,
    decode_revert,
    deploy_system,
    role_id,
)
from perpcore.chain.contracts import (
    AccessControlUnauthorizedAccount,
    CollateralVault,
    EnforcedPause,
    ERC20InsufficientAllowance,
    InsufficientBalance,
    NothingToClaim,
    Withdrawal,
    WithdrawalDelayTooLong,
    WithdrawalLocked,
    WithdrawalStatus,
    ZeroAmount,
)
from perpcore.errors import ChainError, InvalidInput, PerpcoreError

DELAY_S = 3600


@pytest.fixture
def chain(make_chain):
    """A running local chain (chain id 999, Cancun), stopped after the test."""
    with make_chain() as running:
        yield running


@pytest.fixture
def deployed(chain):
    """(chain, system, admin, guard, alice, bob): the system deployed by admin, guard holding PAUSER and
    WITHDRAWAL_GUARD, alice holding 1,000 dev USDC approved to the vault."""
    admin, guard, alice, bob = chain.accounts[:4]
    system = deploy_system(chain.w3, admin, params=DeployParams(withdrawal_delay_s=DELAY_S),
                           roles={"PAUSER": [guard], "WITHDRAWAL_GUARD": [guard]})
    system.usdc.using(alice).mint(alice, 1_000_000_000)
    system.usdc.using(alice).approve(system.vault, 1_000_000_000)
    return chain, system, admin, guard, alice, bob


# --- the chains ----------------------------------------------------------------------------------------


def test_a_chain_runs_chain_id_999_with_ten_funded_accounts(chain):
    assert chain.w3.eth.chain_id == CHAIN_ID == 999
    assert len(chain.accounts) == 10
    assert all(chain.w3.eth.get_balance(a) >= 10**21 for a in chain.accounts)
    key = Account.create()
    chain.w3.eth.send_transaction({"from": chain.accounts[0], "to": key.address, "value": 10**18})
    signed = key.sign_transaction({"to": chain.accounts[1], "value": 1, "gas": 21_000, "nonce": 0,
                                   "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 1, "chainId": 999})
    receipt = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1
    assert "parentBeaconBlockRoot" in chain.w3.eth.get_block("latest")  # Cancun headers carry it


# returns 42 after a round trip through transient storage (TSTORE/TLOAD) and memory (MSTORE, MCOPY), PUSH0
CANCUN_RUNTIME = bytes.fromhex("602a60005d60005c5f5260205f60205e60206020f3")
CANCUN_INIT = bytes.fromhex("6015600a5f3960155ff3") + CANCUN_RUNTIME


def test_the_chain_runs_cancun_opcodes(chain):
    w3 = chain.w3
    tx = w3.eth.send_transaction({"from": chain.accounts[0], "data": CANCUN_INIT})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    assert w3.eth.get_code(address) == CANCUN_RUNTIME
    assert int.from_bytes(w3.eth.call({"to": address}), "big") == 42


def test_increase_time_moves_the_next_block_forward(chain):
    before = chain.timestamp()
    chain.increase_time(DELAY_S)
    assert chain.timestamp() >= before + DELAY_S


def test_anvil_stops_when_the_block_ends(anvil_path):
    with LocalChain(anvil_path) as node:
        assert node.running and node.w3.is_connected()
        assert node.start_s > 0
        pid = node.pid
    assert not node.running and node.pid is None
    assert not node.w3.is_connected()
    with pytest.raises(ProcessLookupError):  # stopped and reaped: no orphan, no zombie
        os.kill(pid, 0)


def test_anvil_stops_when_the_block_raises(anvil_path):
    with pytest.raises(KeyError):
        with LocalChain(anvil_path) as node:
            pid = node.pid
            raise KeyError("boom")
    assert not node.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_an_anvil_that_exits_at_once_is_a_chain_start_error_with_its_output(anvil_path):
    node = LocalChain(anvil_path, extra_args=("--no-such-flag",))
    with pytest.raises(ChainStartError, match="no-such-flag"):
        node.__enter__()
    assert not node.running


def test_a_missing_anvil_is_a_chain_start_error(tmp_path):
    with pytest.raises(ChainStartError) as raised:
        LocalChain(tmp_path / "anvil")
    assert isinstance(raised.value, ChainError) and isinstance(raised.value, RuntimeError)


# --- deployment ----------------------------------------------------------------------------------------


def test_deploy_system_wires_the_vault_to_the_token_and_grants_the_roles(deployed):
    chain, system, admin, guard, alice, bob = deployed
    vault = system.vault
    assert vault.token() == system.usdc.address
    assert vault.withdrawal_delay() == DELAY_S
    assert vault.has_role(role_id("DEFAULT_ADMIN"), admin)
    assert vault.pauser_role() == role_id("PAUSER") and vault.has_role(role_id("PAUSER"), guard)
    assert vault.withdrawal_guard_role() == role_id("WITHDRAWAL_GUARD")
    assert vault.has_role(role_id("WITHDRAWAL_GUARD"), guard)
    assert not vault.has_role(role_id("PAUSER"), bob)
    assert system.usdc.decimals() == 6
    assert system.usdc.balance_of(alice) == 1_000_000_000


def test_deploy_system_refuses_a_role_no_contract_checks(chain):
    with pytest.raises(InvalidInput, match="SUBMITTERR"):
        deploy_system(chain.w3, chain.accounts[0], roles={"SUBMITTERR": [chain.accounts[1]]})


def test_a_constructor_revert_is_raised_with_its_arguments(deployed):
    chain, system, admin, *_ = deployed
    with pytest.raises(WithdrawalDelayTooLong) as raised:
        CollateralVault.deploy(chain.w3, admin, system.usdc, 8 * 86_400, admin)
    assert (raised.value.delay, raised.value.max_delay) == (8 * 86_400, 7 * 86_400)


# --- the vault's whole withdrawal path -----------------------------------------------------------------


def test_deposit_request_execute_after_the_delay_and_claim(deployed):
    chain, system, admin, guard, alice, bob = deployed
    vault, usdc = system.vault.using(alice), system.usdc

    deposit = vault.deposit(600_000_000)
    assert deposit.event("Deposited").args == {"deposit_id": 1, "account": alice, "payer": alice,
                                               "amount": 600_000_000}
    transfer = deposit.event("Transfer")
    assert (transfer.address, transfer.args) == (usdc.address, {"from": alice, "to": vault.address,
                                                                "value": 600_000_000})
    assert vault.available_of(alice) == 600_000_000 and vault.last_deposit_id() == 1

    request = vault.request_withdrawal(250_000_000)
    requested = request.event("WithdrawalRequested")
    unlock_at = chain.w3.eth.get_block(request.block_number)["timestamp"] + DELAY_S
    assert requested.args == {"withdrawal_id": 1, "account": alice, "amount": 250_000_000, "unlock_at": unlock_at}
    assert vault.withdrawal(1) == Withdrawal(alice, unlock_at, WithdrawalStatus.PENDING, 250_000_000)
    assert vault.available_of(alice) == 350_000_000

    with pytest.raises(WithdrawalLocked) as locked:
        vault.using(bob).execute_withdrawal(1)
    assert locked.value.error_name == "WithdrawalLocked"
    assert locked.value.args == (1, unlock_at) and locked.value.unlock_at == unlock_at

    chain.increase_time(DELAY_S)
    executed = vault.using(bob).execute_withdrawal(1)  # anyone may execute
    assert executed.event("WithdrawalExecuted").args == {"withdrawal_id": 1, "account": alice,
                                                         "amount": 250_000_000}
    assert vault.withdrawal(1).status is WithdrawalStatus.EXECUTED
    assert vault.claimable_of(alice) == 250_000_000

    claimed = vault.claim()
    assert claimed.event("Claimed").args == {"account": alice, "amount": 250_000_000}
    assert usdc.balance_of(alice) == 650_000_000 and vault.claimable_of(alice) == 0
    with pytest.raises(NothingToClaim):
        vault.claim()
    assert [e.args["deposit_id"] for e in vault.events("Deposited")] == [1]


def test_a_withdrawal_above_the_available_balance_is_insufficient_balance(deployed):
    chain, system, admin, guard, alice, bob = deployed
    vault = system.vault.using(alice)
    vault.deposit(600)
    with pytest.raises(InsufficientBalance) as raised:
        vault.request_withdrawal(700)
    error = raised.value
    assert isinstance(error, ContractRevert) and isinstance(error, PerpcoreError)
    assert (error.error_name, error.args, error.fields) == ("InsufficientBalance", (600, 700),
                                                            {"available": 600, "amount": 700})
    assert str(error) == "reverted with InsufficientBalance(available=600, amount=700)"
    assert vault.available_of(alice) == 600 and vault.last_withdrawal_id() == 0
    with pytest.raises(ZeroAmount):
        vault.request_withdrawal(0)


def test_roles_pausing_and_errors_bubbling_up_from_the_token(deployed):
    chain, system, admin, guard, alice, bob = deployed
    vault = system.vault
    with pytest.raises(AccessControlUnauthorizedAccount) as raised:
        vault.using(bob).pause()
    assert (raised.value.account, raised.value.needed_role) == (bob, role_id("PAUSER"))

    with pytest.raises(ERC20InsufficientAllowance) as allowance:  # the token reverts inside deposit
        vault.using(bob).deposit(5)
    assert allowance.value.args == (vault.address, 0, 5)

    paused = vault.using(guard).pause()
    assert paused.event("Paused").args == {"account": guard} and vault.paused()
    with pytest.raises(EnforcedPause):
        vault.using(alice).deposit(1)
    with pytest.raises(AccessControlUnauthorizedAccount):
        vault.using(guard).unpause()  # a pauser stops, only the admin resumes
    vault.unpause()
    assert vault.using(alice).deposit(1).event("Deposited").args["deposit_id"] == 1


# --- revert decoding without a chain -------------------------------------------------------------------


def test_revert_data_of_no_known_error_keeps_its_bytes():
    error = decode_revert(bytes.fromhex("deadbeef01"))
    assert type(error) is ContractRevert and error.error_name is None
    assert error.data == bytes.fromhex("deadbeef01") and "0xdeadbeef01" in str(error)


def test_a_require_message_and_a_panic_decode_by_name():
    message = decode_revert(bytes.fromhex("08c379a0") + (32).to_bytes(32, "big") + (2).to_bytes(32, "big")
                            + b"no".ljust(32, b"\0"))
    assert (message.error_name, message.fields) == ("Error", {"message": "no"})
    panic = decode_revert(bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big"))
    assert (panic.error_name, panic.args) == ("Panic", (0x11,))


def test_truncated_custom_error_data_is_an_unknown_revert():
    error = decode_revert(bytes.fromhex("cf479181") + bytes(20))  # InsufficientBalance's selector, short body
    assert type(error) is ContractRevert and error.error_name is None
