import { useBilling, usePlans, useStripeRedirect } from '../../api/hooks';
import type { CheckoutPlan, Plan } from '../../api/types';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';

const CHECKOUT_PLANS = new Set<string>(['starter', 'pro'] satisfies CheckoutPlan[]);

function isCheckoutPlan(name: string): name is CheckoutPlan {
  return CHECKOUT_PLANS.has(name);
}

function PlanFeatures({ plan }: { plan: Plan }) {
  return (
    <ul className="plan-features">
      <li>
        {plan.max_bots} bots, {plan.max_running_bots} running at once
      </li>
      <li>{plan.live_trading ? 'Live trading after 7 days of paper' : 'Paper trading only'}</li>
      <li>
        {plan.max_exchanges} exchange{plan.max_exchanges === 1 ? '' : 's'}
      </li>
      <li>{plan.backtest_exports ? 'Backtest exports and fills on charts' : 'Backtests without export'}</li>
    </ul>
  );
}

/** The plans side by side; a first paid plan goes through Stripe Checkout, later changes
 * (and cancellation) through Stripe's billing portal. */
export function PlanPicker() {
  const plans = usePlans();
  const billing = useBilling();
  const redirect = useStripeRedirect();
  if (plans.isLoading || billing.isLoading) return <Loading what="plans" />;
  const current = billing.data?.plan.name;
  return (
    <div>
      <ProblemAlert error={plans.error ?? billing.error ?? redirect.error} action="Billing" />
      <div className="plan-grid">
        {(plans.data ?? [])
          .filter((plan) => plan.price_usd_month !== null)
          .map((plan) => (
            <article key={plan.name} className={`card plan ${plan.name === current ? 'plan-current' : ''}`} aria-labelledby={`plan-${plan.name}`}>
              <h3 id={`plan-${plan.name}`}>{plan.name[0]?.toUpperCase() + plan.name.slice(1)}</h3>
              <p className="plan-price">
                {plan.price_usd_month === 0 ? 'Free' : `$${plan.price_usd_month} / month`}
              </p>
              <PlanFeatures plan={plan} />
              {plan.name === current ? (
                <p className="badge badge-running">Your plan</p>
              ) : isCheckoutPlan(plan.name) && !billing.data?.paid ? (
                <button
                  type="button"
                  className="button primary"
                  disabled={redirect.isPending}
                  onClick={() => redirect.mutate({ checkout: plan.name as CheckoutPlan })}
                >
                  Choose {plan.name}
                </button>
              ) : null}
            </article>
          ))}
      </div>
      {billing.data?.paid ? (
        <button type="button" className="button secondary" onClick={() => redirect.mutate('portal')} disabled={redirect.isPending}>
          Change plan, invoices and payment (Stripe)
        </button>
      ) : null}
    </div>
  );
}
