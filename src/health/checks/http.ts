import type { HttpCheckConfig } from '../../config/schema.ts';
import { resolveSecrets } from '../../config/secrets.ts';
import { describeHealthBody, type HealthBody, parseHealthBody } from '../health-body.ts';
import { describeNetworkError, innermostMessage } from '../network-errors.ts';
import { displayUrl, parseUrl } from '../redact.ts';
import type { JsonValue } from '../types.ts';
import { type CheckOutcome, elapsedSince, type PrepareContext, type PreparedCheck } from './check.ts';
import { moveUrlCredentials, resolveHeaders } from './headers.ts';

export type BodyExpectation = 'auto' | 'health' | 'any';

/** Bodies beyond this are not read whole (a health body is a few kB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Fleet: `/health` is the detailed JSON endpoint; probes (liveness, readiness…) may answer plain text. */
export function defaultBodyExpectation(pathname: string): BodyExpectation {
  return /\/health(\/detailed)?\/?$/.test(pathname) ? 'health' : 'auto';
}

export function prepareHttpCheck(check: HttpCheckConfig, { env, redactor }: PrepareContext): PreparedCheck {
  redactor.addUrlReferences(check.url, env);
  const url = parseUrl(resolveSecrets(check.url, env), 'the check URL');
  redactor.addUrlCredentials(url);
  const headers = resolveHeaders(check.headers, env, redactor);
  moveUrlCredentials(url, headers, redactor);
  const target = displayUrl(url);
  const expectation = check.expectBody ?? defaultBodyExpectation(url.pathname);
  const expected = Array.isArray(check.expectStatus) ? check.expectStatus : [check.expectStatus];
  return {
    target,
    run: (signal) => runHttp({ url, method: check.method, headers, expected, expectation, target, signal }),
  };
}

interface HttpRun {
  url: URL;
  method: HttpCheckConfig['method'];
  headers: Record<string, string>;
  expected: number[];
  expectation: BodyExpectation;
  target: string;
  signal: AbortSignal;
}

async function runHttp(run: HttpRun): Promise<CheckOutcome> {
  const started = performance.now();
  let response: Response;
  let body: BodyText;
  try {
    response = await fetch(run.url, {
      method: run.method,
      headers: run.headers,
      signal: run.signal,
      redirect: 'manual',
    });
    body =
      run.method === 'HEAD' || run.expectation === 'any'
        ? await skipBody(response)
        : await readBody(response);
  } catch (error) {
    const reason = describeNetworkError(error, run.url.host) ?? `request failed: ${innermostMessage(error)}`;
    return { status: 'unhealthy', latencyMs: elapsedSince(started), reason };
  }
  const latencyMs = elapsedSince(started);
  const contentType = response.headers.get('content-type') ?? '';
  const verdict =
    run.method === 'HEAD' ? NO_BODY : interpretBody(body, contentType, run.expectation, run.target);
  const details: Record<string, JsonValue> = { httpStatus: response.status };
  const outcome: CheckOutcome = { status: 'healthy', latencyMs, details };
  if (verdict.kind === 'health') {
    Object.assign(details, verdict.body.details);
    if (verdict.body.children.length > 0) outcome.children = verdict.body.children;
  }

  if (!run.expected.includes(response.status)) {
    const location = response.headers.get('location');
    const parts = [`HTTP ${response.status}, expected ${run.expected.join(' or ')}`];
    if (response.status >= 300 && response.status < 400 && location)
      parts[0] += ` (redirects to ${location})`;
    if (verdict.kind === 'health' && verdict.body.status !== 'healthy')
      parts.push(describeHealthBody(verdict.body));
    return { ...outcome, status: 'unhealthy', reason: parts.join('; ') };
  }
  if (verdict.kind === 'bad') {
    return {
      ...outcome,
      status: 'unhealthy',
      reason: `body is not JSON in the health format: ${verdict.problem}`,
    };
  }
  if (verdict.kind === 'health' && verdict.body.status !== 'healthy') {
    return { ...outcome, status: verdict.body.status, reason: describeHealthBody(verdict.body) };
  }
  return outcome;
}

interface BodyText {
  text: string;
  truncated: boolean;
}

async function skipBody(response: Response): Promise<BodyText> {
  await response.body?.cancel();
  return { text: '', truncated: false };
}

/** Reads at most MAX_BODY_BYTES of the body, then lets the rest go. */
async function readBody(response: Response): Promise<BodyText> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return { text: Buffer.concat(chunks).toString('utf8', 0, MAX_BODY_BYTES), truncated: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

type BodyVerdict = { kind: 'health'; body: HealthBody } | { kind: 'none' } | { kind: 'bad'; problem: string };

const NO_BODY: BodyVerdict = { kind: 'none' };

function interpretBody(
  body: BodyText,
  contentType: string,
  expectation: BodyExpectation,
  target: string,
): BodyVerdict {
  if (expectation === 'any') return NO_BODY;
  const strict = expectation === 'health';
  if (body.truncated)
    return strict ? { kind: 'bad', problem: `it is larger than ${MAX_BODY_BYTES} bytes` } : NO_BODY;
  const declaredJson = /json/i.test(contentType);
  if (!declaredJson && !/^\s*[{[]/.test(body.text)) {
    return strict ? { kind: 'bad', problem: `got ${describeContent(contentType, body.text)}` } : NO_BODY;
  }
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch {
    return declaredJson || strict
      ? { kind: 'bad', problem: `it does not parse as JSON (${describeContent(contentType, body.text)})` }
      : NO_BODY;
  }
  const parsed = parseHealthBody(json, target);
  if (parsed.ok) return { kind: 'health', body: parsed.body };
  return strict ? { kind: 'bad', problem: parsed.problem } : NO_BODY;
}

function describeContent(contentType: string, text: string): string {
  const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 40);
  const type = contentType.split(';')[0]?.trim() || 'no content type';
  return snippet ? `${type} "${snippet}${text.trim().length > 40 ? '…' : ''}"` : `${type}, empty body`;
}
