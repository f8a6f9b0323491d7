import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../../src/config/schema.ts';
import { runChecks } from '../../../src/health/runner.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { TEST_DATABASE_URL } from '../../helpers/services.ts';
import { ref } from '../helpers/refs.ts';
import { closedPort, type LocalServer, startSilentTcpServer } from '../helpers/servers.ts';

let silent: LocalServer;
beforeAll(async () => {
  silent = await startSilentTcpServer();
});
afterAll(() => silent.close());

async function check(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<CheckResult> {
  const config = healthCheckSchema.parse({ type: 'postgres', name: 'database', timeout: '2s', ...input });
  const [result] = await runChecks([config], { env });
  if (!result) throw new Error('no result');
  return result;
}

/** The test database URL with another user, password, port or database. */
function variant(change: (url: URL) => void): string {
  const url = new URL(TEST_DATABASE_URL);
  change(url);
  return url.href;
}

describe('postgres check against the real database', () => {
  it('SELECT 1 and the connection count: healthy, URL from a secret reference', async () => {
    const result = await check({ url: ref('DATABASE_URL') }, { DATABASE_URL: TEST_DATABASE_URL });
    expect(result).toMatchObject({ name: 'database', type: 'postgres', status: 'healthy' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.details?.maxConnections).toBeGreaterThan(0);
    expect(result.details?.connections).toBeGreaterThanOrEqual(1); // this check's own connection
    const url = new URL(TEST_DATABASE_URL);
    expect(result.target).toBe(`postgres://${url.host}${url.pathname}`);
  });

  it('connection use above maxConnectionsRatio is degraded, with the numbers', async () => {
    const result = await check({ url: TEST_DATABASE_URL, maxConnectionsRatio: 0.001 });
    expect(result.status).toBe('degraded');
    const { connections, maxConnections } = result.details as { connections: number; maxConnections: number };
    expect(result.reason).toMatch(
      new RegExp(`^connection count ${connections} of ${maxConnections} \\([\\d.]+%\\) above 0.1%$`),
    );
  });

  it('a database that does not exist', async () => {
    const result = await check({ url: variant((u) => (u.pathname = '/no_such_db_for_health')) });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe(
      'database "no_such_db_for_health" does not exist (check the database name in the URL)',
    );
  });

  it('a role that does not exist, its password never shown', async () => {
    const password = 'pg-secret-Zx81';
    const { host, pathname } = new URL(TEST_DATABASE_URL);
    const url = `postgres://no_such_role_for_health:\${env:PGPW}@${host}${pathname}`;
    const result = await check({ url }, { PGPW: password });
    expect(result.reason).toBe('authentication failed: role "no_such_role_for_health" does not exist');
    expect(JSON.stringify(result)).not.toContain(password);
    expect(result.target).not.toContain('no_such_role_for_health');
  });

  it('a closed port', async () => {
    const port = await closedPort();
    const result = await check({ url: variant((u) => (u.port = String(port))) });
    expect(result.reason).toBe(`connection refused by 127.0.0.1:${port}`);
  });

  it('a server that accepts but never answers times out with the check timeout', async () => {
    const result = await check({
      url: `postgres://postgres@127.0.0.1:${silent.port}/test`,
      timeout: '200ms',
    });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toMatch(/timed out after 200ms$/);
  });

  it('DNS failure', async () => {
    const result = await check({ url: 'postgres://postgres@db.health.invalid:5432/test' });
    expect(result.reason).toBe('DNS lookup failed for db.health.invalid');
  });
});
