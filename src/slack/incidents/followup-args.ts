/**
 * The words of `/incident followup [INC-n] add @owner <text> [due <date>] | list | done <n>`: what
 * was asked, or a UserInputError saying what was wrong and how to write it (what is echoed, escaped).
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { parseDuration } from '../../config/duration.ts';
import { UserInputError } from '../kit/errors.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';
import { mentionedUser } from './command-helpers.ts';

/** A due date is reminded at 09:00 UTC that day. */
export const DUE_HOUR_UTC = 9;
const MAX_DUE_MS = 2 * 365 * 86_400_000;

export type FollowupRequest =
  | { verb: 'add'; owner: string; text: string; dueAt: Date | null }
  | { verb: 'list' }
  | { verb: 'done'; number: number };

const echo = (text: string) => `\`${escapeMrkdwn(truncate(text.replace(/`/g, "'"), 60))}\``;

function parseDue(word: string, now: Date, usage: string): Date {
  const w = word.toLowerCase();
  const day = (offsetDays: number) => {
    const d = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + offsetDays, DUE_HOUR_UTC),
    );
    return d;
  };
  let due: Date | undefined;
  if (w === 'today') due = day(0);
  else if (w === 'tomorrow') due = day(1);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(w)) {
    const [y, m, d] = w.split('-').map(Number) as [number, number, number];
    const date = new Date(Date.UTC(y, m - 1, d, DUE_HOUR_UTC));
    if (date.getUTCMonth() === m - 1 && date.getUTCDate() === d) due = date;
  } else {
    const ms = /^\d+[hdw]$/.test(w)
      ? parseDuration(w.endsWith('w') ? `${Number(w.slice(0, -1)) * 7}d` : w)
      : undefined;
    if (ms !== undefined && ms > 0) due = addMilliseconds(now, ms);
  }
  if (!due) throw new UserInputError(`${echo(word)} is not a due date.`, usage);
  if (due.getTime() < day(0).getTime() - DUE_HOUR_UTC * 3_600_000) {
    throw new UserInputError(`The due date ${echo(word)} is in the past.`, usage);
  }
  if (due.getTime() - now.getTime() > MAX_DUE_MS)
    throw new UserInputError(`The due date ${echo(word)} is more than two years away.`, usage);
  return due;
}

export function parseFollowupArgs(rest: string, id: string, now: Date): FollowupRequest {
  const words = rest.split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? '').toLowerCase();
  const addUsage = `Usage: \`/incident followup ${id} add @owner <what to do> [due YYYY-MM-DD | tomorrow | 3d]\`.`;
  if (verb === 'list' && words.length === 1) return { verb: 'list' };
  if (verb === 'done' || verb === 'close') {
    const n = /^#?(\d{1,6})$/.exec(words[1] ?? '')?.[1];
    if (!n || Number(n) < 1 || words.length > 2) {
      throw new UserInputError(
        words[1]
          ? `${echo(words.slice(1).join(' '))} is not a follow-up number.`
          : 'Say which follow-up is done.',
        `Usage: \`/incident followup ${id} done 2\`; \`/incident followup ${id} list\` shows the numbers.`,
      );
    }
    return { verb: 'done', number: Number(n) };
  }
  if (verb === 'add') {
    const owner = mentionedUser(words[1] ?? '');
    if (!owner) {
      throw new UserInputError(
        words[1]
          ? `${echo(words[1])} is not a person: mention the owner with @.`
          : 'A follow-up needs an owner.',
        addUsage,
      );
    }
    let textWords = words.slice(2);
    let dueAt: Date | null = null;
    const dueIndex = textWords.map((w) => w.toLowerCase()).lastIndexOf('due');
    if (dueIndex >= 0 && dueIndex >= textWords.length - 2) {
      const dueWord = textWords[dueIndex + 1];
      if (!dueWord) throw new UserInputError('`due` needs a date after it.', addUsage);
      dueAt = parseDue(dueWord, now, addUsage);
      textWords = textWords.slice(0, dueIndex);
    }
    const text = textWords.join(' ').trim();
    if (text === '') throw new UserInputError('A follow-up needs a description of what to do.', addUsage);
    return { verb: 'add', owner, text, dueAt };
  }
  throw new UserInputError(
    verb ? `${echo(words.join(' '))} is not a follow-up command.` : 'Say what to do with follow-ups.',
    `${addUsage} Also \`/incident followup ${id} list\` and \`/incident followup ${id} done <n>\`.`,
  );
}
