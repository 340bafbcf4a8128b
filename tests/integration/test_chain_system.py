"""The whole contract system deployed from Python (``deploy_system``) and run end to end through
``perpcore.chain.operations``, on an anvil node and on the in-process py-evm chain: deposits, a listed
market, a signed batch, funding settled on the next touch, withdrawals (executed, rejected by the guard
because the margin check confirms it, a rejection refused), resolution and settlement. Every number is
computed by hand in the comments; after every step the vault's tokens equal what it owes plus the
insurance fund plus the market's pools."""


import pytest

from perpcore import RiskTier
from perpcore.chain import (
    BatchSigner,
    DeployParams,
    deploy_system,
    fund,
    list_market,
    push_snapshot,
    role_id,
)
from perpcore.chain.contracts import (
    BadSequence,
    BadSignature,
    Fill,
    FillKind,
    FillRecord,
    Phase,
    PriceOutsideBand,
    RejectionNotJustified,
    WithdrawalStatus,
)

M = 1
DELAY_S = 600
TIER = RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, taker_fee_ppm=500, maker_fee_ppm=-100,
                insurance_share_ppm=200_000)
ENGINE = BatchSigner(bytes.fromhex("e17e" * 16))


@pytest.fixture(scope="module")
def chain(make_chain):
    """One running chain per kind for the module; each test deploys its own system on it."""
    with make_chain() as running:
        yield running


@pytest.fixture
def world(chain):
    """(chain, system, ops, alice, bob, carol, fees): ops holds every operating role and is the guard,
    fees receives the trading fees; market 1 listed at 0.5 with a 5 % price band."""
    admin, ops, alice, bob, carol, fees = chain.accounts[:6]
    system = deploy_system(
        chain.w3, admin,
        params=DeployParams(withdrawal_delay_s=DELAY_S, fee_recipient=fees),
        roles={"SUBMITTER": [ops], "ENGINE_SIGNER": [ENGINE.address], "PRICE_PUSHER": [ops], "RESOLVER": [ops],
               "FUNDING_PUSHER": [ops], "WITHDRAWAL_GUARD": [ops], "PAUSER": [ops]})
    list_market(system, M, TIER, price_band_ppm=50_000, mark_ppm=500_000, pusher=ops)
    return chain, system, ops, alice, bob, carol, fees


def assert_conserved(system, accounts):
    """vault USDC == Σ available + pending + claimable (totalOwed, checked against the accounts) +
    insurance + the market's clearing and funding pools."""
    vault = system.vault
    pending = sum(w.amount for i in range(1, vault.last_withdrawal_id() + 1)
                  if (w := vault.withdrawal(i)).status == WithdrawalStatus.PENDING)
    owed = sum(vault.available_of(a) + vault.claimable_of(a) for a in accounts) + pending
    assert vault.total_owed() == owed
    state = system.positions.market_state_of(M)
    assert system.usdc.balance_of(vault) == (owed + system.insurance.total_balance() + state.clearing_pool_qq
                                             + state.funding_pool_qq)


def test_deploy_system_wires_every_contract_and_grants_the_roles(world):
    chain, s, ops, *_ = world
    pm = s.positions
    assert chain.w3.eth.get_code(s.position_math.address)  # the linked library, deployed once
    assert s.position_math.address.lower()[2:] in chain.w3.eth.get_code(pm.address).hex()
    assert (pm.vault(), pm.market_registry(), pm.risk_registry(), pm.oracle_registry(), pm.insurance_fund()) == (
        s.vault.address, s.markets.address, s.risk.address, s.oracles.address, s.insurance.address)
    assert s.vault.margin_oracle() == pm.address and s.markets.oracle_registry() == s.oracles.address
    assert s.vault.has_role(role_id("POSITION_MANAGER"), pm) and s.insurance.has_role(role_id("POSITION_MANAGER"), pm)
    assert (s.risk.max_snapshot_age(), s.risk.max_move_ppm_per_second()) == (3600, 1_000_000)
    assert (s.insurance.max_draw_per_window(), s.insurance.draw_window()) == (10**15, 3600)
    assert (pm.inactivity_period(), pm.max_funding_delta_per_second()) == (3 * 86_400, 10**9)
    for contract, role in [(pm, "SUBMITTER"), (pm, "FUNDING_PUSHER"), (pm, "PAUSER"), (s.vault, "PAUSER"),
                           (s.vault, "WITHDRAWAL_GUARD"), (s.markets, "RESOLVER"), (s.oracles, "RESOLVER"),
                           (s.risk, "PRICE_PUSHER")]:
        assert contract.has_role(role_id(role), ops), (contract, role)
    assert pm.has_role(role_id("ENGINE_SIGNER"), ENGINE.address) and not pm.has_role(role_id("ENGINE_SIGNER"), ops)
    tier = s.risk.risk_tier_of(M)
    assert (tier.base_imf_ppm, tier.maker_fee_ppm, tier.taker_fee_ppm, tier.price_band_ppm) == (100_000, -100, 500,
                                                                                                50_000)
    assert s.markets.phase_of(M) == Phase.ACTIVE and s.risk.fresh_snapshot(M).mark_price_ppm == 500_000


def test_a_batch_must_be_signed_by_the_engine_in_sequence_and_inside_the_band(world):
    chain, s, ops, alice, bob, *_ = world
    fund(s, alice, 10**9)
    fund(s, bob, 10**9)
    pm = s.positions.using(ops)
    fills = [Fill(M, FillKind.NORMAL, alice, bob, 10, 500_000)]
    impostor = BatchSigner(bytes.fromhex("0bad" * 16))
    with pytest.raises(BadSignature) as raised:
        impostor.submit(pm, fills)
    assert raised.value.signer == impostor.address
    with pytest.raises(BadSequence) as raised:
        pm.execute_trade(2, fills, ENGINE.sign(pm, 2, bytes(32), fills))
    assert (raised.value.expected, raised.value.seq) == (1, 2)
    with pytest.raises(PriceOutsideBand):
        ENGINE.submit(pm, [Fill(M, FillKind.NORMAL, alice, bob, 10, 550_001)])
    assert ENGINE.submit(pm, fills).event("BatchExecuted").args["seq"] == 1
    assert pm.last_seq() == 1 and s.positions.position_of(M, bob).size == 10


def test_trade_funding_withdrawals_resolution_and_settlement_end_to_end(world):
    chain, s, ops, alice, bob, carol, fees = world
    accounts = [alice, bob, carol, fees]
    pm = s.positions.using(ops)
    fund(s, alice, 1_000_000_000)
    fund(s, bob, 1_000_000_000)
    fund(s, carol, 100_000_000)
    assert_conserved(s, accounts)

    # batch 1: bob buys 1000 from alice at 0.51, then sells 400 to carol at 0.505
    receipt = ENGINE.submit(pm, [Fill(M, FillKind.NORMAL, alice, bob, 1000, 510_000),
                                 Fill(M, FillKind.NORMAL, carol, bob, -400, 505_000)])
    first, second = [e.args for e in receipt.events if e.name == "Filled"]  # records: web3's field → value
    # notional 510e6: taker fee 255,000, maker rebate 51,000; bob long 1000 at 510e6, alice short
    assert (first["maker"], first["taker"]) == (alice, bob)
    assert FillRecord(*first["record"].values()) == FillRecord(FillKind.NORMAL, 1000, 510_000, 255_000, -51_000,
                                         1000, 510_000_000, 0, -1000, -510_000_000, 0)
    # bob closes 400 of 1000: open notional -ceil(510e6 * 400 / 1000) = -204e6 against 202e6 received
    assert FillRecord(*second["record"].values()) == FillRecord(FillKind.NORMAL, -400, 505_000, 101_000, -20_200,
                                          600, 306_000_000, -2_000_000, 400, 202_000_000, 0)
    # fees collected 204,000 + 80,800: 20 % (40,800 + 16,160) to insurance, credited once at the end
    credited = receipt.event("Credited").args
    assert (credited["market_id"], credited["amount"], credited["reason"]) == (M, 56_960, b"FEE_SHARE".ljust(32, b"\0"))
    assert s.insurance.balance_of(M) == 56_960 and s.vault.available_of(fees) == 227_840
    assert s.vault.available_of(bob) == 1_000_000_000 - 255_000 - 2_000_000 - 101_000
    assert s.vault.available_of(alice) == 1_000_051_000 and s.vault.available_of(carol) == 100_020_200
    state = s.positions.market_state_of(M)
    assert (state.open_interest, state.clearing_pool_qq) == (1000, 2_000_000)
    assert_conserved(s, accounts)

    # funding: longs pay 1.234567 qq per contract; it settles on each position's next touch
    chain.increase_time(10)
    assert pm.apply_funding_index(M, 1_234_567).event("FundingIndexApplied").args["index"] == 1_234_567
    assert s.positions.unsettled_funding_of(M, bob) == 741  # ceil(600 * 1.234567)
    assert s.positions.unsettled_funding_of(M, carol) == 494  # ceil(400 * 1.234567)
    assert s.positions.unsettled_funding_of(M, alice) == -1234  # receives floor(1234.567)
    push_snapshot(s, M, 500_000, pusher=ops)
    # batch 2: bob sells 100 to alice at 0.5; both settle funding first
    receipt = ENGINE.submit(pm, [Fill(M, FillKind.NORMAL, alice, bob, -100, 500_000)])
    settled = {e.args["account"]: e.args["amount_qq"] for e in receipt.events if e.name == "FundingSettled"}
    assert settled == {bob: 741, alice: -1234}
    record = FillRecord(*receipt.event("Filled").args["record"].values())
    assert (record.taker_realized_pnl_qq, record.maker_realized_pnl_qq) == (-1_000_000, 1_000_000)
    assert s.vault.available_of(bob) == 997_644_000 - 741 - 1_000_000 - 25_000
    assert s.vault.available_of(alice) == 1_000_051_000 + 1234 + 1_000_000 + 5_000
    state = s.positions.market_state_of(M)
    # dust 259,800 + 567,000 idx: not a whole quantum yet; the pool paid out 493 more than it took in
    assert (state.funding_pool_qq, state.funding_dust_idx) == (-493, 826_800)
    assert s.positions.unsettled_funding_of(M, carol) == 494
    assert_conserved(s, accounts)

    # withdrawals: carol's would leave her below initial margin (equity 10,020,200 - 2e6 - 494 < 20e6)
    vault = s.vault
    carol_id = vault.using(carol).request_withdrawal(90_000_000).event("WithdrawalRequested").args["withdrawal_id"]
    alice_id = vault.using(alice).request_withdrawal(1_000_000).event("WithdrawalRequested").args["withdrawal_id"]
    equity, initial, _ = s.positions.margin_of(carol)
    assert (equity, initial) == (10_020_200 - 2_000_000 - 494, 20_000_000)
    rejected = vault.using(ops).reject_withdrawal(carol_id).event("WithdrawalRejected").args
    assert rejected == {"withdrawal_id": carol_id, "account": carol, "amount": 90_000_000, "guard": ops}
    with pytest.raises(RejectionNotJustified) as raised:
        vault.using(ops).reject_withdrawal(alice_id)
    assert raised.value.withdrawal_id == alice_id
    assert vault.available_of(carol) == 100_020_200
    assert_conserved(s, accounts)
    chain.increase_time(DELAY_S + 1)
    vault.using(bob).execute_withdrawal(alice_id)  # anyone executes once the delay has passed
    assert vault.claimable_of(alice) == 1_000_000
    assert_conserved(s, accounts)
    assert vault.using(alice).claim().event("Claimed").args["amount"] == 1_000_000
    assert s.usdc.balance_of(alice) == 1_000_000
    assert_conserved(s, accounts)

    # resolution at YES (1.0), then every position settles at it
    s.markets.using(ops).start_resolving(M)
    s.oracles.using(ops).record_resolution(M, 1_000_000)
    s.markets.using(ops).mark_resolved(M)
    assert s.markets.phase_of(M) == Phase.RESOLVED
    closed = {}
    for account in (bob, alice, carol):
        receipt = s.positions.using(ops).settle_position(M, account)
        closed[account] = receipt.event("PositionClosed").args["realized_pnl_qq"]
    # bob +500 at 255e6, alice -900 at -459e6, carol +400 at 202e6 (who pays her 494 of funding first)
    assert closed == {bob: 245_000_000, alice: -441_000_000, carol: 198_000_000}
    assert s.vault.available_of(bob) == 996_618_259 + 245_000_000
    assert s.vault.available_of(alice) == 1_001_057_234 - 1_000_000 - 441_000_000
    assert s.vault.available_of(carol) == 100_020_200 - 494 + 198_000_000
    state = s.positions.market_state_of(M)
    # carol's dust completes a quantum: 1 qq swept to insurance, funding pool back to 0
    assert (state.open_interest, state.clearing_pool_qq, state.funding_pool_qq, state.funding_dust_idx) == (0, 0, 0, 0)
    assert s.insurance.balance_of(M) == 56_960 + 4_000 + 1
    assert s.positions.markets_of(bob) == []
    assert_conserved(s, accounts)
    assert s.usdc.balance_of(s.vault) == 2_100_000_000 - 1_000_000
