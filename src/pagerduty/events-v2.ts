/**
 * The PagerDuty Events API v2 adapter: alert events (`POST /v2/enqueue`: trigger, acknowledge,
 * resolve) and change events (`POST /v2/change/enqueue`), over fetch, with a deadline on every call.
 * Answers as PagerDuty documents them: 202 accepted (with the dedup key), 400 invalid (never retried),
 * 429, 5xx and network errors (a timeout included): retry. It runs only in the `pagerduty.send` timer
 * handler (src/pagerduty/sender.ts), never in an incident's or an operation's flow.
 */
import { z } from 'zod';
import type {
  PagerDuty,
  PagerDutyAlertEvent,
  PagerDutyChangeEvent,
  PagerDutyLink,
  PagerDutyResult,
} from './pagerduty.ts';

export const PAGERDUTY_ENDPOINT = 'https://events.pagerduty.com';
/** Per call: PagerDuty may be slow, and a page is retried rather than waited for. */
export const PAGERDUTY_DEADLINE_MS = 2_000;
export const SUMMARY_MAX = 1_024;
export const DEDUP_KEY_MAX = 255;

export interface EventsV2Options {
  /** Base URL (default PagerDuty's): `/v2/enqueue` and `/v2/change/enqueue` are added. */
  endpoint?: string;
  deadlineMs?: number;
  /** `client` of alert events (shown in PagerDuty as the sender). */
  client?: string;
  fetch?: typeof fetch;
}

const accepted = z.object({
  status: z.string(),
  message: z.string().optional(),
  dedup_key: z.string().optional(),
});
const invalid = z.object({
  status: z.string().optional(),
  message: z.string().optional(),
  errors: z.array(z.string()).optional(),
});

/** ≤ `max` characters, ending with an ellipsis when cut (PagerDuty refuses a longer summary). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function links(list: PagerDutyLink[] | undefined): { href: string; text?: string }[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((l) => (l.text === undefined ? { href: l.href } : { href: l.href, text: l.text }));
}

/** The documented JSON body of an alert event. */
export function alertBody(event: PagerDutyAlertEvent, client?: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    routing_key: event.routingKey,
    event_action: event.action,
    dedup_key: clip(event.dedupKey, DEDUP_KEY_MAX),
  };
  if (event.action === 'trigger' && event.payload) {
    const p = event.payload;
    body.payload = {
      summary: clip(p.summary, SUMMARY_MAX),
      source: p.source,
      severity: p.severity,
      ...(p.timestamp ? { timestamp: p.timestamp.toISOString() } : {}),
      ...(p.component ? { component: p.component } : {}),
      ...(p.group ? { group: p.group } : {}),
      ...(p.class ? { class: p.class } : {}),
      ...(p.customDetails ? { custom_details: p.customDetails } : {}),
    };
    if (client) body.client = client;
  }
  const l = links(event.links);
  if (l) body.links = l;
  return body;
}

/** The documented JSON body of a change event. */
export function changeBody(event: PagerDutyChangeEvent): Record<string, unknown> {
  const body: Record<string, unknown> = {
    routing_key: event.routingKey,
    payload: {
      summary: clip(event.summary, SUMMARY_MAX),
      timestamp: event.timestamp.toISOString(),
      ...(event.source ? { source: event.source } : {}),
      ...(event.customDetails ? { custom_details: event.customDetails } : {}),
    },
  };
  const l = links(event.links);
  if (l) body.links = l;
  return body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What PagerDuty's answer means (exported for the fake's contract tests). */
export function interpretAnswer(status: number, text: string): PagerDutyResult {
  const json = parseJson(text);
  if (status === 202 || (status >= 200 && status < 300)) {
    const body = accepted.safeParse(json);
    return { kind: 'accepted', status, dedupKey: body.success ? (body.data.dedup_key ?? null) : null };
  }
  const short = clip(text.trim(), 300) || `HTTP ${status}`;
  if (status === 429 || status === 408 || status >= 500) {
    const body = invalid.safeParse(json);
    return { kind: 'retry', status, message: body.success && body.data.message ? body.data.message : short };
  }
  // 400 (and any other 4xx: a wrong endpoint, a proxy refusing): retrying would not change it.
  const body = invalid.safeParse(json);
  if (body.success && (body.data.message !== undefined || body.data.errors !== undefined)) {
    return {
      kind: 'invalid',
      status,
      message: body.data.message ?? body.data.status ?? `HTTP ${status}`,
      errors: body.data.errors ?? [],
    };
  }
  return { kind: 'invalid', status, message: short, errors: [] };
}

export class EventsV2 implements PagerDuty {
  readonly #base: string;
  readonly #deadlineMs: number;
  readonly #client: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: EventsV2Options = {}) {
    this.#base = (options.endpoint ?? PAGERDUTY_ENDPOINT).replace(/\/+$/, '');
    this.#deadlineMs = options.deadlineMs ?? PAGERDUTY_DEADLINE_MS;
    this.#client = options.client;
    this.#fetch = options.fetch ?? fetch;
  }

  sendAlert(event: PagerDutyAlertEvent): Promise<PagerDutyResult> {
    return this.#post('/v2/enqueue', alertBody(event, this.#client));
  }

  sendChange(event: PagerDutyChangeEvent): Promise<PagerDutyResult> {
    return this.#post('/v2/change/enqueue', changeBody(event));
  }

  async #post(path: string, body: Record<string, unknown>): Promise<PagerDutyResult> {
    const signal = AbortSignal.timeout(this.#deadlineMs);
    try {
      const res = await this.#fetch(`${this.#base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
      const text = await res.text();
      return interpretAnswer(res.status, text);
    } catch (error) {
      if (signal.aborted) {
        return {
          kind: 'retry',
          status: null,
          message: `PagerDuty did not answer within ${this.#deadlineMs} ms`,
        };
      }
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const code = (cause as { code?: unknown } | null)?.code;
      const message = cause instanceof Error ? cause.message : String(cause);
      return {
        kind: 'retry',
        status: null,
        message:
          `PagerDuty could not be reached: ${typeof code === 'string' ? `${code} ` : ''}${message}`.trim(),
      };
    }
  }
}
