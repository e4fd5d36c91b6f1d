"""Fork mode: the check on a local anvil fork, selling ``blocks`` after the buy.

The one-call check buys and sells in the same instant, so a token that lets a buyer sell only
for a while (then traps him) passes it. Here anvil forks the node, the simulator is set at a
fresh address on the fork (``anvil_setCode``) and funded there, the buy is sent as a
transaction of an impersonated address (on the fork only: nothing is signed, nothing reaches
the real chain), ``blocks`` blocks are mined 12 s apart, and the sale is simulated then.

anvil comes from the ``@foundry-rs/anvil`` npm package (or a Foundry install): ``anvil``
names its binary.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final

from eth_typing import ChecksumAddress
from web3 import AsyncWeb3
from web3.providers.rpc import AsyncHTTPProvider

from tradebot.dex import node
from tradebot.dex.assessment import DEFAULT_MAX_SELL_TAX_PCT, SellCheck
from tradebot.dex.check import DEFAULT_TIMEOUT_S, judge, parse_input, prepare
from tradebot.dex.errors import DexInputError, DexNodeError
from tradebot.dex.simulator import (
    TRANSFER_SHARE,
    Simulation,
    buy_arguments,
    decode_result,
    encode_call,
    fresh_address,
    report_of,
    runtime_code,
    step_of,
)

BLOCK_TIME_S: Final = 12
MAX_BLOCKS: Final = 100_000
ANVIL_START_S: Final = 30.0
RECEIPT_WAIT_S: Final = 10.0
GAS_MONEY: Final = 10**20
"""The impersonated buyer's ETH on the fork, for the buy transaction's gas."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def anvil_fork(upstream: str, anvil: str) -> AsyncIterator[str]:
    """anvil forking ``upstream`` on a free loopback port; yields its URL, stops it after."""
    port = _free_port()
    try:
        process = await asyncio.create_subprocess_exec(
            *(anvil, "--fork-url", upstream, "--host", "127.0.0.1", "--port", str(port)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise DexInputError(f"anvil: cannot start {anvil!r}: {exc.strerror}") from None
    url = f"http://127.0.0.1:{port}"
    try:
        await _until_ready(process, url, upstream)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await process.wait()


async def _until_ready(process: asyncio.subprocess.Process, url: str, upstream: str) -> None:
    deadline = time.monotonic() + ANVIL_START_S
    while time.monotonic() < deadline:
        if process.returncode is not None:
            error = (await process.stderr.read()).decode().strip() if process.stderr else ""
            last = error.splitlines()[-1] if error else f"exit {process.returncode}"
            raise DexNodeError(f"anvil could not fork {upstream}: {last}")
        with contextlib.suppress(DexNodeError):
            async with node.connect(url, 1.0) as w3:
                await node.rpc(w3, "eth_chainId", [])
                return
        await asyncio.sleep(0.1)
    raise DexNodeError(f"anvil did not fork {upstream} within {ANVIL_START_S:.0f} s")


async def _place_simulator(
    w3: AsyncWeb3[AsyncHTTPProvider], simulation: Simulation, simulator: ChecksumAddress
) -> None:
    """What the one-call check does by state override, done to the fork's state."""
    await node.rpc(w3, "anvil_setCode", [simulator, "0x" + runtime_code().hex()])
    await node.rpc(w3, "anvil_setBalance", [simulator, hex(simulation.amount_in)])
    for slot, value in simulation.quote_storage.items():
        await node.rpc(w3, "anvil_setStorageAt", [simulation.quote, slot, value])


async def check_sell_after_blocks(
    rpc_url: str,
    router: str,
    token: str,
    amount_in_quote: Decimal | str | float,
    *,
    blocks: int,
    anvil: str = "anvil",
    quote: str | None = None,
    max_sell_tax_pct: Decimal | str = DEFAULT_MAX_SELL_TAX_PCT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SellCheck:
    """``check_sell``, but the sale comes ``blocks`` blocks after the buy, on a fork."""
    given = parse_input(router, token, amount_in_quote, quote, max_sell_tax_pct)
    node.check_rpc_url(rpc_url)
    if not 1 <= blocks <= MAX_BLOCKS:
        raise DexInputError(f"blocks: from 1 to {MAX_BLOCKS}: {blocks}")
    started = time.perf_counter()
    async with anvil_fork(rpc_url, anvil) as fork_url, node.connect(fork_url, timeout_s) as w3:
        simulation, simulator, decimals = await prepare(w3, given)
        await _place_simulator(w3, simulation, simulator)
        buyer = fresh_address()
        await node.rpc(w3, "anvil_impersonateAccount", [buyer])
        await node.rpc(w3, "anvil_setBalance", [buyer, hex(GAS_MONEY)])
        buying = encode_call("buy", (*buy_arguments(simulation), list(simulation.probes)))
        # The call tells what the buy does; the transaction then makes it so on the fork.
        (bought,) = decode_result("buy", bytes(await node.call(w3, simulator, buying, {}, buyer)))
        report = report_of(bought)
        if report.buy.ok:
            await _send(w3, buyer, simulator, buying)
            await node.rpc(w3, "anvil_mine", [hex(blocks), hex(BLOCK_TIME_S)])
            selling = encode_call(
                "sellHeld",
                (*buy_arguments(simulation)[:3], fresh_address(), TRANSFER_SHARE),
            )
            raw = await node.call(w3, simulator, selling, {}, buyer)
            transfer, sell = decode_result("sellHeld", bytes(raw))
            report = replace(report, transfer=step_of(transfer), sell=step_of(sell))
    return judge(report, given, decimals, started)


async def _send(
    w3: AsyncWeb3[AsyncHTTPProvider], sender: ChecksumAddress, to: ChecksumAddress, data: bytes
) -> None:
    transaction: dict[str, Any] = {"from": sender, "to": to, "data": "0x" + data.hex()}
    transaction["gas"] = hex(node.CALL_GAS)
    tx_hash = await node.rpc(w3, "eth_sendTransaction", [transaction])
    # anvil mines the transaction after answering: its receipt may take a moment to exist.
    deadline = time.monotonic() + RECEIPT_WAIT_S
    while (receipt := await node.rpc(w3, "eth_getTransactionReceipt", [tx_hash])) is None:
        if time.monotonic() > deadline:
            raise DexNodeError(f"the fork did not mine the buy within {RECEIPT_WAIT_S:.0f} s")
        await asyncio.sleep(0.02)
    if int(receipt["status"], 16) != 1:
        raise DexNodeError("the fork reverted the buy it had simulated")
