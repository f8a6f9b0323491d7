/** The PagerDuty outbox (migration 009): pages recorded with the change that caused them. */
import { type Clock, systemClock } from '../../clock.ts';
import type { PageRequest, PagerDutyOutbox } from '../../pagerduty/pagerduty.ts';
import type { Queryable } from '../db.ts';
import { jsonParam } from './rows.ts';
import { TimerRepository } from './timers.ts';

export const PAGERDUTY_SEND_TIMER = 'pagerduty.send';
export const pagerDutyTimerId = (id: string): string => `pagerduty:${id}`;

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
}
