import type { ButtonHTMLAttributes } from 'react';

/** The notice's id: the start buttons it disables point at it (aria-describedby). */
const NOTICE_ID = 'kill-switch-notice';

/** The account's kill switch, on a page that offers to start a run: shown only while it is on. */
export function KillSwitchNotice({ on }: { on: boolean }) {
  if (!on) return null;
  return (
    <div id={NOTICE_ID} className="alert alert-error" role="status">
      <strong>Your kill switch is on.</strong> Every bot is stopped and none can start until support resets it.
    </div>
  );
}

type StartRunButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & { killSwitchOn: boolean };

/** A button that starts a run: disabled while the kill switch is on, described by its notice. */
export function StartRunButton({ killSwitchOn, disabled, ...button }: StartRunButtonProps) {
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
