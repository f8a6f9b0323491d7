/**
 * Health watches (migration 010): one row per `/deploy health <svc> --watch`, its rounds run by the
 * durable timer `health-watch:<id>` (src/health/watches.ts). Ending is a compare-and-set from
 * `running`, so a watch ends once whichever replica or button gets there first.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { date, integer, nullableDate, nullableText, parseRow } from './rows.ts';

export const WATCH_STATES = ['running', 'healthy', 'deadline', 'stopped', 'failed'] as const;
export type WatchState = (typeof WATCH_STATES)[number];
export type WatchEnd = Exclude<WatchState, 'running'>;

export interface NewHealthWatch {
  id: string;
  scope: string;
  service: string;
  environment: string;
  intervalMs: number;
  startedAt: Date;
  deadlineAt: Date;
  startedBy?: string | null;
}

export interface HealthWatchRecord extends Required<NewHealthWatch> {
  messageRef: string | null;
  rounds: number;
  lastStatus: string | null;
  state: WatchState;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
}

const watchRow = z
  .object({
    id: z.string(),
    scope: z.string(),
    service: z.string(),
    environment: z.string(),
    interval_ms: integer,
    started_at: date,
    deadline_at: date,
    started_by: nullableText,
    message_ref: nullableText,
    rounds: integer,
    last_status: nullableText,
    state: z.enum(WATCH_STATES),
    ended_at: nullableDate,
    ended_by: nullableText,
    end_reason: nullableText,
  })
  .transform(
    (r): HealthWatchRecord => ({
      id: r.id,
      scope: r.scope,
      service: r.service,
      environment: r.environment,
      intervalMs: r.interval_ms,
      startedAt: r.started_at,
      deadlineAt: r.deadline_at,
      startedBy: r.started_by,
      messageRef: r.message_ref,
      rounds: r.rounds,
      lastStatus: r.last_status,
      state: r.state,
      endedAt: r.ended_at,
      endedBy: r.ended_by,
      endReason: r.end_reason,
    }),
  );

const toWatch = (row: unknown): HealthWatchRecord => parseRow(watchRow, row, 'health_watches');

export class HealthWatchRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;
  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** A running watch; a second running one of the service in the scope is a unique violation. */
  async insert(watch: NewHealthWatch): Promise<HealthWatchRecord> {
    const { rows } = await this.#q.query(
      `INSERT INTO health_watches (id, scope, service, environment, interval_ms, started_at, deadline_at, started_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        watch.id,
        watch.scope,
        watch.service,
        watch.environment,
        watch.intervalMs,
        watch.startedAt,
        watch.deadlineAt,
        watch.startedBy ?? null,
      ],
    );
    return toWatch(rows[0]);
  }

  async get(id: string): Promise<HealthWatchRecord | null> {
    const { rows } = await this.#q.query('SELECT * FROM health_watches WHERE id = $1', [id]);
    return rows[0] ? toWatch(rows[0]) : null;
  }

  /** Running watches, oldest first (of one scope when given). */
  async listRunning(scope?: string): Promise<HealthWatchRecord[]> {
    const { rows } = await this.#q.query(
      `SELECT * FROM health_watches WHERE state = 'running' AND ($1::text IS NULL OR scope = $1)
       ORDER BY started_at, id`,
      [scope ?? null],
    );
    return rows.map(toWatch);
  }

  /** Its message was posted; false when the watch is no longer running. */
  async setMessage(id: string, messageRef: string): Promise<boolean> {
    const result = await this.#q.query(
      `UPDATE health_watches SET message_ref = $2 WHERE id = $1 AND state = 'running'`,
      [id, messageRef],
    );
    return result.rowCount > 0;
  }

  /** A round ran; false when the watch ended meanwhile (stopped). */
  async recordRound(id: string, rounds: number, status: string): Promise<boolean> {
    const result = await this.#q.query(
      `UPDATE health_watches SET rounds = $2, last_status = $3 WHERE id = $1 AND state = 'running'`,
      [id, rounds, status],
    );
    return result.rowCount > 0;
  }

  /** Ends a running watch; null when it had already ended (someone else got there first). */
  async end(
    id: string,
    state: WatchEnd,
    detail: { rounds?: number; lastStatus?: string; by?: string | null; reason?: string | null } = {},
  ): Promise<HealthWatchRecord | null> {
    const { rows } = await this.#q.query(
      `UPDATE health_watches
          SET state = $2, ended_at = $3, ended_by = $4, end_reason = $5,
              rounds = coalesce($6, rounds), last_status = coalesce($7, last_status)
        WHERE id = $1 AND state = 'running'
        RETURNING *`,
      [
        id,
        state,
        this.#clock.now(),
        detail.by ?? null,
        detail.reason?.slice(0, 2000) ?? null,
        detail.rounds ?? null,
        detail.lastStatus ?? null,
      ],
    );
    return rows[0] ? toWatch(rows[0]) : null;
  }
}
