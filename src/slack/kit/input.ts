/**
 * What users type or click, made safe before it goes anywhere: control characters stripped
 * (Postgres refuses NUL in text; the others only hide things), numbers bounded, Slack ids checked.
 * Slash command text and every modal value go through here.
 */
import { z } from 'zod';

/** C0 and C1 control characters except tab and newline (and DEL). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Strips control characters other than `\n` and `\t`; `\r\n` becomes `\n`. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

/** Incident numbers are Postgres integers. */
export const MAX_INCIDENT_NUMBER = 2_147_483_647;

/** A button value holding an incident number: digits only, 1 to MAX_INCIDENT_NUMBER. */
export const incidentNumberValue = z
  .string()
  .regex(/^\d{1,10}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_INCIDENT_NUMBER));

/** A Slack user id as Slack sends it (`U0123ABCD`, `W…` on Enterprise Grid). */
export const slackUserId = z.string().regex(/^[UW][A-Z0-9_]{1,30}$/);
