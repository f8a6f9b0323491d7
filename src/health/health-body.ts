import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { type CheckResult, type HealthStatus, type JsonValue, worstStatus } from './types.ts';

/**
 * The runbooks' health body: `{ status, checks: { database: { status, latency, message }, … } }`
 * (Fleet), where a check may be a bare string (`"database": "error"`, Floyo) and a sibling
 * `message` describes the block. Arrays of checks (application/health+json) are accepted too.
 */

const STATUS_WORDS: Record<string, HealthStatus> = {
  healthy: 'healthy',
  ok: 'healthy',
  up: 'healthy',
  pass: 'healthy',
  passing: 'healthy',
  green: 'healthy',
  connected: 'healthy',
  available: 'healthy',
  degraded: 'degraded',
  warn: 'degraded',
  warning: 'degraded',
  yellow: 'degraded',
  unhealthy: 'unhealthy',
  error: 'unhealthy',
  down: 'unhealthy',
  fail: 'unhealthy',
  failed: 'unhealthy',
  failing: 'unhealthy',
  critical: 'unhealthy',
  red: 'unhealthy',
  disconnected: 'unhealthy',
  unavailable: 'unhealthy',
};

/** Keys of a `checks` block whose string value describes the block rather than naming a check. */
const MESSAGE_KEYS = new Set(['message', 'error', 'reason', 'detail', 'details', 'description', 'output']);

const MAX_DEPTH = 4;

/** Maps a status word of a health body (healthy/ok/up, degraded/warn, unhealthy/error/down…). */
export function normalizeStatus(word: unknown): HealthStatus | undefined {
  return typeof word === 'string' ? STATUS_WORDS[word.trim().toLowerCase()] : undefined;
}

export interface HealthBody {
  status: HealthStatus;
  /** The status word as the body wrote it. */
  statusText: string;
  message?: string;
  children: CheckResult[];
  /** Top-level facts worth showing: version, environment, uptime, timestamp. */
  details: Record<string, JsonValue>;
}

export type HealthBodyParse = { ok: true; body: HealthBody } | { ok: false; problem: string };

const jsonObject = z.record(z.string(), z.json());

const componentSchema = z.looseObject({
  status: z.string().optional(),
  message: z.string().optional(),
  error: z.string().optional(),
  output: z.string().optional(),
  latency: z.union([z.number(), z.string()]).optional(),
  latencyMs: z.number().optional(),
  responseTime: z.union([z.number(), z.string()]).optional(),
  details: jsonObject.optional(),
  checks: z.unknown().optional(),
});
type Component = z.output<typeof componentSchema>;

const TOP_DETAILS = ['version', 'environment', 'uptime', 'timestamp', 'service'];

/** Reads a parsed JSON value as a health body, or says why it is not one. */
export function parseHealthBody(json: unknown, target: string): HealthBodyParse {
  const top = componentSchema.safeParse(json);
  if (!top.success || Array.isArray(json)) return { ok: false, problem: 'it is not a JSON object' };
  const component = top.data;
  const children = readChecks(component.checks, target, 1);
  const details: Record<string, JsonValue> = {};
  const raw = json as Record<string, unknown>;
  for (const key of TOP_DETAILS) {
    const value = raw[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      details[key] = value;
  }
  const message = messageOf(component) ?? children.blockMessage;
  if (component.status === undefined) {
    if (children.results.length === 0) return { ok: false, problem: 'it has no "status" field' };
    const status = worstStatus(children.results.map((c) => c.status));
    return {
      ok: true,
      body: withMessage({ status, statusText: status, children: children.results, details }, message),
    };
  }
  const status = normalizeStatus(component.status);
  if (status === undefined) {
    return {
      ok: false,
      problem: `its status "${component.status.slice(0, 40)}" is not healthy, degraded or unhealthy (or ok, up, error, down)`,
    };
  }
  return {
    ok: true,
    body: withMessage({ status, statusText: component.status, children: children.results, details }, message),
  };
}

function withMessage(body: HealthBody, message: string | undefined): HealthBody {
  return message === undefined ? body : { ...body, message };
}

function messageOf(component: Component): string | undefined {
  return component.message ?? component.error ?? component.output;
}

interface ReadChecks {
  results: CheckResult[];
  blockMessage?: string;
}

function readChecks(checks: unknown, target: string, depth: number): ReadChecks {
  if (depth > MAX_DEPTH || checks === null || typeof checks !== 'object') return { results: [] };
  const entries: [string, unknown][] = Array.isArray(checks)
    ? checks.map((c, i) => [nameOf(c) ?? `check ${i + 1}`, c])
    : Object.entries(checks);
  const results: CheckResult[] = [];
  let blockMessage: string | undefined;
  for (const [name, value] of entries) {
    if (typeof value === 'string') {
      const status = normalizeStatus(value);
      if (status !== undefined) results.push({ name, type: 'component', target, status });
      else if (MESSAGE_KEYS.has(name.toLowerCase())) blockMessage ??= value;
      continue;
    }
    const entry = Array.isArray(value) ? worstEntry(value) : value;
    const result = readComponent(name, entry, target, depth);
    if (result) results.push(result);
  }
  // Floyo: { "database": "error", "message": "Connection timeout" }: the message explains the failures.
  if (blockMessage !== undefined) {
    for (const r of results) if (r.status !== 'healthy' && r.reason === undefined) r.reason = blockMessage;
  }
  return blockMessage === undefined ? { results } : { results, blockMessage };
}

function nameOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ['name', 'componentId', 'component', 'id']) {
    if (typeof record[key] === 'string') return record[key];
  }
  return undefined;
}

/** application/health+json lists observations per check: the worst one speaks for the check. */
function worstEntry(entries: unknown[]): unknown {
  let worst: unknown;
  let worstRank = -1;
  for (const entry of entries) {
    const parsed = componentSchema.safeParse(entry);
    if (!parsed.success) continue;
    const status = normalizeStatus(parsed.data.status);
    const rank = status === 'unhealthy' ? 2 : status === 'degraded' ? 1 : 0;
    if (rank > worstRank) {
      worst = entry;
      worstRank = rank;
    }
  }
  return worst;
}

function readComponent(name: string, value: unknown, target: string, depth: number): CheckResult | undefined {
  const parsed = componentSchema.safeParse(value);
  if (!parsed.success || Array.isArray(value)) return undefined;
  const c = parsed.data;
  const nested = readChecks(c.checks, target, depth + 1);
  let status = normalizeStatus(c.status);
  let reason: string | undefined;
  if (status === undefined) {
    if (c.status === undefined && nested.results.length === 0) return undefined;
    if (c.status === undefined) status = worstStatus(nested.results.map((r) => r.status));
    else {
      status = 'degraded';
      reason = `reports an unrecognised status "${c.status.slice(0, 40)}"`;
    }
  }
  const result: CheckResult = { name, type: 'component', target, status };
  const latencyMs = latencyOf(c);
  if (latencyMs !== undefined) result.latencyMs = latencyMs;
  const message = messageOf(c) ?? nested.blockMessage;
  const details: Record<string, JsonValue> = { ...(c.details ?? {}) };
  if (status !== 'healthy') {
    const parts = [reason, message].filter((p): p is string => p !== undefined);
    if (parts.length > 0) result.reason = parts.join(': ');
  } else if (message !== undefined) {
    details.message = message;
  }
  if (Object.keys(details).length > 0) result.details = details;
  if (nested.results.length > 0) result.children = nested.results;
  return result;
}

function latencyOf(c: Component): number | undefined {
  for (const value of [c.latencyMs, c.latency, c.responseTime]) {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === 'string') {
      const ms = parseDuration(value);
      if (ms !== undefined) return ms;
    }
  }
  return undefined;
}

/** One line on what a non-healthy body says: "database degraded (Database responding slowly, 1200ms)". */
export function describeHealthBody(body: HealthBody): string {
  const troubled = body.children.filter((c) => c.status !== 'healthy');
  if (troubled.length > 0) {
    const parts = troubled.map((c) => {
      const notes = [c.reason, c.latencyMs !== undefined ? `${c.latencyMs}ms` : undefined].filter(
        (n): n is string => n !== undefined,
      );
      return `${c.name} ${c.status}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
    });
    return `body reports ${body.statusText}: ${parts.join('; ')}`;
  }
  return body.message !== undefined
    ? `body reports ${body.statusText}: ${body.message}`
    : `body reports ${body.statusText}`;
}
