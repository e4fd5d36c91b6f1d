"""The RPC node: one ``AsyncWeb3`` per check, ``eth_call`` with state overrides, errors mapped.

No middleware and no retries: the check makes exactly the calls it names, and a dead node is
one clear error at once rather than a back-off the caller cannot see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, Web3Exception, Web3RPCError
from web3.providers.rpc import AsyncHTTPProvider
from web3.types import RPCEndpoint, StateOverride, TxParams

from tradebot.dex.errors import DexInputError, DexNodeError

CALL_GAS = 15_000_000
"""Gas of the simulating call: a buy and a sell need about 300k; nodes cap calls at 50M."""


class SimulationReverted(DexInputError):
    """The simulating call itself reverted (not one step): the message says why."""


def check_rpc_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DexInputError(f"rpc: not an http(s) URL: {url!r}")
    return url


@asynccontextmanager
async def connect(url: str, timeout_s: float) -> AsyncIterator[AsyncWeb3[AsyncHTTPProvider]]:
    provider = AsyncHTTPProvider(
        check_rpc_url(url),
        request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout_s)},
        exception_retry_configuration=None,
    )
    try:
        yield AsyncWeb3(provider, middleware=[])
    finally:
        await provider.disconnect()


async def call(
    w3: AsyncWeb3[AsyncHTTPProvider],
    to: ChecksumAddress,
    data: bytes,
    overrides: StateOverride,
    sender: ChecksumAddress | None = None,
) -> HexBytes:
    """``eth_call`` at the latest block; a revert is ``SimulationReverted``, a node problem
    ``DexNodeError``."""
    tx: TxParams = {"to": to, "data": HexBytes(data), "gas": CALL_GAS}
    if sender is not None:
        tx["from"] = sender
    node = w3.provider.endpoint_uri
    try:
        return await w3.eth.call(tx, "latest", overrides)
    except ContractLogicError as exc:
        raise SimulationReverted(f"the check could not run: {_reason(exc)}") from None
    except Web3RPCError as exc:
        raise DexNodeError(f"the node at {node} refused the simulation: {_reason(exc)}") from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise DexNodeError(f"cannot reach the RPC node at {node}: {_describe(exc)}") from None
    except Web3Exception as exc:
        raise DexNodeError(f"the node at {node} answered oddly: {_reason(exc)}") from None


def _reason(exc: Web3Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).removeprefix("execution reverted: ").strip() or "no reason given"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


async def rpc(w3: AsyncWeb3[AsyncHTTPProvider], method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC request (anvil's own methods); an error answer is ``DexNodeError``."""
    node = w3.provider.endpoint_uri
    try:
        answer = await w3.provider.make_request(RPCEndpoint(method), params)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise DexNodeError(f"cannot reach the RPC node at {node}: {_describe(exc)}") from None
    if "error" in answer:
        raise DexNodeError(f"the node at {node} refused {method}: {answer['error']}")
    return answer.get("result")
