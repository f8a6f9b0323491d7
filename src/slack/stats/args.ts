/** What `/incident stats [--since 30d] [service]` asks for, parsed (zod) or refused in plain words. */
import { z } from 'zod';
import { formatDuration, parseDuration, YEAR_MS } from '../../config/duration.ts';
import { closestMatches } from '../../util/closest.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';

export const STATS_SINCE_DEFAULT = '30d';
const MAX_SINCE_MS = 10 * YEAR_MS;

export const STATS_USAGE =
  '`/incident stats [--since 30d] [service]`: incident times, deploy figures and the error budget, e.g. `/incident stats --since 7d barq-api`.';

export interface StatsRequest {
  sinceText: string;
  sinceMs: number;
  service: string | undefined;
}

const shown = (text: string) => `\`${escapeMrkdwn(truncate(text, 40))}\``;

const requestSchema = z.object({
  since: z
    .string()
    .default(STATS_SINCE_DEFAULT)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${shown(`--since ${text}`)} is not a duration: use a number and a unit, such as \`7d\`, \`30d\` or \`1y\`.`,
        });
        return z.NEVER;
      }
      if (ms < 3_600_000 || ms > MAX_SINCE_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `${shown(`--since ${text}`)} is out of range: from \`1h\` to ${formatDuration(MAX_SINCE_MS)}.`,
        });
        return z.NEVER;
      }
      return { text, ms };
    }),
  service: z.string().optional(),
});

/** Parses the words after `/incident stats`; a service must be one of `services` (the config's). */
export function parseStatsArgs(args: string, services: readonly string[]): StatsRequest {
  const words = args.split(/\s+/).filter((w) => w.length > 0);
  const raw: { since?: string; service?: string } = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const flag = /^--([a-z]+)(?:=(.*))?$/i.exec(word);
    if (flag) {
      if ((flag[1] ?? '').toLowerCase() !== 'since')
        throw new UserInputError(`${shown(word)} is not an option of \`/incident stats\`.`, STATS_USAGE);
      const value = flag[2] ?? words[++i];
      if (value === undefined || value === '')
        throw new UserInputError('`--since` needs a duration, such as `--since 7d`.', STATS_USAGE);
      raw.since = value;
    } else if (raw.since === undefined && parseDuration(word) !== undefined && !services.includes(word)) {
      // `/incident stats 7d`: a bare duration is the period.
      raw.since = word;
    } else if (raw.service !== undefined) {
      throw new UserInputError(
        `Name at most one service (got ${shown(raw.service)} and ${shown(word)}).`,
        STATS_USAGE,
      );
    } else raw.service = word.toLowerCase();
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserInputError(parsed.error.issues[0]?.message ?? 'That is not a stats request.', STATS_USAGE);
  }
  const { since, service } = parsed.data;
  if (service !== undefined && !services.includes(service)) {
    const close = closestMatches(service, services);
    const known = services.length > 0 ? services.map((s) => `\`${s}\``).join(', ') : 'none configured';
    throw new UserInputError(
      `${shown(service)} is not a service of this bot${close.length > 0 ? `; did you mean \`${close[0]}\`?` : '.'} Services: ${known}.`,
      STATS_USAGE,
    );
  }
  return { sinceText: since.text, sinceMs: since.ms, service };
}
