/** Times, durations and the last minute's buckets: pure functions, the same in every view of the panel. */

import { UNSUCCESSFUL } from './statuses';

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

/** HH:MM:SS in 24-hour form whatever the browser's locale, like the journal and the dashboard. */
export function clock(epoch: number | null | undefined): string {
  if (!epoch) {
    return '';
  }
  const at = new Date(epoch * 1000);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map(twoDigits).join(':');
}

/** Milliseconds under a second, seconds with two decimals above, as the dashboard writes them. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The sparkline's window: the last minute in twelve bars of five seconds. */
const WINDOW_SECONDS = 60;
export const BUCKETS = 12;

export interface IBucket {
  ok: number;
  failed: number;
}

/** Count executions per five-second bucket of the last minute, oldest bucket first. */
export function lastMinute(
  records: readonly { received_at: number; status: string }[],
  now: number
): IBucket[] {
  const buckets: IBucket[] = Array.from({ length: BUCKETS }, () => ({ ok: 0, failed: 0 }));
  const width = WINDOW_SECONDS / BUCKETS;
  for (const record of records) {
    const age = now - record.received_at;
    if (age < 0 || age >= WINDOW_SECONDS) {
      continue;
    }
    const bucket = buckets[BUCKETS - 1 - Math.floor(age / width)];
    if (UNSUCCESSFUL.includes(record.status)) {
      bucket.failed += 1;
    } else {
      bucket.ok += 1;
    }
  }
  return buckets;
}
