/** Post-mortems (one per incident) and follow-ups (numbered per incident): migration 015. */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type {
  Followup,
  FollowupRecords,
  LinkedOperation,
  Postmortem,
  PostmortemRecords,
} from '../../incidents/postmortem.ts';
import type { Queryable } from '../db.ts';
import { date, integer, nullableDate, nullableText, parseRow } from './rows.ts';

const postmortemRow = z
  .object({
    incident_number: integer,
    status: z.enum(['pending', 'drafted', 'complete']),
    required: z.boolean(),
    due_at: date,
    drafted_at: nullableDate,
    drafted_by: nullableText,
    drafts: integer,
    message_channel_id: nullableText,
    message_ts: nullableText,
    file_id: nullableText,
    completed_at: nullableDate,
    completed_by: nullableText,
    reminded_at: nullableDate,
    created_at: date,
    updated_at: date,
  })
  .transform(
    (r): Postmortem => ({
      incidentNumber: r.incident_number,
      status: r.status,
      required: r.required,
      dueAt: r.due_at,
      draftedAt: r.drafted_at,
      draftedBy: r.drafted_by,
      drafts: r.drafts,
      message:
        r.message_channel_id && r.message_ts ? { channelId: r.message_channel_id, ts: r.message_ts } : null,
      fileId: r.file_id,
      completedAt: r.completed_at,
      completedBy: r.completed_by,
      remindedAt: r.reminded_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

const followupRow = z
  .object({
    id: integer,
    incident_number: integer,
    number: integer,
    owner: z.string(),
    text: z.string(),
    due_at: nullableDate,
    status: z.enum(['open', 'done']),
    created_by: z.string(),
    created_at: date,
    done_at: nullableDate,
    done_by: nullableText,
    reminded_at: nullableDate,
  })
  .transform(
    (r): Followup => ({
      id: r.id,
      incidentNumber: r.incident_number,
      number: r.number,
      owner: r.owner,
      text: r.text,
      dueAt: r.due_at,
      status: r.status,
      createdBy: r.created_by,
      createdAt: r.created_at,
      doneAt: r.done_at,
      doneBy: r.done_by,
      remindedAt: r.reminded_at,
    }),
  );

const operationRow = z
  .object({
    id: z.string(),
    kind: z.string(),
    service: z.string(),
    environment: z.string(),
    state: z.string(),
    requested_by: z.string(),
    reason: nullableText,
    error: nullableText,
    created_at: date,
    finished_at: nullableDate,
  })
  .transform(
    (r): LinkedOperation => ({
      id: r.id,
      kind: r.kind,
      service: r.service,
      environment: r.environment,
      state: r.state,
      requestedBy: r.requested_by,
      reason: r.reason,
      error: r.error,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    }),
  );

const toPostmortem = (row: unknown): Postmortem => parseRow(postmortemRow, row, 'postmortems');
const toFollowup = (row: unknown): Followup => parseRow(followupRow, row, 'followups');

export class PostmortemRepository implements PostmortemRecords {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  async get(incidentNumber: number): Promise<Postmortem | null> {
    const { rows } = await this.#q.query('SELECT * FROM postmortems WHERE incident_number = $1', [
      incidentNumber,
    ]);
    return rows[0] ? toPostmortem(rows[0]) : null;
  }

  async lock(incidentNumber: number): Promise<Postmortem | null> {
    const { rows } = await this.#q.query('SELECT * FROM postmortems WHERE incident_number = $1 FOR UPDATE', [
      incidentNumber,
    ]);
    return rows[0] ? toPostmortem(rows[0]) : null;
  }

  async upsert(input: { incidentNumber: number; required: boolean; dueAt: Date }): Promise<Postmortem> {
    const now = this.#clock.now();
    const { rows } = await this.#q.query(
      `INSERT INTO postmortems (incident_number, required, due_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (incident_number) DO UPDATE
         SET due_at = EXCLUDED.due_at, required = postmortems.required OR EXCLUDED.required,
             reminded_at = NULL, updated_at = EXCLUDED.updated_at
         WHERE postmortems.status <> 'complete'
       RETURNING *`,
      [input.incidentNumber, input.required, input.dueAt, now],
    );
    if (rows[0]) return toPostmortem(rows[0]);
    const existing = await this.get(input.incidentNumber);
    if (!existing) throw new Error(`post-mortem of incident ${input.incidentNumber} vanished`);
    return existing;
  }

  async ensure(input: {
    incidentNumber: number;
    required: boolean;
    dueAt: Date;
  }): Promise<{ postmortem: Postmortem; created: boolean }> {
    const now = this.#clock.now();
    const { rows } = await this.#q.query(
      `INSERT INTO postmortems (incident_number, required, due_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (incident_number) DO NOTHING
       RETURNING *`,
      [input.incidentNumber, input.required, input.dueAt, now],
    );
    if (rows[0]) return { postmortem: toPostmortem(rows[0]), created: true };
    const existing = await this.get(input.incidentNumber);
    if (!existing) throw new Error(`post-mortem of incident ${input.incidentNumber} vanished`);
    return { postmortem: existing, created: false };
  }

  async recordDraft(
    incidentNumber: number,
    input: { at: Date; by: string; message: { channelId: string; ts: string } | null; fileId: string | null },
  ): Promise<Postmortem | null> {
    const { rows } = await this.#q.query(
      `UPDATE postmortems
         SET status = CASE WHEN status = 'complete' THEN status ELSE 'drafted' END,
             drafted_at = $2, drafted_by = $3, drafts = drafts + 1,
             message_channel_id = $4, message_ts = $5, file_id = $6, updated_at = $2
       WHERE incident_number = $1
       RETURNING *`,
      [
        incidentNumber,
        input.at,
        input.by,
        input.message?.channelId ?? null,
        input.message?.ts ?? null,
        input.fileId,
      ],
    );
    return rows[0] ? toPostmortem(rows[0]) : null;
  }

  async complete(incidentNumber: number, input: { at: Date; by: string }): Promise<Postmortem | null> {
    const { rows } = await this.#q.query(
      `UPDATE postmortems SET status = 'complete', completed_at = $2, completed_by = $3, updated_at = $2
       WHERE incident_number = $1 AND status <> 'complete'
       RETURNING *`,
      [incidentNumber, input.at, input.by],
    );
    return rows[0] ? toPostmortem(rows[0]) : null;
  }

  async markReminded(incidentNumber: number, at: Date): Promise<boolean> {
    const { rows } = await this.#q.query(
      `UPDATE postmortems SET reminded_at = $2, updated_at = $2
       WHERE incident_number = $1 AND reminded_at IS NULL AND status <> 'complete'
       RETURNING incident_number`,
      [incidentNumber, at],
    );
    return rows.length > 0;
  }

  /** The /deploy operations run for the incident, oldest first. */
  async linkedOperations(incidentNumber: number): Promise<LinkedOperation[]> {
    const { rows } = await this.#q.query(
      `SELECT id::text AS id, kind, service, environment, state, requested_by, reason, error, created_at, finished_at
       FROM operations WHERE incident_number = $1 ORDER BY created_at, id LIMIT 200`,
      [incidentNumber],
    );
    return rows.map((row) => parseRow(operationRow, row, 'operations'));
  }
}

export class FollowupRepository implements FollowupRecords {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  async add(input: {
    incidentNumber: number;
    owner: string;
    text: string;
    dueAt: Date | null;
    createdBy: string;
  }): Promise<Followup> {
    const { rows } = await this.#q.query(
      `INSERT INTO followups (incident_number, number, owner, text, due_at, created_by, created_at)
       VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM followups WHERE incident_number = $1), $2, $3, $4, $5, $6)
       RETURNING *`,
      [input.incidentNumber, input.owner, input.text, input.dueAt, input.createdBy, this.#clock.now()],
    );
    return toFollowup(rows[0]);
  }

  async list(incidentNumber: number): Promise<Followup[]> {
    const { rows } = await this.#q.query(
      'SELECT * FROM followups WHERE incident_number = $1 ORDER BY number LIMIT 500',
      [incidentNumber],
    );
    return rows.map(toFollowup);
  }

  async get(id: number): Promise<Followup | null> {
    const { rows } = await this.#q.query('SELECT * FROM followups WHERE id = $1', [id]);
    return rows[0] ? toFollowup(rows[0]) : null;
  }

  async byNumber(incidentNumber: number, number: number): Promise<Followup | null> {
    const { rows } = await this.#q.query(
      'SELECT * FROM followups WHERE incident_number = $1 AND number = $2',
      [incidentNumber, number],
    );
    return rows[0] ? toFollowup(rows[0]) : null;
  }

  async markDone(
    incidentNumber: number,
    number: number,
    input: { at: Date; by: string },
  ): Promise<Followup | null> {
    const { rows } = await this.#q.query(
      `UPDATE followups SET status = 'done', done_at = $3, done_by = $4
       WHERE incident_number = $1 AND number = $2 AND status = 'open'
       RETURNING *`,
      [incidentNumber, number, input.at, input.by],
    );
    return rows[0] ? toFollowup(rows[0]) : null;
  }

  async markReminded(id: number, at: Date): Promise<boolean> {
    const { rows } = await this.#q.query(
      `UPDATE followups SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL AND status = 'open'
       RETURNING id`,
      [id, at],
    );
    return rows.length > 0;
  }
}
