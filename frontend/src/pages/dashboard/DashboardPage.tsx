import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { KillSwitchNotice } from '../../components/KillSwitch';
import { ProblemAlert } from '../../components/ProblemAlert';
import { Loading } from '../../components/Loading';
import { isActive, runFigures } from '../../lib/pnl';
import { BotCard } from './BotCard';
import { useBotSummaries, type BotSummary } from './useBotSummaries';

type SortKey = 'newest' | 'pnl' | 'name';
type StateFilter = 'all' | 'active' | 'stopped' | 'never';

function matchesState(summary: BotSummary, filter: StateFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'never') return summary.run === null;
  if (!summary.run) return false;
  return filter === 'active' ? isActive(summary.run.status) : !isActive(summary.run.status);
}

export function sortAndFilter(
  summaries: readonly BotSummary[],
  { sort, state, text }: { sort: SortKey; state: StateFilter; text: string },
  now: number,
): BotSummary[] {
  const needle = text.trim().toLowerCase();
  const pnl = (s: BotSummary) => (s.status ? (runFigures(s.status, s.bot.grid.investment, now)?.totalPnl ?? 0) : -Infinity);
  const compare: Record<SortKey, (a: BotSummary, b: BotSummary) => number> = {
    newest: (a, b) => Date.parse(b.bot.created_at) - Date.parse(a.bot.created_at),
    pnl: (a, b) => pnl(b) - pnl(a),
    name: (a, b) => a.bot.name.localeCompare(b.bot.name),
  };
  return summaries
    .filter((s) => matchesState(s, state))
    .filter((s) => !needle || s.bot.name.toLowerCase().includes(needle) || s.bot.pair.toLowerCase().includes(needle))
    .sort(compare[sort]);
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export default function DashboardPage() {
  const { summaries, isLoading, error, refetch } = useBotSummaries();
  const [sort, setSort] = useState<SortKey>('newest');
  const [state, setState] = useState<StateFilter>('all');
  const [text, setText] = useState('');
  const now = useNow(30_000);
  const shown = sortAndFilter(summaries, { sort, state, text }, now);

  return (
    <section className="page" aria-labelledby="bots-title">
      <div className="page-head">
        <h1 id="bots-title">Your bots</h1>
        <Link className="button primary" to="/bots/new">
          New bot
        </Link>
      </div>
      <KillSwitchNotice />
      {error ? (
        <div>
          <ProblemAlert error={error} action="Your bots could not be loaded" />
          <button type="button" className="button secondary" onClick={() => void refetch()}>
            Try again
          </button>
        </div>
      ) : isLoading ? (
        <Loading what="your bots" />
      ) : summaries.length === 0 ? (
        <div className="empty card">
          <h2>No bots yet</h2>
          <p>
            A grid bot buys on the way down and sells on the way up inside a price range you choose. Start with a
            paper bot: it trades simulated money on real prices, so nothing is at risk.
          </p>
          <div className="card-actions">
            <Link className="button primary" to="/bots/new">
              Create your first paper bot
            </Link>
            <Link className="button secondary" to="/start">
              See the getting-started checklist
            </Link>
          </div>
        </div>
      ) : (
        <>
          <div className="toolbar" role="search" aria-label="Filter bots">
            <label>
              Search
              <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Name or pair" />
            </label>
            <label>
              State
              <select value={state} onChange={(e) => setState(e.target.value as StateFilter)}>
                <option value="all">All</option>
                <option value="active">Running</option>
                <option value="stopped">Stopped</option>
                <option value="never">Never started</option>
              </select>
            </label>
            <label>
              Sort by
              <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
                <option value="newest">Newest</option>
                <option value="pnl">Total P&L</option>
                <option value="name">Name</option>
              </select>
            </label>
            <p className="muted" aria-live="polite">
              {shown.length} of {summaries.length} bots
            </p>
          </div>
          {shown.length === 0 ? (
            <p className="empty">No bot matches these filters. Clear the search or choose “All”.</p>
          ) : (
            <div className="card-grid">
              {shown.map((summary) => (
                <BotCard key={summary.bot.id} summary={summary} now={now} />
              ))}
            </div>
          )}
        </>
      )}
    </section>
  );
}
