import { z } from 'zod';
import type { DueTimer } from './coordination.ts';
import { CoordinationError } from './errors.ts';
import { epochMillis, nonEmpty } from './validate.ts';

/**
 * How a timer is stored: one JSON document per id (both implementations store the same text, so a
 * payload comes back exactly as Redis would give it back: a JSON round trip, never the caller's object).
 */
const storedTimerSchema = z.object({
  id: z.string().min(1),
  kind: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  dueAt: z.iso.datetime(),
});

export interface EncodedTimer {
  id: string;
  /** Due time in epoch ms: the sort score. */
  score: number;
  json: string;
}

/** Validates and serialises a timer; throws `invalid` for an empty id/kind, a bad date or a non-JSON payload. */
export function encodeTimer(timer: DueTimer): EncodedTimer {
  const id = nonEmpty(timer.id, 'schedule: the timer id');
  const kind = nonEmpty(timer.kind, `schedule: the kind of timer ${id}`);
  const score = epochMillis(timer.dueAt, `schedule: dueAt of timer ${id}`);
  if (timer.payload === null || typeof timer.payload !== 'object' || Array.isArray(timer.payload)) {
    throw new CoordinationError('invalid', `schedule: the payload of timer ${id} must be an object`);
  }
  let json: string;
  try {
    json = JSON.stringify({ id, kind, payload: timer.payload, dueAt: new Date(score).toISOString() });
  } catch (error) {
    throw new CoordinationError('invalid', `schedule: the payload of timer ${id} is not JSON-serialisable`, {
      cause: error,
    });
  }
  return { id, score, json };
}

/** Parses a stored timer; throws `failed` (naming the id, never the content) when it is not ours. */
export function decodeTimer(id: string, json: string): DueTimer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new CoordinationError('failed', `stored timer ${id} is not valid JSON`, { cause: error });
  }
  const result = storedTimerSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new CoordinationError('failed', `stored timer ${id} has an unexpected shape (${issues})`);
  }
  const { kind, payload, dueAt } = result.data;
  return { id: result.data.id, kind, payload, dueAt: new Date(dueAt) };
}
