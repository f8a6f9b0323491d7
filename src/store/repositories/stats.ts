/**
 * Reads for incident and deploy statistics (src/stats/): the facts of each incident and executed
 * operation of a period, in a few queries over incidents, timeline_events and operations. Nothing
 * here writes; the figures are computed from these rows by src/stats/stats.ts.
 */
import { z } from 'zod';
import type { Queryable } from '../db.ts';
import { date, integer, nullableDate, nullableText, parseRow } from './rows.ts';

/** Operations that ran (changed, or tried to change, the platform). */
export const EXECUTED_OPERATION_STATES = ['succeeded', 'failed', 'interrupted'] as const;

export interface StatsRange {
  /** Inclusive; null: since the beginning. */
  since: Date | null;
  /** Exclusive. */
  until: Date;
}

export interface IncidentFacts {
  number: number;
  severity: string;
  affectedServices: string[];
  status: string;
  startedAt: Date;
  acknowledgedAt: Date | null;
  /** incidents.mitigated_at as recorded. */
  mitigatedAt: Date | null;
  /** The first succeeded /deploy operation linked to the incident (its finish). */
  firstFixAt: Date | null;
  /** The first status update to identified or monitoring. */
  firstIdentifiedAt: Date | null;
  resolvedAt: Date | null;
  nextUpdateDueAt: Date | null;
  escalationLevel: number;
  /** 'escalated' timeline events. */
  escalatedEvents: number;
}

export interface UpdateFacts {
  incidentNumber: number;
  at: Date;
  /** The previous status update of the incident, and the next update time it announced. */
  previousAt: Date | null;
  previousDueAt: Date | null;
}

export interface OperationFacts {
  id: string;
  kind: string;
  service: string;
  environment: string;
  state: string;
  incidentNumber: number | null;
  /** When it started running (created, for one that never recorded a start). */
  at: Date;
  finishedAt: Date | null;
}

export interface DowntimeFacts {
  severity: string;
  affectedServices: string[];
  startedAt: Date;
  resolvedAt: Date | null;
}

const incidentFactsRow = z
  .object({
    number: integer,
    severity: z.string(),
    affected_services: z.array(z.string()),
    status: z.string(),
    started_at: date,
    acknowledged_at: nullableDate,
    mitigated_at: nullableDate,
    first_fix_at: nullableDate,
    first_identified_at: nullableDate,
    resolved_at: nullableDate,
    next_update_due_at: nullableDate,
    escalation_level: integer,
    escalated_events: integer,
  })
  .transform(
    (r): IncidentFacts => ({
      number: r.number,
      severity: r.severity,
      affectedServices: r.affected_services,
      status: r.status,
      startedAt: r.started_at,
      acknowledgedAt: r.acknowledged_at,
      mitigatedAt: r.mitigated_at,
      firstFixAt: r.first_fix_at,
      firstIdentifiedAt: r.first_identified_at,
      resolvedAt: r.resolved_at,
      nextUpdateDueAt: r.next_update_due_at,
      escalationLevel: r.escalation_level,
      escalatedEvents: r.escalated_events,
    }),
  );

const updateFactsRow = z
  .object({ incident_number: integer, at: date, previous_at: nullableDate, previous_due: nullableText })
  .transform(
    (r): UpdateFacts => ({
      incidentNumber: r.incident_number,
      at: r.at,
      previousAt: r.previous_at,
      previousDueAt: dueOf(r.previous_due),
    }),
  );

const operationFactsRow = z
  .object({
    id: z.string(),
    kind: z.string(),
    service: z.string(),
    environment: z.string(),
    state: z.string(),
    incident_number: integer.nullable(),
    at: date,
    finished_at: nullableDate,
  })
  .transform(
    (r): OperationFacts => ({
      id: r.id,
      kind: r.kind,
      service: r.service,
      environment: r.environment,
      state: r.state,
      incidentNumber: r.incident_number,
      at: r.at,
      finishedAt: r.finished_at,
    }),
  );

const downtimeRow = z
  .object({
    severity: z.string(),
    affected_services: z.array(z.string()),
    started_at: date,
    resolved_at: nullableDate,
  })
  .transform(
    (r): DowntimeFacts => ({
      severity: r.severity,
      affectedServices: r.affected_services,
      startedAt: r.started_at,
      resolvedAt: r.resolved_at,
    }),
  );

/** A timeline event's `nextUpdateDueAt` (ISO text), or null when absent or malformed. */
function dueOf(text: string | null): Date | null {
  if (text === null) return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** Incidents started in the range: `$1` since (or null), `$2` until. */
const STARTED_IN = '($1::timestamptz IS NULL OR i.started_at >= $1) AND i.started_at < $2';

export class StatsRepository {
  readonly #q: Queryable;

  constructor(q: Queryable) {
    this.#q = q;
  }

  /** Every incident started in the range, with the times its figures are computed from. */
  async incidents(range: StatsRange): Promise<IncidentFacts[]> {
    // Aggregates joined to the period's incidents (one pass over each table, not a scan per incident).
    const { rows } = await this.#q.query(
      `WITH period AS (SELECT i.* FROM incidents i WHERE ${STARTED_IN}),
       fix AS (
         SELECT o.incident_number, min(coalesce(o.finished_at, o.updated_at)) AS first_fix_at
           FROM operations o JOIN period p ON p.number = o.incident_number
          WHERE o.state = 'succeeded'
          GROUP BY o.incident_number),
       events AS (
         SELECT e.incident_number,
                min(e.at) FILTER (WHERE e.kind = 'status_update'
                                    AND e.data->>'to' IN ('identified', 'monitoring')) AS first_identified_at,
                count(*) FILTER (WHERE e.kind = 'escalated')::int AS escalated_events
           FROM timeline_events e JOIN period p ON p.number = e.incident_number
          WHERE e.kind IN ('status_update', 'escalated')
          GROUP BY e.incident_number)
       SELECT p.number, p.severity, p.affected_services, p.status, p.started_at, p.acknowledged_at,
              p.mitigated_at, p.resolved_at, p.next_update_due_at, p.escalation_level,
              fix.first_fix_at, events.first_identified_at, coalesce(events.escalated_events, 0) AS escalated_events
         FROM period p
         LEFT JOIN fix ON fix.incident_number = p.number
         LEFT JOIN events ON events.incident_number = p.number
        ORDER BY p.number`,
      [range.since, range.until],
    );
    return rows.map((row) => parseRow(incidentFactsRow, row, 'incidents'));
  }

  /** The status updates of the incidents started in the range, each with the one before it. */
  async updates(range: StatsRange): Promise<UpdateFacts[]> {
    const { rows } = await this.#q.query(
      `SELECT e.incident_number, e.at,
              lag(e.at) OVER w AS previous_at,
              lag(e.data->>'nextUpdateDueAt') OVER w AS previous_due
         FROM timeline_events e
         JOIN incidents i ON i.number = e.incident_number
        WHERE e.kind = 'status_update' AND ${STARTED_IN}
       WINDOW w AS (PARTITION BY e.incident_number ORDER BY e.at, e.id)
        ORDER BY e.incident_number, e.at, e.id`,
      [range.since, range.until],
    );
    return rows.map((row) => parseRow(updateFactsRow, row, 'timeline_events'));
  }

  /** Operations that ran, started in the range (a never-started one by its creation), oldest first. */
  async operations(range: StatsRange): Promise<OperationFacts[]> {
    const { rows } = await this.#q.query(
      `SELECT o.id::text AS id, o.kind, o.service, o.environment, o.state, o.incident_number,
              coalesce(o.started_at, o.created_at) AS at, o.finished_at
         FROM operations o
        WHERE o.state IN ('succeeded', 'failed', 'interrupted')
          AND ($1::timestamptz IS NULL OR coalesce(o.started_at, o.created_at) >= $1)
          AND coalesce(o.started_at, o.created_at) < $2
        ORDER BY coalesce(o.started_at, o.created_at), o.id`,
      [range.since, range.until],
    );
    return rows.map((row) => parseRow(operationFactsRow, row, 'operations'));
  }

  /** Incidents open at some time in [from, until): the error budget's downtime. */
  async overlapping(from: Date, until: Date): Promise<DowntimeFacts[]> {
    const { rows } = await this.#q.query(
      `SELECT i.severity, i.affected_services, i.started_at, i.resolved_at
         FROM incidents i
        WHERE i.started_at < $2 AND (i.resolved_at IS NULL OR i.resolved_at > $1)
        ORDER BY i.started_at, i.number`,
      [from, until],
    );
    return rows.map((row) => parseRow(downtimeRow, row, 'incidents'));
  }
}
