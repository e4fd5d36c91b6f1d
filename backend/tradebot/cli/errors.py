"""One line on stderr and a non-zero exit for every error a user can cause."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from tradebot.engine.errors import GridPlanError
    from tradebot.errors import TradeBotError

    try:
        return handler(args)
    except (TradeBotError, GridPlanError) as exc:
        print(f"tradebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tradebot: interrupted", file=sys.stderr)
        return 130
