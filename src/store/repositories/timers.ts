/**
 * Durable timers (migration 007): scheduled rows, claimed with a lease by one replica, deleted only
 * once their handler has run. All times come from the caller's clock, so tests run in virtual time.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { date, integer, type JsonObject, jsonObject, jsonParam, nullableText, parseRow } from './rows.ts';

export interface TimerSpec {
  /** Stable id: scheduling the same id again moves the timer (and replaces its payload). */
  id: string;
  /** What the timer is for ("incident.escalate", "deploy.rollout-step", …): the handler's key. */
  kind: string;
  /** Groups the timers of one thing ("incident:42"), so they can be cancelled together. */
  subject?: string | null;
  payload: JsonObject;
  dueAt: Date;
}

export interface StoredTimer extends Required<TimerSpec> {
  version: number;
  /** Claims of this version so far, this one included. */
  attempts: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
}

const timerRow = z
  .object({
    id: z.string(),
    kind: z.string(),
    subject: nullableText,
    payload: jsonObject,
    due_at: date,
    version: integer,
    attempts: integer,
    lease_owner: nullableText,
    lease_until: z.date().nullable(),
    last_error: nullableText,
  })
  .transform(
    (r): StoredTimer => ({
      id: r.id,
      kind: r.kind,
      subject: r.subject,
      payload: r.payload,
      dueAt: r.due_at,
      version: r.version,
      attempts: r.attempts,
      leaseOwner: r.lease_owner,
      leaseUntil: r.lease_until,
      lastError: r.last_error,
    }),
  );

const toTimer = (row: unknown): StoredTimer => parseRow(timerRow, row, 'timers');

export class TimerRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;
  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Schedules or moves (by id) a timer; a new version, unclaimed, its attempts reset. */
  async schedule(timer: TimerSpec, q: Queryable = this.#q): Promise<void> {
    await q.query(
      `INSERT INTO timers (id, kind, subject, payload, due_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, subject = EXCLUDED.subject,
         payload = EXCLUDED.payload, due_at = EXCLUDED.due_at, version = timers.version + 1,
         attempts = 0, lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = EXCLUDED.updated_at`,
      [timer.id, timer.kind, timer.subject ?? null, jsonParam(timer.payload), timer.dueAt, this.#clock.now()],
    );
  }

  /** Schedules a timer unless one with this id exists (importing timers: never moves a live one). */
  async scheduleIfAbsent(timer: TimerSpec): Promise<boolean> {
    const result = await this.#q.query(
      `INSERT INTO timers (id, kind, subject, payload, due_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6) ON CONFLICT (id) DO NOTHING`,
      [timer.id, timer.kind, timer.subject ?? null, jsonParam(timer.payload), timer.dueAt, this.#clock.now()],
    );
    return result.rowCount > 0;
  }

  async cancel(id: string, q: Queryable = this.#q): Promise<boolean> {
    const result = await q.query('DELETE FROM timers WHERE id = $1', [id]);
    return result.rowCount > 0;
  }

  /** Cancels every timer of a subject (an incident that resolved); returns how many. */
  async cancelSubject(subject: string, q: Queryable = this.#q): Promise<number> {
    const result = await q.query('DELETE FROM timers WHERE subject = $1', [subject]);
    return result.rowCount;
  }

  async get(id: string): Promise<StoredTimer | null> {
    const { rows } = await this.#q.query('SELECT * FROM timers WHERE id = $1', [id]);
    return rows[0] ? toTimer(rows[0]) : null;
  }

  async list(filter: { subject?: string; kind?: string } = {}): Promise<StoredTimer[]> {
    const { rows } = await this.#q.query(
      `SELECT * FROM timers WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR kind = $2)
       ORDER BY due_at, id`,
      [filter.subject ?? null, filter.kind ?? null],
    );
    return rows.map(toTimer);
  }

  /**
   * Claims up to `limit` timers due at `now` whose lease (if any) ran out: each is handed to one
   * caller across replicas (SKIP LOCKED), leased to `owner` until `leaseUntil`.
   */
  async claimDue(
    now: Date,
    limit: number,
    owner: string,
    leaseUntil: Date,
    /** Only these kinds (the ones this replica has handlers for); all when omitted. */
    kinds?: readonly string[],
  ): Promise<StoredTimer[]> {
    const { rows } = await this.#q.query(
      `WITH due AS (
         SELECT id FROM timers
          WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
            AND ($5::text[] IS NULL OR kind = ANY($5::text[]))
          ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE timers t SET lease_owner = $3, lease_until = $4, attempts = t.attempts + 1, updated_at = $1
         FROM due WHERE t.id = due.id
       RETURNING t.*`,
      [now, limit, owner, leaseUntil, kinds ? [...kinds] : null],
    );
    return rows
      .map(toTimer)
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.id.localeCompare(b.id));
  }

  /** Keeps a claim while its handler runs; false when the lease was lost (or the timer moved). */
  async renewLease(id: string, version: number, owner: string, leaseUntil: Date): Promise<boolean> {
    const result = await this.#q.query(
      'UPDATE timers SET lease_until = $4 WHERE id = $1 AND version = $2 AND lease_owner = $3',
      [id, version, owner, leaseUntil],
    );
    return result.rowCount > 0;
  }

  /**
   * The handler of this claim ran: the timer is done. Only while `owner` still holds it: a timer
   * re-scheduled meanwhile (a new version, or cancelled and scheduled again: unclaimed) or claimed by
   * another replica after this lease ran out is left alone.
   */
  async complete(id: string, version: number, owner: string): Promise<boolean> {
    const result = await this.#q.query(
      'DELETE FROM timers WHERE id = $1 AND version = $2 AND lease_owner = $3',
      [id, version, owner],
    );
    return result.rowCount > 0;
  }

  /** The handler failed: try this claim's timer again at `retryAt`, recording why (only while `owner` holds it). */
  async retryLater(id: string, version: number, owner: string, retryAt: Date, error: string): Promise<void> {
    await this.#q.query(
      `UPDATE timers SET due_at = $4, lease_owner = NULL, lease_until = NULL, last_error = $5, updated_at = $6
        WHERE id = $1 AND version = $2 AND lease_owner = $3`,
      [id, version, owner, retryAt, error.slice(0, 2000), this.#clock.now()],
    );
  }

  /** Earliest due time of any timer, for the loop's next wake-up. */
  async nextDueAt(): Promise<Date | null> {
    const { rows } = await this.#q.query<{ at: Date | null }>('SELECT min(due_at) AS at FROM timers');
    return rows[0]?.at ?? null;
  }
}
