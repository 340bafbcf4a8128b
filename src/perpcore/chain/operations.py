"""What the operators of a deployed ``System`` do, typed: fund an account with dev USDC, list a market
(create, activate, set its tier from a ``perpcore.RiskTier``, push its first snapshot), push snapshots,
and sign and submit trade batches with the engine's key (EIP-712 ``Batch(uint64 seq,bytes32 prevHash,bytes32
fillsHash)`` over the PositionManager's own domain).

Each helper sends from the account that holds the role it needs (given, or the admin the ``System`` sends
from); none of them decides anything the contracts do not: a refused call raises the contract's revert.
"""

from collections.abc import Sequence

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from perpcore._margin import RiskTier as EngineRiskTier
from perpcore.chain.contract import Receipt
from perpcore.chain.contracts import Fill, PositionManager, RiskTier
from perpcore.chain.system import System

__all__ = ["BatchSigner", "chain_tier", "fills_hash", "fund", "list_market", "push_snapshot"]

_FILL_ABI = "(uint32,uint8,address,address,int64,int64)[]"
_BATCH_TYPES = {"Batch": [{"name": "seq", "type": "uint64"}, {"name": "prevHash", "type": "bytes32"},
                          {"name": "fillsHash", "type": "bytes32"}]}
_DOMAIN_FIELDS = ("name", "version", "chainId", "verifyingContract", "salt")  # ERC-5267's bit order


def chain_tier(tier: EngineRiskTier, *, price_band_ppm: int) -> RiskTier:
    """The on-chain RiskTier of a ``perpcore.RiskTier``: its margin and fee fields, plus the chain's own
    price band (the most a fill may differ from the mark, which the engine's book does not bound). The
    liquidation fields stay off chain: the PositionManager has one liquidation fee for every market."""
    return RiskTier(base_imf_ppm=tier.base_imf_ppm, mmf_ppm=tier.mmf_ppm, oi_lower_cap_qq=tier.oi_lower_cap_qq,
                    oi_upper_cap_qq=tier.oi_upper_cap_qq, maker_fee_ppm=tier.maker_fee_ppm,
                    taker_fee_ppm=tier.taker_fee_ppm, insurance_share_ppm=tier.insurance_share_ppm,
                    price_band_ppm=price_band_ppm)


def fund(system: System, account: str, amount_qq: int) -> Receipt:
    """Mints ``amount_qq`` dev USDC to ``account``, approves the vault and deposits it (the Deposited
    receipt)."""
    system.usdc.using(account).mint(account, amount_qq)
    system.usdc.using(account).approve(system.vault, amount_qq)
    return system.vault.using(account).deposit(amount_qq)


def push_snapshot(system: System, market_id: int, mark_ppm: int, *, pusher: str, index_ppm: int | None = None,
                  timestamp: int | None = None) -> Receipt:
    """Pushes a snapshot of market ``market_id`` (index = mark unless given) in the market's current phase,
    timestamped with the latest block's time unless given, from ``pusher`` (a PRICE_PUSHER). The
    registry refuses a timestamp not after the previous snapshot's: move the chain's clock first."""
    if timestamp is None:
        timestamp = system.risk.w3.eth.get_block("latest")["timestamp"]
    phase = system.markets.phase_of(market_id)
    return system.risk.using(pusher).push_snapshot(
        market_id, mark_ppm if index_ppm is None else index_ppm, mark_ppm, timestamp, phase)


def list_market(system: System, market_id: int, tier: EngineRiskTier, *, price_band_ppm: int, mark_ppm: int,
                pusher: str, metadata: bytes = bytes(32)) -> None:
    """Creates market ``market_id`` (admin), activates it, sets its tier (``chain_tier``) and pushes its
    first snapshot at ``mark_ppm`` from ``pusher``: after this it trades."""
    system.markets.create_market(market_id, metadata)
    system.markets.activate(market_id)
    system.risk.set_risk_tier(market_id, chain_tier(tier, price_band_ppm=price_band_ppm))
    push_snapshot(system, market_id, mark_ppm, pusher=pusher)


class BatchSigner:
    """The off-chain engine's key (an ENGINE_SIGNER on the PositionManager): signs batches and has a
    submitter send them in sequence."""

    def __init__(self, key: bytes | str) -> None:
        self.account: LocalAccount = Account.from_key(key)

    @property
    def address(self) -> str:
        """The address to grant ENGINE_SIGNER."""
        return self.account.address

    def sign(self, positions: PositionManager, seq: int, prev_hash: bytes, fills: Sequence[Fill]) -> bytes:
        """The 65-byte signature (r, s, v) of batch ``seq`` chained to ``prev_hash`` over ``positions``'
        EIP-712 domain (read from ``eip712Domain()``)."""
        present, *values = positions.eip712_domain()[:6]
        domain = {name: value for bit, (name, value) in enumerate(zip(_DOMAIN_FIELDS, values))
                  if present[0] >> bit & 1}
        message = {"seq": seq, "prevHash": prev_hash, "fillsHash": fills_hash(fills)}
        return bytes(self.account.sign_typed_data(domain, _BATCH_TYPES, message).signature)

    def submit(self, positions: PositionManager, fills: Sequence[Fill]) -> Receipt:
        """Signs the next batch (``lastSeq() + 1``, chained to ``lastBatchHash()``) and sends it from
        ``positions``' sender, which must hold SUBMITTER."""
        seq = positions.last_seq() + 1
        fills = list(fills)
        return positions.execute_trade(seq, fills, self.sign(positions, seq, positions.last_batch_hash(), fills))


def fills_hash(fills: Sequence[Fill]) -> bytes:
    """keccak256(abi.encode(fills)), the batch's ``fillsHash``."""
    return keccak(abi_encode([_FILL_ABI], [[tuple(f) for f in fills]]))
