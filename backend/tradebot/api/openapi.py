"""``python -m tradebot.api.openapi [PATH]``: the API's OpenAPI document, for the portal's client.

The portal's TypeScript client is generated from this document; a test regenerates it and
fails when the checked-in copy is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tradebot.api.app import create_app
from tradebot.config import Settings


def document() -> dict[str, Any]:
    """The public API's OpenAPI document (no server, no database: the app is only built)."""
    return create_app(Settings()).openapi()


def main(argv: list[str]) -> None:
    text = json.dumps(document(), indent=2, sort_keys=True) + "\n"
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
