/** Parses the arguments of `/deploy health`. */
import { healthUsage } from '../../../templates/health.ts';
import { formatDuration, parseDuration } from '../../config/duration.ts';
import { MIN_WATCH_INTERVAL_MS } from '../../health/watches.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn } from '../kit/escape.ts';

/**
 * Watch bounds: every 10 s for at most 10 min by default; nothing more often than every 10 s (each
 * round updates a message, and Slack allows about 50 `chat.update` a minute for the whole app:
 * refused here, and guarded by the domain's watches too) or longer than 1 h.
 */
export const DEFAULT_WATCH_INTERVAL_MS = 10_000;
export const DEFAULT_WATCH_DURATION_MS = 10 * 60_000;
export const MIN_WATCH_MS = MIN_WATCH_INTERVAL_MS;
export const MAX_WATCH_DURATION_MS = 60 * 60_000;

export interface WatchSpec {
  intervalMs: number;
  maxDurationMs: number;
}

export type HealthArgs =
  | { kind: 'all' }
  | { kind: 'service'; service: string; environment?: string; watch?: WatchSpec };

function durationFlag(flag: string, value: string | undefined): number {
  const ms = value === undefined ? undefined : parseDuration(value);
  if (ms === undefined)
    throw new UserInputError(
      `\`${flag}\` needs a duration such as 10s, 30s or 5m${value === undefined ? '' : `, not "${escapeMrkdwn(value)}"`}.`,
      healthUsage,
    );
  if (ms < MIN_WATCH_MS)
    throw new UserInputError(
      `\`${flag} ${escapeMrkdwn(value ?? '')}\` is too short: the minimum is ${formatDuration(MIN_WATCH_MS)} (each round updates a Slack message, and Slack limits how often).`,
      healthUsage,
    );
  if (ms > MAX_WATCH_DURATION_MS)
    throw new UserInputError(
      `\`${flag} ${escapeMrkdwn(value ?? '')}\` is too long: the maximum is ${formatDuration(MAX_WATCH_DURATION_MS)}.`,
      healthUsage,
    );
  return ms;
}

export function parseHealthArgs(args: string): HealthArgs {
  const words = args.split(/\s+/).filter((w) => w !== '');
  const positional: string[] = [];
  let watch = false;
  let every: number | undefined;
  let forMs: number | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const [flag, inline] = word.includes('=') ? word.split('=', 2) : [word, undefined];
    if (flag === '--watch' || flag === '-w') watch = true;
    else if (flag === '--every' || flag === '--for') {
      const value = inline ?? words[++i];
      const ms = durationFlag(flag, value);
      if (flag === '--every') every = ms;
      else forMs = ms;
      watch = true;
    } else if (word.startsWith('-'))
      throw new UserInputError(
        `\`${escapeMrkdwn(word)}\` is not an option of \`/deploy health\`.`,
        healthUsage,
      );
    else positional.push(word);
  }
  const [service, environment, ...extra] = positional;
  if (service === undefined) throw new UserInputError('Name the service to check.', healthUsage);
  if (extra.length > 0)
    throw new UserInputError(`Too many words: \`${escapeMrkdwn(positional.join(' '))}\`.`, healthUsage);
  if (service.toLowerCase() === 'all') {
    if (watch || environment !== undefined)
      throw new UserInputError('`/deploy health all` takes no environment or watch options.', healthUsage);
    return { kind: 'all' };
  }
  const result: HealthArgs = {
    kind: 'service',
    service: service.toLowerCase(),
    ...(environment !== undefined ? { environment } : {}),
  };
  if (!watch) return result;
  const intervalMs = every ?? DEFAULT_WATCH_INTERVAL_MS;
  const maxDurationMs = forMs ?? Math.max(DEFAULT_WATCH_DURATION_MS, intervalMs);
  if (intervalMs > maxDurationMs)
    throw new UserInputError(
      `\`--every ${formatDuration(intervalMs)}\` is longer than \`--for ${formatDuration(maxDurationMs)}\`: the watch would check only once.`,
      healthUsage,
    );
  return { ...result, watch: { intervalMs, maxDurationMs } };
}
