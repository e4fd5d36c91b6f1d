"""``tradebot worker``: run the arq worker that drives bot runs (settings from the environment).

Several workers may share one queue (``RUN_QUEUE_NAME`` on ``REDIS_URL``); each run is driven
by one of them at a time. ``--check`` and ``--queue-depth`` are for probes and autoscalers:
the first exits non-zero when no worker of the queue is alive, the second prints how many
jobs wait for a worker.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradebot.config import Settings


def register(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--burst", action="store_true", help="run the queued jobs, then exit (tests, one-offs)"
    )
    what.add_argument(
        "--check", action="store_true", help="exit 0 if a worker of the queue is alive, else 1"
    )
    what.add_argument(
        "--queue-depth",
        action="store_true",
        help="print the number of jobs waiting for a worker (for autoscaling)",
    )
    parser.add_argument("--sandbox-url", help="runs trade on this local exchange simulator")
    parser.add_argument(
        "--sandbox-step",
        action="store_true",
        help="step a paused simulator one segment per poll (deterministic sandbox runs)",
    )
    parser.add_argument(
        "--max-jobs", type=int, default=2000, help="runs one process drives at most (2000)"
    )
    parser.add_argument(
        "--no-sweep",
        action="store_true",
        help="do not give jobs to runs that have none (a worker that must take only its queue's)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=30.0,
        help="a dead worker's runs are taken over after about twice this long (30)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tradebot.config import load_settings
    from tradebot.errors import BadInputError

    settings = load_settings()
    if args.check or args.queue_depth:
        return asyncio.run(_probe(settings, check=args.check))
    if args.max_jobs < 1 or args.lease_seconds < 0.3:
        raise BadInputError("--max-jobs must be >= 1 and --lease-seconds >= 0.3")

    from tradebot.workers.settings import run_worker
    from tradebot.workers.state import WorkerOptions

    options = WorkerOptions(
        sandbox_url=args.sandbox_url,
        sandbox_step=args.sandbox_step,
        lease_ms=int(args.lease_seconds * 1000),
        watch_ms=min(1000, int(args.lease_seconds * 1000) // 3),
        max_jobs=args.max_jobs,
        sweep=not args.no_sweep,
    )
    run_worker(settings, options, burst=args.burst)
    return 0


async def _probe(settings: Settings, *, check: bool) -> int:
    from redis.asyncio import Redis

    from tradebot.workers.health import health, queue_depth

    redis = Redis.from_url(settings.REDIS_URL, socket_timeout=5.0, socket_connect_timeout=5.0)
    try:
        if check:
            line = await health(redis, settings.RUN_QUEUE_NAME)
            if line is None:
                print(f"unhealthy: no worker of queue {settings.RUN_QUEUE_NAME} is alive")
                return 1
            print(f"healthy: {line}")
            return 0
        print(await queue_depth(redis, settings.RUN_QUEUE_NAME))
        return 0
    finally:
        await redis.aclose()
