import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.ts';
import { SlackRequestClient } from '../../src/local/slack/client.ts';
import {
  type SlackSimulator,
  type SlackSimulatorOptions,
  startSlackSimulator,
} from '../../src/local/slack/server.ts';
import { createLogger } from '../../src/logger.ts';
import type { PlatformOptionsSource } from '../../src/platform/factory.ts';
import { type Runtime, startRuntime } from '../../src/runtime.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { ADMIN_DB_OPTIONS, TEST_DATABASE_URL, TEST_REDIS_URL } from './services.ts';

export interface TestBot {
  runtime: Runtime;
  sim: SlackSimulator;
  slack: SlackRequestClient;
  signingSecret: string;
  /** Its Postgres schema and Redis key prefix (shared by its replicas). */
  schema: string;
  keyPrefix: string;
  /** JSON log lines the bot wrote. */
  logs: string[];
  stop(): Promise<void>;
}

export interface TestBotOptions {
  /** Extra environment (e.g. RUNBOOK_CONFIG). */
  env?: Record<string, string>;
  cwd?: string;
  /**
   * A second replica of this bot: the same simulator, signing secret, Postgres schema and Redis
   * prefix, its own process state and port. Its stop() leaves the shared parts to the first bot.
   */
  replicaOf?: Pick<TestBot, 'sim' | 'schema' | 'keyPrefix' | 'signingSecret'>;
  clock?: Clock;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Options of the Slack simulator (e.g. shorter rate-limit windows). */
  simulator?: SlackSimulatorOptions;
  /** Platform adapters' credentials (the cloud fakes'). */
  platformAdapters?: PlatformOptionsSource;
}

/**
 * The real bot, on a random port, against the Slack simulator, real Postgres (a schema of its own)
 * and real Redis (a key prefix of its own).
 */
export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const primary = options.replicaOf;
  const sim = primary?.sim ?? (await startSlackSimulator(options.simulator));
  const signingSecret = primary?.signingSecret ?? `test-secret-${randomUUID()}`;
  const schema = primary?.schema ?? `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const keyPrefix = primary?.keyPrefix ?? `test:${randomUUID()}:`;
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
    ...(options.platformAdapters ? { platformAdapters: options.platformAdapters } : {}),
    logger,
    dbSchema: schema,
    keyPrefix,
  });
  const slack = new SlackRequestClient({
    botUrl: `${runtime.url}/slack/events`,
    signingSecret,
    simulator: sim,
    ...(options.clock ? { now: () => options.clock!.now() } : {}),
  });
  return {
    runtime,
    sim,
    slack,
    signingSecret,
    schema,
    keyPrefix,
    logs,
    async stop() {
      await runtime.stop();
      slack.close();
      if (primary) return;
      await sim.close();
      const admin = await openPostgres(TEST_DATABASE_URL, ADMIN_DB_OPTIONS);
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.close();
      }
    },
  };
}
