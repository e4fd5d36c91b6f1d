const labels: Record<string, string> = {
  created: 'Starting',
  running: 'Running',
  stopped: 'Stopped',
  finished: 'Finished',
  failed: 'Failed',
  tripped: 'Guard tripped',
  draft: 'Not started',
};

/** A run's state as a word and a colour (never the colour alone). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{labels[status] ?? status}</span>;
}
