/**
 * An in-process PagerDuty Events API v2: `POST /v2/enqueue` and `POST /v2/change/enqueue` on
 * 127.0.0.1, checking each request against the documented shape and answering as PagerDuty does:
 * 202 `{ status: "success", message, dedup_key }`, 400 `{ status: "invalid event", message, errors }`,
 * and, when scripted, 429 or 5xx. It records every request, and the alerts as PagerDuty would hold them
 * (triggered, acknowledged, resolved by dedup key, following the documented de-duplication rules).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export interface FakeRequest {
  path: string;
  method: string;
  contentType: string | undefined;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  /** What the fake answered. */
  status: number;
  receivedAt: Date;
}

export interface FakeAlert {
  dedupKey: string;
  routingKey: string;
  state: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  /** Alerts opened under this dedup key (a trigger after a resolve opens a new one). */
  opened: number;
}

/** A scripted answer for the next request (instead of validating and accepting it). */
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  /** Wait this long before answering (a slow PagerDuty). */
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface PagerDutyFake {
  url: string;
  requests: FakeRequest[];
  alerts: Map<string, FakeAlert>;
  /** Requests to one of the two endpoints (`alert` or `change`) that were accepted. */
  accepted(kind?: 'alert' | 'change'): FakeRequest[];
  /** The next `times` requests get this answer (429 and 5xx with PagerDuty's bodies). */
  failNext(status: number, times?: number): void;
  /** The next request gets exactly this answer. */
  answerNext(answer: ScriptedAnswer): void;
  /** The next `times` requests wait `ms` before being handled. */
  delayNext(ms: number, times?: number): void;
  close(): Promise<void>;
}

const link = z.strictObject({ href: z.string().min(1), text: z.string().optional() });
const image = z.strictObject({
  src: z.string().startsWith('https://'),
  href: z.string().optional(),
  alt: z.string().optional(),
});
const timestamp = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'is not an ISO 8601 timestamp');
const routingKey = z.string().length(32, "Length of 'routing_key' is incorrect (should be 32 characters)");

const alertEvent = z.strictObject({
  routing_key: routingKey,
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().min(1).max(255).optional(),
  payload: z
    .strictObject({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1),
      severity: z.enum(['critical', 'error', 'warning', 'info']),
      timestamp: timestamp.optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  images: z.array(image).optional(),
  links: z.array(link).optional(),
  client: z.string().optional(),
  client_url: z.string().optional(),
});

const changeEvent = z.strictObject({
  routing_key: routingKey,
  payload: z.strictObject({
    summary: z.string().min(1).max(1024),
    source: z.string().optional(),
    timestamp: timestamp.optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
  links: z.array(link).optional(),
});

function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = i.path.join('.');
    if (i.code === 'unrecognized_keys') return `'${i.keys.join("', '")}' is not a recognised field`;
    if (i.message.startsWith('Length of')) return i.message;
    return `'${path}' ${i.message}`;
  });
}

function defaultFailure(status: number): unknown {
  if (status === 429)
    return {
      status: 'throttle event',
      message: 'Requests for this service are arriving too quickly. Please retry later.',
    };
  if (status === 400)
    return { status: 'invalid event', message: 'Event object is invalid', errors: ['scripted'] };
  return 'Internal Server Error';
}

export async function startPagerDutyFake(): Promise<PagerDutyFake> {
  const requests: FakeRequest[] = [];
  const alerts = new Map<string, FakeAlert>();
  const script: ScriptedAnswer[] = [];
  const delays: number[] = [];

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      ...headers,
    });
    res.end(text);
  }

  function handleAlert(event: z.output<typeof alertEvent>): { status: number; body: unknown } {
    if (event.event_action === 'trigger' && !event.payload) {
      return {
        status: 400,
        body: {
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ["'payload' is missing or blank"],
        },
      };
    }
    if (event.event_action !== 'trigger' && !event.dedup_key) {
      return {
        status: 400,
        body: {
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ["'dedup_key' is missing or blank"],
        },
      };
    }
    const dedupKey = event.dedup_key ?? randomBytes(16).toString('hex');
    const current = alerts.get(dedupKey);
    if (event.event_action === 'trigger') {
      if (!current || current.state === 'resolved') {
        alerts.set(dedupKey, {
          dedupKey,
          routingKey: event.routing_key,
          state: 'triggered',
          summary: event.payload?.summary ?? '',
          opened: (current?.opened ?? 0) + 1,
        });
      }
    } else if (current && current.state !== 'resolved' && current.routingKey === event.routing_key) {
      // Documented: acknowledge/resolve for an unknown or resolved alert, or another routing key, are dropped.
      current.state = event.event_action === 'acknowledge' ? 'acknowledged' : 'resolved';
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const record: FakeRequest = {
      path: req.url ?? '',
      method: req.method ?? '',
      contentType: req.headers['content-type'],
      body,
      status: 0,
      receivedAt: new Date(),
    };
    requests.push(record);
    // Both taken when the request arrives: a request still waiting must not take a later script.
    const delay = delays.shift();
    const scripted = script.shift();
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
      record.status = status;
      if (!res.destroyed) send(res, status, payload, headers);
    };
    if (scripted) {
      if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
      answer(scripted.status, scripted.body ?? defaultFailure(scripted.status), scripted.headers);
      return;
    }
    const isAlert = record.path === '/v2/enqueue';
    const isChange = record.path === '/v2/change/enqueue';
    if (!isAlert && !isChange) return answer(404, { status: 'not found', message: 'Not Found' });
    if (record.method !== 'POST')
      return answer(405, { status: 'method not allowed', message: 'Method Not Allowed' });
    if (!body || !record.contentType?.startsWith('application/json')) {
      return answer(400, {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['Request body is not valid JSON'],
      });
    }
    if (isAlert) {
      const event = alertEvent.safeParse(body);
      if (!event.success) {
        return answer(400, {
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: issues(event.error),
        });
      }
      const result = handleAlert(event.data);
      return answer(result.status, result.body);
    }
    const event = changeEvent.safeParse(body);
    if (!event.success) {
      return answer(400, {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: issues(event.error),
      });
    }
    return answer(202, { status: 'success', message: 'Change event processed' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    alerts,
    accepted(kind) {
      return requests.filter(
        (r) =>
          r.status === 202 &&
          (kind === undefined ||
            (kind === 'alert' ? r.path === '/v2/enqueue' : r.path === '/v2/change/enqueue')),
      );
    },
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) script.push({ status });
    },
    answerNext(answer) {
      script.push(answer);
    },
    delayNext(ms, times = 1) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
