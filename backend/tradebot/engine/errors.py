"""Errors of the pure engine (kept here so the engine imports nothing outside itself)."""

from __future__ import annotations


class GridPlanError(ValueError):
    """A grid configuration that cannot be traded: the message says why, in one line."""
