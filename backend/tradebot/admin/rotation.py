"""Master key rotation: every stored key re-sealed under a new version, in one transaction.

The transaction retires the current version (an exclusive row lock: stores in flight finish
first, new ones wait and then refuse), adds the next version, re-seals every credential row and
records the audit entry. It commits whole or not at all, so after a crash every row is still
sealed under the old version and the old key reads it; after a commit, every row is under the
new version. There is never a mix for one version's key to trip over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.admin.repository import AdminRepository
from tradebot.credentials.keyring import (
    NoMasterKeyError,
    current_meta,
    new_version,
    require_master_key,
    unlock,
)
from tradebot.credentials.service import open_row, seal_into
from tradebot.errors import BadInputError, TradeBotError
from tradebot.kit.clock import utcnow
from tradebot.kit.secrets import Secret

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in all) after each re-sealed row."""
_FLUSH_EVERY = 200


class ConcurrentRotationError(TradeBotError):
    """Two rotations raced; the later one rolled back."""


@dataclass(frozen=True)
class RotationResult:
    from_version: int
    to_version: int
    credentials: int


async def rotate_master_key(
    session: AsyncSession,
    current: Secret | None,
    new: Secret | None,
    actor: str,
    progress: Progress | None = None,
) -> RotationResult:
    """Re-seal every credential under ``new``; run it inside one (operator) transaction."""
    old_material = require_master_key(current)
    new_material = require_master_key(new, "NEW_CLIENT_MASTER_KEY")
    meta = await current_meta(session)
    if meta is None:
        raise NoMasterKeyError("nothing to rotate: no exchange keys have been stored yet")
    old = unlock(old_material, meta)
    if new_material.key is not None and new_material.key.same_as(old.key):
        raise BadInputError("NEW_CLIENT_MASTER_KEY: it is the current master key")
    new_meta, keyring = new_version(new_material, meta.version + 1)
    meta.retired_at = utcnow()
    session.add(new_meta)
    try:
        await session.flush()  # locks the old version's row before the credentials are read
    except IntegrityError:
        raise ConcurrentRotationError(
            "another master key rotation committed meanwhile; this one changed nothing"
        ) from None
    admin = AdminRepository(session)
    rows = await admin.all_credentials()
    for done, row in enumerate(rows, start=1):
        seal_into(row, keyring, open_row(row, old))
        if done % _FLUSH_EVERY == 0:
            await session.flush()
        if progress is not None:
            progress(done, len(rows))
    await admin.record(
        actor,
        "master_key_rotated",
        target=f"master key version {keyring.version}",
        details={
            "from_version": old.version,
            "to_version": keyring.version,
            "credentials": len(rows),
        },
    )
    return RotationResult(old.version, keyring.version, len(rows))
