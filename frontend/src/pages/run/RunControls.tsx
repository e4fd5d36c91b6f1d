import { useState } from 'react';
import { useStopRun, useTripKillSwitch } from '../../api/hooks';
import type { RunStatus } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ProblemAlert } from '../../components/ProblemAlert';
import { isActive } from '../../lib/pnl';

/** Stop this run, or trip the account's kill switch; each asks first and says what happens. */
export function RunControls({ run }: { run: RunStatus }) {
  const [asking, setAsking] = useState<'stop' | 'kill' | null>(null);
  const stop = useStopRun();
  const kill = useTripKillSwitch();
  const orders = run.open_orders;
  const where = run.mode === 'live' ? 'on the exchange' : 'in the paper account';
  const close = () => setAsking(null);
  return (
    <div className="run-controls">
      <button type="button" className="button secondary" disabled={!isActive(run.status)} onClick={() => setAsking('stop')}>
        Stop bot
      </button>
      <button type="button" className="button danger" onClick={() => setAsking('kill')}>
        Kill switch
      </button>
      <ProblemAlert error={stop.error ?? kill.error} action="Refused" />
      <ConfirmDialog
        open={asking === 'stop'}
        title="Stop this bot?"
        confirmLabel="Stop bot"
        busy={stop.isPending}
        onCancel={close}
        onConfirm={() => stop.mutate(run.id, { onSuccess: close })}
      >
        <p>The bot stops after its current tick and places no new orders.</p>
        <p>
          Its <strong>{orders} open {orders === 1 ? 'order stays' : 'orders stay'} {where}</strong>: they are not cancelled,
          so starting the bot again picks them up. Cancel them {where} if you do not mean to restart.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={asking === 'kill'}
        title="Trip the kill switch?"
        confirmLabel="Stop every bot"
        danger
        busy={kill.isPending}
        onCancel={close}
        onConfirm={() => kill.mutate('kill switch from the run page', { onSuccess: close })}
      >
        <p>
          <strong>Every running bot of your account stops</strong> after its current tick, not only this one.
        </p>
        <p>
          <strong>Each bot cancels its open orders</strong>: this one&apos;s {orders} {orders === 1 ? 'order' : 'orders'} {where}, and
          every other bot&apos;s (live bots cancel theirs on the exchange). Nothing of a grid can fill afterwards.
        </p>
        <p>Coins and cash the bots hold stay in your account: nothing is sold.</p>
        <p>No bot can start again until support resets the kill switch.</p>
      </ConfirmDialog>
    </div>
  );
}
