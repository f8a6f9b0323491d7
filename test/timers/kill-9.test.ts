/**
 * A bot process killed (SIGKILL) while a durable timer's handler runs — the last round of a health
 * watch, stuck in the chat.update that says the verdict — leaves the timer leased in Postgres. A
 * replica started afterwards runs the round again once the lease ran out (by its clock), and not
 * before, and says the verdict in the same message.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { WATCH_ROUND_TIMER_KIND } from '../../src/health/watches.ts';
import { SlackRequestClient } from '../../src/local/slack/client.ts';
import type { JsonObject } from '../../src/local/slack/json.ts';
import { type SlackSimulator, startSlackSimulator } from '../../src/local/slack/server.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { DEFAULT_TIMER_LEASE_MS } from '../../src/timers/timer-loop.ts';
import { type HealthFixtures, SECRET_NAME, startHealthFixtures } from '../commands/health-fixtures.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { type BotProcess, spawnBotProcess } from '../helpers/spawn-bot.ts';
import { eventually } from '../incidents/e2e/helpers.ts';

/** Long enough that the killed process never hears back. */
const HANG_MS = 120_000;

describe('a timer handler cut short by a kill -9', () => {
  const schema = `e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const keyPrefix = `test:${randomUUID()}:`;
  const signingSecret = `test-secret-${randomUUID()}`;
  let fx: HealthFixtures | undefined;
  let sim: SlackSimulator | undefined;
  let killed: BotProcess | undefined;
  let replica: TestBot | undefined;

  afterAll(async () => {
    await killed?.signal('SIGKILL');
    await replica?.stop();
    await sim?.close();
    await fx?.close();
    const admin = await openPostgres(TEST_DATABASE_URL);
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.close();
    }
  });

  it('runs again on another replica after the lease, not before, in the same message', async () => {
    fx = await startHealthFixtures();
    const simulator = await startSlackSimulator();
    sim = simulator;
    const verdict = (args: JsonObject) => String(args.text).includes('healthy again');
    // The verdict's update hangs (nothing done) until the process is killed.
    simulator.injectFault({ method: 'chat.update', delayMs: HANG_MS, error: 'fatal_error', match: verdict });
    const env = { [SECRET_NAME]: fx.secret };
    const bot = await spawnBotProcess({
      sim: simulator,
      schema,
      keyPrefix,
      signingSecret,
      configPath: fx.configPath,
      env,
    });
    killed = bot;
    const slack = new SlackRequestClient({ botUrl: `${bot.url}/slack/events`, signingSecret, simulator });
    await slack.slashCommand({ command: '/deploy', text: 'health api --watch', channelId: 'C_DEPLOYMENTS' });
    slack.close();
    const posted = await simulator.waitForCall('chat.postMessage', { timeoutMs: 15_000 });
    await eventually(() => {
      if (!simulator.calls.some((c) => c.fault && c.method === 'chat.update'))
        throw new Error('the verdict is not being said yet');
    }, 15_000);
    expect((await bot.signal('SIGKILL')).signal).toBe('SIGKILL');
    killed = undefined;

    // A replica on the same database, on a clock of its own.
    const clock = new ManualClock(new Date());
    replica = await startTestBot({
      env: { RUNBOOK_CONFIG: fx.configPath, ...env },
      replicaOf: { sim: simulator, schema, keyPrefix, signingSecret },
      clock,
    });
    const { services } = replica.runtime;
    const [round] = await services.repos.timers.list({ kind: WATCH_ROUND_TIMER_KIND });
    expect(round).toMatchObject({ attempts: 1 });
    expect(round?.leaseOwner).toMatch(/:\d+:/);
    const [watch] = await services.healthWatches.running();
    expect(watch).toMatchObject({ service: 'api', messageRef: String(posted.response.ts) });

    // Back to the moment the killed process claimed the round (its lease counts from there).
    clock.set(new Date(round!.leaseUntil!.getTime() - DEFAULT_TIMER_LEASE_MS));
    const since = simulator.calls.length;
    expect((await replica.runtime.timers.poll()).taken).toBe(0);
    clock.advance(DEFAULT_TIMER_LEASE_MS - 1_000);
    expect((await replica.runtime.timers.poll()).taken).toBe(0);
    expect(simulator.calls.slice(since).filter((c) => c.method === 'chat.update')).toEqual([]);

    clock.advance(2_000);
    expect(await replica.runtime.timers.poll()).toMatchObject({ taken: 1, handled: 1 });
    const said = simulator.callsTo('chat.update').filter((c) => c.index >= since);
    expect(said).toHaveLength(1);
    expect(said[0]?.args).toMatchObject({ channel: 'C_DEPLOYMENTS', ts: String(posted.response.ts) });
    expect(String(said[0]?.args.text)).toContain('*api* (production) is healthy again');
    expect(said[0]?.httpStatus).toBe(200);
    expect(await services.healthWatches.repo.get(watch!.id)).toMatchObject({ state: 'healthy', rounds: 1 });
    expect(await services.repos.timers.list()).toEqual([]);
    // A child process, a bot and a replica: more than the default 20 s on a loaded machine.
  }, 60_000);
});
