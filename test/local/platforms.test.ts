import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as slackCli } from '../../src/local/cli.ts';
import type { LocalPlatforms } from '../../src/local/platforms/index.ts';
import { SlackRequestClient } from '../../src/local/slack/client.ts';
import { createLogger } from '../../src/logger.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { blockLines } from '../commands/health-fixtures.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';

/**
 * Local mode with the example config (no Slack, no cloud credentials, no runbook.yml): the bot runs
 * the example services on in-process simulators of Cloud Run, App Service and Kubernetes, its real
 * SDK adapters talking to them over their wire protocols, and their health checks go to the
 * simulated apps. The current release of each is broken; rolling back on the platform turns health
 * green.
 */
describe('local mode: the example services on simulated platforms', () => {
  let runtime: Runtime;
  let slack: SlackRequestClient;
  let dir: string;
  let sims: LocalPlatforms;
  const schema = `local_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runbook-local-'));
    runtime = await startRuntime({
      // No Slack credentials: local mode. No runbook.yml in cwd: the example config.
      env: {
        PORT: '0',
        RUNBOOK_DATA_DIR: join(dir, 'data'),
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: TEST_REDIS_URL,
      },
      cwd: dir,
      logger: createLogger({
        level: 'silent',
        destination: new Writable({ write: (_c, _e, done) => done() }),
      }),
      dbSchema: schema,
      keyPrefix: `test:${randomUUID()}:`,
    });
    const local = runtime.local!;
    sims = local.platformSimulators!;
    slack = new SlackRequestClient({
      botUrl: local.botUrl,
      signingSecret: local.signingSecret,
      simulator: local.simulator,
    });
  });

  afterAll(async () => {
    slack?.close();
    await runtime?.stop();
    const admin = await openPostgres(TEST_DATABASE_URL);
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function answer(text: string): Promise<string> {
    const since = local().simulator.responses.length;
    const res = await slack.slashCommand({ command: '/deploy', text });
    expect(res.withinAckDeadline).toBe(true);
    const reply = await local().simulator.waitForResponse({ since, timeoutMs: 10_000 });
    const body = reply.body as { text?: string; blocks?: unknown };
    return [String(body.text), ...blockLines(body.blocks)].join('\n');
  }
  const local = () => runtime.local!;

  it('writes the simulators’ URLs to data/local-mode.json, and the apps answer there', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'data', 'local-mode.json'), 'utf8')) as {
      platforms: { appsUrl: string; services: { name: string; kind: string; api: string; health: string }[] };
    };
    expect(state.platforms.services.map((s) => [s.name, s.kind])).toEqual([
      ['barq-api', 'cloudrun'],
      ['fleet-api', 'appservice'],
      ['architect-api', 'kubernetes'],
    ]);
    for (const s of state.platforms.services) expect(s.api).toMatch(/^https?:\/\/127\.0\.0\.1:\d+$/);
    // The Azure SDK sends tokens over https only: the App Service simulator speaks TLS.
    expect(state.platforms.services[1]?.api).toMatch(/^https:/);
    const health = await fetch(state.platforms.services[0]?.health ?? '');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', version: 'v1.3.0' });
  });

  it('/deploy status: each platform answers with its current revision and image, ready', async () => {
    const cloudRun = await answer('status barq-api');
    expect(cloudRun).toContain(':large_green_circle: *barq-api* (production) is *ready* on Cloud Run');
    expect(cloudRun).toMatch(/revision `barq-api-00004-[a-z]{3}`/);
    expect(cloudRun).toContain('image `me-central1-docker.pkg.dev/barq-production/images/barq-api:v1.3.0`');

    const appService = await answer('status fleet-api');
    expect(appService).toContain('*fleet-api* (production) is *ready* on Azure App Service');
    expect(appService).toContain('image `fleetapi.azurecr.io/fleet-api:v1.3.0`');

    const kubernetes = await answer('status architect-api');
    expect(kubernetes).toContain('*architect-api* (production) is *ready* on Kubernetes');
    expect(kubernetes).toContain(
      'revision `4` · image `registry.example.com/architect-production/architect-api:v1.3.0`',
    );
  });

  it('/deploy health barq-api reports the broken release the simulators serve', async () => {
    const text = await answer('health barq-api');
    expect(text).toContain(':red_circle: *barq-api* (production) is *unhealthy*');
    expect(text).toContain('*api*');
    expect(text).toContain('HTTP 503, expected 200; body reports degraded');
    expect(text).toContain('*error rate*');
    expect(text).toContain('0.079 &gt; 0.05');
  });

  it('rolling back on each platform turns its health green', async () => {
    for (const sim of sims.services) {
      const service = runtime.services.config.services.find((s) => s.name === sim.name)!;
      const platform = await runtime.services.platforms.for(service);
      const result = await platform.rollback();
      expect(result.changed, sim.name).toBe(true);
      const settled = await platform.waitUntilSettled({ timeoutMs: 10_000, pollMs: 50 });
      expect(settled.settled, `${sim.name}: ${settled.detail}`).toBe(true);
      const serving = sim.serving();
      expect(serving.running && serving.image, sim.name).toMatch(/:v1\.2\.0$/);
      const text = await answer(`health ${sim.name}`);
      expect(text, text).toContain(`:large_green_circle: *${sim.name}* (production) is *healthy*`);
    }
    const status = await answer('status barq-api');
    expect(status).toContain('image `me-central1-docker.pkg.dev/barq-production/images/barq-api:v1.2.0`');
  });

  it('maintenance mode set on the platform shows in the app’s health', async () => {
    const service = runtime.services.config.services.find((s) => s.name === 'architect-api')!;
    const platform = await runtime.services.platforms.for(service);
    await platform.setMaintenance(true);
    await platform.waitUntilSettled({ timeoutMs: 10_000, pollMs: 50 });
    expect(await answer('health architect-api')).toContain('maintenance mode is on');
    await platform.setMaintenance(false);
    await platform.waitUntilSettled({ timeoutMs: 10_000, pollMs: 50 });
    expect(await answer('health architect-api')).toContain('is *healthy*');
  });

  it('npm run slack talks to it through data/local-mode.json', async () => {
    const lines: string[] = [];
    const code = await slackCli(['/deploy status architect-api', '--wait', '5000'], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      env: { RUNBOOK_DATA_DIR: join(dir, 'data') },
    });
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toContain('*architect-api* (production) is *ready* on Kubernetes');
  });
});
