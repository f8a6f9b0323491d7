/**
 * Gradual roll-outs (migration 012): one row per roll-out operation, the step it is at and every
 * analysis measurement. Every change is a compare-and-set on `version`: two replicas (or a handler
 * run again after a crash) move a roll-out once.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { date, integer, type JsonObject, jsonObject, nullableDate, nullableText, parseRow } from './rows.ts';

export const ROLLOUT_STATES = [
  'running',
  'paused',
  'rolled_back',
  'succeeded',
  'aborted',
  'inconclusive',
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** One analysis measurement, as stored. */
export interface Measurement {
  step: number;
  round: number;
  metric: string;
  /** 1-based, per metric within a step's round. */
  n: number;
  at: string;
  /** The value read (a number, or a health status), null when it could not be read. */
  value: number | string | null;
  /** successful | failed | inconclusive. */
  phase: 'successful' | 'failed' | 'inconclusive';
  /** Why (the condition that held, or why it could not be read). */
  detail: string;
}

export interface RolloutRun {
  operationId: string;
  state: RolloutState;
  stepIndex: number;
  stepApplied: boolean;
  stepStartedAt: Date | null;
  analysisRound: number;
  plan: JsonObject;
  measurements: Measurement[];
  reason: string | null;
  nextStepAt: Date | null;
  /** "Promote now" asked for and its approvals (migration 016); null while nobody asked. */
  promotion: Promotion | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One approval of a promotion. */
export interface PromotionApproval {
  approver: string;
  /** The rule's groups the approver counted through. */
  groups: string[];
  at: string;
}

/** "Promote now", asked for by `requestedBy`, judged by `rule` (an approval-rules rule, as JSON). */
export interface Promotion {
  rule: JsonObject;
  requestedBy: string;
  requestedAt: string;
  approvals: PromotionApproval[];
}

export interface RolloutPatch {
  state?: RolloutState;
  stepIndex?: number;
  stepApplied?: boolean;
  stepStartedAt?: Date | null;
  analysisRound?: number;
  /** Appended to the measurements. */
  addMeasurement?: Measurement;
  reason?: string | null;
  nextStepAt?: Date | null;
  promotion?: Promotion | null;
}

const measurementSchema = z.object({
  step: z.number(),
  round: z.number(),
  metric: z.string(),
  n: z.number(),
  at: z.string(),
  value: z.union([z.number(), z.string(), z.null()]),
  phase: z.enum(['successful', 'failed', 'inconclusive']),
  detail: z.string(),
});

const promotionSchema = z.object({
  rule: jsonObject,
  requestedBy: z.string(),
  requestedAt: z.string(),
  approvals: z.array(z.object({ approver: z.string(), groups: z.array(z.string()), at: z.string() })),
});

const rolloutRow = z
  .object({
    operation_id: z.string(),
    state: z.enum(ROLLOUT_STATES),
    step_index: integer,
    step_applied: z.boolean(),
    step_started_at: nullableDate,
    analysis_round: integer,
    plan: jsonObject,
    measurements: z.array(measurementSchema),
    reason: nullableText,
    next_step_at: nullableDate,
    promotion: promotionSchema.nullable(),
    version: integer,
    created_at: date,
    updated_at: date,
  })
  .transform(
    (r): RolloutRun => ({
      operationId: r.operation_id,
      state: r.state,
      stepIndex: r.step_index,
      stepApplied: r.step_applied,
      stepStartedAt: r.step_started_at,
      analysisRound: r.analysis_round,
      plan: r.plan,
      measurements: r.measurements,
      reason: r.reason,
      nextStepAt: r.next_step_at,
      promotion: r.promotion,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

const toRun = (row: unknown): RolloutRun => parseRow(rolloutRow, row, 'rollout_runs');

const COLUMNS = {
  state: 'state',
  stepIndex: 'step_index',
  stepApplied: 'step_applied',
  stepStartedAt: 'step_started_at',
  analysisRound: 'analysis_round',
  reason: 'reason',
  nextStepAt: 'next_step_at',
} as const satisfies Partial<Record<keyof RolloutPatch, string>>;

export class RolloutRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;
  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Creates the run of a roll-out operation (idempotent: an existing row is returned). */
  async create(operationId: string, plan: JsonObject): Promise<RolloutRun> {
    const now = this.#clock.now();
    await this.#q.query(
      `INSERT INTO rollout_runs (operation_id, state, plan, created_at, updated_at)
       VALUES ($1::uuid, 'running', $2::jsonb, $3, $3) ON CONFLICT (operation_id) DO NOTHING`,
      [operationId, JSON.stringify(plan), now],
    );
    const run = await this.get(operationId);
    if (!run) throw new Error(`rollout run ${operationId} vanished`);
    return run;
  }

  async get(operationId: string): Promise<RolloutRun | null> {
    if (!/^[0-9a-f-]{36}$/i.test(operationId)) return null;
    const { rows } = await this.#q.query('SELECT * FROM rollout_runs WHERE operation_id = $1::uuid', [
      operationId,
    ]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /**
   * Compare-and-set on the version the caller read: null when someone else changed it first (the
   * caller re-reads and decides again).
   */
  async update(run: RolloutRun, patch: RolloutPatch): Promise<RolloutRun | null> {
    const params: unknown[] = [run.operationId, run.version, this.#clock.now()];
    const sets = ['version = version + 1', 'updated_at = $3'];
    for (const [field, column] of Object.entries(COLUMNS)) {
      const value = patch[field as keyof typeof COLUMNS];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    if (patch.promotion !== undefined) {
      params.push(patch.promotion === null ? null : JSON.stringify(patch.promotion));
      sets.push(`promotion = $${params.length}::jsonb`);
    }
    if (patch.addMeasurement) {
      params.push(JSON.stringify([patch.addMeasurement]));
      sets.push(`measurements = measurements || $${params.length}::jsonb`);
    }
    const { rows } = await this.#q.query(
      `UPDATE rollout_runs SET ${sets.join(', ')} WHERE operation_id = $1::uuid AND version = $2 RETURNING *`,
      params,
    );
    return rows[0] ? toRun(rows[0]) : null;
  }
}
