/** Local services whose health the bot checks in the health e2e tests, and a runbook.yml for them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FLEET_DEGRADED,
  FLEET_HEALTHY,
  type LocalServer,
  sendJson,
  startHttpServer,
} from '../health/helpers/servers.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';

export const SECRET_NAME = 'HEALTH_TEST_TOKEN';

export interface HealthFixtures {
  server: LocalServer;
  /** The bearer token the server wants, set in the bot's env as HEALTH_TEST_TOKEN. */
  secret: string;
  /** What /web answers: the runbooks' degraded body, or healthy. */
  web: { mode: 'degraded' | 'healthy' };
  /** /flaky answers 503 this many more times, then healthy. */
  flaky: { failuresLeft: number };
  configDir: string;
  configPath: string;
  close(): Promise<void>;
}

const platform = (name: string): string =>
  `{ kind: cloudrun, project: test-project, region: europe-west1, service: ${name} }`;

/** Extra services for the `all` limits test: each unhealthy, each with a long name. */
export const MANY_DOWN = 60;

export async function startHealthFixtures(options: { manyDown?: boolean } = {}): Promise<HealthFixtures> {
  const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
  const web: HealthFixtures['web'] = { mode: 'degraded' };
  const flaky: HealthFixtures['flaky'] = { failuresLeft: 2 };
  const server = await startHttpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${secret}`)
      return sendJson(res, 401, { error: 'unauthorized' });
    if (req.url === '/api/health') return sendJson(res, 200, FLEET_HEALTHY);
    if (req.url === '/web/health')
      return web.mode === 'degraded'
        ? sendJson(res, 200, FLEET_DEGRADED)
        : sendJson(res, 200, { status: 'healthy', timestamp: '2025-12-09T19:00:00.000Z' });
    if (req.url === '/flaky/health') {
      if (flaky.failuresLeft > 0) {
        flaky.failuresLeft -= 1;
        return sendJson(res, 503, { status: 'unhealthy' });
      }
      return sendJson(res, 200, { status: 'healthy', timestamp: '2025-12-09T19:00:00.000Z' });
    }
    return sendJson(res, 503, { status: 'unhealthy' });
  });
  const auth = `headers: { Authorization: "Bearer \${env:${SECRET_NAME}}" }`;
  const http = (name: string, path: string): string =>
    `      - { name: ${name}, type: http, url: "${server.url}${path}", ${auth}, timeout: 2s }`;
  const lines = [
    'services:',
    '  - name: api',
    `    platform: ${platform('api')}`,
    '    healthChecks:',
    http('api', '/api/health'),
    `      - { name: database, type: postgres, url: "${TEST_DATABASE_URL}", maxConnectionsRatio: 1 }`,
    `      - { name: cache, type: redis, url: "${TEST_REDIS_URL}", hitRateTarget: 0, maxMemoryRatio: 1 }`,
    '  - name: web',
    `    platform: ${platform('web')}`,
    '    healthChecks:',
    http('frontend', '/web/health'),
    '  - name: worker',
    `    platform: ${platform('worker')}`,
    '    healthChecks:',
    http('queue', '/worker/health'),
    '  - name: flaky',
    `    platform: ${platform('flaky')}`,
    '    healthChecks:',
    http('flaky', '/flaky/health'),
    '  - name: batch',
    `    platform: ${platform('batch')}`,
  ];
  if (options.manyDown) {
    for (let i = 0; i < MANY_DOWN; i++) {
      const name = `legacy-service-with-a-rather-long-name-${String(i).padStart(2, '0')}`;
      lines.push(`  - name: ${name}`, `    platform: ${platform(name)}`, '    healthChecks:');
      lines.push(http('endpoint', `/legacy-${i}/health`));
    }
  }
  const configDir = mkdtempSync(join(tmpdir(), 'health-e2e-'));
  const configPath = join(configDir, 'runbook.yml');
  writeFileSync(configPath, `${lines.join('\n')}\n`);
  return {
    server,
    secret,
    web,
    flaky,
    configDir,
    configPath,
    async close() {
      await server.close();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/** Texts of a message's section blocks, and the mrkdwn of its context blocks. */
export function blockTexts(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  const texts: string[] = [];
  for (const block of blocks as {
    type?: string;
    text?: { text?: string };
    elements?: { text?: string }[];
  }[]) {
    if (block.type === 'section' && block.text?.text) texts.push(block.text.text);
    if (block.type === 'context') for (const e of block.elements ?? []) if (e.text) texts.push(e.text);
  }
  return texts;
}

/** The lines of a message's section blocks. */
export function blockLines(blocks: unknown): string[] {
  return blockTexts(blocks).flatMap((t) => t.split('\n'));
}

export function actionIds(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return (blocks as { type?: string; elements?: { action_id?: string }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));
}
