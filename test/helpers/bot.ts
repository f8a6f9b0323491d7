import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.ts';
import { SlackRequestClient } from '../../src/fakes/slack/client.ts';
import {
  type SlackSimulator,
  type SlackSimulatorOptions,
  startSlackSimulator,
} from '../../src/fakes/slack/server.ts';
import { createLogger } from '../../src/logger.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.ts';

export interface TestBot {
  runtime: Runtime;
  sim: SlackSimulator;
  slack: SlackRequestClient;
  signingSecret: string;
  /** JSON log lines the bot wrote. */
  logs: string[];
  stop(): Promise<void>;
}

export interface TestBotOptions {
  /** Extra environment (e.g. RUNBOOK_CONFIG). */
  env?: Record<string, string>;
  cwd?: string;
  /** The bot's clock, and how its health watches wait (virtual time: a ManualClock's sleep). */
  clock?: Clock;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Options of the Slack simulator (e.g. shorter rate-limit windows). */
  simulator?: SlackSimulatorOptions;
}

/**
 * The real bot, on a random port, against the Slack simulator, real Postgres (a schema of its own)
 * and real Redis (a key prefix of its own).
 */
export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const sim = await startSlackSimulator(options.simulator);
  const signingSecret = `test-secret-${randomUUID()}`;
  const schema = `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const runtime = await startRuntime({
    env: {
      SLACK_BOT_TOKEN: sim.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: sim.apiUrl,
      PORT: '0',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      ...options.env,
    },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    logger,
    dbSchema: schema,
    keyPrefix: `test:${randomUUID()}:`,
  });
  const slack = new SlackRequestClient({
    botUrl: `${runtime.url}/slack/events`,
    signingSecret,
    simulator: sim,
  });
  return {
    runtime,
    sim,
    slack,
    signingSecret,
    logs,
    async stop() {
      await runtime.stop();
      slack.close();
      await sim.close();
      const admin = await openPostgres(TEST_DATABASE_URL);
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.close();
      }
    },
  };
}
