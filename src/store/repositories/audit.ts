/**
 * The audit log: append-only (triggers refuse UPDATE and TRUNCATE, and DELETE except of records past
 * their retention by prune_audit_records, migration 006).
 */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import {
  checkOffset,
  clampLimit,
  date,
  integer,
  type JsonObject,
  jsonObject,
  jsonParam,
  nullableText,
  parseRow,
} from './rows.ts';

export const AUDIT_OUTCOMES = [
  'requested',
  'approved',
  'rejected',
  'denied',
  'succeeded',
  'failed',
  'cancelled',
  'started',
  'verifying',
  'expired',
  'interrupted',
  'awaiting_approval',
  'frozen',
  'unfrozen',
  'step',
  'paused',
  'resumed',
  'aborted',
  'promoted',
  'rolled_back',
  'inconclusive',
  'acknowledged',
  'escalated',
  'paged',
] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditRecord {
  id: number;
  at: Date;
  /** Slack user id, or 'bot'. */
  actor: string;
  /** What was attempted, e.g. deploy.rollback or incident.declare. */
  action: string;
  service: string | null;
  environment: string | null;
  outcome: AuditOutcome;
  details: JsonObject;
  incidentNumber: number | null;
  operationId: string | null;
}

export interface AppendAuditInput {
  actor: string;
  action: string;
  outcome: AuditOutcome;
  service?: string | null;
  environment?: string | null;
  /** Never put secrets here. */
  details?: JsonObject;
  incidentNumber?: number | null;
  operationId?: string | null;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditFilter {
  service?: string;
  incidentNumber?: number;
  operationId?: string;
  /** Only records at or after this time. */
  since?: Date;
}

export interface ListAuditOptions extends AuditFilter {
  /** Records after this many (newest first). */
  offset?: number;
  /** Keyset paging: only records older than this one (newest first), for reading long runs. */
  before?: { at: Date; id: number };
  /** Default 50, at most 1000. */
  limit?: number;
}

const auditRow = z
  .object({
    id: integer,
    at: date,
    actor: z.string(),
    action: z.string(),
    service: nullableText,
    environment: nullableText,
    outcome: z.enum(AUDIT_OUTCOMES),
    details: jsonObject,
    incident_number: integer.nullable(),
    operation_id: nullableText,
  })
  .transform(
    (r): AuditRecord => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      service: r.service,
      environment: r.environment,
      outcome: r.outcome,
      details: r.details,
      incidentNumber: r.incident_number,
      operationId: r.operation_id,
    }),
  );

function toAudit(row: unknown): AuditRecord {
  return parseRow(auditRow, row, 'audit_records');
}

export class AuditRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  async append(input: AppendAuditInput): Promise<AuditRecord> {
    const { rows } = await this.#q.query(
      `INSERT INTO audit_records (at, actor, action, service, environment, outcome, details, incident_number, operation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
       RETURNING *`,
      [
        input.at ?? this.#clock.now(),
        input.actor,
        input.action,
        input.service ?? null,
        input.environment ?? null,
        input.outcome,
        jsonParam(input.details ?? {}),
        input.incidentNumber ?? null,
        input.operationId ?? null,
      ],
    );
    return toAudit(rows[0]);
  }

  /** Newest first, optionally for one service, incident or operation, since a time. */
  async list(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    const { where, params } = filterClause(options);
    if (options.before !== undefined) {
      params.push(options.before.at, options.before.id);
      where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(clampLimit(options.limit, 50));
    const limit = params.length;
    params.push(checkOffset(options.offset));
    const { rows } = await this.#q.query(
      `SELECT * FROM audit_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY at DESC, id DESC LIMIT $${limit} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }

  /** How many records match. */
  async count(filter: AuditFilter = {}): Promise<number> {
    const { where, params } = filterClause(filter);
    const { rows } = await this.#q.query<{ count: number | string }>(
      `SELECT count(*)::int AS count FROM audit_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`,
      params,
    );
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * Deletes up to `batchSize` of the oldest records older than `cutoff` (the only DELETE the
   * append-only triggers let through) and returns how many went.
   */
  async prune(cutoff: Date, batchSize = 10_000): Promise<number> {
    const { rows } = await this.#q.query<{ deleted: number | null }>(
      'SELECT prune_audit_records($1::timestamptz, $2::int) AS deleted',
      [cutoff, clampLimit(batchSize, 10_000, 100_000)],
    );
    return Number(rows[0]?.deleted ?? 0);
  }
}

function filterClause(filter: AuditFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.service !== undefined) {
    params.push(filter.service);
    where.push(`service = $${params.length}`);
  }
  if (filter.incidentNumber !== undefined) {
    params.push(filter.incidentNumber);
    where.push(`incident_number = $${params.length}`);
  }
  if (filter.operationId !== undefined) {
    params.push(filter.operationId);
    where.push(`operation_id = $${params.length}::uuid`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`at >= $${params.length}`);
  }
  return { where, params };
}
