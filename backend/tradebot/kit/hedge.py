"""A hedged call: when an idempotent request has not been answered within a delay (the
exchange held it, or lost it), the same request again beside it, and the first answer wins.

The answer of a slow request then costs the delay instead of the whole timeout ("The Tail at
Scale"): for a restarting run's reads of its book, seconds of its recovery. Only for requests
whose repeat changes nothing; the copy costs what the request costs, and only when it is slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def first_answer(
    call: Callable[[], Awaitable[T]], after_s: float, again: Callable[[], Awaitable[T]]
) -> T:
    """``await call()``; if it has not finished within ``after_s``, ``again()`` beside it, and
    the first of the two to succeed (the other is cancelled). A failure before the copy went
    out is raised at once; after, only when both failed (the first failure)."""
    tasks = [asyncio.ensure_future(call())]
    try:
        done, _ = await asyncio.wait(tasks, timeout=after_s)
        if done:
            return tasks[0].result()
        tasks.append(asyncio.ensure_future(again()))
        failures: list[BaseException] = []
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is None:
                    return task.result()
                failures.append(error)
        raise failures[0]
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # retrieved: a loser's failure is not "never retrieved"
