"""Python/chain parity on random fills: a seeded ``perpcore.Exchange`` trades random orders around a mark
between several accounts; every round's fills (from its ``OrderFilled`` events) go to the PositionManager
on anvil as one EIP-712 batch, with the same risk tier, the Exchange's mark pushed as the chain's snapshot
and the Exchange's funding deltas applied as ``applyFundingIndex``. After every batch and every funding
step the two must agree exactly, per account, on position size and open notional and on total
collateral, and per market on fees, insurance, open interest, the clearing and funding pools and the
funding index.

Total collateral: perpcore books margin per market (``Balances.locked_for_positions``) and locks margin
for resting orders, while the chain keeps one cash balance per account (the vault's available balance)
and margins it across markets when a batch ends. Money only moves between buckets inside perpcore, so
the sum of an account's buckets (``Balances.total``) is the quantity that must equal the chain's cash.
"""

import random
from collections.abc import Iterator

import pytest

from perpcore import Exchange, FundingParams, RiskTier, Side
from perpcore.chain import BatchSigner, DeployParams, LocalChain, deploy_system, fund, list_market, push_snapshot
from perpcore.chain.contracts import Fill, FillKind

SEED = 999
ROUNDS = 70
ORDERS_PER_ROUND = 9
ACCOUNTS = range(1, 7)  # perpcore account k trades as chain.accounts[k + 2]
DEPOSIT_QQ = 300_000_000
M, NAME = 1, "M"
TIER = RiskTier(base_imf_ppm=100_000, mmf_ppm=50_000, taker_fee_ppm=500, maker_fee_ppm=-100,
                insurance_share_ppm=200_000)
# one sample per minute and one minute per period, so every funding step closes a period on one sample
FUNDING = FundingParams(impact_notional_qq=2_000_000, sample_clamp_ppm=50_000, blocks_per_minute=1,
                        minutes_per_period=1, rate_scale_ppm=125_000, base_imf_ppm=TIER.base_imf_ppm,
                        mmf_ppm=TIER.mmf_ppm)
ENGINE = BatchSigner(bytes.fromhex("e17e" * 16))


@pytest.fixture(scope="module")
def anvil(anvil_path):
    with LocalChain(anvil_path) as chain:
        yield chain


class Pair:
    """The Exchange and the chain side by side, with the comparison."""

    def __init__(self, chain: LocalChain) -> None:
        admin, self.ops, self.fees = chain.accounts[:3]
        self.chain = chain
        self.address = {k: chain.accounts[k + 2] for k in ACCOUNTS}
        self.system = deploy_system(
            chain.w3, admin, params=DeployParams(fee_recipient=self.fees, max_funding_delta_per_second_idx=10**12),
            roles={"SUBMITTER": [self.ops], "ENGINE_SIGNER": [ENGINE.address], "PRICE_PUSHER": [self.ops],
                   "FUNDING_PUSHER": [self.ops]})
        self.pm = self.system.positions.using(self.ops)
        self.ex = Exchange()
        self.ex.add_market(NAME, tick_ppm=1000, risk=TIER, mark_ppm=500_000, funding=FUNDING)
        list_market(self.system, M, TIER, price_band_ppm=50_000, mark_ppm=500_000, pusher=self.ops)
        for k in ACCOUNTS:
            self.ex.deposit(k, DEPOSIT_QQ)
            fund(self.system, self.address[k], DEPOSIT_QQ)

    def set_mark(self, mark_ppm: int) -> None:
        for k in ACCOUNTS:  # resting orders at the old mark could fall outside the chain's price band
            self.ex.cancel_all(NAME, k)
        assert self.ex.set_mark(NAME, mark_ppm).code == 0
        self.chain.increase_time(1)
        push_snapshot(self.system, M, mark_ppm, pusher=self.ops)

    def fund_period(self, now: int) -> int:
        """Closes a funding period on the Exchange and applies its delta on chain; returns the delta."""
        self.ex.sample_funding(NAME)
        self.ex.close_funding_minute(NAME)
        (event,) = self.ex.close_funding_period(NAME, now).events
        if event.index_delta_idx:
            self.chain.increase_time(1)
            self.pm.apply_funding_index(M, event.index_delta_idx)
        return event.index_delta_idx

    def mismatches(self) -> list[str]:
        """Every quantity the two sides disagree on, with both numbers (Exchange first)."""
        found = []
        pm, vault = self.system.positions, self.system.vault
        for k in ACCOUNTS:
            mine, theirs = self.ex.position(k, NAME), pm.position_of(M, self.address[k])
            if (mine.size, mine.open_notional_qq) != (theirs.size, theirs.open_notional_qq):
                found.append(f"account {k} position: {(mine.size, mine.open_notional_qq)} vs "
                             f"{(theirs.size, theirs.open_notional_qq)}")
            if self.ex.balances(k).total != vault.available_of(self.address[k]):
                found.append(f"account {k} collateral: {self.ex.balances(k).total} vs "
                             f"{vault.available_of(self.address[k])}")
        state = pm.market_state_of(M)
        for what, mine, theirs in [
            ("fees net of insurance", self.ex.fees_collected(NAME), vault.available_of(self.fees)),
            ("insurance", self.ex.insurance_fund(NAME), self.system.insurance.balance_of(M)),
            ("open interest", self.ex.open_interest(NAME), state.open_interest),
            ("clearing pool", self.ex.clearing_pool(NAME), state.clearing_pool_qq),
            ("funding pool", self.ex.funding_pool(NAME), state.funding_pool_qq),
            ("funding index", self.ex.funding_index(NAME), state.funding_index),
        ]:
            if mine != theirs:
                found.append(f"{what}: {mine} vs {theirs}")
        return found


def random_fills(pair: Pair, rng: random.Random, order_ids: Iterator[int]) -> list[Fill]:
    """Submits random limit orders around the mark and returns their fills as the chain's Fills."""
    fills = []
    mark = pair.ex.mark(NAME)
    for _ in range(ORDERS_PER_ROUND):
        side = rng.choice((Side.BUY, Side.SELL))
        price = mark + 1000 * rng.randint(-15, 15)
        result = pair.ex.submit(NAME, next(order_ids), rng.choice(ACCOUNTS), side, price, rng.randint(1, 60))
        for e in result.events:
            if e.kind == "order_filled":
                signed = e.size if e.taker_side == Side.BUY else -e.size
                fills.append(Fill(M, FillKind.NORMAL, pair.address[e.maker_account], pair.address[e.taker_account],
                                  signed, e.price_ppm))
    return fills


def test_random_fills_and_funding_keep_the_exchange_and_the_chain_equal(anvil):
    pair = Pair(anvil)
    rng = random.Random(SEED)
    order_ids = iter(range(1, 10**6))
    total_fills, deltas = 0, []
    for round_ in range(ROUNDS):
        if round_ % 7 == 6:
            pair.set_mark(min(600_000, max(400_000, pair.ex.mark(NAME) + 1000 * rng.randint(-10, 10))))
        fills = random_fills(pair, rng, order_ids)
        if fills:
            ENGINE.submit(pair.pm, fills)
        total_fills += len(fills)
        assert pair.mismatches() == [], f"round {round_} after {len(fills)} fills"
        if round_ % 10 == 9:
            deltas.append(pair.fund_period(now=round_))
            assert pair.mismatches() == [], f"round {round_} after funding {deltas[-1]}"
    # the run really traded, funded and settled funding, and every fill went through a batch
    assert total_fills >= 250 and sum(d != 0 for d in deltas) >= 3
    assert len(pair.system.positions.events("Filled")) == total_fills
    assert len(pair.system.positions.events("FundingSettled")) >= 10
