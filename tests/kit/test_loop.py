"""The worker and the run processes run on uvloop (installed with the product on Linux), and
choosing it changes nothing for the rest of the process (asyncio's own policy stays)."""

from __future__ import annotations

import asyncio

from tradebot.kit.loop import run


def test_a_long_lived_process_runs_its_main_on_uvloop_and_gets_its_result() -> None:
    policy = asyncio.get_event_loop_policy()

    async def main() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    assert run(main()).startswith("uvloop")
    assert asyncio.get_event_loop_policy() is policy
