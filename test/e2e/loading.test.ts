/**
 * A replica loads only what its configured mode needs: start-up time and memory are paid per replica.
 * The bot runs as its own process with a hook that lists every module it loads.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
import { SlackRequestClient } from '../../src/local/slack/client.ts';
import { startSlackSimulator } from '../../src/local/slack/server.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { ADMIN_DB_OPTIONS, TEST_DATABASE_URL } from '../helpers/services.ts';
import { spawnBotProcess } from '../helpers/spawn-bot.ts';

const HOOK = fileURLToPath(new URL('../helpers/loaded-modules.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm start`'s command line (package.json), as the Docker image's CMD must also read. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.trim().split(/\s+/);
}

/** Module URLs (file paths inside the repository) that match. */
function loaded(file: string, ...fragments: string[]): string[] {
  const urls = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  return [...new Set(urls.filter((url) => fragments.some((f) => url.includes(f))))];
}

/** Only a cloud's SDK, and only when a command needs it. */
const CLOUD_SDKS = [
  '/node_modules/@google-cloud/',
  '/node_modules/google-gax/',
  '/node_modules/@azure/',
  '/node_modules/@kubernetes/',
];

describe('what start-up loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loading-e2e-'));
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with Slack, Postgres and Redis: no PGlite, no simulators, no cloud SDK until a command for its service', async () => {
    const sim = await startSlackSimulator();
    cleanups.push(() => sim.close());
    const fake: CloudRunFake = await startCloudRunFake();
    cleanups.push(() => fake.close());
    await fake.deploy('registry.example.com/app:v1');
    const config = join(dir, 'runbook.yml');
    writeFileSync(
      config,
      [
        'services:',
        '  - name: barq-api',
        '    platform:',
        '      kind: cloudrun',
        `      project: ${fake.project}`,
        `      region: ${fake.region}`,
        `      service: ${fake.service}`,
        `      endpoint: ${fake.url}`,
        '  - name: barq-web',
        '    platform:',
        '      kind: kubernetes',
        '      namespace: web',
        '      deployment: barq-web',
        '  - name: fleet-api',
        '    platform:',
        '      kind: appservice',
        '      subscriptionId: 00000000-0000-0000-0000-000000000000',
        '      resourceGroup: fleet-rg',
        '      app: fleet-api',
        '',
      ].join('\n'),
    );
    const schema = `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    cleanups.push(async () => {
      const admin = await openPostgres(TEST_DATABASE_URL, ADMIN_DB_OPTIONS);
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.close();
      }
    });
    const file = join(dir, 'postgres-mode.txt');
    const signingSecret = `test-secret-${randomUUID()}`;
    const bot = await spawnBotProcess({
      sim,
      schema,
      keyPrefix: `test:${randomUUID()}:`,
      signingSecret,
      configPath: config,
      execArgv: ['--import', HOOK],
      env: {
        LOADED_MODULES_FILE: file,
        CLOUDSDK_CONFIG: join(dir, 'gcloud'),
        // Nothing listens there: the metadata server is unreachable, as off Google Cloud.
        GCE_METADATA_HOST: '127.0.0.1:9',
      },
    });
    cleanups.push(async () => void (await bot.signal('SIGKILL')));
    expect((await fetch(`${bot.url}/health`)).status).toBe(200);

    expect(loaded(file, '/node_modules/ioredis/', '/node_modules/pg/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/@electric-sql/pglite/')).toEqual([]);
    expect(loaded(file, '/src/local/')).toEqual([]);
    expect(loaded(file, ...CLOUD_SDKS)).toEqual([]);
    // prom-client's entry point and its default metrics (which load @opentelemetry/api): /metrics is not served.
    expect(loaded(file, '/node_modules/prom-client/index.js', '/node_modules/@opentelemetry/')).toEqual([]);
    expect(loaded(file, '/node_modules/date-fns/index.js')).toEqual([]);

    // The first command for the Cloud Run service loads that SDK, and only that one.
    const slack = new SlackRequestClient({
      botUrl: `${bot.url}/slack/events`,
      signingSecret,
      simulator: sim,
    });
    const since = sim.responses.length;
    await slack.slashCommand({ command: '/deploy', text: 'status barq-api', channelId: 'C_INCIDENTS' });
    slack.close();
    const answer = await sim.waitForResponse({ since, timeoutMs: 30_000 });
    expect(String(answer.body.text)).toContain('could not get a Google access token for barq-api');
    expect(loaded(file, '/node_modules/@google-cloud/run/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/@azure/', '/node_modules/@kubernetes/')).toEqual([]);

    const exit = await bot.signal('SIGTERM');
    expect(exit, bot.output.join('')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('`npm start` in a new directory (local mode, PGlite, the example services simulated): no pg, no ioredis, no cloud SDK', async () => {
    const newcomer = join(dir, 'newcomer');
    mkdirSync(newcomer);
    const file = join(dir, 'pglite-mode.txt');
    // As `npm start` starts it (its node flags), plus the hook.
    const [, ...start] = startCommand();
    const main = start.pop() ?? '';
    let output = '';
    const child: ChildProcess = spawn(process.execPath, [...start, '--import', HOOK, join(ROOT, main)], {
      cwd: newcomer,
      env: { PATH: process.env.PATH ?? '', HOME: newcomer, PORT: '0', LOADED_MODULES_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let code: number | null | undefined;
    void exited.then((c) => {
      code = c;
    });
    cleanups.push(async () => {
      if (code === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const started = Date.now();
    while (!existsSync(join(newcomer, 'data', 'local-mode.json')) && code === undefined) {
      if (Date.now() - started > 50_000) throw new Error(`the bot did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(code, output).toBeUndefined();
    expect(output).toContain('the example services run on simulated platforms');

    expect(loaded(file, '/node_modules/@electric-sql/pglite/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/pg/', '/node_modules/ioredis/')).toEqual([]);
    expect(loaded(file, ...CLOUD_SDKS)).toEqual([]);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  }, 60_000);

  it('the Docker image starts the bot with the node flags `npm start` uses', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(startCommand());
    expect(startCommand()).toContain('--liftoff-only');
  });
});
