/** Approvals of operations: one decision per approver per operation (the first one stands). */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Queryable } from '../db.ts';
import { StoreError } from '../errors.ts';
import { date, parseRow } from './rows.ts';

export const APPROVAL_DECISIONS = ['approved', 'rejected'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export interface Approval {
  operationId: string;
  /** Slack user id. */
  approver: string;
  /** The approver group through which they approved. */
  group: string;
  decision: ApprovalDecision;
  /** Why (a rejection's reason). */
  reason: string | null;
  at: Date;
}

export interface RecordApprovalInput {
  operationId: string;
  approver: string;
  group: string;
  decision: ApprovalDecision;
  reason?: string | null;
  /** Defaults to now. */
  at?: Date;
}

export interface RecordApprovalResult {
  approval: Approval;
  /** False when this approver had already decided: the earlier decision is returned, unchanged. */
  created: boolean;
}

const approvalRow = z
  .object({
    operation_id: z.string(),
    approver: z.string(),
    approver_group: z.string(),
    decision: z.enum(APPROVAL_DECISIONS),
    reason: z.string().nullable(),
    at: date,
  })
  .transform(
    (r): Approval => ({
      operationId: r.operation_id,
      approver: r.approver,
      group: r.approver_group,
      decision: r.decision,
      reason: r.reason,
      at: r.at,
    }),
  );

function toApproval(row: unknown): Approval {
  return parseRow(approvalRow, row, 'approvals');
}

export class ApprovalRepository {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Idempotent per (operation, approver). */
  async record(input: RecordApprovalInput): Promise<RecordApprovalResult> {
    const { rows } = await this.#q.query(
      `INSERT INTO approvals (operation_id, approver, approver_group, decision, at, reason)
       VALUES ($1::uuid, $2, $3, $4, $5, $6)
       ON CONFLICT (operation_id, approver) DO NOTHING
       RETURNING *`,
      [
        input.operationId,
        input.approver,
        input.group,
        input.decision,
        input.at ?? this.#clock.now(),
        input.reason ?? null,
      ],
    );
    if (rows[0]) return { approval: toApproval(rows[0]), created: true };
    const { rows: existing } = await this.#q.query(
      'SELECT * FROM approvals WHERE operation_id = $1::uuid AND approver = $2',
      [input.operationId, input.approver],
    );
    if (!existing[0]) {
      throw new StoreError(
        `approval by ${input.approver} conflicted but cannot be found (operation ${input.operationId})`,
      );
    }
    return { approval: toApproval(existing[0]), created: false };
  }

  /** Decisions on one operation, in the order they were made. */
  async listFor(operationId: string): Promise<Approval[]> {
    const { rows } = await this.#q.query(
      'SELECT * FROM approvals WHERE operation_id = $1::uuid ORDER BY at, approver',
      [operationId],
    );
    return rows.map(toApproval);
  }
}
