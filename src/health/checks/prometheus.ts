import type { PrometheusCheckConfig } from '../../config/schema.ts';
import { resolveSecrets } from '../../config/secrets.ts';
import { describeNetworkError, innermostMessage } from '../network-errors.ts';
import { evaluatePrometheusAnswer, type PrometheusEvaluation, type PrometheusRule } from '../prometheus.ts';
import { displayUrl, parseUrl } from '../redact.ts';
import type { JsonValue } from '../types.ts';
import { type CheckOutcome, elapsedSince, type PrepareContext, type PreparedCheck } from './check.ts';
import { moveUrlCredentials, resolveHeaders } from './headers.ts';

/** `{base}/api/v1/query?query=…`; a base that already ends in /api/v1/query is kept. */
export function prometheusQueryUrl(base: URL, query: string): URL {
  const url = new URL(base.href);
  if (!/\/api\/v1\/query\/?$/.test(url.pathname))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.searchParams.set('query', query);
  return url;
}

export interface PrometheusQuery {
  /** Prometheus base URL, secrets resolved, without credentials (send them in headers). */
  url: URL;
  query: string;
  headers: Record<string, string>;
  signal: AbortSignal;
}

export type PrometheusQueryResult =
  | { ok: true; evaluation: PrometheusEvaluation; httpStatus: number }
  | { ok: false; reason: string };

/** Runs an instant query and judges the answer; network failures come back as a reason. */
export async function queryPrometheus(
  q: PrometheusQuery,
  rule: PrometheusRule,
): Promise<PrometheusQueryResult> {
  let response: Response;
  let text: string;
  const endpoint = prometheusQueryUrl(q.url, q.query);
  try {
    response = await fetch(endpoint, {
      headers: { accept: 'application/json', ...q.headers },
      signal: q.signal,
    });
    text = await response.text();
  } catch (error) {
    return {
      ok: false,
      reason:
        describeNetworkError(error, q.url.host) ?? `Prometheus query failed: ${innermostMessage(error)}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
    return {
      ok: false,
      reason: `Prometheus answered HTTP ${response.status} with ${type}, not the query API's JSON`,
    };
  }
  return {
    ok: true,
    evaluation: evaluatePrometheusAnswer(json, rule, response.status),
    httpStatus: response.status,
  };
}

export function preparePrometheusCheck(
  check: PrometheusCheckConfig,
  { env, redactor }: PrepareContext,
): PreparedCheck {
  redactor.addUrlReferences(check.url, env);
  const url = parseUrl(resolveSecrets(check.url, env), 'the Prometheus URL');
  redactor.addUrlCredentials(url);
  const headers = resolveHeaders(check.headers, env, redactor);
  moveUrlCredentials(url, headers, redactor);
  const rule: PrometheusRule = { unhealthyWhen: check.unhealthyWhen };
  if (check.degradedWhen) rule.degradedWhen = check.degradedWhen;
  if (check.unit) rule.unit = check.unit;
  return {
    target: displayUrl(url),
    run: async (signal) => {
      const started = performance.now();
      const result = await queryPrometheus(
        { url, query: check.query, headers: { ...headers }, signal },
        rule,
      );
      const latencyMs = elapsedSince(started);
      if (!result.ok)
        return { status: 'unhealthy', latencyMs, reason: result.reason, details: { query: check.query } };
      return toOutcome(result.evaluation, latencyMs, check.query);
    },
  };
}

function toOutcome(evaluation: PrometheusEvaluation, latencyMs: number, query: string): CheckOutcome {
  const details: Record<string, JsonValue> = { query, samples: evaluation.samples };
  if (evaluation.value !== undefined) {
    details.value = Number.isFinite(evaluation.value) ? evaluation.value : String(evaluation.value);
  }
  if (evaluation.labels && Object.keys(evaluation.labels).length > 0) details.labels = evaluation.labels;
  if (evaluation.warnings.length > 0) details.warnings = evaluation.warnings;
  const outcome: CheckOutcome = { status: evaluation.status, latencyMs, details };
  if (evaluation.reason !== undefined) outcome.reason = evaluation.reason;
  return outcome;
}
