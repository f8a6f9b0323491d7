import { z } from 'zod';

/** A year is a Julian year, 365.25 days: seven of them span seven calendar years within six hours. */
export const YEAR_MS = 365.25 * 86_400_000;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, y: YEAR_MS } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|y)$/;

/** Parses "500ms", "5s", "15m", "2h", "1d", "7y" into milliseconds; returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_RE.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
}

/** A duration in config: a string such as "15m" or a number of milliseconds. Parsed to milliseconds. */
export const durationSchema = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration: use a number and a unit, such as 500ms, 5s, 15m, 2h, 1d or 7y`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** Formats milliseconds as a short human duration ("1h 5m", "45s", "7y"). */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms >= YEAR_MS) {
    const years = Math.floor(ms / YEAR_MS);
    const restDays = Math.floor((ms - years * YEAR_MS) / 86_400_000);
    return restDays > 0 ? `${years}y ${restDays}d` : `${years}y`;
  }
  const totalSeconds = Math.round(ms / 1_000);
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds && !days && !hours) parts.push(`${seconds}s`);
  return parts.join(' ') || '0s';
}
