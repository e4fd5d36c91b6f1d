import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { keys } from '../../api/hooks';
import { ApiProblem, unwrap } from '../../api/problem';
import type { components } from '../../api/schema';
import { Field } from '../../components/Field';
import { TextFigure } from '../../components/Figure';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { DEX_API_FIELDS, flagText, pctText, toSellCheck, validateDex, type DexFormValues } from '../../lib/dexForm';

type SellCheck = components['schemas']['SellCheck'];

const START: DexFormValues = { rpcUrl: '', router: '', token: '', amount: '0.1', maxSellTaxPct: '10' };

const VERDICT: Record<SellCheck['sellable'], string> = {
  yes: 'Sellable',
  no: 'Not sellable',
  unknown: 'Could not tell',
};

function gas(value: number | null): string {
  return value === null ? '—' : value.toLocaleString('en-US');
}

/** The verdict of one check: can it be sold, at what tax, what it costs in gas, what the token allows its owner. */
export function SellCheckResult({ result }: { result: SellCheck }) {
  const reverts = [
    ['Buy reverted', result.buy_revert],
    ['Sell reverted', result.sell_revert],
    ['Transfer reverted', result.transfer_revert],
  ].filter((r): r is [string, string] => r[1] !== null);
  return (
    <section className={`card dex-result dex-${result.sellable}`} aria-labelledby="dex-verdict" role="status">
      <h2 id="dex-verdict">{VERDICT[result.sellable]}</h2>
      <p>{result.why}</p>
      <dl className="figures">
        <TextFigure label="Buy tax">{pctText(result.buy_tax_pct)}</TextFigure>
        <TextFigure label="Sell tax">{pctText(result.sell_tax_pct)}</TextFigure>
        <TextFigure label="Transfer tax">{pctText(result.transfer_tax_pct)}</TextFigure>
        <TextFigure label="Round-trip loss">{pctText(result.round_trip_loss_pct)}</TextFigure>
        <TextFigure label="Gas to buy">{gas(result.buy_gas)}</TextFigure>
        <TextFigure label="Gas to sell">{gas(result.sell_gas)}</TextFigure>
        <TextFigure label="Pool liquidity (quote)">{Number(result.liquidity_quote).toLocaleString('en-US', { maximumFractionDigits: 4 })}</TextFigure>
        <TextFigure label="Checked in">{result.elapsed_ms} ms</TextFigure>
      </dl>
      <h3>Flags</h3>
      {result.flags.length > 0 ? (
        <ul className="dex-flags">
          {result.flags.map((flag) => (
            <li key={flag}>{flagText(flag)}</li>
          ))}
        </ul>
      ) : (
        <p className="muted">No flag: the owner cannot pause or blacklist, no limit was hit, the sell tax is within {pctText(result.max_sell_tax_pct)}.</p>
      )}
      {reverts.length > 0 ? (
        <ul className="dex-reverts">
          {reverts.map(([what, why]) => (
            <li key={what}>
              {what}: <code>{why}</code>
            </li>
          ))}
        </ul>
      ) : null}
      <p className="muted small">
        Pool {result.pair} · router {result.router} · {result.amount_in} of the quote {result.quote} in.
      </p>
    </section>
  );
}

/** `POST /dex/check-sell` for the plans that include it; the others see why it is locked. */
export default function DexPage() {
  const api = useApi();
  const access = useQuery({ queryKey: keys.dexAccess, queryFn: async () => unwrap(await api.GET('/dex/access')) });
  const [values, setValues] = useState(START);
  const [touched, setTouched] = useState(false);
  const errors = validateDex(values);
  const check = useMutation({
    mutationFn: async (body: ReturnType<typeof toSellCheck>) => unwrap(await api.POST('/dex/check-sell', { body })),
  });
  const server = check.error instanceof ApiProblem ? check.error.fieldErrors() : {};
  const shown = (field: keyof DexFormValues) => (touched ? errors[field] : undefined) ?? server[DEX_API_FIELDS[field]];
  const set = (field: keyof DexFormValues) => (event: React.ChangeEvent<HTMLInputElement>) => {
    setValues({ ...values, [field]: event.target.value });
    check.reset();
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (Object.keys(errors).length > 0) return;
    check.mutate(toSellCheck(values));
  }

  if (access.isPending) return <Loading what="your DEX access" />;
  const locked = access.data ? !access.data.available : false;
  return (
    <section className="page" aria-labelledby="dex-title">
      <div className="page-head">
        <h1 id="dex-title">DEX sell check</h1>
      </div>
      <p className="muted">
        Can this token really be sold, and at what tax? The check buys with the amount you give and sells it all back in one simulated call
        on the node you name (<code>eth_call</code> with state overrides): nothing is signed or sent, no wallet is needed.
      </p>
      <ProblemAlert error={access.error} action="Your DEX access could not be loaded" />
      {locked && access.data ? (
        <div className="card dex-locked" role="status" aria-labelledby="dex-locked-title">
          <h2 id="dex-locked-title">Locked on the {access.data.plan} plan</h2>
          <p>{access.data.reason}</p>
          <p>
            DEX sell checks come with {access.data.included_in}. <Link to="/start">See the plans</Link>
          </p>
        </div>
      ) : null}
      <form className="card dex-form" onSubmit={submit} noValidate aria-label="DEX sell check">
        <fieldset disabled={locked || check.isPending}>
          <legend className="sr-only">Token and pool</legend>
          <Field label="RPC URL" value={values.rpcUrl} onChange={set('rpcUrl')} error={shown('rpcUrl')} placeholder="https://…" hint="A public node of the chain that supports eth_call state overrides." spellCheck={false} autoComplete="off" />
          <Field label="Router" value={values.router} onChange={set('router')} error={shown('router')} placeholder="0x…" hint="A Uniswap-V2-style router (its WETH is the quote)." spellCheck={false} autoComplete="off" />
          <Field label="Token" value={values.token} onChange={set('token')} error={shown('token')} placeholder="0x…" spellCheck={false} autoComplete="off" />
          <div className="field-row">
            <Field label="Amount" inputMode="decimal" value={values.amount} onChange={set('amount')} error={shown('amount')} hint="Of the quote, to buy with." />
            <Field label="Max sell tax" inputMode="decimal" value={values.maxSellTaxPct} onChange={set('maxSellTaxPct')} error={shown('maxSellTaxPct')} suffix="%" hint="Flag a sell tax above this." />
          </div>
          <div className="card-actions">
            <button type="submit" className="button primary">
              {check.isPending ? 'Checking…' : 'Check sell'}
            </button>
          </div>
        </fieldset>
        {access.data?.available ? (
          <p className="muted small">
            Up to {access.data.checks_per_window} checks per {access.data.window_s} s.
          </p>
        ) : null}
        <ProblemAlert error={check.error} action="Not checked" fieldsShown={Object.values(DEX_API_FIELDS)} />
      </form>
      {check.data ? <SellCheckResult result={check.data} /> : null}
    </section>
  );
}
