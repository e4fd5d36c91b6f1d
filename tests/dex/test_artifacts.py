"""The committed contract artifacts are built from the committed sources (no stale bytecode)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = [
    REPO / "backend" / "tradebot" / "dex" / "contracts" / "simulator.json",
    REPO / "tests" / "dex" / "contracts" / "tokens.json",
]


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=lambda path: path.name)
def test_each_artifact_matches_its_source(artifact: Path) -> None:
    built = json.loads(artifact.read_text())
    assert built["compiler"].startswith("solc 0.8.37+")
    for source, digest in built["sources"].items():
        assert hashlib.sha256((REPO / source).read_bytes()).hexdigest() == digest, (
            f"{artifact.name} is stale: rebuild it with tools/evm/build-*.mjs"
        )
