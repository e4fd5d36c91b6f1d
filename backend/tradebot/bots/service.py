"""Bots: a grid configuration validated against the exchange's rules, saved per client.

Creating a bot builds its plan with the engine's own ``build_plan`` and the pair's offline
market rules, so a grid that could never trade (ticks merging lines, orders under the minimum,
spacing below the fees) is refused with the engine's one-line reason, and the response carries
the plan summary as a preview.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from tradebot.billing.entitlements import require_new_bot
from tradebot.billing.repository import EntitlementRepository
from tradebot.bots.repository import BotBacktestRepository, BotRepository, BotRunRepository
from tradebot.bots.schemas import (
    BotCreate,
    BotCreated,
    BotUpdate,
    BotView,
    GridSpec,
    PlanPreview,
)
from tradebot.clients.repository import AuditRepository
from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.errors import BadInputError, ConflictError
from tradebot.kit.clock import utcnow
from tradebot.kit.service import ClientService
from tradebot.models.bots import Bot
from tradebot.venues.catalog import BINANCE_SPOT, offline_rules

OUT_OF_RANGE = "the grid's numbers are out of range: narrow the range or use fewer lines"


def grid_plan(pair: str, grid: GridSpec) -> GridPlan:
    """The engine's plan of ``grid`` on ``pair`` with the exchange's rounding and minimums."""
    try:
        rules = offline_rules(pair)
    except BadInputError:
        raise BadInputError(
            f"pair {pair!r} is not supported (supported: {', '.join(BINANCE_SPOT)})"
        ) from None
    try:
        return build_plan(grid.config(), rules)
    except GridPlanError:
        raise
    except (ArithmeticError, ValueError):
        # Extreme but in-bounds numbers (a huge range over few lines...) overflow the maths.
        raise GridPlanError(OUT_OF_RANGE) from None


def plan_preview(pair: str, grid: GridSpec, reference_price: float | None = None) -> PlanPreview:
    """The plan summary of ``grid`` on ``pair``; a grid that cannot trade is ``GridPlanError``."""
    plan = grid_plan(pair, grid)
    try:
        summary = plan.summary(reference_price)
    except ArithmeticError:
        raise GridPlanError(OUT_OF_RANGE) from None
    return PlanPreview.model_validate(summary)


def preview(body: BotCreate) -> PlanPreview:
    return plan_preview(body.pair, body.grid, body.reference_price)


def bot_view(row: Bot) -> BotView:
    return BotView(
        id=row.id,
        name=row.name,
        exchange=row.exchange,
        pair=row.pair,
        grid=GridSpec.model_validate(row.config),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class BotService(ClientService):
    async def create(self, body: BotCreate) -> BotCreated:
        plan = preview(body)  # refuses a grid that cannot trade before anything is written
        async with self.tx() as session:
            facts = await EntitlementRepository(session, self.scope).facts(lock=True)
            require_new_bot(facts, datetime.now(UTC))
            row = Bot(
                id=uuid.uuid4().hex,
                client_id=self.scope.client_id,
                name=body.name.strip() or body.pair,
                exchange=body.exchange,
                pair=body.pair,
                config=body.grid.model_dump(mode="json"),
            )
            await BotRepository(session, self.scope).add(row)
            await AuditRepository(session, self.scope).record(
                self.actor, "bot_created", target=f"bot {row.id}", details={"pair": body.pair}
            )
            return BotCreated(**bot_view(row).model_dump(), plan=plan)

    async def list(self) -> Sequence[BotView]:
        async with self.tx() as session:
            return [bot_view(row) for row in await BotRepository(session, self.scope).all()]

    async def get(self, bot_id: str) -> BotCreated:
        async with self.tx() as session:
            row = await BotRepository(session, self.scope).get(bot_id)
        view = bot_view(row)
        return BotCreated(**view.model_dump(), plan=plan_preview(row.pair, view.grid))

    async def update(self, bot_id: str, body: BotUpdate) -> BotCreated:
        """Rename the bot and/or give it a new grid (refused while a run of it is active: only
        a rename is allowed then; a running grid is edited through its run)."""
        async with self.tx() as session:
            # The client row's lock serialises this with a run start of the same client.
            await EntitlementRepository(session, self.scope).facts(lock=True)
            row = await BotRepository(session, self.scope).get(bot_id)
            grid = body.grid if body.grid is not None else GridSpec.model_validate(row.config)
            plan = plan_preview(row.pair, grid)  # refuses a grid that cannot trade
            new_grid = grid.model_dump(mode="json")
            changed = {"name"} if body.name is not None and body.name.strip() != row.name else set()
            if new_grid != GridSpec.model_validate(row.config).model_dump(mode="json"):
                changed.add("grid")
                active = await BotRunRepository(session, self.scope).active_of(bot_id)
                if active:
                    raise ConflictError(
                        f"bot {bot_id!r} has an active run ({active[0].id}): only its name can "
                        "change; stop the run first, or edit the running grid through the run"
                    )
            if changed:
                if body.name is not None:
                    row.name = body.name.strip() or row.name
                row.config = new_grid
                row.updated_at = utcnow()
                await AuditRepository(session, self.scope).record(
                    self.actor,
                    "bot_updated",
                    target=f"bot {row.id}",
                    details={"changed": sorted(changed)},
                )
            return BotCreated(**bot_view(row).model_dump(), plan=plan)

    async def delete(self, bot_id: str) -> None:
        """Delete the bot and its finished backtests (refused while a run or a backtest of it
        is working). Its past runs stay readable: a run carries its own copy of the grid."""
        async with self.tx() as session:
            await EntitlementRepository(session, self.scope).facts(lock=True)
            bots = BotRepository(session, self.scope)
            row = await bots.get(bot_id)
            active = await BotRunRepository(session, self.scope).active_of(bot_id)
            if active:
                raise ConflictError(
                    f"bot {bot_id!r} has an active run ({active[0].id}): stop it first"
                )
            backtests = BotBacktestRepository(session, self.scope)
            if await backtests.working_of(bot_id):
                raise ConflictError(
                    f"a backtest of bot {bot_id!r} is still computing: delete it once it is done"
                )
            dropped = await backtests.delete_of(bot_id)
            await bots.delete(bot_id)
            await AuditRepository(session, self.scope).record(
                self.actor,
                "bot_deleted",
                target=f"bot {row.id}",
                details={"pair": row.pair, "backtests_deleted": dropped},
            )
