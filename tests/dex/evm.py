"""A real EVM for the DEX tests: anvil from npm, the real Uniswap V2, our test tokens.

``tools/evm`` is installed with ``npm ci`` when its ``node_modules`` is missing (under a lock:
xdist workers share it). Each test session (each xdist worker) starts its own anvil on a free
loopback port. Deployments use anvil's unlocked dev account through ``eth_sendTransaction``:
no key is held here, and the product's check never signs anything.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

REPO = Path(__file__).resolve().parents[2]
EVM_TOOLS = REPO / "tools" / "evm"
NODE_MODULES = EVM_TOOLS / "node_modules"
TOKENS = Path(__file__).with_name("contracts") / "tokens.json"
NPM_CI_TIMEOUT_S = 300
ANVIL_START_TIMEOUT_S = 20
ETH = 10**18
DEADLINE = 2**32


def _install_npm() -> None:
    """Node.js and npm from Debian's packages, as ``make services`` installs PostgreSQL."""
    root = [] if os.geteuid() == 0 else ["sudo", "-n"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "npm"]):
        subprocess.run(
            root + command,
            check=True,
            timeout=NPM_CI_TIMEOUT_S,
            env=environment,
            capture_output=True,
        )


def install_tools() -> None:
    """``npm ci`` in ``tools/evm`` unless done (anvil, solc-js and the Uniswap artifacts)."""
    lock_path = Path(tempfile.gettempdir()) / "tradebot-evm-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_MODULES / ".package-lock.json").exists():
            if shutil.which("npm") is None:
                _install_npm()
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=EVM_TOOLS,
                check=True,
                timeout=NPM_CI_TIMEOUT_S,
                capture_output=True,
            )


def anvil_binary() -> Path:
    """The binary of ``@foundry-rs/anvil``'s platform package (its postinstall is not needed)."""
    system = {"Linux": "linux", "Darwin": "darwin"}[platform.system()]
    machine = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[
        platform.machine()
    ]
    return NODE_MODULES / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def anvil() -> Iterator[str]:
    """A fresh anvil on a free loopback port; yields its URL, stops it after."""
    port = free_port()
    process = subprocess.Popen(
        [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ANVIL_START_TIMEOUT_S
        while not Web3(Web3.HTTPProvider(url)).is_connected():
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"anvil did not start: {error}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _artifact(package: str, name: str) -> dict[str, Any]:
    path = NODE_MODULES / "@uniswap" / package / "build" / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return {"abi": data["abi"], "bytecode": data["bytecode"]}


def _token_artifact(name: str) -> dict[str, Any]:
    contract: dict[str, Any] = json.loads(TOKENS.read_text())["contracts"][name]
    return {"abi": contract["abi"], "bytecode": contract["bytecode"]}


def send(w3: Web3, sender: str, call: Any, value: int = 0) -> None:
    """Send ``call`` from ``sender`` (an account anvil holds unlocked) and wait for success."""
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1, receipt


def deploy(w3: Web3, sender: str, artifact: dict[str, Any], *args: Any) -> Contract:
    creation = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = creation.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, receipt
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])


@dataclass
class Chain:
    """The deployed world: anvil's URL, Uniswap V2 and the deployer (anvil's account 0)."""

    url: str
    w3: Web3
    deployer: str
    weth: Contract
    factory: Contract
    router: Contract

    def send(self, call: Any, value: int = 0) -> None:
        send(self.w3, self.deployer, call, value)

    def token(self, name: str, *args: Any) -> Contract:
        return deploy(self.w3, self.deployer, _token_artifact(name), *args)

    def pool_eth(self, token: Contract, tokens: int, eth: int) -> str:
        """A TOKEN/WETH pool with ``tokens`` and ``eth`` (base units); the token learns it."""
        self.send(self.factory.functions.createPair(token.address, self.weth.address))
        pair: str = self.factory.functions.getPair(token.address, self.weth.address).call()
        self.send(token.functions.setPair(pair))
        self.send(token.functions.approve(self.router.address, 2**256 - 1))
        self.send(
            self.router.functions.addLiquidityETH(
                token.address, tokens, 0, 0, self.deployer, DEADLINE
            ),
            value=eth,
        )
        return pair

    def pool_tokens(self, token: Contract, quote: Contract, tokens: int, quotes: int) -> str:
        """A TOKEN/QUOTE pool of two ERC-20 tokens; the token learns it."""
        self.send(self.factory.functions.createPair(token.address, quote.address))
        pair: str = self.factory.functions.getPair(token.address, quote.address).call()
        self.send(token.functions.setPair(pair))
        for each in (token, quote):
            self.send(each.functions.approve(self.router.address, 2**256 - 1))
        self.send(
            self.router.functions.addLiquidity(
                token.address, quote.address, tokens, quotes, 0, 0, self.deployer, DEADLINE
            )
        )
        return pair


def uniswap(url: str) -> Chain:
    """WETH9, the Uniswap V2 factory and Router02, deployed from the npm artifacts."""
    w3 = Web3(Web3.HTTPProvider(url))
    deployer = w3.eth.accounts[0]
    weth = deploy(w3, deployer, _artifact("v2-periphery", "WETH9"))
    factory = deploy(w3, deployer, _artifact("v2-core", "UniswapV2Factory"), deployer)
    router = deploy(
        w3, deployer, _artifact("v2-periphery", "UniswapV2Router02"), factory.address, weth.address
    )
    return Chain(url, w3, deployer, weth, factory, router)
