import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../../src/config/schema.ts';
import { runChecks } from '../../../src/health/runner.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { ref } from '../helpers/refs.ts';
import {
  closedPort,
  FLEET_DEGRADED,
  FLEET_HEALTHY,
  FLOYO_HEALTHY,
  FLOYO_UNHEALTHY,
  type LocalServer,
  sendJson,
  startHttpServer,
  startSelfSignedHttpsServer,
} from '../helpers/servers.ts';

let server: LocalServer;
let tls: LocalServer;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    seen.push(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    switch (path) {
      case '/fleet/health':
        return sendJson(res, 200, FLEET_HEALTHY);
      case '/fleet-degraded/health':
        return sendJson(res, 200, FLEET_DEGRADED);
      case '/floyo/api/health':
        return sendJson(res, 200, FLOYO_HEALTHY);
      case '/floyo-down/api/health':
        return sendJson(res, 503, FLOYO_UNHEALTHY);
      case '/floyo-down-200/api/health':
        return sendJson(res, 200, FLOYO_UNHEALTHY);
      case '/unavailable/health':
        res.writeHead(503, { 'content-type': 'text/plain' });
        return res.end('Service Unavailable');
      case '/garbage-json/health':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"status": "healthy", oops');
      case '/garbage/health':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body>Welcome to nginx!</body></html>');
      case '/health/liveness':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('OK');
      case '/no-status/health':
        return sendJson(res, 200, { uptime: 12 });
      case '/hang/health':
        return; // never answers
      case '/slow/health':
        setTimeout(() => sendJson(res, 200, FLOYO_HEALTHY), 150);
        return;
      case '/reset/health':
        req.socket.destroy();
        return;
      case '/reset-mid-body/health':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"status":');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      case '/moved/health':
        res.writeHead(302, { location: '/login' });
        return res.end();
      case '/no-content':
        res.writeHead(204);
        return res.end();
      case '/echo/health':
        // A server that echoes what it was sent into its answer: nothing of it may reach a result.
        return sendJson(res, 200, {
          status: 'degraded',
          checks: {
            auth: {
              status: 'degraded',
              message: `got ${req.headers.authorization} ${req.headers['x-api-key']} for ${req.url}`,
            },
          },
        });
      default:
        res.writeHead(404);
        res.end();
    }
  });
  tls = await startSelfSignedHttpsServer((_req, res) => sendJson(res, 200, FLOYO_HEALTHY));
});

afterAll(async () => {
  await server.close();
  await tls.close();
});

async function check(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<CheckResult> {
  const [result] = await runChecks([healthCheckSchema.parse({ type: 'http', timeout: '1s', ...input })], {
    env,
  });
  if (!result) throw new Error('no result');
  return result;
}

describe('http check: the runbooks health bodies', () => {
  it('reads the Fleet healthy body: components become children with their latency', async () => {
    const result = await check({ url: `${server.url}/fleet/health` });
    expect(result).toMatchObject({
      name: 'http',
      type: 'http',
      status: 'healthy',
      target: `${server.url}/fleet/health`,
    });
    expect(result.reason).toBeUndefined();
    expect(result.details).toMatchObject({ httpStatus: 200, version: '1.0.0', environment: 'production' });
    expect(result.children?.map((c) => [c.name, c.status, c.latencyMs])).toEqual([
      ['database', 'healthy', 15],
      ['redis', 'healthy', 5],
      ['memory', 'healthy', undefined],
    ]);
    expect(result.children?.[0]?.details).toMatchObject({
      totalConnections: 10,
      message: 'Database connection healthy',
    });
  });

  it('200 with a degraded body is degraded, naming the slow component', async () => {
    const result = await check({ url: `${server.url}/fleet-degraded/health` });
    expect(result.status).toBe('degraded');
    expect(result.reason).toBe(
      'body reports degraded: database degraded (Database responding slowly, 1200ms)',
    );
    expect(result.children?.[0]).toMatchObject({ name: 'database', status: 'degraded', latencyMs: 1200 });
  });

  it('reads the Floyo healthy body', async () => {
    const result = await check({ url: `${server.url}/floyo/api/health` });
    expect(result.status).toBe('healthy');
    expect(result.details).toMatchObject({ timestamp: '2025-01-15T10:30:00Z' });
  });

  it('503 with the Floyo unhealthy body: bare-string check and its block message', async () => {
    const result = await check({ url: `${server.url}/floyo-down/api/health` });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe(
      'HTTP 503, expected 200; body reports unhealthy: database unhealthy (Connection timeout)',
    );
    expect(result.children).toEqual([
      {
        name: 'database',
        type: 'component',
        target: result.target,
        status: 'unhealthy',
        reason: 'Connection timeout',
      },
    ]);
  });

  it('200 with an unhealthy body follows the body', async () => {
    const result = await check({ url: `${server.url}/floyo-down-200/api/health` });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe('body reports unhealthy: database unhealthy (Connection timeout)');
  });
});

describe('http check: failures each get a precise reason', () => {
  it('wrong status', async () => {
    const result = await check({ url: `${server.url}/unavailable/health` });
    expect(result).toMatchObject({ status: 'unhealthy', reason: 'HTTP 503, expected 200' });
  });

  it('a redirect is reported with where it goes', async () => {
    const result = await check({ url: `${server.url}/moved/health` });
    expect(result.reason).toBe('HTTP 302, expected 200 (redirects to /login)');
  });

  it('accepts any of the expected statuses', async () => {
    const result = await check({ url: `${server.url}/no-content`, expectStatus: [200, 204] });
    expect(result.status).toBe('healthy');
    expect((await check({ url: `${server.url}/no-content` })).reason).toBe('HTTP 204, expected 200');
  });

  it('declared JSON that does not parse', async () => {
    const result = await check({ url: `${server.url}/garbage-json/health` });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe(
      'body is not JSON in the health format: it does not parse as JSON (application/json "{"status": "healthy", oops")',
    );
  });

  it('/health answering HTML is not the health format', async () => {
    const result = await check({ url: `${server.url}/garbage/health` });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe(
      'body is not JSON in the health format: got text/html "<html><body>Welcome to nginx!</body></ht…"',
    );
  });

  it('JSON without a status at /health is not the health format', async () => {
    const result = await check({ url: `${server.url}/no-status/health` });
    expect(result.reason).toBe('body is not JSON in the health format: it has no "status" field');
  });

  it('a probe answering plain "OK" is healthy (status code only), and expectBody: any relaxes /health', async () => {
    expect((await check({ url: `${server.url}/health/liveness` })).status).toBe('healthy');
    expect((await check({ url: `${server.url}/garbage/health`, expectBody: 'any' })).status).toBe('healthy');
  });

  it('expectBody: health makes a plain answer fail', async () => {
    const result = await check({ url: `${server.url}/health/liveness`, expectBody: 'health' });
    expect(result.reason).toBe('body is not JSON in the health format: got text/plain "OK"');
  });

  it('a hung endpoint times out with its own timeout', async () => {
    const result = await check({ url: `${server.url}/hang/health`, timeout: '200ms' });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe('timed out after 200ms');
    expect(result.latencyMs).toBeGreaterThanOrEqual(190);
  });

  it('a slow answer above warnLatency is degraded', async () => {
    const result = await check({ url: `${server.url}/slow/health`, warnLatency: '50ms' });
    expect(result.status).toBe('degraded');
    expect(result.reason).toMatch(/^slow: answered in \d+ms, above the 50ms warning latency$/);
  });

  it('a reset connection', async () => {
    const result = await check({ url: `${server.url}/reset/health` });
    expect(result.reason).toBe(`connection reset by 127.0.0.1:${server.port} before a complete answer`);
  });

  it('a connection reset part-way through the body', async () => {
    const result = await check({ url: `${server.url}/reset-mid-body/health` });
    expect(result.reason).toBe(`connection reset by 127.0.0.1:${server.port} before a complete answer`);
  });

  it('connection refused', async () => {
    const port = await closedPort();
    const result = await check({ url: `http://127.0.0.1:${port}/health` });
    expect(result).toMatchObject({ status: 'unhealthy', reason: `connection refused by 127.0.0.1:${port}` });
  });

  it('DNS failure', async () => {
    const result = await check({ url: 'http://fleet-api.invalid/health' });
    expect(result.reason).toBe('DNS lookup failed for fleet-api.invalid');
  });

  it('TLS: speaking TLS to a plain HTTP port', async () => {
    const result = await check({ url: `https://127.0.0.1:${server.port}/health` });
    expect(result.reason).toBe('TLS error: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)');
  });

  it('TLS: an untrusted self-signed certificate', async () => {
    const result = await check({ url: `${tls.url}/api/health` });
    expect(result.reason).toMatch(/^TLS error: self-signed certificate.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
  });

  it('HEAD checks the status only', async () => {
    const result = await check({ url: `${server.url}/fleet/health`, method: 'HEAD' });
    expect(result.status).toBe('healthy');
    expect(result.children).toBeUndefined();
  });
});

describe('http check: secrets', () => {
  const env = { PW: 'hunter2-pw', TOKEN: 'tok-3f9a8b7c', API_KEY: 'key-55aa77bb', QS: 'qs-secret-991' };

  it('resolves references at use time and never shows their values', async () => {
    seen.length = 0;
    const result = await check(
      {
        url: `http://ops:\${env:PW}@127.0.0.1:${server.port}/echo/health?token=\${env:QS}`,
        headers: { 'X-Api-Key': ref('API_KEY'), Accept: 'application/json' },
      },
      env,
    );
    const received = seen.at(-1);
    expect(received?.headers['x-api-key']).toBe(env.API_KEY);
    expect(received?.headers.authorization).toBe(`Basic ${Buffer.from(`ops:${env.PW}`).toString('base64')}`);
    expect(received?.url).toContain(env.QS);
    expect(result.status).toBe('degraded');
    const shown = JSON.stringify(result);
    for (const secret of [...Object.values(env), Buffer.from(`ops:${env.PW}`).toString('base64')]) {
      expect(shown).not.toContain(secret);
    }
    expect(result.target).toBe(`http://127.0.0.1:${server.port}/echo/health?token=[redacted]`);
    expect(result.children?.[0]?.reason).toContain('[redacted]');
  });

  it('a bearer token in a header is redacted from what the server echoes', async () => {
    const result = await check(
      { url: `${server.url}/echo/health`, headers: { Authorization: `Bearer ${ref('TOKEN')}` } },
      env,
    );
    expect(JSON.stringify(result)).not.toContain(env.TOKEN);
  });

  it('a missing variable is a result naming it, not a throw', async () => {
    const result = await check({
      url: `${server.url}/fleet/health`,
      headers: { Authorization: `Bearer ${ref('NOPE')}` },
    });
    expect(result).toMatchObject({
      status: 'unhealthy',
      reason: `cannot run the check: environment variable NOPE (referenced as ${ref('NOPE')}) is not set`,
      target: `${server.url}/fleet/health`,
    });
  });
});
