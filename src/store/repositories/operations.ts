/**
 * Deploy operations (rollback, restart, scale, maintenance, traffic): a state machine persisted so it
 * survives a restart of the bot. State changes are compare-and-set: the caller names the states it
 * expects to move from, and loses (null) when another replica moved it first.
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { IdempotencyConflictError, StoreError } from '../errors.ts';
import {
  clampLimit,
  date,
  integer,
  type JsonObject,
  jsonObject,
  jsonParam,
  nullableText,
  parseRow,
} from './rows.ts';

export const OPERATION_KINDS = ['rollback', 'restart', 'scale', 'maintenance', 'traffic'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATES = [
  'requested',
  'awaiting_approval',
  'approved',
  'running',
  'verifying',
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const ACTIVE_OPERATION_STATES = [
  'requested',
  'awaiting_approval',
  'approved',
  'running',
  'verifying',
] as const satisfies readonly OperationState[];
export const FINAL_OPERATION_STATES = [
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
] as const satisfies readonly OperationState[];

export interface Operation {
  /** uuid. */
  id: string;
  kind: OperationKind;
  service: string;
  environment: string;
  state: OperationState;
  requestedBy: string;
  params: JsonObject;
  result: JsonObject | null;
  error: string | null;
  incidentNumber: number | null;
  idempotencyKey: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateOperationInput {
  kind: OperationKind;
  service: string;
  environment: string;
  requestedBy: string;
  /** Stable for one request (e.g. derived from the Slack interaction): a repeat returns the first. */
  idempotencyKey: string;
  params?: JsonObject;
  incidentNumber?: number | null;
  /** Defaults to 'requested'. */
  state?: OperationState;
}

export interface CreateOperationResult {
  operation: Operation;
  /** False when the idempotency key was already used for the same request. */
  created: boolean;
}

/** Fields a transition may also set. Undefined leaves a field alone; null clears it. */
export interface OperationPatch {
  params?: JsonObject;
  result?: JsonObject | null;
  error?: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const operationRow = z
  .object({
    id: z.string(),
    kind: z.enum(OPERATION_KINDS),
    service: z.string(),
    environment: z.string(),
    state: z.enum(OPERATION_STATES),
    requested_by: z.string(),
    params: jsonObject,
    result: jsonObject.nullable(),
    error: nullableText,
    incident_number: integer.nullable(),
    idempotency_key: z.string(),
    created_at: date,
    updated_at: date,
  })
  .transform(
    (r): Operation => ({
      id: r.id,
      kind: r.kind,
      service: r.service,
      environment: r.environment,
      state: r.state,
      requestedBy: r.requested_by,
      params: r.params,
      result: r.result,
      error: r.error,
      incidentNumber: r.incident_number,
      idempotencyKey: r.idempotency_key,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

function toOperation(row: unknown): Operation {
  return parseRow(operationRow, row, 'operations');
}

export class OperationRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /**
   * Records a new operation, idempotent on idempotencyKey. Reusing a key for a different kind,
   * service or environment throws IdempotencyConflictError.
   */
  async create(input: CreateOperationInput): Promise<CreateOperationResult> {
    const now = this.#clock.now();
    const { rows } = await this.#q.query(
      `INSERT INTO operations (
         kind, service, environment, state, requested_by, params, incident_number, idempotency_key, created_at, updated_at
       ) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $9)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING *`,
      [
        input.kind,
        input.service,
        input.environment,
        input.state ?? 'requested',
        input.requestedBy,
        jsonParam(input.params ?? {}),
        input.incidentNumber ?? null,
        input.idempotencyKey,
        now,
      ],
    );
    if (rows[0]) return { operation: toOperation(rows[0]), created: true };
    const existing = await this.findByIdempotencyKey(input.idempotencyKey);
    if (!existing) {
      throw new StoreError(
        `operation with idempotency key ${input.idempotencyKey} conflicted but cannot be found`,
      );
    }
    if (
      existing.kind !== input.kind ||
      existing.service !== input.service ||
      existing.environment !== input.environment
    ) {
      throw new IdempotencyConflictError(
        `idempotency key ${input.idempotencyKey} already belongs to ${existing.kind} of ${existing.service} ` +
          `(${existing.environment}), not ${input.kind} of ${input.service} (${input.environment})`,
      );
    }
    return { operation: existing, created: false };
  }

  /** Null for an unknown id (including one that is not a uuid). */
  async get(id: string): Promise<Operation | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.#q.query('SELECT * FROM operations WHERE id = $1::uuid', [id]);
    return rows[0] ? toOperation(rows[0]) : null;
  }

  async findByIdempotencyKey(key: string): Promise<Operation | null> {
    const { rows } = await this.#q.query('SELECT * FROM operations WHERE idempotency_key = $1', [key]);
    return rows[0] ? toOperation(rows[0]) : null;
  }

  /**
   * Compare-and-set: moves the operation to `to` only if its state is one of `from`, applying the
   * patch in the same statement. Null when it was in another state (someone else moved it) or
   * does not exist.
   */
  async transition(
    id: string,
    from: readonly OperationState[],
    to: OperationState,
    patch: OperationPatch = {},
  ): Promise<Operation | null> {
    if (!UUID.test(id) || from.length === 0) return null;
    const params: unknown[] = [id, [...from], to, this.#clock.now()];
    const sets = ['state = $3', 'updated_at = $4'];
    if (patch.params !== undefined) {
      params.push(jsonParam(patch.params));
      sets.push(`params = $${params.length}::jsonb`);
    }
    if (patch.result !== undefined) {
      params.push(jsonParam(patch.result));
      sets.push(`result = $${params.length}::jsonb`);
    }
    if (patch.error !== undefined) {
      params.push(patch.error);
      sets.push(`error = $${params.length}`);
    }
    const { rows } = await this.#q.query(
      `UPDATE operations SET ${sets.join(', ')} WHERE id = $1::uuid AND state = ANY($2::text[]) RETURNING *`,
      params,
    );
    return rows[0] ? toOperation(rows[0]) : null;
  }

  /** Operations not yet finished, oldest first, optionally for one service and environment. */
  async listActive(filter: { service?: string; environment?: string } = {}): Promise<Operation[]> {
    const params: unknown[] = [[...ACTIVE_OPERATION_STATES]];
    const where = ['state = ANY($1::text[])'];
    if (filter.service !== undefined) {
      params.push(filter.service);
      where.push(`service = $${params.length}`);
    }
    if (filter.environment !== undefined) {
      params.push(filter.environment);
      where.push(`environment = $${params.length}`);
    }
    const { rows } = await this.#q.query(
      `SELECT * FROM operations WHERE ${where.join(' AND ')} ORDER BY created_at, id`,
      params,
    );
    return rows.map(toOperation);
  }

  /** Most recent first, any state. */
  async listRecent(filter: { service?: string; limit?: number } = {}): Promise<Operation[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.service !== undefined) {
      params.push(filter.service);
      where = 'WHERE service = $1';
    }
    params.push(clampLimit(filter.limit, 20));
    const { rows } = await this.#q.query(
      `SELECT * FROM operations ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toOperation);
  }
}
