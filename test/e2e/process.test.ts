import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as slackCli } from '../../src/local/cli.ts';
import { type CloudRunFake, startCloudRunFake } from '../../src/local/platforms/cloudrun/server.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { ADMIN_DB_OPTIONS, TEST_DATABASE_URL } from '../helpers/services.ts';

/**
 * The real bot as its own process (`node src/main.ts`), the way production runs it: local mode
 * (the built-in Slack simulator), a Postgres database of its own, and a Cloud Run service pointed
 * at the fake, with no Google credentials anywhere (GOOGLE_APPLICATION_CREDENTIALS unset, no
 * gcloud login, the metadata server unreachable).
 */

/** Stands in for a library misbehaving inside the bot: it drops a rejected promise, or throws from an event handler. */
const MISBEHAVING_LIBRARY = `
process.on('SIGUSR2', () => { Promise.reject(new Error('stray rejection from a library')); });
process.on('SIGHUP', () => { throw new Error('thrown from a library event handler'); });
`;

interface LogLine {
  level: number;
  msg: string;
  err?: { message?: string };
}

describe('the bot as a process (node src/main.ts)', () => {
  let fake: CloudRunFake;
  let dir: string;
  let database: string;
  let child: ChildProcess;
  let output = '';
  const exited = { code: undefined as number | null | undefined };
  let exit: Promise<void>;

  const logs = (): LogLine[] =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Types a slash command in the bot's simulator (`npm run slack`) and returns what it printed. */
  async function slash(text: string): Promise<string> {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const code = await slackCli([text, '--wait', '5000'], {
      ...io,
      env: { RUNBOOK_DATA_DIR: join(dir, 'data') },
    });
    expect(code, lines.join('\n')).toBe(0);
    return lines.join('\n');
  }

  beforeAll(async () => {
    fake = await startCloudRunFake();
    await fake.deploy('registry.example.com/app:v1');
    dir = mkdtempSync(join(tmpdir(), 'runbook-process-'));
    writeFileSync(
      join(dir, 'runbook.yml'),
      [
        'services:',
        '  - name: barq-api',
        '    platform:',
        '      kind: cloudrun',
        `      project: ${fake.project}`,
        `      region: ${fake.region}`,
        `      service: ${fake.service}`,
        `      endpoint: ${fake.url}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'misbehaving-library.mjs'), MISBEHAVING_LIBRARY);
    database = `process_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const admin = await openPostgres(TEST_DATABASE_URL, ADMIN_DB_OPTIONS);
    try {
      await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
      await admin.close();
    }
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${database}`;
    child = spawn(
      process.execPath,
      ['--import', join(dir, 'misbehaving-library.mjs'), join(process.cwd(), 'src/main.ts')],
      {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          RUNBOOK_CONFIG: join(dir, 'runbook.yml'),
          RUNBOOK_DATA_DIR: join(dir, 'data'),
          PORT: '0',
          DATABASE_URL: url.toString(),
          CLOUDSDK_CONFIG: join(dir, 'gcloud'),
          // Nothing listens there: the metadata server is unreachable, as off Google Cloud.
          GCE_METADATA_HOST: '127.0.0.1:9',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    exit = new Promise((resolve) =>
      child.on('exit', (code) => {
        exited.code = code;
        resolve();
      }),
    );
    await until(
      'the bot to start',
      () => existsSync(join(dir, 'data', 'local-mode.json')) || exited.code !== undefined,
    );
    expect(exited.code, output).toBeUndefined();
  });

  afterAll(async () => {
    if (exited.code === undefined) {
      child.kill('SIGTERM');
      await exit;
    }
    await fake?.close();
    const admin = await openPostgres(TEST_DATABASE_URL, ADMIN_DB_OPTIONS);
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    } finally {
      await admin.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /deploy status in plain words when Cloud Run has no credentials, and lives on', async () => {
    for (const attempt of [1, 2]) {
      const answer = await slash('/deploy status barq-api');
      expect(answer, `attempt ${attempt}`).toContain(
        ':warning: could not get a Google access token for barq-api: no Application Default Credentials found',
      );
      expect(answer).toContain('nothing was changed');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(exited.code, output).toBeUndefined();
    expect(logs().some((l) => l.msg.startsWith('unhandled promise rejection'))).toBe(false);
    expect(fake.requests.filter((r) => r.path.startsWith('/v2/'))).toHaveLength(0);
  });

  it('logs a promise rejection that a library left unhandled, and keeps running', async () => {
    child.kill('SIGUSR2');
    await until('the rejection to be logged', () =>
      logs().some((l) => l.msg.startsWith('unhandled promise rejection')),
    );
    const line = logs().find((l) => l.msg.startsWith('unhandled promise rejection'));
    expect(line).toMatchObject({ level: 50, err: { message: 'stray rejection from a library' } });
    expect(await slash('/deploy help')).toContain('/deploy status <service> [environment]');
    expect(exited.code, output).toBeUndefined();
  });

  it('logs an uncaught exception as fatal and exits 1, for the orchestrator to restart it', async () => {
    child.kill('SIGHUP');
    await exit;
    expect(exited.code).toBe(1);
    const fatal = logs().find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/^uncaught exception/);
    expect(fatal?.err?.message).toBe('thrown from a library event handler');
    expect(logs().some((l) => l.msg === 'shutting down')).toBe(true);
  });
});
