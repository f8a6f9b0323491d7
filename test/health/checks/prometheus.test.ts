import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../../src/config/schema.ts';
import { runChecks } from '../../../src/health/runner.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { ref } from '../helpers/refs.ts';
import { type LocalServer, sendJson, startHttpServer } from '../helpers/servers.ts';

/**
 * A fake Prometheus speaking the documented HTTP API: GET /api/v1/query?query=… answers
 * {status:'success', data:{resultType, result}} or, for a bad query, HTTP 400
 * {status:'error', errorType:'bad_data', error}.
 */
const now = 1_767_600_000.123;
const answers: Record<string, { status: number; body: unknown }> = {
  error_rate_low: {
    status: 200,
    body: { status: 'success', data: { resultType: 'scalar', result: [now, '0.0004'] } },
  },
  error_rate_high: {
    status: 200,
    body: { status: 'success', data: { resultType: 'scalar', result: [now, '0.0731'] } },
  },
  p95_by_endpoint: {
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { endpoint: '/api/orders' }, value: [now, '0.120'] },
          { metric: { endpoint: '/api/search' }, value: [now, '0.412'] },
          { metric: { endpoint: '/api/users' }, value: [now, 'NaN'] },
        ],
      },
    },
  },
  availability: {
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { instance: 'a' }, value: [now, '1'] },
          { metric: { instance: 'b' }, value: [now, '0.97'] },
        ],
      },
    },
  },
  nothing: { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } },
  'rate(': {
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: '1:6: parse error: unclosed left parenthesis' },
  },
  'http_requests_total[5m]': {
    status: 200,
    body: {
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: {}, values: [[now, '1']] }] },
    },
  },
};

let prometheus: LocalServer;
const received: IncomingMessage[] = [];
beforeAll(async () => {
  prometheus = await startHttpServer((req, res) => {
    received.push(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/proxy-down/api/v1/query') {
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end('<html>Bad Gateway</html>');
    }
    if (!url.pathname.endsWith('/api/v1/query') || req.method !== 'GET') {
      res.writeHead(404);
      return res.end();
    }
    const answer = answers[url.searchParams.get('query') ?? ''];
    if (!answer)
      return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: 'unknown query' });
    sendJson(res, answer.status, answer.body);
  });
});
afterAll(() => prometheus.close());

async function check(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<CheckResult> {
  const config = healthCheckSchema.parse({
    type: 'prometheus',
    name: 'error rate',
    url: prometheus.url,
    timeout: '1s',
    unhealthyWhen: { op: '>', value: 0.05 },
    degradedWhen: { op: '>', value: 0.001 },
    ...input,
  });
  const [result] = await runChecks([config], { env });
  if (!result) throw new Error('no result');
  return result;
}

describe('prometheus check against a fake Prometheus', () => {
  it('a scalar under the thresholds is healthy; the query is sent url-encoded', async () => {
    const result = await check({ query: 'error_rate_low' });
    expect(result).toMatchObject({ status: 'healthy', type: 'prometheus', target: `${prometheus.url}/` });
    expect(result.details).toMatchObject({ value: 0.0004, samples: 1, query: 'error_rate_low' });
    expect(received.at(-1)?.url).toBe('/api/v1/query?query=error_rate_low');
  });

  it('a scalar above the unhealthy threshold', async () => {
    const result = await check({ query: 'error_rate_high' });
    expect(result).toMatchObject({ status: 'unhealthy', reason: '0.0731 > 0.05 (unhealthy threshold)' });
  });

  it('a vector is judged by its worst sample (max for ">"), NaN samples skipped', async () => {
    const result = await check({
      name: 'p95 latency',
      query: 'p95_by_endpoint',
      unhealthyWhen: { op: '>', value: 1 },
      degradedWhen: { op: '>', value: 0.3 },
      unit: 's',
    });
    expect(result.status).toBe('degraded');
    expect(result.reason).toBe('0.412 s > 0.3 s (degraded threshold) for {endpoint="/api/search"}');
    expect(result.details).toMatchObject({ value: 0.412, samples: 3, labels: { endpoint: '/api/search' } });
  });

  it('a "<" rule takes the minimum sample', async () => {
    const result = await check({
      query: 'availability',
      unhealthyWhen: { op: '<', value: 0.99 },
      degradedWhen: undefined,
    });
    expect(result).toMatchObject({
      status: 'unhealthy',
      reason: '0.97 < 0.99 (unhealthy threshold) for {instance="b"}',
    });
  });

  it('an empty vector is no data: degraded', async () => {
    const result = await check({ query: 'nothing' });
    expect(result).toMatchObject({ status: 'degraded', reason: 'query returned no data (empty vector)' });
  });

  it('the error shape of a bad query', async () => {
    const result = await check({ query: 'rate(' });
    expect(result).toMatchObject({
      status: 'unhealthy',
      reason: 'Prometheus query failed (HTTP 400): bad_data: 1:6: parse error: unclosed left parenthesis',
    });
  });

  it('a range vector is refused with what to do', async () => {
    const result = await check({ query: 'http_requests_total[5m]' });
    expect(result.reason).toBe(
      'query returned a range vector (matrix): write an instant vector or scalar query',
    );
  });

  it('a proxy answering HTML', async () => {
    const result = await check({ url: `${prometheus.url}/proxy-down`, query: 'error_rate_low' });
    expect(result.reason).toBe("Prometheus answered HTTP 502 with text/html, not the query API's JSON");
  });

  it('a base URL with a path prefix and a bearer token from a reference', async () => {
    const token = 'prom-token-4d4d';
    const result = await check(
      {
        url: `${prometheus.url}/prometheus`,
        query: 'error_rate_low',
        headers: { Authorization: `Bearer ${ref('PROM')}` },
      },
      { PROM: token },
    );
    expect(result.status).toBe('healthy');
    const request = received.at(-1);
    expect(request?.url).toBe('/prometheus/api/v1/query?query=error_rate_low');
    expect(request?.headers.authorization).toBe(`Bearer ${token}`);
    expect(JSON.stringify(result)).not.toContain(token);
  });
});
