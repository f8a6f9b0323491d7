/** Incidents: the INC-n records, numbered gap-free. */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { Incident, SlackMessageRef } from '../../incidents/incident.ts';
import type {
  DeclareIncidentInput,
  DeclareResult,
  IncidentPatch,
  IncidentRecords,
  SlackRefsPatch,
} from '../../incidents/ports.ts';
import { INCIDENT_STATUSES } from '../../incidents/status.ts';
import type { Queryable } from '../db.ts';
import { StoreError } from '../errors.ts';
import { inTransaction } from '../transaction.ts';
import { date, integer, nullableDate, nullableText, parseRow } from './rows.ts';

const PATCH_COLUMNS = {
  title: 'title',
  severity: 'severity',
  status: 'status',
  commander: 'commander',
  affectedServices: 'affected_services',
  impact: 'impact',
  summary: 'summary',
  lastUpdateAt: 'last_update_at',
  nextUpdateDueAt: 'next_update_due_at',
  resolvedAt: 'resolved_at',
  resolution: 'resolution',
  rootCause: 'root_cause',
  acknowledgedAt: 'acknowledged_at',
  acknowledgedBy: 'acknowledged_by',
  escalationLevel: 'escalation_level',
  mitigatedAt: 'mitigated_at',
} as const satisfies Record<keyof IncidentPatch, string>;

const incidentRow = z
  .object({
    number: integer,
    title: z.string(),
    severity: z.string(),
    status: z.enum(INCIDENT_STATUSES),
    declared_by: z.string(),
    commander: nullableText,
    affected_services: z.array(z.string()),
    impact: nullableText,
    summary: nullableText,
    channel_id: nullableText,
    announcement_channel_id: nullableText,
    announcement_ts: nullableText,
    headline_channel_id: nullableText,
    headline_ts: nullableText,
    started_at: date,
    last_update_at: nullableDate,
    next_update_due_at: nullableDate,
    resolved_at: nullableDate,
    resolution: nullableText,
    root_cause: nullableText,
    dedupe_key: nullableText,
    acknowledged_at: nullableDate,
    acknowledged_by: nullableText,
    escalation_level: integer,
    mitigated_at: nullableDate,
    created_at: date,
    updated_at: date,
  })
  .transform(
    (r): Incident => ({
      number: r.number,
      title: r.title,
      severity: r.severity,
      status: r.status,
      declaredBy: r.declared_by,
      commander: r.commander,
      affectedServices: r.affected_services,
      impact: r.impact,
      summary: r.summary,
      channelId: r.channel_id,
      announcement:
        r.announcement_channel_id !== null && r.announcement_ts !== null
          ? { channelId: r.announcement_channel_id, ts: r.announcement_ts }
          : null,
      headline:
        r.headline_channel_id !== null && r.headline_ts !== null
          ? { channelId: r.headline_channel_id, ts: r.headline_ts }
          : null,
      startedAt: r.started_at,
      lastUpdateAt: r.last_update_at,
      nextUpdateDueAt: r.next_update_due_at,
      resolvedAt: r.resolved_at,
      resolution: r.resolution,
      rootCause: r.root_cause,
      dedupeKey: r.dedupe_key,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: r.acknowledged_by,
      escalationLevel: r.escalation_level,
      mitigatedAt: r.mitigated_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

function toIncident(row: unknown): Incident {
  return parseRow(incidentRow, row, 'incidents');
}

export class IncidentRepository implements IncidentRecords {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /**
   * Declares an incident with the next number. Idempotent on dedupeKey: a repeat returns the
   * existing incident with created: false. Runs in its own transaction when given the Db; inside a
   * caller's transaction, the number is only taken if that transaction commits.
   */
  async declare(input: DeclareIncidentInput): Promise<DeclareResult> {
    const dedupeKey = input.dedupeKey ?? null;
    if (dedupeKey !== null) {
      const existing = await this.#findByDedupeKey(this.#q, dedupeKey);
      if (existing) return { incident: existing, created: false };
    }
    return inTransaction(this.#q, async (tx) => {
      // The counter row lock serializes declares until commit: the dedupe check below then sees
      // every earlier declare, and numbers are handed out with no gaps.
      await tx.query('SELECT last_number FROM incident_counter WHERE singleton FOR UPDATE');
      if (dedupeKey !== null) {
        const existing = await this.#findByDedupeKey(tx, dedupeKey);
        if (existing) return { incident: existing, created: false };
      }
      const { rows: counter } = await tx.query<{ last_number: number }>(
        'UPDATE incident_counter SET last_number = last_number + 1 WHERE singleton RETURNING last_number',
      );
      const number = counter[0]?.last_number;
      if (number === undefined) {
        throw new StoreError(
          'incident_counter has no row: the 001_init migration has not run on this database',
        );
      }
      const now = this.#clock.now();
      const { rows } = await tx.query(
        `INSERT INTO incidents (
           number, title, severity, status, declared_by, commander, affected_services, impact, summary,
           channel_id, started_at, next_update_due_at, dedupe_key, created_at, updated_at
         ) VALUES ($1, $2, $3, 'investigating', $4, $5, $6::text[], $7, $8, $9, $10, $11, $12, $13, $13)
         RETURNING *`,
        [
          number,
          input.title,
          input.severity,
          input.declaredBy,
          input.commander === undefined ? input.declaredBy : input.commander,
          [...(input.affectedServices ?? [])],
          input.impact ?? null,
          input.summary ?? null,
          input.channelId ?? null,
          input.startedAt ?? now,
          input.nextUpdateDueAt ?? null,
          dedupeKey,
          now,
        ],
      );
      return { incident: toIncident(rows[0]), created: true };
    });
  }

  async get(number: number): Promise<Incident | null> {
    const { rows } = await this.#q.query('SELECT * FROM incidents WHERE number = $1', [number]);
    return rows[0] ? toIncident(rows[0]) : null;
  }

  /** Reads the incident with a row lock, held until the caller's transaction ends. */
  async lock(number: number): Promise<Incident | null> {
    const { rows } = await this.#q.query('SELECT * FROM incidents WHERE number = $1 FOR UPDATE', [number]);
    return rows[0] ? toIncident(rows[0]) : null;
  }

  /** The incident whose dedicated channel this is. */
  async findByChannel(channelId: string): Promise<Incident | null> {
    const { rows } = await this.#q.query('SELECT * FROM incidents WHERE channel_id = $1', [channelId]);
    return rows[0] ? toIncident(rows[0]) : null;
  }

  /** The incident announced by this message (its thread carries a lightweight incident). */
  async findByAnnouncement(ref: SlackMessageRef): Promise<Incident | null> {
    const { rows } = await this.#q.query(
      'SELECT * FROM incidents WHERE announcement_channel_id = $1 AND announcement_ts = $2 ORDER BY number LIMIT 1',
      [ref.channelId, ref.ts],
    );
    return rows[0] ? toIncident(rows[0]) : null;
  }

  /** Every incident not resolved, oldest number first. */
  async listOpen(): Promise<Incident[]> {
    const { rows } = await this.#q.query(
      "SELECT * FROM incidents WHERE status <> 'resolved' ORDER BY number",
    );
    return rows.map(toIncident);
  }

  /** Records the first mitigation (a successful /deploy operation linked to it); later ones change nothing. */
  async markMitigated(number: number, at: Date): Promise<boolean> {
    const result = await this.#q.query(
      'UPDATE incidents SET mitigated_at = $2, updated_at = $2 WHERE number = $1 AND mitigated_at IS NULL',
      [number, at],
    );
    return result.rowCount > 0;
  }

  /** Applies a partial update; null when there is no such incident. */
  async update(number: number, patch: IncidentPatch): Promise<Incident | null> {
    const columns: [string, unknown][] = [];
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof IncidentPatch, string][]) {
      const value = patch[key];
      if (value === undefined) continue;
      columns.push([column, key === 'affectedServices' && Array.isArray(value) ? [...value] : value]);
    }
    return this.#write(number, columns);
  }

  /** Records where the incident lives in Slack (channel, announcement, pinned headline). */
  async setSlackRefs(number: number, refs: SlackRefsPatch): Promise<Incident | null> {
    const columns: [string, unknown][] = [];
    if (refs.channelId !== undefined) columns.push(['channel_id', refs.channelId]);
    if (refs.announcement !== undefined) {
      columns.push(['announcement_channel_id', refs.announcement?.channelId ?? null]);
      columns.push(['announcement_ts', refs.announcement?.ts ?? null]);
    }
    if (refs.headline !== undefined) {
      columns.push(['headline_channel_id', refs.headline?.channelId ?? null]);
      columns.push(['headline_ts', refs.headline?.ts ?? null]);
    }
    return this.#write(number, columns);
  }

  async #write(number: number, columns: readonly [string, unknown][]): Promise<Incident | null> {
    const params: unknown[] = [number, this.#clock.now()];
    const sets = ['updated_at = $2'];
    for (const [column, value] of columns) {
      params.push(value);
      sets.push(
        column === 'affected_services'
          ? `${column} = $${params.length}::text[]`
          : `${column} = $${params.length}`,
      );
    }
    const { rows } = await this.#q.query(
      `UPDATE incidents SET ${sets.join(', ')} WHERE number = $1 RETURNING *`,
      params,
    );
    return rows[0] ? toIncident(rows[0]) : null;
  }

  async #findByDedupeKey(q: Queryable, dedupeKey: string): Promise<Incident | null> {
    const { rows } = await q.query('SELECT * FROM incidents WHERE dedupe_key = $1', [dedupeKey]);
    return rows[0] ? toIncident(rows[0]) : null;
  }
}
