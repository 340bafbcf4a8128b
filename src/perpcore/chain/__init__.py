"""perpcore on an EVM chain: the shipped contract bindings, typed wrappers over web3 8, local chains
(anvil, or py-evm in process), the deployment of the whole system and its operators' helpers (listing
markets, pushing snapshots, signing and submitting trade batches). Import ``perpcore.chain`` only where
a chain is used: it loads web3, which ``import perpcore`` never does.

The typed wrappers, their errors, structs and enums live in ``perpcore.chain.contracts`` (generated from
the bindings); this package re-exports what a caller needs to start.
"""

from perpcore.chain.artifacts import Binding, binding, binding_names
from perpcore.chain.contract import BoundContract, Event, Receipt, decode_logs, decode_revert
from perpcore.chain.nodes import CHAIN_ID, InProcessChain, LocalChain
from perpcore.chain.operations import BatchSigner, chain_tier, fills_hash, fund, list_market, push_snapshot
from perpcore.chain.system import DeployParams, System, deploy_system, role_id
from perpcore.errors import ChainError, ChainStartError, ContractRevert

__all__ = [
    "CHAIN_ID",
    "BatchSigner",
    "Binding",
    "BoundContract",
    "ChainError",
    "ChainStartError",
    "ContractRevert",
    "DeployParams",
    "Event",
    "InProcessChain",
    "LocalChain",
    "Receipt",
    "System",
    "binding",
    "binding_names",
    "chain_tier",
    "decode_logs",
    "decode_revert",
    "deploy_system",
    "fills_hash",
    "fund",
    "list_market",
    "push_snapshot",
    "role_id",
]
