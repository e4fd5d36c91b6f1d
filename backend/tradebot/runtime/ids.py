"""Deterministic client order ids: the same run, line and sequence always give the same id.

Binance accepts ``^[.A-Z:/a-z0-9_-]{1,36}$``; ours are ``tb`` + a 10-character tag of the run id
+ side + line + sequence, well under the limit, so a retry can never mint a second id.
"""

from __future__ import annotations

import base64
import hashlib

from tradebot.engine.types import Side


def run_tag(run_id: str) -> str:
    digest = hashlib.sha256(run_id.encode()).digest()
    return base64.b32encode(digest).decode()[:10].lower()


def client_order_id(run_id: str, side: Side, line: int, seq: int) -> str:
    side_code = "b" if side is Side.BUY else "s"
    where = "m" if line < 0 else str(line)
    return f"tb{run_tag(run_id)}{side_code}{where}-{seq}"
