const DAY_MS = 86_400_000;

export interface PaperCountdown {
  daysDone: number;
  daysRequired: number;
  /** Milliseconds until live may be asked for; 0 once the paper days are done. */
  remainingMs: number;
}

/** Where the user stands in the paper days before live, from when live becomes possible. */
export function paperCountdown(liveFrom: string | null, now: number, daysRequired = 7): PaperCountdown | null {
  if (!liveFrom) return null;
  const remainingMs = Math.max(0, Date.parse(liveFrom) - now);
  const daysDone = Math.min(daysRequired, Math.floor((daysRequired * DAY_MS - remainingMs) / DAY_MS));
  return { daysDone, daysRequired, remainingMs };
}
