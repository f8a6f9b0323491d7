/** What `/deploy audit …` asks for: `[export] [service] [--since 7d] [--page N]`, parsed or refused. */
import { formatDuration, parseDuration, YEAR_MS } from '../../config/duration.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';

export const LIST_SINCE_DEFAULT = '7d';
export const EXPORT_SINCE_DEFAULT = '30d';
/** The longest --since: older records than this do not exist (the retention is years, not centuries). */
const MAX_SINCE_MS = 100 * YEAR_MS;
const MAX_PAGE = 100_000;
const SERVICE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const AUDIT_USAGE =
  '`/deploy audit [service] [--since 7d] [--page N]` lists audit records; `/deploy audit export [service] [--since 30d]` sends them to you as a CSV file.';

export interface AuditRequest {
  kind: 'list' | 'export';
  service: string | undefined;
  /** As typed (or the default), for the answer: `7d`. */
  sinceText: string;
  sinceMs: number;
  page: number;
}

const shown = (text: string) => `\`${escapeMrkdwn(truncate(text, 40))}\``;

function sinceOf(value: string | undefined): { text: string; ms: number } {
  if (value === undefined || value === '') {
    throw new UserInputError('`--since` needs a duration, such as `--since 7d`.', AUDIT_USAGE);
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new UserInputError(
      `${shown(`--since ${value}`)} is not a duration: use a number and a unit, such as \`12h\`, \`7d\`, \`30d\` or \`1y\`.`,
      AUDIT_USAGE,
    );
  }
  if (ms <= 0) throw new UserInputError('`--since` must be longer than nothing, such as `--since 1d`.');
  if (ms > MAX_SINCE_MS) {
    throw new UserInputError(`${shown(`--since ${value}`)} is longer than ${formatDuration(MAX_SINCE_MS)}.`);
  }
  return { text: value, ms };
}

function pageOf(value: string | undefined): number {
  if (value !== undefined && /^\d{1,6}$/.test(value)) {
    const page = Number(value);
    if (page >= 1 && page <= MAX_PAGE) return page;
  }
  throw new UserInputError(
    `${shown(`--page ${value ?? ''}`.trim())} is not a page number: use \`--page 2\`.`,
    AUDIT_USAGE,
  );
}

/** Parses the text after `/deploy audit`. Bad input is a UserInputError naming what was wrong. */
export function parseAuditArgs(args: string): AuditRequest {
  const words = args.split(/\s+/).filter((w) => w.length > 0);
  let kind: AuditRequest['kind'] = 'list';
  if (words[0]?.toLowerCase() === 'export') {
    kind = 'export';
    words.shift();
  }
  let service: string | undefined;
  let since: { text: string; ms: number } | undefined;
  let page: number | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const flag = /^--([a-z]+)(?:=(.*))?$/i.exec(word);
    if (flag) {
      const name = (flag[1] ?? '').toLowerCase();
      const value = flag[2] ?? words[++i];
      if (name === 'since') since = sinceOf(value);
      else if (name === 'page' && kind === 'list') page = pageOf(value);
      else
        throw new UserInputError(
          `${shown(word)} is not an option of \`/deploy audit${kind === 'export' ? ' export' : ''}\`.`,
          AUDIT_USAGE,
        );
      continue;
    }
    if (service !== undefined) {
      throw new UserInputError(
        `Name at most one service (got ${shown(service)} and ${shown(word)}).`,
        AUDIT_USAGE,
      );
    }
    const name = word.toLowerCase();
    if (!SERVICE_NAME.test(name)) {
      throw new UserInputError(`${shown(word)} is not a service name.`, AUDIT_USAGE);
    }
    service = name;
  }
  since ??= sinceOf(kind === 'export' ? EXPORT_SINCE_DEFAULT : LIST_SINCE_DEFAULT);
  return { kind, service, sinceText: since.text, sinceMs: since.ms, page: page ?? 1 };
}
