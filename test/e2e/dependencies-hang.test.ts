/**
 * The real bot with its database or Redis behind a proxy that drops packets (a network blackhole):
 * commands answer within the deadline in plain words, readiness turns false within about a second,
 * nothing is changed, and the bot recovers by itself when the network does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_UNREACHABLE } from '../../src/slack/kit/unavailable.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually, type IncidentBot, startIncidentBot } from '../incidents/e2e/helpers.ts';

function targetOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}

interface Readiness {
  status: number;
  checks: Record<string, { status: string; message: string }>;
}

async function readiness(bot: IncidentBot): Promise<Readiness> {
  const res = await fetch(`${bot.runtime.url}/health/readiness`);
  const body = (await res.json()) as { checks: Readiness['checks'] };
  return { status: res.status, checks: body.checks };
}

/** Polls readiness until it answers `status`, which must happen within `withinMs` (answer included). */
async function readinessTurns(bot: IncidentBot, status: number, withinMs: number): Promise<Readiness> {
  const started = performance.now();
  for (;;) {
    const answer = await readiness(bot);
    const waited = performance.now() - started;
    if (waited > withinMs) {
      throw new Error(
        `readiness was not ${status} within ${withinMs} ms (${answer.status} after ${Math.round(waited)} ms): ${JSON.stringify(answer.checks)}`,
      );
    }
    if (answer.status === status) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a command and says how long its answer took. */
async function timed(bot: IncidentBot, text: string): Promise<{ answer: string; ms: number }> {
  const started = performance.now();
  const answer = await bot.command(text);
  return { answer, ms: performance.now() - started };
}

describe('when Postgres drops packets', () => {
  let proxy: TcpProxy;
  let bot: IncidentBot;
  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(TEST_DATABASE_URL, 5432));
    bot = await startIncidentBot('', { DATABASE_URL: proxy.via(TEST_DATABASE_URL) });
  });
  afterAll(async () => {
    await proxy?.restore();
    await bot?.stop();
    await proxy?.close();
  });

  it('answers within the deadline that the database is unreachable, changes nothing, and recovers by itself', async () => {
    const before = await bot.command('declare P2 Before the outage');
    const incident = await bot.runtime.services.repos.incidents.get(Number(/INC-(\d+)/.exec(before)?.[1]));
    if (!incident?.channelId || !incident.headline) throw new Error(`not declared: ${before}`);
    const headlineTs = incident.headline.ts;
    const incidentChannel = incident.channelId;
    expect((await readiness(bot)).status).toBe(200);

    proxy.blackhole();
    const down = await readinessTurns(bot, 503, 1_500);
    expect(down.checks.database?.status).toBe('error');
    expect(down.checks.coordination?.status).toBe('ok');

    const list = await timed(bot, 'list');
    expect(list.answer).toBe(DATABASE_UNREACHABLE);
    expect(list.ms).toBeLessThan(3_500);
    const declare = await timed(bot, 'declare P1 During the outage');
    expect(declare.answer).toBe(DATABASE_UNREACHABLE);
    expect(declare.ms).toBeLessThan(3_500);
    // A button on the headline: the same plain answer, privately.
    await bot.slack.clickButton({
      channelId: incidentChannel,
      ts: headlineTs,
      actionId: 'incident_post_update',
    });
    await eventually(() => {
      const texts = bot.sim.ephemeralsFor('U_ALICE').map((e) => e.text);
      expect(texts).toContain(DATABASE_UNREACHABLE);
    }, 4_000);

    await proxy.restore();
    await readinessTurns(bot, 200, 5_000);
    const after = await eventually(async () => {
      const answer = await bot.command('list');
      expect(answer).toContain('Before the outage');
      return answer;
    });
    expect(after).not.toContain('During the outage');
    const open = await bot.runtime.services.repos.incidents.listOpen();
    expect(open.map((i) => i.title)).toEqual(['Before the outage']);
    expect(await bot.command('declare P3 After the outage')).toMatch(/INC-\d+ declared/);
  });
});

describe('when Redis drops packets', () => {
  let proxy: TcpProxy;
  let bot: IncidentBot;
  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(TEST_REDIS_URL, 6379));
    bot = await startIncidentBot('', { REDIS_URL: proxy.via(TEST_REDIS_URL) });
  });
  afterAll(async () => {
    await proxy?.restore();
    await bot?.stop();
    await proxy?.close();
  });

  async function openDeclareModal(): Promise<string> {
    const since = bot.sim.calls.length;
    await bot.slack.slashCommand({ command: '/incident', text: 'declare', channelId: 'C_INCIDENTS' });
    const opened = await bot.sim.waitForCall('views.open', { since });
    return String((opened.response.view as { id: string }).id);
  }

  const values = (title: string) => ({ title: { title }, severity: { severity: 'P2' } });

  it('reports coordination unreachable, keeps Postgres-only commands working, and submissions still land exactly once, and recovers', async () => {
    const viewId = await openDeclareModal();
    expect((await readiness(bot)).status).toBe(200);

    proxy.blackhole();
    const down = await readinessTurns(bot, 503, 1_500);
    expect(down.checks.coordination?.status).toBe('error');
    expect(down.checks.database?.status).toBe('ok');

    // Postgres guards: commands that need only the database go on working.
    const declared = await timed(bot, 'declare P2 Redis is down');
    expect(declared.answer).toMatch(/INC-\d+ declared/);
    expect(declared.ms).toBeLessThan(3_500);
    expect((await timed(bot, 'list')).answer).toContain('Redis is down');

    // Postgres guards exactly-once too: a modal submission lands, once, without Redis.
    const started = performance.now();
    const submitted = await bot.slack.submitView({ viewId, values: values('Submitted during the outage') });
    expect(submitted.errors).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(3_500);
    await eventually(async () => {
      const titles = (await bot.runtime.services.repos.incidents.listOpen()).map((i) => i.title);
      expect(titles.filter((t) => t === 'Submitted during the outage')).toHaveLength(1);
    });

    await proxy.restore();
    await readinessTurns(bot, 200, 5_000);
    expect((await timed(bot, 'list')).answer).toContain('Submitted during the outage');
  });
});
