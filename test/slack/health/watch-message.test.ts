/**
 * Health watches are durable: a row and, for each round, a durable timer claimed by one replica at a
 * time. Stopping the replica that started a watch does not stop the watch: another replica (or the
 * same one after a restart) goes on updating the same message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { watchTimerId } from '../../../src/health/watches.ts';
import { type HealthFixtures, SECRET_NAME, startHealthFixtures } from '../../commands/health-fixtures.ts';
import { startTestBot, type TestBot } from '../../helpers/bot.ts';
import { runTimersUntil, watchesOpened } from '../../helpers/timers.ts';

describe('health watches across replicas', () => {
  let fx: HealthFixtures;
  let a: TestBot;
  let b: TestBot;
  const clock = new ManualClock();
  beforeAll(async () => {
    fx = await startHealthFixtures();
    const env = { RUNBOOK_CONFIG: fx.configPath, [SECRET_NAME]: fx.secret };
    a = await startTestBot({ env, clock });
    b = await startTestBot({ env, clock, replicaOf: a });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await fx?.close();
  });

  it('refuses a second watch of a service in a channel on any replica; when the replica that started it stops, another goes on in the same message', async () => {
    fx.flaky.failuresLeft = 3;
    const since = a.sim.calls.length;
    await a.slack.slashCommand({
      command: '/deploy',
      text: 'health flaky --watch --every 10s --for 5m',
      channelId: 'C_DEPLOYMENTS',
    });
    const posted = await a.sim.waitForCall('chat.postMessage', { since });
    const ts = String(posted.response.ts);
    await watchesOpened(a);
    await a.runtime.timers.poll();
    await a.sim.waitForCall('chat.update', {
      since,
      predicate: (c) => String(c.args.text).includes('round 1, still *unhealthy*'),
    });

    // Replica B knows the watch too: Postgres holds it.
    const sinceResponses = b.sim.responses.length;
    await b.slack.slashCommand({
      command: '/deploy',
      text: 'health flaky --watch',
      channelId: 'C_DEPLOYMENTS',
    });
    const told = await b.sim.waitForResponse({ since: sinceResponses });
    expect(String(told.body.text)).toContain('*flaky* (production) is already being watched in this channel');

    // Replica A stops (a rolling deploy): the watch stays, with its next round's timer.
    await a.runtime.stop();
    const [watch] = await b.runtime.services.healthWatches.running();
    expect(watch).toMatchObject({ service: 'flaky', scope: 'C_DEPLOYMENTS', messageRef: ts, rounds: 1 });
    expect(await b.runtime.services.repos.timers.get(watchTimerId(watch!.id))).not.toBeNull();
    const stoppedAt = a.sim.calls.length;
    expect(a.sim.callsTo('chat.update').some((c) => String(c.args.text).includes('Stopped watching'))).toBe(
      false,
    );

    const healthy = () =>
      b.sim
        .callsTo('chat.update')
        .find((c) => c.index >= stoppedAt && String(c.args.text).includes('healthy again'));
    await runTimersUntil(b, clock, { stepMs: 10_000, done: () => healthy() !== undefined, maxSteps: 10 });
    const done = healthy()!;
    expect(done.args).toMatchObject({ channel: 'C_DEPLOYMENTS', ts });
    expect(String(done.args.text)).toContain('*flaky* (production) is healthy again: it took 30s (4 rounds)');
    const byB = b.sim.callsTo('chat.update').filter((c) => c.index >= stoppedAt);
    expect(byB.every((c) => c.args.ts === ts)).toBe(true);
    expect(b.sim.callsTo('chat.postMessage').filter((c) => c.index >= stoppedAt)).toEqual([]);
    expect(await b.runtime.services.healthWatches.running()).toEqual([]);
    expect(await b.runtime.services.healthWatches.repo.get(watch!.id)).toMatchObject({
      state: 'healthy',
      rounds: 4,
    });
  });
});
