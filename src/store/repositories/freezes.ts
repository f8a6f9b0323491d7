/**
 * Deploy freezes (/deploy freeze <env>): at most one unlifted freeze per environment (a partial
 * unique index); a freeze whose `until` has passed is over without being lifted.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { date, integer, nullableDate, nullableText, parseRow } from './rows.ts';

export interface Freeze {
  id: number;
  environment: string;
  reason: string;
  frozenBy: string;
  frozenAt: Date;
  /** Null: until lifted. */
  until: Date | null;
  liftedAt: Date | null;
  liftedBy: string | null;
}

const freezeRow = z
  .object({
    id: integer,
    environment: z.string(),
    reason: z.string(),
    frozen_by: z.string(),
    frozen_at: date,
    until: nullableDate,
    lifted_at: nullableDate,
    lifted_by: nullableText,
  })
  .transform(
    (r): Freeze => ({
      id: r.id,
      environment: r.environment,
      reason: r.reason,
      frozenBy: r.frozen_by,
      frozenAt: r.frozen_at,
      until: r.until,
      liftedAt: r.lifted_at,
      liftedBy: r.lifted_by,
    }),
  );

const toFreeze = (row: unknown): Freeze => parseRow(freezeRow, row, 'deploy_freezes');

export class FreezeRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** The freeze in force on the environment at `at` (default now), if any. */
  async findActive(environment: string, at: Date = this.#clock.now()): Promise<Freeze | null> {
    const { rows } = await this.#q.query(
      `SELECT * FROM deploy_freezes WHERE environment = $1 AND lifted_at IS NULL AND (until IS NULL OR until > $2)
        ORDER BY id DESC LIMIT 1`,
      [environment, at],
    );
    return rows[0] ? toFreeze(rows[0]) : null;
  }

  /**
   * Lifts the environment's unlifted freeze (in force or run out); the lifted row, or null when there
   * was none.
   */
  async lift(environment: string, by: string, at: Date = this.#clock.now()): Promise<Freeze | null> {
    const { rows } = await this.#q.query(
      `UPDATE deploy_freezes SET lifted_at = $2, lifted_by = $3 WHERE environment = $1 AND lifted_at IS NULL
        RETURNING *`,
      [environment, at, by],
    );
    return rows[0] ? toFreeze(rows[0]) : null;
  }

  /** A new freeze; lift the previous one first (in the same transaction). */
  async create(input: {
    environment: string;
    reason: string;
    frozenBy: string;
    until: Date | null;
    at?: Date;
  }): Promise<Freeze> {
    const { rows } = await this.#q.query(
      `INSERT INTO deploy_freezes (environment, reason, frozen_by, frozen_at, until)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [input.environment, input.reason, input.frozenBy, input.at ?? this.#clock.now(), input.until],
    );
    return toFreeze(rows[0]);
  }
}
