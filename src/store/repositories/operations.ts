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

export const OPERATION_KINDS = ['rollback', 'restart', 'scale', 'maintenance', 'traffic', 'rollout'] as const;
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
  'expired',
  'interrupted',
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
  'expired',
  'interrupted',
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
  /** Why (the requester's words, or the incident). */
  reason: string | null;
  confirmedBy: string | null;
  /** The confirmation card, in the channel where it was asked. */
  cardChannelId: string | null;
  cardTs: string | null;
  /** The #deployments message whose thread carries start and outcome. */
  noticeChannelId: string | null;
  noticeTs: string | null;
  /** An unconfirmed card expires then. */
  expiresAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Who runs it, until when (renewed while it runs). */
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** The approval rule it was asked under (null until the requester confirmed). */
  approvalRule: JsonObject | null;
  /** Asked as an emergency: why, by whom (the emergency approver group must approve too). */
  emergencyReason: string | null;
  emergencyBy: string | null;
  /** The last evaluation of the deploy window and freezes (src/deploy/windows.ts). */
  gate: JsonObject | null;
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
  reason?: string | null;
  expiresAt?: Date | null;
  gate?: JsonObject | null;
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
  confirmedBy?: string | null;
  cardChannelId?: string | null;
  cardTs?: string | null;
  noticeChannelId?: string | null;
  noticeTs?: string | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  expiresAt?: Date | null;
  approvalRule?: JsonObject | null;
  emergencyReason?: string | null;
  emergencyBy?: string | null;
  gate?: JsonObject | null;
}

/** Plain columns a patch may set, by patch field. */
const PATCH_COLUMNS = {
  confirmedBy: 'confirmed_by',
  cardChannelId: 'card_channel_id',
  cardTs: 'card_ts',
  noticeChannelId: 'notice_channel_id',
  noticeTs: 'notice_ts',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  leaseOwner: 'lease_owner',
  leaseUntil: 'lease_until',
  expiresAt: 'expires_at',
  emergencyReason: 'emergency_reason',
  emergencyBy: 'emergency_by',
} as const satisfies Partial<Record<keyof OperationPatch, string>>;

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
    reason: nullableText,
    confirmed_by: nullableText,
    card_channel_id: nullableText,
    card_ts: nullableText,
    notice_channel_id: nullableText,
    notice_ts: nullableText,
    expires_at: date.nullable(),
    started_at: date.nullable(),
    finished_at: date.nullable(),
    lease_owner: nullableText,
    lease_until: date.nullable(),
    approval_rule: jsonObject.nullable(),
    emergency_reason: nullableText,
    emergency_by: nullableText,
    gate: jsonObject.nullable(),
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
      reason: r.reason,
      confirmedBy: r.confirmed_by,
      cardChannelId: r.card_channel_id,
      cardTs: r.card_ts,
      noticeChannelId: r.notice_channel_id,
      noticeTs: r.notice_ts,
      expiresAt: r.expires_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      leaseOwner: r.lease_owner,
      leaseUntil: r.lease_until,
      approvalRule: r.approval_rule,
      emergencyReason: r.emergency_reason,
      emergencyBy: r.emergency_by,
      gate: r.gate,
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
         kind, service, environment, state, requested_by, params, incident_number, idempotency_key, created_at, updated_at,
         reason, expires_at, gate
       ) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $9, $10, $11, $12::jsonb)
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
        input.reason ?? null,
        input.expiresAt ?? null,
        jsonParam(input.gate ?? null),
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
    guard: { leaseOwner?: string } = {},
  ): Promise<Operation | null> {
    if (!UUID.test(id) || from.length === 0) return null;
    const params: unknown[] = [id, [...from], to, this.#clock.now()];
    let owned = '';
    if (guard.leaseOwner !== undefined) {
      params.push(guard.leaseOwner);
      owned = ` AND lease_owner = $${params.length}`;
    }
    const sets = ['state = $3', 'updated_at = $4'];
    if (patch.params !== undefined) {
      params.push(jsonParam(patch.params));
      sets.push(`params = $${params.length}::jsonb`);
    }
    if (patch.result !== undefined) {
      params.push(jsonParam(patch.result));
      sets.push(`result = $${params.length}::jsonb`);
    }
    if (patch.approvalRule !== undefined) {
      params.push(jsonParam(patch.approvalRule));
      sets.push(`approval_rule = $${params.length}::jsonb`);
    }
    if (patch.gate !== undefined) {
      params.push(jsonParam(patch.gate));
      sets.push(`gate = $${params.length}::jsonb`);
    }
    if (patch.error !== undefined) {
      params.push(patch.error);
      sets.push(`error = $${params.length}`);
    }
    for (const [field, column] of Object.entries(PATCH_COLUMNS)) {
      const value = patch[field as keyof typeof PATCH_COLUMNS];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    const { rows } = await this.#q.query(
      `UPDATE operations SET ${sets.join(', ')} WHERE id = $1::uuid AND state = ANY($2::text[])${owned} RETURNING *`,
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

  /**
   * Sets fields without a state change (the card's ts once posted, a renewed lease), only while the
   * operation is in one of `states`. Null when it is not (anymore).
   */
  async patch(
    id: string,
    states: readonly OperationState[],
    patch: OperationPatch,
  ): Promise<Operation | null> {
    const current = await this.get(id);
    if (!current || !states.includes(current.state)) return null;
    return this.transition(id, [current.state], current.state, patch);
  }

  /**
   * Takes over a running or verifying operation whose lease ran out (its runner crashed): the
   * compare-and-set on the lease means one replica alone resumes it. Null when someone holds it.
   */
  async claimLease(id: string, owner: string, until: Date): Promise<Operation | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.#q.query(
      `UPDATE operations SET lease_owner = $2, lease_until = $3, updated_at = $4
        WHERE id = $1::uuid AND state IN ('running', 'verifying') AND (lease_until IS NULL OR lease_until <= $4)
        RETURNING *`,
      [id, owner, until, this.#clock.now()],
    );
    return rows[0] ? toOperation(rows[0]) : null;
  }

  /** Renews the lease of the operation this owner runs; false when it is no longer this owner's. */
  async renewLease(id: string, owner: string, until: Date): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const { rowCount } = await this.#q.query(
      `UPDATE operations SET lease_until = $3 WHERE id = $1::uuid AND lease_owner = $2
         AND state IN ('running', 'verifying')`,
      [id, owner, until],
    );
    return rowCount > 0;
  }

  /** Unconfirmed (or not yet approved, or approved but not started) operations past their expiry, oldest first. */
  async listExpired(now: Date, limit = 50): Promise<Operation[]> {
    const { rows } = await this.#q.query(
      `SELECT * FROM operations WHERE state IN ('requested', 'awaiting_approval', 'approved') AND expires_at <= $1
         ORDER BY expires_at, id LIMIT $2`,
      [now, clampLimit(limit, 50)],
    );
    return rows.map(toOperation);
  }

  /**
   * Running or verifying operations whose lease ran out at `now` (their runner is gone). Roll-outs
   * are not: durable timers drive them (src/deploy/rollout.ts), with no runner to lose.
   */
  async listOrphaned(now: Date, limit = 50): Promise<Operation[]> {
    const { rows } = await this.#q.query(
      `SELECT * FROM operations WHERE state IN ('running', 'verifying') AND kind <> 'rollout'
         AND (lease_until IS NULL OR lease_until <= $1) ORDER BY created_at, id LIMIT $2`,
      [now, clampLimit(limit, 50)],
    );
    return rows.map(toOperation);
  }

  /** Most recent first, any state. */
  async listRecent(
    filter: { service?: string; environment?: string; limit?: number } = {},
  ): Promise<Operation[]> {
    const params: unknown[] = [];
    const conditions: string[] = [];
    if (filter.service !== undefined) {
      params.push(filter.service);
      conditions.push(`service = $${params.length}`);
    }
    if (filter.environment !== undefined) {
      params.push(filter.environment);
      conditions.push(`environment = $${params.length}`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    params.push(clampLimit(filter.limit, 20));
    const { rows } = await this.#q.query(
      `SELECT * FROM operations ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toOperation);
  }
}
