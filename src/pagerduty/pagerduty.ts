/**
 * PagerDuty, as one interface with adapters behind it (like src/platform/platform.ts): the Events
 * API v2 adapter (src/pagerduty/events-v2.ts) and the in-process fake the tests run it against.
 * What the bot wants paged goes first into an outbox in Postgres (PagerDutyOutbox, in the same
 * transaction as the incident change that caused it) and is sent by the `pagerduty.send` timer, with
 * retries for 429 and 5xx, so paging never blocks nor is lost by an incident's flow.
 */

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

export interface PagerDutyLink {
  href: string;
  text?: string;
}

/** An alert event (POST /v2/enqueue). */
export interface PagerDutyAlertEvent {
  routingKey: string;
  action: PagerDutyAction;
  /** Stable per incident: retries never open a second PagerDuty incident. */
  dedupKey: string;
  /** Trigger only (PagerDuty ignores the payload of acknowledge and resolve). */
  payload?: {
    /** ≤ 1,024 characters. */
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp?: Date;
    component?: string;
    group?: string;
    class?: string;
    customDetails?: Record<string, unknown>;
  };
  links?: PagerDutyLink[];
}

/** A change event (POST /v2/change/enqueue): an executed /deploy operation. */
export interface PagerDutyChangeEvent {
  routingKey: string;
  summary: string;
  source?: string;
  timestamp: Date;
  customDetails?: Record<string, unknown>;
  links?: PagerDutyLink[];
}

/** PagerDuty's answer, as documented: 202 accepted, 400 invalid (never retried), 429/5xx/network: retry. */
export type PagerDutyResult =
  | { kind: 'accepted'; status: number; dedupKey: string | null }
  | { kind: 'invalid'; status: number; message: string; errors: string[] }
  | { kind: 'retry'; status: number | null; message: string };

export interface PagerDuty {
  sendAlert(event: PagerDutyAlertEvent): Promise<PagerDutyResult>;
  sendChange(event: PagerDutyChangeEvent): Promise<PagerDutyResult>;
}

/** What a domain module asks to be paged, recorded in the outbox (resolved and sent later). */
export interface PageRequest {
  /** Exactly-once: enqueuing the same key twice records one page ("runbook-acme-INC-42:trigger:L1:1a2b3c4d:r0"). */
  idempotencyKey: string;
  incidentNumber: number | null;
  kind: 'alert' | 'change';
  /** The routing key as written in config: a `${env:NAME}` reference (resolved only when sent). */
  routingKeyRef: string;
  /** The event without its routing key (an alert's or a change's fields, as JSON). */
  event: Omit<PagerDutyAlertEvent, 'routingKey'> | Omit<PagerDutyChangeEvent, 'routingKey'>;
}

/** The outbox, inside the caller's transaction (IncidentRepositories.pagerduty, the deploy service's). */
export interface PagerDutyOutbox {
  /** Records the page and schedules its sending; false when the key was already recorded. */
  enqueue(request: PageRequest): Promise<boolean>;
  /**
   * The routing key references the incident's triggers of ladder round `round` were recorded for,
   * distinct, first paged first: what its acknowledge and resolve go to.
   */
  triggeredRoutingKeys(incidentNumber: number, round: number): Promise<string[]>;
}
