/** Incident timeline events, in the order they happened. */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type {
  AddTimelineEventInput,
  AddTimelineEventResult,
  TimelineRecords,
} from '../../incidents/ports.ts';
import { TIMELINE_KINDS, type TimelineEvent, type TimelineKind } from '../../incidents/timeline.ts';
import type { Queryable } from '../db.ts';
import { StoreError } from '../errors.ts';
import {
  checkOffset,
  clampLimit,
  date,
  integer,
  jsonObject,
  jsonParam,
  nullableDate,
  nullableText,
  parseRow,
} from './rows.ts';

const kindCountRow = z.object({ count: integer, latest: nullableDate });

const eventRow = z
  .object({
    id: integer,
    incident_number: integer,
    at: date,
    actor: z.string(),
    kind: z.enum(TIMELINE_KINDS),
    text: z.string(),
    data: jsonObject,
    source_key: nullableText,
    created_at: date,
  })
  .transform(
    (r): TimelineEvent => ({
      id: r.id,
      incidentNumber: r.incident_number,
      at: r.at,
      actor: r.actor,
      kind: r.kind,
      text: r.text,
      data: r.data,
      sourceKey: r.source_key,
      createdAt: r.created_at,
    }),
  );

function toEvent(row: unknown): TimelineEvent {
  return parseRow(eventRow, row, 'timeline_events');
}

export class TimelineRepository implements TimelineRecords {
  readonly #q: Queryable;
  readonly #clock: Clock;

  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  /** Adds an event; with a sourceKey already recorded, returns that event instead (created: false). */
  async add(input: AddTimelineEventInput): Promise<AddTimelineEventResult> {
    const now = this.#clock.now();
    const sourceKey = input.sourceKey ?? null;
    // A concurrent removeBySourceKey can delete the conflicting row between the two statements: retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await this.#q.query(
        `INSERT INTO timeline_events (incident_number, at, actor, kind, text, data, source_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
         ON CONFLICT (source_key) DO NOTHING
         RETURNING *`,
        [
          input.incidentNumber,
          input.at ?? now,
          input.actor,
          input.kind,
          input.text,
          jsonParam(input.data ?? {}),
          sourceKey,
          now,
        ],
      );
      if (rows[0]) return { event: toEvent(rows[0]), created: true };
      const existing = sourceKey === null ? null : await this.findBySourceKey(sourceKey);
      if (existing) return { event: existing, created: false };
    }
    throw new StoreError(
      `timeline event with source key ${sourceKey} kept conflicting with concurrent removals; retry`,
    );
  }

  async findBySourceKey(sourceKey: string): Promise<TimelineEvent | null> {
    const { rows } = await this.#q.query('SELECT * FROM timeline_events WHERE source_key = $1', [sourceKey]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  /** Removes the event recorded for this source (e.g. the 📌 was taken off); returns it, or null. */
  async removeBySourceKey(sourceKey: string): Promise<TimelineEvent | null> {
    const { rows } = await this.#q.query('DELETE FROM timeline_events WHERE source_key = $1 RETURNING *', [
      sourceKey,
    ]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  /** Events of one incident, oldest first (by time, then insertion order). */
  async list(
    incidentNumber: number,
    page: { limit?: number; offset?: number } = {},
  ): Promise<TimelineEvent[]> {
    const { rows } = await this.#q.query(
      'SELECT * FROM timeline_events WHERE incident_number = $1 ORDER BY at, id LIMIT $2 OFFSET $3',
      [incidentNumber, clampLimit(page.limit, 100), checkOffset(page.offset)],
    );
    return rows.map(toEvent);
  }

  /** Events of one kind of one incident, oldest first (the headline's deploy actions). */
  async listOfKind(incidentNumber: number, kind: TimelineKind, limit = 50): Promise<TimelineEvent[]> {
    const { rows } = await this.#q.query(
      'SELECT * FROM timeline_events WHERE incident_number = $1 AND kind = $2 ORDER BY at, id LIMIT $3',
      [incidentNumber, kind, clampLimit(limit, 50)],
    );
    return rows.map(toEvent);
  }

  /** How many events of one kind the incident has, all of them, and when the latest was. */
  async countOfKind(
    incidentNumber: number,
    kind: TimelineKind,
  ): Promise<{ count: number; latestAt: Date | null }> {
    const { rows } = await this.#q.query(
      'SELECT count(*) AS count, max(at) AS latest FROM timeline_events WHERE incident_number = $1 AND kind = $2',
      [incidentNumber, kind],
    );
    const row = parseRow(kindCountRow, rows[0], 'timeline_events');
    return { count: row.count, latestAt: row.latest };
  }

  async count(incidentNumber: number): Promise<number> {
    const { rows } = await this.#q.query<{ count: number }>(
      'SELECT count(*) AS count FROM timeline_events WHERE incident_number = $1',
      [incidentNumber],
    );
    return rows[0]?.count ?? 0;
  }
}
