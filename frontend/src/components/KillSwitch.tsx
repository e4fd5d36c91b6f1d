import type { ButtonHTMLAttributes } from 'react';
import { useKillSwitch } from '../api/hooks';

/** The notice's id: the start buttons it disables point at it (aria-describedby). */
const NOTICE_ID = 'kill-switch-notice';

/** Whether the account's kill switch is on (one cached query, shared by every reader). */
function useKillSwitchOn(): boolean {
  return useKillSwitch().data?.active ?? false;
}

/** The account's kill switch, on a page that offers to start a run: shown only while it is on. */
export function KillSwitchNotice() {
  if (!useKillSwitchOn()) return null;
  return (
    <div id={NOTICE_ID} className="alert alert-error" role="status">
      <strong>Your kill switch is on.</strong> Every bot is stopped and none can start until support resets it.
    </div>
  );
}

/** A button that starts a run: disabled while the kill switch is on, described by its notice. */
export function StartRunButton({ disabled, ...button }: ButtonHTMLAttributes<HTMLButtonElement>) {
  const killSwitchOn = useKillSwitchOn();
  return (
    <button
      type="button"
      {...button}
      disabled={killSwitchOn || disabled}
      title={killSwitchOn ? 'No bot can start while your kill switch is on' : undefined}
      aria-describedby={killSwitchOn ? NOTICE_ID : undefined}
    />
  );
}
