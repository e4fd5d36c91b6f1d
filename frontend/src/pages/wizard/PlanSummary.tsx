import type { UseQueryResult } from '@tanstack/react-query';
import type { PlanPreview } from '../../api/types';
import { Figure, TextFigure } from '../../components/Figure';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatPct, formatQty, formatUsd } from '../../lib/format';

export function PlanSummary({ preview, base }: { preview: UseQueryResult<PlanPreview>; base: string }) {
  const plan = preview.data;
  return (
    <section className="card" aria-labelledby="plan-title" aria-busy={preview.isFetching}>
      <h2 id="plan-title">Plan summary</h2>
      {preview.error ? <ProblemAlert error={preview.error} action="This grid cannot trade" /> : null}
      {!plan && !preview.error ? <p className="muted">Fill in the settings to see what the grid will do.</p> : null}
      {plan && !preview.error ? (
        <>
          <dl className="figures">
            <TextFigure label="Profit per grid (after fees)">
              <span className="gain">
                {formatPct(plan.profit_per_grid_pct_min, 3)} – {formatPct(plan.profit_per_grid_pct_max, 3)}
              </span>
            </TextFigure>
            <TextFigure label="Per round trip">
              {formatUsd(plan.profit_per_grid_quote_min)} – {formatUsd(plan.profit_per_grid_quote_max)}
            </TextFigure>
            <Figure label="Capital needed" value={plan.investment} />
            <Figure label="Per order" value={plan.order_quote_per_cell} />
            <Figure label="Minimum investment" value={plan.min_investment} />
            {plan.start_buy_orders != null ? <Figure label="Buy orders at start" value={plan.start_buy_orders} kind="count" /> : null}
            {plan.start_sell_orders != null ? <Figure label="Sell orders at start" value={plan.start_sell_orders} kind="count" /> : null}
            {plan.start_base_to_buy != null ? (
              <TextFigure label={`${base} bought at start`}>
                {formatQty(plan.start_base_to_buy)} {base}
              </TextFigure>
            ) : null}
          </dl>
          <p className="muted small">
            {plan.lines} lines, {plan.spacing} spacing, prices rounded to the exchange’s tick. A round trip is one buy
            and the sell one line above it. Under the minimum investment an order would fall below the exchange’s
            minimum: such a grid is refused, never traded with levels dropped.
          </p>
        </>
      ) : null}
    </section>
  );
}
