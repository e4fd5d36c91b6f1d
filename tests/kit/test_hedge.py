"""``first_answer``: a slow call gets a copy beside it, and the first success wins."""

from __future__ import annotations

import asyncio

import pytest

from tradebot.kit.hedge import first_answer


class Calls:
    """Each call answers (or fails) after its own delay; notes how many went out and which
    were cancelled."""

    def __init__(self, *plans: tuple[float, str | Exception]) -> None:
        self.plans = list(plans)
        self.sent = 0
        self.cancelled: list[int] = []

    async def __call__(self) -> str:
        number = self.sent
        self.sent += 1
        delay, outcome = self.plans[number]
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled.append(number)
            raise
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_a_quick_answer_sends_no_copy():
    calls = Calls((0.0, "first"))
    assert await first_answer(calls, 0.05, calls) == "first"
    assert calls.sent == 1


async def test_a_held_call_is_overtaken_by_its_copy_which_is_then_the_answer():
    calls = Calls((5.0, "held"), (0.0, "copy"))
    started = asyncio.get_running_loop().time()
    assert await first_answer(calls, 0.05, calls) == "copy"
    assert asyncio.get_running_loop().time() - started < 1.0
    await asyncio.sleep(0)  # the loser unwinds at the loop's next turn
    assert calls.cancelled == [0]  # the held one is not left running


async def test_a_failure_before_the_copy_is_raised_at_once():
    calls = Calls((0.0, ValueError("refused")))
    with pytest.raises(ValueError, match="refused"):
        await first_answer(calls, 0.05, calls)
    assert calls.sent == 1


async def test_once_the_copy_is_out_a_failure_waits_for_the_other():
    calls = Calls((0.1, TimeoutError("timed out")), (0.2, "copy"))
    assert await first_answer(calls, 0.05, calls) == "copy"


async def test_both_failing_raise_the_first_failure():
    calls = Calls((0.1, TimeoutError("first")), (0.1, ValueError("second")))
    with pytest.raises(TimeoutError, match="first"):
        await first_answer(calls, 0.05, calls)


async def test_cancelling_the_caller_cancels_both():
    calls = Calls((5.0, "held"), (5.0, "copy"))
    task = asyncio.ensure_future(first_answer(calls, 0.05, calls))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(calls.cancelled) == [0, 1]
