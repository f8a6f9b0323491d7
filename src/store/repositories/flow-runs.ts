/**
 * Runs of multi-step flows (an incident's Slack setup, later deploy operations), recorded step by
 * step. Writes by a worker are fenced by its claim: once another worker has claimed the run (after
 * the lease ran out), the first one's writes change nothing and answer null.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import {
  clampLimit,
  date,
  integer,
  type JsonObject,
  jsonObject,
  jsonParam,
  nullableDate,
  nullableText,
  parseRow,
} from './rows.ts';

export const FLOW_OUTCOMES = ['completed', 'abandoned'] as const;
export type FlowOutcome = (typeof FLOW_OUTCOMES)[number];

/** One step as recorded: done with a result, or failed for good (not retried). */
export interface StepRecord {
  at: Date;
  result: JsonObject | null;
  /** Error code when the step failed for good; null when it succeeded. */
  failed: string | null;
}

export interface FlowRun {
  flow: string;
  subject: string;
  input: JsonObject;
  steps: Record<string, StepRecord>;
  attempts: number;
  claimedBy: string | null;
  claimedUntil: Date | null;
  outcome: FlowOutcome | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateFlowRunInput {
  flow: string;
  subject: string;
  input?: JsonObject;
  /** Claimed from the start by the worker that creates it (counts as the first attempt). */
  claim?: { owner: string; until: Date };
}

const stepRecord = z
  .object({ at: z.string(), result: jsonObject.nullable().default(null), failed: nullableText.default(null) })
  .transform((s): StepRecord => ({ at: new Date(s.at), result: s.result, failed: s.failed }));

const flowRunRow = z
  .object({
    flow: z.string(),
    subject: z.string(),
    input: jsonObject,
    steps: z.record(z.string(), stepRecord),
    attempts: integer,
    claimed_by: nullableText,
    claimed_until: nullableDate,
    outcome: z.enum(FLOW_OUTCOMES).nullable(),
    finished_at: nullableDate,
    created_at: date,
    updated_at: date,
  })
  .transform(
    (r): FlowRun => ({
      flow: r.flow,
      subject: r.subject,
      input: r.input,
      steps: r.steps,
      attempts: r.attempts,
      claimedBy: r.claimed_by,
      claimedUntil: r.claimed_until,
      outcome: r.outcome,
      finishedAt: r.finished_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

function toFlowRun(row: unknown): FlowRun {
  return parseRow(flowRunRow, row, 'flow_runs');
}

/** A claim is free when nobody holds it or its lease ran out. */
const CLAIMABLE = 'finished_at IS NULL AND (claimed_by IS NULL OR claimed_until <= $3)';

export class FlowRunRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Inserts the run; a run that exists already (same flow and subject) is returned unchanged. */
  async create(input: CreateFlowRunInput): Promise<FlowRun> {
    const now = this.#clock.now();
    const { rows } = await this.#q.query(
      `INSERT INTO flow_runs (flow, subject, input, attempts, claimed_by, claimed_until, created_at, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $7)
       ON CONFLICT (flow, subject) DO NOTHING
       RETURNING *`,
      [
        input.flow,
        input.subject,
        jsonParam(input.input ?? {}),
        input.claim ? 1 : 0,
        input.claim?.owner ?? null,
        input.claim?.until ?? null,
        now,
      ],
    );
    if (rows[0]) return toFlowRun(rows[0]);
    const existing = await this.get(input.flow, input.subject);
    if (!existing) throw new Error(`flow run ${input.flow}/${input.subject} vanished right after a conflict`);
    return existing;
  }

  async get(flow: string, subject: string): Promise<FlowRun | null> {
    const { rows } = await this.#q.query('SELECT * FROM flow_runs WHERE flow = $1 AND subject = $2', [
      flow,
      subject,
    ]);
    return rows[0] ? toFlowRun(rows[0]) : null;
  }

  /** Claims an unfinished run nobody holds (or whose lease ran out); null when it is not free. */
  async claim(flow: string, subject: string, owner: string, until: Date): Promise<FlowRun | null> {
    const { rows } = await this.#q.query(
      `UPDATE flow_runs
          SET claimed_by = $4, claimed_until = $5, attempts = attempts + 1, updated_at = $3
        WHERE flow = $1 AND subject = $2 AND ${CLAIMABLE}
        RETURNING *`,
      [flow, subject, this.#clock.now(), owner, until],
    );
    return rows[0] ? toFlowRun(rows[0]) : null;
  }

  /**
   * Claims up to `limit` free unfinished runs of a flow, oldest first, that have had fewer than
   * `maxAttempts` claims. Concurrent callers (replicas) get disjoint runs.
   */
  async claimPending(
    flow: string,
    owner: string,
    until: Date,
    options: { limit?: number; maxAttempts: number },
  ): Promise<FlowRun[]> {
    const { rows } = await this.#q.query(
      `UPDATE flow_runs
          SET claimed_by = $4, claimed_until = $5, attempts = attempts + 1, updated_at = $3
        WHERE (flow, subject) IN (
                SELECT flow, subject FROM flow_runs
                 WHERE flow = $1 AND ${CLAIMABLE} AND attempts < $2
                 ORDER BY created_at, subject
                 LIMIT $6
                 FOR UPDATE SKIP LOCKED)
          AND ${CLAIMABLE} AND attempts < $2
        RETURNING *`,
      [flow, options.maxAttempts, this.#clock.now(), owner, until, clampLimit(options.limit, 10, 100)],
    );
    return rows.map(toFlowRun).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Gives up on free unfinished runs that had `maxAttempts` claims already; returns them. */
  async abandonExhausted(flow: string, maxAttempts: number): Promise<FlowRun[]> {
    const { rows } = await this.#q.query(
      `UPDATE flow_runs
          SET outcome = 'abandoned', finished_at = $3, claimed_by = NULL, claimed_until = NULL, updated_at = $3
        WHERE flow = $1 AND ${CLAIMABLE} AND attempts >= $2
        RETURNING *`,
      [flow, maxAttempts, this.#clock.now()],
    );
    return rows.map(toFlowRun);
  }

  /**
   * Records one step of a run the owner holds and renews its lease; null when the owner lost the
   * claim (another worker took over) or the run is finished.
   */
  async recordStep(
    flow: string,
    subject: string,
    owner: string,
    step: string,
    record: { result?: object | null; failed?: string | null },
    renewUntil: Date,
  ): Promise<FlowRun | null> {
    const now = this.#clock.now();
    const value = { at: now.toISOString(), result: record.result ?? null, failed: record.failed ?? null };
    const { rows } = await this.#q.query(
      `UPDATE flow_runs
          SET steps = steps || jsonb_build_object($4::text, $5::jsonb), claimed_until = $6, updated_at = $7
        WHERE flow = $1 AND subject = $2 AND claimed_by = $3 AND finished_at IS NULL
        RETURNING *`,
      [flow, subject, owner, step, jsonParam(value), renewUntil, now],
    );
    return rows[0] ? toFlowRun(rows[0]) : null;
  }

  /** Finishes a run the owner holds; false when it lost the claim. */
  async finish(flow: string, subject: string, owner: string, outcome: FlowOutcome): Promise<boolean> {
    const { rowCount } = await this.#q.query(
      `UPDATE flow_runs
          SET outcome = $4, finished_at = $5, claimed_by = NULL, claimed_until = NULL, updated_at = $5
        WHERE flow = $1 AND subject = $2 AND claimed_by = $3 AND finished_at IS NULL`,
      [flow, subject, owner, outcome, this.#clock.now()],
    );
    return rowCount > 0;
  }

  /** Lets go of a claim without finishing (another worker may take the run at once). */
  async release(flow: string, subject: string, owner: string): Promise<void> {
    await this.#q.query(
      `UPDATE flow_runs SET claimed_by = NULL, claimed_until = NULL, updated_at = $4
        WHERE flow = $1 AND subject = $2 AND claimed_by = $3`,
      [flow, subject, owner, this.#clock.now()],
    );
  }
}
