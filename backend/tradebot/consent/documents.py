"""The consent documents: versioned Markdown texts shipped with the package.

A text is ``texts/<document>-v<version>.md``; the current version of a document is its highest
version. Publishing a new text is adding a file with the next version: every client must accept
it again before its next live start. A published text is never edited in place (acceptances
record its digest).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from tradebot.errors import ConfigError

TEXT_NAME = re.compile(r"^(?P<document>[a-z][a-z0-9_]{0,31})-v(?P<version>[1-9][0-9]{0,5})\.md$")
REQUIRED = ("risk", "terms")
"""The documents a live start needs: the risk disclosure and the terms."""


@dataclass(frozen=True)
class ConsentText:
    document: str
    version: int
    text: str

    @property
    def key(self) -> str:
        """How the API names this version (``risk-v1``)."""
        return f"{self.document}-v{self.version}"

    @property
    def title(self) -> str:
        """The first Markdown heading (the document's name when there is none)."""
        for line in self.text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
        return self.document

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def parse_key(key: str) -> tuple[str, int] | None:
    """``"risk-v2"`` -> ``("risk", 2)``; anything else is ``None``."""
    found = TEXT_NAME.match(f"{key}.md")
    return (found["document"], int(found["version"])) if found else None


class ConsentTexts:
    """Every published version of the consent documents, read once from ``directory`` (the
    package's own ``texts`` by default)."""

    def __init__(self, directory: Path | Traversable | None = None) -> None:
        source = directory if directory is not None else files("tradebot.consent") / "texts"
        self._texts = {(text.document, text.version): text for text in _read(source.iterdir())}
        missing = [doc for doc in REQUIRED if not any(d == doc for d, _ in self._texts)]
        if missing:
            raise ConfigError(f"consent texts missing: no version of {', '.join(missing)}")

    def current(self) -> Mapping[str, ConsentText]:
        """The highest version of each required document, by document."""
        return {
            document: self._texts[(document, max(v for d, v in self._texts if d == document))]
            for document in REQUIRED
        }

    def find(self, document: str, version: int) -> ConsentText | None:
        return self._texts.get((document, version))


def _read(entries: Iterable[Traversable]) -> Iterable[ConsentText]:
    for entry in entries:
        found = TEXT_NAME.match(entry.name)
        if found and entry.is_file():
            yield ConsentText(
                document=found["document"],
                version=int(found["version"]),
                text=entry.read_text(encoding="utf-8"),
            )


@cache
def packaged_texts() -> ConsentTexts:
    """The texts shipped in the package: what the API and live starts use."""
    return ConsentTexts()
