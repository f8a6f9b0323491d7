/**
 * A replica loads only what its configured mode needs: start-up time and memory are paid per replica.
 * The bot runs as its own process with a hook that lists every module it loads.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG_PATH } from '../../src/config/load.ts';
import { main as slackCli } from '../../src/local/cli.ts';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
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

  it('with Slack, Postgres and Redis: no PGlite, no Slack simulator, no cloud SDK, no process metrics', async () => {
    const sim = await startSlackSimulator();
    cleanups.push(() => sim.close());
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
    const bot = await spawnBotProcess({
      sim,
      schema,
      keyPrefix: `test:${randomUUID()}:`,
      signingSecret: `test-secret-${randomUUID()}`,
      // Services on Cloud Run, App Service and Kubernetes.
      configPath: EXAMPLE_CONFIG_PATH,
      execArgv: ['--import', HOOK],
      env: { LOADED_MODULES_FILE: file },
    });
    expect((await fetch(`${bot.url}/health`)).status).toBe(200);
    const exit = await bot.signal('SIGTERM');
    expect(exit, bot.output.join('')).toEqual({ code: 0, signal: null });

    expect(loaded(file, '/node_modules/ioredis/', '/node_modules/pg/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/@electric-sql/pglite/')).toEqual([]);
    expect(loaded(file, '/src/local/')).toEqual([]);
    expect(loaded(file, ...CLOUD_SDKS)).toEqual([]);
    // prom-client's entry point and its default metrics (which load @opentelemetry/api): /metrics is not served.
    expect(loaded(file, '/node_modules/prom-client/index.js', '/node_modules/@opentelemetry/')).toEqual([]);
    expect(loaded(file, '/node_modules/date-fns/index.js')).toEqual([]);
  });

  it('local mode on PGlite: no pg, no ioredis; a cloud SDK loads with the first command for its service', async () => {
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
        '',
      ].join('\n'),
    );
    const file = join(dir, 'pglite-mode.txt');
    const dataDir = join(dir, 'data');
    let output = '';
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', HOOK, join(process.cwd(), 'src/main.ts')],
      {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          RUNBOOK_CONFIG: config,
          RUNBOOK_DATA_DIR: dataDir,
          PORT: '0',
          LOADED_MODULES_FILE: file,
          CLOUDSDK_CONFIG: join(dir, 'gcloud'),
          // Nothing listens there: the metadata server is unreachable, as off Google Cloud.
          GCE_METADATA_HOST: '127.0.0.1:9',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
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
    while (!existsSync(join(dataDir, 'local-mode.json')) && code === undefined) {
      if (Date.now() - started > 30_000) throw new Error(`the bot did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(code, output).toBeUndefined();

    expect(loaded(file, '/node_modules/@electric-sql/pglite/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/pg/', '/node_modules/ioredis/')).toEqual([]);
    expect(loaded(file, ...CLOUD_SDKS)).toEqual([]);

    // The first command for the Cloud Run service loads its SDK, and answers.
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const cli = ['/deploy status barq-api', '--wait', '20000'];
    expect(await slackCli(cli, { ...io, env: { RUNBOOK_DATA_DIR: dataDir } })).toBe(0);
    expect(lines.join('\n')).toContain('could not get a Google access token for barq-api');
    expect(loaded(file, '/node_modules/@google-cloud/run/').length).toBeGreaterThan(0);
    expect(loaded(file, '/node_modules/@azure/', '/node_modules/@kubernetes/')).toEqual([]);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  });

  it('the Docker image starts the bot with the node flags `npm start` uses', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? '[]')).toEqual(startCommand());
    expect(startCommand()).toContain('--liftoff-only');
  });
});
