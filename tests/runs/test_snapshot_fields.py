"""A snapshot is declared once, by the run loop's record: the table stores every field of it,
the API's view shows the same fields but the grid's internals, and the API reads exactly the
view's columns. A field added to the record is either shown or named internal here."""

from __future__ import annotations

import dataclasses
from typing import get_type_hints

from tradebot.models.runs import BotInventorySnapshot
from tradebot.runs.repository import SNAPSHOT_FIELDS
from tradebot.runs.schemas import SnapshotView
from tradebot.runtime.store import InventorySnapshot

INTERNAL = ("empty_line",)
"""The record's fields the API does not show: where the grid's empty line is."""


def test_the_view_shows_the_records_fields_but_the_internal_ones_with_their_types():
    record = get_type_hints(InventorySnapshot)
    shown = [f.name for f in dataclasses.fields(InventorySnapshot) if f.name not in INTERNAL]
    assert list(SnapshotView.model_fields) == shown
    for name, field in SnapshotView.model_fields.items():
        assert field.annotation is record[name], name
    assert tuple(shown) == SNAPSHOT_FIELDS


def test_the_table_stores_every_field_of_the_record():
    columns = set(BotInventorySnapshot.__table__.columns.keys())  # type: ignore[attr-defined]
    assert {f.name for f in dataclasses.fields(InventorySnapshot)} <= columns
