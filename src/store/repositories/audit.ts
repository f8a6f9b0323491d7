/** The audit log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). */
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

export interface ListAuditOptions {
  service?: string;
  incidentNumber?: number;
  operationId?: string;
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

  /** Newest first, optionally for one service, incident or operation. */
  async list(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.service !== undefined) {
      params.push(options.service);
      where.push(`service = $${params.length}`);
    }
    if (options.incidentNumber !== undefined) {
      params.push(options.incidentNumber);
      where.push(`incident_number = $${params.length}`);
    }
    if (options.operationId !== undefined) {
      params.push(options.operationId);
      where.push(`operation_id = $${params.length}::uuid`);
    }
    params.push(clampLimit(options.limit, 50));
    const { rows } = await this.#q.query(
      `SELECT * FROM audit_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }
}
