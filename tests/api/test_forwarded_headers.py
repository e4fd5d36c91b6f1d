"""``X-Forwarded-For`` names the client only when a configured proxy sent it.

``tradebot api`` as its own uvicorn process: requests from loopback with a new forwarded
address each time. Naive implementation caught: uvicorn's default trusts loopback, so a local
sidecar (or anyone who reaches the port through one) escaped the per-IP limit by rotating
the header.
"""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from tests.api.fakes import Issuer, StripeStandIn
from tests.api.fixtures import api_process
from tradebot.config import Settings

LIMIT = 3


def _statuses(base: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=base) as client:
        return [
            client.get("me", headers={"X-Forwarded-For": address}).status_code
            for address in forwarded
        ]


def test_forwarded_addresses_from_an_unlisted_peer_are_ignored(
    pg_url: str, master_key: str, issuer: Issuer, stripe_stand_in: tuple[StripeStandIn, str]
) -> None:
    rotating = [f"203.0.113.{n}" for n in range(1, LIMIT + 3)]
    with api_process(
        pg_url, master_key, issuer, stripe_stand_in[1], API_RATE_LIMIT_PER_IP=str(LIMIT)
    ) as base:
        statuses = _statuses(base, rotating)
    # One peer (loopback): the limit holds whatever the header says.
    assert statuses == [401] * LIMIT + [429, 429]


def test_a_listed_proxy_names_the_client(
    pg_url: str, master_key: str, issuer: Issuer, stripe_stand_in: tuple[StripeStandIn, str]
) -> None:
    with api_process(
        pg_url,
        master_key,
        issuer,
        stripe_stand_in[1],
        API_RATE_LIMIT_PER_IP=str(LIMIT),
        API_TRUSTED_PROXIES="127.0.0.1/32, ::1",
    ) as base:
        one_client = _statuses(base, ["198.51.100.7"] * (LIMIT + 1))
        another = _statuses(base, ["198.51.100.8"])
    assert one_client == [401] * LIMIT + [429]
    assert another == [401]


def test_the_proxy_list_takes_addresses_and_networks_only() -> None:
    assert Settings(API_TRUSTED_PROXIES=" 10.0.0.0/8 ,::1,").API_TRUSTED_PROXIES == "10.0.0.0/8,::1"
    assert Settings().API_TRUSTED_PROXIES == ""
    for wrong in ("*", "proxy.internal"):
        with pytest.raises(ValidationError, match="API_TRUSTED_PROXIES"):
            Settings(API_TRUSTED_PROXIES=wrong)
