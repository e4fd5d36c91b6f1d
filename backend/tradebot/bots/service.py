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
from tradebot.bots.repository import BotRepository
from tradebot.bots.schemas import BotCreate, BotCreated, BotView, GridSpec, PlanPreview
from tradebot.clients.repository import AuditRepository
from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.errors import BadInputError
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


def preview(body: BotCreate) -> PlanPreview:
    plan = grid_plan(body.pair, body.grid)
    try:
        summary = plan.summary(body.reference_price)
    except ArithmeticError:
        raise GridPlanError(OUT_OF_RANGE) from None
    return PlanPreview.model_validate(summary)


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
        summary = grid_plan(row.pair, view.grid).summary()
        return BotCreated(**view.model_dump(), plan=PlanPreview.model_validate(summary))
