"""The probes of ``tradebot worker``: ``--check`` (is a worker of the queue alive) and
``--queue-depth`` (jobs waiting for a worker), through the real CLI, Redis and an arq worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix

from tests.workers.fixtures import in_process_worker, options
from tradebot.config import Settings
from tradebot.workers.health import queue_depth


def _probe(settings: Settings, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PG_URL": str(settings.PG_URL),
        "REDIS_URL": settings.REDIS_URL,
        "RUN_QUEUE_NAME": settings.RUN_QUEUE_NAME,
    }
    command = [sys.executable, "-m", "tradebot.cli.main", "worker", *flags]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


async def test_queue_depth_counts_due_jobs_no_worker_has_taken(worker_env):
    redis = ArqRedis.from_url(worker_env.REDIS_URL)
    queue = worker_env.RUN_QUEUE_NAME
    try:
        for n in range(3):
            await redis.enqueue_job(
                "run_grid", "c", f"r{n}", _job_id=f"{queue}-{n}", _queue_name=queue
            )
        await redis.enqueue_job("run_grid", "c", "later", _queue_name=queue, _defer_by=600)
        await redis.set(in_progress_key_prefix + f"{queue}-0", b"1", px=60_000)  # taken
        assert await queue_depth(redis, queue) == 2
        done = await asyncio.to_thread(_probe, worker_env, "--queue-depth")
        assert (done.returncode, done.stdout.strip()) == (0, "2"), done.stderr
    finally:
        keys = [k async for k in redis.scan_iter(f"arq:*{queue}*")]
        await redis.delete(queue, *keys)
        await redis.aclose()


async def test_the_health_check_fails_with_no_worker_and_passes_while_one_polls(worker_env):
    down = await asyncio.to_thread(_probe, worker_env, "--check")
    assert down.returncode == 1
    assert "unhealthy" in down.stdout
    async with in_process_worker(worker_env, options("http://127.0.0.1:9")):
        await asyncio.sleep(0.3)  # its first poll writes the health key
        up = await asyncio.to_thread(_probe, worker_env, "--check")
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.startswith("healthy: ")
    after = await asyncio.to_thread(_probe, worker_env, "--check")
    assert after.returncode == 1  # a worker that closed removes its key


def test_bad_worker_options_are_refused_in_one_line(worker_env):
    done = _probe(worker_env, "--max-jobs", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tradebot: error: --max-jobs must be >= 1 and --lease-seconds >= 0.3"
    ]
