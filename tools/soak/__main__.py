"""``python -m tools.soak``: the order-safety soak of ``make soak`` (issue #10), a tool of the repo,
not of the product (it is not in the wheel).

First the multi-tenant fault soak (``soak.fault_soak``): tenants trading live on the exchange
simulator for ``--seconds`` (``SOAK_SECONDS``, default 120) through 5xx, timeouts, dropped
answers, not-found lag, 429 bursts, SIGKILLs of runs and workers, a PostgreSQL and a Redis
restart. Then the SIGKILL trials (``soak.kill_trials``, ``--trials``, default 100). Each prints
one table; the exit status is 1 when a target is missed (each printed on stderr).

``--services shared`` (``SOAK_SERVICES``, the default) restarts the machine's own PostgreSQL
cluster and Redis, which every other program using them sees; ``private`` gives the soak a
cluster and a Redis of its own.
"""

from __future__ import annotations

import argparse
import os
import sys

from tradebot.cli.errors import run_guarded


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="how long faults are injected (SOAK_SECONDS, default 120; --short: 20)",
    )
    parser.add_argument("--tenants", type=int, default=None, help="tenants (4; --short: 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--trials", type=int, default=100, help="SIGKILL trials (100; 0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault schedule (0)")
    parser.add_argument(
        "--short", action="store_true", help="the short soak of make test (fewer faults)"
    )
    parser.add_argument(
        "--services",
        choices=["shared", "private"],
        default=os.environ.get("SOAK_SERVICES", "shared"),
        help="restart the machine's PostgreSQL and Redis, or use private ones (SOAK_SERVICES)",
    )
    parser.add_argument("--log-dir", help="keep the processes' logs here (default: a temp dir)")


def _seconds(args: argparse.Namespace) -> float | None:
    from tradebot.errors import BadInputError

    raw = args.seconds if args.seconds is not None else os.environ.get("SOAK_SECONDS")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise BadInputError(f"SOAK_SECONDS: not a number (got {raw!r})") from None
    if not 5 <= seconds <= 86_400:
        raise BadInputError(f"--seconds / SOAK_SECONDS must be within 5..86400 (got {seconds:g})")
    return seconds


def run(args: argparse.Namespace) -> int:
    import signal
    from pathlib import Path

    from tradebot.errors import BadInputError

    seconds = _seconds(args)
    if args.trials < 0 or args.workers < 1 or (args.tenants is not None and args.tenants < 2):
        raise BadInputError("--trials must be >= 0, --workers >= 1 and --tenants >= 2")

    from tools.soak.fault_soak import FaultSoak, SoakConfig
    from tools.soak.report import print_table

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # so every process and service is cleaned up on the way out

    signal.signal(signal.SIGTERM, interrupted)
    changes: dict[str, object] = {
        "workers": args.workers,
        "seed": args.seed,
        "private_services": args.services == "private",
        "log_dir": Path(args.log_dir) if args.log_dir else None,
    }
    if seconds is not None:
        changes["seconds"] = seconds
    if args.tenants is not None:
        changes["tenants"] = args.tenants
    config = SoakConfig.short(**changes) if args.short else SoakConfig(**changes)  # type: ignore[arg-type]
    report = FaultSoak(config).run()
    print_table(f"Fault soak: {config.tenants} tenants, {config.seconds:.0f} s", report.rows())
    missed = report.missed()
    if args.trials:
        missed += _kill_trials(args.trials, args.seed, private=config.private_services)
    for line in missed:
        print(f"soak: target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


def _kill_trials(trials: int, seed: int, *, private: bool) -> list[str]:
    import base64
    import secrets

    from tools.soak.kill_trials import KillTrials
    from tools.soak.report import print_table
    from tools.soak.services import throwaway_database

    with throwaway_database(private=private) as (services, database):
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        report = KillTrials(services.pg_url(database), master_key, trials=trials, seed=seed).run()
    print_table(f"SIGKILL trials: {trials}", report.rows())
    return report.missed()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak",
        description="fault soak of live runs and workers on the simulator, then SIGKILL trials",
    )
    register(parser)
    return run_guarded(run, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
