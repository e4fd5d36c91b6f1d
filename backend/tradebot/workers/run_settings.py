"""A run's settings from its row: the process defaults with the run's client, id, mode, pair
and grid (the ``GridSpec`` the API stored) laid over them."""

from __future__ import annotations

from tradebot.bots.schemas import GridSpec
from tradebot.config import Settings
from tradebot.errors import BadInputError
from tradebot.models.runs import RunMode
from tradebot.workers.run_rows import RunTicket
from tradebot.workers.state import RunHandle


def run_settings(base: Settings, handle: RunHandle, ticket: RunTicket) -> Settings:
    grid_fields = {k: v for k, v in ticket.config.items() if k in GridSpec.model_fields}
    try:
        grid = GridSpec.model_validate(grid_fields)
    except ValueError as exc:
        raise BadInputError(f"run {handle.run_id}: its stored grid is not valid: {exc}") from None
    return base.model_copy(
        update={
            "CLIENT_ID": handle.client_id,
            "RUN_ID": handle.run_id,
            "PAPER_MODE": ticket.mode == RunMode.PAPER.value,
            "DEFAULT_EXCHANGE": ticket.exchange,
            "GRID_PAIR": ticket.pair,
            "GRID_LOWER": grid.lower,
            "GRID_UPPER": grid.upper,
            "GRID_STEPS": grid.lines,
            "GRID_SPACING": grid.spacing,
            "GRID_INVESTMENT": grid.investment,
            "MAKER_FEE": grid.maker_fee,
            "TAKER_FEE": grid.taker_fee,
            "TP": grid.take_profit_pct,
        }
    )
