"""Which values the log scrubber masks inside text: only verified keys, only while an exchange
client holds them, in a bounded set.

Naive implementation caught: every ``Secret`` ever built (a tenant's refused input included)
registered for the life of the process, so ``api_key: "HTTP Request"`` blanked those words in
everyone's logs from then on, and the set grew with every request.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.fixtures import AppFactory
from tests.venues.sim_fixtures import KEY, SECRET, running_sim
from tradebot.kit.secrets import Secret, held
from tradebot.observability.logs import (
    MAX_HELD_SECRETS,
    TooManySecretsError,
    held_secret_count,
    hold_secrets,
    release_secrets,
    scrub_text,
)
from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

LINE = 'httpx: HTTP Request: GET http://127.0.0.1/healthz "HTTP/1.1 200 OK"'


async def test_a_refused_key_blanks_nothing_in_later_lines(
    make_client: AppFactory, login: Callable[..., dict[str, str]]
) -> None:
    async with running_sim() as sim:
        api: httpx.AsyncClient = await make_client(
            key_check=CcxtKeyPermissionCheck(sandbox_url=sim.url, timeout_ms=2_000)
        )
        user = login()
        refused = await api.put(
            "/credentials",
            json={"exchange": "binance", "api_key": "HTTP Request", "api_secret": "HTTP/1.1 200"},
            headers=user,
        )
        assert refused.status_code == 422, refused.text
        assert scrub_text(LINE) == LINE
        # A key the exchange accepts is stored, not held: no client of ours holds it after.
        stored = await api.put(
            "/credentials",
            json={"exchange": "binance", "api_key": KEY, "api_secret": SECRET},
            headers=user,
        )
        assert stored.status_code == 200, stored.text
    assert scrub_text(f"key {KEY} secret {SECRET}") == f"key {KEY} secret {SECRET}"


def test_a_held_value_is_masked_until_its_last_holder_lets_go() -> None:
    key, longer = Secret("held-key-1234"), Secret("held-key-12345678")
    before = held_secret_count()
    with held(key):
        with held(key, longer):
            # The longer value is masked whole, not around the shorter one it contains.
            assert scrub_text("a held-key-12345678 b held-key-1234 c") == "a *** b *** c"
        assert scrub_text("x held-key-1234 held-key-12345678") == "x *** ***5678"
    assert scrub_text("x held-key-1234") == "x held-key-1234"
    assert held_secret_count() == before


def test_short_values_and_regex_characters_are_safe() -> None:
    with held(Secret("abc"), Secret("a.b*c(d|e")):
        assert scrub_text("abc axbxxc a.b*c(d|e") == "abc axbxxc ***"


def test_the_held_set_is_bounded() -> None:
    before = held_secret_count()
    values = hold_secrets(f"bound-test-{n:06d}" for n in range(MAX_HELD_SECRETS - before))
    try:
        with pytest.raises(TooManySecretsError), held(Secret("one-secret-too-many")):
            pass
        assert held_secret_count() == MAX_HELD_SECRETS
        assert scrub_text("bound-test-000007 and bound-test-000123") == "*** and ***"
    finally:
        release_secrets(values)
    assert held_secret_count() == before
