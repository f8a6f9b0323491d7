/** The PagerDuty outbox (migrations 009, 017): pages recorded with the change that caused them. */
import { z } from 'zod';
import { type Clock, systemClock } from '../../clock.ts';
import type { PageRequest, PagerDutyOutbox } from '../../pagerduty/pagerduty.ts';
import type { Queryable } from '../db.ts';
import {
  date,
  integer,
  type JsonObject,
  jsonObject,
  jsonParam,
  nullableDate,
  nullableText,
  parseRow,
} from './rows.ts';
import { TimerRepository } from './timers.ts';

export const PAGERDUTY_SEND_TIMER = 'pagerduty.send';
export const pagerDutyTimerId = (id: string): string => `pagerduty:${id}`;

export type PageState = 'pending' | 'sent' | 'rejected' | 'failed';

/** A page in the outbox, as recorded. */
export interface StoredPage {
  id: string;
  idempotencyKey: string;
  incidentNumber: number | null;
  kind: 'alert' | 'change';
  routingKeyRef: string;
  /** The event without its routing key, as JSON (dates as ISO strings). */
  event: JsonObject;
  state: PageState;
  /** Sends tried so far (counted when one starts). */
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  dedupKey: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** How a send ended (the row leaves 'pending' unless it is to be tried again). */
export interface PageOutcome {
  state: PageState;
  lastStatus: number | null;
  lastError: string | null;
  dedupKey?: string | null;
  sentAt?: Date | null;
}

const pageRow = z
  .object({
    id: z.string(),
    idempotency_key: z.string(),
    incident_number: integer.nullable(),
    kind: z.enum(['alert', 'change']),
    routing_key_ref: z.string(),
    event: jsonObject,
    state: z.enum(['pending', 'sent', 'rejected', 'failed']),
    attempts: integer,
    last_status: integer.nullable(),
    last_error: nullableText,
    dedup_key: nullableText,
    created_at: date,
    sent_at: nullableDate,
  })
  .transform(
    (r): StoredPage => ({
      id: r.id,
      idempotencyKey: r.idempotency_key,
      incidentNumber: r.incident_number,
      kind: r.kind,
      routingKeyRef: r.routing_key_ref,
      event: r.event,
      state: r.state,
      attempts: r.attempts,
      lastStatus: r.last_status,
      lastError: r.last_error,
      dedupKey: r.dedup_key,
      createdAt: r.created_at,
      sentAt: r.sent_at,
    }),
  );

const toPage = (row: unknown): StoredPage => parseRow(pageRow, row, 'pagerduty_events');

/**
 * The order pages go in: as recorded (migration 017's `seq`), so a resolve and a reopen's trigger
 * recorded at one instant go resolve first, and the incident stays open in PagerDuty.
 */
const PAGE_ORDER = 'seq';

export class PagerDutyEventRepository implements PagerDutyOutbox {
  readonly #q: Queryable;
  readonly #clock: Clock;
  constructor(q: Queryable, clock: Clock = systemClock) {
    this.#q = q;
    this.#clock = clock;
  }

  async enqueue(request: PageRequest): Promise<boolean> {
    const now = this.#clock.now();
    const { rows } = await this.#q.query<{ id: string }>(
      `INSERT INTO pagerduty_events (idempotency_key, incident_number, kind, routing_key_ref, event, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [
        request.idempotencyKey,
        request.incidentNumber,
        request.kind,
        request.routingKeyRef,
        jsonParam(request.event as unknown as Record<string, unknown>),
        now,
      ],
    );
    const id = rows[0]?.id;
    if (id === undefined) return false;
    await new TimerRepository(this.#q, this.#clock).schedule({
      id: pagerDutyTimerId(id),
      kind: PAGERDUTY_SEND_TIMER,
      subject: null,
      payload: { event: id },
      dueAt: now,
    });
    return true;
  }

  async triggeredRoutingKeys(incidentNumber: number, round: number): Promise<string[]> {
    // A trigger's idempotency key ends with its round (src/incidents/escalation.ts triggerPage).
    const { rows } = await this.#q.query<{ routing_key_ref: string }>(
      `SELECT routing_key_ref FROM pagerduty_events
        WHERE incident_number = $1 AND kind = 'alert' AND event->>'action' = 'trigger'
          AND idempotency_key LIKE '%:trigger:%' AND idempotency_key LIKE '%:r' || $2::text
        GROUP BY routing_key_ref
        ORDER BY min(seq)`,
      [incidentNumber, String(round)],
    );
    return rows.map((r) => r.routing_key_ref);
  }

  async get(id: string): Promise<StoredPage | null> {
    const { rows } = await this.#q.query('SELECT * FROM pagerduty_events WHERE id = $1', [id]);
    return rows[0] ? toPage(rows[0]) : null;
  }

  /** Pages of an incident (or, with null, the change events), in sending order. */
  async list(filter: { incidentNumber?: number | null; state?: PageState } = {}): Promise<StoredPage[]> {
    const { rows } = await this.#q.query(
      `SELECT * FROM pagerduty_events
        WHERE ($1::boolean IS FALSE OR incident_number IS NOT DISTINCT FROM $2::integer)
          AND ($3::text IS NULL OR state = $3)
        ORDER BY ${PAGE_ORDER}`,
      [filter.incidentNumber !== undefined, filter.incidentNumber ?? null, filter.state ?? null],
    );
    return rows.map(toPage);
  }

  /**
   * Serialises the senders of one incident's pages until the end of the transaction (a
   * transaction-scoped advisory lock), so that "is an earlier page pending?" and "this page is
   * done: wake the next" cannot interleave across replicas.
   */
  async lockIncident(incidentNumber: number): Promise<void> {
    await this.#q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pagerduty_events:${incidentNumber}`]);
  }

  /** The first page of the incident still pending that goes before `page`, if any. */
  async earlierPending(page: StoredPage): Promise<StoredPage | null> {
    if (page.incidentNumber === null) return null;
    const pending = await this.list({ incidentNumber: page.incidentNumber, state: 'pending' });
    const first = pending[0];
    return first && first.id !== page.id ? first : null;
  }

  /** The first pending page of the incident other than `exceptId` (the one to wake next). */
  async nextPending(incidentNumber: number, exceptId: string): Promise<StoredPage | null> {
    const pending = await this.list({ incidentNumber, state: 'pending' });
    return pending.find((p) => p.id !== exceptId) ?? null;
  }

  /** Counts a send as started; null when the page is no longer pending at `attempts` (moved elsewhere). */
  async startAttempt(id: string, attempts: number): Promise<StoredPage | null> {
    const { rows } = await this.#q.query(
      `UPDATE pagerduty_events SET attempts = attempts + 1
        WHERE id = $1 AND state = 'pending' AND attempts = $2 RETURNING *`,
      [id, attempts],
    );
    return rows[0] ? toPage(rows[0]) : null;
  }

  /** Records how the send numbered `attempts` ended (compare-and-set on it); null when it moved meanwhile. */
  async record(id: string, attempts: number, outcome: PageOutcome): Promise<StoredPage | null> {
    const { rows } = await this.#q.query(
      `UPDATE pagerduty_events
          SET state = $3, last_status = $4, last_error = $5,
              dedup_key = COALESCE($6, dedup_key), sent_at = COALESCE($7, sent_at)
        WHERE id = $1 AND state = 'pending' AND attempts = $2 RETURNING *`,
      [
        id,
        attempts,
        outcome.state,
        outcome.lastStatus,
        outcome.lastError === null ? null : outcome.lastError.slice(0, 2000),
        outcome.dedupKey ?? null,
        outcome.sentAt ?? null,
      ],
    );
    return rows[0] ? toPage(rows[0]) : null;
  }
}
