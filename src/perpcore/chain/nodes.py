"""Local chains for development and tests, chain id 999 and the Cancun rules as on HyperEVM: ``LocalChain``
runs an anvil node (the real thing, over JSON-RPC) for the life of a ``with`` block; ``InProcessChain`` runs
py-evm inside the process through web3's EthereumTesterProvider, so that ``pip install perpcore`` alone
can deploy and exercise the contracts.

Both give a ``Web3``, funded accounts the node signs for, and ``increase_time``. This module owns the
anvil process: it never leaves one running, whether the block ends normally, by an exception or because
the node did not come up.
"""

import ast
import os
import shutil
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import EthereumTesterProvider, HTTPProvider, Web3

from perpcore.errors import ChainStartError

__all__ = ["CHAIN_ID", "InProcessChain", "LocalChain"]

CHAIN_ID = 999
"""HyperEVM mainnet's chain id, used by every local chain."""


class _Chain(ABC):
    w3: Web3
    start_s: float
    """Seconds the chain took to become usable."""

    @property
    def accounts(self) -> list[str]:
        """The funded accounts the node signs for (10 on both chains)."""
        return list(self.w3.eth.accounts)

    def timestamp(self) -> int:
        """The latest block's timestamp, in seconds."""
        return self.w3.eth.get_block("latest")["timestamp"]

    @abstractmethod
    def increase_time(self, seconds: int) -> None:
        """Moves the chain's clock ``seconds`` forward and mines a block, so the next transactions see at
        least that much more time than the latest block did."""


class LocalChain(_Chain):
    """An anvil node on a free loopback port: ``with LocalChain(anvil_path) as chain: chain.w3 ...``.

    ``anvil`` is the binary (default: ``anvil`` on PATH; the repository's is
    ``contracts/node_modules/.bin/anvil``). The node runs ``--hardfork cancun --chain-id 999`` and stops
    when the block ends; ChainStartError (with the node's output) when it exits early or does not answer
    within ``timeout_s``.
    """

    def __init__(self, anvil: str | os.PathLike | None = None, *, timeout_s: float = 15.0,
                 extra_args: tuple[str, ...] = ()) -> None:
        found = str(anvil) if anvil is not None else shutil.which("anvil")
        if found is None or not Path(found).exists():
            raise ChainStartError(f"no anvil binary at {anvil!r} (and none on PATH)")
        self.anvil = found
        self.timeout_s = timeout_s
        self.extra_args = extra_args
        self._process: subprocess.Popen | None = None
        self._log: Any = None

    def __enter__(self) -> Self:
        started = time.perf_counter()
        self._log = tempfile.TemporaryFile()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._process = subprocess.Popen(
            [self.anvil, "--host", "127.0.0.1", "--port", str(port), "--hardfork", "cancun",
             "--chain-id", str(CHAIN_ID), *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 30}))
            self._wait_until_answering(started)
        except BaseException:
            self._stop()
            raise
        self.start_s = time.perf_counter() - started
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _wait_until_answering(self, started: float) -> None:
        while True:
            if self._process.poll() is not None:
                raise ChainStartError(f"anvil exited with {self._process.returncode}: {self._output()}")
            if self.w3.is_connected():
                return
            if time.perf_counter() - started > self.timeout_s:
                raise ChainStartError(f"anvil did not answer within {self.timeout_s} s: {self._output()}")
            time.sleep(0.02)

    def _output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        """Whether the anvil process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The anvil process's id while this chain owns it, else None."""
        return None if self._process is None else self._process.pid

    def increase_time(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])


class InProcessChain(_Chain):
    """py-evm's Cancun VM inside this process (``with InProcessChain() as chain: chain.w3 ...``): every
    transaction is mined at once into its own block; nothing to start or stop."""

    def __enter__(self) -> Self:
        started = time.perf_counter()
        from eth.vm.forks import CancunVM  # py-evm and eth-tester load only when an in-process chain is used
        from eth_tester import EthereumTester, PyEVMBackend

        backend = PyEVMBackend(vm_configuration=((0, CancunVM),))
        type(backend.chain).chain_id = CHAIN_ID  # eth-tester makes a fresh chain class per backend
        self._tester = EthereumTester(backend)
        self.w3 = Web3(_TesterProvider(self._tester))
        self.start_s = time.perf_counter() - started
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def increase_time(self, seconds: int) -> None:
        # eth-tester mines the travelling block one second before the time it is given
        self._tester.time_travel(self.timestamp() + seconds + 1)


class _TesterProvider(EthereumTesterProvider):
    """EthereumTesterProvider answering ``eth_chainId`` with 999 and reporting reverts the way a node
    does (a JSON-RPC error carrying the revert data), so that one revert path serves both chains."""

    def __init__(self, tester: Any) -> None:
        from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return

        endpoints = {**API_ENDPOINTS, "eth": {**API_ENDPOINTS["eth"], "chainId": static_return(CHAIN_ID)}}
        super().__init__(tester, api_endpoints=endpoints)

    def make_request(self, method: Any, params: Any) -> Any:
        from eth_tester.exceptions import TransactionFailed

        try:
            return super().make_request(method, params)
        except TransactionFailed as exc:
            data = _revert_bytes(str(exc.args[0]))
            return {"jsonrpc": "2.0", "id": 0,
                    "error": {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()}}


def _revert_bytes(message: str) -> bytes:
    """The revert data behind web3's eth-tester message ``execution reverted: <reason>``: the bytes'
    repr for custom errors and panics, the decoded text for ``Error(string)`` (re-encoded here)."""
    reason = message.removeprefix("execution reverted: ")
    if reason.startswith(("b'", 'b"')):
        return ast.literal_eval(reason)
    return keccak(text="Error(string)")[:4] + abi_encode(["string"], [reason])
