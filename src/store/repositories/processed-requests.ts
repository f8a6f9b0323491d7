/**
 * Slack deliveries and actions already taken, one row per key: a second replica, a Slack retry, a
 * replayed request or a double click finds the key taken and does nothing. This table, not Redis,
 * is the guard: it holds with Redis down, and a claim is one INSERT … ON CONFLICT, atomic across
 * replicas.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';

export const PROCESSED_REQUEST_KINDS = [
  'signature',
  'view_submission',
  'button',
  'slash_command',
  'event',
] as const;
export type ProcessedRequestKind = (typeof PROCESSED_REQUEST_KINDS)[number];

/** Keys longer than this are refused by the table; callers hash what may be long. */
export const MAX_PROCESSED_KEY_LENGTH = 500;

/** Expired rows are deleted at most this often per process, this many at a time. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 1_000;

export class ProcessedRequestRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;
  #lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /**
   * Takes `key` for `ttlMs`: true the first time (or once an earlier claim expired), false while
   * someone holds it. Concurrent claims of one key: exactly one gets true.
   */
  async claim(key: string, kind: ProcessedRequestKind, ttlMs: number): Promise<boolean> {
    if (key.length === 0 || key.length > MAX_PROCESSED_KEY_LENGTH)
      throw new RangeError(`processed request key must be 1 to ${MAX_PROCESSED_KEY_LENGTH} characters`);
    if (!Number.isInteger(ttlMs) || ttlMs <= 0)
      throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    const now = this.#clock.now();
    const { rows } = await this.#q.query(
      `INSERT INTO processed_requests (key, kind, created_at, expires_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE
         SET kind = EXCLUDED.kind, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
         WHERE processed_requests.expires_at <= EXCLUDED.created_at
       RETURNING key`,
      [key, kind, now, addMilliseconds(now, ttlMs)],
    );
    await this.#pruneNowAndThen(now);
    return rows.length > 0;
  }

  /** Gives a key back (the first attempt failed and may be tried again); false if it was not held. */
  async release(key: string): Promise<boolean> {
    const { rowCount } = await this.#q.query('DELETE FROM processed_requests WHERE key = $1', [key]);
    return rowCount > 0;
  }

  /** Whether `key` is held now. */
  async isClaimed(key: string): Promise<boolean> {
    const { rows } = await this.#q.query(
      'SELECT 1 AS held FROM processed_requests WHERE key = $1 AND expires_at > $2',
      [key, this.#clock.now()],
    );
    return rows.length > 0;
  }

  /** Deletes up to `limit` expired rows; returns how many. */
  async prune(limit = PRUNE_BATCH): Promise<number> {
    const { rowCount } = await this.#q.query(
      `DELETE FROM processed_requests WHERE key IN (
         SELECT key FROM processed_requests WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
       )`,
      [this.#clock.now(), limit],
    );
    return rowCount;
  }

  async #pruneNowAndThen(now: Date): Promise<void> {
    if (now.getTime() - this.#lastPruneMs < PRUNE_EVERY_MS) return;
    this.#lastPruneMs = now.getTime();
    // Housekeeping only: a failed prune must not fail the claim that already succeeded.
    await this.prune().catch(() => undefined);
  }
}
